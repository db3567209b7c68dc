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

-- A ticket's version (FHIR's meta.versionId and ETag): every statement
-- that changes a ticket raises it by one.
ALTER TABLE tickets ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
