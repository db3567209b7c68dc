-- The statements one create_comment sends PostgreSQL (the benchmark's
-- call: a comment in a category on a random ticket): the ticket read and
-- locked with the comment's id taken from its sequence and its category
-- checked, then one statement holding every write (the comment, the
-- ticket's updated_at and version, the event, the audit chain's move and
-- the audit entry). Compared with the server by
-- crates/connecticket-store-postgres/tests/ceiling.rs.
\set id random(1, :tickets)
\set chain :first_chain + :client_id
\set next :seq + 1
BEGIN;
SELECT t.resident_id, t.ticket_status, t.urgency_status_id,
         t.email, t.sms, t.version,
         CASE WHEN 1 > 0 THEN nextval('comments_id_seq') END AS comment_id,
         (SELECT string_agg(CAST(nextval('attachments_id_seq') AS TEXT), ',')
          FROM generate_series(1, 0)) AS attachment_ids,
         EXISTS (SELECT 1 FROM categories WHERE id = 1 AND provider_id = 1) AS category_owned
     FROM tickets t WHERE t.id = :id AND t.provider_id = 1 FOR NO KEY UPDATE OF t \aset
WITH w1 AS (INSERT INTO comments (id, ticket_id, category_id, employee_id, body, created_at) VALUES (:comment_id, :id, 1, 1, 'Checked again at noon', 1795986646)), w2 AS (UPDATE tickets SET updated_at = GREATEST(updated_at, 1795986646), version = version + 1 WHERE id = :id), w3 AS (INSERT INTO events (provider_id, kind, ticket_id, resident_id, notification_id, status, occurred_at) VALUES (1, 'ticket.comment_added', :id, :resident_id, NULL, NULL, 1795986646)), moved AS (UPDATE audit_chains SET last_seq = :next, last_hash = '02c0ec6cdb573cdb29c3988c091d80bf43b99c7ffe01cc6fc19969ac30468dd2' WHERE id = :chain AND last_seq = :seq RETURNING id), w5 AS (INSERT INTO audit_log (chain_id, seq, at, request_id, client_addr, provider_id, application_id, employee_id, actor, action, outcome, records, prev_hash, hash) VALUES (:chain, :next, 1795986646, '0b47c2cb-c373-45ea-be38-a0121e20d7e8', '127.0.0.1', 1, 1, 1, NULL, 'create_comment', 'success', '["comment:500001","resident:5","ticket:4711"]', '832346abbbb646c652b5789ecd2b84731122ac1a7f666ee1c54b4957759586a8', '02c0ec6cdb573cdb29c3988c091d80bf43b99c7ffe01cc6fc19969ac30468dd2')) SELECT (SELECT COUNT(*) FROM moved) AS moved;
COMMIT;
\set seq :next
