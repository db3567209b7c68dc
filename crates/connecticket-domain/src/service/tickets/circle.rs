//! Who a ticket concerns and who was told of it, for the staff who work
//! it: the resident, the people notifications went to (by name, with a
//! number to call), the staff who acknowledged, and the ticket's
//! escalation with the rule that drives it. Staff are entitled to all of
//! it; the API's `ticket_detail` names no recipient.

use std::collections::BTreeMap;

use crate::audit::RecordRef;
use crate::error::{DomainError, DomainResult, Entity};
use crate::model::{Contact, EmployeeId, ProviderContact, Resident, TicketDetail};
use crate::notify::{EscalationRule, TicketEscalation};
use crate::service::audit::{Call, Recorded};
use crate::service::Connecticket;

#[derive(Debug, Clone)]
pub struct TicketCircle {
    pub resident: Resident,
    /// The resident's contacts.
    pub contacts: Vec<Contact>,
    /// The provider's staff contacts (escalation tiers).
    pub staff: Vec<ProviderContact>,
    /// Names of the employees who acknowledged on someone's behalf.
    pub acknowledgers: BTreeMap<EmployeeId, String>,
    pub escalation: Option<TicketEscalation>,
    /// The rule for the ticket's urgency, if it needs an answer.
    pub rule: Option<EscalationRule>,
}

impl Connecticket {
    /// The circle of the ticket `detail` (read by the same caller just
    /// before): one audited read naming the resident and every contact
    /// shown.
    pub async fn ticket_circle(
        &self,
        call: Call,
        detail: &TicketDetail,
    ) -> DomainResult<TicketCircle> {
        let ticket = &detail.ticket;
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let provider = principal.provider.id;
            entry.touch(RecordRef::Ticket(ticket.id));
            entry.touch(RecordRef::Resident(ticket.resident_id));
            let resident = self
                .store
                .resident(provider, ticket.resident_id)
                .await?
                .ok_or(DomainError::NotFound(Entity::Resident))?;
            let told: Vec<_> = detail.notifications.iter().map(|n| n.contact_id).collect();
            let contacts = self
                .store
                .contacts(provider, Some(ticket.resident_id))
                .await?;
            let staff = self.store.provider_contacts(provider).await?;
            for contact in contacts.iter().filter(|c| told.contains(&c.id)) {
                entry.touch(RecordRef::Contact(contact.id));
            }
            let acknowledged: Vec<EmployeeId> = detail
                .notifications
                .iter()
                .filter_map(|n| n.acknowledged_by)
                .collect();
            let acknowledgers = if acknowledged.is_empty() {
                BTreeMap::new()
            } else {
                self.store
                    .employees(provider)
                    .await?
                    .into_iter()
                    .filter(|e| acknowledged.contains(&e.id))
                    .map(|e| (e.id, e.name))
                    .collect()
            };
            let escalation = self.store.ticket_escalation(provider, ticket.id).await?;
            let rule = self
                .store
                .escalation_policy(provider)
                .await?
                .rule(ticket.urgency_status_id)
                .cloned();
            Ok(TicketCircle {
                resident,
                contacts,
                staff,
                acknowledgers,
                escalation,
                rule,
            })
        })
        .await
    }
}
