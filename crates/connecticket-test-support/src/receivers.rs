//! Real receivers for notifications, on loopback: an SMTP server that
//! keeps what it is sent, and an HTTP endpoint in the Twilio Messages form.
//! Either can be told to refuse for a while, as real ones do.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body, as sent after DATA.
    pub data: String,
}

impl Mail {
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    current.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((key, rest)) = line.split_once(':') {
                if key.eq_ignore_ascii_case(name) {
                    value = Some(rest.trim().to_owned());
                }
            }
        }
        value
    }

    pub fn body(&self) -> String {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct MailState {
    mails: Mutex<Vec<Mail>>,
    /// DATA answered 451 while this is above 0.
    refuse: AtomicUsize,
    /// Recipients answered 550.
    unknown: Mutex<BTreeSet<String>>,
}

/// An SMTP server on loopback (no TLS, no AUTH: a local relay).
#[derive(Clone)]
pub struct MailCatcher {
    pub url: String,
    state: Arc<MailState>,
}

impl MailCatcher {
    pub async fn start() -> MailCatcher {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let url = format!("smtp://{}", listener.local_addr().expect("address"));
        let state = Arc::new(MailState::default());
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, Arc::clone(&shared)));
            }
        });
        MailCatcher { url, state }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.state.mails.lock().expect("mails").clone()
    }

    /// The next `count` messages are refused with 451 at DATA.
    pub fn refuse_next(&self, count: usize) {
        self.state.refuse.store(count, Ordering::SeqCst);
    }

    /// Mail to this address is refused with 550 at RCPT.
    pub fn reject_recipient(&self, address: &str) {
        self.state
            .unknown
            .lock()
            .expect("unknown")
            .insert(address.to_ascii_lowercase());
    }
}

async fn session(socket: tokio::net::TcpStream, state: Arc<MailState>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut from = String::new();
    let mut to = Vec::new();
    let reply = |text: &str| format!("{text}\r\n");
    if write
        .write_all(reply("220 catcher ESMTP").as_bytes())
        .await
        .is_err()
    {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") {
            "250-catcher\r\n250 8BITMIME".to_owned()
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            "250 OK".to_owned()
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            "250 OK".to_owned()
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&line);
            "250 OK".to_owned()
        } else if upper.starts_with("RCPT TO:") {
            let recipient = address(&line);
            let unknown = state
                .unknown
                .lock()
                .expect("unknown")
                .contains(&recipient.to_ascii_lowercase());
            if unknown {
                "550 5.1.1 no such mailbox".to_owned()
            } else {
                to.push(recipient);
                "250 OK".to_owned()
            }
        } else if upper.starts_with("DATA") {
            let refused = state
                .refuse
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if refused {
                "451 4.3.0 try again later".to_owned()
            } else {
                if write
                    .write_all(reply("354 go ahead").as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    let line = line
                        .strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line);
                    data.push_str(line);
                    data.push_str("\r\n");
                }
                state.mails.lock().expect("mails").push(Mail {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
                "250 2.0.0 queued".to_owned()
            }
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(reply("221 bye").as_bytes()).await;
            return;
        } else {
            "502 command not implemented".to_owned()
        };
        if write.write_all(reply(&answer).as_bytes()).await.is_err() {
            return;
        }
    }
}

/// `<a@b>` out of `MAIL FROM:<a@b> SIZE=…`.
fn address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

/// One SMS as the gateway received it.
#[derive(Debug, Clone)]
pub struct Sms {
    pub to: String,
    pub from: String,
    pub body: String,
    pub idempotency_token: Option<String>,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct SmsState {
    received: Mutex<Vec<Sms>>,
    /// Answered 500 while this is above 0.
    fail: AtomicUsize,
    /// Numbers answered 400 (as a gateway does for an invalid `To`).
    invalid: Mutex<BTreeSet<String>>,
}

/// An HTTP endpoint in the Twilio Messages form, on loopback.
#[derive(Clone)]
pub struct SmsReceiver {
    /// With test credentials: `http://AC_TEST:secret@127.0.0.1:PORT/Messages.json`.
    pub url: String,
    state: Arc<SmsState>,
}

impl SmsReceiver {
    pub async fn start() -> SmsReceiver {
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode};
        use axum::routing::post;
        use axum::{Form, Json};

        async fn receive(
            State(state): State<Arc<SmsState>>,
            headers: HeaderMap,
            Form(form): Form<std::collections::HashMap<String, String>>,
        ) -> (StatusCode, Json<serde_json::Value>) {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let failing = state
                .fail
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(serde_json::json!({"message": "unavailable"})),
                );
            }
            let to = form.get("To").cloned().unwrap_or_default();
            if state.invalid.lock().expect("invalid").contains(&to) {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(serde_json::json!({"code": 21211})),
                );
            }
            let mut received = state.received.lock().expect("received");
            received.push(Sms {
                to,
                from: form.get("From").cloned().unwrap_or_default(),
                body: form.get("Body").cloned().unwrap_or_default(),
                idempotency_token: header("i-twilio-idempotency-token"),
                authorization: header("authorization"),
            });
            let sid = format!("SM{:032}", received.len());
            (
                StatusCode::CREATED,
                Json(serde_json::json!({"sid": sid, "status": "queued"})),
            )
        }

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sms");
        let address = listener.local_addr().expect("address");
        let state = Arc::new(SmsState::default());
        let app = axum::Router::new()
            .route("/Messages.json", post(receive))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        SmsReceiver {
            url: format!("http://AC_TEST:secret@{address}/Messages.json"),
            state,
        }
    }

    pub fn received(&self) -> Vec<Sms> {
        self.state.received.lock().expect("received").clone()
    }

    /// The next `count` requests are answered 500.
    pub fn fail_next(&self, count: usize) {
        self.state.fail.store(count, Ordering::SeqCst);
    }

    /// Messages to this number are answered 400.
    pub fn reject_number(&self, number: &str) {
        self.state
            .invalid
            .lock()
            .expect("invalid")
            .insert(number.to_owned());
    }

    /// Messages to this number are accepted again.
    pub fn accept_number(&self, number: &str) {
        self.state.invalid.lock().expect("invalid").remove(number);
    }
}

/// Notification settings that send to these receivers at once and retry
/// within milliseconds; escalations are looked for every 50 ms.
pub fn transports(
    mail: Option<&MailCatcher>,
    sms: Option<&SmsReceiver>,
) -> connecticket::server::NotifyConfig {
    use std::time::Duration;
    connecticket::server::NotifyConfig {
        smtp: mail.map(|mail| connecticket_notify::SmtpConfig {
            url: mail.url.clone(),
            sender: "Example Provider <care@example.org>".to_owned(),
            max_per_second: 1000.0,
            timeout: Duration::from_secs(10),
            connections: 16,
        }),
        sms: sms.map(|sms| connecticket_notify::SmsGatewayConfig {
            url: sms.url.clone(),
            from: "+15555550199".to_owned(),
            max_per_second: 1000.0,
            timeout: Duration::from_secs(10),
        }),
        dispatcher: connecticket_domain::notify::DispatcherOptions {
            poll: Duration::from_millis(50),
            backoff_base: chrono::Duration::milliseconds(50),
            backoff_cap: chrono::Duration::milliseconds(200),
            hold_interval: Duration::from_millis(50),
            ..Default::default()
        },
        escalator: connecticket_domain::notify::EscalatorOptions {
            poll: Duration::from_millis(50),
            ..Default::default()
        },
        ..Default::default()
    }
}
