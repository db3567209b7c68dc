-- Residents' contacts, providers' notification policies, and the outbox of
-- notifications that ticket changes record in their own transactions.

CREATE TABLE contacts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id   INTEGER NOT NULL REFERENCES providers (id),
    resident_id   INTEGER NOT NULL REFERENCES residents (id),
    role          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    email         TEXT,
    phone         TEXT,
    email_consent INTEGER NOT NULL,
    sms_consent   INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX contacts_by_resident ON contacts (provider_id, resident_id, id);

CREATE TABLE notification_policies (
    provider_id      INTEGER PRIMARY KEY REFERENCES providers (id),
    on_created       TEXT    NOT NULL,
    on_status_change TEXT    NOT NULL,
    quiet_hours      TEXT    NOT NULL,
    callback_phone   TEXT
);

-- contact_id keeps no reference: a contact may be removed, and what was
-- sent to it stays on record.
CREATE TABLE notifications (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id       INTEGER NOT NULL REFERENCES providers (id),
    ticket_id         INTEGER NOT NULL REFERENCES tickets (id),
    resident_id       INTEGER NOT NULL REFERENCES residents (id),
    contact_id        INTEGER NOT NULL,
    role              TEXT    NOT NULL,
    channel           TEXT    NOT NULL,
    address           TEXT    NOT NULL,
    event             TEXT    NOT NULL,
    urgency_status_id INTEGER NOT NULL,
    ticket_status     TEXT    NOT NULL,
    state             TEXT    NOT NULL,
    attempts          INTEGER NOT NULL,
    next_attempt_at   INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_until       INTEGER,
    last_error        TEXT,
    external_id       TEXT,
    created_at        INTEGER NOT NULL,
    delivered_at      INTEGER
);
CREATE INDEX notifications_due ON notifications (state, channel, next_attempt_at, id);
CREATE INDEX notifications_by_ticket ON notifications (ticket_id, id);
CREATE INDEX notifications_by_provider ON notifications (provider_id, id);
