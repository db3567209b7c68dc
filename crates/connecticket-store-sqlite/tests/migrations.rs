//! Migrations that move data, checked on the data they move.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use connecticket_store_sqlite::MIGRATIONS;
use rusqlite::Connection;

/// Events the old sequencer numbered (cursors in commit order, not id
/// order) and events it had not reached yet, with deliveries (foreign keys
/// are off: what is checked is where they point).
const OLD_EVENTS: &str = "
    INSERT INTO providers (id, name, time_zone, created_at) VALUES (7, 'Kept', 'UTC', 0);
    INSERT INTO events (id, provider_id, kind, ticket_id, status, occurred_at, seq) VALUES
        (10, 7, 'ticket.created', 1, 'New', 100, 2),
        (11, 7, 'ticket.created', 2, 'New', 101, 1),
        (12, 7, 'ticket.created', 3, 'New', 102, 3),
        (14, 7, 'ticket.created', 5, 'New', 104, NULL),
        (13, 7, 'ticket.created', 4, 'New', 103, NULL);
    UPDATE event_log SET last_cursor = 3;
    INSERT INTO webhook_deliveries (endpoint_id, event_id, state, attempts, created_at) VALUES
        (1, 10, 'pending', 0, 0), (1, 11, 'delivered', 1, 0), (2, 11, 'pending', 0, 0);
";

#[test]
fn events_keep_the_cursors_clients_have_seen_when_ids_become_cursors() {
    let conn = Connection::open_in_memory().expect("open");
    conn.execute_batch("PRAGMA foreign_keys = OFF")
        .expect("pragma");
    let (last, earlier) = MIGRATIONS.split_last().expect("migrations");
    assert_eq!(last.1, "event_cursors");
    for (_, _, sql) in earlier {
        conn.execute_batch(sql).expect("apply");
    }
    conn.execute_batch(OLD_EVENTS).expect("old events");
    conn.execute_batch(last.2).expect("migrate");

    let rows = |sql: &str| -> Vec<(i64, i64, String)> {
        let mut statement = conn.prepare(sql).expect("prepare");
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    // Cursors 1–3 as given; the two waiting after them, in id order.
    assert_eq!(
        rows("SELECT id, ticket_id, status FROM events ORDER BY id")
            .iter()
            .map(|(id, ticket, _)| (*id, *ticket))
            .collect::<Vec<_>>(),
        [(1, 2), (2, 1), (3, 3), (4, 4), (5, 5)]
    );
    assert_eq!(
        rows("SELECT endpoint_id, event_id, state FROM webhook_deliveries ORDER BY 1, 2"),
        [
            (1, 1, "delivered".to_owned()),
            (1, 2, "pending".to_owned()),
            (2, 1, "pending".to_owned())
        ]
    );
    let published: i64 = conn
        .query_row("SELECT last_cursor FROM event_log", [], |row| row.get(0))
        .expect("log");
    assert_eq!(
        published, 3,
        "the waiting two are the sequencer's to publish"
    );
    // New ids continue above every cursor, even once all are pruned.
    conn.execute_batch("DELETE FROM events; UPDATE event_log SET pruned_through = 5;")
        .expect("prune");
    conn.execute(
        "INSERT INTO events (provider_id, kind, occurred_at) VALUES (7, 'ticket.created', 0)",
        [],
    )
    .expect("new event");
    assert_eq!(conn.last_insert_rowid(), 6);
}
