//! Where use cases get the time from. Production reads the system clock;
//! tests move a [`ManualClock`] to cross token lifetimes and retry windows
//! without waiting for them.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use crate::time::from_epoch;

pub trait Clock: Send + Sync + 'static {
    /// The current time, truncated to the second that the wire format shows,
    /// so that what is stored and what is answered never differ.
    fn now(&self) -> DateTime<Utc>;
}

pub type SharedClock = Arc<dyn Clock>;

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        from_epoch(Utc::now().timestamp())
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn starting_at(at: DateTime<Utc>) -> Arc<Self> {
        Arc::new(ManualClock {
            now: Mutex::new(from_epoch(at.timestamp())),
        })
    }

    /// Starts at the current system time.
    pub fn new() -> Arc<Self> {
        Self::starting_at(Utc::now())
    }

    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
    }

    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut now) = self.now.lock() {
            *now = from_epoch(at.timestamp());
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        match self.now.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::starting_at(from_epoch(1_000));
        assert_eq!(clock.now(), from_epoch(1_000));
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now(), from_epoch(1_090));
        clock.set(from_epoch(5));
        assert_eq!(clock.now(), from_epoch(5));
    }
}
