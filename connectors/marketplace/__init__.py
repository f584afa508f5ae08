"""Regional marketplaces: daily settlement/fee CSVs, each onboarded by a mapping file (mappings/<name>.yaml)."""
