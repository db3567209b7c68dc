//! Data as older schemas held it, for the migrations that move data.

/// Events the sequencer before migration 13 left: cursors given in commit
/// order (not id order) and two committed events it had not reached, with
/// deliveries (to endpoints the tests leave out: foreign keys off).
pub const EVENTS_BEFORE_CURSOR_IDS: &str = "
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

/// `(id, ticket_id)` of those events after migration 13: cursors 1–3 as
/// given, the two waiting after them in id order.
pub const EVENTS_WITH_CURSOR_IDS: [(i64, i64); 5] = [(1, 2), (2, 1), (3, 3), (4, 4), (5, 5)];

/// `(endpoint_id, event_id, state)` of their deliveries after it.
pub const DELIVERIES_WITH_CURSOR_IDS: [(i64, i64, &str); 3] =
    [(1, 1, "delivered"), (1, 2, "pending"), (2, 1, "pending")];
