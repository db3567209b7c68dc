//! Escalation: an urgent ticket's notifications must be acknowledged by a
//! person within a deadline, or the ticket is told again, then to the
//! next tier, one level at a time.
//!
//! Levels: 0 is the change's own notifications; 1 tells the same
//! recipients once more (`ack_within` after level 0); 2, 3, … tell each
//! tier in turn (`renotify_after` after the level before). After the last
//! tier the escalation is exhausted: still unacknowledged, nobody left to
//! tell. Deadlines live in the database; a level is taken in the same
//! transaction that records its notifications, so it happens once.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::model::{ProviderId, RecipientRole, StaffRole, TicketId};
use crate::workflow::UrgencyStatus;

/// How one urgency is escalated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationRule {
    /// Until the same recipients are told once more.
    #[serde(serialize_with = "serialize_duration")]
    pub ack_within: Duration,
    /// Between one level and the next after that.
    #[serde(serialize_with = "serialize_duration")]
    pub renotify_after: Duration,
    /// Told one after another, each once.
    pub tiers: Vec<RecipientRole>,
}

fn serialize_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

/// A provider's rules by urgency id; an urgency without a rule needs no
/// acknowledgment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct EscalationPolicy {
    pub rules: BTreeMap<i64, EscalationRule>,
}

/// The staff roles the default policy escalates to; a provider names the
/// people in them with `connecticket escalation contact add`.
pub const DEFAULT_TIERS: [&str; 2] = ["on_call_nurse", "director_of_nursing"];

impl EscalationPolicy {
    /// Exception within 15 minutes, High within 60; each tells the same
    /// recipients again after its deadline, then the on-call nurse, then
    /// the director of nursing, each after as long again.
    pub fn defaults() -> Self {
        let tiers: Vec<RecipientRole> = DEFAULT_TIERS
            .iter()
            .filter_map(|role| StaffRole::parse(role).map(RecipientRole::Staff))
            .collect();
        let rule = |minutes| EscalationRule {
            ack_within: Duration::minutes(minutes),
            renotify_after: Duration::minutes(minutes),
            tiers: tiers.clone(),
        };
        let mut rules = BTreeMap::new();
        rules.insert(UrgencyStatus::EXCEPTION.id, rule(15));
        rules.insert(UrgencyStatus::HIGH.id, rule(60));
        EscalationPolicy { rules }
    }

    pub fn rule(&self, urgency_status_id: i64) -> Option<&EscalationRule> {
        self.rules.get(&urgency_status_id)
    }
}

/// Where a ticket's escalation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationState {
    /// Waiting for an acknowledgment; the next level is due at `next_at`.
    Active,
    /// Someone acknowledged: nothing more is sent.
    Acknowledged,
    /// The ticket was resolved or closed, or its urgency needs no
    /// acknowledgment any more.
    Stopped,
    /// Every tier was told and nobody acknowledged.
    Exhausted,
}

impl EscalationState {
    const ALL: [EscalationState; 4] = [
        EscalationState::Active,
        EscalationState::Acknowledged,
        EscalationState::Stopped,
        EscalationState::Exhausted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EscalationState::Active => "active",
            EscalationState::Acknowledged => "acknowledged",
            EscalationState::Stopped => "stopped",
            EscalationState::Exhausted => "exhausted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A ticket's escalation, one per ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalation {
    pub ticket_id: TicketId,
    pub provider_id: ProviderId,
    pub urgency_status_id: i64,
    pub state: EscalationState,
    /// The last level taken.
    pub level: i64,
    /// When the next level is due (active only).
    pub next_at: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A ticket's escalation and the levels it took, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketEscalation {
    pub escalation: Escalation,
    pub steps: Vec<EscalationStep>,
}

/// What a level does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Tell the level-0 recipients once more.
    Renotify,
    /// Tell everyone in this role.
    Tier(RecipientRole),
    /// Nobody is left to tell.
    Exhausted,
}

impl Step {
    /// What level `level` (≥ 1) of `rule` does.
    pub fn of(rule: &EscalationRule, level: i64) -> Step {
        match level {
            ..=1 => Step::Renotify,
            _ => usize::try_from(level - 2)
                .ok()
                .and_then(|index| rule.tiers.get(index))
                .map_or(Step::Exhausted, |role| Step::Tier(role.clone())),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Step::Renotify => "renotify",
            Step::Tier(_) => "tier",
            Step::Exhausted => "exhausted",
        }
    }
}

/// One level taken: the proof of who was told when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EscalationStep {
    pub id: i64,
    pub ticket_id: TicketId,
    pub provider_id: ProviderId,
    pub level: i64,
    /// `renotify`, `tier` or `exhausted`.
    pub kind: String,
    /// The tier's role; for a renotify, empty.
    pub role: Option<String>,
    /// How many notifications the level queued.
    pub notified: i64,
    pub at: DateTime<Utc>,
}

/// Parses `90s`, `15m`, `2h`, `7d` (a positive whole number and a unit).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let amount: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    if amount <= 0 {
        return None;
    }
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    // At most a year: a deadline beyond is a typo.
    amount
        .checked_mul(seconds)
        .filter(|s| *s <= 366 * 86_400)
        .map(Duration::seconds)
}

/// The shortest exact spelling `parse_duration` reads back.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.num_seconds();
    for (unit, size) in [('d', 86_400), ('h', 3600), ('m', 60)] {
        if seconds != 0 && seconds % size == 0 {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_print_the_same() {
        assert_eq!(parse_duration("90s"), Some(Duration::seconds(90)));
        assert_eq!(parse_duration("15m"), Some(Duration::minutes(15)));
        assert_eq!(parse_duration(" 2h "), Some(Duration::hours(2)));
        assert_eq!(parse_duration("7d"), Some(Duration::days(7)));
        for bad in [
            "",
            "m",
            "0m",
            "-5m",
            "5",
            "5w",
            "1.5h",
            "999999999999d",
            "5mm",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        for text in ["90s", "15m", "2h", "7d", "61s"] {
            assert_eq!(
                parse_duration(text).map(format_duration).as_deref(),
                Some(text)
            );
        }
        assert_eq!(format_duration(Duration::seconds(120)), "2m");
    }

    #[test]
    fn levels_renotify_then_walk_the_tiers_then_stop() {
        let policy = EscalationPolicy::defaults();
        let rule = policy.rule(UrgencyStatus::EXCEPTION.id).expect("a rule");
        assert_eq!(rule.ack_within, Duration::minutes(15));
        assert!(policy.rule(UrgencyStatus::HIGH.id).is_some());
        assert!(policy.rule(UrgencyStatus::DEFAULT.id).is_none());
        assert_eq!(Step::of(rule, 1), Step::Renotify);
        assert_eq!(
            Step::of(rule, 2).kind(),
            "tier",
            "level 2 tells the first tier"
        );
        assert_eq!(
            Step::of(rule, 3),
            Step::Tier(RecipientRole::parse("director_of_nursing").expect("role"))
        );
        assert_eq!(Step::of(rule, 4), Step::Exhausted);
    }
}
