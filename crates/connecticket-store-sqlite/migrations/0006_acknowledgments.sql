-- Acknowledgments and escalation: what each notification's recipient
-- answered, each provider's deadlines by urgency, the staff it escalates
-- to, and each ticket's escalation with every level it took.

ALTER TABLE notifications ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN ack_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN ack_salt BLOB;
ALTER TABLE notifications ADD COLUMN ack_token_hash BLOB;
ALTER TABLE notifications ADD COLUMN ack_expires_at INTEGER;
ALTER TABLE notifications ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE notifications ADD COLUMN acknowledged_via TEXT;
ALTER TABLE notifications ADD COLUMN acknowledged_by INTEGER;
ALTER TABLE notifications ADD COLUMN ack_note TEXT;
CREATE UNIQUE INDEX notifications_by_ack_token ON notifications (ack_token_hash);
-- An SMS reply finds the sender's oldest open notification.
CREATE INDEX notifications_open_by_phone ON notifications (channel, address, id);

-- One row per provider and urgency that deviates from the defaults;
-- ack_within NULL: that urgency needs no acknowledgment.
CREATE TABLE escalation_policies (
    provider_id         INTEGER NOT NULL REFERENCES providers (id),
    urgency_status_id   INTEGER NOT NULL,
    ack_within_secs     INTEGER,
    renotify_after_secs INTEGER,
    tiers               TEXT    NOT NULL,
    PRIMARY KEY (provider_id, urgency_status_id)
);

-- The provider's own staff an escalation reaches by role.
CREATE TABLE provider_contacts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id INTEGER NOT NULL REFERENCES providers (id),
    role        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    email       TEXT,
    phone       TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX provider_contacts_by_role ON provider_contacts (provider_id, role, id);

-- One per ticket whose notifications needed an answer.
CREATE TABLE escalations (
    ticket_id         INTEGER PRIMARY KEY REFERENCES tickets (id),
    provider_id       INTEGER NOT NULL REFERENCES providers (id),
    urgency_status_id INTEGER NOT NULL,
    state             TEXT    NOT NULL,
    level             INTEGER NOT NULL,
    next_at           INTEGER,
    started_at        INTEGER NOT NULL,
    ended_at          INTEGER
);
CREATE INDEX escalations_due ON escalations (state, next_at);

CREATE TABLE escalation_steps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id),
    provider_id INTEGER NOT NULL REFERENCES providers (id),
    level       INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    role        TEXT,
    notified    INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX escalation_steps_by_ticket ON escalation_steps (ticket_id, id);
