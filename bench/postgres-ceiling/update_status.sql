-- The statements one update_status sends PostgreSQL (the benchmark's
-- call: a random ticket to a new status, no one asked to be told): the
-- ticket read and locked, then one statement holding every write (the
-- ticket's status and version, the status change, the event, the audit
-- chain's move and the audit entry). A move to Resolved or Closed adds two
-- updates (the escalation ended, its reminders cancelled) to that
-- statement, and a move to the status a ticket has writes only the audit
-- entry; this script measures the common case. Compared with the server by
-- crates/connecticket-store-postgres/tests/ceiling.rs.
\set id random(1, :tickets)
\set chain :first_chain + :client_id
\set next :seq + 1
BEGIN;
SELECT resident_id, ticket_status, urgency_status_id, email, sms, version
         FROM tickets WHERE id = :id AND provider_id = 1 FOR NO KEY UPDATE \aset
WITH w1 AS (UPDATE tickets SET ticket_status = 'In Progress', updated_at = GREATEST(updated_at, 1795986646), version = version + 1
         WHERE id = :id), w2 AS (INSERT INTO ticket_status_changes (ticket_id, employee_id, application_id, from_status, to_status, changed_at) VALUES (:id, 1, 1, 'New', 'In Progress', 1795986646)), w3 AS (INSERT INTO events (provider_id, kind, ticket_id, resident_id, notification_id, status, occurred_at) VALUES (1, 'ticket.status_changed', :id, :resident_id, NULL, 'In Progress', 1795986646)), moved AS (UPDATE audit_chains SET last_seq = :next, last_hash = '02c0ec6cdb573cdb29c3988c091d80bf43b99c7ffe01cc6fc19969ac30468dd2' WHERE id = :chain AND last_seq = :seq RETURNING id), w5 AS (INSERT INTO audit_log (chain_id, seq, at, request_id, client_addr, provider_id, application_id, employee_id, actor, action, outcome, records, prev_hash, hash) VALUES (:chain, :next, 1795986646, '0b47c2cb-c373-45ea-be38-a0121e20d7e8', '127.0.0.1', 1, 1, 1, NULL, 'update_status', 'success', '["resident:5","ticket:4711"]', '832346abbbb646c652b5789ecd2b84731122ac1a7f666ee1c54b4957759586a8', '02c0ec6cdb573cdb29c3988c091d80bf43b99c7ffe01cc6fc19969ac30468dd2')) SELECT (SELECT COUNT(*) FROM moved) AS moved;
COMMIT;
\set seq :next
