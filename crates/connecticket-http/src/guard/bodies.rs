//! The bodies the guard wraps: the request's, to hold it to a pace and to
//! the memory budget and to learn whether the handler read it all; and the
//! response's, to hold what the request took until the answer is sent.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use super::budgets::KeyedPermit;
use connecticket_domain::model::ProviderId;

/// Bytes of each body that need no share of the memory budget: the
/// concurrency budgets bound them already.
pub(crate) const FREE_BODY_BYTES: u64 = 64 * 1024;

/// Why a body stopped before its end, for the handler to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStop {
    /// Nothing arrived for the idle timeout.
    Stalled,
    /// The request's deadline passed with the body still arriving.
    Deadline,
    /// The memory budget for bodies is spent.
    Busy,
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?}")]
struct Stopped(BodyStop);

/// What one request holds, shared by its body (which adds to it as bytes
/// arrive), its handler (which adds the provider's slot) and its answer
/// (which keeps it all until the last byte is sent).
#[derive(Default)]
pub struct RequestHold {
    read: AtomicU64,
    stop: AtomicU8,
    body_bytes: Mutex<Vec<OwnedSemaphorePermit>>,
    provider: Mutex<Option<KeyedPermit<ProviderId>>>,
}

/// Marks a body read to its end.
const FINISHED: u64 = u64::MAX;

impl RequestHold {
    pub(crate) fn finished(&self) -> bool {
        self.read.load(Ordering::Acquire) == FINISHED
    }

    /// Why the body stopped early, if it did.
    pub fn stop(&self) -> Option<BodyStop> {
        match self.stop.load(Ordering::Acquire) {
            1 => Some(BodyStop::Stalled),
            2 => Some(BodyStop::Busy),
            3 => Some(BodyStop::Deadline),
            _ => None,
        }
    }

    fn stopped(&self, why: BodyStop) -> axum::Error {
        let code = match why {
            BodyStop::Stalled => 1,
            BodyStop::Busy => 2,
            BodyStop::Deadline => 3,
        };
        self.stop.store(code, Ordering::Release);
        axum::Error::new(Stopped(why))
    }

    pub(crate) fn keep_provider_slot(&self, slot: KeyedPermit<ProviderId>) {
        *self.provider.lock().unwrap_or_else(PoisonError::into_inner) = Some(slot);
    }

    /// Adds `bytes` to what was read; answers the total.
    fn add(&self, bytes: usize, declared: Option<u64>) -> u64 {
        let total = self.read.fetch_add(bytes as u64, Ordering::AcqRel) + bytes as u64;
        if declared == Some(total) {
            self.read.store(FINISHED, Ordering::Release);
        }
        total
    }
}

/// How a request body must arrive.
pub(crate) struct Pace {
    /// Longest pause between two pieces of the body.
    pub idle: Duration,
    /// When the whole body must have arrived.
    pub deadline: Instant,
    /// The memory budget for bodies, in KiB.
    pub budget: Arc<Semaphore>,
}

/// The request body, held to its pace and its share of the memory budget,
/// counting what the handler reads of it.
pub(super) struct Tracked {
    inner: Body,
    hold: Arc<RequestHold>,
    declared: Option<u64>,
    pace: Pace,
    timer: Pin<Box<Sleep>>,
    /// KiB of the budget this body holds.
    reserved_kib: u64,
    done: bool,
}

impl Tracked {
    pub(super) fn new(
        inner: Body,
        hold: Arc<RequestHold>,
        declared: Option<u64>,
        pace: Pace,
    ) -> Self {
        let first = (Instant::now() + pace.idle).min(pace.deadline);
        Tracked {
            inner,
            hold,
            declared,
            timer: Box::pin(tokio::time::sleep_until(first)),
            pace,
            reserved_kib: 0,
            done: false,
        }
    }

    /// Reserves budget for a body of `total` bytes so far.
    fn reserve(&mut self, total: u64) -> Result<(), BodyStop> {
        let needed_kib = total.saturating_sub(FREE_BODY_BYTES).div_ceil(1024);
        if needed_kib <= self.reserved_kib {
            return Ok(());
        }
        let more = u32::try_from(needed_kib - self.reserved_kib).map_err(|_| BodyStop::Busy)?;
        let permit = Arc::clone(&self.pace.budget)
            .try_acquire_many_owned(more)
            .map_err(|_| BodyStop::Busy)?;
        self.hold
            .body_bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(permit);
        self.reserved_kib = needed_kib;
        Ok(())
    }
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let total = self.hold.add(data.len(), self.declared);
                    if let Err(why) = self.reserve(total) {
                        self.done = true;
                        return Poll::Ready(Some(Err(self.hold.stopped(why))));
                    }
                }
                let next = (Instant::now() + self.pace.idle).min(self.pace.deadline);
                self.timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                self.hold.read.store(FINISHED, Ordering::Release);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error))),
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.done = true;
                    let why = match Instant::now() >= self.pace.deadline {
                        true => BodyStop::Deadline,
                        false => BodyStop::Stalled,
                    };
                    Poll::Ready(Some(Err(self.hold.stopped(why))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body holding something (the request's budgets) until hyper
/// drops it: when the last byte is written, or the connection is cut.
pub(super) struct Holding<T> {
    inner: Body,
    _held: T,
}

impl<T> Holding<T> {
    pub(super) fn new(inner: Body, held: T) -> Self {
        Holding { inner, _held: held }
    }
}

impl<T: Unpin + Send + 'static> HttpBody for Holding<T> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn pace(idle: Duration, budget_kib: usize) -> Pace {
        Pace {
            idle,
            deadline: Instant::now() + Duration::from_secs(3600),
            budget: Arc::new(Semaphore::new(budget_kib)),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stops_arriving_is_cut_off_after_the_idle_time() {
        let (sender, receiver) =
            futures::channel::mpsc::unbounded::<Result<Bytes, std::io::Error>>();
        let body = Body::from_stream(receiver);
        let hold = Arc::new(RequestHold::default());
        let tracked = Tracked::new(
            body,
            Arc::clone(&hold),
            Some(100),
            pace(Duration::from_secs(5), 1024),
        );
        sender
            .unbounded_send(Ok(Bytes::from_static(b"0123456789")))
            .expect("send");
        let outcome = tokio::spawn(async move { Body::new(tracked).collect().await });
        tokio::time::advance(Duration::from_secs(6)).await;
        let result = outcome.await.expect("task");
        drop(sender);
        assert!(result.is_err(), "the stalled body ended without an error");
        assert_eq!(hold.stop(), Some(BodyStop::Stalled));
    }

    #[tokio::test]
    async fn bodies_beyond_the_memory_budget_are_refused() {
        let budget = pace(Duration::from_secs(5), 100);
        let shared = Arc::clone(&budget.budget);
        let hold = Arc::new(RequestHold::default());
        let big = Body::from(vec![0u8; (FREE_BODY_BYTES as usize) + 200 * 1024]);
        let result = Body::new(Tracked::new(big, Arc::clone(&hold), None, budget))
            .collect()
            .await;
        assert!(result.is_err());
        assert_eq!(hold.stop(), Some(BodyStop::Busy));
        let small = Body::from(vec![0u8; (FREE_BODY_BYTES as usize) + 50 * 1024]);
        let hold = Arc::new(RequestHold::default());
        let pace = Pace {
            idle: Duration::from_secs(5),
            deadline: Instant::now() + Duration::from_secs(60),
            budget: Arc::clone(&shared),
        };
        let body = Body::new(Tracked::new(small, Arc::clone(&hold), None, pace))
            .collect()
            .await
            .expect("within the budget");
        assert_eq!(
            body.to_bytes().len(),
            (FREE_BODY_BYTES as usize) + 50 * 1024
        );
        assert_eq!(
            shared.available_permits(),
            50,
            "held until the request ends"
        );
        drop(hold);
        assert_eq!(
            shared.available_permits(),
            100,
            "given back with the request"
        );
    }
}
