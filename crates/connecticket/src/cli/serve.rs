use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use connecticket_domain::service::throttle::ThrottleSettings;
use connecticket_domain::service::ApiSettings;
use connecticket_http::{Limits, TlsFiles};
use connecticket_store_sqlite::SqliteOptions;
use ipnet::IpNet;
use tokio::net::TcpListener;

use super::Cli;
use crate::database;
use crate::server::{self, EventsConfig, NotifyConfig, ServerConfig};
use connecticket_domain::events::webhooks::UrlPolicy;
use connecticket_domain::events::{
    SequencerOptions, WebhookDispatcherOptions, DEFAULT_EVENT_RETENTION_DAYS,
};
use connecticket_domain::notify::{DispatcherOptions, EscalatorOptions};
use connecticket_notify::{AddressPolicy, SmsGatewayConfig, SmtpConfig};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CONNECTICKET_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Seed the contract's demo data (only into an empty database) and run
    /// with the published demo credentials.
    #[arg(long)]
    pub demo: bool,

    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    /// Replaced without dropping connections on SIGHUP or when the files
    /// change.
    #[arg(long, env = "CONNECTICKET_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert.
    #[arg(long, env = "CONNECTICKET_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Proxies whose X-Forwarded-For is believed (addresses or CIDR
    /// ranges, comma-separated). Nobody else's is.
    #[arg(long, env = "CONNECTICKET_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxy: Vec<IpNet>,

    /// How long an access token lives, in seconds.
    #[arg(long, env = "CONNECTICKET_TOKEN_LIFETIME_SECS", default_value_t = 86_400, value_parser = clap::value_parser!(u32).range(1..))]
    pub token_lifetime_secs: u32,

    /// Requests one application may make per minute, whatever tokens it
    /// uses, per instance (0: no limit).
    #[arg(long, env = "CONNECTICKET_TOKEN_REQUESTS_PER_MINUTE", default_value_t = ThrottleSettings::default().token_requests)]
    pub token_requests_per_minute: u64,

    /// Live access tokens an application keeps; authorizing beyond this
    /// revokes its oldest.
    #[arg(long, env = "CONNECTICKET_LIVE_TOKENS_PER_APPLICATION", default_value_t = ApiSettings::default().live_tokens_per_application, value_parser = clap::value_parser!(u32).range(1..))]
    pub live_tokens_per_application: u32,

    /// Most parameters one request may carry (422 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_PARAMS", default_value_t = Limits::default().max_params)]
    pub max_params: usize,

    /// Largest total size of a request's parameter names and values, in
    /// bytes (413 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_PARAM_BYTES", default_value_t = Limits::default().max_param_bytes)]
    pub max_param_bytes: usize,

    /// Failed authorize attempts allowed per client address per window.
    #[arg(long, env = "CONNECTICKET_AUTH_FAILURES_PER_ADDRESS", default_value_t = ThrottleSettings::default().failures_per_address)]
    pub auth_failures_per_address: u64,

    /// Failed authorize attempts allowed per (api_key, client address) per window.
    #[arg(long, env = "CONNECTICKET_AUTH_FAILURES_PER_KEY", default_value_t = ThrottleSettings::default().failures_per_key_and_address)]
    pub auth_failures_per_key: u64,

    /// Failed console sign-ins allowed per account per window, from every
    /// address together; beyond, the account is refused until the window
    /// ends (the right password too).
    #[arg(long, env = "CONNECTICKET_SIGN_IN_FAILURES_PER_ACCOUNT", default_value_t = ThrottleSettings::default().failures_per_account)]
    pub sign_in_failures_per_account: u64,

    /// Refused requests nobody could be named for (bogus tokens, guessed
    /// links, console pages without a session, unsigned gateway calls)
    /// one address may make per minute before it is answered 429 (0: no
    /// limit). They are audited as one entry per address and minute.
    #[arg(long, env = "CONNECTICKET_ANONYMOUS_REFUSALS_PER_MINUTE", default_value_t = ThrottleSettings::default().anonymous_refusals_per_minute)]
    pub anonymous_refusals_per_minute: u64,

    /// Length of the failed-authorize counting window, in seconds.
    #[arg(long, env = "CONNECTICKET_AUTH_FAILURE_WINDOW_SECS", default_value_t = ThrottleSettings::default().window_secs, value_parser = clap::value_parser!(i64).range(1..))]
    pub auth_failure_window_secs: i64,

    /// Largest request body, in bytes (413 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_REQUEST_BYTES", default_value_t = Limits::default().max_request_bytes)]
    pub max_request_bytes: usize,

    /// Largest single attachment, in bytes (413 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_FILE_BYTES", default_value_t = Limits::default().max_file_bytes)]
    pub max_file_bytes: usize,

    /// Most attachments in one request (413 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_FILES", default_value_t = Limits::default().max_files)]
    pub max_files: usize,

    /// Largest total size of a request's headers, in bytes (431 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_HEADER_BYTES", default_value_t = Limits::default().max_header_bytes)]
    pub max_header_bytes: usize,

    /// Seconds a request may take until its answer starts (408 beyond).
    #[arg(long, env = "CONNECTICKET_REQUEST_TIMEOUT_SECS", default_value_t = Limits::default().request_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,

    /// Seconds a connection may take to send its request headers, or sit
    /// idle between requests, before it is closed.
    #[arg(long, env = "CONNECTICKET_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,

    /// Seconds a write may wait for a client that stopped reading (a
    /// streamed list, say) before its connection is cut.
    #[arg(long, env = "CONNECTICKET_SEND_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub send_timeout_secs: u64,

    /// Most requests handled at once, counting each until its answer is
    /// sent (503 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_CONCURRENT_REQUESTS", default_value_t = Limits::default().max_concurrent_requests)]
    pub max_concurrent_requests: usize,

    /// Most requests without credentials (authorize, sign-in, links, the
    /// SMS gateway's callbacks, the docs) handled at once (503 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_CONCURRENT_ANONYMOUS", default_value_t = Limits::default().max_concurrent_anonymous)]
    pub max_concurrent_anonymous: usize,

    /// Most requests from one client address (an IPv6 /64) at once (429
    /// beyond). Behind a proxy, set --trusted-proxy, or every client
    /// shares the proxy's address.
    #[arg(long, env = "CONNECTICKET_MAX_CONCURRENT_PER_ADDRESS", default_value_t = Limits::default().max_concurrent_per_address)]
    pub max_concurrent_per_address: usize,

    /// Most requests without credentials from one address at once (429
    /// beyond): far below --max-concurrent-anonymous, so that one address
    /// cannot hold that share, and keep others from signing in.
    #[arg(long, env = "CONNECTICKET_MAX_CONCURRENT_ANONYMOUS_PER_ADDRESS", default_value_t = Limits::default().max_concurrent_anonymous_per_address)]
    pub max_concurrent_anonymous_per_address: usize,

    /// Most requests of one provider at once, counted once authenticated
    /// (429 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_CONCURRENT_PER_PROVIDER", default_value_t = Limits::default().max_concurrent_per_provider)]
    pub max_concurrent_per_provider: usize,

    /// Seconds a request body may stop arriving before it is cut off (408);
    /// the whole body must also arrive within --request-timeout-secs.
    #[arg(long, env = "CONNECTICKET_BODY_TIMEOUT_SECS", default_value_t = Limits::default().body_idle_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,

    /// Request bodies held in memory at once, all requests together,
    /// beyond the first 64 KiB of each (503 while it is spent).
    #[arg(long, env = "CONNECTICKET_MAX_BUFFERED_BODY_BYTES", default_value_t = Limits::default().max_buffered_body_bytes)]
    pub max_buffered_body_bytes: usize,

    /// Days audit entries are kept (0: forever).
    #[arg(long, env = "CONNECTICKET_AUDIT_RETENTION_DAYS", default_value_t = 0)]
    pub audit_retention_days: u32,

    /// Days events are kept for the change feed and webhook replays (0:
    /// forever).
    #[arg(long, env = "CONNECTICKET_EVENT_RETENTION_DAYS", default_value_t = DEFAULT_EVENT_RETENTION_DAYS)]
    pub event_retention_days: u32,

    /// Lets applications register plain http:// webhook endpoints (for a
    /// receiver on a trusted network; events are signed either way).
    #[arg(long, env = "CONNECTICKET_ALLOW_INSECURE_WEBHOOKS")]
    pub allow_insecure_webhooks: bool,

    /// Private networks webhooks may reach (addresses or CIDR ranges,
    /// comma-separated). By default no delivery goes to a loopback,
    /// private, link-local or multicast address.
    #[arg(long, env = "CONNECTICKET_WEBHOOK_ALLOW_PRIVATE", value_delimiter = ',', value_parser = parse_proxy)]
    pub webhook_allow_private: Vec<IpNet>,

    /// How long an instance holds a webhook endpoint it is delivering to,
    /// in seconds: after a crash, another instance takes over after this.
    /// At least 15 (a delivery may take 10).
    #[arg(long, env = "CONNECTICKET_WEBHOOK_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u32).range(15..))]
    pub webhook_lease_secs: u32,

    /// SQLite read connections.
    #[arg(long, env = "CONNECTICKET_SQLITE_READERS", default_value_t = SqliteOptions::default().read_connections)]
    pub sqlite_readers: usize,

    /// Microseconds a SQLite commit may wait for more calls' writes and
    /// audit entries while calls arrive together (0: commit at once). A
    /// lone caller never waits.
    #[arg(long, env = "CONNECTICKET_SQLITE_COMMIT_DELAY_US", default_value_t = SqliteOptions::default().commit_delay.as_micros() as u64, value_parser = clap::value_parser!(u64).range(0..=100_000))]
    pub sqlite_commit_delay_us: u64,

    /// Email transport: `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (implicit TLS), or
    /// `smtp://127.0.0.1:2525` (a plain local relay). Unset: no email is
    /// sent, and email notifications wait.
    #[arg(long, env = "CONNECTICKET_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of every email.
    #[arg(
        long,
        env = "CONNECTICKET_SMTP_FROM",
        default_value = "Connecticket <notifications@connecticket.invalid>"
    )]
    pub smtp_from: String,

    /// Most emails sent per second.
    #[arg(long, env = "CONNECTICKET_SMTP_MAX_PER_SECOND", default_value_t = 10.0)]
    pub smtp_max_per_second: f64,

    /// SMS transport: a gateway URL in the Twilio Messages form, with its
    /// credentials, e.g.
    /// `https://SID:TOKEN@api.twilio.com/2010-04-01/Accounts/SID/Messages.json`.
    /// Unset: no SMS is sent, and SMS notifications wait.
    #[arg(long, env = "CONNECTICKET_SMS_GATEWAY_URL", hide_env_values = true)]
    pub sms_gateway_url: Option<String>,

    /// The number SMS are sent from (E.164).
    #[arg(long, env = "CONNECTICKET_SMS_FROM", default_value = "+15555550100")]
    pub sms_from: String,

    /// Most SMS sent per second.
    #[arg(long, env = "CONNECTICKET_SMS_MAX_PER_SECOND", default_value_t = 1.0)]
    pub sms_max_per_second: f64,

    /// Attempts before a notification that keeps failing for a transient
    /// reason fails for good.
    #[arg(long, env = "CONNECTICKET_NOTIFICATION_MAX_ATTEMPTS", default_value_t = 10, value_parser = clap::value_parser!(i64).range(1..))]
    pub notification_max_attempts: i64,

    /// Milliseconds before the first retry; doubled per attempt (with
    /// jitter) up to 30 minutes.
    #[arg(long, env = "CONNECTICKET_NOTIFICATION_RETRY_BASE_MS", default_value_t = 10_000, value_parser = clap::value_parser!(i64).range(1..))]
    pub notification_retry_base_ms: i64,

    /// Where clients, recipients and the SMS gateway reach this server,
    /// e.g. `https://care.example.org`: acknowledgment links point to
    /// `PUBLIC_URL/ack/…`, and the gateway's status callbacks and replies
    /// go to `PUBLIC_URL/sms/status` and `PUBLIC_URL/sms/inbound`, signed
    /// for that address.
    #[arg(long, env = "CONNECTICKET_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// An address of the operators' own (e.g. `127.0.0.1:9100`) that
    /// serves `/metrics` and `/readyz` in full. The public listener shows
    /// neither the metrics nor the detail of readiness to anyone without
    /// `--metrics-token`.
    #[arg(long, env = "CONNECTICKET_METRICS_LISTEN")]
    pub metrics_listen: Option<std::net::SocketAddr>,

    /// A token that shows `/metrics` and the detail of `/readyz` on the
    /// public listener to a request with `Authorization: Bearer TOKEN`
    /// (for a scraper that cannot reach `--metrics-listen`). Never printed.
    #[arg(long, env = "CONNECTICKET_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Seconds a claimed notification stays with this instance; if the
    /// instance dies, another (or this one restarted) sends it after that.
    /// Each send may take at most half of it (and at most 30 s).
    #[arg(long, env = "CONNECTICKET_NOTIFICATION_LEASE_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub notification_lease_secs: u64,

    /// How long an acknowledgment link works after its first send, like
    /// `7d` or `36h`.
    #[arg(long, env = "CONNECTICKET_ACK_LINK_LIFETIME", default_value = "7d", value_parser = parse_lifetime)]
    pub ack_link_lifetime: chrono::Duration,

    /// Seconds a shutdown (SIGTERM, Ctrl-C) waits for in-flight requests
    /// and streamed lists to finish before cutting them.
    #[arg(long, env = "CONNECTICKET_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,

    /// Milliseconds between looks for escalations whose deadline passed.
    #[arg(long, env = "CONNECTICKET_ESCALATION_POLL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..))]
    pub escalation_poll_ms: u64,
}

fn parse_lifetime(text: &str) -> Result<chrono::Duration, String> {
    connecticket_domain::notify::escalation::parse_duration(text)
        .ok_or_else(|| format!("expected a duration like 90s, 15m, 2h or 7d, not {text:?}"))
}

/// `10.0.0.0/8`, or a single address such as `10.0.0.5` or `::1`.
fn parse_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a CIDR range"))
}

impl ServeArgs {
    fn config(&self, hash_key: Option<&str>) -> anyhow::Result<ServerConfig> {
        if self.max_header_bytes < 1024 {
            bail!("--max-header-bytes must be at least 1024");
        }
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(certificate), Some(key)) => Some(TlsFiles {
                certificate: certificate.clone(),
                key: key.clone(),
            }),
            _ => None,
        };
        Ok(ServerConfig {
            hash_key: hash_key.map(str::to_owned),
            api: ApiSettings {
                token_lifetime: chrono::Duration::seconds(i64::from(self.token_lifetime_secs)),
                live_tokens_per_application: self.live_tokens_per_application,
                throttle: ThrottleSettings {
                    window_secs: self.auth_failure_window_secs,
                    failures_per_address: self.auth_failures_per_address,
                    failures_per_key_and_address: self.auth_failures_per_key,
                    failures_per_account: self.sign_in_failures_per_account,
                    anonymous_refusals_per_minute: self.anonymous_refusals_per_minute,
                    token_requests: self.token_requests_per_minute,
                    token_window_secs: 60,
                },
                webhook_urls: UrlPolicy {
                    allow_insecure: self.allow_insecure_webhooks,
                },
            },
            limits: Limits {
                max_request_bytes: self.max_request_bytes,
                max_file_bytes: self.max_file_bytes,
                max_files: self.max_files,
                max_header_bytes: self.max_header_bytes,
                request_timeout: Duration::from_secs(self.request_timeout_secs),
                max_concurrent_requests: self.max_concurrent_requests,
                max_concurrent_anonymous: self.max_concurrent_anonymous,
                max_concurrent_per_address: self.max_concurrent_per_address,
                max_concurrent_anonymous_per_address: self.max_concurrent_anonymous_per_address,
                max_concurrent_per_provider: self.max_concurrent_per_provider,
                body_idle_timeout: Duration::from_secs(self.body_timeout_secs),
                max_buffered_body_bytes: self.max_buffered_body_bytes,
                max_params: self.max_params,
                max_param_bytes: self.max_param_bytes,
                ..Limits::default()
            },
            trusted_proxies: self.trusted_proxy.clone(),
            tls,
            header_read_timeout: Duration::from_secs(self.header_timeout_secs),
            send_timeout: Duration::from_secs(self.send_timeout_secs),
            audit_retention: (self.audit_retention_days > 0)
                .then(|| chrono::Duration::days(i64::from(self.audit_retention_days))),
            events: EventsConfig {
                sequencer: SequencerOptions {
                    retention: (self.event_retention_days > 0)
                        .then(|| chrono::Duration::days(i64::from(self.event_retention_days))),
                    ..SequencerOptions::default()
                },
                webhooks: WebhookDispatcherOptions {
                    lease: chrono::Duration::seconds(i64::from(self.webhook_lease_secs)),
                    ..WebhookDispatcherOptions::default()
                },
                addresses: AddressPolicy {
                    allowed_private: self.webhook_allow_private.clone(),
                },
            },
            demo: self.demo,
            notifications: self.notify_config()?,
            public_url: self.public_url.clone(),
            metrics_listen: self.metrics_listen,
            metrics_token: self.metrics_token.clone(),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            ..ServerConfig::default()
        })
    }

    fn notify_config(&self) -> anyhow::Result<NotifyConfig> {
        let rate = |rate: f64, flag: &str| {
            if rate.is_finite() && rate > 0.0 {
                Ok(rate)
            } else {
                Err(anyhow::anyhow!("{flag} must be a positive number"))
            }
        };
        // A send never outlives its lease, so no other instance can take
        // over a notification while it is still being sent.
        let lease = Duration::from_secs(self.notification_lease_secs);
        let timeout = (lease / 2).min(Duration::from_secs(30));
        Ok(NotifyConfig {
            smtp: self
                .smtp_url
                .as_ref()
                .map(|url| -> anyhow::Result<SmtpConfig> {
                    Ok(SmtpConfig {
                        url: url.clone(),
                        sender: self.smtp_from.clone(),
                        max_per_second: rate(self.smtp_max_per_second, "--smtp-max-per-second")?,
                        timeout,
                        connections: DispatcherOptions::default().concurrency as u32,
                    })
                })
                .transpose()?,
            sms: self
                .sms_gateway_url
                .as_ref()
                .map(|url| -> anyhow::Result<SmsGatewayConfig> {
                    Ok(SmsGatewayConfig {
                        url: url.clone(),
                        from: self.sms_from.clone(),
                        max_per_second: rate(self.sms_max_per_second, "--sms-max-per-second")?,
                        timeout,
                    })
                })
                .transpose()?,
            dispatcher: DispatcherOptions {
                max_attempts: self.notification_max_attempts,
                backoff_base: chrono::Duration::milliseconds(self.notification_retry_base_ms),
                lease: chrono::Duration::seconds(self.notification_lease_secs as i64),
                ..DispatcherOptions::default()
            },
            escalator: EscalatorOptions {
                poll: Duration::from_millis(self.escalation_poll_ms),
                ..EscalatorOptions::default()
            },
            ack_link_lifetime: self.ack_link_lifetime,
        })
    }
}

pub(super) async fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let config = args.config(cli.hash_key.as_deref())?;
    // Refuse a missing or published key before touching the database.
    config.hasher()?;
    let sqlite = SqliteOptions {
        read_connections: args.sqlite_readers,
        commit_delay: Duration::from_micros(args.sqlite_commit_delay_us),
    };
    let mut options = cli.store_options(sqlite);
    // Waiting for a database connection (a failover under way) ends well
    // inside the request's time, so that the call answers 503 rather than
    // running out of time.
    let request_timeout = Duration::from_secs(args.request_timeout_secs);
    options.postgres.acquire_timeout = options.postgres.acquire_timeout.min(request_timeout / 2);
    let store = database::open(&cli.database, options).await?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let server = server::start(listener, store, config).await?;
    let address = server.local_addr()?;
    // Scripts and tests read the bound address (useful with port 0) here.
    println!("connecticket listening on {}://{address}", server.scheme());
    server.serve(server::shutdown_signal()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_are_addresses_or_ranges() {
        assert_eq!(
            parse_proxy("10.0.0.5").map(|n| n.to_string()),
            Ok("10.0.0.5/32".to_owned())
        );
        assert_eq!(
            parse_proxy(" 10.0.0.0/8 ").map(|n| n.to_string()),
            Ok("10.0.0.0/8".to_owned())
        );
        assert_eq!(
            parse_proxy("::1").map(|n| n.to_string()),
            Ok("::1/128".to_owned())
        );
        assert!(parse_proxy("proxy.internal").is_err());
    }
}
