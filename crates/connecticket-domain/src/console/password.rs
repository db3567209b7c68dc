//! Passwords: the rules a new one must meet, and argon2id hashing.
//!
//! argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's
//! recommended minimum). Hashing takes tens of milliseconds of CPU by
//! design, so callers run it on a blocking thread. The PHC string keeps
//! its parameters, so raising them later still verifies older hashes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::{DomainError, DomainResult, Field, Problem, StoreError};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The demo accounts' password, published in the README: `serve` refuses
/// a database where it still opens an account, outside demo mode.
pub const DEMO_PASSWORD: &str = "connecticket-demo";

/// Length is what makes a password strong (NIST SP 800-63B); composition
/// rules are not imposed.
pub fn check_policy(password: &str) -> Result<(), Problem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Problem::Rule(format!(
            "must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Problem::TooLong {
            max_chars: MAX_PASSWORD_CHARS,
        });
    }
    if password.trim().is_empty() || password.chars().any(char::is_control) {
        return Err(Problem::Rule(
            "must not be blank or hold control characters".to_owned(),
        ));
    }
    Ok(())
}

/// The argon2id PHC string of a password; `None` only if the hasher
/// fails, which its fixed parameters never make it do.
pub fn hash_password(password: &str) -> Option<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .ok()
        .map(|hash| hash.to_string())
}

/// Whether `password` matches a stored hash (constant time inside
/// argon2). A malformed stored hash matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn unavailable(what: &str) -> DomainError {
    DomainError::Storage(StoreError::Unavailable(format!("{what} did not finish")))
}

/// Admits a few argon2id computations at a time, with a bounded queue
/// behind them. Each takes 19 MiB and tens of milliseconds of a core, so
/// a burst of sign-ins (anyone can send them) costs at most that many
/// times that, and beyond the queue is refused at once (`Busy`) instead of
/// buying memory and threads. A sign-in from a device the account signed
/// in on before has a lane of its own, so a crowd of strangers cannot
/// keep a nurse out of her own tablet.
pub struct HashingGate {
    ordinary: Lane,
    trusted: Lane,
}

/// Which lane a hash waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashLane {
    Ordinary,
    /// The account signed in on this device before (its device cookie).
    KnownDevice,
}

struct Lane {
    running: Arc<Semaphore>,
    queued: AtomicUsize,
    max_queued: usize,
}

impl Lane {
    fn new(running: usize, max_queued: usize) -> Self {
        Lane {
            running: Arc::new(Semaphore::new(running.max(1))),
            queued: AtomicUsize::new(0),
            max_queued,
        }
    }

    async fn admit(&self) -> DomainResult<OwnedSemaphorePermit> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(DomainError::Busy(
                "too many sign-ins are being checked at once; retry in a moment",
            ));
        }
        let permit = Arc::clone(&self.running).acquire_owned().await;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        permit.map_err(|_| unavailable("waiting to check a password"))
    }
}

impl HashingGate {
    /// `running` hashes at once in the ordinary lane, `max_queued` waiting;
    /// one more at once for known devices.
    pub fn new(running: usize, max_queued: usize) -> Self {
        HashingGate {
            ordinary: Lane::new(running, max_queued),
            trusted: Lane::new(1, max_queued),
        }
    }

    /// One hash per core (at most four), and 16 waiting per hash.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let running = cores.clamp(1, 4);
        HashingGate::new(running, running * 16)
    }

    /// Checks a new password against the policy, then hashes it on a
    /// blocking thread.
    pub async fn hash_new(&self, password: &str) -> DomainResult<String> {
        check_policy(password).map_err(|problem| DomainError::invalid(Field::Password, problem))?;
        let permit = self.ordinary.admit().await?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash_password(&password)
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| unavailable("hashing a password"))
    }

    /// Verifies a password on a blocking thread, in `lane`; against the
    /// decoy when the account has no password (or there is no account),
    /// so that either takes as long.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<String>,
        lane: HashLane,
    ) -> DomainResult<bool> {
        let permit = match lane {
            HashLane::Ordinary => self.ordinary.admit().await?,
            HashLane::KnownDevice => self.trusted.admit().await?,
        };
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match stored {
                Some(hash) => verify_password(&password, &hash),
                None => {
                    verify_decoy(&password);
                    false
                }
            }
        })
        .await
        .map_err(|_| unavailable("checking a password"))
    }

    #[cfg(test)]
    fn running_now(&self, of: usize) -> usize {
        of - self.ordinary.running.available_permits()
    }
}

/// A hash of nothing anyone knows: verified against when an address has
/// no account, so that the answer takes as long as for a real one and
/// timing does not tell which addresses exist.
static DECOY: LazyLock<Option<String>> = LazyLock::new(|| hash_password("decoy, never a password"));

pub fn verify_decoy(password: &str) {
    if let Some(decoy) = DECOY.as_deref() {
        let _ = verify_password(password, decoy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a phc string"));
        assert_ne!(hash, hash_password("correct horse battery").expect("hash"));
    }

    #[test]
    fn the_policy_asks_for_length() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("            ").is_err());
        assert!(check_policy("twelve chars").is_ok());
        assert!(check_policy(&"x".repeat(300)).is_err());
    }

    #[tokio::test]
    async fn the_gate_runs_a_few_hashes_and_refuses_beyond_its_queue() {
        let gate = Arc::new(HashingGate::new(1, 2));
        let stored = hash_password("correct horse battery");
        let attempts: Vec<_> = (0..12)
            .map(|_| {
                let gate = Arc::clone(&gate);
                let stored = stored.clone();
                tokio::spawn(
                    async move { gate.verify("wrong guess", stored, HashLane::Ordinary).await },
                )
            })
            .collect();
        let mut refused = 0;
        for attempt in attempts {
            match attempt.await.expect("task") {
                Ok(matched) => assert!(!matched),
                Err(DomainError::Busy(_)) => refused += 1,
                Err(other) => panic!("{other}"),
            }
        }
        assert!(
            refused > 0,
            "twelve at once, one running and two waiting: some are refused"
        );
        assert_eq!(gate.running_now(1), 0, "every permit is given back");
        assert!(gate
            .verify("correct horse battery", stored.clone(), HashLane::Ordinary)
            .await
            .expect("after the burst"));
        assert!(gate
            .verify("correct horse battery", stored, HashLane::KnownDevice)
            .await
            .expect("the known device's lane"));
    }
}
