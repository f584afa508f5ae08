"""The retailer's bank: statement exports (a US bank's CSV and ISO 20022 camt.053 XML) for cash matching."""
