-- One administration: every audit entry can name the person behind it
-- beyond the ids it carries: an operator at the command line is recorded
-- as the operating-system user and host that ran the command, with the
-- name a script gave (`--actor`).
ALTER TABLE audit_log ADD COLUMN actor TEXT;
