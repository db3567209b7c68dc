-- The staff console: employees' accounts (role, argon2id password hash,
-- optional TOTP secret, a pending invitation), each provider's console
-- rules, and the server-side sessions that every instance reads.

CREATE TABLE console_accounts (
    employee_id       INTEGER PRIMARY KEY REFERENCES employees (id),
    provider_id       INTEGER NOT NULL REFERENCES providers (id),
    -- Lower-cased; one account per address across providers, since the
    -- sign-in form asks for nothing else.
    email             TEXT    NOT NULL,
    role              TEXT    NOT NULL,
    password_hash     TEXT,
    totp_secret       BLOB,
    invite_hash       BLOB,
    invite_expires_at INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE UNIQUE INDEX console_accounts_by_email ON console_accounts (email);
CREATE UNIQUE INDEX console_accounts_by_invite ON console_accounts (invite_hash);
CREATE INDEX console_accounts_by_provider ON console_accounts (provider_id, employee_id);

CREATE TABLE console_settings (
    provider_id  INTEGER PRIMARY KEY REFERENCES providers (id),
    require_totp INTEGER NOT NULL
);

-- Only the keyed hash of a session's cookie is kept. Sessions are not
-- moved by data moves: a moved database starts with everyone signed out.
CREATE TABLE console_sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   BLOB    NOT NULL UNIQUE,
    employee_id  INTEGER NOT NULL REFERENCES employees (id),
    provider_id  INTEGER NOT NULL REFERENCES providers (id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE INDEX console_sessions_by_employee ON console_sessions (employee_id, id);

-- The board: a provider's open tickets, most urgent first.
CREATE INDEX tickets_open_by_urgency ON tickets (provider_id, urgency_status_id, created_at)
    WHERE ticket_status NOT IN ('Resolved', 'Closed');
