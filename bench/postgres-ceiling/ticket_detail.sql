-- The statement one ticket_detail sends PostgreSQL (DETAIL in
-- crates/connecticket-store/src/ops/ticket_detail.rs, as logged with
-- log_statement = 'all'). The read's audit entry, which the audit lane
-- appends in batches, is left out: this is the read alone. A unit test in
-- ticket_detail.rs fails if the two drift apart.
\set id random(1, :tickets)
SELECT t.*, p.* FROM tickets t LEFT JOIN (
    SELECT 1 AS part, tc.category_id AS part_id,
           CAST(NULL AS BIGINT) AS part_category, c.name AS part_name,
           tc.status AS part_text, CAST(NULL AS TEXT) AS part_category_name,
           CAST(NULL AS BIGINT) AS part_at, CAST(NULL AS BIGINT) AS part_number
    FROM ticket_categories tc JOIN categories c ON c.id = tc.category_id
    WHERE tc.ticket_id = :id
    UNION ALL SELECT * FROM (
        SELECT 2 AS part, cm.id AS part_id, cm.category_id AS part_category,
               e.name AS part_name, cm.body AS part_text,
               c.name AS part_category_name, cm.created_at AS part_at,
               CAST(NULL AS BIGINT) AS part_number
        FROM comments cm
        JOIN employees e ON e.id = cm.employee_id
        LEFT JOIN categories c ON c.id = cm.category_id
        WHERE cm.ticket_id = :id ORDER BY cm.id DESC LIMIT 500
    ) newest_comments
    UNION ALL SELECT 3 AS part, NULL AS part_id, NULL AS part_category,
           NULL AS part_name, NULL AS part_text, NULL AS part_category_name,
           NULL AS part_at, COUNT(*) AS part_number
    FROM comments WHERE ticket_id = :id
    UNION ALL SELECT 4 AS part, a.id AS part_id, NULL AS part_category,
           a.file_name AS part_name, a.content_type AS part_text,
           NULL AS part_category_name, NULL AS part_at, a.file_size AS part_number
    FROM attachments a WHERE a.ticket_id = :id
) p ON TRUE
WHERE t.id = :id AND t.provider_id = 1;
