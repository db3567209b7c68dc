//! The optional second factor: time-based one-time passwords (RFC 6238;
//! SHA-1, 6 digits, 30-second steps, as authenticator apps expect), one
//! step of clock drift allowed either way.

use chrono::{DateTime, Utc};
use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per code (RFC 6238's default, what authenticator apps use).
const STEP_SECS: u64 = 30;

/// 160 bits, the size RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8]) -> Option<TOTP> {
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS, secret.to_vec()).ok()
}

fn epoch_secs(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0)
}

/// The time step (30-second period since the epoch) whose code `code` is:
/// the one at `at` or one either side. A code is good once: whoever
/// checks it keeps the step and refuses that step and earlier ones after.
pub fn step_of(secret: &[u8], code: &str, at: DateTime<Utc>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = totp(secret)?;
    let now = epoch_secs(at);
    let step = i64::try_from(now / STEP_SECS).ok()?;
    // Every candidate is computed and compared, so that the time taken
    // does not tell which step matched.
    let mut matched = None;
    for drift in [-1i64, 0, 1] {
        let Ok(at) = u64::try_from(now as i64 + drift * STEP_SECS as i64) else {
            continue;
        };
        let expected = totp.generate(at);
        if crate::auth::constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            matched = Some(step + drift);
        }
    }
    matched
}

/// Whether `code` is the secret's code at `at` (or one step either side).
pub fn verify(secret: &[u8], code: &str, at: DateTime<Utc>) -> bool {
    step_of(secret, code, at).is_some()
}

/// The code at `at`: what an authenticator app shows (tests and the
/// enrolment check use it).
pub fn code_at(secret: &[u8], at: DateTime<Utc>) -> Option<String> {
    totp(secret).map(|totp| totp.generate(epoch_secs(at)))
}

/// The secret as people type it into an authenticator app (base32).
pub fn secret_text(secret: &[u8]) -> String {
    Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

/// A secret as `secret_text` wrote it; none unless it decodes to the
/// size this module generates.
pub fn secret_from_text(text: &str) -> Option<Vec<u8>> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    Secret::Encoded(compact)
        .to_bytes()
        .ok()
        .filter(|bytes| bytes.len() == SECRET_BYTES)
}

/// The `otpauth://` address that authenticator apps import.
pub fn provisioning_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        encode(issuer),
        encode(account),
        secret_text(secret),
        encode(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the
        // 6-digit code is its last six digits.
        let secret = b"12345678901234567890";
        let at = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(59);
        assert_eq!(code_at(secret, at).as_deref(), Some("287082"));
        assert!(verify(secret, "287 082", at));
        assert!(!verify(secret, "287083", at));
        let much_later = at + chrono::Duration::seconds(120);
        assert!(!verify(secret, "287082", much_later));
    }

    #[test]
    fn a_code_names_its_step_within_one_step_of_drift() {
        let secret = b"12345678901234567890";
        let at = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(95); // step 3
        let code = |seconds: i64| {
            code_at(
                secret,
                DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(seconds),
            )
            .expect("code")
        };
        assert_eq!(step_of(secret, &code(95), at), Some(3));
        assert_eq!(step_of(secret, &code(65), at), Some(2));
        assert_eq!(step_of(secret, &code(125), at), Some(4));
        assert_eq!(step_of(secret, &code(35), at), None);
    }

    #[test]
    fn a_secret_survives_its_text() {
        let secret = generate_secret();
        let text = secret_text(&secret);
        assert_eq!(secret_from_text(&text.to_lowercase()), Some(secret));
        assert_eq!(secret_from_text("AAAA"), None);
        assert_eq!(secret_from_text("not base32 !"), None);
    }

    #[test]
    fn the_provisioning_uri_names_issuer_and_account() {
        let uri = provisioning_uri(b"12345678901234567890", "Example Provider", "a@b.org");
        assert!(uri.starts_with("otpauth://totp/Example%20Provider:a%40b.org?secret="));
        assert!(uri.contains("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
    }
}
