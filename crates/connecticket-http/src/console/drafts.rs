//! Work is never lost to the idle logoff. A form posted after its session
//! lapsed is not acted on (its person may have walked away), but what it
//! carried is kept for them: sealed so that only their next session can
//! open it (`Connecticket::seal_draft`), in cookies that live an hour, and
//! only when the form came from a page of the lapsed session (its CSRF
//! token), so no other site can plant one. After signing in, the person
//! lands on the page they were on, with what they typed back in the form,
//! and sends it themselves with a fresh token.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use connecticket_domain::service::{ConsoleCall, Lapsed, DRAFT_KEPT_FOR};
use serde::{Deserialize, Serialize};

use super::session::{cookie, lasting_cookie, set_cookie};
use crate::extract::within;
use crate::state::AppState;
use crate::wire::read_params;

/// The draft travels in up to this many cookies (`ct_draft0`, …), each
/// under the 4 KiB browsers keep, together under the server's header limit.
const CHUNKS: usize = 3;
const CHUNK_BYTES: usize = 3800;

/// A form that was not sent: where it was going and what it held (never
/// its CSRF token, never files).
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Draft {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

impl Draft {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

/// What a lapsed request leaves for the sign-in page: where to return,
/// and the draft's cookies.
#[derive(Debug, Default)]
pub(crate) struct SignInAgain {
    pub next: Option<String>,
    /// The session ran out (rather than never existing or being signed
    /// out): read once, when the request was refused.
    pub lapsed: Option<Lapsed>,
    pub cookies: Vec<HeaderValue>,
    /// A draft was sent but could not be kept (too long for the cookies).
    pub lost: bool,
}

fn chunk_name(index: usize) -> String {
    format!("ct_draft{index}")
}

/// A console path a sign-in may return to: this server's own, and a
/// page, not an action.
pub(crate) fn safe_next(text: &str) -> Option<String> {
    let path = text.split('#').next().unwrap_or_default();
    let acceptable = path.starts_with("/console")
        && !path.starts_with("/console/sign-in")
        && !path.contains("//")
        && !path.contains('\\')
        && path.len() <= 512
        && path.bytes().all(|b| b.is_ascii_graphic());
    acceptable.then(|| path.to_owned())
}

/// The page a request belongs to: a page asked for itself; a form, the
/// page it was posted from (the console's pages send their own address,
/// `Referrer-Policy: same-origin`), else the page its action sits under.
pub(crate) fn page_of(parts: &Parts) -> Option<String> {
    if parts.method == Method::GET {
        let path = match parts.uri.query() {
            Some(query) => format!("{}?{query}", parts.uri.path()),
            None => parts.uri.path().to_owned(),
        };
        return safe_next(&path);
    }
    let referred = parts
        .headers
        .get(header::REFERER)
        .and_then(|value| value.to_str().ok())
        .and_then(|referer| {
            let after_scheme = referer.split_once("://")?.1;
            let path = &after_scheme[after_scheme.find('/')?..];
            safe_next(path)
        });
    referred.or_else(|| {
        let path = parts.uri.path();
        let page = path.rsplit_once('/').map_or(path, |(page, _)| page);
        safe_next(page)
    })
}

/// Keeps the fields of a form posted to `lapsed` session's person, if it
/// came from one of that session's pages.
pub(crate) async fn keep(
    state: &AppState,
    lapsed: &Lapsed,
    parts: &Parts,
    body: Body,
    again: &mut SignInAgain,
) {
    let context = crate::extract::request_context(parts);
    let read = read_params(parts, body, state.limits, state.limits.max_request_bytes);
    let Ok(Ok(params)) = within(&context, state, read).await else {
        return;
    };
    if !lapsed.csrf_matches(params.from_body("csrf")) {
        return;
    }
    let fields: Vec<(String, String)> = params
        .iter()
        .filter(|(name, value)| *name != "csrf" && !value.is_empty())
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    if fields.is_empty() {
        return;
    }
    let draft = Draft {
        action: parts.uri.path().to_owned(),
        fields,
    };
    let Ok(plain) = serde_json::to_vec(&draft) else {
        return;
    };
    let sealed = state.api.seal_draft(lapsed, &plain);
    if sealed.len() > CHUNKS * CHUNK_BYTES {
        again.lost = true;
        return;
    }
    let max_age = DRAFT_KEPT_FOR.num_seconds();
    again.cookies = sealed
        .as_bytes()
        .chunks(CHUNK_BYTES)
        .enumerate()
        .map(|(index, chunk)| {
            let text = String::from_utf8_lossy(chunk);
            lasting_cookie(state, &chunk_name(index), &text, max_age)
        })
        .collect();
}

/// Whether this browser holds a draft (for the sign-in page to say so).
pub(crate) fn held(headers: &HeaderMap) -> bool {
    cookie(headers, &chunk_name(0)).is_some()
}

/// The draft of the form at `action`, if this person left one; with the
/// cookies that delete it, since it is given back once.
pub(crate) fn take(
    state: &AppState,
    console: &ConsoleCall,
    headers: &HeaderMap,
    action: &str,
) -> (Option<Draft>, Vec<HeaderValue>) {
    if !held(headers) {
        return (None, Vec::new());
    }
    let sealed: String = (0..CHUNKS)
        .map_while(|index| cookie(headers, &chunk_name(index)))
        .collect();
    let draft = state
        .api
        .open_draft(console, &sealed)
        .and_then(|plain| serde_json::from_slice::<Draft>(&plain).ok());
    match draft {
        Some(draft) if draft.action == action => (Some(draft), forget(state)),
        // Another person's, or altered: of no use to anyone.
        None => (None, forget(state)),
        // This person's, for another form: kept for that form's page.
        Some(_) => (None, Vec::new()),
    }
}

fn forget(state: &AppState) -> Vec<HeaderValue> {
    (0..CHUNKS)
        .map(|index| set_cookie(state, &chunk_name(index), None))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_pages_are_returned_to() {
        assert_eq!(
            safe_next("/console/tickets/5").as_deref(),
            Some("/console/tickets/5")
        );
        assert_eq!(
            safe_next("/console/tickets/5#comments").as_deref(),
            Some("/console/tickets/5")
        );
        assert_eq!(
            safe_next("/console?resident=3").as_deref(),
            Some("/console?resident=3")
        );
        for refused in [
            "https://evil.example/console",
            "//evil.example/console",
            "/console//evil.example",
            "/console\\evil",
            "/api/token/tickets",
            "/console/sign-in?next=/console",
            "/console/a b",
        ] {
            assert_eq!(safe_next(refused), None, "{refused}");
        }
    }
}
