//! Acknowledgments from every side: the recipient's link and its page, an
//! SMS reply through the gateway, and staff answering on a recipient's
//! behalf; and the staff's list of notifications.

use crate::audit::{Action, AuditEntry, Outcome, RecordRef, RequestContext};
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{NotificationId, Page, TicketId};
use crate::notify::{
    reply_intent, AckLinks, AckRefusal, AckView, GatewayCallback, NoticeFilter, NoticeSummary,
    ReplyIntent,
};
use crate::service::audit::{Call, Recorded};
use crate::service::Connecticket;
use crate::store::{AckBy, AckTarget, NoticeQuery};
use crate::validate::MAX_PER_PAGE;

/// A staff acknowledgment's note is a sentence or two of what was said.
pub const MAX_NOTE_CHARS: usize = 2000;

/// What the staff list asks for.
#[derive(Debug, Clone)]
pub struct NoticeRequest {
    pub ticket: Option<TicketId>,
    pub filter: Option<NoticeFilter>,
    pub page: Page,
}

/// What a staff member records.
#[derive(Debug, Clone)]
pub struct StaffAcknowledgment {
    pub notification: NotificationId,
    pub note: String,
}

/// What an SMS reply did; the gateway's answer to the sender says it.
#[derive(Debug, Clone, PartialEq)]
pub enum SmsReplyOutcome {
    /// One notification acknowledged; `waiting`: how many more to this
    /// number still wait for an answer.
    Acknowledged { view: AckView, waiting: u64 },
    /// The sender has no notification waiting for an answer.
    NothingOpen,
    /// A STOP word: the number's SMS consent for `provider` is withdrawn.
    Stopped { provider: String },
    /// START: the number's SMS consent for `provider` is given again.
    Started { provider: String },
    /// Not a word we act on: the reply names whom to call. `provider` is
    /// none when no provider ever texted the number.
    NotUnderstood {
        provider: Option<String>,
        callback_phone: Option<String>,
    },
    /// The gateway sent this reply before (a replay, or its own retry):
    /// it was answered then, and changes nothing now.
    Repeated,
}

fn view(target: &AckTarget) -> AckView {
    let n = &target.notification;
    let zone = target.provider_zone;
    let local = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&zone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    };
    AckView {
        notification_id: n.id,
        provider_name: target.provider_name.clone(),
        resident: crate::notify::short_name(
            &target.resident_first_name,
            target.resident_last_name.as_deref(),
        ),
        sent_at: local(n.created_at),
        acknowledged_at: n.acknowledgment.as_ref().map(|a| local(a.at)),
        callback_phone: target.callback_phone.clone(),
        after_hours_phone: target.after_hours_phone.clone(),
    }
}

impl Connecticket {
    fn ack_token_hash(&self, token: &str) -> Option<Vec<u8>> {
        // A token is 43 URL-safe characters; anything else cannot be one,
        // and is not hashed.
        let plausible = token.len() <= AckLinks::MAX_TOKEN_LEN
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| crate::notify::ack_token_hash(&self.hasher, token))
    }

    /// The page of an acknowledgment link (a GET: it acknowledges nothing).
    pub async fn ack_page(
        &self,
        context: &RequestContext,
        token: &str,
    ) -> DomainResult<Result<AckView, AckRefusal>> {
        self.refuse_a_guesser(context, Action::AcknowledgmentPage)?;
        let mut entry = AuditEntry::new(
            context,
            Action::AcknowledgmentPage,
            Outcome::Success,
            self.now(),
        );
        let found = match self.ack_token_hash(token) {
            Some(hash) => self.store.ack_target(hash, self.now()).await?,
            None => Err(AckRefusal::Unknown),
        };
        match &found {
            Ok(target) => {
                let n = &target.notification;
                entry.provider_id = Some(n.provider_id);
                entry.touch(RecordRef::Notification(n.id));
                entry.touch(RecordRef::Ticket(n.ticket_id));
                entry.touch(RecordRef::Resident(n.resident_id));
            }
            Err(refused) => {
                self.record_refusal(entry, *refused).await?;
                return Ok(Err(*refused));
            }
        }
        self.store.append_audit(entry).await?;
        Ok(found.map(|target| view(&target)))
    }

    /// The POST of an acknowledgment link's form.
    pub async fn ack_by_link(
        &self,
        context: &RequestContext,
        token: &str,
    ) -> DomainResult<Result<AckView, AckRefusal>> {
        self.refuse_a_guesser(context, Action::Acknowledge)?;
        let entry = AuditEntry::new(context, Action::Acknowledge, Outcome::Success, self.now());
        let Some(token_hash) = self.ack_token_hash(token) else {
            let mut entry = entry;
            entry.outcome = Outcome::NotFound;
            self.audit_refusal(entry);
            return Ok(Err(AckRefusal::Unknown));
        };
        let done = self
            .store
            .acknowledge(AckBy::Link { token_hash }, self.now(), entry.clone())
            .await?;
        if let Err(refused) = &done {
            self.record_refusal(entry, *refused).await?;
        }
        Ok(done.map(|target| view(&target)))
    }

    /// An SMS reply, believed only when the gateway signed it.
    pub async fn sms_reply(
        &self,
        context: &RequestContext,
        callback: GatewayCallback,
    ) -> DomainResult<SmsReplyOutcome> {
        self.refuse_a_guesser(context, Action::SmsReply)?;
        let mut entry = AuditEntry::new(context, Action::SmsReply, Outcome::Denied, self.now());
        if !self.gateway_signed(&callback) {
            return self.refuse(entry, DomainError::InvalidCredentials);
        }
        let (Some(from), Some(body)) = (callback.param("From"), callback.param("Body")) else {
            entry.outcome = Outcome::Invalid;
            self.store.append_audit(entry).await?;
            return Err(DomainError::invalid(
                Field::DeliveryReport,
                Problem::Rule("an SMS reply needs From and Body".to_owned()),
            ));
        };
        let phone = from.trim().to_owned();
        let intent = reply_intent(body);
        if intent != ReplyIntent::Acknowledge {
            return self.sms_reply_word(entry, phone, intent).await;
        }
        entry.outcome = Outcome::Success;
        let by = AckBy::SmsReply {
            phone: phone.clone(),
            message_sid: callback.param("MessageSid").map(str::to_owned),
        };
        Ok(
            match self
                .store
                .acknowledge(by, self.now(), entry.clone())
                .await?
            {
                Ok(target) => {
                    let waiting = self
                        .store
                        .sms_correspondent(phone, self.now())
                        .await?
                        .filter(|c| c.provider_id == target.notification.provider_id)
                        .map_or(0, |c| c.awaiting);
                    SmsReplyOutcome::Acknowledged {
                        view: view(&target),
                        waiting,
                    }
                }
                Err(AckRefusal::Repeated) => {
                    // Answered the first time; this one changes nothing.
                    entry.outcome = Outcome::Replayed;
                    self.store.append_audit(entry).await?;
                    SmsReplyOutcome::Repeated
                }
                Err(refused) => {
                    self.record_refusal(entry, refused).await?;
                    SmsReplyOutcome::NothingOpen
                }
            },
        )
    }

    /// A reply that acknowledges nothing: STOP and START change the
    /// number's SMS consent with the provider that last texted it (as
    /// carriers require), audited; anything else is answered with whom to
    /// call.
    async fn sms_reply_word(
        &self,
        mut entry: AuditEntry,
        phone: String,
        intent: ReplyIntent,
    ) -> DomainResult<SmsReplyOutcome> {
        let correspondent = self
            .store
            .sms_correspondent(phone.clone(), self.now())
            .await?;
        entry.provider_id = correspondent.as_ref().map(|c| c.provider_id);
        let consent = match (intent, &correspondent) {
            (ReplyIntent::Stop, Some(_)) => false,
            (ReplyIntent::Start, Some(_)) => true,
            _ => {
                entry.outcome = Outcome::Invalid;
                entry.records.insert("reply:not_understood".to_owned());
                self.store.append_audit(entry).await?;
                return Ok(SmsReplyOutcome::NotUnderstood {
                    provider: correspondent.as_ref().map(|c| c.provider_name.clone()),
                    callback_phone: correspondent.and_then(|c| c.callback_phone),
                });
            }
        };
        let Some(correspondent) = correspondent else {
            return Ok(SmsReplyOutcome::NothingOpen);
        };
        entry.outcome = Outcome::Success;
        entry.records.insert(
            if consent {
                "sms_consent:given"
            } else {
                "sms_consent:withdrawn"
            }
            .to_owned(),
        );
        self.store
            .set_sms_consent(correspondent.provider_id, phone, consent, entry)
            .await?;
        let provider = correspondent.provider_name;
        Ok(if consent {
            SmsReplyOutcome::Started { provider }
        } else {
            SmsReplyOutcome::Stopped { provider }
        })
    }

    async fn record_refusal(&self, mut entry: AuditEntry, refused: AckRefusal) -> DomainResult<()> {
        entry.outcome = Outcome::NotFound;
        entry
            .records
            .insert(format!("refused:{refused:?}").to_lowercase());
        self.audit_refusal(entry);
        Ok(())
    }

    /// `GET notifications`: the provider's notifications, without
    /// addresses.
    pub async fn notifications(
        &self,
        call: Call,
        request: NoticeRequest,
    ) -> DomainResult<Vec<NoticeSummary>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            if request.page.per_page > MAX_PER_PAGE {
                return Err(DomainError::invalid(
                    Field::PerPage,
                    Problem::AtMost {
                        max: u64::from(MAX_PER_PAGE),
                    },
                ));
            }
            if let Some(ticket) = request.ticket {
                entry.touch(RecordRef::Ticket(ticket));
            }
            let query = NoticeQuery {
                provider: principal.provider.id,
                ticket: request.ticket,
                filter: request.filter,
                page: request.page,
            };
            let found = self.store.notices(query, self.now()).await?;
            for n in &found {
                entry.touch(RecordRef::Notification(n.id));
                entry.touch(RecordRef::Ticket(n.ticket_id));
                entry.touch(RecordRef::Resident(n.resident_id));
            }
            entry.records.insert(format!("rows:{}", found.len()));
            Ok(found.iter().map(NoticeSummary::from).collect())
        })
        .await
    }

    /// `POST acknowledge`: an employee records the recipient's answer
    /// (a physician who called back), under the employee's name.
    pub async fn acknowledge(
        &self,
        call: Call,
        input: StaffAcknowledgment,
    ) -> DomainResult<NoticeSummary> {
        let note = input.note.trim().to_owned();
        let problem = if note.is_empty() {
            Some(Problem::Required)
        } else if note.chars().count() > MAX_NOTE_CHARS {
            Some(Problem::TooLong {
                max_chars: MAX_NOTE_CHARS,
            })
        } else {
            None
        };
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            if let Some(problem) = problem {
                return Err(DomainError::invalid(Field::Note, problem));
            }
            let by = AckBy::Staff {
                provider: principal.provider.id,
                notification: input.notification,
                employee: principal.employee_id,
                note,
            };
            // The entry names the acting employee, as every call's does.
            match self
                .store
                .acknowledge(by, self.now(), entry.clone())
                .await?
            {
                Ok(target) => Ok(NoticeSummary::from(&target.notification)),
                Err(_) => Err(DomainError::Conflict(
                    "notification_id is acknowledged already".to_owned(),
                )),
            }
        })
        .await
    }
}
