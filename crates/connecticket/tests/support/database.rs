//! A fresh, empty database per test, on the backend the test runs against.

use std::future::Future;

use sqlx::Connection;
use tempfile::TempDir;

/// Which storage backend a test runs against.
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

    /// The backend of the running scenario (SQLite outside `backend_tests!`).
    pub fn current() -> Backend {
        CURRENT
            .try_with(|backend| *backend)
            .unwrap_or(Backend::Sqlite)
    }
}

fn postgres_server() -> String {
    std::env::var("CONNECTICKET_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// `postgres://…/test` with another database name.
fn with_database(server: &str, name: &str) -> String {
    let (base, _) = server.rsplit_once('/').unwrap_or((server, ""));
    format!("{base}/{name}")
}

/// An empty database that disappears with the value.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    _dir: Option<TempDir>,
    postgres_name: Option<String>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                TestDatabase {
                    url: format!("sqlite://{}", dir.path().join("connecticket.db").display()),
                    backend,
                    _dir: Some(dir),
                    postgres_name: None,
                }
            }
            Backend::Postgres => {
                let name = format!("ct_test_{}", uuid::Uuid::new_v4().simple());
                let server = postgres_server();
                let mut admin = sqlx::PgConnection::connect(&server).await.expect(
                    "connect to the test PostgreSQL server (CONNECTICKET_TEST_POSTGRES_URL)",
                );
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create the test database");
                TestDatabase {
                    url: with_database(&server, &name),
                    backend,
                    _dir: None,
                    postgres_name: Some(name),
                }
            }
        }
    }
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
                if let Ok(mut admin) = sqlx::PgConnection::connect(&server).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}
