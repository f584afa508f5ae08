"""Square POS connector: Orders, Payments, Refunds and Locations APIs, and the stores' end-of-day Z reports."""
