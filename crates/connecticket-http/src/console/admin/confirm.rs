//! A second step before what cannot be undone (revoke, remove, replace a
//! secret): the first POST changes nothing and asks, naming the record and
//! what will happen; only the same form sent again with `confirmed=yes`
//! acts. Works without JavaScript.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::Administering;
use crate::console::form::Form;
use crate::console::render::{html, Chrome};

pub(crate) struct Confirmation {
    pub heading: String,
    /// What will happen, in the words of the person who must decide.
    pub consequence: String,
    /// The form's own path, posted again when confirmed.
    pub action: String,
    pub button: String,
    /// Where "Cancel" leads.
    pub back: String,
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    confirmation: Confirmation,
}

/// Whether the person confirmed.
pub(crate) fn confirmed(form: &Form) -> bool {
    form.field("confirmed") == Some("yes")
}

/// The question, as a page.
pub(crate) fn ask(page: &Administering, confirmation: Confirmation) -> Response {
    html(
        StatusCode::OK,
        &ConfirmPage {
            chrome: page.chrome(),
            confirmation,
        },
    )
}
