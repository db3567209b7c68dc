-- One audit hash chain per writer instead of one for the whole database,
-- so that writers never wait on each other's chain (PostgreSQL instances
-- each append to chains of their own). The single chain of earlier
-- releases, if it ever held an entry, continues as chain 1.

CREATE TABLE audit_chains (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    label              TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    last_seq           INTEGER NOT NULL,
    last_hash          TEXT    NOT NULL,
    pruned_through_seq INTEGER NOT NULL,
    pruned_hash        TEXT    NOT NULL
);

INSERT INTO audit_chains (id, label, created_at, last_seq, last_hash, pruned_through_seq, pruned_hash)
    SELECT 1, 'before per-writer chains', strftime('%s', 'now'), last_id, last_hash,
           pruned_through_id, pruned_hash
    FROM audit_anchor WHERE last_id > 0 OR pruned_through_id > 0;

ALTER TABLE audit_log ADD COLUMN chain_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE audit_log SET seq = id;
CREATE UNIQUE INDEX audit_log_by_chain ON audit_log (chain_id, seq);

DROP TABLE audit_anchor;
