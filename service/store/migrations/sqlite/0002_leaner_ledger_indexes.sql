-- Fewer and shorter index entries per recorded deal event:
-- * an event's arrival number is the events table's row id (no index of its own);
-- * ledger lines are numbered by row id without AUTOINCREMENT's extra table (lines are never
--   deleted, so numbers are never reused), and are read by deal or by person in line order, so
--   their indexes key on (deal, line) and (person, line) rather than on the 32-character time;
-- * a rule set's events and deal heads are read through the index by deal, filtered on the rule
--   set, so neither keeps an index by rule set.
-- Rebuilding a table copies its rows as they are; the append-only triggers are made again.
CREATE TABLE deal_events_2 (
    seq          INTEGER PRIMARY KEY,
    event_id     TEXT    NOT NULL UNIQUE,
    deal_id      TEXT    NOT NULL,
    rule_set     TEXT    NOT NULL,
    event_time   TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    changes      TEXT    NOT NULL,
    payload_hash TEXT    NOT NULL,
    recorded_at  TEXT    NOT NULL
);
INSERT INTO deal_events_2 (seq, event_id, deal_id, rule_set, event_time, kind, changes,
                           payload_hash, recorded_at)
    SELECT seq, event_id, deal_id, rule_set, event_time, kind, changes, payload_hash, recorded_at
    FROM deal_events ORDER BY seq;
DROP TABLE deal_events;
ALTER TABLE deal_events_2 RENAME TO deal_events;
CREATE INDEX deal_events_by_deal ON deal_events (deal_id, event_time, seq);
CREATE TRIGGER deal_events_no_update BEFORE UPDATE ON deal_events
    BEGIN SELECT RAISE(ABORT, 'deal events are immutable'); END;
CREATE TRIGGER deal_events_no_delete BEFORE DELETE ON deal_events
    BEGIN SELECT RAISE(ABORT, 'deal events are immutable'); END;

CREATE TABLE credit_ledger_2 (
    line_id              INTEGER PRIMARY KEY,
    deal_id              TEXT    NOT NULL,
    event_id             TEXT    NOT NULL,
    event_time           TEXT    NOT NULL,
    split                TEXT    NOT NULL,
    person               TEXT    NOT NULL,
    credit_delta_minor   INTEGER NOT NULL,
    weighted_delta_minor INTEGER NOT NULL,
    currency             TEXT    NOT NULL,
    correction           INTEGER NOT NULL,
    rule_set             TEXT    NOT NULL,
    revision             INTEGER NOT NULL,
    recorded_at          TEXT    NOT NULL
);
INSERT INTO credit_ledger_2 SELECT * FROM credit_ledger ORDER BY line_id;
DROP TABLE credit_ledger;
ALTER TABLE credit_ledger_2 RENAME TO credit_ledger;
CREATE INDEX credit_ledger_by_deal ON credit_ledger (deal_id, line_id);
CREATE INDEX credit_ledger_by_person ON credit_ledger (person, line_id);
CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
    BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
    BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;

DROP INDEX IF EXISTS deal_heads_by_rule_set;
