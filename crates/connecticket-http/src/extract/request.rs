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
use connecticket_domain::audit::Action;
use connecticket_domain::command::IdempotencyRequest;
use connecticket_domain::service::{ApiCredentials, Call};

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
        let call = state
            .api
            .authenticate(
                &context,
                action,
                ApiCredentials {
                    token: Some(&token),
                    api_key: credentials.api_key.as_deref(),
                    api_secret: credentials.api_secret.as_deref(),
                },
            )
            .await?;
        let parsed = async {
            let params = read_params(&parts, body, state.limits).await?;
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
            }),
            Err(error) => {
                state.api.reject(call, error.outcome()).await;
                Err(error)
            }
        }
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
