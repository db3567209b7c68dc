//! Writes: validated here, then one store transaction that also records
//! the idempotency key and the audit entry.

use chrono::{DateTime, Duration, Utc};

use crate::audit::{AuditEntry, RecordRef};
use crate::auth::Principal;
use crate::command::{AddComment, ChangeStatus, IdempotencyRequest, RaiseTicket};
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{CommentId, TicketId};
use crate::notify::notifies_by_default;
use crate::service::audit::{Call, Recorded};
use crate::service::{Connecticket, IDEMPOTENCY_WINDOW_HOURS};
use crate::store::{IdempotencyClaim, StatusUpdate, WriteContext, Written};
use crate::validate::{new_comment, new_ticket, MAX_IDEMPOTENCY_KEY};

impl Connecticket {
    pub async fn create_ticket(
        &self,
        call: Call,
        command: RaiseTicket,
        idempotency: Option<IdempotencyRequest>,
    ) -> DomainResult<Written<TicketId>> {
        let deadline = call.deadline();
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            let now = self.now();
            entry.touch(RecordRef::Resident(command.resident_id));
            // An urgent ticket whose request chose to tell nobody says so on
            // the record (the console asks for a confirmation first).
            let asked = command.notify_request();
            let chose_nobody = asked.roles().is_some_and(|roles| roles.is_empty())
                || asked.channels().is_some_and(|channels| channels.is_none());
            if notifies_by_default(command.urgency) && chose_nobody {
                entry.records.insert("notify:nobody".to_owned());
            }
            let ticket = new_ticket(command, principal, now)?;
            let write = write_context(principal, idempotency, now, entry, deadline)?;
            Ok(self
                .store
                .create_ticket(principal.provider.id, ticket, write)
                .await?)
        })
        .await
    }

    pub async fn create_comment(
        &self,
        call: Call,
        command: AddComment,
        idempotency: Option<IdempotencyRequest>,
    ) -> DomainResult<Written<CommentId>> {
        let deadline = call.deadline();
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            let now = self.now();
            entry.touch(RecordRef::Ticket(command.ticket_id));
            if let Some(category_id) = command.category_id {
                entry.touch(RecordRef::Category(category_id));
            }
            let comment = new_comment(&command, principal, now)?;
            let write = write_context(principal, idempotency, now, entry, deadline)?;
            Ok(self
                .store
                .create_comment(principal.provider.id, command.ticket_id, comment, write)
                .await?)
        })
        .await
    }

    pub async fn update_status(
        &self,
        call: Call,
        command: ChangeStatus,
        idempotency: Option<IdempotencyRequest>,
    ) -> DomainResult<Written<TicketId>> {
        let deadline = call.deadline();
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            let now = self.now();
            entry.touch(RecordRef::Ticket(command.ticket_id));
            let update = StatusUpdate {
                ticket_id: command.ticket_id,
                status: command.status,
                employee_id: principal.employee_id,
                application_id: principal.application_id(),
                at: now,
                notify: command.notify,
                expected_version: command.expected_version,
            };
            let write = write_context(principal, idempotency, now, entry, deadline)?;
            Ok(self
                .store
                .update_status(principal.provider.id, update, write)
                .await?)
        })
        .await
    }
}

/// The most files one request may add to a ticket.
pub const MAX_FILES_PER_REQUEST: usize = 20;

impl Connecticket {
    /// Adds files to a ticket (each checked as `create_ticket` checks its
    /// attachments); at least one.
    pub async fn attach_files(
        &self,
        call: Call,
        ticket: TicketId,
        uploads: Vec<crate::command::Upload>,
    ) -> DomainResult<Written<TicketId>> {
        let deadline = call.deadline();
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            let now = self.now();
            entry.touch(RecordRef::Ticket(ticket));
            if uploads.is_empty() {
                return Err(DomainError::invalid(Field::Attachments, Problem::Required));
            }
            if uploads.len() > MAX_FILES_PER_REQUEST {
                return Err(DomainError::invalid(
                    Field::Attachments,
                    Problem::TooMany {
                        max: MAX_FILES_PER_REQUEST,
                    },
                ));
            }
            let files = uploads
                .into_iter()
                .map(crate::validate::new_attachment)
                .collect::<DomainResult<Vec<_>>>()?;
            let write = write_context(principal, None, now, entry, deadline)?;
            Ok(self
                .store
                .add_attachments(principal.provider.id, ticket, files, now, write)
                .await?)
        })
        .await
    }
}

/// The write's `Idempotency-Key` claim and the audit entry it records.
/// Keys belong to an application; a call made by no application (an
/// operator) has none to claim.
fn write_context(
    principal: &Principal,
    idempotency: Option<IdempotencyRequest>,
    now: DateTime<Utc>,
    entry: &AuditEntry,
    deadline: Option<std::time::Instant>,
) -> DomainResult<WriteContext> {
    let idempotency = match (idempotency, principal.application_id()) {
        (Some(request), Some(application_id)) => {
            if request.key.is_empty() || request.key.chars().count() > MAX_IDEMPOTENCY_KEY {
                return Err(DomainError::invalid(
                    Field::IdempotencyKey,
                    Problem::Rule(format!("must be 1 to {MAX_IDEMPOTENCY_KEY} characters")),
                ));
            }
            Some(IdempotencyClaim {
                application_id,
                key: request.key,
                fingerprint: request.fingerprint,
                now,
                not_before: now - Duration::hours(IDEMPOTENCY_WINDOW_HOURS),
            })
        }
        _ => None,
    };
    Ok(WriteContext {
        idempotency,
        audit: entry.clone(),
        deadline,
    })
}
