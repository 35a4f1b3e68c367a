"""Commission: plans turn credited bases into pay (tiers, accelerators, caps, clawbacks)."""
