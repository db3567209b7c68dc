-- The statements one create_ticket job sends PostgreSQL (the benchmark's
-- call: four ratings and a comment, no one asked to be told), as the
-- server's statement trace shows them (target connecticket::sql): one read
-- (the resident, its provider's categories, and the new rows' ids from
-- their sequences) and one statement holding every write (the ticket, its
-- ratings, comment, first status, event, the audit chain's move and the
-- audit entry). A test (crates/connecticket-store-postgres/tests/ceiling.rs)
-- fails if this script and the server drift apart. Each client appends to
-- a chain of its own, as each write lane does, and keeps its head (:seq).
-- The server runs several jobs per transaction; here each job commits
-- alone, and PostgreSQL groups the concurrent commits' flushes.
\set resident random(1, :residents)
\set chain :first_chain + :client_id
\set next :seq + 1
BEGIN;
WITH resident AS (
         SELECT provider_id FROM residents WHERE id = :resident AND provider_id = 1),
     ids AS (
         SELECT nextval('tickets_id_seq') AS ticket_id,
                (SELECT string_agg(CAST(nextval('attachments_id_seq') AS TEXT), ',')
                 FROM generate_series(1, 0)) AS attachment_ids
         FROM resident)
     SELECT ids.ticket_id, ids.attachment_ids, c.id AS category_id
     FROM ids CROSS JOIN resident
     LEFT JOIN categories c ON c.provider_id = resident.provider_id \aset
WITH w1 AS (INSERT INTO tickets (id, provider_id, resident_id, employee_id, application_id, title, urgency_status_id, ticket_status, ticket_type, state, sms, email, sent_to_family, sent_to_healthcare_pro, sent_to_primary, start_date, end_date, created_at, updated_at, version) VALUES (:ticket_id, 1, :resident, 1, 1, 'Fall in room', 3, 'New', NULL, false, false, false, false, false, false, NULL, NULL, 1795986646, 1795986646, 1)), w2 AS (INSERT INTO ticket_categories (ticket_id, category_id, status) VALUES (:ticket_id, 1, 'Issue'), (:ticket_id, 2, 'No Issue'), (:ticket_id, 3, 'Potential Issue'), (:ticket_id, 4, 'No Issue')), w3 AS (INSERT INTO comments (ticket_id, category_id, employee_id, body, created_at) VALUES (:ticket_id, NULL, 1, 'Found on the floor', 1795986646)), w4 AS (INSERT INTO ticket_status_changes (ticket_id, employee_id, application_id, from_status, to_status, changed_at) VALUES (:ticket_id, 1, 1, NULL, 'New', 1795986646)), w5 AS (INSERT INTO events (provider_id, kind, ticket_id, resident_id, notification_id, status, occurred_at) VALUES (1, 'ticket.created', :ticket_id, :resident, NULL, 'New', 1795986646)), moved AS (UPDATE audit_chains SET last_seq = :next, last_hash = '02c0ec6cdb573cdb29c3988c091d80bf43b99c7ffe01cc6fc19969ac30468dd2' WHERE id = :chain AND last_seq = :seq RETURNING id), w7 AS (INSERT INTO audit_log (chain_id, seq, at, request_id, client_addr, provider_id, application_id, employee_id, actor, action, outcome, records, prev_hash, hash) VALUES (:chain, :next, 1795986646, '0b47c2cb-c373-45ea-be38-a0121e20d7e8', '127.0.0.1', 1, 1, 1, NULL, 'create_ticket', 'success', '["resident:5","ticket:214155"]', '832346abbbb646c652b5789ecd2b84731122ac1a7f666ee1c54b4957759586a8', '02c0ec6cdb573cdb29c3988c091d80bf43b99c7ffe01cc6fc19969ac30468dd2')) SELECT (SELECT COUNT(*) FROM moved) AS moved;
COMMIT;
\set seq :next
