//! Who a change would tell, before it is saved: the console's new-ticket
//! and status forms show it in words, so the person who raises a ticket
//! at night knows whom it wakes (docs/NOTIFICATIONS.md, "Who is told").

use chrono::Duration;

use crate::audit::RecordRef;
use crate::error::{DomainError, DomainResult, Entity};
use crate::model::{ContactRole, RecipientRole, ResidentId, Ticket};
use crate::notify::{
    notifies_by_default, ChangeFacts, Channel, ChannelChoice, NotifyEvent, NotifyRequest,
};
use crate::service::audit::{Call, Recorded};
use crate::service::Connecticket;
use crate::workflow::UrgencyStatus;

/// The change being considered.
#[derive(Debug, Clone, Copy)]
pub enum Considered<'a> {
    /// A new ticket about `resident` (none chosen yet: nobody's contacts)
    /// at `urgency`.
    NewTicket {
        resident: Option<ResidentId>,
        urgency: UrgencyStatus,
    },
    /// A status change of `ticket`, read by the same caller just before
    /// (as the ticket's page has it; nothing is read twice).
    StatusChange { ticket: &'a Ticket },
}

/// One person a change would tell.
#[derive(Debug, Clone, PartialEq)]
pub struct TellingPerson {
    pub name: String,
    pub role: ContactRole,
    pub channels: Vec<Channel>,
    /// Held for quiet hours until this local time ("08:00").
    pub held_until: Option<String>,
}

/// Who a change would tell, and what happens if nobody answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Telling {
    pub people: Vec<TellingPerson>,
    /// Contacts of a chosen role whom no chosen channel reaches (no
    /// consent or no address for it).
    pub unreached: Vec<(String, ContactRole)>,
    /// The urgency tells people by default (High, Exception).
    pub urgent: bool,
    /// When nobody answers: after how long, and whom it tells next.
    pub escalation: Option<(Duration, Option<RecipientRole>)>,
    /// The choice the policy makes for this change when the person makes
    /// none: the form's boxes start from it.
    pub default: NotifyRequest,
}

impl Telling {
    pub fn nobody(&self) -> bool {
        self.people.is_empty()
    }
}

impl Connecticket {
    /// Who `change` would tell with the choice `asked` (one audited read
    /// naming the resident and the contacts it names).
    pub async fn who_would_be_told(
        &self,
        call: Call,
        change: Considered<'_>,
        asked: NotifyRequest,
    ) -> DomainResult<Telling> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let provider = principal.provider.id;
            let (resident, urgency, used) = match change {
                Considered::NewTicket { resident, urgency } => (resident, urgency, None),
                Considered::StatusChange { ticket } => {
                    entry.touch(RecordRef::Ticket(ticket.id));
                    if ticket.provider_id != provider {
                        return Err(DomainError::NotFound(Entity::Ticket));
                    }
                    let used = ChannelChoice::Chosen {
                        email: ticket.email == Some(true),
                        sms: ticket.sms == Some(true),
                    };
                    let urgency = UrgencyStatus::by_id(ticket.urgency_status_id)
                        .unwrap_or(UrgencyStatus::DEFAULT);
                    (Some(ticket.resident_id), urgency, Some(used))
                }
            };
            let policy = self.store.notify_policy(provider).await?;
            let contacts = match resident {
                Some(resident) => {
                    entry.touch(RecordRef::Resident(resident));
                    self.store.contacts(provider, Some(resident)).await?
                }
                None => Vec::new(),
            };
            let rules = self.store.escalation_policy(provider).await?;
            let zone = principal.provider.zone();
            let (event, recipients, policy_roles) = match used {
                None => (
                    NotifyEvent::TicketCreated,
                    asked.for_new_ticket(&policy.on_created, urgency),
                    &policy.on_created,
                ),
                Some(used) => (
                    NotifyEvent::StatusChanged,
                    asked.for_status_change(&policy.on_status_change, used),
                    &policy.on_status_change,
                ),
            };
            let now = self.now();
            let facts = ChangeFacts {
                event,
                channels: recipients.channels,
                urgency,
                now,
                zone,
            };
            let planned = policy.plan(facts, &recipients.roles, &contacts);
            let mut people = Vec::new();
            let mut unreached = Vec::new();
            for contact in contacts
                .iter()
                .filter(|c| recipients.roles.contains(&c.role))
            {
                entry.touch(RecordRef::Contact(contact.id));
                let theirs: Vec<_> = planned
                    .iter()
                    .filter(|p| p.contact_id == contact.id)
                    .collect();
                if theirs.is_empty() {
                    // Worth saying only when some way was chosen.
                    if !recipients.channels.is_none() {
                        unreached.push((contact.name.clone(), contact.role));
                    }
                    continue;
                }
                let held_until = theirs
                    .iter()
                    .map(|p| p.not_before)
                    .max()
                    .filter(|at| *at > now)
                    .map(|at| at.with_timezone(&zone).format("%H:%M").to_string());
                people.push(TellingPerson {
                    name: contact.name.clone(),
                    role: contact.role,
                    channels: theirs.iter().map(|p| p.channel).collect(),
                    held_until,
                });
            }
            let escalation = rules
                .rule(urgency.id)
                .map(|rule| (rule.ack_within, rule.tiers.first().cloned()));
            let urgent = notifies_by_default(urgency);
            // The choice the policy makes when the person makes none, as
            // the form's boxes show it: the event's roles, and for a new
            // ticket every channel when the urgency tells by default; for a
            // status change the channels the ticket's creation used.
            let has = |role, when: bool| Some(when && policy_roles.contains(&role));
            let (roles_on, email, sms) = match used {
                Some(used) => (true, used.email(), used.sms()),
                None => (urgent, urgent, urgent),
            };
            let default = NotifyRequest {
                family: has(ContactRole::Family, roles_on),
                primary_physician: has(ContactRole::PrimaryPhysician, roles_on),
                healthcare_professional: has(ContactRole::HealthcareProfessional, roles_on),
                email: Some(email),
                sms: Some(sms),
            };
            Ok(Telling {
                people,
                unreached,
                urgent,
                escalation,
                default,
            })
        })
        .await
    }
}
