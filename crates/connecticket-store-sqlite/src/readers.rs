//! Read connections: a small lazily-filled pool, used from blocking tasks.
//! Each job runs in one read transaction, so it sees one snapshot.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use connecticket_domain::StoreError;
use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::connection::open_reader;
use crate::executor::sql_error;

type Result<T> = std::result::Result<T, StoreError>;

pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    pub(crate) fn new(path: PathBuf, size: usize) -> Self {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1))),
        }
    }

    fn checkout(&self) -> Result<Connection> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match idle {
            Some(connection) => Ok(connection),
            None => open_reader(&self.path),
        }
    }

    fn checkin(&self, connection: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(connection);
        }
    }

    /// Runs `work` in a read transaction on a pooled connection, on a
    /// blocking thread.
    pub(crate) async fn read<T, F>(self: &Arc<Self>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let _permit =
            self.permits.clone().acquire_owned().await.map_err(|_| {
                StoreError::Unavailable("the SQLite read pool is closed".to_owned())
            })?;
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut connection = readers.checkout()?;
            let outcome = in_read_transaction(&mut connection, work);
            readers.checkin(connection);
            outcome
        })
        .await
        .map_err(|e| StoreError::backend("a SQLite read task failed", e))?
    }
}

fn in_read_transaction<T>(
    connection: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    connection
        .execute_batch("BEGIN")
        .map_err(|e| sql_error(e).into_store())?;
    let outcome = work(connection);
    // A read changes nothing: ending it either way only releases the
    // snapshot.
    let _ = connection.execute_batch(if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    });
    outcome
}
