//! Reads. A page of a list is read whole and audited like any other read;
//! a whole list streams, its start audited before its first byte and its
//! outcome when it ends.

use std::sync::Arc;

use crate::audit::RecordRef;
use crate::auth::Principal;
use crate::error::{DomainError, DomainResult, Entity, Field, Problem};
use crate::model::{
    Attachment, AttachmentId, Category, Contact, Page, Resident, ResidentId, Ticket, TicketDetail,
    TicketId, TicketQuery,
};
use crate::service::audit::{record_list_start, AuditedStream};
use crate::service::audit::{Call, Recorded};
use crate::service::{Connecticket, ListRequest};
use crate::store::RowStream;
use crate::validate::MAX_PER_PAGE;
use futures::TryStreamExt;

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

/// The references a ticket in a list touches.
fn ticket_records(ticket: &Ticket) -> [RecordRef; 2] {
    [
        RecordRef::Ticket(ticket.id),
        RecordRef::Resident(ticket.resident_id),
    ]
}

fn resident_records(resident: &Resident) -> [RecordRef; 1] {
    [RecordRef::Resident(resident.id)]
}

impl Connecticket {
    /// A page (at most `MAX_PER_PAGE` rows) read whole, and answered like
    /// any other read: its one entry, naming every record and how many
    /// rows went out, is durable before the answer.
    async fn page_of<T: Send + 'static, const N: usize>(
        &self,
        call: Call,
        page: Page,
        filter: Option<RecordRef>,
        rows: impl FnOnce(&Principal) -> RowStream<T>,
        touched: fn(&T) -> [RecordRef; N],
    ) -> DomainResult<ListRequest<T>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            if let Some(record) = filter {
                entry.touch(record);
            }
            let chunks: Vec<Vec<T>> = rows(principal).try_collect().await?;
            let rows: Vec<T> = chunks.into_iter().flatten().collect();
            for row in &rows {
                for record in touched(row) {
                    entry.touch(record);
                }
            }
            entry.records.insert(format!("rows:{}", rows.len()));
            Ok(ListRequest {
                page: Some(page),
                rows: Box::pin(futures::stream::iter([Ok(rows)])),
            })
        })
        .await
    }

    /// The provider's tickets: a page, or the whole list streamed (its
    /// entry, with every ticket and resident sent, written when it ends).
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
        if let Some(page) = query.page {
            let store = Arc::clone(&self.store);
            return self
                .page_of(
                    call,
                    page,
                    query.resident_id.map(RecordRef::Resident),
                    move |principal| store.tickets(principal.provider.id, query),
                    ticket_records,
                )
                .await;
        }
        let (principal, mut entry) = call.take();
        if let Some(resident_id) = query.resident_id {
            entry.touch(RecordRef::Resident(resident_id));
        }
        record_list_start(self.store.as_ref(), &entry).await?;
        let rows = self.store.tickets(principal.provider.id, query);
        Ok(ListRequest {
            page: None,
            rows: AuditedStream::wrap(rows, Arc::clone(&self.store), entry, ticket_records),
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
        if let Some(page) = page {
            let store = Arc::clone(&self.store);
            return self
                .page_of(
                    call,
                    page,
                    None,
                    move |principal| store.residents(principal.provider.id, Some(page)),
                    resident_records,
                )
                .await;
        }
        let (principal, entry) = call.take();
        record_list_start(self.store.as_ref(), &entry).await?;
        let rows = self.store.residents(principal.provider.id, None);
        Ok(ListRequest {
            page: None,
            rows: AuditedStream::wrap(rows, Arc::clone(&self.store), entry, resident_records),
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

    /// A resident's contacts (read-only), or `NotFound` for a resident of
    /// another provider or none.
    pub async fn resident_contacts(
        &self,
        call: Call,
        resident: ResidentId,
    ) -> DomainResult<Vec<Contact>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            entry.touch(RecordRef::Resident(resident));
            let contacts = self
                .store
                .contacts(principal.provider.id, Some(resident))
                .await?;
            for contact in &contacts {
                entry.touch(RecordRef::Contact(contact.id));
            }
            Ok(contacts)
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
