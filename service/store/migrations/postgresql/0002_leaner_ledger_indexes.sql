-- Fewer and shorter index entries per recorded deal event (the SQLite migration of the same
-- number also makes the event's arrival number and the line number plain row ids). Ledger lines
-- are read by deal or by person in line order, so their indexes key on (deal, line) and
-- (person, line) rather than on the 32-character event time; a rule set's events and deal heads
-- are read through the index by deal, filtered on the rule set, so neither keeps an index by
-- rule set.
DROP INDEX IF EXISTS deal_events_by_rule_set;
DROP INDEX IF EXISTS deal_heads_by_rule_set;
DROP INDEX IF EXISTS credit_ledger_by_deal;
DROP INDEX IF EXISTS credit_ledger_by_person;
CREATE INDEX credit_ledger_by_deal ON credit_ledger (deal_id, line_id);
CREATE INDEX credit_ledger_by_person ON credit_ledger (person, line_id);
