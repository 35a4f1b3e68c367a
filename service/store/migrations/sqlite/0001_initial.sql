-- The schema as first released: rule-set revisions, deal events and the credit ledger,
-- commission runs, payments, API keys and the audit log, win-rate models. Append-only tables
-- refuse UPDATE and DELETE by triggers. (IF NOT EXISTS: files made before migrations existed
-- already hold these tables.)
CREATE TABLE IF NOT EXISTS rule_set_revisions (
    name             TEXT    NOT NULL,
    revision         INTEGER NOT NULL CHECK (revision >= 1),
    effective_from   TEXT    NOT NULL,
    content          TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    compiler_version INTEGER NOT NULL,
    created_at       TEXT    NOT NULL,
    PRIMARY KEY (name, revision)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rule_set_revisions_effective
    ON rule_set_revisions (name, effective_from, revision);
CREATE TRIGGER IF NOT EXISTS rule_set_revisions_no_update
    BEFORE UPDATE ON rule_set_revisions
    BEGIN SELECT RAISE(ABORT, 'rule-set revisions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS rule_set_revisions_no_delete
    BEFORE DELETE ON rule_set_revisions
    BEGIN SELECT RAISE(ABORT, 'rule-set revisions are immutable'); END;
CREATE TABLE IF NOT EXISTS deal_events (
    event_id     TEXT    PRIMARY KEY,
    deal_id      TEXT    NOT NULL,
    rule_set     TEXT    NOT NULL,
    event_time   TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    changes      TEXT    NOT NULL,
    payload_hash TEXT    NOT NULL,
    seq          INTEGER NOT NULL UNIQUE,
    recorded_at  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS deal_events_by_deal ON deal_events (deal_id, event_time, seq);
CREATE INDEX IF NOT EXISTS deal_events_by_rule_set ON deal_events (rule_set, deal_id, event_time, seq);
CREATE TABLE IF NOT EXISTS credit_ledger (
    line_id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE INDEX IF NOT EXISTS credit_ledger_by_deal ON credit_ledger (deal_id, event_time);
CREATE INDEX IF NOT EXISTS credit_ledger_by_person ON credit_ledger (person, event_time);
CREATE TABLE IF NOT EXISTS deal_heads (
    deal_id    TEXT PRIMARY KEY,
    rule_set   TEXT NOT NULL,
    last_time  TEXT NOT NULL,
    last_seq   INTEGER NOT NULL,
    state      TEXT NOT NULL,
    credits    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deal_heads_by_rule_set ON deal_heads (rule_set, deal_id);
CREATE TRIGGER IF NOT EXISTS deal_events_no_update BEFORE UPDATE ON deal_events
    BEGIN SELECT RAISE(ABORT, 'deal events are immutable'); END;
CREATE TRIGGER IF NOT EXISTS deal_events_no_delete BEFORE DELETE ON deal_events
    BEGIN SELECT RAISE(ABORT, 'deal events are immutable'); END;
CREATE TRIGGER IF NOT EXISTS credit_ledger_no_update BEFORE UPDATE ON credit_ledger
    BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS credit_ledger_no_delete BEFORE DELETE ON credit_ledger
    BEGIN SELECT RAISE(ABORT, 'the credit ledger is append-only'); END;
CREATE TABLE IF NOT EXISTS commission_runs (
    run_key       TEXT PRIMARY KEY,
    rule_set      TEXT    NOT NULL,
    revision      INTEGER NOT NULL,
    period        TEXT    NOT NULL,
    first_date    TEXT    NOT NULL,
    last_date     TEXT    NOT NULL,
    as_of_date    TEXT    NOT NULL,
    inputs_sha256 TEXT    NOT NULL,
    credit_sha256 TEXT    NOT NULL,
    result        TEXT    NOT NULL,
    result_sha256 TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);
CREATE TRIGGER IF NOT EXISTS commission_runs_no_update BEFORE UPDATE ON commission_runs
    BEGIN SELECT RAISE(ABORT, 'commission runs are immutable'); END;
CREATE TRIGGER IF NOT EXISTS commission_runs_no_delete BEFORE DELETE ON commission_runs
    BEGIN SELECT RAISE(ABORT, 'commission runs are immutable'); END;
CREATE TABLE IF NOT EXISTS payments (
    payment_id   TEXT PRIMARY KEY,
    rule_set     TEXT    NOT NULL,
    deal_id      TEXT    NOT NULL,
    paid_date    TEXT    NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    recorded_at  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_by_rule_set ON payments (rule_set, paid_date);
CREATE TRIGGER IF NOT EXISTS payments_no_update BEFORE UPDATE ON payments
    BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TRIGGER IF NOT EXISTS payments_no_delete BEFORE DELETE ON payments
    BEGIN SELECT RAISE(ABORT, 'payments are append-only'); END;
CREATE TABLE IF NOT EXISTS api_keys (
    key_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    roles       TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE TRIGGER IF NOT EXISTS api_keys_no_delete BEFORE DELETE ON api_keys
    BEGIN SELECT RAISE(ABORT, 'keys are revoked, never deleted'); END;
CREATE TABLE IF NOT EXISTS audit_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    key_name  TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    outcome   TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS win_rate_models (
    rule_set    TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    data_sha256 TEXT    NOT NULL,
    card        TEXT    NOT NULL,
    artifact    BLOB    NOT NULL,
    PRIMARY KEY (rule_set, version)
);
CREATE TRIGGER IF NOT EXISTS win_rate_models_no_update BEFORE UPDATE ON win_rate_models
    BEGIN SELECT RAISE(ABORT, 'models are immutable'); END;
CREATE TRIGGER IF NOT EXISTS win_rate_models_no_delete BEFORE DELETE ON win_rate_models
    BEGIN SELECT RAISE(ABORT, 'models are immutable'); END;
