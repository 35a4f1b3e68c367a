-- The schema as first released: rule-set revisions, deal events and the credit ledger,
-- commission runs, payments, API keys and the audit log, win-rate models. Append-only tables
-- refuse UPDATE and DELETE by triggers. Times and dates are fixed-width ISO text, as in the
-- SQLite schema, and every text column collates byte by byte ("C", as SQLite does), so both
-- backends order and compare ids and times the same way whatever the server's locale.

CREATE FUNCTION quotient_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TABLE rule_set_revisions (
    name             TEXT COLLATE "C"    NOT NULL,
    revision         BIGINT  NOT NULL CHECK (revision >= 1),
    effective_from   TEXT COLLATE "C"    NOT NULL,
    content          TEXT COLLATE "C"    NOT NULL,
    content_hash     TEXT COLLATE "C"    NOT NULL,
    compiler_version BIGINT  NOT NULL,
    created_at       TEXT COLLATE "C"    NOT NULL,
    PRIMARY KEY (name, revision)
);
CREATE INDEX rule_set_revisions_effective ON rule_set_revisions (name, effective_from, revision);
CREATE TRIGGER rule_set_revisions_immutable BEFORE UPDATE OR DELETE ON rule_set_revisions
    FOR EACH ROW EXECUTE FUNCTION quotient_refuse_change('rule-set revisions are immutable');

CREATE TABLE deal_events (
    event_id     TEXT COLLATE "C"    PRIMARY KEY,
    deal_id      TEXT COLLATE "C"    NOT NULL,
    rule_set     TEXT COLLATE "C"    NOT NULL,
    event_time   TEXT COLLATE "C"    NOT NULL,
    kind         TEXT COLLATE "C"    NOT NULL,
    changes      TEXT COLLATE "C"    NOT NULL,
    payload_hash TEXT COLLATE "C"    NOT NULL,
    seq          BIGINT  NOT NULL UNIQUE,
    recorded_at  TEXT COLLATE "C"    NOT NULL
);
CREATE INDEX deal_events_by_deal ON deal_events (deal_id, event_time, seq);
CREATE INDEX deal_events_by_rule_set ON deal_events (rule_set, deal_id, event_time, seq);
CREATE TRIGGER deal_events_immutable BEFORE UPDATE OR DELETE ON deal_events
    FOR EACH ROW EXECUTE FUNCTION quotient_refuse_change('deal events are immutable');

CREATE TABLE credit_ledger (
    line_id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deal_id              TEXT COLLATE "C"    NOT NULL,
    event_id             TEXT COLLATE "C"    NOT NULL,
    event_time           TEXT COLLATE "C"    NOT NULL,
    split                TEXT COLLATE "C"    NOT NULL,
    person               TEXT COLLATE "C"    NOT NULL,
    credit_delta_minor   BIGINT  NOT NULL,
    weighted_delta_minor BIGINT  NOT NULL,
    currency             TEXT COLLATE "C"    NOT NULL,
    correction           INTEGER NOT NULL,
    rule_set             TEXT COLLATE "C"    NOT NULL,
    revision             BIGINT  NOT NULL,
    recorded_at          TEXT COLLATE "C"    NOT NULL
);
CREATE INDEX credit_ledger_by_deal ON credit_ledger (deal_id, event_time);
CREATE INDEX credit_ledger_by_person ON credit_ledger (person, event_time);
CREATE TRIGGER credit_ledger_append_only BEFORE UPDATE OR DELETE ON credit_ledger
    FOR EACH ROW EXECUTE FUNCTION quotient_refuse_change('the credit ledger is append-only');

CREATE TABLE deal_heads (
    deal_id    TEXT COLLATE "C"   PRIMARY KEY,
    rule_set   TEXT COLLATE "C"   NOT NULL,
    last_time  TEXT COLLATE "C"   NOT NULL,
    last_seq   BIGINT NOT NULL,
    state      TEXT COLLATE "C"   NOT NULL,
    credits    TEXT COLLATE "C"   NOT NULL
);
CREATE INDEX deal_heads_by_rule_set ON deal_heads (rule_set, deal_id);

CREATE TABLE commission_runs (
    run_key       TEXT COLLATE "C"   PRIMARY KEY,
    rule_set      TEXT COLLATE "C"   NOT NULL,
    revision      BIGINT NOT NULL,
    period        TEXT COLLATE "C"   NOT NULL,
    first_date    TEXT COLLATE "C"   NOT NULL,
    last_date     TEXT COLLATE "C"   NOT NULL,
    as_of_date    TEXT COLLATE "C"   NOT NULL,
    inputs_sha256 TEXT COLLATE "C"   NOT NULL,
    credit_sha256 TEXT COLLATE "C"   NOT NULL,
    result        TEXT COLLATE "C"   NOT NULL,
    result_sha256 TEXT COLLATE "C"   NOT NULL,
    created_at    TEXT COLLATE "C"   NOT NULL
);
CREATE TRIGGER commission_runs_immutable BEFORE UPDATE OR DELETE ON commission_runs
    FOR EACH ROW EXECUTE FUNCTION quotient_refuse_change('commission runs are immutable');

CREATE TABLE payments (
    payment_id   TEXT COLLATE "C"   PRIMARY KEY,
    rule_set     TEXT COLLATE "C"   NOT NULL,
    deal_id      TEXT COLLATE "C"   NOT NULL,
    paid_date    TEXT COLLATE "C"   NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency     TEXT COLLATE "C"   NOT NULL,
    kind         TEXT COLLATE "C"   NOT NULL,
    recorded_at  TEXT COLLATE "C"   NOT NULL
);
CREATE INDEX payments_by_rule_set ON payments (rule_set, paid_date);
CREATE TRIGGER payments_append_only BEFORE UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION quotient_refuse_change('payments are append-only');

CREATE TABLE api_keys (
    key_id        TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL,
    roles         TEXT COLLATE "C" NOT NULL,
    secret_sha256 TEXT COLLATE "C" NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    revoked_at    TEXT COLLATE "C"
);
CREATE TRIGGER api_keys_no_delete BEFORE DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION quotient_refuse_change('keys are revoked, never deleted');

CREATE TABLE audit_log (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        TEXT COLLATE "C" NOT NULL,
    key_id    TEXT COLLATE "C" NOT NULL,
    key_name  TEXT COLLATE "C" NOT NULL,
    action    TEXT COLLATE "C" NOT NULL,
    target    TEXT COLLATE "C" NOT NULL,
    outcome   TEXT COLLATE "C" NOT NULL
);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION quotient_refuse_change('the audit log is append-only');

CREATE TABLE win_rate_models (
    rule_set    TEXT COLLATE "C"   NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TEXT COLLATE "C"   NOT NULL,
    data_sha256 TEXT COLLATE "C"   NOT NULL,
    card        TEXT COLLATE "C"   NOT NULL,
    artifact    BYTEA  NOT NULL,
    PRIMARY KEY (rule_set, version)
);
CREATE TRIGGER win_rate_models_immutable BEFORE UPDATE OR DELETE ON win_rate_models
    FOR EACH ROW EXECUTE FUNCTION quotient_refuse_change('models are immutable');
