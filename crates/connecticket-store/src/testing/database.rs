//! A fresh, empty database per test: a SQLite file in a temporary
//! directory, or a PostgreSQL database cloned from a migrated template
//! (made once per schema version, then copied in milliseconds).
//!
//! PostgreSQL is `CONNECTICKET_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it does not answer,
//! PostgreSQL tests are skipped with a message, unless
//! `CONNECTICKET_TEST_POSTGRES_REQUIRED` is set (CI sets it), in which
//! case they fail.

use std::future::Future;

use connecticket_domain::StoreError;
use sqlx::{Connection, PgConnection};
use tempfile::TempDir;
use tokio::sync::Mutex;

/// Which engine a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

tokio::task_local! {
    static CURRENT: Backend;
}

impl Backend {
    /// Runs a scenario with this backend as the current one.
    pub async fn run(self, scenario: impl Future<Output = ()>) {
        CURRENT.scope(self, scenario).await
    }

    /// The backend of the running scenario (SQLite outside one).
    pub fn current() -> Backend {
        CURRENT
            .try_with(|backend| *backend)
            .unwrap_or(Backend::Sqlite)
    }
}

pub fn postgres_server() -> String {
    std::env::var("CONNECTICKET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// `postgres://…/test` with another database name.
pub fn with_database(server: &str, name: &str) -> String {
    let (base, _) = server.rsplit_once('/').unwrap_or((server, ""));
    format!("{base}/{name}")
}

/// How to make the migrated template PostgreSQL tests clone.
pub struct PostgresTemplate<M> {
    /// Names the schema version; a new version makes a new template.
    pub digest: String,
    pub migrate: M,
}

/// An empty database that disappears with the value.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    _dir: Option<TempDir>,
    postgres_name: Option<String>,
}

/// Templates are made one at a time in this process; the advisory lock
/// below keeps other test processes out.
static TEMPLATES: Mutex<()> = Mutex::const_new(());

/// Names the lock held while a template is made.
const TEMPLATE_LOCK: i64 = 0x00c0_11ec_7e57;

impl TestDatabase {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("temp dir: {error}"));
        TestDatabase {
            url: format!("sqlite://{}", dir.path().join("connecticket.db").display()),
            backend: Backend::Sqlite,
            _dir: Some(dir),
            postgres_name: None,
        }
    }

    /// Whether the PostgreSQL test server answers (asked once per process);
    /// says why not, or fails when PostgreSQL is required.
    pub async fn postgres_answers() -> bool {
        static ANSWERS: tokio::sync::OnceCell<bool> = tokio::sync::OnceCell::const_new();
        *ANSWERS
            .get_or_init(|| async {
                let server = postgres_server();
                match PgConnection::connect(&server).await {
                    Ok(admin) => {
                        let _ = admin.close().await;
                        true
                    }
                    Err(error) => {
                        assert!(
                            std::env::var_os("CONNECTICKET_TEST_POSTGRES_REQUIRED").is_none(),
                            "PostgreSQL is required but {server} does not answer: {error}"
                        );
                        false
                    }
                }
            })
            .await
    }

    /// A new database cloned from the migrated template, or `None` (after
    /// saying why) when the test server does not answer.
    pub async fn postgres<M, Fut>(template: PostgresTemplate<M>) -> Option<Self>
    where
        M: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<(), StoreError>>,
    {
        let server = postgres_server();
        let mut admin = match PgConnection::connect(&server).await {
            Ok(admin) => admin,
            Err(error) => {
                assert!(
                    std::env::var_os("CONNECTICKET_TEST_POSTGRES_REQUIRED").is_none(),
                    "PostgreSQL is required but {server} does not answer: {error}"
                );
                eprintln!(
                    "skipped: no PostgreSQL at CONNECTICKET_TEST_POSTGRES_URL ({error}); only the SQLite half of this test ran"
                );
                return None;
            }
        };
        let template_name = format!("ct_template_{}", template.digest);
        ensure_template(&mut admin, &template_name, template.migrate).await;
        let name = format!("ct_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template_name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("create a test database from the template: {error}"));
        let _ = admin.close().await;
        Some(TestDatabase {
            url: with_database(&server, &name),
            backend: Backend::Postgres,
            _dir: None,
            postgres_name: Some(name),
        })
    }

    /// An empty, unmigrated PostgreSQL database (for tests of migration
    /// itself), or `None` when the test server does not answer.
    pub async fn postgres_unmigrated() -> Option<Self> {
        Self::postgres(PostgresTemplate {
            digest: "empty".to_owned(),
            migrate: |_| async { Ok(()) },
        })
        .await
    }
}

async fn ensure_template<M, Fut>(admin: &mut PgConnection, name: &str, migrate: M)
where
    M: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let _guard = TEMPLATES.lock().await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *admin)
        .await
        .unwrap_or_else(|error| panic!("lock the template: {error}"));
    let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut *admin)
        .await
        .unwrap_or_else(|error| panic!("look for the template: {error}"))
        .is_some();
    if !exists {
        let building = format!("{name}_building");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(&mut *admin)
            .await
            .unwrap_or_else(|error| panic!("clear a half-built template: {error}"));
        sqlx::query(&format!("CREATE DATABASE {building}"))
            .execute(&mut *admin)
            .await
            .unwrap_or_else(|error| panic!("create the template: {error}"));
        migrate(with_database(&postgres_server(), &building))
            .await
            .unwrap_or_else(|error| panic!("migrate the template: {error}"));
        // Renamed only once complete, so a template that exists is whole.
        sqlx::query(&format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut *admin)
            .await
            .unwrap_or_else(|error| panic!("finish the template: {error}"));
    }
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *admin)
        .await;
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs outside async code; a short-lived runtime on its own
        // thread does the cleanup. FORCE ends the server's pooled sessions.
        let server = postgres_server();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&server).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}
