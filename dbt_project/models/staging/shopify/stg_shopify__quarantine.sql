{{ staging_quarantine('shopify') }}
