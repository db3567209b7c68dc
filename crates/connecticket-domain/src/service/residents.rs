//! The console's own reads: the board, resident search and a resident's
//! page. Each is one audited call naming every record it shows.

use futures::TryStreamExt;

use crate::audit::RecordRef;
use crate::console::{Board, BoardFilter, BOARD_LIMIT};
use crate::error::{DomainError, DomainResult, Entity};
use crate::model::{Contact, Resident, ResidentId, Ticket, TicketQuery};
use crate::service::audit::{Call, Recorded};
use crate::service::Connecticket;

/// The most residents one search shows.
pub const RESIDENT_SEARCH_LIMIT: u32 = 200;

/// Everything a resident's page shows.
#[derive(Debug, Clone)]
pub struct ResidentPage {
    pub resident: Resident,
    pub contacts: Vec<Contact>,
    /// Newest first.
    pub tickets: Vec<Ticket>,
}

impl Connecticket {
    /// The provider's open tickets that match, most urgent first.
    pub async fn board(&self, call: Call, filter: BoardFilter) -> DomainResult<Board> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let board = self
                .store
                .board(principal.provider.id, filter, BOARD_LIMIT)
                .await?;
            for card in &board.cards {
                entry.touch(RecordRef::Ticket(card.ticket.id));
                entry.touch(RecordRef::Resident(card.ticket.resident_id));
            }
            Ok(board)
        })
        .await
    }

    /// Residents whose name contains `text`, at most
    /// `RESIDENT_SEARCH_LIMIT`.
    pub async fn search_residents(&self, call: Call, text: &str) -> DomainResult<Vec<Resident>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let residents = self
                .store
                .search_residents(
                    principal.provider.id,
                    text.to_owned(),
                    RESIDENT_SEARCH_LIMIT,
                )
                .await?;
            for resident in &residents {
                entry.touch(RecordRef::Resident(resident.id));
            }
            Ok(residents)
        })
        .await
    }

    /// A resident with their contacts and tickets; `NotFound` for a
    /// resident of another provider, like a missing one.
    pub async fn resident_page(&self, call: Call, id: ResidentId) -> DomainResult<ResidentPage> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            entry.touch(RecordRef::Resident(id));
            let provider = principal.provider.id;
            let resident = self
                .store
                .resident(provider, id)
                .await?
                .ok_or(DomainError::NotFound(Entity::Resident))?;
            let contacts = self.store.contacts(provider, Some(id)).await?;
            let query = TicketQuery {
                resident_id: Some(id),
                ..TicketQuery::default()
            };
            let chunks: Vec<Vec<Ticket>> =
                self.store.tickets(provider, query).try_collect().await?;
            let mut tickets: Vec<Ticket> = chunks.into_iter().flatten().collect();
            tickets.reverse();
            for contact in &contacts {
                entry.touch(RecordRef::Contact(contact.id));
            }
            for ticket in &tickets {
                entry.touch(RecordRef::Ticket(ticket.id));
            }
            Ok(ResidentPage {
                resident,
                contacts,
                tickets,
            })
        })
        .await
    }

    /// One resident (a page that names the resident a ticket is about).
    pub async fn resident(&self, call: Call, id: ResidentId) -> DomainResult<Resident> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            entry.touch(RecordRef::Resident(id));
            self.store
                .resident(principal.provider.id, id)
                .await?
                .ok_or(DomainError::NotFound(Entity::Resident))
        })
        .await
    }
}
