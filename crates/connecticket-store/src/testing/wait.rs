//! Waiting for something that happens on its own time (a background task,
//! another process) without sleeping blindly: poll with a deadline, and
//! fail loudly when it passes.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How long any test waits for anything before it fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Polls `check` until it answers `Some`, and returns that; panics naming
/// `what` once the deadline passes.
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(DEADLINE, what, check).await
}

/// The same, for what is known to take longer than [`DEADLINE`] (a lease
/// that has to run out first).
pub async fn eventually_within<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}
