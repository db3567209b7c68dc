//! The SQLite engine: writes on the single writer thread (group commit),
//! reads on the read pool.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use connecticket_domain::store::RowStream;
use connecticket_domain::StoreError;
use connecticket_store::{chunk_channel, Dialect, Engine, Job, StreamJob};
use futures::executor::block_on;

use crate::executor::SqliteExecutor;
use crate::readers::Readers;
use crate::writer::Writer;

pub struct SqliteEngine {
    pub(crate) writer: Arc<Writer>,
    pub(crate) readers: Arc<Readers>,
}

impl Engine for SqliteEngine {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn known_schema_version(&self) -> i64 {
        crate::migrate::MIGRATIONS.len() as i64
    }

    fn load(&self) -> connecticket_domain::store::StoreLoad {
        let (reading, idle) = self.readers.counts();
        connecticket_domain::store::StoreLoad {
            // The writer's connection and the readers.
            connections: (1 + reading + idle) as u64,
            idle_connections: idle as u64,
            queued_writes: self.writer.queued() as u64,
        }
    }

    fn write_by<T: Send + 'static>(
        &self,
        deadline: Option<Instant>,
        job: impl Job<T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        let writer = Arc::clone(&self.writer);
        // The job's statements complete at once on the writer's connection;
        // block_on only drives them (and waits if a job reads a stream).
        async move {
            writer
                .write(deadline, move |conn, chain| {
                    block_on(job(&mut SqliteExecutor::writer(conn, chain)))
                })
                .await
        }
    }

    fn append_audit(
        &self,
        entry: connecticket_domain::audit::AuditEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let writer = Arc::clone(&self.writer);
        async move { writer.append_audit(entry).await }
    }

    fn read<T: Send + 'static>(
        &self,
        job: impl Job<T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        let readers = Arc::clone(&self.readers);
        // The job's statements complete at once: the read runs here.
        async move { readers.read(move |conn| block_on(job(&mut SqliteExecutor::new(conn)))) }
    }

    fn read_stream<T: Send + 'static>(&self, job: impl StreamJob<T>) -> RowStream<T> {
        let (sender, stream) = chunk_channel();
        let readers = Arc::clone(&self.readers);
        // A streaming job waits for its reader between chunks: it runs on
        // the blocking pool, never on a worker thread.
        let task = tokio::task::spawn_blocking(move || {
            let read = readers.read(move |conn| {
                block_on(async {
                    let outcome = job(&mut SqliteExecutor::new(conn), &sender).await;
                    if let Err(error) = outcome {
                        sender.fail(error).await;
                    }
                });
                Ok(())
            });
            if let Err(error) = read {
                tracing::error!(%error, "a streamed read could not run");
            }
        });
        drop(task);
        stream
    }
}
