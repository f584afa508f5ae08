{{ staging_quarantine('adyen') }}
