-- Events for integrators: a change feed and signed webhooks.
--
-- An event is written by the transaction that makes its change (like the
-- notifications outbox), without a cursor. The sequencer then gives
-- committed events their cursors, one batch at a time under the lock of
-- `event_log`'s row, so cursors follow commit order on every engine: a
-- reader that has seen cursor N has seen every event below it. Events
-- carry ids and a status, never clinical text.
CREATE TABLE events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id      INTEGER NOT NULL REFERENCES providers (id),
    kind             TEXT    NOT NULL,
    ticket_id        INTEGER,
    resident_id      INTEGER,
    notification_id  INTEGER,
    status           TEXT,
    occurred_at      INTEGER NOT NULL,
    seq              INTEGER UNIQUE
);
CREATE INDEX events_unsequenced ON events (id) WHERE seq IS NULL;
CREATE INDEX events_feed ON events (provider_id, seq);

-- The last cursor given, and the highest one retention has removed (a
-- client asking for events after an older cursor must resynchronise).
CREATE TABLE event_log (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_cursor     INTEGER NOT NULL,
    pruned_through  INTEGER NOT NULL
);
INSERT INTO event_log (id, last_cursor, pruned_through) VALUES (1, 0, 0);

-- An application's webhook endpoint. Its signing secret is derived from
-- the server's hash key and a random salt (the database alone cannot sign);
-- during a rotation the previous salt signs too, until `previous_until`.
-- Deliveries to one endpoint go in cursor order, one at a time, under a
-- lease on the endpoint, so several instances never deliver to it at once.
CREATE TABLE webhook_endpoints (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id      INTEGER NOT NULL REFERENCES providers (id),
    application_id   INTEGER NOT NULL REFERENCES applications (id),
    url              TEXT    NOT NULL,
    event_types      TEXT    NOT NULL,
    secret_salt      BLOB NOT NULL,
    previous_salt    BLOB,
    previous_until   INTEGER,
    created_at       INTEGER NOT NULL,
    failing_since    INTEGER,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    disabled_at      INTEGER,
    deleted_at       INTEGER,
    lease_owner      TEXT,
    lease_until      INTEGER
);
CREATE INDEX webhook_endpoints_by_provider ON webhook_endpoints (provider_id, id);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints (id),
    event_id         INTEGER NOT NULL,
    state            TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, id)
    WHERE state = 'pending';
