{{ staging_quarantine('marketplace') }}
