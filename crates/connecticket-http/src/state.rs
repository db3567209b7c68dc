//! What every handler and middleware can reach.

use std::sync::Arc;
use std::time::Duration;

use connecticket_domain::Connecticket;
use ipnet::IpNet;
use tokio::sync::Semaphore;

use crate::guard::Budgets;

/// Limits on what clients may send and take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, all parts together.
    pub max_request_bytes: usize,
    /// Largest single attachment.
    pub max_file_bytes: usize,
    /// Most attachments in one request.
    pub max_files: usize,
    /// Largest total size of a request's headers (431 beyond).
    pub max_header_bytes: usize,
    /// Longest a request may take until its answer starts (408 beyond).
    pub request_timeout: Duration,
    /// Most requests handled at once (503 beyond). Health checks are not
    /// counted: they never wait behind anyone.
    pub max_concurrent_requests: usize,
    /// Most of them without credentials (authorize, sign-in, links, the
    /// SMS gateway's callbacks) at once (503 beyond).
    pub max_concurrent_anonymous: usize,
    /// Most from one client address (an IPv6 /64) at once (429 beyond).
    pub max_concurrent_per_address: usize,
    /// Most without credentials from one address at once (429 beyond):
    /// far below `max_concurrent_anonymous`, so one address cannot hold
    /// it all (and keep others from signing in).
    pub max_concurrent_anonymous_per_address: usize,
    /// Most of one provider's, once authenticated, at once (429 beyond).
    pub max_concurrent_per_provider: usize,
    /// A request body that stops arriving for this long is cut off (408);
    /// the whole body must also arrive within the request's deadline.
    pub body_idle_timeout: Duration,
    /// Request bodies held in memory at once, all requests together, past
    /// the first 64 KiB of each (503 beyond, while the budget is spent).
    pub max_buffered_body_bytes: usize,
    /// Most parameters (query and body together) one request may carry.
    pub max_params: usize,
    /// Largest total size of a request's parameter names and values.
    pub max_param_bytes: usize,
    /// Largest body `authorize` reads (it takes two credentials, nothing
    /// more), so that nobody without credentials makes the server read much.
    pub max_authorize_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 25 * 1024 * 1024,
            max_file_bytes: 10 * 1024 * 1024,
            max_files: 20,
            max_header_bytes: 16 * 1024,
            request_timeout: Duration::from_secs(60),
            max_concurrent_requests: 512,
            max_concurrent_anonymous: 128,
            max_concurrent_per_address: 128,
            max_concurrent_anonymous_per_address: 32,
            max_concurrent_per_provider: 128,
            body_idle_timeout: Duration::from_secs(10),
            max_buffered_body_bytes: 128 * 1024 * 1024,
            max_params: 1_000,
            max_param_bytes: 4 * 1024 * 1024,
            max_authorize_bytes: 16 * 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub api: Arc<Connecticket>,
    pub limits: Limits,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<IpNet>>,
    pub(crate) budgets: Arc<Budgets>,
    /// Request bodies in memory, in KiB (see `Limits::max_buffered_body_bytes`).
    pub(crate) body_bytes: Arc<Semaphore>,
    /// Where clients reach this server (`CONNECTICKET_PUBLIC_URL`): the
    /// address gateways sign their callbacks for.
    pub public_url: Option<Arc<str>>,
    /// Renders `/metrics`; none: the route answers 404.
    pub metrics: Option<Arc<dyn MetricsSource>>,
    /// Console cookies are marked `Secure` (the server is reached over
    /// TLS, its own or a proxy's).
    pub secure_cookies: bool,
    /// A demo server: its pages may show the published demo credentials.
    pub demo: bool,
    /// Who sees `/metrics` and the detail of `/readyz` here.
    pub operations: Operations,
}

/// Who may see what operators watch (`/metrics`, the detail of
/// `/readyz`): counts of escalations and when messages last went out are
/// nobody else's business.
#[derive(Clone, Default)]
pub struct Operations {
    /// This is the operators' own listener (`--metrics-listen`): all of it
    /// is shown.
    pub private_listener: bool,
    /// SHA-256 of the token (`--metrics-token`) a request shows as
    /// `Authorization: Bearer …` to see it on the public listener.
    pub token_hash: Option<Arc<[u8]>>,
}

impl Operations {
    pub fn with_token(token: Option<&str>) -> Self {
        use sha2::Digest;
        Operations {
            private_listener: false,
            token_hash: token
                .map(|token| Arc::from(sha2::Sha256::digest(token.as_bytes()).as_slice())),
        }
    }

    /// Whether a request with these headers may see the operators' view.
    pub fn allows(&self, headers: &axum::http::HeaderMap) -> bool {
        use sha2::Digest;
        if self.private_listener {
            return true;
        }
        let (Some(expected), Some(presented)) = (
            self.token_hash.as_ref(),
            headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer ")),
        ) else {
            return false;
        };
        let presented = sha2::Sha256::digest(presented.trim().as_bytes());
        connecticket_domain::auth::constant_time_eq(expected, presented.as_slice())
    }
}

/// The Prometheus text of this process's metrics (the binary installs the
/// recorder and knows what to sample at scrape time).
#[async_trait::async_trait]
pub trait MetricsSource: Send + Sync + 'static {
    async fn render(&self) -> String;
}

impl AppState {
    pub fn new(api: Arc<Connecticket>, limits: Limits, trusted_proxies: Vec<IpNet>) -> Self {
        AppState {
            api,
            limits,
            trusted_proxies: Arc::new(trusted_proxies),
            budgets: Arc::new(Budgets::new(&limits)),
            body_bytes: Arc::new(Semaphore::new(
                (limits.max_buffered_body_bytes / 1024).clamp(1, Semaphore::MAX_PERMITS),
            )),
            public_url: None,
            metrics: None,
            secure_cookies: false,
            demo: false,
            operations: Operations::default(),
        }
    }

    pub fn with_operations(mut self, operations: Operations) -> Self {
        self.operations = operations;
        self
    }

    pub fn with_demo(mut self, demo: bool) -> Self {
        self.demo = demo;
        self
    }

    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    pub fn with_metrics(mut self, metrics: Arc<dyn MetricsSource>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn with_public_url(mut self, url: Option<String>) -> Self {
        self.public_url = url.map(Arc::from);
        self
    }
}
