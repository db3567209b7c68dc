-- An event's id is its cursor: the sequencer no longer rewrites each
-- event's row to number it (one more row version per write), it publishes
-- how far the ids are settled (`event_log.last_cursor`): every event with
-- an id at or below it has committed or never will. Ids are taken after
-- the writing transaction has its transaction id (`next_event_id`), so
-- that the sequencer can tell when every writer that took an id below a
-- mark has ended (docs/EVENTS.md).
--
-- Existing events keep the cursors clients have seen: committed events
-- the old sequencer had not reached are numbered after the last cursor,
-- in id order, as it would have; then every event takes its cursor as
-- its id, and its deliveries follow it.
UPDATE events AS e SET seq = waiting.cursor
FROM (
    SELECT id, (SELECT last_cursor FROM event_log WHERE id = 1)
               + row_number() OVER (ORDER BY id) AS cursor
    FROM events WHERE seq IS NULL
) AS waiting
WHERE e.id = waiting.id;

-- Through negative ids, so that no step meets a key it is about to free.
UPDATE webhook_deliveries AS d SET event_id = -e.seq FROM events AS e WHERE e.id = d.event_id;
UPDATE webhook_deliveries SET event_id = -event_id WHERE event_id < 0;
UPDATE events SET id = -seq;
UPDATE events SET id = -id;

ALTER TABLE events DROP COLUMN seq;
CREATE INDEX events_feed ON events (provider_id, id);

ALTER TABLE events ALTER COLUMN id DROP IDENTITY;
CREATE SEQUENCE events_id_seq OWNED BY events.id;
SELECT setval('events_id_seq', GREATEST(newest, 1), newest > 0)
FROM (
    SELECT GREATEST(COALESCE((SELECT MAX(id) FROM events), 0), last_cursor, pruned_through) AS newest
    FROM event_log WHERE id = 1
) AS above;

-- The writer's transaction id first, then the event's id: a writer that
-- holds an id always has a transaction id older than any taken after it.
CREATE FUNCTION next_event_id() RETURNS BIGINT LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_current_xact_id();
    RETURN nextval('events_id_seq');
END
$$;
ALTER TABLE events ALTER COLUMN id SET DEFAULT next_event_id();
