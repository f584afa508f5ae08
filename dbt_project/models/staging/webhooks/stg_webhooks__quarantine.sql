{{ staging_quarantine('webhooks') }}
