//! Who a change will tell, as the console's forms say it before saving:
//! "Ann Olsen (family) by SMS and email; Dr. Kim (primary physician) by
//! email. If nobody answers within 15 min, the on call nurse is told."

use chrono::Duration;
use connecticket_domain::model::{ContactRole, RecipientRole};
use connecticket_domain::notify::{Channel, NotifyRequest};
use connecticket_domain::service::Telling;

use crate::wire::RequestParams;

/// The five notify flags, as the forms name their boxes.
const FLAGS: [(&str, &str); 5] = [
    ("email", "Email"),
    ("sms", "Text (SMS)"),
    ("sent_to_family", "Family"),
    ("sent_to_primary", "Primary physician"),
    ("sent_to_healthcare_pro", "Healthcare professional"),
];

pub(crate) struct PersonView {
    pub name: String,
    pub role: &'static str,
    pub channels: String,
    pub held_until: Option<String>,
}

/// What `telling.html` shows.
pub(crate) struct TellingView {
    pub people: Vec<PersonView>,
    pub unreached: Vec<(String, &'static str)>,
    pub urgent: bool,
    pub escalation: Option<String>,
}

pub(crate) fn role_words(role: ContactRole) -> &'static str {
    match role {
        ContactRole::Family => "family",
        ContactRole::PrimaryPhysician => "primary physician",
        ContactRole::HealthcareProfessional => "healthcare professional",
    }
}

fn channel_words(channels: &[Channel]) -> String {
    let has = |wanted| channels.contains(&wanted);
    match (has(Channel::Sms), has(Channel::Email)) {
        (true, true) => "SMS and email".to_owned(),
        (true, false) => "SMS".to_owned(),
        _ => "email".to_owned(),
    }
}

/// "15 minutes", "2 hours", "90 seconds".
fn duration_words(duration: Duration) -> String {
    let seconds = duration.num_seconds();
    let (count, unit) = match seconds {
        s if s != 0 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s != 0 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

fn escalation_words(after: Duration, next: Option<&RecipientRole>) -> String {
    let after = duration_words(after);
    match next {
        Some(role) => format!(
            "If nobody answers within {after}, it escalates to the {}.",
            role.as_str().replace('_', " ")
        ),
        None => format!("If nobody answers within {after}, they are told again."),
    }
}

impl TellingView {
    pub(crate) fn of(telling: &Telling) -> Self {
        TellingView {
            people: telling
                .people
                .iter()
                .map(|person| PersonView {
                    name: person.name.clone(),
                    role: role_words(person.role),
                    channels: channel_words(&person.channels),
                    held_until: person.held_until.clone(),
                })
                .collect(),
            unreached: telling
                .unreached
                .iter()
                .map(|(name, role)| (name.clone(), role_words(*role)))
                .collect(),
            urgent: telling.urgent,
            // Nobody told, nobody to answer.
            escalation: (!telling.nobody())
                .then_some(telling.escalation.as_ref())
                .flatten()
                .map(|(after, next)| escalation_words(*after, next.as_ref())),
        }
    }
}

/// A form's notify boxes as the API reads them: a box not sent (unticked)
/// is "no".
pub(crate) fn unticked_are_no(params: &mut RequestParams) -> Result<(), crate::error::HttpError> {
    for (flag, _) in FLAGS {
        if params.get(flag).is_none() {
            params.insert(flag, "0".to_owned())?;
        }
    }
    Ok(())
}

/// The choice a form sent: `None` when it sent none (a first look, or
/// the urgency just changed: the policy's default then applies).
pub(crate) fn sent_choice(sent: &RequestParams) -> Option<NotifyRequest> {
    if sent.get("defaults").is_some() {
        return None;
    }
    let named =
        sent.get("choices").is_some() || FLAGS.iter().any(|(name, _)| sent.get(name).is_some());
    if !named {
        return None;
    }
    let ticked = |name: &str| Some(sent.get(name).is_some_and(|v| v == "1"));
    Some(NotifyRequest {
        email: ticked("email"),
        sms: ticked("sms"),
        family: ticked("sent_to_family"),
        primary_physician: ticked("sent_to_primary"),
        healthcare_professional: ticked("sent_to_healthcare_pro"),
    })
}

/// A box as a form shows it: `(name, label, ticked)`.
pub(crate) type NotifyBox = (&'static str, &'static str, bool);

/// The boxes as a form shows them: whom to tell, then how.
pub(crate) fn boxes(choice: &NotifyRequest) -> (Vec<NotifyBox>, Vec<NotifyBox>) {
    let ticked = [
        choice.email,
        choice.sms,
        choice.family,
        choice.primary_physician,
        choice.healthcare_professional,
    ];
    let all: Vec<NotifyBox> = FLAGS
        .iter()
        .zip(ticked)
        .map(|((name, label), value)| (*name, *label, value == Some(true)))
        .collect();
    let (how, whom) = all.split_at(2);
    (whom.to_vec(), how.to_vec())
}

/// Names a choice, so that a form can tell whether the summary it showed
/// is the one for what it sends.
pub(crate) fn fingerprint(resident: &str, urgency: i64, choice: &NotifyRequest) -> String {
    let bit = |flag: Option<bool>| if flag == Some(true) { '1' } else { '0' };
    format!(
        "{}-{urgency}-{}{}{}{}{}",
        resident.trim(),
        bit(choice.email),
        bit(choice.sms),
        bit(choice.family),
        bit(choice.primary_physician),
        bit(choice.healthcare_professional)
    )
}
