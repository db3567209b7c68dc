//! Turning pages and failures into answers: every console answer is HTML
//! (or a redirect), and every failure is rendered here, once, from the
//! same `HttpError` the API's envelope uses.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use connecticket_domain::console::ConsoleRole;
use connecticket_domain::service::ConsoleCall;
use connecticket_domain::DomainError;

use crate::error::HttpError;

/// What the layout shows around every page: who is signed in, the
/// session's CSRF token for the sign-out form, and where we are.
pub(crate) struct Chrome {
    pub signed_in: bool,
    pub name: String,
    pub provider: String,
    pub administrator: bool,
    pub csrf: String,
    /// Which navigation entry is current ("board", "new", "residents",
    /// "admin", "account").
    pub section: &'static str,
    /// How long a session may sit idle, for the warning before it ends.
    pub idle_seconds: i64,
    /// What the last form did, said once after its redirect.
    pub notice: Option<&'static str>,
}

impl Chrome {
    pub(crate) fn of(console: &ConsoleCall, section: &'static str) -> Self {
        Chrome {
            signed_in: true,
            name: console.holder.employee_name.clone(),
            provider: console.holder.provider.name.clone(),
            administrator: console.holder.account.role == ConsoleRole::Administrator,
            csrf: console.csrf_token().to_owned(),
            section,
            idle_seconds: connecticket_domain::console::IDLE_LIMIT.num_seconds(),
            notice: None,
        }
    }

    pub(crate) fn signed_out() -> Self {
        Chrome {
            signed_in: false,
            name: String::new(),
            provider: String::new(),
            administrator: false,
            csrf: String::new(),
            section: "",
            idle_seconds: 0,
            notice: None,
        }
    }

    /// The confirmation a redirect after a save asked for (`?done=…`).
    /// Fixed words: nothing of the request is echoed.
    pub(crate) fn noted(mut self, done: Option<&str>) -> Self {
        self.notice = done.and_then(|key| {
            Some(match key {
                "raised" => "Ticket raised.",
                "comment" => "Comment added.",
                "status" => "Status saved.",
                "files" => "Files attached.",
                "acknowledged" => "Acknowledgment recorded.",
                "category" => "Category saved.",
                "employee" => "Employee saved.",
                "revoked" => "Application revoked: it and its tokens no longer work.",
                "rule" => "Escalation rule saved.",
                "staff" => "Staff contact saved.",
                "removed" => "Removed.",
                "contact" => "Contact saved.",
                "retried" => "Queued to be sent again now.",
                "saved" => "Saved.",
                "replayed" => "Queued to be sent again; a disabled webhook is turned back on.",
                "webhook-deleted" => "Webhook deleted: nothing more is sent to it.",
                "audit-granted" => {
                    "The application may now read the audit trail over FHIR (AuditEvent)."
                }
                "audit-withdrawn" => "The application may no longer read the audit trail.",
                "keys" => "Signing keys saved.",
                "display-revoked" => {
                    "Display revoked: the screen stops showing the board at its next refresh."
                }
                _ => return None,
            })
        });
        self
    }

    /// `aria-current` for a navigation entry.
    pub(crate) fn current(&self, section: &str) -> &'static str {
        if self.section == section {
            "page"
        } else {
            "false"
        }
    }
}

/// A rendered page with this status.
pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            body,
        )
            .into_response(),
        Err(error) => {
            HttpError::Internal(format!("a console page did not render: {error}")).into_response()
        }
    }
}

/// After a form: see the result at `to` (POST, then redirect, then GET).
pub(crate) fn see_other(to: &str) -> Response {
    let location =
        HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/console"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// A record id from the path: anything but a positive number names no
/// record, and answers exactly like an id that exists nowhere.
pub(crate) fn path_id(
    text: &str,
    entity: connecticket_domain::Entity,
) -> Result<i64, ConsoleError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ConsoleError::from(DomainError::NotFound(entity)))
}

/// A time as the provider's staff read it, in the provider's zone.
pub(crate) fn local(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%b %-d, %Y %H:%M %Z")
        .to_string()
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    title: &'static str,
    message: String,
}

/// Why a console request did not get its page.
#[derive(Debug)]
pub(crate) enum ConsoleError {
    /// Anything the API would refuse, rendered as a page.
    Refused(HttpError),
    /// No working session: to the sign-in page, saying why, to come back
    /// where the person was (with what they were sending kept).
    SignIn(super::drafts::SignInAgain),
    /// The provider requires a second factor first: to the account page.
    Enrol,
}

impl From<HttpError> for ConsoleError {
    fn from(error: HttpError) -> Self {
        match error {
            HttpError::Domain(error) => ConsoleError::from(error),
            other => ConsoleError::Refused(other),
        }
    }
}

impl From<DomainError> for ConsoleError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::SignInRequired => ConsoleError::SignIn(Default::default()),
            DomainError::SecondFactorRequired => ConsoleError::Enrol,
            other => ConsoleError::Refused(HttpError::Domain(other)),
        }
    }
}

pub(crate) fn not_found() -> Response {
    ConsoleError::Refused(HttpError::NotFound).into_response()
}

fn title_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "Please sign in",
        403 => "Not allowed",
        404 => "Not found",
        408 => "Took too long",
        409 => "Already exists",
        413 => "Too large",
        422 => "Please check the form",
        429 => "Too many attempts",
        503 => "Not saved",
        _ => "Something went wrong",
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            ConsoleError::SignIn(again) => {
                let mut query = Vec::new();
                if again.lapsed.is_some() {
                    query.push("reason=idle".to_owned());
                }
                if again.lost {
                    query.push("draft=lost".to_owned());
                }
                if let Some(next) = again.next.filter(|next| next != "/console") {
                    let next = percent_encoding::utf8_percent_encode(
                        &next,
                        percent_encoding::NON_ALPHANUMERIC,
                    );
                    query.push(format!("next={next}"));
                }
                let to = match query.is_empty() {
                    true => "/console/sign-in".to_owned(),
                    false => format!("/console/sign-in?{}", query.join("&")),
                };
                let mut response = see_other(&to);
                for cookie in again.cookies {
                    response.headers_mut().append(header::SET_COOKIE, cookie);
                }
                response
            }
            ConsoleError::Enrol => see_other("/console/account"),
            ConsoleError::Refused(error) => {
                let status = error.status();
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    // The envelope's 500 carries the cause for the access
                    // log; the person sees only that it failed.
                    return error.into_response();
                }
                let (title, message) = match &error {
                    // A failover: said for the person at the form, who
                    // has no Idempotency-Key but does have a Back button
                    // (the browser keeps what was typed).
                    HttpError::Domain(DomainError::DatabaseUnavailable) => (
                        "Not saved: the database is switching over",
                        "Nothing was saved. Use your browser's Back button: what you typed is still in the form. Send it again in a few seconds.".to_owned(),
                    ),
                    HttpError::Domain(DomainError::WriteOutcomeUnknown) => (
                        "Perhaps saved: the database connection was lost",
                        "The connection to the database was lost while this was being saved, so it may have been saved. Open the ticket (or the board) to check before sending it again; what you typed is still in the form behind the Back button.".to_owned(),
                    ),
                    other => (title_of(status), other.message()),
                };
                let mut response = html(
                    status,
                    &ErrorPage {
                        chrome: Chrome::signed_out(),
                        status: status.as_u16(),
                        title,
                        message,
                    },
                );
                let retry_after = match error {
                    HttpError::Domain(DomainError::RateLimited { retry_after_secs }) => {
                        Some(retry_after_secs)
                    }
                    HttpError::Domain(
                        DomainError::DatabaseUnavailable | DomainError::WriteOutcomeUnknown,
                    ) => Some(2),
                    _ => None,
                };
                if let Some(retry_after_secs) = retry_after {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, retry_after_secs.into());
                }
                response
            }
        }
    }
}

/// `text` as an SVG QR code a camera reads (drawn here, nothing fetched),
/// labelled for screen readers; empty if it cannot be encoded (the text
/// is always shown beside it).
pub(crate) fn qr_svg(text: &str, label: &str) -> String {
    use qrcode::render::svg;
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return String::new();
    };
    let drawn = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    let start = drawn.find("<svg").unwrap_or(0);
    let label = askama::filters::escape(label, askama::filters::Html)
        .map(|escaped| escaped.to_string())
        .unwrap_or_default();
    drawn[start..].replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" "),
        1,
    )
}
