//! The operator tests act as: calls of the use cases an admin command
//! would make, audited under a test operator's name.

use std::sync::Arc;

use connecticket_domain::audit::{Action, AuditEntry, Outcome, RequestContext};
use connecticket_domain::auth::SecretHasher;
use connecticket_domain::model::ProviderId;
use connecticket_domain::service::{AdminCall, ApiSettings, Operator, OperatorCall};
use connecticket_domain::store::{Store, WriteContext};
use connecticket_domain::Connecticket;

use crate::TEST_HASH_KEY;

/// How the tests' operator is named in the audit trail.
pub const TEST_OPERATOR: &str = "tester@test-host";

/// An operator with the use cases of one database.
pub struct TestOperator {
    pub api: Arc<Connecticket>,
    operator: Operator,
}

impl TestOperator {
    /// The operator of a running server's use cases.
    pub fn of(api: Arc<Connecticket>) -> Self {
        TestOperator {
            api,
            operator: test_operator(),
        }
    }

    /// The operator of a database no server of this process serves (as
    /// an admin command opens it), with the tests' hash key.
    pub fn over(store: Arc<dyn Store>) -> Self {
        Self::of(Arc::new(Connecticket::new(
            store,
            SecretHasher::new(TEST_HASH_KEY),
            ApiSettings::default(),
            connecticket_domain::clock::system(),
        )))
    }

    /// A call over the whole installation.
    pub fn call(&self, action: Action) -> OperatorCall {
        self.api.operate(&self.operator, action)
    }

    /// A call for one provider, which must exist.
    pub async fn within(&self, action: Action, provider: ProviderId) -> AdminCall {
        self.api
            .within(self.call(action), provider)
            .await
            .expect("an existing provider")
    }
}

fn test_operator() -> Operator {
    let (user, host) = TEST_OPERATOR
        .split_once('@')
        .unwrap_or(("tester", "test-host"));
    Operator::new(user, host, None).unwrap_or_else(|_| Operator::this_server("tests"))
}

/// A write's context as an operator makes it (no application, no key).
pub fn operator_write(action: Action) -> WriteContext {
    let context = RequestContext::operator("test".to_owned(), TEST_OPERATOR.to_owned());
    WriteContext {
        idempotency: None,
        audit: AuditEntry::new(&context, action, Outcome::Success, chrono::Utc::now()),
        deadline: None,
    }
}
