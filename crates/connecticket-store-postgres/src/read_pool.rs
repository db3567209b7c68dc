//! Connections for reads, lent without a round trip of their own.
//!
//! sqlx's pool pings a connection when it lends it and again, always, when
//! it takes it back: two round trips around a one-statement read that
//! needs one, and on loopback a round trip costs both processes a wakeup.
//! This pool lends its connections as they are. One whose read ended
//! cleanly goes back as it is; one whose read failed or was abandoned
//! mid-statement is closed, since its state is unknown. Like PgBouncer's
//! `server_check_delay`, only a connection that sat idle for a while is
//! checked before it is lent again: that is when the database may have
//! gone away (a restart) without anyone noticing.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use connecticket_domain::StoreError;
use sqlx::{Connection, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::connector::Connector;

/// Idle longer than this, a connection is closed instead (as sqlx's pool).
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// A connection older than this is closed when it comes back, so that
/// the backends' memory is returned now and then (as sqlx's pool).
const MAX_LIFETIME: Duration = Duration::from_secs(1800);

struct Idle {
    conn: PgConnection,
    born: Born,
    since: Instant,
}

pub(crate) struct ReadPool {
    connector: Arc<Connector>,
    idle: Mutex<Vec<Idle>>,
    /// One per connection lent (or being opened for a read).
    permits: Arc<Semaphore>,
    size: usize,
    acquire_timeout: Duration,
    /// An idle connection is checked before it is lent after this long.
    check_after_idle: Duration,
}

impl ReadPool {
    /// A pool of at most `size` connections, opened as reads need them.
    pub(crate) fn new(
        connector: Arc<Connector>,
        size: u32,
        acquire_timeout: Duration,
        check_after_idle: Duration,
    ) -> Self {
        ReadPool {
            connector,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1) as usize)),
            size: size.max(1) as usize,
            acquire_timeout,
            check_after_idle,
        }
    }

    /// Connections open: those lent and those idle. (Derived rather than
    /// counted, so that a lease abandoned at any await cannot skew it.)
    pub(crate) fn open_connections(&self) -> u32 {
        let lent = self.size.saturating_sub(self.permits.available_permits());
        u32::try_from(lent + self.idle_connections()).unwrap_or(u32::MAX)
    }

    pub(crate) fn idle_connections(&self) -> usize {
        self.idle_list().len()
    }

    fn idle_list(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // The list is only pushed to and popped from: a panic elsewhere
        // cannot leave it half-changed.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lends a connection, waiting up to the acquire timeout for one.
    pub(crate) async fn lease(self: &Arc<Self>) -> Result<Lease, StoreError> {
        let deadline = tokio::time::Instant::now() + self.acquire_timeout;
        let permit = tokio::time::timeout_at(deadline, Arc::clone(&self.permits).acquire_owned())
            .await
            .map_err(|_| {
                StoreError::Unavailable(format!(
                    "every PostgreSQL connection for reads stayed busy for {:?}",
                    self.acquire_timeout
                ))
            })?
            .map_err(|_| StoreError::Unavailable("the PostgreSQL pool is closed".to_owned()))?;
        loop {
            let taken = self.idle_list().pop();
            let Some(mut idle) = taken else { break };
            let idle_for = idle.since.elapsed();
            // Opened before a connection was found broken: its server may
            // be gone, or a standby now.
            let suspect = idle.born.generation < self.connector.generation();
            if suspect || idle_for > IDLE_TIMEOUT || idle.born.opened.elapsed() > MAX_LIFETIME {
                self.retire(idle.conn);
                continue;
            }
            if idle_for >= self.check_after_idle && idle.conn.ping().await.is_err() {
                self.connector.lost(idle.born.generation);
                self.retire(idle.conn);
                continue;
            }
            return Ok(Lease::new(self, idle.conn, idle.born, permit));
        }
        let generation = self.connector.generation();
        let conn = tokio::time::timeout_at(deadline, self.connector.connect())
            .await
            .map_err(|_| {
                StoreError::Unreachable(format!(
                    "no PostgreSQL connection for reads within {:?}",
                    self.acquire_timeout
                ))
            })??;
        let born = Born {
            opened: Instant::now(),
            generation,
        };
        Ok(Lease::new(self, conn, born, permit))
    }

    fn give_back(&self, conn: PgConnection, born: Born) {
        if self.permits.is_closed() || born.opened.elapsed() > MAX_LIFETIME {
            self.retire(conn);
            return;
        }
        self.idle_list().push(Idle {
            conn,
            born,
            since: Instant::now(),
        });
    }

    /// Closes a connection politely if a runtime is there to do it, and
    /// at least drops its socket.
    fn retire(&self, conn: PgConnection) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = conn.close().await;
            });
        }
    }

    /// Lends nothing more and closes the idle connections; lent ones are
    /// closed as they come back.
    pub(crate) async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle_list());
        for idle in idle {
            let _ = idle.conn.close().await;
        }
    }
}

/// A lent connection. Dropped without `release`, it is closed: a read that
/// failed or was abandoned may have left it mid-statement or mid-transaction.
/// When a connection was opened, and in which of the connector's
/// generations.
#[derive(Clone, Copy)]
struct Born {
    opened: Instant,
    generation: u64,
}

pub(crate) struct Lease {
    conn: Option<PgConnection>,
    born: Born,
    pool: Arc<ReadPool>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    fn new(
        pool: &Arc<ReadPool>,
        conn: PgConnection,
        born: Born,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        Lease {
            conn: Some(conn),
            born,
            pool: Arc::clone(pool),
            _permit: permit,
        }
    }

    pub(crate) fn connection(&mut self) -> Result<&mut PgConnection, StoreError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::Unavailable("a released connection was used".to_owned()))
    }

    /// Gives the connection back for the next read: its read ended cleanly.
    pub(crate) fn release(mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.give_back(conn, self.born);
        }
    }

    /// Settles the lease after a read: a clean end gives the connection
    /// back; a lost connection tells the connector, so that the others
    /// opened with it are checked; anything else closes it.
    pub(crate) fn settle<T>(
        self,
        outcome: Result<T, StoreError>,
        clean: bool,
    ) -> Result<T, StoreError> {
        match &outcome {
            Err(error) if connecticket_store::is_disconnected(error) => {
                self.pool.connector.lost(self.born.generation);
            }
            _ if clean => self.release(),
            _ => {}
        }
        outcome.map_err(connecticket_store::unreachable_if_disconnected)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.retire(conn);
        }
    }
}
