-- The audit trail (hash-chained, append-only; see connecticket_domain::audit)
-- and the counters that throttle failed authorize attempts.

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    request_id     TEXT    NOT NULL,
    client_addr    TEXT,
    provider_id    INTEGER,
    application_id INTEGER,
    employee_id    INTEGER,
    action         TEXT    NOT NULL,
    outcome        TEXT    NOT NULL,
    records        TEXT    NOT NULL,
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);

-- One row: the newest entry, and the last entry retention removed.
CREATE TABLE audit_anchor (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    last_id           INTEGER NOT NULL,
    last_hash         TEXT    NOT NULL,
    pruned_through_id INTEGER NOT NULL,
    pruned_hash       TEXT    NOT NULL
);
INSERT INTO audit_anchor VALUES (1, 0,
    '0000000000000000000000000000000000000000000000000000000000000000', 0,
    '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE auth_failures (
    scope        TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL,
    PRIMARY KEY (scope, window_start)
);
CREATE INDEX auth_failures_by_window ON auth_failures (window_start);
