//! A console request: its session cookie checked, then (for a form) its
//! body read and its CSRF token compared.
//!
//! The session cookie is `HttpOnly` (no script reads it), `SameSite=Strict`
//! (no other site's page sends it) and `Secure` when the server is reached
//! over TLS. Forms also carry the session's CSRF token, so a form posted
//! from anywhere but a page this session rendered is refused.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use connecticket_domain::audit::{Action, Outcome, RequestContext};
use connecticket_domain::service::ConsoleCall;
use connecticket_domain::DomainError;

use super::drafts::{self, SignInAgain};
use super::form::Form;
use super::render::ConsoleError;
use crate::extract::{request_context, within};
use crate::state::AppState;
use crate::wire::{read_form_fields, read_params, RequestParams};

pub(crate) const SESSION_COOKIE: &str = "ct_session";
/// The sign-in form's own CSRF token (double-submitted: cookie and field),
/// since no session exists yet to derive one from.
pub(crate) const SIGN_IN_COOKIE: &str = "ct_sign_in";
/// Marks a browser as one an account signed in on (OWASP's device
/// cookie): its sign-ins wait in a lane of their own, and are not locked
/// out by strangers' failures on the account.
pub(crate) const DEVICE_COOKIE: &str = "ct_device";
/// Sent by the board's self-refresh: not a person's request, so the
/// session's idle clock keeps running.
pub(crate) const REFRESH_HEADER: &str = "x-console-refresh";

/// The value of a cookie the request carries.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// A `Set-Cookie` value for a console cookie that outlives the browser
/// session: `max_age` seconds.
pub(crate) fn lasting_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("ct=; Max-Age=0"))
}

/// A `Set-Cookie` value for a console cookie (`None`: delete it).
pub(crate) fn set_cookie(state: &AppState, name: &str, value: Option<&str>) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let text = match value {
        Some(value) => format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict{secure}"),
        None => format!("{name}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("ct=; Max-Age=0"))
}

/// A console request, its body not yet read.
pub(crate) struct ConsoleRequest {
    pub parts: Parts,
    body: Body,
}

impl<S: Send + Sync> FromRequest<S> for ConsoleRequest {
    type Rejection = Infallible;

    async fn from_request(request: Request, _: &S) -> Result<Self, Infallible> {
        let (parts, body) = request.into_parts();
        Ok(ConsoleRequest { parts, body })
    }
}

/// A signed-in request with its parameters (query, and the form's body).
pub(crate) struct Signed {
    pub console: ConsoleCall,
    pub params: RequestParams,
}

impl ConsoleRequest {
    pub(crate) fn context(&self) -> RequestContext {
        request_context(&self.parts)
    }

    async fn session(
        parts: &Parts,
        state: &AppState,
        action: Action,
    ) -> Result<ConsoleCall, ConsoleError> {
        let context = request_context(parts);
        let token = cookie(&parts.headers, SESSION_COOKIE);
        let active = !parts.headers.contains_key(REFRESH_HEADER);
        let found = within(
            &context,
            state,
            state
                .api
                .console_call(&context, action, token.as_deref(), active),
        )
        .await?;
        let found = match found {
            Ok(found) => found,
            Err(DomainError::SignInRequired) => {
                let again = SignInAgain {
                    next: drafts::page_of(parts),
                    lapsed: state
                        .api
                        .lapsed_session(token.as_deref())
                        .await
                        .ok()
                        .flatten(),
                    ..SignInAgain::default()
                };
                return Err(ConsoleError::SignIn(again));
            }
            Err(other) => return Err(other.into()),
        };
        // The employee's provider: the request counts against its share.
        if let Err(busy) = crate::guard::claim_provider(parts, found.principal().provider.id, state)
        {
            found.refuse(action, busy.outcome()).await;
            return Err(busy.into());
        }
        Ok(found)
    }

    /// A page: the session checked, the query read.
    pub(crate) async fn page(
        self,
        state: &AppState,
        action: Action,
    ) -> Result<Signed, ConsoleError> {
        let console = Self::session(&self.parts, state, action).await?;
        let params = read_params(&self.parts, Body::empty(), state.limits, 0).await?;
        Ok(Signed { console, params })
    }

    /// A form: the session checked first (a stranger's body is never
    /// read), then the body, then its CSRF token.
    pub(crate) async fn form(
        self,
        state: &AppState,
        action: Action,
    ) -> Result<Signed, ConsoleError> {
        let console = match Self::session(&self.parts, state, action).await {
            Ok(console) => console,
            Err(refused) => return Err(self.keep_work(state, refused).await),
        };
        let context = self.context();
        let read = read_params(
            &self.parts,
            self.body,
            state.limits,
            state.limits.max_request_bytes,
        );
        let params = match within(&context, state, read).await? {
            Ok(params) => params,
            Err(error) => {
                console.refuse(action, error.outcome()).await;
                return Err(error.into());
            }
        };
        if !console.csrf_matches(params.from_body("csrf")) {
            console.refuse(action, Outcome::Denied).await;
            return Err(DomainError::Forbidden(
                "This form is out of date or came from elsewhere; reload the page and try again",
            )
            .into());
        }
        Ok(Signed { console, params })
    }

    /// A page, read as the console reads forms (`form::Form`).
    pub(crate) async fn console_page(
        self,
        state: &AppState,
        action: Action,
    ) -> Result<(ConsoleCall, Form), ConsoleError> {
        let console = Self::session(&self.parts, state, action).await?;
        let fields = read_form_fields(&self.parts, Body::empty(), state.limits, 0).await;
        match fields {
            Ok(fields) => Ok((console, Form::new(fields))),
            Err(error) => {
                console.refuse(action, error.outcome()).await;
                Err(error.into())
            }
        }
    }

    /// A form, read as the console reads forms: the session checked
    /// first (a stranger's body is never read), then the body, then its
    /// CSRF token.
    pub(crate) async fn console_form(
        self,
        state: &AppState,
        action: Action,
    ) -> Result<(ConsoleCall, Form), ConsoleError> {
        let console = match Self::session(&self.parts, state, action).await {
            Ok(console) => console,
            Err(refused) => return Err(self.keep_work(state, refused).await),
        };
        let context = self.context();
        let read = read_form_fields(
            &self.parts,
            self.body,
            state.limits,
            state.limits.max_request_bytes,
        );
        let form = match within(&context, state, read).await? {
            Ok(fields) => Form::new(fields),
            Err(error) => {
                console.refuse(action, error.outcome()).await;
                return Err(error.into());
            }
        };
        if !console.csrf_matches(form.field("csrf")) {
            console.refuse(action, Outcome::Denied).await;
            return Err(DomainError::Forbidden(
                "This form is out of date or came from elsewhere; reload the page and try again",
            )
            .into());
        }
        Ok((console, form))
    }

    /// A form that reached a lapsed session: what it carried is kept for
    /// its person (see `drafts`); anything else is refused as it was.
    async fn keep_work(self, state: &AppState, refused: ConsoleError) -> ConsoleError {
        let ConsoleError::SignIn(mut again) = refused else {
            return refused;
        };
        if let Some(lapsed) = again.lapsed.take() {
            drafts::keep(state, &lapsed, &self.parts, self.body, &mut again).await;
            again.lapsed = Some(lapsed);
        }
        ConsoleError::SignIn(again)
    }

    /// The request's form without a session (sign-in, invitations).
    pub(crate) async fn anonymous_form(
        self,
        state: &AppState,
    ) -> Result<RequestParams, ConsoleError> {
        let context = self.context();
        let read = read_params(
            &self.parts,
            self.body,
            state.limits,
            state.limits.max_authorize_bytes,
        );
        Ok(within(&context, state, read).await??)
    }
}
