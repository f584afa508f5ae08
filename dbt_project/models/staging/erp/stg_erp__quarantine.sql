{{ staging_quarantine('erp') }}
