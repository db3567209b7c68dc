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

/// A connection to the server at `base` made from the address `local`
/// (any 127.x.y.z on loopback): a client the server tells apart from others.
pub async fn connect_from(base: &str, local: std::net::IpAddr) -> TcpStream {
    let socket = match local {
        std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    }
    .expect("socket");
    socket
        .bind(std::net::SocketAddr::new(local, 0))
        .expect("bind");
    let server = address(base).parse().expect("the server's socket address");
    socket.connect(server).await.expect("connect")
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

/// A client that asks for `target` (with `headers`) and stops reading once
/// the answer's head has arrived. Its receive buffer is small, so a long
/// answer soon leaves the server nowhere to write. Dropping the stream
/// closes the connection.
pub struct StalledReader {
    pub stream: TcpStream,
    /// The answer's head, as far as it was read.
    pub head: String,
}

impl StalledReader {
    pub async fn start(base: &str, target: &str, headers: &[(&str, &str)]) -> Self {
        let peer = tokio::net::lookup_host(address(base))
            .await
            .expect("resolve")
            .next()
            .expect("an address");
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("receive buffer");
        let mut stream = socket.connect(peer).await.expect("connect");
        let mut request = format!("GET {target} HTTP/1.1\r\nHost: {}\r\n", address(base));
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("write the request");
        let mut bytes = Vec::new();
        let mut buffer = [0u8; 1024];
        while !bytes.windows(4).any(|window| window == b"\r\n\r\n") {
            let read = stream.read(&mut buffer).await.expect("read the head");
            assert!(read > 0, "the server closed before answering");
            bytes.extend_from_slice(&buffer[..read]);
        }
        let text = String::from_utf8_lossy(&bytes);
        let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
        StalledReader { stream, head }
    }

    /// A header of the answer's head (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// Reads the rest of the answer until the server ends the connection
    /// (or `wait` passes), and answers what came.
    pub async fn read_rest(&mut self, wait: Duration) -> Vec<u8> {
        let mut rest = Vec::new();
        let mut buffer = vec![0u8; 64 * 1024];
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Ok(read)) =
            tokio::time::timeout_at(deadline, self.stream.read(&mut buffer)).await
        {
            if read == 0 {
                break;
            }
            rest.extend_from_slice(&buffer[..read]);
        }
        rest
    }

    /// Reads whatever is left until the server ends the connection; true if
    /// it did so within `wait`.
    pub async fn cut_within(&mut self, wait: Duration) -> bool {
        let mut buffer = vec![0u8; 64 * 1024];
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut buffer)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
            }
        }
    }
}
