//! A strict reader beside hyper's: hyper (httparse) accepts a bare line
//! feed where HTTP/1.1 says CR LF, as RFC 9112 allows a recipient to. A
//! proxy in front that reads such a head differently is how requests are
//! smuggled, so this server refuses them: a watcher follows the framing of
//! the requests on a connection (heads, then bodies by `Content-Length` or
//! chunked coding) as their bytes arrive, and flags the connection when a
//! head or chunk line ends with a bare LF. The guard answers 400 and closes
//! a flagged connection.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Whether a connection's requests broke the CR LF rule; shared by the
/// watcher and every request of the connection.
#[derive(Debug, Clone, Default)]
pub struct StrictFraming(Arc<AtomicBool>);

impl StrictFraming {
    pub fn violated(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn flag(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Where the watcher is in the stream of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    /// This many body bytes are still to come.
    Body(u64),
    ChunkSize,
    ChunkData(u64),
    /// The CR LF after a chunk's data; how many of its bytes were seen.
    ChunkEnd(u8),
    Trailers,
    /// Framing the watcher cannot follow (hyper refuses it on its own):
    /// nothing more is checked on this connection.
    Lost,
}

/// Follows the framing of a connection's requests, byte by byte in heads
/// and lines, skipping bodies whole.
#[derive(Debug)]
struct Scanner {
    phase: Phase,
    line: Vec<u8>,
    /// The last byte seen in a line-oriented phase.
    previous: u8,
    /// Whether the current head has its request line yet.
    started: bool,
    content_length: Option<u64>,
    chunked: bool,
    /// Longest line followed; beyond it hyper refuses the head anyway.
    max_line: usize,
}

impl Scanner {
    fn new(max_line: usize) -> Self {
        Scanner {
            phase: Phase::Head,
            line: Vec::new(),
            previous: 0,
            started: false,
            content_length: None,
            chunked: false,
            max_line,
        }
    }

    /// Reads `bytes`; false once they broke the CR LF rule.
    fn feed(&mut self, mut bytes: &[u8]) -> bool {
        while !bytes.is_empty() {
            match self.phase {
                Phase::Lost => return true,
                Phase::Body(left) | Phase::ChunkData(left) => {
                    let taken = usize::try_from(left).unwrap_or(usize::MAX).min(bytes.len());
                    bytes = &bytes[taken..];
                    let left = left - taken as u64;
                    self.phase = match (self.phase, left) {
                        (Phase::Body(_), 0) => Phase::Head,
                        (Phase::Body(_), left) => Phase::Body(left),
                        (_, 0) => Phase::ChunkEnd(0),
                        (_, left) => Phase::ChunkData(left),
                    };
                }
                Phase::ChunkEnd(seen) => {
                    let expected = if seen == 0 { b'\r' } else { b'\n' };
                    if bytes[0] != expected {
                        // A malformed chunk: hyper refuses the body.
                        self.phase = Phase::Lost;
                        return bytes[0] != b'\n';
                    }
                    bytes = &bytes[1..];
                    self.phase = if seen == 0 {
                        Phase::ChunkEnd(1)
                    } else {
                        Phase::ChunkSize
                    };
                }
                Phase::Head | Phase::ChunkSize | Phase::Trailers => {
                    let byte = bytes[0];
                    bytes = &bytes[1..];
                    if !self.line_byte(byte) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// One byte of a head, chunk-size or trailer line; false on a bare LF.
    fn line_byte(&mut self, byte: u8) -> bool {
        let previous = std::mem::replace(&mut self.previous, byte);
        if byte != b'\n' {
            if byte != b'\r' {
                if self.line.len() >= self.max_line {
                    self.phase = Phase::Lost;
                    return true;
                }
                self.line.push(byte);
            }
            return true;
        }
        if previous != b'\r' {
            self.phase = Phase::Lost;
            return false;
        }
        let line = std::mem::take(&mut self.line);
        self.phase = match self.phase {
            Phase::Head => self.head_line(&line),
            Phase::ChunkSize => chunk_size(&line).map_or(Phase::Lost, |size| match size {
                0 => Phase::Trailers,
                size => Phase::ChunkData(size),
            }),
            Phase::Trailers if line.is_empty() => Phase::Head,
            other => other,
        };
        true
    }

    fn head_line(&mut self, line: &[u8]) -> Phase {
        if line.is_empty() {
            if !self.started {
                // Empty lines before a request line are ignored (RFC 9112).
                return Phase::Head;
            }
            let phase = if self.chunked {
                Phase::ChunkSize
            } else {
                match self.content_length {
                    Some(0) | None => Phase::Head,
                    Some(length) => Phase::Body(length),
                }
            };
            self.started = false;
            self.content_length = None;
            self.chunked = false;
            return phase;
        }
        if !self.started {
            self.started = true;
            return Phase::Head;
        }
        let text = String::from_utf8_lossy(line);
        if let Some((name, value)) = text.split_once(':') {
            let name = name.trim();
            if name.eq_ignore_ascii_case("content-length") {
                match value.trim().parse() {
                    Ok(length) => self.content_length = Some(length),
                    Err(_) => return Phase::Lost,
                }
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                self.chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
                if !self.chunked {
                    return Phase::Lost;
                }
            }
        }
        Phase::Head
    }
}

/// A chunk-size line: hexadecimal digits, then optional extensions.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(line).ok()?;
    let digits = text.split(';').next()?.trim();
    u64::from_str_radix(digits, 16).ok()
}

/// A connection's stream, its incoming bytes watched by a [`Scanner`].
pub(crate) struct FramingWatch<IO> {
    inner: IO,
    scanner: Scanner,
    framing: StrictFraming,
}

impl<IO> FramingWatch<IO> {
    pub(crate) fn new(inner: IO, framing: StrictFraming, max_line: usize) -> Self {
        FramingWatch {
            inner,
            scanner: Scanner::new(max_line),
            framing,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for FramingWatch<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let this = &mut *self;
            if !this.scanner.feed(&buf.filled()[before..]) {
                this.framing.flag();
            }
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for FramingWatch<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(stream: &[u8]) -> bool {
        Scanner::new(8192).feed(stream)
    }

    /// Fed one byte at a time, as a slow client sends them.
    fn strict_bytewise(stream: &[u8]) -> bool {
        let mut scanner = Scanner::new(8192);
        stream
            .iter()
            .all(|byte| scanner.feed(std::slice::from_ref(byte)))
    }

    #[test]
    fn crlf_requests_with_bodies_of_any_framing_pass() {
        let stream = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\
            POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\na\nb\nc\
            POST /y HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
            3;ext=1\r\n\n\n\n\r\n0\r\nTrailer: x\r\n\r\n\
            GET /z HTTP/1.1\r\nHost: a\r\n\r\n";
        assert!(strict(stream));
        assert!(strict_bytewise(stream));
    }

    #[test]
    fn a_bare_lf_in_any_head_is_caught() {
        assert!(!strict(b"GET / HTTP/1.1\nHost: a\r\n\r\n"));
        assert!(!strict(b"GET / HTTP/1.1\r\nHost: a\n\r\n"));
        assert!(!strict_bytewise(b"GET / HTTP/1.1\r\nHost: a\r\n\n"));
        // The second request of a connection, after a body with LFs in it.
        let second = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n\n\n\n\
            GET / HTTP/1.1\nHost: a\n\n";
        assert!(!strict(second));
    }

    #[test]
    fn a_bare_lf_in_chunked_framing_is_caught() {
        let stream =
            b"POST /y HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n";
        assert!(!strict(stream));
    }
}
