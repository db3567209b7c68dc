//! Sealing a short text for one console session: what a page must show
//! once after a redirect (a new api_secret, an invitation link) travels in
//! a cookie, encrypted and authenticated under a key only this server can
//! make and only for the session that asked, so neither the browser's
//! cookie store nor another session can read or alter it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::auth::SecretHasher;

const NONCE_BYTES: usize = 24;

fn cipher(hasher: &SecretHasher, session_secret: &str, purpose: &str) -> XChaCha20Poly1305 {
    let key = hasher.hash("console-seal", &format!("{purpose}\0{session_secret}"));
    XChaCha20Poly1305::new(Key::from_slice(&key))
}

/// `plain`, sealed for `purpose` under the session's secret.
pub fn seal(hasher: &SecretHasher, session_secret: &str, purpose: &str, plain: &[u8]) -> String {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher(hasher, session_secret, purpose)
        .encrypt(&nonce, plain)
        .unwrap_or_default();
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What `seal` sealed, if `sealed` was sealed for this purpose and
/// session and not altered since.
pub fn open(
    hasher: &SecretHasher,
    session_secret: &str,
    purpose: &str,
    sealed: &str,
) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if bytes.len() <= NONCE_BYTES {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
    cipher(hasher, session_secret, purpose)
        .decrypt(XNonce::from_slice(nonce), sealed)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_session_and_purpose_open_it() {
        let hasher = SecretHasher::new("key");
        let sealed = seal(&hasher, "session-a", "shown-once", b"api_secret");
        assert_eq!(
            open(&hasher, "session-a", "shown-once", &sealed).as_deref(),
            Some(&b"api_secret"[..])
        );
        assert_eq!(open(&hasher, "session-b", "shown-once", &sealed), None);
        assert_eq!(open(&hasher, "session-a", "draft", &sealed), None);
        assert_eq!(
            open(
                &SecretHasher::new("other"),
                "session-a",
                "shown-once",
                &sealed
            ),
            None
        );
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(open(&hasher, "session-a", "shown-once", &altered), None);
        assert_eq!(
            open(&hasher, "session-a", "shown-once", "not base64!"),
            None
        );
        assert!(!sealed.contains("api_secret"));
    }
}
