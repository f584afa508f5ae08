{{ staging_quarantine('bank') }}
