//! Escalation: how long each urgency may wait for an answer, whom it
//! reaches next, the provider's staff in those roles, and the report that
//! proves who was told and who answered.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::AdminCall;
use crate::audit::{Action, RecordRef};
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{ContactId, ProviderContact, ProviderId, RecipientRole, StaffRole, TicketId};
use crate::notify::escalation::parse_duration;
use crate::notify::{Escalation, EscalationPolicy, EscalationRule, EscalationStep, Notification};
use crate::service::audit::Recorded;
use crate::service::Connecticket;
use crate::validate::{email_address, phone_number, required_text, PhoneCountry, MAX_SHORT_TEXT};
use crate::workflow::UrgencyStatus;

/// An escalation rule as an administrator enters it.
#[derive(Debug, Clone, Default)]
pub struct EscalationInput {
    pub urgency: String,
    /// `15m`; `None` or `off`: the urgency needs no acknowledgment.
    pub ack_within: Option<String>,
    /// Defaults to `ack_within`.
    pub renotify_after: Option<String>,
    /// `on_call_nurse,director_of_nursing`.
    pub then: Vec<String>,
}

/// A member of the provider's staff, as an administrator enters them.
#[derive(Debug, Clone, Default)]
pub struct StaffContactInput {
    pub role: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One ticket's whole story: its notifications, its escalation and each
/// level the escalation took.
#[derive(Debug, Clone, Serialize)]
pub struct TicketStory {
    pub ticket_id: TicketId,
    pub escalation: Option<Escalation>,
    pub steps: Vec<EscalationStep>,
    pub notifications: Vec<Notification>,
}

fn invalid(field: Field, rule: String) -> DomainError {
    DomainError::invalid(field, Problem::Rule(rule))
}

fn duration(field: Field, text: &str) -> DomainResult<chrono::Duration> {
    parse_duration(text).ok_or_else(|| {
        invalid(
            field,
            format!("must be a duration like 90s, 15m or 2h, not {text:?}"),
        )
    })
}

/// Checks a rule: a known urgency, deadlines, and known roles.
pub fn escalation_from_input(
    input: &EscalationInput,
) -> DomainResult<(UrgencyStatus, Option<EscalationRule>)> {
    let urgency = UrgencyStatus::parse(&input.urgency).ok_or_else(|| {
        invalid(
            Field::Urgency,
            format!(
                "must be one of {}, not {:?}",
                UrgencyStatus::valid_list(),
                input.urgency
            ),
        )
    })?;
    let within = match input.ack_within.as_deref().map(str::trim) {
        None | Some("off" | "none") => return Ok((urgency, None)),
        Some(text) => duration(Field::AckWithin, text)?,
    };
    let renotify_after = match &input.renotify_after {
        Some(text) => duration(Field::RenotifyAfter, text)?,
        None => within,
    };
    let mut tiers = Vec::new();
    for name in input.then.iter().flat_map(|t| t.split(',')) {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        let role = RecipientRole::parse(name).ok_or_else(|| {
            invalid(
                Field::Tier,
                format!(
                    "{name:?} is neither a resident contact role (family, primary_physician, \
                     healthcare_professional) nor a staff role (lowercase letters, digits, _)"
                ),
            )
        })?;
        if !tiers.contains(&role) {
            tiers.push(role);
        }
    }
    Ok((
        urgency,
        Some(EscalationRule {
            ack_within: within,
            renotify_after,
            tiers,
        }),
    ))
}

/// Checks a staff contact: a staff role, a name, and an address.
pub fn staff_contact_from_input(
    input: StaffContactInput,
    provider: ProviderId,
    country: PhoneCountry,
    at: chrono::DateTime<chrono::Utc>,
) -> DomainResult<ProviderContact> {
    let role = StaffRole::parse(&input.role).ok_or_else(|| {
        invalid(
            Field::Role,
            format!(
                "a staff role is 2 to 40 lowercase letters, digits and _, and not a \
                 resident contact role; not {:?}",
                input.role
            ),
        )
    })?;
    let name = required_text(Field::Name, &input.name, MAX_SHORT_TEXT)?;
    let present = |text: Option<String>| text.filter(|t| !t.trim().is_empty());
    let email = present(input.email)
        .map(|e| email_address(&e))
        .transpose()?;
    let phone = present(input.phone)
        .map(|p| phone_number(&p, country))
        .transpose()?;
    if email.is_none() && phone.is_none() {
        return Err(invalid(
            Field::Contact,
            "needs an email address or a phone number".to_owned(),
        ));
    }
    Ok(ProviderContact {
        id: ContactId(0),
        provider_id: provider,
        role,
        name,
        email,
        phone,
        created_at: at,
    })
}

impl Connecticket {
    /// The provider's rules: the defaults, overridden urgency by urgency.
    pub async fn escalation_policy(&self, call: AdminCall) -> DomainResult<EscalationPolicy> {
        self.administrate(
            call,
            Action::ProviderSettings,
            Recorded::Afterwards,
            async |scope, entry| {
                entry.records.insert("escalation_policy".to_owned());
                Ok(self.store.escalation_policy(scope.provider_id()?).await?)
            },
        )
        .await
    }

    /// Sets one urgency's rule; answers the policy that results.
    pub async fn set_escalation(
        &self,
        call: AdminCall,
        input: EscalationInput,
    ) -> DomainResult<EscalationPolicy> {
        self.administrate(
            call,
            Action::ManageEscalation,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let provider = scope.provider_id()?;
                let (urgency, rule) = escalation_from_input(&input)?;
                entry.records.insert(format!("urgency:{}", urgency.id));
                if let Some(rule) = &rule {
                    self.refuse_unheld_tiers(provider, &rule.tiers).await?;
                }
                self.store
                    .set_escalation_rule(provider, urgency.id, rule, entry.clone())
                    .await?;
                Ok(self.store.escalation_policy(provider).await?)
            },
        )
        .await
    }

    /// A tier nobody holds would be skipped when its turn came, silently:
    /// a staff role is accepted only once a staff contact holds it.
    async fn refuse_unheld_tiers(
        &self,
        provider: ProviderId,
        tiers: &[RecipientRole],
    ) -> DomainResult<()> {
        let staff = self.store.provider_contacts(provider).await?;
        let held: Vec<&str> = staff.iter().map(|c| c.role.as_str()).collect();
        for tier in tiers {
            if let RecipientRole::Staff(role) = tier {
                if !held.contains(&role.as_str()) {
                    let mut choices: Vec<&str> = held.clone();
                    choices.sort_unstable();
                    choices.dedup();
                    let choices = if choices.is_empty() {
                        "no staff contact exists yet: add one first".to_owned()
                    } else {
                        format!("the staff roles held are {}", choices.join(", "))
                    };
                    return Err(invalid(
                        Field::Tier,
                        format!(
                            "“{}” is held by no staff contact, so that tier would be skipped; {choices}",
                            role.as_str()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The provider's own staff that escalations reach, by role.
    pub async fn list_staff_contacts(&self, call: AdminCall) -> DomainResult<Vec<ProviderContact>> {
        self.administrate(
            call,
            Action::ProviderSettings,
            Recorded::Afterwards,
            async |scope, entry| {
                let contacts = self.store.provider_contacts(scope.provider_id()?).await?;
                for contact in &contacts {
                    entry.touch(RecordRef::Contact(contact.id));
                }
                Ok(contacts)
            },
        )
        .await
    }

    /// Adds a member of staff an escalation tier reaches by role.
    pub async fn add_staff_contact(
        &self,
        call: AdminCall,
        input: StaffContactInput,
    ) -> DomainResult<ProviderContact> {
        self.administrate(
            call,
            Action::ManageEscalation,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let provider = scope.provider()?;
                let contact = staff_contact_from_input(
                    input,
                    provider.id,
                    provider.phone_country(),
                    self.now(),
                )?;
                Ok(self
                    .store
                    .create_provider_contact(contact, entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// Removes a staff contact; what was sent to them stays on record.
    pub async fn remove_staff_contact(&self, call: AdminCall, id: ContactId) -> DomainResult<()> {
        self.administrate(
            call,
            Action::ManageEscalation,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Contact(id));
                Ok(self
                    .store
                    .delete_provider_contact(scope.provider_id()?, id, entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// Every ticket notified in `[since, until)`, with its whole story.
    pub async fn notification_report(
        &self,
        call: AdminCall,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DomainResult<Vec<TicketStory>> {
        self.administrate(
            call,
            Action::NotificationReport,
            Recorded::Afterwards,
            async |scope, entry| {
                let history = self
                    .store
                    .notification_history(scope.provider_id()?, since, until)
                    .await?;
                let stories = stories(history);
                for story in &stories {
                    entry.touch(RecordRef::Ticket(story.ticket_id));
                    for notification in &story.notifications {
                        entry.touch(RecordRef::Notification(notification.id));
                    }
                }
                Ok(stories)
            },
        )
        .await
    }
}

/// A story per ticket notified in the period; its escalation and steps
/// join it.
fn stories(history: crate::store::NotificationHistory) -> Vec<TicketStory> {
    let mut stories: BTreeMap<TicketId, TicketStory> = BTreeMap::new();
    for n in history.notifications {
        let ticket_id = n.ticket_id;
        stories
            .entry(ticket_id)
            .or_insert_with(|| TicketStory {
                ticket_id,
                escalation: None,
                steps: Vec::new(),
                notifications: Vec::new(),
            })
            .notifications
            .push(n);
    }
    for e in history.escalations {
        if let Some(s) = stories.get_mut(&e.ticket_id) {
            s.escalation = Some(e);
        }
    }
    for step in history.steps {
        if let Some(s) = stories.get_mut(&step.ticket_id) {
            s.steps.push(step);
        }
    }
    stories.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(urgency: &str, within: Option<&str>, then: &[&str]) -> EscalationInput {
        EscalationInput {
            urgency: urgency.to_owned(),
            ack_within: within.map(str::to_owned),
            renotify_after: None,
            then: then.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    #[test]
    fn a_rule_names_an_urgency_deadlines_and_known_roles() {
        let (urgency, rule) = escalation_from_input(&input(
            "exception",
            Some("2m"),
            &["on_call_nurse,physician"],
        ))
        .expect("valid");
        assert_eq!(urgency.id, 5);
        let rule = rule.expect("a rule");
        assert_eq!(rule.ack_within, chrono::Duration::minutes(2));
        assert_eq!(rule.renotify_after, rule.ack_within);
        assert_eq!(
            rule.tiers.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            ["on_call_nurse", "primary_physician"]
        );
        assert_eq!(
            escalation_from_input(&input("High", Some("off"), &[]))
                .expect("valid")
                .1,
            None
        );
        for bad in [
            input("Urgent", Some("15m"), &[]),
            input("High", Some("15 minutes"), &[]),
            input("High", Some("15m"), &["On Call"]),
        ] {
            assert!(escalation_from_input(&bad).is_err(), "{bad:?}");
        }
    }
}
