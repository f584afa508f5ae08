{{ staging_quarantine('stripe') }}
