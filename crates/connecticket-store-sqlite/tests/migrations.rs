//! Migrations that move data, checked on the data they move.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use connecticket_store::testing::old_data;
use connecticket_store_sqlite::MIGRATIONS;
use rusqlite::Connection;

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
    conn.execute_batch(old_data::EVENTS_BEFORE_CURSOR_IDS)
        .expect("old events");
    conn.execute_batch(last.2).expect("migrate");

    let rows = |sql: &str| -> Vec<(i64, i64, String)> {
        let mut statement = conn.prepare(sql).expect("prepare");
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(
        rows("SELECT id, ticket_id, status FROM events ORDER BY id")
            .iter()
            .map(|(id, ticket, _)| (*id, *ticket))
            .collect::<Vec<_>>(),
        old_data::EVENTS_WITH_CURSOR_IDS
    );
    let expected: Vec<(i64, i64, String)> = old_data::DELIVERIES_WITH_CURSOR_IDS
        .iter()
        .map(|(endpoint, event, state)| (*endpoint, *event, (*state).to_owned()))
        .collect();
    assert_eq!(
        rows("SELECT endpoint_id, event_id, state FROM webhook_deliveries ORDER BY 1, 2"),
        expected
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
