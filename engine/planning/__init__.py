"""Planning: targets decomposed down a hierarchy, and scenarios."""
