//! The FHIR R4 facade's domain: which SMART scopes an application may hold,
//! its bearer tokens, and the searches its resources answer. How a resource
//! looks on the wire belongs to the HTTP layer (`connecticket-http`'s
//! `fhir`); docs/FHIR.md describes both.

pub mod assertion;
pub mod scope;
pub mod search;

pub use scope::{Interaction, ResourceType, Scopes};
pub use search::{
    ContactSearch, DayRange, DocumentRecord, DocumentSearch, IdentifierQuery, IdentifierSystem,
    InstantRange, NotificationSearch, PatientSearch, SearchPage, TaskSearch, Versioned, Window,
    DEFAULT_COUNT, MAX_COUNT,
};

use crate::auth::TokenRecord;

/// How long a FHIR access token lives. SMART Backend Services asks for
/// five minutes at most: a client fetches another when it runs out.
pub const TOKEN_LIFETIME_SECS: i64 = 300;

/// Unrevoked FHIR tokens an application keeps; issuing beyond this revokes
/// its oldest (FHIR clients fetch a token every few minutes, so this is
/// kept apart from the API's tokens, which it would otherwise revoke).
pub const LIVE_TOKENS_PER_APPLICATION: u32 = 50;

/// A client assertion's id, claimed with the token it buys: a second
/// token for the same `jti` is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionClaim {
    pub jti: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// What an application may do on the FHIR facade beyond its secret: the
/// public keys it signs assertions with, and leave to read the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirAccess {
    pub application: crate::model::ApplicationId,
    /// The registered JWK Set, as registered.
    pub jwks: Option<String>,
    pub audit_trail: bool,
}

/// A FHIR token as stored, with the scopes it was granted.
#[derive(Debug, Clone)]
pub struct FhirTokenRecord {
    pub token: TokenRecord,
    pub scope: String,
}
