//! Read connections: a small lazily-filled pool, used from blocking tasks.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{mpsc, Semaphore};
use tokio_stream::wrappers::ReceiverStream;

use crate::connection::open_reader;
use crate::Result;
use connecticket_domain::store::{RowStream, STREAM_CHUNK_ROWS};
use connecticket_domain::StoreError;

/// Receives one chunk of rows; answers false when the client has gone.
pub(crate) type Sink<'a, T> = &'a mut dyn FnMut(Vec<T>) -> bool;

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

    /// Runs `work` on a read connection off the async runtime.
    pub(crate) async fn read<T, F>(self: &Arc<Self>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Internal("the read pool is closed".to_owned()))?;
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let connection = readers.checkout()?;
            let outcome = work(&connection);
            readers.checkin(connection);
            outcome
        })
        .await
        .map_err(|e| StoreError::Internal(format!("a read task failed: {e}")))?
    }

    /// Streams rows that `produce` feeds to its sink, chunk by chunk, with
    /// backpressure: the query advances only as fast as the client reads.
    pub(crate) fn stream<T, F>(self: &Arc<Self>, produce: F) -> RowStream<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, Sink<'_, T>) -> Result<()> + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel::<Result<Vec<T>>>(2);
        let readers = Arc::clone(self);
        tokio::spawn(async move {
            let Ok(_permit) = readers.permits.clone().acquire_owned().await else {
                return;
            };
            let task_readers = Arc::clone(&readers);
            let errors = sender.clone();
            let task = tokio::task::spawn_blocking(move || {
                let connection = match task_readers.checkout() {
                    Ok(connection) => connection,
                    Err(error) => {
                        let _ = sender.blocking_send(Err(error));
                        return;
                    }
                };
                let mut sink = |chunk: Vec<T>| sender.blocking_send(Ok(chunk)).is_ok();
                if let Err(error) = produce(&connection, &mut sink) {
                    let _ = sender.blocking_send(Err(error));
                }
                task_readers.checkin(connection);
            });
            if let Err(error) = task.await {
                let _ = errors
                    .send(Err(StoreError::Internal(format!(
                        "a list task failed: {error}"
                    ))))
                    .await;
            }
        });
        Box::pin(ReceiverStream::new(receiver))
    }
}

/// Feeds rows to `sink` in chunks of [`STREAM_CHUNK_ROWS`].
pub(crate) fn feed<T>(
    rows: impl Iterator<Item = rusqlite::Result<T>>,
    sink: Sink<'_, T>,
) -> Result<()> {
    let mut chunk = Vec::with_capacity(STREAM_CHUNK_ROWS);
    for row in rows {
        chunk.push(row.map_err(crate::internal)?);
        if chunk.len() == STREAM_CHUNK_ROWS
            && !sink(std::mem::replace(
                &mut chunk,
                Vec::with_capacity(STREAM_CHUNK_ROWS),
            ))
        {
            return Ok(());
        }
    }
    if !chunk.is_empty() {
        sink(chunk);
    }
    Ok(())
}
