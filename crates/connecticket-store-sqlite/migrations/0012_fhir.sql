-- The FHIR R4 facade (docs/FHIR.md).
--
-- Its bearer tokens, hashed like the API's and revoked with them, kept in
-- a table of their own: FHIR clients fetch a short-lived token every few
-- minutes, and those must never push an application's API tokens out.
CREATE TABLE fhir_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id INTEGER NOT NULL REFERENCES applications (id),
    token_hash     BLOB    NOT NULL UNIQUE,
    scope          TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER
);
CREATE INDEX fhir_tokens_by_application ON fhir_tokens (application_id);

-- An application's public keys for SMART Backend Services (a JWK Set),
-- and the ids of the client assertions it signed with them, kept until
-- they expire so that none is accepted twice.
CREATE TABLE fhir_client_keys (
    application_id INTEGER PRIMARY KEY REFERENCES applications (id),
    jwks           TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE TABLE fhir_assertions (
    application_id INTEGER NOT NULL REFERENCES applications (id),
    jti            TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL,
    PRIMARY KEY (application_id, jti)
);
CREATE INDEX fhir_assertions_by_expiry ON fhir_assertions (expires_at);

-- Applications an administrator allowed to read the audit trail as
-- AuditEvent (system/AuditEvent.rs is granted to them only).
CREATE TABLE fhir_audit_readers (
    application_id INTEGER PRIMARY KEY REFERENCES applications (id),
    granted_at     INTEGER NOT NULL
);

-- A ticket's version (FHIR's meta.versionId and ETag): every statement
-- that changes a ticket raises it by one.
ALTER TABLE tickets ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
