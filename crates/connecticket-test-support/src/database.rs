//! Fresh databases for a scenario, on either backend.

use std::path::Path;

use crate::Backend;

/// A fresh database for the current backend.
pub struct TestDatabase {
    // Dropping it drops the database.
    _inner: connecticket_store::testing::TestDatabase,
    pub url: String,
    pub backend: Backend,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        let inner = match backend {
            Backend::Sqlite => connecticket_store::testing::TestDatabase::sqlite(),
            Backend::Postgres => postgres_database()
                .await
                .expect("PostgreSQL answered a moment ago"),
        };
        TestDatabase {
            url: inner.url.clone(),
            backend,
            _inner: inner,
        }
    }

    /// An empty PostgreSQL database, not migrated (for tests of migration
    /// itself); `None` without a PostgreSQL server.
    pub async fn postgres_unmigrated() -> Option<Self> {
        let inner = connecticket_store::testing::TestDatabase::postgres_unmigrated().await?;
        Some(TestDatabase {
            url: inner.url.clone(),
            backend: Backend::Postgres,
            _inner: inner,
        })
    }
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

async fn migrate_template(url: String) -> Result<(), connecticket_domain::StoreError> {
    connecticket_store_postgres::migrate(&url).await
}

/// A clone of the migrated template, or `None` without a PostgreSQL server.
async fn postgres_database() -> Option<connecticket_store::testing::TestDatabase> {
    connecticket_store::testing::TestDatabase::postgres(
        connecticket_store::testing::PostgresTemplate {
            digest: connecticket_store_postgres::schema_digest(),
            migrate: migrate_template,
        },
    )
    .await
}

/// Whether the PostgreSQL half of a scenario can run; says why not.
pub async fn postgres_available() -> bool {
    let answers = connecticket_store::testing::TestDatabase::postgres_answers().await;
    if !answers {
        eprintln!(
            "skipped: no PostgreSQL at CONNECTICKET_TEST_POSTGRES_URL; only the SQLite half of this scenario ran"
        );
    }
    answers
}

/// A SQLite URL for a file in `dir`.
pub fn sqlite_path(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("connecticket.db").display())
}
