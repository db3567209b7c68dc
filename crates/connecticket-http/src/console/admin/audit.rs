//! `/console/admin/audit`: the provider's audit trail, filtered, and its
//! CSV export.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeZone};
use connecticket_domain::audit::{Action, AuditRecord};
use connecticket_domain::service::{Actors, AdminCall, AuditFilter, AUDIT_PAGE_LIMIT};
use futures::StreamExt;

use super::Administering;
use crate::console::form::Form;
use crate::console::render::{html, local, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::error::HttpError;
use crate::state::AppState;

pub(crate) struct AuditRow {
    pub at: String,
    pub action: String,
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
    who: String,
    query: String,
    limit: usize,
}

/// The filters the page and its export take.
const FILTERS: [&str; 5] = ["resident", "ticket", "since", "until", "who"];

/// The day a `YYYY-MM-DD` filter names, as the start of that day in the
/// provider's zone.
fn day(
    form: &Form,
    name: &str,
    zone: chrono_tz::Tz,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, HttpError> {
    let Some(text) = form.query(name) else {
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

fn audit_filter(page: &Administering, names: Option<&Names>) -> Result<AuditFilter, HttpError> {
    let zone = page.console.holder.provider.zone();
    let form = &page.form;
    let by = form
        .query("who")
        .zip(names)
        .map(|(who, names)| names.matching(who));
    Ok(AuditFilter {
        by,
        provider_id: None,
        application_id: None,
        resident_id: form.query_number("resident")?,
        ticket_id: form.query_number("ticket")?,
        since: day(form, "since", zone)?,
        // The whole `until` day is included.
        until: day(form, "until", zone)?.map(|at| at + chrono::Duration::days(1)),
    })
}

/// The provider's people and programs by id, to name them.
#[derive(Default)]
struct Names {
    employees: BTreeMap<i64, String>,
    applications: BTreeMap<i64, String>,
}

impl Names {
    /// The employees and applications whose names contain `text`, any
    /// case.
    fn matching(&self, text: &str) -> Actors {
        let text = text.trim().to_lowercase();
        let ids = |names: &BTreeMap<i64, String>| {
            names
                .iter()
                .filter(|(_, name)| name.to_lowercase().contains(&text))
                .map(|(id, _)| *id)
                .collect()
        };
        Actors {
            employees: ids(&self.employees),
            applications: ids(&self.applications),
        }
    }

    /// Who made the call an entry records, by name (with the id, which
    /// the export and the CLI use).
    fn who(&self, record: &AuditRecord) -> String {
        let employee = |id: i64| match self.employees.get(&id) {
            Some(name) => format!("{name} (employee {id})"),
            None => format!("employee {id}"),
        };
        let application = |id: i64| match self.applications.get(&id) {
            Some(name) => format!("“{name}” (application {id})"),
            None => format!("application {id}"),
        };
        match (record.employee_id, record.application_id, &record.actor) {
            (Some(e), Some(a), _) => format!("{} through {}", employee(e), application(a)),
            (Some(e), None, _) => employee(e),
            (None, Some(a), _) => application(a),
            (None, None, Some(actor)) => format!("operator {actor}"),
            (None, None, None) => "the server".to_owned(),
        }
    }
}

/// What an entry records, in the words of the page it came from.
fn what(action: Action) -> String {
    let words = match action {
        Action::ConsolePage => "opened a console page",
        Action::ConsoleAccount => "opened their account",
        Action::TicketDetail => "read a ticket",
        Action::Tickets => "listed tickets",
        Action::CreateTicket => "raised a ticket",
        Action::CreateComment => "commented",
        Action::UpdateStatus => "changed a ticket's status",
        Action::AllResidents => "listed residents",
        Action::SignOut => "signed out",
        Action::Acknowledge => "acknowledged a notification",
        Action::AuditTrail => "read the audit trail",
        other => return other.as_str().replace('_', " "),
    };
    words.to_owned()
}

/// The names of the provider's employees and applications (two audited
/// reads: the page shows who they are).
async fn names(page: &Administering, state: &AppState) -> Result<Names, ConsoleError> {
    let roster = state
        .api
        .roster(page.admin(state, Action::Employees).await?)
        .await?;
    let applications = state
        .api
        .list_applications(page.admin(state, Action::Applications).await?)
        .await?;
    Ok(Names {
        employees: roster
            .into_iter()
            .map(|(employee, _)| (employee.id.get(), employee.name))
            .collect(),
        applications: applications
            .into_iter()
            .map(|a| (a.id.get(), a.name))
            .collect(),
    })
}

/// The filter, or the refusal audited (under the call it refuses) and
/// answered.
async fn filter_or_refuse(
    page: &Administering,
    state: &AppState,
    call: AdminCall,
    names: Option<&Names>,
) -> Result<(AdminCall, AuditFilter), ConsoleError> {
    match audit_filter(page, names) {
        Ok(filter) => Ok((call, filter)),
        Err(error) => {
            state.api.reject_admin(call, error.outcome()).await;
            Err(error.into())
        }
    }
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::AuditTrail).await?;
    // Who may read the trail is decided first, under its own action.
    let call = page.admin(&state, Action::AuditTrail).await?;
    let names = names(&page, &state).await?;
    let (call, filter) = filter_or_refuse(&page, &state, call, Some(&names)).await?;
    let zone = page.console.holder.provider.zone();
    let records = state.api.audit_page(call, filter).await?;
    let text = |name: &str| page.form.query(name).unwrap_or_default().to_owned();
    let query = FILTERS
        .iter()
        .filter_map(|name| {
            page.form.query(name).map(|v| {
                format!(
                    "{name}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
        })
        .collect::<Vec<_>>()
        .join("&");
    let rows = records
        .iter()
        .map(|r| AuditRow {
            at: local(r.at, zone),
            action: what(r.action),
            outcome: r.outcome.as_str(),
            who: names.who(r),
            records: r.records.join(" "),
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        &AuditPage {
            chrome: page.chrome(),
            rows,
            resident: text("resident"),
            ticket: text("ticket"),
            since: text("since"),
            until: text("until"),
            who: text("who"),
            query,
            limit: AUDIT_PAGE_LIMIT,
        },
    ))
}

/// `GET /console/admin/audit.csv`: every matching entry, streamed.
pub(crate) async fn export(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::AuditTrail).await?;
    let call = page.admin(&state, Action::AuditTrail).await?;
    // Names are read only to resolve a search by name.
    let names = match page.form.query("who") {
        Some(_) => Some(names(&page, &state).await?),
        None => None,
    };
    let (call, filter) = filter_or_refuse(&page, &state, call, names.as_ref()).await?;
    let rows = state.api.export_audit(call, filter).await?;
    let zone = page.console.holder.provider.zone();
    let header = csv_bytes(std::iter::once(AuditRecord::CSV_HEADER.map(str::to_owned)));
    let body = futures::stream::once(async move { Ok::<_, std::io::Error>(header) }).chain(
        rows.map(move |chunk| {
            chunk
                .map(|records| {
                    // In the zone the page shows, with its offset, so the
                    // export and the page read the same.
                    csv_bytes(records.iter().map(|record| {
                        let mut fields = record.csv_fields();
                        fields[1] = connecticket_domain::time::format_timestamp(record.at, zone);
                        fields
                    }))
                })
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

fn csv_bytes<const N: usize>(rows: impl Iterator<Item = [String; N]>) -> bytes::Bytes {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing into memory cannot fail.
        let _ = writer.write_record(row);
    }
    bytes::Bytes::from(writer.into_inner().unwrap_or_default())
}
