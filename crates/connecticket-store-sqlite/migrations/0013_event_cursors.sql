-- An event's id is its cursor: the sequencer no longer rewrites each
-- event's row to number it, it publishes how far the ids are settled
-- (`event_log.last_cursor`). SQLite has one writer, so ids follow commit
-- order by themselves (docs/EVENTS.md).
--
-- Existing events keep the cursors clients have seen: committed events
-- the old sequencer had not reached are numbered after the last cursor,
-- in id order, as it would have; then every event takes its cursor as
-- its id, and its deliveries follow it.
CREATE TEMP TABLE waiting_events AS
SELECT id, (SELECT last_cursor FROM event_log WHERE id = 1)
           + ROW_NUMBER() OVER (ORDER BY id) AS cursor
FROM events WHERE seq IS NULL;
UPDATE events SET seq = (SELECT cursor FROM waiting_events WHERE waiting_events.id = events.id)
WHERE seq IS NULL;
DROP TABLE waiting_events;

-- Through negative ids, so that no step meets a key it is about to free.
UPDATE webhook_deliveries
SET event_id = -(SELECT seq FROM events WHERE events.id = webhook_deliveries.event_id)
WHERE event_id IN (SELECT id FROM events);
UPDATE webhook_deliveries SET event_id = -event_id WHERE event_id < 0;

CREATE TABLE events_by_cursor (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id      INTEGER NOT NULL REFERENCES providers (id),
    kind             TEXT    NOT NULL,
    ticket_id        INTEGER,
    resident_id      INTEGER,
    notification_id  INTEGER,
    status           TEXT,
    occurred_at      INTEGER NOT NULL
);
INSERT INTO events_by_cursor
    (id, provider_id, kind, ticket_id, resident_id, notification_id, status, occurred_at)
SELECT seq, provider_id, kind, ticket_id, resident_id, notification_id, status, occurred_at
FROM events;
DROP TABLE events;
ALTER TABLE events_by_cursor RENAME TO events;
CREATE INDEX events_feed ON events (provider_id, id);

-- Ids continue above every cursor ever given, pruned or not.
INSERT INTO sqlite_sequence (name, seq) SELECT 'events', 0
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events');
UPDATE sqlite_sequence
SET seq = (SELECT MAX(sqlite_sequence.seq, last_cursor, pruned_through) FROM event_log WHERE id = 1)
WHERE name = 'events';
