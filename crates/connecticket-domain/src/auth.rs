//! Credentials: generation, hashing at rest, constant-time comparison.
//!
//! Api secrets and access tokens are random with at least 128 bits of
//! entropy, so a slow password hash buys nothing against guessing and would
//! cap throughput (every call re-checks the secret). They are stored as
//! HMAC-SHA-256 under a server-wide key: a stolen database alone does not let
//! anyone test candidate secrets offline, and a lookup by hash stays one
//! index probe.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::{distributions::Uniform, rngs::OsRng, Rng};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::model::{AccessTokenId, ApplicationId, EmployeeId, Provider};

/// The built-in key, published with the source: fit for the demo only.
/// `serve` refuses it outside demo mode; a deployment sets its own
/// `CONNECTICKET_HASH_KEY` once (changing it invalidates every stored
/// secret and token).
pub const DEMO_HASH_KEY: &str = "connecticket-default-hash-key-v1";

#[derive(Clone)]
pub struct SecretHasher {
    key: Vec<u8>,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher { key: <redacted> }")
    }
}

impl SecretHasher {
    pub fn new(key: impl AsRef<[u8]>) -> Self {
        SecretHasher {
            key: key.as_ref().to_vec(),
        }
    }

    /// True for the published demo key, which protects nothing.
    pub fn is_demo_key(&self) -> bool {
        constant_time_eq(&self.key, DEMO_HASH_KEY.as_bytes())
    }

    /// The keyed hash of a secret or token; `purpose` separates the two so
    /// that a secret never verifies as a token.
    pub fn hash(&self, purpose: &str, secret: &str) -> Vec<u8> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(secret.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    pub fn hash_api_secret(&self, secret: &str) -> Vec<u8> {
        self.hash("api_secret", secret)
    }

    pub fn hash_token(&self, token: &str) -> Vec<u8> {
        self.hash("access_token", token)
    }

    pub fn verify_api_secret(&self, secret: &str, stored_hash: &[u8]) -> bool {
        constant_time_eq(&self.hash_api_secret(secret), stored_hash)
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

const BASE36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";

fn random_string(alphabet: &[u8], length: usize) -> String {
    let pick = Uniform::new(0, alphabet.len());
    (0..length)
        .map(|_| char::from(alphabet[OsRng.sample(pick)]))
        .collect()
}

/// 26 base-36 characters: 134 bits, URL-safe, shaped like the seed's tokens.
pub fn generate_access_token() -> String {
    random_string(BASE36, 26)
}

/// 32 hex characters (128 bits), like the seed's api_key.
pub fn generate_api_key() -> String {
    random_string(HEX, 32)
}

/// 32 base-36 characters (165 bits).
pub fn generate_api_secret() -> String {
    random_string(BASE36, 32)
}

/// Who is calling, once authenticated: the provider whose data the call
/// may see, the employee it acts as, and the surface it came through.
#[derive(Debug, Clone)]
pub struct Principal {
    pub provider: Provider,
    pub employee_id: EmployeeId,
    pub via: Via,
}

/// The surface a call came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A partner application with an access token (the published API).
    Application {
        application_id: ApplicationId,
        token_id: AccessTokenId,
    },
    /// A person signed in to the staff console.
    Console {
        session: crate::console::SessionId,
        role: crate::console::ConsoleRole,
    },
}

impl Principal {
    /// The application a call came from, if any.
    pub fn application_id(&self) -> Option<ApplicationId> {
        match self.via {
            Via::Application { application_id, .. } => Some(application_id),
            Via::Console { .. } => None,
        }
    }

    /// The console role of a signed-in person; none for an application.
    pub fn console_role(&self) -> Option<crate::console::ConsoleRole> {
        match self.via {
            Via::Console { role, .. } => Some(role),
            Via::Application { .. } => None,
        }
    }
}

/// An application's stored credentials, looked up by its public api_key.
#[derive(Debug, Clone)]
pub struct ApplicationCredentials {
    pub application_id: ApplicationId,
    pub provider: Provider,
    pub employee_id: EmployeeId,
    pub api_key: String,
    pub secret_hash: Vec<u8>,
    pub revoked: bool,
}

/// An access token as stored, joined with its application.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub token_id: AccessTokenId,
    pub expires_at: DateTime<Utc>,
    /// The token itself, or its application, was revoked.
    pub revoked: bool,
    pub application: ApplicationCredentials,
}

#[derive(Debug, Clone)]
pub struct NewAccessToken {
    pub application_id: ApplicationId,
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_keyed_and_purpose_bound() {
        let one = SecretHasher::new("one");
        let two = SecretHasher::new("two");
        assert_ne!(one.hash_token("abc"), two.hash_token("abc"));
        assert_ne!(one.hash_token("abc"), one.hash_api_secret("abc"));
        assert!(one.verify_api_secret("abc", &one.hash_api_secret("abc")));
        assert!(!one.verify_api_secret("abd", &one.hash_api_secret("abc")));
        assert!(SecretHasher::new(DEMO_HASH_KEY).is_demo_key());
        assert!(!one.is_demo_key());
    }

    #[test]
    fn generated_credentials_have_the_documented_shape() {
        let token = generate_access_token();
        assert_eq!(token.len(), 26);
        assert!(token.bytes().all(|b| BASE36.contains(&b)));
        assert_ne!(token, generate_access_token());
        assert_eq!(generate_api_key().len(), 32);
    }
}
