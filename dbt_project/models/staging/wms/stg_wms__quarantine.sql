{{ staging_quarantine('wms') }}
