-- The whole schema of the first release. Ids that integrators see are
-- AUTOINCREMENT so that an id is never handed out twice. Times are seconds
-- since the epoch (UTC); dates are ISO text; booleans are 0/1.

CREATE TABLE providers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    time_zone   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE employees (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id INTEGER NOT NULL REFERENCES providers (id),
    name        TEXT    NOT NULL,
    email       TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX employees_by_provider ON employees (provider_id, id);

CREATE TABLE applications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id INTEGER NOT NULL REFERENCES providers (id),
    employee_id INTEGER NOT NULL REFERENCES employees (id),
    name        TEXT    NOT NULL,
    api_key     TEXT    NOT NULL UNIQUE,
    secret_hash BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX applications_by_provider ON applications (provider_id, id);

CREATE TABLE access_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    token_hash     BLOB    NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER
);
CREATE INDEX access_tokens_by_application ON access_tokens (application_id);

CREATE TABLE residents (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id        INTEGER NOT NULL REFERENCES providers (id),
    first_name         TEXT    NOT NULL,
    last_name          TEXT,
    dob                TEXT,
    email              TEXT,
    phone_number       TEXT,
    fax_number         TEXT,
    home_address1      TEXT,
    home_address2      TEXT,
    home_city          TEXT,
    home_state         TEXT,
    home_zip           TEXT,
    location           TEXT,
    state              TEXT    NOT NULL,
    in_home_care       INTEGER NOT NULL,
    demo               INTEGER NOT NULL,
    resident_type_id   INTEGER,
    caretracker_id     TEXT,
    customer_number    TEXT,
    account_number     TEXT,
    photo_file_name    TEXT    NOT NULL,
    photo_content_type TEXT    NOT NULL,
    photo_file_size    INTEGER NOT NULL,
    creator_id         INTEGER NOT NULL,
    updater_id         INTEGER NOT NULL,
    review_updates     TEXT,
    last_status_update INTEGER,
    next_status_update INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX residents_by_provider ON residents (provider_id, id);

CREATE TABLE categories (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id INTEGER NOT NULL REFERENCES providers (id),
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX categories_by_provider ON categories (provider_id, id);

CREATE TABLE tickets (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id            INTEGER NOT NULL REFERENCES providers (id),
    resident_id            INTEGER NOT NULL REFERENCES residents (id),
    employee_id            INTEGER NOT NULL REFERENCES employees (id),
    application_id         INTEGER REFERENCES applications (id),
    title                  TEXT    NOT NULL,
    urgency_status_id      INTEGER NOT NULL,
    ticket_status          TEXT    NOT NULL,
    ticket_type            TEXT,
    state                  INTEGER NOT NULL,
    sms                    INTEGER,
    email                  INTEGER,
    sent_to_family         INTEGER,
    sent_to_healthcare_pro INTEGER,
    sent_to_primary        INTEGER,
    start_date             TEXT,
    end_date               TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX tickets_by_provider ON tickets (provider_id, id);
CREATE INDEX tickets_by_resident ON tickets (provider_id, resident_id, id);
CREATE INDEX tickets_by_update ON tickets (provider_id, updated_at, id);

CREATE TABLE ticket_categories (
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id),
    category_id INTEGER NOT NULL REFERENCES categories (id),
    status      TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, category_id)
);

CREATE TABLE comments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id),
    category_id INTEGER REFERENCES categories (id),
    employee_id INTEGER NOT NULL REFERENCES employees (id),
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX comments_by_ticket ON comments (ticket_id, id);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id    INTEGER NOT NULL REFERENCES tickets (id),
    file_name    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    file_size    INTEGER NOT NULL,
    data         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX attachments_by_ticket ON attachments (ticket_id, id);

CREATE TABLE ticket_status_changes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id      INTEGER NOT NULL REFERENCES tickets (id),
    employee_id    INTEGER NOT NULL REFERENCES employees (id),
    application_id INTEGER REFERENCES applications (id),
    from_status    TEXT,
    to_status      TEXT    NOT NULL,
    changed_at     INTEGER NOT NULL
);
CREATE INDEX ticket_status_changes_by_ticket ON ticket_status_changes (ticket_id, id);

CREATE TABLE idempotency_keys (
    application_id  INTEGER NOT NULL REFERENCES applications (id),
    idempotency_key TEXT    NOT NULL,
    fingerprint     BLOB    NOT NULL,
    result_id       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (application_id, idempotency_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
