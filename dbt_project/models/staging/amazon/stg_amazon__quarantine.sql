{{ staging_quarantine('amazon') }}
