//! Who may call the API: `authorize` issuing tokens and every call's token
//! check (`authorize`), throttles of failed attempts and request budgets
//! (`throttle`), and the short-lived memory of checked tokens (`tokens`).

mod authorize;
pub mod throttle;
mod tokens;

pub use throttle::ThrottleSettings;
pub(crate) use throttle::{sign_in_scopes, AttemptLocks, TokenBudgets};
pub(crate) use tokens::TokenCache;

/// How long a write's `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;
