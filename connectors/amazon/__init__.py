"""Amazon Selling Partner: settlement report (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2) files."""
