//! Reads. Lists are audited when their stream ends.

use std::sync::Arc;

use super::call::{Call, Recorded};
use super::{Connecticket, ListRequest};
use crate::audit::RecordRef;
use crate::error::{DomainError, DomainResult, Entity, Field, Problem};
use crate::model::{
    Attachment, AttachmentId, Category, Page, Resident, Ticket, TicketDetail, TicketId, TicketQuery,
};
use crate::service::audited::{record_list_start, AuditedStream};
use crate::validate::MAX_PER_PAGE;

fn check_page(page: Option<Page>) -> DomainResult<()> {
    match page {
        Some(page) if page.per_page > MAX_PER_PAGE => Err(DomainError::invalid(
            Field::PerPage,
            Problem::AtMost {
                max: u64::from(MAX_PER_PAGE),
            },
        )),
        _ => Ok(()),
    }
}

impl Connecticket {
    /// Streams the provider's tickets; the audit entry, with every ticket
    /// and resident id sent, is written when the stream ends.
    pub async fn tickets(
        &self,
        call: Call,
        query: TicketQuery,
    ) -> DomainResult<ListRequest<Ticket>> {
        if let Err(error) = check_page(query.page) {
            return self
                .run(call, Recorded::Afterwards, async |_, _| Err(error))
                .await;
        }
        let (principal, mut entry) = call.take();
        if let Some(resident_id) = query.resident_id {
            entry.touch(RecordRef::Resident(resident_id));
        }
        record_list_start(self.store.as_ref(), &entry).await?;
        let page = query.page;
        let rows = self.store.tickets(principal.provider.id, query);
        Ok(ListRequest {
            page,
            rows: AuditedStream::wrap(rows, Arc::clone(&self.store), entry, |ticket: &Ticket| {
                [
                    RecordRef::Ticket(ticket.id),
                    RecordRef::Resident(ticket.resident_id),
                ]
            }),
        })
    }

    pub async fn residents(
        &self,
        call: Call,
        page: Option<Page>,
    ) -> DomainResult<ListRequest<Resident>> {
        if let Err(error) = check_page(page) {
            return self
                .run(call, Recorded::Afterwards, async |_, _| Err(error))
                .await;
        }
        let (principal, entry) = call.take();
        record_list_start(self.store.as_ref(), &entry).await?;
        let rows = self.store.residents(principal.provider.id, page);
        Ok(ListRequest {
            page,
            rows: AuditedStream::wrap(
                rows,
                Arc::clone(&self.store),
                entry,
                |resident: &Resident| [RecordRef::Resident(resident.id)],
            ),
        })
    }

    pub async fn categories(&self, call: Call) -> DomainResult<Vec<Category>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let categories = self.store.categories(principal.provider.id).await?;
            for category in &categories {
                entry.touch(RecordRef::Category(category.id));
            }
            Ok(categories)
        })
        .await
    }

    pub async fn ticket_detail(&self, call: Call, id: TicketId) -> DomainResult<TicketDetail> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            entry.touch(RecordRef::Ticket(id));
            let detail = self
                .store
                .ticket_detail(principal.provider.id, id)
                .await?
                .ok_or(DomainError::NotFound(Entity::Ticket))?;
            entry.touch(RecordRef::Resident(detail.ticket.resident_id));
            for attachment in &detail.attachments {
                entry.touch(RecordRef::Attachment(attachment.id));
            }
            Ok(detail)
        })
        .await
    }

    pub async fn attachment(&self, call: Call, id: AttachmentId) -> DomainResult<Attachment> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            entry.touch(RecordRef::Attachment(id));
            let attachment = self
                .store
                .attachment(principal.provider.id, id)
                .await?
                .ok_or(DomainError::NotFound(Entity::Attachment))?;
            entry.touch(RecordRef::Ticket(attachment.ticket_id));
            entry.touch(RecordRef::Resident(attachment.resident_id));
            Ok(attachment)
        })
        .await
    }
}
