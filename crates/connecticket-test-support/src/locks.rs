//! Another client holding the database's write lock, as an admin script or
//! a long migration might: writes queue behind it until it lets go.

use tokio::sync::oneshot;

use crate::Backend;

/// Held until `release`.
pub struct WriteLock {
    release: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl WriteLock {
    pub async fn release(mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.send(());
        }
        if let Some(done) = self.done.take() {
            done.await.expect("the lock holder");
        }
    }
}

/// Takes the write lock of the database at `url`: SQLite's `BEGIN
/// IMMEDIATE`, or an exclusive lock on PostgreSQL's tickets table.
pub async fn hold_write_lock(url: &str, backend: Backend) -> WriteLock {
    let (release, released) = oneshot::channel::<()>();
    let (taken, is_taken) = oneshot::channel::<()>();
    let done = match backend {
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://").to_owned();
            tokio::task::spawn_blocking(move || {
                let connection = rusqlite::Connection::open(path).expect("open");
                connection.execute_batch("BEGIN IMMEDIATE").expect("lock");
                let _ = taken.send(());
                let _ = released.blocking_recv();
                connection.execute_batch("COMMIT").expect("unlock");
            })
        }
        Backend::Postgres => {
            let url = url.to_owned();
            tokio::spawn(async move {
                use sqlx::Connection;
                let mut connection = sqlx::PgConnection::connect(&url).await.expect("connect");
                let mut tx = connection.begin().await.expect("begin");
                sqlx::query("LOCK TABLE tickets IN EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await
                    .expect("lock");
                let _ = taken.send(());
                let _ = released.await;
                tx.commit().await.expect("unlock");
            })
        }
    };
    is_taken.await.expect("the lock was taken");
    WriteLock {
        release: Some(release),
        done: Some(done),
    }
}
