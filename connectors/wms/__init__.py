"""The 3PL's warehouse management system: inventory movement feed, inventory levels, daily snapshot files."""
