//! `/console/admin/escalation`: how long each urgency may wait for an
//! answer, the tiers told next, and the staff in those tiers.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::model::ContactId;
use connecticket_domain::notify::escalation::format_duration;
use connecticket_domain::service::{EscalationInput, StaffContactInput};
use connecticket_domain::workflow::UrgencyStatus;
use connecticket_domain::Entity;

use super::confirm::{ask, confirmed, Confirmation};
use super::{shown, submit, Administering, Refused};
use crate::console::form::Kept;
use crate::console::render::{html, path_id, see_other, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::state::AppState;

pub(crate) struct RuleRow {
    pub urgency_id: i64,
    pub urgency: &'static str,
    pub ack_within: String,
    pub renotify_after: String,
    /// The tiers in order, padded with empty slots to `TIER_SLOTS`.
    pub tiers: Vec<String>,
    /// What each tier may be: the roles staff hold, and any the rule
    /// names that nobody holds any more (shown as such).
    pub choices: Vec<(String, String)>,
}

/// How many tiers the form offers.
const TIER_SLOTS: usize = 3;

pub(crate) struct StaffRow {
    pub id: i64,
    pub role: String,
    pub name: String,
    pub reach: String,
}

#[derive(Template)]
#[template(path = "console/admin_escalation.html")]
struct EscalationPage {
    chrome: Chrome,
    rules: Vec<RuleRow>,
    staff: Vec<StaffRow>,
    message: Option<String>,
    kept: Kept,
}

async fn render(
    state: &AppState,
    page: &Administering,
    refused: Option<Refused>,
) -> Result<Response, ConsoleError> {
    let policy = state
        .api
        .escalation_policy(page.admin(state, Action::ProviderSettings).await?)
        .await?;
    let (status, message, kept) = shown(refused);
    let staff = state
        .api
        .list_staff_contacts(page.admin(state, Action::ProviderSettings).await?)
        .await?;
    let mut held: Vec<String> = staff.iter().map(|c| c.role.as_str().to_owned()).collect();
    held.sort();
    held.dedup();
    // A refused rule's tiers stay chosen, named for what they are.
    let choices_for = |urgency: i64, tiers: &[String]| {
        let mut tiers = tiers.to_vec();
        tiers.extend(kept.values(&format!("rule-{urgency}"), "then"));
        let mut choices: Vec<(String, String)> = held
            .iter()
            .map(|role| (role.clone(), role.replace('_', " ")))
            .collect();
        for tier in tiers.iter().filter(|t| !t.is_empty() && !held.contains(t)) {
            if choices.iter().any(|(value, _)| value == tier) {
                continue;
            }
            choices.push((
                tier.clone(),
                format!("{} (nobody holds this role)", tier.replace('_', " ")),
            ));
        }
        choices
    };
    let padded = |mut tiers: Vec<String>| {
        tiers.resize(TIER_SLOTS.max(tiers.len()), String::new());
        tiers
    };
    let rules = UrgencyStatus::ALL
        .iter()
        .rev()
        .map(|urgency| match policy.rule(urgency.id) {
            Some(rule) => RuleRow {
                urgency_id: urgency.id,
                urgency: urgency.name,
                ack_within: format_duration(rule.ack_within),
                renotify_after: format_duration(rule.renotify_after),
                tiers: padded(rule.tiers.iter().map(|t| t.as_str().to_owned()).collect()),
                choices: choices_for(
                    urgency.id,
                    &rule
                        .tiers
                        .iter()
                        .map(|t| t.as_str().to_owned())
                        .collect::<Vec<_>>(),
                ),
            },
            None => RuleRow {
                urgency_id: urgency.id,
                urgency: urgency.name,
                ack_within: "off".to_owned(),
                renotify_after: String::new(),
                tiers: padded(Vec::new()),
                choices: choices_for(urgency.id, &[]),
            },
        })
        .collect();
    let staff = staff
        .into_iter()
        .map(|c| StaffRow {
            id: c.id.get(),
            role: c.role.as_str().to_owned(),
            name: c.name,
            reach: [c.email, c.phone]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    Ok(html(
        status,
        &EscalationPage {
            chrome: page.chrome(),
            rules,
            staff,
            message,
            kept,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::ProviderSettings).await?;
    render(&state, &page, None).await
}

/// Sets one urgency's rule.
pub(crate) async fn set_rule(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageEscalation).await?;
    let form = &page.form;
    let input = EscalationInput {
        urgency: form.text("urgency").to_owned(),
        ack_within: form.filled("ack_within").map(str::to_owned),
        renotify_after: form.filled("renotify_after").map(str::to_owned),
        then: form.all("then").map(str::to_owned).collect(),
    };
    let admin = page.admin(&state, Action::ManageEscalation).await?;
    let outcome = state.api.set_escalation(admin, input).await;
    submit(
        form,
        outcome,
        |_| see_other("/console/admin/escalation?done=rule"),
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}

pub(crate) async fn add_staff(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageEscalation).await?;
    let form = &page.form;
    let input = StaffContactInput {
        role: form.text("role").to_owned(),
        name: form.text("name").to_owned(),
        email: form.filled("email").map(str::to_owned),
        phone: form.filled("phone").map(str::to_owned),
    };
    let admin = page.admin(&state, Action::ManageEscalation).await?;
    let outcome = state.api.add_staff_contact(admin, input).await;
    submit(
        form,
        outcome,
        |_| see_other("/console/admin/escalation?done=staff#staff"),
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}

pub(crate) async fn remove_staff(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageEscalation).await?;
    let id = ContactId(path_id(&id, Entity::Contact)?);
    let admin = page.admin(&state, Action::ManageEscalation).await?;
    if !confirmed(&page.form) {
        let staff = state.api.list_staff_contacts(admin).await?;
        let Some(found) = staff.into_iter().find(|c| c.id == id) else {
            return Err(page
                .not_found(&state, Action::ManageEscalation, Entity::Contact)
                .await);
        };
        return Ok(ask(
            &page,
            Confirmation {
                heading: format!("Remove {} from the escalation?", found.name),
                consequence: format!(
                    "{} will no longer be told when a ticket escalates to the {} tier. If nobody else holds that role, the tier is skipped.",
                    found.name,
                    found.role.as_str().replace('_', " ")
                ),
                action: format!("/console/admin/escalation/staff/{id}/remove"),
                button: format!("Remove {}", found.name),
                back: "/console/admin/escalation#staff".to_owned(),
            },
        ));
    }
    state.api.remove_staff_contact(admin, id).await?;
    Ok(see_other("/console/admin/escalation?done=removed#staff"))
}
