-- The console at night: phone numbers read as people write them (in the
-- provider's country unless they say otherwise), a second number to call
-- after hours, and board displays: wall screens an administrator pairs
-- with the board, which stay signed in until revoked.
ALTER TABLE providers ADD COLUMN country TEXT NOT NULL DEFAULT 'US';
ALTER TABLE notification_policies ADD COLUMN after_hours_phone TEXT;

-- A display is granted with a pairing code (good once, for minutes) and
-- paired by exchanging it for a device token. Only keyed hashes of either
-- are kept. Like sessions, displays are not moved by data moves.
CREATE TABLE board_displays (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id      INTEGER NOT NULL REFERENCES providers (id),
    name             TEXT    NOT NULL,
    granted_by       INTEGER REFERENCES employees (id),
    granted_at       INTEGER NOT NULL,
    code_hash        BLOB UNIQUE,
    code_expires_at  INTEGER,
    token_hash       BLOB UNIQUE,
    paired_at        INTEGER,
    last_seen_at     INTEGER,
    revoked_at       INTEGER
);
CREATE INDEX board_displays_by_provider ON board_displays (provider_id, id);
