//! Which events notify which roles, and when: a provider's policy.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Channel, ChannelChoice, NotifyEvent};
use crate::model::{Contact, ContactId, ContactRole, ProviderContact, RecipientRole};
use crate::workflow::UrgencyStatus;

/// The hours in which Low and Normal news waits until morning for family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for QuietHours {
    /// 21:00 to 08:00 in the provider's time zone.
    fn default() -> Self {
        QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or(NaiveTime::MIN),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }
}

impl QuietHours {
    /// Parses `21:00-08:00`.
    pub fn parse(text: &str) -> Option<QuietHours> {
        let (start, end) = text.split_once('-')?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
        Some(QuietHours {
            start: time(start)?,
            end: time(end)?,
        })
    }

    pub fn render(&self) -> String {
        format!(
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }

    /// When a message due `now` may go: `now`, or the end of the quiet
    /// hours it falls in (a window may span midnight).
    pub fn release(&self, now: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        if self.start == self.end {
            return now;
        }
        let local = now.with_timezone(&zone);
        let time = local.time();
        let inside = if self.start < self.end {
            time >= self.start && time < self.end
        } else {
            time >= self.start || time < self.end
        };
        if !inside {
            return now;
        }
        let mut day = local.date_naive();
        if time >= self.end {
            day += Duration::days(1);
        }
        // A gap (spring forward) at the end time: take the next instant
        // that exists.
        let end = day.and_time(self.end);
        zone.from_local_datetime(&end)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(end + Duration::hours(1)))
                    .earliest()
            })
            .map_or(now, |at| at.with_timezone(&Utc))
    }
}

/// A provider's rules. Defaults: a new ticket tells every role; a status
/// change tells family and the primary physician; quiet hours 21:00-08:00.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyPolicy {
    pub on_created: Vec<ContactRole>,
    pub on_status_change: Vec<ContactRole>,
    pub quiet_hours: QuietHours,
    /// Whom the message tells the recipient to call.
    pub callback_phone: Option<String>,
    /// The number to call out of hours, when it is another.
    pub after_hours_phone: Option<String>,
    /// The provider's own wording (checked when saved).
    pub templates: super::templates::Templates,
}

impl Default for NotifyPolicy {
    fn default() -> Self {
        NotifyPolicy {
            on_created: ContactRole::ALL.to_vec(),
            on_status_change: vec![ContactRole::Family, ContactRole::PrimaryPhysician],
            quiet_hours: QuietHours::default(),
            callback_phone: None,
            after_hours_phone: None,
            templates: super::templates::Templates::default(),
        }
    }
}

/// One notification a change records.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedNotice {
    pub contact_id: ContactId,
    pub role: RecipientRole,
    pub channel: Channel,
    pub address: String,
    pub not_before: DateTime<Utc>,
}

/// What a change is about, as the policy needs it.
#[derive(Debug, Clone, Copy)]
pub struct ChangeFacts {
    pub event: NotifyEvent,
    /// The channels it is sent on (where a contact consented).
    pub channels: ChannelChoice,
    pub urgency: UrgencyStatus,
    pub now: DateTime<Utc>,
    pub zone: Tz,
}

impl NotifyPolicy {
    pub fn roles(&self, event: NotifyEvent) -> &[ContactRole] {
        match event {
            NotifyEvent::TicketCreated => &self.on_created,
            NotifyEvent::StatusChanged => &self.on_status_change,
            // An escalation's recipients come from its policy.
            NotifyEvent::Reminder | NotifyEvent::Escalated => &[],
        }
    }

    /// The notifications a change records: one per contact of one of
    /// `roles`, on each of the change's channels the contact consented to.
    pub fn plan(
        &self,
        facts: ChangeFacts,
        roles: &[ContactRole],
        contacts: &[Contact],
    ) -> Vec<PlannedNotice> {
        // High and Exception go at once; lower urgencies wait out family's
        // quiet hours.
        let urgent = facts.urgency.id >= 4;
        let mut planned = Vec::new();
        for contact in contacts.iter().filter(|c| roles.contains(&c.role)) {
            let not_before = if contact.role == ContactRole::Family && !urgent {
                self.quiet_hours.release(facts.now, facts.zone)
            } else {
                facts.now
            };
            let channels = [
                (
                    Channel::Email,
                    facts.channels.email() && contact.email_consent,
                    &contact.email,
                ),
                (
                    Channel::Sms,
                    facts.channels.sms() && contact.sms_consent,
                    &contact.phone,
                ),
            ];
            for (channel, wanted, address) in channels {
                if let (true, Some(address)) = (wanted, address) {
                    planned.push(PlannedNotice {
                        contact_id: contact.id,
                        role: contact.role.into(),
                        channel,
                        address: address.clone(),
                        not_before,
                    });
                }
            }
        }
        planned
    }
}

/// The notifications an escalation tier records: the resident's contacts
/// of a resident role, on the channels the ticket asked for and they
/// consented to; or the provider's staff of a staff role, on every channel
/// they have an address for. Never held for quiet hours.
pub fn plan_tier(
    role: &RecipientRole,
    facts: ChangeFacts,
    contacts: &[Contact],
    staff: &[ProviderContact],
) -> Vec<PlannedNotice> {
    match role {
        RecipientRole::Resident(resident_role) => {
            let facts = ChangeFacts {
                event: NotifyEvent::TicketCreated,
                ..facts
            };
            let mut planned = NotifyPolicy::default().plan(facts, &[*resident_role], contacts);
            for notice in &mut planned {
                notice.not_before = facts.now;
            }
            planned
        }
        RecipientRole::Staff(staff_role) => staff
            .iter()
            .filter(|person| &person.role == staff_role)
            .flat_map(|person| {
                [
                    (Channel::Email, &person.email),
                    (Channel::Sms, &person.phone),
                ]
                .into_iter()
                .filter_map(move |(channel, address)| {
                    address.as_ref().map(|address| PlannedNotice {
                        contact_id: person.id,
                        role: role.clone(),
                        channel,
                        address: address.clone(),
                        not_before: facts.now,
                    })
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ProviderId, ResidentId};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn contact(id: i64, role: ContactRole, email: bool, sms: bool) -> Contact {
        Contact {
            id: ContactId(id),
            provider_id: ProviderId(1),
            resident_id: ResidentId(1),
            role,
            name: format!("C{id}"),
            email: Some(format!("c{id}@example.org")),
            phone: Some("+15555550100".to_owned()),
            email_consent: email,
            sms_consent: sms,
            created_at: at("2026-01-01T00:00:00Z"),
        }
    }

    fn facts(event: NotifyEvent, urgency: i64, now: &str) -> ChangeFacts {
        ChangeFacts {
            event,
            channels: ChannelChoice::Consented,
            urgency: UrgencyStatus::ALL[(urgency - 1) as usize],
            now: at(now),
            zone: chrono_tz::America::Chicago,
        }
    }

    #[test]
    fn quiet_hours_hold_family_news_of_low_urgency_until_morning() {
        let quiet = QuietHours::default();
        let zone = chrono_tz::America::Chicago;
        // 22:30 in Chicago (UTC-6 in January) waits until 08:00 next day.
        assert_eq!(
            quiet.release(at("2026-01-10T04:30:00Z"), zone),
            at("2026-01-10T14:00:00Z")
        );
        // 03:00 waits until 08:00 the same day.
        assert_eq!(
            quiet.release(at("2026-01-10T09:00:00Z"), zone),
            at("2026-01-10T14:00:00Z")
        );
        // Noon goes at once.
        let noon = at("2026-01-10T18:00:00Z");
        assert_eq!(quiet.release(noon, zone), noon);
    }

    #[test]
    fn the_plan_follows_roles_channels_consent_and_urgency() {
        let policy = NotifyPolicy::default();
        let contacts = [
            contact(1, ContactRole::Family, true, false),
            contact(2, ContactRole::PrimaryPhysician, true, true),
            contact(3, ContactRole::HealthcareProfessional, false, true),
        ];
        // A new Normal ticket at 22:30: everyone; family waits for morning.
        let plan = policy.plan(
            facts(NotifyEvent::TicketCreated, 3, "2026-01-10T04:30:00Z"),
            &policy.on_created,
            &contacts,
        );
        let summary: Vec<_> = plan
            .iter()
            .map(|p| (p.contact_id.get(), p.channel, p.not_before))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, Channel::Email, at("2026-01-10T14:00:00Z")),
                (2, Channel::Email, at("2026-01-10T04:30:00Z")),
                (2, Channel::Sms, at("2026-01-10T04:30:00Z")),
                (3, Channel::Sms, at("2026-01-10T04:30:00Z")),
            ]
        );
        // An Exception goes to family at once; a status change skips the
        // healthcare professional.
        let plan = policy.plan(
            facts(NotifyEvent::StatusChanged, 5, "2026-01-10T04:30:00Z"),
            &policy.on_status_change,
            &contacts,
        );
        let summary: Vec<_> = plan
            .iter()
            .map(|p| (p.contact_id.get(), p.not_before))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, at("2026-01-10T04:30:00Z")),
                (2, at("2026-01-10T04:30:00Z")),
                (2, at("2026-01-10T04:30:00Z")),
            ]
        );
    }

    #[test]
    fn quiet_hours_parse_and_render() {
        let quiet = QuietHours::parse("22:15-07:45");
        assert_eq!(quiet.map(|q| q.render()), Some("22:15-07:45".to_owned()));
        assert_eq!(QuietHours::parse("25:00-07:00"), None);
        assert_eq!(QuietHours::parse("22:00"), None);
    }

    #[test]
    fn an_escalation_tier_is_never_held_for_quiet_hours() {
        let contacts = [
            contact(1, ContactRole::Family, true, true),
            contact(2, ContactRole::PrimaryPhysician, true, true),
        ];
        let staff = [ProviderContact {
            id: ContactId(9),
            provider_id: ProviderId(1),
            role: crate::model::StaffRole::parse("on_call_nurse").expect("a role"),
            name: "Pat".to_owned(),
            email: None,
            phone: Some("+15555550190".to_owned()),
            created_at: at("2026-01-01T00:00:00Z"),
        }];
        // A Normal ticket's tier at 22:30, when family news would wait.
        let night = facts(NotifyEvent::Escalated, 3, "2026-01-10T04:30:00Z");
        let family = plan_tier(
            &RecipientRole::Resident(ContactRole::Family),
            night,
            &contacts,
            &staff,
        );
        let summary: Vec<_> = family
            .iter()
            .map(|p| (p.contact_id.get(), p.channel, p.not_before))
            .collect();
        assert_eq!(
            summary,
            vec![(1, Channel::Email, night.now), (1, Channel::Sms, night.now),]
        );
        // Staff get every channel they have an address for.
        let nurse = RecipientRole::parse("on_call_nurse").expect("a role");
        let on_call = plan_tier(&nurse, night, &contacts, &staff);
        assert_eq!(on_call.len(), 1);
        assert_eq!(
            (
                on_call[0].contact_id.get(),
                on_call[0].channel,
                on_call[0].role.clone()
            ),
            (9, Channel::Sms, nurse)
        );
    }
}
