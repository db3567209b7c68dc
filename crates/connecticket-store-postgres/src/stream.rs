//! Streaming query results from a task that owns a pooled connection.

use futures::TryStreamExt;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::internal;
use connecticket_domain::store::{RowStream, STREAM_CHUNK_ROWS};
use connecticket_domain::StoreError;

/// A value bound to a query built at run time.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Int(i64),
    Text(String),
}

pub(crate) fn bind_all<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    binds: &'q [Bind],
) -> Query<'q, Postgres, PgArguments> {
    for bind in binds {
        query = match bind {
            Bind::Int(value) => query.bind(*value),
            Bind::Text(value) => query.bind(value.as_str()),
        };
    }
    query
}

pub(crate) type Sender<T> = mpsc::Sender<Result<Vec<T>, StoreError>>;

/// Sends `rows` on in chunks; returns false once the receiver has gone.
pub(crate) async fn forward<T, S>(
    mut rows: S,
    map: fn(&PgRow) -> Result<T, sqlx::Error>,
    sender: &Sender<T>,
) -> Result<bool, StoreError>
where
    S: futures::Stream<Item = Result<PgRow, sqlx::Error>> + Unpin,
{
    let mut chunk = Vec::with_capacity(STREAM_CHUNK_ROWS);
    while let Some(row) = rows.try_next().await.map_err(internal)? {
        chunk.push(map(&row).map_err(internal)?);
        if chunk.len() == STREAM_CHUNK_ROWS {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(STREAM_CHUNK_ROWS));
            if sender.send(Ok(full)).await.is_err() {
                return Ok(false);
            }
        }
    }
    if !chunk.is_empty() && sender.send(Ok(chunk)).await.is_err() {
        return Ok(false);
    }
    Ok(true)
}

/// Runs one query and streams its rows.
pub(crate) fn rows<T: Send + 'static>(
    pool: PgPool,
    sql: String,
    binds: Vec<Bind>,
    map: fn(&PgRow) -> Result<T, sqlx::Error>,
) -> RowStream<T> {
    let (sender, receiver) = mpsc::channel(2);
    tokio::spawn(async move {
        let outcome = async {
            let mut conn = pool.acquire().await.map_err(internal)?;
            let query = bind_all(sqlx::query(&sql), &binds);
            forward(query.fetch(&mut *conn), map, &sender).await
        }
        .await;
        if let Err(error) = outcome {
            let _ = sender.send(Err(error)).await;
        }
    });
    Box::pin(ReceiverStream::new(receiver))
}
