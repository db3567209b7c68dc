//! The PostgreSQL engine: every job is one transaction on a pooled
//! connection. Row locks and unique constraints, not process-local state,
//! keep concurrent instances correct.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use connecticket_domain::store::RowStream;
use connecticket_domain::StoreError;
use connecticket_store::{chunk_channel, Dialect, Engine, Job, StreamJob};
use sqlx::PgPool;

use crate::executor::{sql_error, PgExecutor};
use crate::lanes::Lanes;

/// Reads see one snapshot and write nothing.
const READ_ONLY: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

pub struct PgEngine {
    pub(crate) pool: PgPool,
    pub(crate) lanes: Arc<Lanes>,
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
            connections: u64::from(self.pool.size()),
            idle_connections: self.pool.num_idle() as u64,
            queued_writes: self.lanes.queued() as u64,
        }
    }

    async fn close(&self) {
        // The lanes hold their connections until told to end.
        self.lanes.close();
        self.pool.close().await;
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
        let pool = self.pool.clone();
        // The transaction runs on a task of its own, to its end, even when
        // its caller stops waiting: sqlx's `begin` abandoned while its
        // BEGIN is on the wire would give the connection back to the pool
        // inside a transaction nothing ends (sqlx#4393), and the next
        // caller would read from a stale snapshot.
        let read = tokio::spawn(async move {
            let mut tx = pool.begin_with(READ_ONLY).await.map_err(failed)?;
            let value = job(&mut PgExecutor::new(&mut tx)).await?;
            tx.commit().await.map_err(failed)?;
            Ok(value)
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
        let pool = self.pool.clone();
        async move {
            let mut conn = pool.acquire().await.map_err(failed)?;
            job(&mut PgExecutor::new(&mut conn)).await
        }
    }

    fn read_stream<T: Send + 'static>(&self, job: impl StreamJob<T>) -> RowStream<T> {
        let (sender, stream) = chunk_channel();
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let outcome = async {
                let mut tx = pool.begin_with(READ_ONLY).await.map_err(failed)?;
                job(&mut PgExecutor::new(&mut tx), &sender).await?;
                tx.commit().await.map_err(failed)
            }
            .await;
            if let Err(error) = outcome {
                sender.fail(error).await;
            }
        });
        stream
    }
}
