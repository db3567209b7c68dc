//! Notifications as `Communication`: who was told of which ticket, by
//! which medium, when it was sent and how it went; an acknowledgment is a
//! Communication of its own (`ack-{id}`), in response to the notification.
//! Never the message's text. Notifications change as they are delivered,
//! so their version is a digest of what is served.

use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::fhir::{NotificationSearch, ResourceType, Window};
use connecticket_domain::model::{
    ContactRole, NotificationId, RecipientRole, ResidentId, TicketId,
};
use connecticket_domain::notify::{AckVia, Channel, DeliveryState, Notification};
use serde_json::{json, Map, Value};

use super::bundle::{next_after, Entry, Searchset};
use super::params;
use super::request::FhirRequest;
use super::task::task_priority;
use crate::error::HttpError;
use crate::state::AppState;

const PARTICIPATION_MODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode";

fn recipient(notification: &Notification) -> Value {
    match notification.role {
        RecipientRole::Resident(ContactRole::Family) => {
            json!({"reference": format!("RelatedPerson/{}", notification.contact_id.get())})
        }
        RecipientRole::Resident(_) => {
            json!({"reference": format!("Practitioner/{}", notification.contact_id.get())})
        }
        // Staff the provider escalates to are no resource of this server.
        RecipientRole::Staff(ref role) => json!({"display": role.as_str()}),
    }
}

fn medium(channel: Channel) -> Value {
    let (code, display) = match channel {
        Channel::Email => ("EMAILWRIT", "email"),
        Channel::Sms => ("SMSWRIT", "SMS"),
    };
    json!([{"coding": [{"system": PARTICIPATION_MODE, "code": code, "display": display}]}])
}

fn common(notification: &Notification) -> Map<String, Value> {
    let mut resource = Map::new();
    resource.insert("resourceType".into(), json!("Communication"));
    resource.insert(
        "subject".into(),
        json!({"reference": format!("Patient/{}", notification.resident_id.get())}),
    );
    resource.insert(
        "about".into(),
        json!([{"reference": format!("Task/{}", notification.ticket_id.get())}]),
    );
    resource.insert(
        "category".into(),
        json!([{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/communication-category",
            "code": "alert",
        }]}]),
    );
    resource.insert(
        "priority".into(),
        json!(task_priority(notification.urgency_status_id)),
    );
    resource
}

/// When what a Communication shows last changed: its queueing, its
/// delivery or its acknowledgment, whichever came last.
fn changed_at(notification: &Notification) -> chrono::DateTime<chrono::Utc> {
    [
        Some(notification.created_at),
        notification.delivered_at,
        notification.acknowledgment.as_ref().map(|ack| ack.at),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(notification.created_at)
}

pub(crate) fn communication(notification: &Notification) -> Value {
    let mut resource = common(notification);
    resource.insert("id".into(), json!(notification.id.get().to_string()));
    let status = match notification.state {
        DeliveryState::Pending => "in-progress",
        DeliveryState::Delivered => "completed",
        DeliveryState::Failed => "not-done",
        DeliveryState::Cancelled => "stopped",
    };
    resource.insert("status".into(), json!(status));
    if let (DeliveryState::Failed | DeliveryState::Cancelled, Some(reason)) = (
        notification.state,
        super::patient::text(notification.last_error.as_deref()),
    ) {
        resource.insert("statusReason".into(), json!({"text": reason}));
    }
    resource.insert("medium".into(), medium(notification.channel));
    resource.insert("recipient".into(), json!([recipient(notification)]));
    if let Some(sent) = notification.delivered_at {
        resource.insert("sent".into(), json!(super::instant(sent)));
    }
    // Receipt is known only when the recipient answered.
    if let Some(ack) = &notification.acknowledgment {
        resource.insert("received".into(), json!(super::instant(ack.at)));
    }
    let mut resource = Value::Object(resource);
    super::stamp_version(&mut resource, Some(changed_at(notification)));
    resource
}

/// The acknowledgment of a notification, as the recipient's answer.
pub(crate) fn acknowledgment(notification: &Notification) -> Option<Value> {
    let ack = notification.acknowledgment.as_ref()?;
    let mut resource = common(notification);
    resource.insert("id".into(), json!(format!("ack-{}", notification.id.get())));
    resource.insert(
        "inResponseTo".into(),
        json!([{"reference": format!("Communication/{}", notification.id.get())}]),
    );
    resource.insert("status".into(), json!("completed"));
    if ack.via == AckVia::Sms {
        resource.insert("medium".into(), medium(Channel::Sms));
    }
    resource.insert("sent".into(), json!(super::instant(ack.at)));
    resource.insert("sender".into(), recipient(notification));
    let mut resource = Value::Object(resource);
    super::stamp_version(&mut resource, Some(ack.at));
    Some(resource)
}

fn no_such_communication() -> HttpError {
    HttpError::NoSuchResource("No such Communication".to_owned())
}

/// `GET Communication/{id}`: a notification, or `ack-{id}` its answer.
pub(crate) async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (number, answer) = match id.strip_prefix("ack-") {
        Some(number) => (number, true),
        None => (id.as_str(), false),
    };
    let (call, number) = request
        .accept_read(
            &state,
            ResourceType::Communication,
            number,
            no_such_communication,
        )
        .await?;
    let query = NotificationSearch {
        ids: Some(vec![NotificationId(number)]),
        window: Window {
            after: None,
            count: 1,
        },
        ..NotificationSearch::default()
    };
    let page = state.api.fhir_notifications(call, query).await?;
    let notification = page.rows.first().ok_or_else(no_such_communication)?;
    let resource = match answer {
        true => acknowledgment(notification).ok_or_else(no_such_communication)?,
        false => communication(notification),
    };
    let tag = format!(
        "W/\"{}\"",
        resource["meta"]["versionId"].as_str().unwrap_or_default()
    );
    Ok(super::versioned_answer_tagged(
        &request, &resource, &tag, None,
    ))
}

fn search_of(request: &FhirRequest) -> Result<NotificationSearch, HttpError> {
    params::only(request, &["_id", "patient", "about"])?;
    let about = match params::single(request, "about")? {
        None => None,
        Some(text) => Some(TicketId(
            text.rsplit_once("Task/")
                .and_then(|(_, id)| id.parse::<i64>().ok())
                .filter(|id| *id > 0)
                .ok_or_else(|| params::invalid("about takes a Task reference".to_owned()))?,
        )),
    };
    Ok(NotificationSearch {
        ids: params::ids(request, "_id")?.map(|ids| ids.into_iter().map(NotificationId).collect()),
        patient: params::patient(request)?.map(ResidentId),
        ticket: about,
        window: params::window(request)?,
    })
}

/// `GET Communication?…`: notifications, each followed by its
/// acknowledgment when there is one (so the page may hold more entries
/// than `_count`, and no total is given).
pub(crate) async fn search(
    State(state): State<AppState>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (call, mut query, count_only) = request
        .accept_search(&state, ResourceType::Communication, search_of)
        .await?;
    if count_only {
        query.window.count = 0;
    }
    let page = state.api.fhir_notifications(call, query).await?;
    let base = request.base_url(&state);
    let mut entries = Vec::new();
    for notification in &page.rows {
        let id = notification.id.get();
        entries.push(Entry {
            full_url: format!("{base}/Communication/{id}"),
            resource: communication(notification),
            mode: "match",
        });
        if let Some(answer) = acknowledgment(notification) {
            entries.push(Entry {
                full_url: format!("{base}/Communication/ack-{id}"),
                resource: answer,
                mode: "match",
            });
        }
    }
    let searchset = Searchset {
        resource_type: "Communication",
        total: count_only.then_some(page.total),
        next_after: next_after(&page, |row| row.id.get()),
        entries,
    };
    Ok(searchset.answer(&request, &base))
}
