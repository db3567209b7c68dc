//! Residents' contacts, managed on the resident's page: added, corrected,
//! removed. A refused form shows the resident's page again with the
//! reason and what was typed.

use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::model::{ContactId, ResidentId};
use connecticket_domain::service::ContactInput;
use connecticket_domain::Entity;

use super::confirm::{ask, confirmed, Confirmation};
use super::{submit, Administering};
use crate::console::form::Form;
use crate::console::render::{path_id, see_other, ConsoleError};
use crate::console::residents;
use crate::console::session::ConsoleRequest;
use crate::state::AppState;

fn contact_input(form: &Form, resident: i64) -> ContactInput {
    ContactInput {
        resident_id: resident,
        role: form.text("role").to_owned(),
        name: form.text("name").to_owned(),
        email: form.filled("email").map(str::to_owned),
        phone: form.filled("phone").map(str::to_owned),
        email_consent: form.checked("email_consent"),
        sms_consent: form.checked("sms_consent"),
    }
}

fn contacts_of(resident: i64) -> Response {
    see_other(&format!(
        "/console/residents/{resident}?done=contact#contacts"
    ))
}

pub(crate) async fn add(
    State(state): State<AppState>,
    Path(resident): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageContacts).await?;
    let resident = path_id(&resident, Entity::Resident)?;
    let admin = page.admin(&state, Action::ManageContacts).await?;
    let outcome = state
        .api
        .add_contact(admin, contact_input(&page.form, resident))
        .await;
    submit(
        &page.form,
        outcome,
        |_| contacts_of(resident),
        |refused| residents::render(&state, &page.console, resident, Some(refused), None),
    )
    .await
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Path((resident, contact)): Path<(String, String)>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageContacts).await?;
    let resident = path_id(&resident, Entity::Resident)?;
    let contact = ContactId(path_id(&contact, Entity::Contact)?);
    let admin = page.admin(&state, Action::ManageContacts).await?;
    let outcome = state
        .api
        .update_contact(admin, contact, contact_input(&page.form, resident))
        .await;
    submit(
        &page.form,
        outcome,
        |()| contacts_of(resident),
        |refused| residents::render(&state, &page.console, resident, Some(refused), None),
    )
    .await
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    Path((resident, contact)): Path<(String, String)>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageContacts).await?;
    let resident = path_id(&resident, Entity::Resident)?;
    let contact = ContactId(path_id(&contact, Entity::Contact)?);
    let admin = page.admin(&state, Action::ManageContacts).await?;
    if !confirmed(&page.form) {
        let known = state
            .api
            .list_contacts(admin, Some(ResidentId(resident)))
            .await?;
        let Some(found) = known.into_iter().find(|c| c.id == contact) else {
            return Err(page
                .not_found(&state, Action::ManageContacts, Entity::Contact)
                .await);
        };
        return Ok(ask(
            &page,
            Confirmation {
                heading: format!("Remove {}?", found.name),
                consequence: format!(
                    "{} ({}) will no longer be told about this resident's tickets. What was already sent to them stays in the record.",
                    found.name,
                    found.role.as_str().replace('_', " ")
                ),
                action: format!("/console/residents/{resident}/contacts/{contact}/remove"),
                button: format!("Remove {}", found.name),
                back: format!("/console/residents/{resident}#contacts"),
            },
        ));
    }
    state.api.remove_contact(admin, contact).await?;
    Ok(contacts_of(resident))
}
