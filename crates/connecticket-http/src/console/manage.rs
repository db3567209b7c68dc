//! Administration beyond accounts: the audit trail (with CSV export), the
//! notification queue (with retry), escalation rules, residents' contacts
//! and categories. The use cases refuse staff; these handlers only turn
//! forms into their input and their answers into pages.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeZone};
use connecticket_domain::audit::{Action, AuditRecord};
use connecticket_domain::model::{CategoryId, ContactId, ContactRole, NotificationId};
use connecticket_domain::notify::templates::{self, Templates};
use connecticket_domain::notify::NoticeFilter;
use connecticket_domain::service::{
    AuditFilter, ConsoleCall, ContactInput, EscalationInput, NotifyRules, StaffContactInput,
};
use connecticket_domain::workflow::UrgencyStatus;
use connecticket_domain::{DomainError, Entity};
use futures::StreamExt;

use super::board::Choice;
use super::render::{html, local, path_id, see_other, Chrome, ConsoleError};
use super::session::ConsoleRequest;
use crate::error::HttpError;
use crate::state::AppState;
use crate::wire::RequestParams;

/// A refused form shown on its page; anything else as an error page.
fn refusal_message(error: DomainError) -> Result<(StatusCode, String), ConsoleError> {
    match error {
        DomainError::Invalid(_) | DomainError::Duplicate { .. } | DomainError::NotFound(_) => {
            let error = HttpError::from(error);
            Ok((error.status(), error.message()))
        }
        other => Err(other.into()),
    }
}

// ---- the audit trail ----

pub(crate) struct AuditRow {
    pub at: String,
    pub action: &'static str,
    pub outcome: &'static str,
    pub who: String,
    pub records: String,
}

#[derive(Template)]
#[template(path = "console/admin_audit.html")]
struct AuditPage {
    chrome: Chrome,
    rows: Vec<AuditRow>,
    resident: String,
    ticket: String,
    since: String,
    until: String,
    query: String,
    limit: usize,
}

/// The day a `YYYY-MM-DD` field names, as the start of that day in the
/// provider's zone.
fn day(
    params: &RequestParams,
    name: &str,
    zone: chrono_tz::Tz,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, HttpError> {
    let Some(text) = params.non_blank(name) else {
        return Ok(None);
    };
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        HttpError::InvalidParameter(format!("{name} must be a date like 2026-11-01"))
    })?;
    let start = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    Ok(zone
        .from_local_datetime(&start)
        .earliest()
        .map(|at| at.with_timezone(&chrono::Utc)))
}

fn number(params: &RequestParams, name: &str) -> Result<Option<i64>, HttpError> {
    params
        .non_blank(name)
        .map(|text| {
            text.trim()
                .parse()
                .map_err(|_| HttpError::InvalidParameter(format!("{name} must be a number")))
        })
        .transpose()
}

fn audit_filter(params: &RequestParams, console: &ConsoleCall) -> Result<AuditFilter, HttpError> {
    let zone = console.holder.provider.zone();
    Ok(AuditFilter {
        provider_id: None,
        application_id: None,
        resident_id: number(params, "resident")?,
        ticket_id: number(params, "ticket")?,
        since: day(params, "since", zone)?,
        // The whole `until` day is included.
        until: day(params, "until", zone)?.map(|at| at + chrono::Duration::days(1)),
    })
}

fn who(record: &AuditRecord) -> String {
    match (record.employee_id, record.application_id) {
        (Some(employee), Some(application)) => {
            format!("employee {employee} via application {application}")
        }
        (Some(employee), None) => format!("employee {employee}"),
        (None, Some(application)) => format!("application {application}"),
        (None, None) => "operator or system".to_owned(),
    }
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::AuditTrail).await?;
    let console = &signed.console;
    let params = &signed.params;
    let filter = match audit_filter(params, console) {
        Ok(filter) => filter,
        Err(error) => {
            console.refuse(Action::AuditTrail, error.outcome()).await;
            return Err(error.into());
        }
    };
    let zone = console.holder.provider.zone();
    let records = state
        .api
        .provider_audit(console.call(Action::AuditTrail), filter)
        .await?;
    let text = |name: &str| params.get(name).unwrap_or_default().to_owned();
    let query = ["resident", "ticket", "since", "until"]
        .iter()
        .filter_map(|name| {
            params.non_blank(name).map(|v| {
                format!(
                    "{name}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
        })
        .collect::<Vec<_>>()
        .join("&");
    let page = AuditPage {
        chrome: Chrome::of(console, "admin"),
        rows: records
            .iter()
            .map(|r| AuditRow {
                at: local(r.at, zone),
                action: r.action.as_str(),
                outcome: r.outcome.as_str(),
                who: who(r),
                records: r.records.join(" "),
            })
            .collect(),
        resident: text("resident"),
        ticket: text("ticket"),
        since: text("since"),
        until: text("until"),
        query,
        limit: connecticket_domain::service::AUDIT_PAGE_LIMIT,
    };
    Ok(html(StatusCode::OK, &page))
}

/// `GET /console/admin/audit.csv`: every matching entry, streamed.
pub(crate) async fn audit_csv(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::AuditTrail).await?;
    let console = &signed.console;
    let filter = match audit_filter(&signed.params, console) {
        Ok(filter) => filter,
        Err(error) => {
            console.refuse(Action::AuditTrail, error.outcome()).await;
            return Err(error.into());
        }
    };
    let rows = state
        .api
        .export_provider_audit(console.call(Action::AuditTrail), filter)
        .await?;
    let header = csv_bytes(std::iter::once(AuditRecord::CSV_HEADER.map(str::to_owned)));
    let body = futures::stream::once(async move { Ok::<_, std::io::Error>(header) }).chain(
        rows.map(|chunk| {
            chunk
                .map(|records| csv_bytes(records.iter().map(AuditRecord::csv_fields)))
                .map_err(std::io::Error::other)
        }),
    );
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"audit.csv\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

fn csv_bytes(rows: impl Iterator<Item = [String; 12]>) -> bytes::Bytes {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing into memory cannot fail.
        let _ = writer.write_record(row);
    }
    bytes::Bytes::from(writer.into_inner().unwrap_or_default())
}

// ---- the notification queue ----

pub(crate) struct QueueRow {
    pub id: i64,
    pub ticket_id: i64,
    pub event: &'static str,
    pub to: String,
    pub status: &'static str,
    pub attempts: i64,
    pub queued: String,
    pub acknowledged: bool,
    pub retryable: bool,
}

#[derive(Template)]
#[template(path = "console/admin_notifications.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<QueueRow>,
    states: Vec<Choice>,
}

pub(crate) async fn notifications(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::Notifications).await?;
    let console = &signed.console;
    let chosen = signed
        .params
        .non_blank("state")
        .unwrap_or_default()
        .to_owned();
    let filter = NoticeFilter::parse(&chosen);
    let zone = console.holder.provider.zone();
    let found = state
        .api
        .notification_queue(console.call(Action::Notifications), filter)
        .await?;
    let rows = found
        .iter()
        .map(|n| QueueRow {
            id: n.id.get(),
            ticket_id: n.ticket_id.get(),
            event: n.event.as_str(),
            to: format!(
                "{} by {}",
                n.role.as_str().replace('_', " "),
                n.channel.as_str()
            ),
            status: n.status.as_str(),
            attempts: n.attempts,
            queued: local(n.created_at, zone),
            acknowledged: n.acknowledged_at.is_some(),
            retryable: n.status != connecticket_domain::notify::DeliveryState::Delivered,
        })
        .collect();
    let states = [
        "",
        "pending",
        "delivered",
        "failed",
        "unacknowledged",
        "overdue",
    ]
    .iter()
    .map(|s| Choice {
        value: (*s).to_owned(),
        label: if s.is_empty() {
            "All".to_owned()
        } else {
            (*s).to_owned()
        },
        selected: chosen == *s,
    })
    .collect();
    Ok(html(
        StatusCode::OK,
        &QueuePage {
            chrome: Chrome::of(console, "admin"),
            rows,
            states,
        },
    ))
}

pub(crate) async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::Notifications).await?;
    let id = NotificationId(path_id(&id, Entity::Notification)?);
    state
        .api
        .retry_console_notification(signed.console.call(Action::Notifications), id)
        .await?;
    Ok(see_other("/console/admin/notifications"))
}

// ---- escalation ----

pub(crate) struct RuleRow {
    pub urgency_id: i64,
    pub urgency: &'static str,
    pub ack_within: String,
    pub renotify_after: String,
    pub tiers: String,
}

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
}

fn spelled(duration: chrono::Duration) -> String {
    let seconds = duration.num_seconds();
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

async fn escalation_page(
    state: &AppState,
    console: &ConsoleCall,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, ConsoleError> {
    let policy = state
        .api
        .console_escalation_policy(console.call(Action::ConsolePage))
        .await?;
    let rules = UrgencyStatus::ALL
        .iter()
        .rev()
        .map(|urgency| match policy.rules.get(&urgency.id) {
            Some(rule) => RuleRow {
                urgency_id: urgency.id,
                urgency: urgency.name,
                ack_within: spelled(rule.ack_within),
                renotify_after: spelled(rule.renotify_after),
                tiers: rule
                    .tiers
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect::<Vec<_>>()
                    .join(","),
            },
            None => RuleRow {
                urgency_id: urgency.id,
                urgency: urgency.name,
                ack_within: "off".to_owned(),
                renotify_after: String::new(),
                tiers: String::new(),
            },
        })
        .collect();
    let staff = state
        .api
        .console_staff_contacts(console.call(Action::ConsolePage))
        .await?
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
            chrome: Chrome::of(console, "admin"),
            rules,
            staff,
            message,
        },
    ))
}

pub(crate) async fn escalation(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ConsolePage).await?;
    escalation_page(&state, &signed.console, StatusCode::OK, None).await
}

pub(crate) async fn set_escalation(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageEscalation).await?;
    let params = &signed.params;
    let input = EscalationInput {
        urgency: params.get("urgency").unwrap_or_default().to_owned(),
        ack_within: params.non_blank("ack_within").map(str::to_owned),
        renotify_after: params.non_blank("renotify_after").map(str::to_owned),
        then: params
            .get("then")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let console = &signed.console;
    match state
        .api
        .set_console_escalation(console.call(Action::ManageEscalation), input)
        .await
    {
        Ok(()) => Ok(see_other("/console/admin/escalation")),
        Err(error) => {
            let (status, message) = refusal_message(error)?;
            escalation_page(&state, console, status, Some(message)).await
        }
    }
}

pub(crate) async fn add_staff(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageEscalation).await?;
    let params = &signed.params;
    let input = StaffContactInput {
        role: params.get("role").unwrap_or_default().to_owned(),
        name: params.get("name").unwrap_or_default().to_owned(),
        email: params.non_blank("email").map(str::to_owned),
        phone: params.non_blank("phone").map(str::to_owned),
    };
    let console = &signed.console;
    match state
        .api
        .add_console_staff_contact(console.call(Action::ManageEscalation), input)
        .await
    {
        Ok(_) => Ok(see_other("/console/admin/escalation#staff")),
        Err(error) => {
            let (status, message) = refusal_message(error)?;
            escalation_page(&state, console, status, Some(message)).await
        }
    }
}

pub(crate) async fn remove_staff(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageEscalation).await?;
    let id = ContactId(path_id(&id, Entity::Contact)?);
    state
        .api
        .remove_console_staff_contact(signed.console.call(Action::ManageEscalation), id)
        .await?;
    Ok(see_other("/console/admin/escalation#staff"))
}

// ---- contacts ----

fn flag(params: &RequestParams, name: &str) -> bool {
    params.get(name).is_some_and(|v| v == "1")
}

fn contact_input(params: &RequestParams, resident: i64) -> ContactInput {
    ContactInput {
        resident_id: resident,
        role: params.get("role").unwrap_or_default().to_owned(),
        name: params.get("name").unwrap_or_default().to_owned(),
        email: params.non_blank("email").map(str::to_owned),
        phone: params.non_blank("phone").map(str::to_owned),
        email_consent: flag(params, "email_consent"),
        sms_consent: flag(params, "sms_consent"),
    }
}

pub(crate) async fn add_contact(
    State(state): State<AppState>,
    Path(resident): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageContacts).await?;
    let resident = path_id(&resident, Entity::Resident)?;
    let input = contact_input(&signed.params, resident);
    let console = &signed.console;
    match state
        .api
        .add_console_contact(console.call(Action::ManageContacts), input)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/console/residents/{resident}#contacts"
        ))),
        Err(error) => {
            let (status, message) = refusal_message(error)?;
            super::residents::render(&state, console, resident, status, Some(message)).await
        }
    }
}

pub(crate) async fn update_contact(
    State(state): State<AppState>,
    Path((resident, contact)): Path<(String, String)>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageContacts).await?;
    let resident = path_id(&resident, Entity::Resident)?;
    let contact = ContactId(path_id(&contact, Entity::Contact)?);
    let input = contact_input(&signed.params, resident);
    let console = &signed.console;
    match state
        .api
        .update_console_contact(console.call(Action::ManageContacts), contact, input)
        .await
    {
        Ok(()) => Ok(see_other(&format!(
            "/console/residents/{resident}#contacts"
        ))),
        Err(error) => {
            let (status, message) = refusal_message(error)?;
            super::residents::render(&state, console, resident, status, Some(message)).await
        }
    }
}

pub(crate) async fn remove_contact(
    State(state): State<AppState>,
    Path((resident, contact)): Path<(String, String)>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageContacts).await?;
    let resident = path_id(&resident, Entity::Resident)?;
    let contact = ContactId(path_id(&contact, Entity::Contact)?);
    state
        .api
        .remove_console_contact(signed.console.call(Action::ManageContacts), contact)
        .await?;
    Ok(see_other(&format!(
        "/console/residents/{resident}#contacts"
    )))
}

// ---- categories ----

#[derive(Template)]
#[template(path = "console/admin_categories.html")]
struct CategoriesPage {
    chrome: Chrome,
    categories: Vec<(i64, String)>,
    message: Option<String>,
}

async fn categories_page(
    state: &AppState,
    console: &ConsoleCall,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, ConsoleError> {
    let categories = state
        .api
        .console_categories(console.call(Action::ProviderCategories))
        .await?
        .into_iter()
        .map(|c| (c.id.get(), c.name))
        .collect();
    Ok(html(
        status,
        &CategoriesPage {
            chrome: Chrome::of(console, "admin"),
            categories,
            message,
        },
    ))
}

pub(crate) async fn categories(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ProviderCategories).await?;
    categories_page(&state, &signed.console, StatusCode::OK, None).await
}

pub(crate) async fn add_category(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageCategories).await?;
    let console = &signed.console;
    let name = signed.params.get("name").unwrap_or_default();
    match state
        .api
        .add_console_category(console.call(Action::ManageCategories), name)
        .await
    {
        Ok(_) => Ok(see_other("/console/admin/categories")),
        Err(error) => {
            let (status, message) = refusal_message(error)?;
            categories_page(&state, console, status, Some(message)).await
        }
    }
}

// ---- notification templates ----

pub(crate) struct RoleChoice {
    pub value: &'static str,
    pub label: String,
    pub on_created: bool,
    pub on_status_change: bool,
}

#[derive(Template)]
#[template(path = "console/admin_templates.html")]
struct TemplatesPage {
    chrome: Chrome,
    roles: Vec<RoleChoice>,
    quiet_hours: String,
    callback_phone: String,
    sms: String,
    email_subject: String,
    email_body: String,
    preview: Vec<(&'static str, String)>,
    message: Option<String>,
    saved: bool,
}

/// What each part would read for the sample resident; a part left empty
/// keeps the default wording.
fn preview(
    templates: &Templates,
    provider: &str,
    callback: Option<&str>,
) -> Vec<(&'static str, String)> {
    let callback = callback.unwrap_or(provider);
    let fill = |part: &Option<String>| match part {
        Some(text) => templates::fill(text, templates::PREVIEW_RESIDENT, provider, callback),
        None => "(the default wording)".to_owned(),
    };
    vec![
        ("SMS", fill(&templates.sms)),
        ("Email subject", fill(&templates.email_subject)),
        ("Email body", fill(&templates.email_body)),
    ]
}

fn templates_of(params: &RequestParams) -> Templates {
    let part = |name: &str| params.non_blank(name).map(str::to_owned);
    Templates {
        sms: part("sms"),
        email_subject: part("email_subject"),
        email_body: part("email_body"),
    }
}

async fn templates_page(
    state: &AppState,
    console: &ConsoleCall,
    shown: Option<Templates>,
    status: StatusCode,
    message: Option<String>,
    saved: bool,
) -> Result<Response, ConsoleError> {
    let policy = state
        .api
        .console_notify_policy(console.call(Action::ConsolePage))
        .await?;
    let templates = shown.unwrap_or(policy.templates);
    let provider = console.holder.provider.name.clone();
    let text = |part: &Option<String>| part.clone().unwrap_or_default();
    let roles = ContactRole::ALL
        .iter()
        .map(|role| RoleChoice {
            value: role.as_str(),
            label: role.as_str().replace('_', " "),
            on_created: policy.on_created.contains(role),
            on_status_change: policy.on_status_change.contains(role),
        })
        .collect();
    Ok(html(
        status,
        &TemplatesPage {
            chrome: Chrome::of(console, "admin"),
            roles,
            quiet_hours: policy.quiet_hours.render(),
            callback_phone: policy.callback_phone.clone().unwrap_or_default(),
            sms: text(&templates.sms),
            email_subject: text(&templates.email_subject),
            email_body: text(&templates.email_body),
            preview: preview(&templates, &provider, policy.callback_phone.as_deref()),
            message,
            saved,
        },
    ))
}

pub(crate) async fn templates(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ConsolePage).await?;
    let saved = signed.params.get("saved").is_some();
    templates_page(&state, &signed.console, None, StatusCode::OK, None, saved).await
}

/// Saves the templates, or (`preview`) shows what they would read without
/// saving; either way each part is checked as saving checks it.
pub(crate) async fn set_templates(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::NotifyPolicy).await?;
    let console = &signed.console;
    let sent = templates_of(&signed.params);
    if signed.params.get("preview").is_some() {
        return match templates::check_all(sent.clone()) {
            Ok(checked) => {
                templates_page(&state, console, Some(checked), StatusCode::OK, None, false).await
            }
            Err(error) => {
                let (status, message) = refusal_message(error)?;
                templates_page(&state, console, Some(sent), status, Some(message), false).await
            }
        };
    }
    match state
        .api
        .set_console_templates(console.call(Action::NotifyPolicy), sent.clone())
        .await
    {
        Ok(()) => Ok(see_other("/console/admin/templates?saved")),
        Err(error) => {
            let (status, message) = refusal_message(error)?;
            templates_page(&state, console, Some(sent), status, Some(message), false).await
        }
    }
}

/// Who is told of a new ticket and of a status change, quiet hours and
/// the callback number.
pub(crate) async fn set_notify_rules(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::NotifyPolicy).await?;
    let params = &signed.params;
    let chosen = |event: &str| {
        ContactRole::ALL
            .into_iter()
            .filter(|role| flag(params, &format!("{event}_{}", role.as_str())))
            .collect()
    };
    let rules = NotifyRules {
        on_created: chosen("created"),
        on_status_change: chosen("status"),
        quiet_hours: params.get("quiet_hours").unwrap_or_default().to_owned(),
        callback_phone: params.non_blank("callback_phone").map(str::to_owned),
    };
    let console = &signed.console;
    match state
        .api
        .set_console_notify_rules(console.call(Action::NotifyPolicy), rules)
        .await
    {
        Ok(()) => Ok(see_other("/console/admin/templates?saved")),
        Err(error) => {
            let (status, message) = refusal_message(error)?;
            templates_page(&state, console, None, status, Some(message), false).await
        }
    }
}

pub(crate) async fn rename_category(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageCategories).await?;
    let id = CategoryId(path_id(&id, Entity::Category)?);
    let console = &signed.console;
    let name = signed.params.get("name").unwrap_or_default();
    match state
        .api
        .rename_console_category(console.call(Action::ManageCategories), id, name)
        .await
    {
        Ok(_) => Ok(see_other("/console/admin/categories")),
        Err(error) => {
            let (status, message) = refusal_message(error)?;
            categories_page(&state, console, status, Some(message)).await
        }
    }
}
