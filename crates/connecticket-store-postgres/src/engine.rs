//! The PostgreSQL engine: every job is one transaction on a pooled
//! connection. Row locks and unique constraints, not process-local state,
//! keep concurrent instances correct.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use connecticket_domain::store::RowStream;
use connecticket_domain::StoreError;
use connecticket_store::{chunk_channel, Dialect, Engine, Job, StreamJob};
use sqlx::{Connection, Postgres, Transaction};

use crate::executor::{sql_error, PgExecutor};
use crate::lanes::Lanes;
use crate::read_pool::{Lease, ReadPool};

/// Reads see one snapshot and write nothing.
const READ_ONLY: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

pub struct PgEngine {
    pub(crate) lanes: Arc<Lanes>,
    pub(crate) readers: Arc<ReadPool>,
}

fn failed(error: sqlx::Error) -> StoreError {
    sql_error(error).into_store()
}

impl Engine for PgEngine {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn known_schema_version(&self) -> i64 {
        crate::migrate::MIGRATIONS.len() as i64
    }

    fn load(&self) -> connecticket_domain::store::StoreLoad {
        connecticket_domain::store::StoreLoad {
            connections: u64::from(self.lanes.open_connections() + self.readers.open_connections()),
            idle_connections: self.readers.idle_connections() as u64,
            queued_writes: self.lanes.queued() as u64,
        }
    }

    async fn close(&self) {
        // The lanes hold their connections until told to end.
        self.lanes.close();
        self.readers.close().await;
    }

    fn write_by<T: Send + 'static>(
        &self,
        deadline: Option<Instant>,
        job: impl Job<T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        let lanes = Arc::clone(&self.lanes);
        async move { lanes.write(deadline, job).await }
    }

    fn append_audit(
        &self,
        entry: connecticket_domain::audit::AuditEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let lanes = Arc::clone(&self.lanes);
        async move { lanes.append_audit(entry).await }
    }

    fn read<T: Send + 'static>(
        &self,
        job: impl Job<T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        let readers = Arc::clone(&self.readers);
        let read = tokio::spawn(async move {
            let mut lease = readers.lease().await?;
            let (outcome, ended) = match begin_read(&mut lease).await {
                Ok(mut tx) => {
                    let outcome = job(&mut PgExecutor::new(&mut tx)).await;
                    end_read(tx, outcome).await
                }
                Err(error) => (Err(error), false),
            };
            lease.settle(outcome, ended)
        });
        async move {
            read.await
                .map_err(|error| StoreError::backend("a read on PostgreSQL", error))?
        }
    }

    fn read_statement<T: Send + 'static>(
        &self,
        job: impl Job<T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        let readers = Arc::clone(&self.readers);
        async move {
            let mut lease = readers.lease().await?;
            let outcome = job(&mut PgExecutor::new(lease.connection()?)).await;
            // After an error the connection may be broken: it goes back
            // only if it still answers. (Abandoned mid-statement, the
            // lease is dropped and the connection closed.)
            let clean = outcome.is_ok() || lease.connection()?.ping().await.is_ok();
            lease.settle(outcome, clean)
        }
    }

    fn read_stream<T: Send + 'static>(&self, job: impl StreamJob<T>) -> RowStream<T> {
        let (sender, stream) = chunk_channel();
        let readers = Arc::clone(&self.readers);
        tokio::spawn(async move {
            let outcome = async {
                let mut lease = readers.lease().await?;
                let (outcome, ended) = match begin_read(&mut lease).await {
                    Ok(mut tx) => {
                        let outcome = job(&mut PgExecutor::new(&mut tx), &sender).await;
                        end_read(tx, outcome).await
                    }
                    Err(error) => (Err(error), false),
                };
                lease.settle(outcome, ended)
            }
            .await;
            if let Err(error) = outcome {
                sender.fail(error).await;
            }
        });
        stream
    }
}

/// Opens a read's transaction, one consistent snapshot, on a lent
/// connection.
async fn begin_read(lease: &mut Lease) -> Result<Transaction<'_, Postgres>, StoreError> {
    lease
        .connection()?
        .begin_with(READ_ONLY)
        .await
        .map_err(failed)
}

/// Ends a read's transaction either way; answers the read's outcome and
/// whether the transaction ended, so that its connection may go back to
/// the pool (otherwise the lease closes it).
async fn end_read<T>(
    tx: Transaction<'_, Postgres>,
    outcome: Result<T, StoreError>,
) -> (Result<T, StoreError>, bool) {
    let ended = match &outcome {
        Ok(_) => tx.commit().await,
        Err(_) => tx.rollback().await,
    };
    let clean = ended.is_ok();
    let outcome = outcome.and_then(|value| ended.map(|()| value).map_err(failed));
    (outcome, clean)
}
