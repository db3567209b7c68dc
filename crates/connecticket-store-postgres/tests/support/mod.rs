//! What the PostgreSQL engine's tests share.

use connecticket_store_postgres::{PostgresOptions, PostgresStore};

/// A store on `url` (migrated on opening) with one write lane, so that
/// writes queued together share one batch.
pub async fn open_one_lane(url: &str) -> PostgresStore {
    let options = PostgresOptions {
        write_lanes: 1,
        ..PostgresOptions::default()
    };
    connecticket_store_postgres::open(url, options)
        .await
        .unwrap_or_else(|error| panic!("open the PostgreSQL store with one write lane: {error}"))
}
