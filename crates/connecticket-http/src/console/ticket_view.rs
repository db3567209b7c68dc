//! What a ticket's page shows, state first: the resident, then a banner
//! that says in words where the ticket stands (urgency, status, and its
//! escalation: who was told, who answered, what happens next and when),
//! then who was told, grouped by event and by person, with names and
//! numbers to call.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use connecticket_domain::model::{ContactId, RecipientRole};
use connecticket_domain::notify::escalation::Step;
use connecticket_domain::notify::{
    AckVia, DeliveryState, EscalationState, NoticeSummary, NotifyEvent,
};
use connecticket_domain::service::TicketCircle;
use connecticket_domain::workflow::{TicketStatus, UrgencyStatus};

use super::render::local;

/// The banner's tone: how loudly the page speaks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Nobody has answered and the last tier has been told.
    Alarm,
    /// Waiting for an acknowledgment.
    Waiting,
    /// Answered, stopped, or nothing asked.
    Calm,
}

impl Tone {
    pub(crate) fn class(self) -> &'static str {
        match self {
            Tone::Alarm => "alarm",
            Tone::Waiting => "waiting",
            Tone::Calm => "calm",
        }
    }
}

pub(crate) struct StateView {
    pub urgency: &'static str,
    pub urgency_id: i64,
    pub status: &'static str,
    pub tone: Tone,
    /// The escalation in sentences, oldest first; the last says what
    /// happens next.
    pub story: Vec<String>,
}

/// One message to one person.
pub(crate) struct MessageView {
    pub channel: &'static str,
    /// "delivered 19:41", "waiting: quiet hours until 08:00", "failed: …"
    pub outcome: String,
    pub failed: bool,
}

/// One person told of one event.
pub(crate) struct PersonView {
    pub name: String,
    /// "family", "primary physician", "on-call nurse"
    pub relation: String,
    pub phone: Option<String>,
    pub messages: Vec<MessageView>,
    /// The notification an acknowledgment on their behalf answers.
    pub awaiting: Option<i64>,
    /// Who acknowledged, how and when, with the note.
    pub acknowledged: Option<String>,
    /// Nothing more is asked of them: someone else answered, or the
    /// ticket's escalation ended.
    pub closed: Option<String>,
}

pub(crate) struct EventView {
    /// "Ticket raised", "Reminder (level 1)", "Escalated (level 2)"
    pub title: String,
    pub at: String,
    pub people: Vec<PersonView>,
}

/// A time as staff read it at a glance: the hour today, the date
/// otherwise.
pub(crate) fn when(at: DateTime<Utc>, zone: Tz) -> String {
    let now = Utc::now().with_timezone(&zone);
    let local_at = at.with_timezone(&zone);
    if local_at.date_naive() == now.date_naive() {
        local_at.format("%H:%M").to_string()
    } else {
        local(at, zone)
    }
}

fn role_words(role: &RecipientRole) -> String {
    match role.as_str() {
        "on_call_nurse" => "on-call nurse".to_owned(),
        other => other.replace('_', " "),
    }
}

fn people_in(circle: &TicketCircle, role: &RecipientRole) -> String {
    let names: Vec<&str> = circle
        .staff
        .iter()
        .filter(|s| RecipientRole::Staff(s.role.clone()) == *role)
        .map(|s| s.name.as_str())
        .collect();
    if names.is_empty() {
        format!("the {} (nobody holds this role)", role_words(role))
    } else {
        format!("the {} ({})", role_words(role), names.join(", "))
    }
}

fn acknowledger(circle: &TicketCircle, notice: &NoticeSummary, zone: Tz) -> Option<String> {
    let at = notice.acknowledged_at?;
    let how = match notice.acknowledged_via {
        Some(AckVia::Staff) => {
            let by = notice
                .acknowledged_by
                .and_then(|id| circle.acknowledgers.get(&id))
                .map_or("a staff member", String::as_str);
            format!("recorded by {by} on their behalf")
        }
        Some(AckVia::Sms) => "by SMS reply".to_owned(),
        Some(AckVia::Link) | None => "through their link".to_owned(),
    };
    let mut text = format!("Acknowledged at {}, {how}", when(at, zone));
    if let Some(note) = notice
        .acknowledged_note
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        text.push_str(&format!(": “{note}”"));
    }
    Some(text)
}

/// The state banner.
pub(crate) fn state(
    circle: &TicketCircle,
    status: TicketStatus,
    urgency_id: i64,
    notices: &[NoticeSummary],
    zone: Tz,
) -> StateView {
    let urgency = UrgencyStatus::by_id(urgency_id).map_or("Unknown", |u| u.name);
    let mut story = Vec::new();
    let mut tone = Tone::Calm;
    match &circle.escalation {
        None if notices.is_empty() => story.push("Nobody outside the staff was told.".to_owned()),
        None => story.push("No acknowledgment is asked for at this urgency.".to_owned()),
        Some(found) => {
            let escalation = &found.escalation;
            story.push(format!(
                "Acknowledgment asked for at {}.",
                when(escalation.started_at, zone)
            ));
            for step in &found.steps {
                let told = match (step.kind.as_str(), step.role.as_deref()) {
                    ("tier", Some(role)) => match RecipientRole::parse(role) {
                        Some(role) => format!("escalated to {}", people_in(circle, &role)),
                        None => format!("escalated to the {role}"),
                    },
                    ("renotify", _) => "the same people were told again".to_owned(),
                    _ => "every tier had been told".to_owned(),
                };
                story.push(format!("At {}, {told}.", when(step.at, zone)));
            }
            match escalation.state {
                EscalationState::Active => {
                    tone = Tone::Waiting;
                    let next = circle
                        .rule
                        .as_ref()
                        .map(|rule| Step::of(rule, escalation.level + 1));
                    let at = escalation.next_at.map(|at| when(at, zone));
                    story.push(match (next, at) {
                        (Some(Step::Renotify), Some(at)) => {
                            format!("Nobody has answered. Next, at {at}: the same people are told again.")
                        }
                        (Some(Step::Tier(role)), Some(at)) => format!(
                            "Nobody has answered. Next, at {at}: {}.",
                            people_in(circle, &role)
                        ),
                        (Some(Step::Exhausted), Some(at)) => {
                            tone = Tone::Alarm;
                            format!("Nobody has answered, and after {at} nobody is left to tell: call someone.")
                        }
                        _ => "Nobody has answered yet.".to_owned(),
                    });
                }
                EscalationState::Acknowledged => {
                    let answered = notices.iter().find(|n| n.acknowledged_at.is_some());
                    story.push(match answered.and_then(|n| acknowledger(circle, n, zone)) {
                        Some(text) => format!("{text}. No more reminders are sent."),
                        None => "Acknowledged: no more reminders are sent.".to_owned(),
                    });
                }
                EscalationState::Stopped => story.push(format!(
                    "Stopped{}: the ticket was resolved or is no longer urgent.",
                    escalation
                        .ended_at
                        .map(|at| format!(" at {}", when(at, zone)))
                        .unwrap_or_default()
                )),
                EscalationState::Exhausted => {
                    tone = Tone::Alarm;
                    story.push(
                        "Every tier was told and nobody acknowledged: call someone now.".to_owned(),
                    );
                }
            }
        }
    }
    StateView {
        urgency,
        urgency_id,
        status: status.as_str(),
        tone,
        story,
    }
}

fn outcome(notice: &NoticeSummary, zone: Tz) -> MessageView {
    let outcome = match notice.status {
        DeliveryState::Delivered => match notice.delivered_at {
            Some(at) => format!("delivered {}", when(at, zone)),
            None => "delivered".to_owned(),
        },
        DeliveryState::Pending => match notice.waiting_reason.as_deref() {
            Some(reason) => format!(
                "not sent yet ({reason}); next try {}",
                when(notice.next_attempt_at, zone)
            ),
            None if notice.attempts == 0 => {
                format!("queued for {}", when(notice.next_attempt_at, zone))
            }
            None => format!("retrying at {}", when(notice.next_attempt_at, zone)),
        },
        DeliveryState::Cancelled => format!(
            "not sent: {}",
            notice
                .waiting_reason
                .as_deref()
                .and_then(|reason| reason.strip_prefix("cancelled: "))
                .unwrap_or("cancelled")
        ),
        DeliveryState::Failed => format!(
            "failed: {}",
            notice
                .waiting_reason
                .as_deref()
                .unwrap_or("the transport refused it")
        ),
    };
    MessageView {
        channel: match notice.channel.as_str() {
            "sms" => "SMS",
            _ => "email",
        },
        outcome,
        failed: notice.status == DeliveryState::Failed,
    }
}

/// Who was told, by event, then by person.
pub(crate) fn told(circle: &TicketCircle, notices: &[NoticeSummary], zone: Tz) -> Vec<EventView> {
    let answered = notices
        .iter()
        .find(|n| n.acknowledged_at.is_some())
        .and_then(|n| {
            let who = person(circle, n.contact_id, &n.role).0;
            n.acknowledged_at
                .map(|at| format!("{who} answered at {}", when(at, zone)))
        });
    let ended = circle
        .escalation
        .as_ref()
        .filter(|e| e.escalation.state != EscalationState::Active)
        .map(|e| e.escalation.state);
    let mut events: Vec<EventView> = Vec::new();
    let mut keys: Vec<(NotifyEvent, i64)> = Vec::new();
    for notice in notices {
        let key = (notice.event, notice.escalation_level);
        let index = match keys.iter().position(|k| *k == key) {
            Some(index) => index,
            None => {
                keys.push(key);
                events.push(EventView {
                    title: event_title(notice.event, notice.escalation_level),
                    at: when(notice.created_at, zone),
                    people: Vec::new(),
                });
                keys.len() - 1
            }
        };
        let (name, phone) = person(circle, notice.contact_id, &notice.role);
        let relation = role_words(&notice.role);
        let people = &mut events[index].people;
        let at = match people
            .iter()
            .position(|p| p.name == name && p.relation == relation)
        {
            Some(at) => at,
            None => {
                people.push(PersonView {
                    name,
                    relation,
                    phone,
                    messages: Vec::new(),
                    awaiting: None,
                    acknowledged: None,
                    closed: None,
                });
                people.len() - 1
            }
        };
        let shown = &mut people[at];
        shown.messages.push(outcome(notice, zone));
        if let Some(text) = acknowledger(circle, notice, zone) {
            shown.acknowledged = Some(text);
            shown.awaiting = None;
            shown.closed = None;
        } else if notice.ack_required && shown.acknowledged.is_none() {
            match (&answered, ended) {
                (Some(answered), _) => shown.closed = Some(format!("Not needed: {answered}.")),
                (None, Some(EscalationState::Stopped)) => {
                    shown.closed = Some("Not needed: the escalation stopped.".to_owned())
                }
                _ => shown.awaiting = shown.awaiting.or(Some(notice.id.get())),
            }
        }
    }
    events
}

fn event_title(event: NotifyEvent, level: i64) -> String {
    match (event, level) {
        (NotifyEvent::TicketCreated, _) => "Ticket raised".to_owned(),
        (NotifyEvent::StatusChanged, _) => "Status changed".to_owned(),
        (NotifyEvent::Reminder, level) => format!("Reminder (level {level})"),
        (NotifyEvent::Escalated, level) => format!("Escalated (level {level})"),
    }
}

/// A recipient's name and number, from the resident's contacts or the
/// provider's staff.
fn person(circle: &TicketCircle, id: ContactId, role: &RecipientRole) -> (String, Option<String>) {
    let found = match role {
        RecipientRole::Resident(_) => circle
            .contacts
            .iter()
            .find(|c| c.id == id)
            .map(|c| (c.name.clone(), c.phone.clone())),
        RecipientRole::Staff(_) => circle
            .staff
            .iter()
            .find(|s| s.id == id)
            .map(|s| (s.name.clone(), s.phone.clone())),
    };
    found.unwrap_or_else(|| ("A contact since removed".to_owned(), None))
}
