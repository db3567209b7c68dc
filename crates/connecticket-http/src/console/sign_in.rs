//! Signing in and out, invitation links, and the signed-in person's own
//! account (the second factor).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use connecticket_domain::audit::Action;
use connecticket_domain::auth::constant_time_eq;
use connecticket_domain::console::totp;
use connecticket_domain::service::{SecondFactorEnrolment, SignInAttempt, DEVICE_COOKIE_SECS};
use connecticket_domain::DomainError;

use super::drafts;
use super::render::{html, qr_svg, see_other, Chrome, ConsoleError};
use super::session::{
    cookie, lasting_cookie, set_cookie, ConsoleRequest, DEVICE_COOKIE, SESSION_COOKIE,
    SIGN_IN_COOKIE,
};
use crate::extract::within;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    message: Option<String>,
    signed_out: bool,
    /// Why the person must sign in again, in words.
    reason: Option<&'static str>,
    /// Where they go once signed in.
    next: String,
}

/// Why the sign-in page is shown, and where it leads back to.
#[derive(Default)]
struct Return {
    signed_out: bool,
    reason: Option<&'static str>,
    next: String,
}

impl Return {
    fn of(request: &ConsoleRequest) -> Self {
        let mut found = Return::default();
        let query = request.parts.uri.query().unwrap_or_default();
        let mut lapsed = false;
        let mut lost = false;
        for (name, value) in form_urlencoded_pairs(query) {
            match name.as_str() {
                "signed-out" => found.signed_out = true,
                "reason" => lapsed = value == "idle",
                "draft" => lost = value == "lost",
                "next" => found.next = drafts::safe_next(&value).unwrap_or_default(),
                _ => {}
            }
        }
        let kept = drafts::held(&request.parts.headers);
        found.reason = match (lapsed, kept, lost) {
            (true, true, _) => Some("You were signed out after 15 minutes without activity, to keep residents' records safe. What you were typing is kept: sign in and it will be back in its form, ready to send."),
            (true, false, true) => Some("You were signed out after 15 minutes without activity, to keep residents' records safe. What you were typing was too long to keep; sign in to continue."),
            (true, false, false) => Some("You were signed out after 15 minutes without activity, to keep residents' records safe. Sign in to continue where you were."),
            (false, ..) => None,
        };
        found
    }
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let _ = crate::wire::urlencoded::for_each_pair(query.as_bytes(), |name, value| {
        pairs.push((name, value));
        Ok(())
    });
    pairs
}

/// The sign-in form with a fresh token this server issued (double
/// submitted: cookie and field).
fn sign_in_page(
    state: &AppState,
    status: StatusCode,
    email: &str,
    message: Option<String>,
    back: Return,
) -> Response {
    let csrf = state.api.issue_form_token();
    let mut response = html(
        status,
        &SignInPage {
            chrome: Chrome::signed_out(),
            csrf: csrf.clone(),
            email: email.to_owned(),
            message,
            signed_out: back.signed_out,
            reason: back.reason,
            next: back.next,
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, SIGN_IN_COOKIE, Some(&csrf)),
    );
    response
}

/// Whether a form without a session came back with the token this server
/// issued it, in both its cookie and its field.
fn same_form(state: &AppState, cookie: Option<&str>, params: &crate::wire::RequestParams) -> bool {
    match (cookie, params.from_body("csrf")) {
        (Some(cookie), Some(field)) => {
            constant_time_eq(cookie.as_bytes(), field.as_bytes())
                && state.api.form_token_valid(field)
        }
        _ => false,
    }
}

pub(crate) async fn form(State(state): State<AppState>, request: ConsoleRequest) -> Response {
    let back = Return::of(&request);
    let mut page = sign_in_page(&state, StatusCode::OK, "", None, back);
    // A page refreshing part of itself (htmx) whose session ended was
    // redirected here: the whole window goes to the sign-in form instead
    // of a fragment of it.
    if request.parts.headers.contains_key("hx-request") {
        page.headers_mut()
            .insert("hx-redirect", HeaderValue::from_static("/console/sign-in"));
    }
    page
}

pub(crate) async fn submit(State(state): State<AppState>, request: ConsoleRequest) -> Response {
    let expected = cookie(&request.parts.headers, SIGN_IN_COOKIE);
    let request_headers = request.parts.headers.clone();
    let context = request.context();
    let params = match request.anonymous_form(&state).await {
        Ok(params) => params,
        Err(error) => return error.into_response(),
    };
    let email = params.get("email").unwrap_or_default().to_owned();
    let next = params
        .get("next")
        .and_then(drafts::safe_next)
        .unwrap_or_default();
    let back = || Return {
        next: next.clone(),
        ..Return::default()
    };
    if !same_form(&state, expected.as_deref(), &params) {
        let message =
            "This form is out of date or came from elsewhere; please try again".to_owned();
        return sign_in_page(&state, StatusCode::FORBIDDEN, &email, Some(message), back());
    }
    let device = cookie(&request_headers, DEVICE_COOKIE);
    let attempt = state.api.sign_in(
        &context,
        SignInAttempt {
            email: &email,
            password: params.get("password").unwrap_or_default(),
            code: params.non_blank("code"),
            device: device.as_deref(),
        },
    );
    let signed_in = match within(&context, &state, attempt).await {
        Ok(Ok(signed_in)) => signed_in,
        Ok(Err(error)) => {
            let retry_after = match &error {
                DomainError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
                _ => None,
            };
            let error = crate::error::HttpError::from(error);
            let mut page = sign_in_page(
                &state,
                error.status(),
                &email,
                Some(error.message()),
                back(),
            );
            if let Some(seconds) = retry_after {
                page.headers_mut()
                    .insert(header::RETRY_AFTER, seconds.into());
            }
            return page;
        }
        Err(error) => return ConsoleError::from(error).into_response(),
    };
    // Back where the person was when the session lapsed, or the board.
    let mut response = see_other(if next.is_empty() { "/console" } else { &next });
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, Some(&signed_in.token)),
    );
    headers.append(header::SET_COOKIE, set_cookie(&state, SIGN_IN_COOKIE, None));
    // This browser is now one the account signed in on: its next sign-in
    // has a lane of its own, and strangers' failures do not lock it out.
    headers.append(
        header::SET_COOKIE,
        lasting_cookie(&state, DEVICE_COOKIE, &signed_in.device, DEVICE_COOKIE_SECS),
    );
    response
}

/// `POST /console/keep-alive`: the person answered the warning before
/// the idle logoff; their session counts them as active now.
pub(crate) async fn keep_alive(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    request.form(&state, Action::ConsolePage).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /console/sign-out`: this session ends.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::SignOut).await?;
    state
        .api
        .sign_out(signed.console.call(Action::SignOut))
        .await?;
    Ok(signed_out(&state))
}

/// `POST /console/sign-out-everywhere`: every session of this person ends.
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::SignOut).await?;
    state
        .api
        .sign_out_everywhere(signed.console.call(Action::SignOut))
        .await?;
    Ok(signed_out(&state))
}

/// To the sign-in page, the session cookie gone.
fn signed_out(state: &AppState) -> Response {
    let mut response = see_other("/console/sign-in?signed-out");
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(state, SESSION_COOKIE, None));
    response
}

#[derive(Template)]
#[template(path = "console/invite.html")]
struct InvitePage {
    chrome: Chrome,
    token: String,
    csrf: String,
    name: String,
    email: String,
    provider: String,
    message: Option<String>,
}

#[derive(Template)]
#[template(path = "console/invite_done.html")]
struct InviteDone {
    chrome: Chrome,
}

fn invite_page(
    state: &AppState,
    status: StatusCode,
    token: &str,
    holder: &connecticket_domain::console::AccountHolder,
    message: Option<String>,
) -> Response {
    let csrf = state.api.issue_form_token();
    let mut response = html(
        status,
        &InvitePage {
            chrome: Chrome::signed_out(),
            token: token.to_owned(),
            csrf: csrf.clone(),
            name: holder.employee_name.clone(),
            email: holder.account.email.clone(),
            provider: holder.provider.name.clone(),
            message,
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, SIGN_IN_COOKIE, Some(&csrf)),
    );
    response
}

/// `GET /console/invite/{token}`: the form to set a password, if the link
/// still works (a used, expired or unknown link is one 404).
pub(crate) async fn invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let context = request.context();
    let found = state.api.invitation(&context, &token).await?;
    let holder = found.ok_or(DomainError::NotFound(connecticket_domain::Entity::Employee))?;
    Ok(invite_page(&state, StatusCode::OK, &token, &holder, None))
}

pub(crate) async fn accept(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let expected = cookie(&request.parts.headers, SIGN_IN_COOKIE);
    let context = request.context();
    let params = request.anonymous_form(&state).await?;
    if !same_form(&state, expected.as_deref(), &params) {
        return Err(DomainError::Forbidden(
            "This form is out of date or came from elsewhere; reload the page and try again",
        )
        .into());
    }
    let password = params.get("password").unwrap_or_default();
    match state
        .api
        .accept_invitation(&context, &token, password)
        .await
    {
        Ok(_) => {
            let mut response = html(
                StatusCode::OK,
                &InviteDone {
                    chrome: Chrome::signed_out(),
                },
            );
            response
                .headers_mut()
                .append(header::SET_COOKIE, set_cookie(&state, SIGN_IN_COOKIE, None));
            Ok(response)
        }
        Err(DomainError::Invalid(invalid)) => {
            let holder = state
                .api
                .invitation(&context, &token)
                .await?
                .ok_or(DomainError::NotFound(connecticket_domain::Entity::Employee))?;
            let message = crate::error::HttpError::from(DomainError::Invalid(invalid)).message();
            Ok(invite_page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                &holder,
                Some(message),
            ))
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage {
    chrome: Chrome,
    name: String,
    email: String,
    role: &'static str,
    enrolled: bool,
    required: bool,
    secret: String,
    /// The secret, signed for this session: what the form sends back.
    offer: String,
    uri: String,
    /// The URI as a QR code (SVG, drawn here: nothing is fetched).
    qr: String,
    message: Option<String>,
}

/// The account page, offering a new second-factor secret: a fresh one, or
/// again the one the person was setting up (`offer`, when it is genuine).
fn account_page(
    state: &AppState,
    console: &connecticket_domain::service::ConsoleCall,
    status: StatusCode,
    offered: Option<&str>,
    message: Option<String>,
) -> Response {
    let holder = &console.holder;
    let secret = offered
        .and_then(|offer| offer.rsplit_once('.'))
        .and_then(|(text, _)| totp::secret_from_text(text))
        .filter(|secret| {
            let (_, offer) = state.api.totp_offer(console, secret);
            offered == Some(offer.as_str())
        })
        .unwrap_or_else(totp::generate_secret);
    let (text, offer) = state.api.totp_offer(console, &secret);
    let uri = totp::provisioning_uri(&secret, &holder.provider.name, &holder.account.email);
    html(
        status,
        &AccountPage {
            chrome: Chrome::of(console, "account"),
            name: holder.employee_name.clone(),
            email: holder.account.email.clone(),
            role: holder.account.role.title(),
            enrolled: holder.account.has_second_factor(),
            required: holder.provider_requires_totp,
            secret: text,
            offer,
            qr: qr_svg(&uri, "QR code for your authenticator app"),
            uri,
            message,
        },
    )
}

/// `GET /console/account`. Reads nothing but the session's own account.
pub(crate) async fn account(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ConsoleAccount).await?;
    Ok(account_page(
        &state,
        &signed.console,
        StatusCode::OK,
        None,
        None,
    ))
}

/// `POST /console/account/second-factor`: sets up, or replaces, the
/// person's second factor (the password, and a current code to replace).
pub(crate) async fn enrol(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ConsoleAccount).await?;
    let params = &signed.params;
    let offer = params.from_body("offer").unwrap_or_default().to_owned();
    let enrolled = state
        .api
        .enrol_second_factor(
            &signed.console,
            SecondFactorEnrolment {
                offer: &offer,
                code: params.from_body("code").unwrap_or_default(),
                password: params.from_body("password").unwrap_or_default(),
                current_code: params.from_body("current_code"),
            },
        )
        .await;
    match enrolled {
        Ok(()) => Ok(see_other("/console/account")),
        Err(DomainError::Invalid(invalid)) => {
            let message = crate::error::HttpError::from(DomainError::Invalid(invalid)).message();
            Ok(account_page(
                &state,
                &signed.console,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&offer),
                Some(message),
            ))
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::qr_svg;

    #[test]
    fn the_second_factor_uri_is_drawn_as_an_inline_svg_qr_code() {
        let uri = "otpauth://totp/Example%20Provider:dana%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Example%20Provider";
        let svg = qr_svg(uri, "QR code for your authenticator app");
        assert!(
            svg.starts_with("<svg role=\"img\" aria-label=\"QR code for your authenticator app\" "),
            "{svg}"
        );
        assert!(
            !svg.contains("<?xml") && !svg.contains("<script") && svg.contains("<path"),
            "{svg}"
        );
        assert_ne!(
            svg,
            qr_svg(&uri.replace("JBSWY3DP", "KRSXG5CT"), "QR code"),
            "the code carries the secret"
        );
    }
}
