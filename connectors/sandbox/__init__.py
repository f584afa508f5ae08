"""The sandbox retailer: a deterministic simulator and fake vendor APIs on loopback."""
