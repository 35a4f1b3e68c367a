"""Rule sets: schema, validation, conditions, decision tables."""
