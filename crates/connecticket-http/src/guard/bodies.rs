//! The bodies the guard wraps: the request's, to learn whether the handler
//! read it all, and the response's, to hold the request's concurrency
//! permit until the answer is sent.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

/// Whether a handler read its request's body to the end.
#[derive(Clone, Default)]
pub(super) struct BodyRead(Arc<AtomicU64>);

/// Marks a body read to its end.
const FINISHED: u64 = u64::MAX;

impl BodyRead {
    pub(super) fn finished(&self) -> bool {
        self.0.load(Ordering::Acquire) == FINISHED
    }

    fn add(&self, bytes: usize, declared: Option<u64>) {
        let total = self.0.fetch_add(bytes as u64, Ordering::AcqRel) + bytes as u64;
        if declared == Some(total) {
            self.0.store(FINISHED, Ordering::Release);
        }
    }
}

/// The request body, counting what the handler reads of it.
pub(super) struct Tracked {
    inner: Body,
    read: BodyRead,
    declared: Option<u64>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.read.add(data.len(), self.declared);
                }
            }
            Poll::Ready(None) => self.read.0.store(FINISHED, Ordering::Release),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Tracked {
    pub(super) fn new(inner: Body, read: BodyRead, declared: Option<u64>) -> Self {
        Tracked {
            inner,
            read,
            declared,
        }
    }
}

/// A response body holding something (the request's concurrency permit)
/// until hyper drops it: when the last byte is written, or the connection
/// is cut.
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
