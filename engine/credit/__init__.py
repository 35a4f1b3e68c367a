"""Credit: who is credited how much of a deal (splits), and the ledger of credit changes."""
