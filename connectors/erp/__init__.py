"""The retailer's ERP: reference data (items, legal entities, locations, GL accounts) and journal postings."""
