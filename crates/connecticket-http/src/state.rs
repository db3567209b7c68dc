//! What every handler and middleware can reach.

use std::sync::Arc;
use std::time::Duration;

use connecticket_domain::Connecticket;
use ipnet::IpNet;
use tokio::sync::Semaphore;

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
    /// Most requests handled at once (503 beyond).
    pub max_concurrent_requests: usize,
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
    pub(crate) in_flight: Arc<Semaphore>,
    /// Where clients reach this server (`CONNECTICKET_PUBLIC_URL`): the
    /// address gateways sign their callbacks for.
    pub public_url: Option<Arc<str>>,
    /// Renders `/metrics`; none: the route answers 404.
    pub metrics: Option<Arc<dyn MetricsSource>>,
    /// Console cookies are marked `Secure` (the server is reached over
    /// TLS, its own or a proxy's).
    pub secure_cookies: bool,
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
            in_flight: Arc::new(Semaphore::new(limits.max_concurrent_requests.max(1))),
            public_url: None,
            metrics: None,
            secure_cookies: false,
        }
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
