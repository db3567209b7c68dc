//! Requests written byte by byte on a TCP connection, for what an HTTP
//! client library will not send: lying lengths, half-sent bodies, floods.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An answer read off the wire.
#[derive(Debug)]
pub struct RawAnswer {
    /// `HTTP/1.1 413 Payload Too Large`, or empty when the server closed
    /// without answering.
    pub status_line: String,
    pub head: String,
    pub body: String,
}

impl RawAnswer {
    pub fn status(&self) -> u16 {
        self.status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }

    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// `host:port` of a base URL.
pub fn address(base: &str) -> String {
    base.trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_owned()
}

/// Sends `head` and then `body` (ignoring a server that stops reading), and
/// reads the first answer; gives up after `wait`.
pub async fn exchange(base: &str, head: &str, body: &[u8], wait: Duration) -> RawAnswer {
    let mut stream = TcpStream::connect(address(base)).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    // The server may answer and close before taking the whole body.
    for chunk in body.chunks(64 * 1024) {
        if stream.write_all(chunk).await.is_err() {
            break;
        }
    }
    read_answer(&mut stream, wait).await
}

/// Reads one answer: its head, then as much body as `Content-Length` says
/// or until the server closes, within `wait`.
pub async fn read_answer(stream: &mut TcpStream, wait: Duration) -> RawAnswer {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let read = tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await;
        match read {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => bytes.extend_from_slice(&buffer[..n]),
        }
        if let Some(complete) = complete_length(&bytes) {
            bytes.truncate(complete);
            break;
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    RawAnswer {
        status_line: head.lines().next().unwrap_or_default().to_owned(),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// The length of the first whole answer in `bytes`, once it is all there.
fn complete_length(bytes: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(bytes);
    let end = text.find("\r\n\r\n")? + 4;
    let length = text[..end].lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    })?;
    (bytes.len() >= end + length).then_some(end + length)
}
