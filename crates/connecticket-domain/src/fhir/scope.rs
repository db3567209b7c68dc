//! SMART on FHIR scopes for system-to-system clients: `system/Patient.rs`
//! (v2) and `system/Patient.read` (v1), a resource type or `*`.

use std::collections::BTreeMap;
use std::fmt;

/// The resource types the facade serves, in the order it lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    Patient,
    Task,
    Flag,
    RelatedPerson,
    Practitioner,
    Communication,
    DocumentReference,
    Binary,
    AuditEvent,
    CodeSystem,
}

impl ResourceType {
    pub const ALL: [ResourceType; 10] = [
        ResourceType::Patient,
        ResourceType::Task,
        ResourceType::Flag,
        ResourceType::RelatedPerson,
        ResourceType::Practitioner,
        ResourceType::Communication,
        ResourceType::DocumentReference,
        ResourceType::Binary,
        ResourceType::AuditEvent,
        ResourceType::CodeSystem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Patient => "Patient",
            ResourceType::Task => "Task",
            ResourceType::Flag => "Flag",
            ResourceType::RelatedPerson => "RelatedPerson",
            ResourceType::Practitioner => "Practitioner",
            ResourceType::Communication => "Communication",
            ResourceType::DocumentReference => "DocumentReference",
            ResourceType::Binary => "Binary",
            ResourceType::AuditEvent => "AuditEvent",
            ResourceType::CodeSystem => "CodeSystem",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request does with a resource type, as SMART v2 spells it:
/// create, read, update, delete, search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Create,
    Read,
    Update,
    Delete,
    Search,
}

impl Interaction {
    const ORDER: [(Interaction, char); 5] = [
        (Interaction::Create, 'c'),
        (Interaction::Read, 'r'),
        (Interaction::Update, 'u'),
        (Interaction::Delete, 'd'),
        (Interaction::Search, 's'),
    ];

    fn bit(self) -> u8 {
        match self {
            Interaction::Create => 1,
            Interaction::Read => 2,
            Interaction::Update => 4,
            Interaction::Delete => 8,
            Interaction::Search => 16,
        }
    }
}

/// Why a requested scope cannot be granted (OAuth's `invalid_scope`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("none of the requested scopes grants anything this server offers; ask for system/Patient.rs, system/Task.rs or others")]
    NothingGranted,
    #[error("scope {0:?} is not a SMART system scope (system/<Type>.<cruds>)")]
    Malformed(String),
    #[error("scope {0:?} names a resource type this server does not serve")]
    UnknownType(String),
}

/// Scopes as granted: for each resource type, the interactions allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    allowed: BTreeMap<ResourceType, u8>,
}

/// The interactions this facade offers on each type: what a wildcard
/// grants, and the most any scope can.
fn offered(kind: ResourceType) -> u8 {
    let read = Interaction::Read.bit() | Interaction::Search.bit();
    match kind {
        ResourceType::Task => read | Interaction::Create.bit() | Interaction::Update.bit(),
        // A file is read by the link its DocumentReference gives.
        ResourceType::Binary => Interaction::Read.bit(),
        _ => read,
    }
}

fn permissions(text: &str) -> Option<u8> {
    match text {
        "read" => Some(Interaction::Read.bit() | Interaction::Search.bit()),
        "write" => {
            Some(Interaction::Create.bit() | Interaction::Update.bit() | Interaction::Delete.bit())
        }
        "*" => Some(0b11111),
        _ => {
            // v2: a non-empty subsequence of "cruds", in that order.
            let mut rest = Interaction::ORDER.iter().peekable();
            let mut bits = 0;
            for letter in text.chars() {
                loop {
                    let (interaction, expected) = rest.next()?;
                    if *expected == letter {
                        bits |= interaction.bit();
                        break;
                    }
                }
            }
            (bits != 0).then_some(bits)
        }
    }
}

impl Scopes {
    /// Reads a space-separated request (`system/Patient.rs system/Task.*`).
    /// Scopes other than `system/` ones (`launch`, `openid`, `user/…`) mean
    /// nothing to a backend service and are refused rather than ignored,
    /// so that a client never believes it holds what it does not.
    pub fn parse(requested: &str) -> Result<Scopes, ScopeError> {
        let mut scopes = Scopes::default();
        for item in requested.split_ascii_whitespace() {
            let malformed = || ScopeError::Malformed(item.to_owned());
            let body = item.strip_prefix("system/").ok_or_else(malformed)?;
            // SMART v2 allows a query after the permissions; none is served.
            let (kind, perms) = body.split_once('.').ok_or_else(malformed)?;
            let bits = permissions(perms).ok_or_else(malformed)?;
            let kinds: Vec<ResourceType> = if kind == "*" {
                ResourceType::ALL.to_vec()
            } else {
                vec![ResourceType::parse(kind)
                    .ok_or_else(|| ScopeError::UnknownType(item.to_owned()))?]
            };
            for kind in kinds {
                let granted = bits & offered(kind);
                if granted != 0 {
                    *scopes.allowed.entry(kind).or_default() |= granted;
                }
            }
        }
        if scopes.allowed.is_empty() {
            return Err(ScopeError::NothingGranted);
        }
        Ok(scopes)
    }

    /// The same scopes without any on `kind` (one the client may not
    /// hold); `None` when nothing would be left.
    pub fn without(mut self, kind: ResourceType) -> Option<Scopes> {
        self.allowed.remove(&kind);
        (!self.allowed.is_empty()).then_some(self)
    }

    pub fn allows(&self, kind: ResourceType, interaction: Interaction) -> bool {
        self.allowed
            .get(&kind)
            .is_some_and(|bits| bits & interaction.bit() != 0)
    }
}

/// The granted scopes in SMART v2 form, one per resource type, as the
/// token answer and the stored token carry them.
impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (kind, bits) in &self.allowed {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "system/{kind}.")?;
            for (interaction, letter) in Interaction::ORDER {
                if bits & interaction.bit() != 0 {
                    write!(f, "{letter}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_and_v1_scopes_grant_what_they_say_and_no_more() {
        let scopes = Scopes::parse("system/Patient.rs system/Task.read").expect("valid");
        assert!(scopes.allows(ResourceType::Patient, Interaction::Search));
        assert!(scopes.allows(ResourceType::Task, Interaction::Read));
        assert!(!scopes.allows(ResourceType::Task, Interaction::Update));
        assert!(!scopes.allows(ResourceType::CodeSystem, Interaction::Read));
        assert_eq!(scopes.to_string(), "system/Patient.rs system/Task.rs");
    }

    #[test]
    fn a_wildcard_grants_only_what_is_offered() {
        let scopes = Scopes::parse("system/*.cruds").expect("valid");
        assert!(scopes.allows(ResourceType::Task, Interaction::Create));
        assert!(!scopes.allows(ResourceType::Patient, Interaction::Create));
        assert!(!scopes.allows(ResourceType::Task, Interaction::Delete));
        assert_eq!(
            scopes.to_string(),
            "system/Patient.rs system/Task.crus system/Flag.rs system/RelatedPerson.rs \
             system/Practitioner.rs system/Communication.rs system/DocumentReference.rs \
             system/Binary.r system/AuditEvent.rs system/CodeSystem.rs"
        );
    }

    #[test]
    fn malformed_unknown_and_empty_requests_are_refused() {
        assert_eq!(Scopes::parse(""), Err(ScopeError::NothingGranted));
        assert_eq!(
            Scopes::parse("system/Patient.d"),
            Err(ScopeError::NothingGranted)
        );
        assert!(matches!(
            Scopes::parse("user/Patient.rs"),
            Err(ScopeError::Malformed(_))
        ));
        assert!(matches!(
            Scopes::parse("system/Patient.sr"),
            Err(ScopeError::Malformed(_))
        ));
        assert!(matches!(
            Scopes::parse("system/Observation.rs"),
            Err(ScopeError::UnknownType(_))
        ));
    }
}
