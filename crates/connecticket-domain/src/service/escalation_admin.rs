//! The operator's use cases for escalation: rules per urgency, the staff
//! they reach, and the report that proves who was told and who answered.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::audit::Action;
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{ContactId, ProviderContact, ProviderId, RecipientRole, StaffRole, TicketId};
use crate::notify::escalation::parse_duration;
use crate::notify::{Escalation, EscalationPolicy, EscalationRule, EscalationStep, Notification};
use crate::validate::{e164_phone, email_address, required_text, MAX_SHORT_TEXT};
use crate::workflow::UrgencyStatus;

use super::AdminService;

/// An escalation rule as an operator types it.
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

/// A provider-level contact as an operator types it.
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

fn duration(field: &str, text: &str) -> DomainResult<chrono::Duration> {
    parse_duration(text).ok_or_else(|| {
        invalid(
            Field::Escalation,
            format!("{field} must be a duration like 90s, 15m or 2h, not {text:?}"),
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
        Some(text) => duration("--ack-within", text)?,
    };
    let renotify_after = match &input.renotify_after {
        Some(text) => duration("--renotify-after", text)?,
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
                Field::Role,
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
    let phone = present(input.phone).map(|p| e164_phone(&p)).transpose()?;
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

impl AdminService {
    pub async fn escalation_policy(&self, provider: ProviderId) -> DomainResult<EscalationPolicy> {
        self.provider(provider).await?;
        Ok(self.store.escalation_policy(provider).await?)
    }

    /// Sets one urgency's rule; answers the policy that results.
    pub async fn set_escalation(
        &self,
        provider: ProviderId,
        input: EscalationInput,
    ) -> DomainResult<EscalationPolicy> {
        let (urgency, rule) = escalation_from_input(&input)?;
        self.provider(provider).await?;
        let audit = self.operator_entry(Action::ManageEscalation, provider);
        self.store
            .set_escalation_rule(provider, urgency.id, rule, audit)
            .await?;
        Ok(self.store.escalation_policy(provider).await?)
    }

    pub async fn add_staff_contact(
        &self,
        provider: ProviderId,
        input: StaffContactInput,
    ) -> DomainResult<ProviderContact> {
        self.provider(provider).await?;
        let contact = staff_contact_from_input(input, provider, self.now())?;
        let audit = self.operator_entry(Action::ManageEscalation, provider);
        Ok(self.store.create_provider_contact(contact, audit).await?)
    }

    pub async fn staff_contacts(&self, provider: ProviderId) -> DomainResult<Vec<ProviderContact>> {
        self.provider(provider).await?;
        Ok(self.store.provider_contacts(provider).await?)
    }

    pub async fn remove_staff_contact(
        &self,
        provider: ProviderId,
        contact: ContactId,
    ) -> DomainResult<()> {
        let audit = self.operator_entry(Action::ManageEscalation, provider);
        Ok(self
            .store
            .delete_provider_contact(provider, contact, audit)
            .await?)
    }

    /// Every ticket notified in `[since, until)`, with its whole story.
    pub async fn notification_report(
        &self,
        provider: ProviderId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DomainResult<Vec<TicketStory>> {
        self.provider(provider).await?;
        let history = self
            .store
            .notification_history(provider, since, until)
            .await?;
        // A story per ticket notified in the period; its escalation and
        // steps join it.
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
        Ok(stories.into_values().collect())
    }
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
