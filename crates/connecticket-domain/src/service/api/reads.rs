//! The API's reads. Lists are audited when their stream ends.

use std::sync::Arc;

use super::{entry_for, parse_page, ticket_query, Connecticket, ListRequest};
use crate::audit::{Action, RecordRef, RequestContext};
use crate::auth::Principal;
use crate::error::{DomainError, DomainResult, Entity};
use crate::model::{Attachment, Category, Resident, Ticket, TicketDetail};
use crate::params::{parse_id, required_id, RequestParams};
use crate::service::audited::AuditedStream;

impl Connecticket {
    /// Streams the provider's tickets; the audit entry, with every ticket
    /// and resident id sent, is written when the stream ends.
    pub async fn tickets(
        &self,
        context: &RequestContext,
        principal: &Principal,
        params: &RequestParams,
    ) -> DomainResult<ListRequest<Ticket>> {
        let mut entry = entry_for(context, Action::Tickets, principal);
        let query = match ticket_query(params) {
            Ok(query) => query,
            Err(error) => return self.finish(entry, Err(error)).await,
        };
        if let Some(resident_id) = query.resident_id {
            entry.touch(RecordRef::Resident(resident_id));
        }
        let rows = self.store.tickets(principal.provider.id, query.clone());
        Ok(ListRequest {
            page: query.page,
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
        context: &RequestContext,
        principal: &Principal,
        params: &RequestParams,
    ) -> DomainResult<ListRequest<Resident>> {
        let entry = entry_for(context, Action::AllResidents, principal);
        let page = match parse_page(params) {
            Ok(page) => page,
            Err(error) => return self.finish(entry, Err(error)).await,
        };
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

    pub async fn categories(
        &self,
        context: &RequestContext,
        principal: &Principal,
    ) -> DomainResult<Vec<Category>> {
        let mut entry = entry_for(context, Action::ProviderCategories, principal);
        let result = self.store.categories(principal.provider.id).await;
        if let Ok(categories) = &result {
            for category in categories {
                entry.touch(RecordRef::Category(category.id));
            }
        }
        self.finish(entry, result.map_err(DomainError::from)).await
    }

    pub async fn ticket_detail(
        &self,
        context: &RequestContext,
        principal: &Principal,
        params: &RequestParams,
    ) -> DomainResult<TicketDetail> {
        let mut entry = entry_for(context, Action::TicketDetail, principal);
        let result = async {
            let id = required_id(params, "id")?;
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
        }
        .await;
        self.finish(entry, result).await
    }

    /// `id` comes from the path, so a malformed one names no attachment.
    pub async fn attachment(
        &self,
        context: &RequestContext,
        principal: &Principal,
        id: &str,
    ) -> DomainResult<Attachment> {
        let mut entry = entry_for(context, Action::Attachment, principal);
        let result = async {
            let id = parse_id("id", id).map_err(|_| DomainError::NotFound(Entity::Attachment))?;
            entry.touch(RecordRef::Attachment(id));
            let attachment = self
                .store
                .attachment(principal.provider.id, id)
                .await?
                .ok_or(DomainError::NotFound(Entity::Attachment))?;
            entry.touch(RecordRef::Ticket(attachment.ticket_id));
            entry.touch(RecordRef::Resident(attachment.resident_id));
            Ok(attachment)
        }
        .await;
        self.finish(entry, result).await
    }
}
