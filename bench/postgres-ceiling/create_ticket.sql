-- The statements one create_ticket job sends PostgreSQL (the benchmark's
-- call: four ratings and a comment), as logged with log_statement = 'all':
-- the resident and the provider's categories, the ticket, its ratings, its
-- comment, its status change, and its audit entry with the move of the
-- chain's anchor. Each client appends to a chain of its own, as each write
-- lane does. The server runs several jobs per transaction; here each job
-- commits alone, and PostgreSQL groups the concurrent commits' flushes.
\set resident random(1, :residents)
\set chain :first_chain + :client_id
BEGIN;
SELECT c.id AS category_id FROM residents r
    LEFT JOIN categories c ON c.provider_id = r.provider_id
    WHERE r.id = :resident AND r.provider_id = 1;
INSERT INTO tickets (provider_id, resident_id, employee_id, application_id, title,
        urgency_status_id, ticket_status, ticket_type, state, sms, email, sent_to_family,
        sent_to_healthcare_pro, sent_to_primary, start_date, end_date, created_at, updated_at)
    VALUES (1, :resident, 1, 1, 'Fall in room', 3, 'New', NULL, false, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, 1795986646, 1795986646)
    RETURNING id \gset ticket_
INSERT INTO ticket_categories (ticket_id, category_id, status)
    VALUES (:ticket_id, 1, 'Issue'), (:ticket_id, 2, 'No Issue'),
           (:ticket_id, 3, 'Potential Issue'), (:ticket_id, 4, 'No Issue');
INSERT INTO comments (ticket_id, category_id, employee_id, body, created_at)
    VALUES (:ticket_id, NULL, 1, 'Found on the floor', 1795986646) RETURNING id;
INSERT INTO ticket_status_changes (ticket_id, employee_id, application_id, from_status,
        to_status, changed_at)
    VALUES (:ticket_id, 1, 1, NULL, 'New', 1795986646);
WITH moved AS (
    UPDATE audit_chains SET last_seq = last_seq + 1,
        last_hash = '02c0ec6cdb573cdb29c3988c091d80bf43b99c7ffe01cc6fc19969ac30468dd2'
    WHERE id = :chain RETURNING id, last_seq)
INSERT INTO audit_log (chain_id, seq, at, request_id, client_addr, provider_id,
        application_id, employee_id, action, outcome, records, prev_hash, hash)
    SELECT id, last_seq, 1795986646, '0b47c2cb-c373-45ea-be38-a0121e20d7e8', '127.0.0.1',
        1, 1, 1, 'create_ticket', 'success', '["resident:5","ticket:214155"]',
        '832346abbbb646c652b5789ecd2b84731122ac1a7f666ee1c54b4957759586a8',
        '02c0ec6cdb573cdb29c3988c091d80bf43b99c7ffe01cc6fc19969ac30468dd2'
    FROM moved;
COMMIT;
