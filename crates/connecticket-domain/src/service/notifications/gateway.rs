//! Calls from the SMS gateway: status callbacks, believed only when
//! signed, and audited either way.

use std::sync::Arc;

use crate::audit::{Action, AuditEntry, Outcome, RequestContext};
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::notify::{GatewayCallback, GatewaySignature, ReportedStatus};
use crate::service::Connecticket;

impl Connecticket {
    /// Believes gateway callbacks signed for `signature`.
    pub fn with_gateway(mut self, signature: Arc<dyn GatewaySignature>) -> Self {
        self.gateway = Some(signature);
        self
    }

    /// Whether the configured gateway signed this request.
    pub(super) fn gateway_signed(&self, callback: &GatewayCallback) -> bool {
        match (&self.gateway, &callback.signature) {
            (Some(gateway), Some(signature)) => {
                gateway.verify(&callback.url, &callback.params, signature)
            }
            _ => false,
        }
    }

    /// Records a message's final status. An unsigned or wrongly signed
    /// request changes nothing, is audited as denied and answered as
    /// refused; an unknown message is audited as not found.
    pub async fn sms_status(
        &self,
        context: &RequestContext,
        callback: GatewayCallback,
    ) -> DomainResult<()> {
        self.refuse_a_guesser(context, Action::SmsStatus)?;
        let mut entry = AuditEntry::new(context, Action::SmsStatus, Outcome::Denied, self.now());
        if !self.gateway_signed(&callback) {
            return self.refuse(entry, DomainError::InvalidCredentials);
        }
        let (Some(sid), Some(status)) = (
            callback.param("MessageSid"),
            callback.param("MessageStatus"),
        ) else {
            entry.outcome = Outcome::Invalid;
            self.store.append_audit(entry).await?;
            return Err(DomainError::invalid(
                Field::DeliveryReport,
                Problem::Rule("needs MessageSid and MessageStatus".to_owned()),
            ));
        };
        let reported = ReportedStatus::parse(status, callback.param("ErrorCode"));
        entry.outcome = Outcome::Success;
        Ok(self
            .store
            .record_gateway_status(sid.to_owned(), reported, self.now(), entry)
            .await?)
    }
}
