{{ staging_quarantine('square') }}
