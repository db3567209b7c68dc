//! A FHIR request: its bearer token, the format it asks for, and its
//! query parameters as FHIR repeats them.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use connecticket_domain::audit::Action;
use connecticket_domain::fhir::{Interaction, ResourceType};
use connecticket_domain::service::Call;

use crate::error::HttpError;
use crate::extract::{request_context, within};
use crate::state::AppState;

/// The request's head, read before anything else happens.
pub(crate) struct FhirRequest {
    pub parts: Parts,
    /// Query parameters in order, repeats kept (`_lastUpdated=ge…&
    /// _lastUpdated=lt…` means both).
    pub params: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for FhirRequest {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, HttpError> {
        let mut params = Vec::new();
        let query = parts.uri.query().unwrap_or_default();
        crate::wire::urlencoded::for_each_pair(query.as_bytes(), |name, value| {
            params.push((name, value));
            Ok(())
        })
        .map_err(|error| HttpError::BadRequest(error.message()))?;
        // A Binary is the file itself, in whatever type it has.
        // (Under the nested router the path no longer carries /fhir/R4.)
        if !parts.uri.path().starts_with("/Binary/") {
            accept_json(&parts.headers, &params)?;
        }
        Ok(FhirRequest {
            parts: parts.clone(),
            params,
        })
    }
}

/// Only JSON is spoken: `_format` and `Accept` may ask for it in any of
/// its spellings (or for anything); asking only for XML is 406.
fn accept_json(headers: &HeaderMap, params: &[(String, String)]) -> Result<(), HttpError> {
    let json = |media: &str| {
        let media = media.split(';').next().unwrap_or_default().trim();
        matches!(
            media.to_ascii_lowercase().as_str(),
            "json" | "application/json" | "application/fhir+json" | "*/*" | "application/*" | ""
        )
    };
    let format_ok = params
        .iter()
        .filter(|(name, _)| name == "_format")
        .all(|(_, value)| json(value));
    let accept_ok = headers
        .get_all(header::ACCEPT)
        .iter()
        .all(|value| value.to_str().is_ok_and(|text| text.split(',').any(json)));
    if format_ok && accept_ok {
        Ok(())
    } else {
        Err(HttpError::NotAcceptable(
            "this server speaks FHIR JSON only: ask for application/fhir+json",
        ))
    }
}

/// `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FhirRequest {
    /// Authenticates the bearer for `interaction` on `kind`; the call is
    /// audited as `action`, and counts against its provider's share.
    pub(crate) async fn authenticate(
        &self,
        state: &AppState,
        action: Action,
        kind: ResourceType,
        interaction: Interaction,
    ) -> Result<Call, HttpError> {
        let context = request_context(&self.parts);
        let call = within(
            &context,
            state,
            state.api.authenticate_fhir(
                &context,
                action,
                bearer(&self.parts.headers),
                kind,
                interaction,
            ),
        )
        .await??;
        if let Err(busy) =
            crate::guard::claim_provider(&self.parts, call.principal().provider.id, state)
        {
            state.api.reject(call, busy.outcome()).await;
            return Err(busy);
        }
        Ok(call)
    }

    /// Every value of a parameter, in order.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.params
            .iter()
            .filter(move |(param, _)| param == name)
            .map(|(_, value)| value.as_str())
    }

    /// The base URL clients reach the facade at: the configured public
    /// URL, or the request's own host.
    pub(crate) fn base_url(&self, state: &AppState) -> String {
        base_url(state, &self.parts.headers)
    }
}

/// The facade's base URL: `--public-url`'s, or the request's own host
/// (which a deployment behind a proxy should not rely on: SMART clients
/// sign the token endpoint's URL into their assertions).
pub(crate) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let root = match state.public_url.as_deref() {
        Some(public) => public.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    format!("{root}{}", super::BASE_PATH)
}

impl FhirRequest {
    /// Authenticates a search of `kind` and reads its parameters with
    /// `parse`; a refusal after authentication is audited under the call.
    /// Answers the call, the parsed search and whether only the count
    /// (`_summary=count`) is wanted.
    pub(crate) async fn accept_search<Q>(
        &self,
        state: &AppState,
        kind: ResourceType,
        parse: impl FnOnce(&FhirRequest) -> Result<Q, HttpError>,
    ) -> Result<(Call, Q, bool), HttpError> {
        let call = self
            .authenticate(state, Action::FhirSearch, kind, Interaction::Search)
            .await?;
        let parsed = parse(self).and_then(|query| Ok((query, super::params::summary_count(self)?)));
        match parsed {
            Ok((query, count_only)) => Ok((call, query, count_only)),
            Err(error) => {
                state.api.reject(call, error.outcome()).await;
                Err(error)
            }
        }
    }

    /// Authenticates a read of `kind` and reads its id; an id that cannot
    /// be one answers `missing`, as an unknown one does.
    pub(crate) async fn accept_read(
        &self,
        state: &AppState,
        kind: ResourceType,
        id: &str,
        missing: fn() -> HttpError,
    ) -> Result<(Call, i64), HttpError> {
        let call = self
            .authenticate(state, Action::FhirRead, kind, Interaction::Read)
            .await?;
        match id.parse::<i64>().ok().filter(|id| *id > 0) {
            Some(id) => Ok((call, id)),
            None => {
                state
                    .api
                    .reject(call, connecticket_domain::audit::Outcome::NotFound)
                    .await;
                Err(missing())
            }
        }
    }
}
