//! A call of the published API, from the request to the use case's input.
//!
//! The caller is authenticated before anything else, and only then is the
//! body read: a request without valid credentials never costs the server
//! its body. Each handler names its call's audit action; a request refused
//! after authentication (malformed body, invalid parameters) is audited as
//! that action's refusal.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use connecticket_domain::audit::{Action, RequestContext};
use connecticket_domain::command::IdempotencyRequest;
use connecticket_domain::service::{ApiCredentials, Call};
use connecticket_domain::text::printable;

use super::caller::{request_context, token_segment, Credentials};
use crate::error::HttpError;
use crate::state::AppState;
use crate::wire::{read_params, RequestParams};

/// A request to one of the API's calls, its body not yet read.
pub(crate) struct ApiRequest {
    parts: Parts,
    body: Body,
}

impl<S: Send + Sync> FromRequest<S> for ApiRequest {
    type Rejection = Infallible;

    async fn from_request(request: Request, _: &S) -> Result<Self, Infallible> {
        let (parts, body) = request.into_parts();
        Ok(ApiRequest { parts, body })
    }
}

/// An authenticated call with its parsed input.
pub(crate) struct Accepted<C> {
    pub call: Call,
    pub input: C,
    /// The `Idempotency-Key` of a write, with the request's fingerprint.
    pub idempotency: Option<IdempotencyRequest>,
    /// The access token, to build URLs the caller can follow.
    pub token: String,
    pub deadline: Option<std::time::Instant>,
}

impl<C> Accepted<C> {
    /// Resolves when the request's deadline passes (never, without one).
    pub fn deadline_passed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let deadline = self.deadline;
        async move {
            match deadline {
                Some(deadline) => {
                    tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await
                }
                None => std::future::pending().await,
            }
        }
    }
}

impl ApiRequest {
    /// Authenticates the caller for `action`, then reads its parameters and
    /// parses them with `parse`.
    pub(crate) async fn accept<C>(
        self,
        state: &AppState,
        action: Action,
        parse: impl FnOnce(RequestParams, &Parts) -> Result<C, HttpError>,
    ) -> Result<Accepted<C>, HttpError> {
        let ApiRequest { parts, body } = self;
        let context = request_context(&parts);
        let credentials = Credentials::from_headers(&parts.headers);
        let token = token_segment(parts.uri.path())
            .unwrap_or_default()
            .to_owned();
        let credentials = ApiCredentials {
            token: Some(&token),
            api_key: credentials.api_key.as_deref(),
            api_secret: credentials.api_secret.as_deref(),
        };
        let call = within(
            &context,
            state,
            state.api.authenticate(&context, action, credentials),
        )
        .await?;
        let call = match call {
            Ok(call) => call,
            Err(refused) => {
                // A small body is read and dropped so the connection stays
                // usable; a large one is never read (the guard then says
                // the connection closes).
                let _ = within(&context, state, discard_small_body(&parts, body)).await;
                return Err(refused.into());
            }
        };
        // Now that the call is known to be its provider's, it counts
        // against that provider's share of the server.
        if let Err(busy) = crate::guard::claim_provider(&parts, call.principal().provider.id, state)
        {
            state.api.reject(call, busy.outcome()).await;
            return Err(busy);
        }
        let parsed = async {
            let read = read_params(&parts, body, state.limits, state.limits.max_request_bytes);
            let params = within(&context, state, read).await??;
            refuse_files(&params, action)?;
            let idempotency = idempotency(&parts, &params, action)?;
            let input = parse(params, &parts)?;
            Ok::<_, HttpError>((input, idempotency))
        }
        .await;
        match parsed {
            Ok((input, idempotency)) => Ok(Accepted {
                call,
                input,
                idempotency,
                token,
                deadline: context.deadline,
            }),
            Err(error) => {
                state.api.reject(call, error.outcome()).await;
                Err(error)
            }
        }
    }
}

/// Awaits `work` until the request's deadline: 408 beyond it. Only for
/// steps that change nothing (authentication, reading the body); a write's
/// deadline is kept by the store, which never cuts a started write short.
pub(crate) async fn within<T>(
    context: &RequestContext,
    state: &AppState,
    work: impl std::future::Future<Output = T>,
) -> Result<T, HttpError> {
    match context.deadline {
        Some(deadline) => tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), work)
            .await
            .map_err(|_| HttpError::Timeout(state.limits.request_timeout.as_secs())),
        None => Ok(work.await),
    }
}

/// A refused request's body, read and thrown away when it is small.
const DISCARDED_BODY_LIMIT: u64 = 256 * 1024;

async fn discard_small_body(parts: &Parts, body: Body) {
    use http_body_util::BodyExt;
    let small =
        crate::wire::declared_length(parts).is_some_and(|length| length <= DISCARDED_BODY_LIMIT);
    if !small {
        return;
    }
    let mut body = body;
    while let Some(Ok(_)) = body.frame().await {}
}

/// Only `create_ticket` takes files; a file sent anywhere else is refused
/// rather than silently dropped.
fn refuse_files(params: &RequestParams, action: Action) -> Result<(), HttpError> {
    match params.files.first() {
        Some(file) if action != Action::CreateTicket => Err(HttpError::InvalidParameter(format!(
            "{} is a file, but {} takes none",
            printable(&file.field),
            action.as_str()
        ))),
        _ => Ok(()),
    }
}

/// The write's `Idempotency-Key` header, fingerprinted with everything the
/// request said.
fn idempotency(
    parts: &Parts,
    params: &RequestParams,
    action: Action,
) -> Result<Option<IdempotencyRequest>, HttpError> {
    let Some(value) = parts.headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| {
        HttpError::InvalidParameter(
            "Idempotency-Key must be printable ASCII, 1 to 255 characters".to_owned(),
        )
    })?;
    Ok(Some(IdempotencyRequest {
        key: key.to_owned(),
        fingerprint: params.fingerprint(action.as_str()),
    }))
}
