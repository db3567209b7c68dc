//! Who a change tells, as the person or the client chose it.
//!
//! One meaning for the flags `create_ticket` and `update_status` carry
//! (docs/NOTIFICATIONS.md, "Who is told"):
//!
//! - **Roles.** A request that names any role flag (`sent_to_family`,
//!   `sent_to_primary` or the seed's `sentsent_to_primary`,
//!   `sent_to_healthcare_pro`) tells exactly the roles it set true, and
//!   only those; one that names none leaves the roles to the provider's
//!   policy for the event.
//! - **Channels.** A request that names `email` or `sms` uses exactly the
//!   channels it set true. One that names neither uses, for a status
//!   change, the channels the ticket's creation used; for a new ticket,
//!   every channel each contact consented to when it named roles or its
//!   urgency is High or Exception (those tell by default), and none
//!   otherwise.
//!
//! Either way a contact is told only on a channel it consented to, and the
//! new ticket's flags are then set to what was planned: they tell the
//! truth about who was told.

use crate::model::ContactRole;
use crate::workflow::UrgencyStatus;

/// The channels a change is sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelChoice {
    /// These, where the contact consented.
    Chosen { email: bool, sms: bool },
    /// Every channel the contact consented to.
    Consented,
}

impl ChannelChoice {
    pub const NONE: ChannelChoice = ChannelChoice::Chosen {
        email: false,
        sms: false,
    };

    pub fn email(self) -> bool {
        match self {
            ChannelChoice::Chosen { email, .. } => email,
            ChannelChoice::Consented => true,
        }
    }

    pub fn sms(self) -> bool {
        match self {
            ChannelChoice::Chosen { sms, .. } => sms,
            ChannelChoice::Consented => true,
        }
    }

    pub fn is_none(self) -> bool {
        self == ChannelChoice::NONE
    }
}

/// Whether an urgency tells people without being asked.
pub fn notifies_by_default(urgency: UrgencyStatus) -> bool {
    urgency.id >= UrgencyStatus::HIGH.id
}

/// The notify flags a request carried; `None`: the request did not name
/// it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyRequest {
    pub family: Option<bool>,
    pub primary_physician: Option<bool>,
    pub healthcare_professional: Option<bool>,
    pub email: Option<bool>,
    pub sms: Option<bool>,
}

/// Who a change tells, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients {
    pub roles: Vec<ContactRole>,
    pub channels: ChannelChoice,
}

impl Recipients {
    /// Nobody at all.
    pub fn nobody(&self) -> bool {
        self.roles.is_empty() || self.channels.is_none()
    }
}

impl NotifyRequest {
    /// The roles the request named, if it named any.
    pub fn roles(&self) -> Option<Vec<ContactRole>> {
        let named = [
            (ContactRole::Family, self.family),
            (ContactRole::PrimaryPhysician, self.primary_physician),
            (
                ContactRole::HealthcareProfessional,
                self.healthcare_professional,
            ),
        ];
        named.iter().any(|(_, flag)| flag.is_some()).then(|| {
            named
                .iter()
                .filter(|(_, flag)| *flag == Some(true))
                .map(|(role, _)| *role)
                .collect()
        })
    }

    /// The channels the request named, if it named any.
    pub fn channels(&self) -> Option<ChannelChoice> {
        (self.email.is_some() || self.sms.is_some()).then_some(ChannelChoice::Chosen {
            email: self.email == Some(true),
            sms: self.sms == Some(true),
        })
    }

    /// The channels a new ticket uses: those named; else every consented
    /// one when roles were named or the urgency tells by default; else
    /// none. (Needs no policy: a store can tell "nobody" without reading.)
    pub fn new_ticket_channels(&self, urgency: UrgencyStatus) -> ChannelChoice {
        match self.channels() {
            Some(named) => named,
            None if self.roles().is_some() || notifies_by_default(urgency) => {
                ChannelChoice::Consented
            }
            None => ChannelChoice::NONE,
        }
    }

    /// Whom a new ticket tells: `policy_roles`, the policy's roles for a
    /// new ticket.
    pub fn for_new_ticket(
        &self,
        policy_roles: &[ContactRole],
        urgency: UrgencyStatus,
    ) -> Recipients {
        Recipients {
            roles: self.roles().unwrap_or_else(|| policy_roles.to_vec()),
            channels: self.new_ticket_channels(urgency),
        }
    }

    /// Whom a status change tells: `policy_roles`, the policy's roles for a
    /// status change; `ticket_channels`, the channels the ticket's creation
    /// used.
    pub fn for_status_change(
        &self,
        policy_roles: &[ContactRole],
        ticket_channels: ChannelChoice,
    ) -> Recipients {
        Recipients {
            roles: self.roles().unwrap_or_else(|| policy_roles.to_vec()),
            channels: self.channels().unwrap_or(ticket_channels),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ContactRole; 3] = ContactRole::ALL;

    fn asked(
        family: Option<bool>,
        physician: Option<bool>,
        email: Option<bool>,
        sms: Option<bool>,
    ) -> NotifyRequest {
        NotifyRequest {
            family,
            primary_physician: physician,
            healthcare_professional: None,
            email,
            sms,
        }
    }

    #[test]
    fn named_roles_and_channels_are_exactly_what_is_told() {
        let only_physician = asked(None, Some(true), Some(true), None);
        assert_eq!(
            only_physician.for_new_ticket(&ALL, UrgencyStatus::DEFAULT),
            Recipients {
                roles: vec![ContactRole::PrimaryPhysician],
                channels: ChannelChoice::Chosen {
                    email: true,
                    sms: false
                },
            }
        );
        // Family alone, no channel named: every channel family consented to.
        let family = asked(Some(true), None, None, None);
        assert_eq!(
            family.for_new_ticket(&ALL, UrgencyStatus::DEFAULT).channels,
            ChannelChoice::Consented
        );
        // Every role flag false: nobody, even on an Exception.
        let nobody = asked(Some(false), Some(false), None, None);
        assert!(nobody
            .for_new_ticket(&ALL, UrgencyStatus::EXCEPTION)
            .nobody());
    }

    #[test]
    fn without_flags_the_policy_and_the_urgency_decide() {
        let none = NotifyRequest::default();
        let normal = none.for_new_ticket(&ALL, UrgencyStatus::DEFAULT);
        assert!(normal.nobody(), "Normal news tells nobody unasked");
        let high = none.for_new_ticket(&ALL, UrgencyStatus::HIGH);
        assert_eq!(high.roles, ALL.to_vec());
        assert_eq!(high.channels, ChannelChoice::Consented);
        // Channels named without roles: the policy's roles (the seed's
        // clients send only `email=1`).
        let email = asked(None, None, Some(true), None);
        assert_eq!(
            email
                .for_new_ticket(&ALL[..1], UrgencyStatus::DEFAULT)
                .roles,
            vec![ContactRole::Family]
        );
    }

    #[test]
    fn a_status_change_keeps_the_tickets_channels_unless_told_otherwise() {
        let used = ChannelChoice::Chosen {
            email: true,
            sms: false,
        };
        let unasked = NotifyRequest::default().for_status_change(&ALL[..2], used);
        assert_eq!(unasked.roles, ALL[..2].to_vec());
        assert_eq!(unasked.channels, used);
        let narrowed = asked(Some(true), None, None, Some(true)).for_status_change(&ALL, used);
        assert_eq!(narrowed.roles, vec![ContactRole::Family]);
        assert_eq!(
            narrowed.channels,
            ChannelChoice::Chosen {
                email: false,
                sms: true
            }
        );
    }
}
