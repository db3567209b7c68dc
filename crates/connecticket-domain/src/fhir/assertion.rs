//! SMART Backend Services: a client authenticates with a JWT it signed
//! (`private_key_jwt`), checked against the public keys (a JWK Set) its
//! application registered. ES384 and RS384 only, as SMART asks; the
//! assertion names the client (`iss` = `sub` = its api_key), is meant for
//! this token endpoint (`aud`), expires within five minutes, and its `jti`
//! is never accepted twice.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

/// The most an assertion may live: SMART's five minutes (and a minute of
/// clock difference between client and server).
pub const MAX_ASSERTION_LIFETIME: Duration = Duration::minutes(5);
const CLOCK_SKEW: Duration = Duration::seconds(60);
/// The longest `jti` kept.
const MAX_JTI_BYTES: usize = 255;

/// `client_assertion_type` of a JWT client assertion (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Why an assertion or a key set is refused. The message goes to the
/// client: it says which check failed, never anything about the keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("the client assertion is not a JWT signed with ES384 or RS384")]
    Malformed,
    #[error("the client assertion's signature matches none of the application's registered keys")]
    WrongKey,
    #[error("the client assertion has expired")]
    Expired,
    #[error("the client assertion lives longer than five minutes")]
    TooLong,
    #[error("the client assertion is not meant for this token endpoint (aud)")]
    WrongAudience,
    #[error("the client assertion's iss and sub must both be the client_id")]
    WrongIssuer,
    #[error("the client assertion has no usable jti")]
    NoJti,
    #[error("the client assertion was used before (jti)")]
    Replayed,
    #[error("the application has registered no keys for signed assertions")]
    NoKeys,
}

/// Why a key set cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeySetError {
    #[error("not a JWK Set (a JSON object with \"keys\")")]
    NotAKeySet,
    #[error("the key set holds no keys")]
    Empty,
    #[error("key {0}: only EC P-384 (ES384) and RSA (RS384) public keys are accepted")]
    Unsupported(usize),
    #[error("key {0} holds private material; register public keys only")]
    Private(usize),
    #[error("key {0}: an RSA key must be at least 2048 bits")]
    WeakRsa(usize),
}

#[derive(serde::Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

/// What a verified assertion says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub jti: String,
    pub expires_at: DateTime<Utc>,
}

/// The algorithm a key signs with, if it is one SMART accepts.
fn algorithm_of(key: &Jwk) -> Option<Algorithm> {
    match &key.algorithm {
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P384 => {
            Some(Algorithm::ES384)
        }
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS384),
        _ => None,
    }
}

/// Checks a key set an application registers: public EC P-384 or RSA
/// (≥ 2048-bit) keys, at least one. Answers it as stored.
pub fn check_key_set(text: &str) -> Result<JwkSet, KeySetError> {
    let raw: serde_json::Value = serde_json::from_str(text).map_err(|_| KeySetError::NotAKeySet)?;
    let keys = raw
        .get("keys")
        .and_then(|keys| keys.as_array())
        .ok_or(KeySetError::NotAKeySet)?;
    if keys.is_empty() {
        return Err(KeySetError::Empty);
    }
    for (index, key) in keys.iter().enumerate() {
        // serde would drop the private parts silently: look for them first.
        if ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|part| key.get(part).is_some())
        {
            return Err(KeySetError::Private(index));
        }
    }
    let set: JwkSet = serde_json::from_value(raw).map_err(|_| KeySetError::NotAKeySet)?;
    for (index, key) in set.keys.iter().enumerate() {
        if algorithm_of(key).is_none() {
            return Err(KeySetError::Unsupported(index));
        }
        if let AlgorithmParameters::RSA(rsa) = &key.algorithm {
            use base64::Engine;
            let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(rsa.n.trim_end_matches('='))
                .map_err(|_| KeySetError::Unsupported(index))?;
            let significant = modulus.iter().skip_while(|byte| **byte == 0).count();
            if significant * 8 < 2048 {
                return Err(KeySetError::WeakRsa(index));
            }
        }
    }
    Ok(set)
}

/// Verifies a client assertion for `client_id` against the application's
/// keys, for the token endpoint at `audience`, at `now`.
pub fn verify(
    assertion: &str,
    client_id: &str,
    keys: &JwkSet,
    audience: &str,
    now: DateTime<Utc>,
) -> Result<VerifiedAssertion, AssertionError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| AssertionError::Malformed)?;
    if !matches!(header.alg, Algorithm::ES384 | Algorithm::RS384) {
        return Err(AssertionError::Malformed);
    }
    let candidates = keys.keys.iter().filter(|key| {
        algorithm_of(key) == Some(header.alg)
            && match (&header.kid, &key.common.key_id) {
                (Some(wanted), Some(kid)) => wanted == kid,
                _ => true,
            }
    });
    let mut validation = Validation::new(header.alg);
    // Time is checked below against the server's clock, not the system's.
    validation.validate_exp = false;
    validation.required_spec_claims = ["aud".to_owned()].into_iter().collect();
    validation.set_audience(&[audience]);
    let mut verified = None;
    let mut wrong_audience = false;
    for key in candidates {
        let Ok(decoding) = DecodingKey::from_jwk(key) else {
            continue;
        };
        match jsonwebtoken::decode::<Claims>(assertion, &decoding, &validation) {
            Ok(data) => {
                verified = Some(data.claims);
                break;
            }
            Err(error) => {
                use jsonwebtoken::errors::ErrorKind;
                if matches!(
                    error.kind(),
                    ErrorKind::InvalidAudience | ErrorKind::MissingRequiredClaim(_)
                ) {
                    wrong_audience = true;
                }
            }
        }
    }
    let claims = match verified {
        Some(claims) => claims,
        None if wrong_audience => return Err(AssertionError::WrongAudience),
        None => return Err(AssertionError::WrongKey),
    };
    if claims.iss.as_deref() != Some(client_id) || claims.sub.as_deref() != Some(client_id) {
        return Err(AssertionError::WrongIssuer);
    }
    let expires_at = claims
        .exp
        .and_then(|exp| DateTime::from_timestamp(exp, 0))
        .ok_or(AssertionError::Expired)?;
    if expires_at + CLOCK_SKEW <= now {
        return Err(AssertionError::Expired);
    }
    if expires_at > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW {
        return Err(AssertionError::TooLong);
    }
    if claims
        .nbf
        .and_then(|nbf| DateTime::from_timestamp(nbf, 0))
        .is_some_and(|nbf| nbf > now + CLOCK_SKEW)
    {
        return Err(AssertionError::Expired);
    }
    let jti = claims
        .jti
        .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_BYTES)
        .ok_or(AssertionError::NoJti)?;
    Ok(VerifiedAssertion {
        jti,
        expires_at: expires_at + CLOCK_SKEW,
    })
}

/// The client an assertion claims to come from (`iss`), read before its
/// signature is checked: only to find the keys to check it with.
pub fn claimed_client(assertion: &str) -> Option<String> {
    let mut validation = Validation::new(Algorithm::ES384);
    validation.insecure_disable_signature_validation();
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let key = DecodingKey::from_secret(&[]);
    jsonwebtoken::decode::<Claims>(assertion, &key, &validation)
        .ok()?
        .claims
        .iss
}
