//! Read connections: a small pool of read-only connections. A read runs
//! right where it is asked for (a primary-key lookup takes microseconds:
//! a hop to another thread would cost more than the read), each job in one
//! read transaction so that it sees one snapshot. Long jobs that stream
//! (exports) run on the blocking pool instead.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use connecticket_domain::StoreError;
use rusqlite::Connection;

use crate::connection::open_reader;
use crate::executor::{run_cached, sql_error};

type Result<T> = std::result::Result<T, StoreError>;

pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Idle connections kept for reuse; more are opened when needed.
    keep: usize,
    /// Connections reading right now.
    busy: AtomicUsize,
}

impl Readers {
    pub(crate) fn new(path: PathBuf, keep: usize) -> Self {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
            keep: keep.max(1),
            busy: AtomicUsize::new(0),
        }
    }

    /// `(reading, idle)` connections.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let idle = self.idle.lock().map_or(0, |idle| idle.len());
        (self.busy.load(Ordering::Relaxed), idle)
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
            if idle.len() < self.keep {
                idle.push(connection);
            }
        }
    }

    /// Runs `work` in a read transaction on a pooled connection, here.
    pub(crate) fn read<T>(&self, work: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut connection = self.checkout()?;
        self.busy.fetch_add(1, Ordering::Relaxed);
        let outcome = in_read_transaction(&mut connection, work);
        self.busy.fetch_sub(1, Ordering::Relaxed);
        self.checkin(connection);
        outcome
    }
}

fn in_read_transaction<T>(
    connection: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    run_cached(connection, "BEGIN").map_err(|e| sql_error(e).into_store())?;
    let outcome = work(connection);
    // A read changes nothing: ending it either way only releases the
    // snapshot.
    let _ = run_cached(
        connection,
        if outcome.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        },
    );
    outcome
}
