//! A board display's own requests: pairing with its link, then showing
//! the board for as long as no administrator revokes it.
//!
//! A display is no person: it has no session, so no idle logoff, and it
//! can do nothing but read the board. Each view is audited like a
//! person's (the tickets and residents it showed), under the display.

use crate::audit::{Action, AuditEntry, Outcome, RecordRef, RequestContext};
use crate::auth::generate_access_token;
use crate::console::display::BoardDisplay;
use crate::console::{Board, BoardFilter, BOARD_LIMIT};
use crate::error::{DomainError, DomainResult, Entity};
use crate::model::Provider;
use crate::service::Connecticket;

/// Pairing codes and device tokens are ours only up to this length.
const MAX_DISPLAY_SECRET: usize = 128;

/// What a pairing link offers before it is spent.
#[derive(Debug, Clone)]
pub struct PairingOffer {
    pub display: BoardDisplay,
    pub provider: Provider,
}

/// The board as a display shows it.
#[derive(Debug, Clone)]
pub struct DisplayBoard {
    pub display: BoardDisplay,
    pub provider: Provider,
    pub board: Board,
}

impl Connecticket {
    /// The display a pairing link would pair (the link is not spent: a
    /// link previewer or a second look must not use it up). An unknown,
    /// used, expired or revoked link is `NotFound(Display)`, alike.
    pub async fn pairing_offer(
        &self,
        context: &RequestContext,
        code: &str,
    ) -> DomainResult<PairingOffer> {
        self.refuse_a_guesser(context, Action::BoardDisplay)?;
        let entry = AuditEntry::new(context, Action::BoardDisplay, Outcome::Denied, self.now());
        let Some(display) = self.display_by_code(code).await? else {
            return self.refuse(entry, DomainError::NotFound(Entity::Display));
        };
        let provider = self
            .store
            .provider(display.provider_id)
            .await?
            .ok_or(DomainError::NotFound(Entity::Display))?;
        Ok(PairingOffer { display, provider })
    }

    /// Spends a pairing link: answers the display and the device token the
    /// screen keeps from now on.
    pub async fn pair_display(
        &self,
        context: &RequestContext,
        code: &str,
    ) -> DomainResult<(BoardDisplay, String)> {
        self.refuse_a_guesser(context, Action::BoardDisplay)?;
        let mut entry = AuditEntry::new(context, Action::BoardDisplay, Outcome::Denied, self.now());
        let Some(display) = self.display_by_code(code).await? else {
            return self.refuse(entry, DomainError::NotFound(Entity::Display));
        };
        entry.provider_id = Some(display.provider_id);
        entry.outcome = Outcome::Success;
        entry.records.insert("paired".to_owned());
        let token = generate_access_token();
        let paired = self
            .store
            .pair_board_display(
                display.id,
                self.display_hash("display_pairing", code),
                self.display_hash("display_token", &token),
                self.now(),
                entry.clone(),
            )
            .await?;
        if !paired {
            // Another screen spent it first.
            return self.refuse(entry, DomainError::NotFound(Entity::Display));
        }
        Ok((display, token))
    }

    /// The provider's open tickets as the display shows them (every open
    /// ticket, unfiltered). A revoked or unknown display is
    /// `NotFound(Display)`, and the refusal audited.
    pub async fn display_board(
        &self,
        context: &RequestContext,
        token: &str,
    ) -> DomainResult<DisplayBoard> {
        self.refuse_a_guesser(context, Action::BoardDisplay)?;
        let mut entry = AuditEntry::new(context, Action::BoardDisplay, Outcome::Denied, self.now());
        let found = match token.len() {
            1..=MAX_DISPLAY_SECRET => {
                let hash = self.display_hash("display_token", token);
                self.store.board_display(hash).await?
            }
            _ => None,
        };
        let Some(display) = found else {
            return self.refuse(entry, DomainError::NotFound(Entity::Display));
        };
        entry.provider_id = Some(display.provider_id);
        entry.records.insert(format!("display:{}", display.id));
        let provider = match display.revoked_at {
            None => self.store.provider(display.provider_id).await?,
            Some(_) => None,
        };
        let Some(provider) = provider else {
            // A revoked screen that still asks is refused on the record,
            // under its provider and display.
            self.append_with_outcome(entry, Outcome::Denied).await;
            return Err(DomainError::NotFound(Entity::Display));
        };
        self.store
            .touch_board_display(display.id, self.now())
            .await?;
        let board = self
            .store
            .board(provider.id, BoardFilter::default(), BOARD_LIMIT)
            .await?;
        for card in &board.cards {
            entry.touch(RecordRef::Ticket(card.ticket.id));
            entry.touch(RecordRef::Resident(card.ticket.resident_id));
        }
        self.record(
            entry,
            Ok(DisplayBoard {
                display,
                provider,
                board,
            }),
        )
        .await
    }

    async fn display_by_code(&self, code: &str) -> DomainResult<Option<BoardDisplay>> {
        if code.is_empty() || code.len() > MAX_DISPLAY_SECRET {
            return Ok(None);
        }
        let hash = self.display_hash("display_pairing", code);
        Ok(self.store.board_display_by_code(hash, self.now()).await?)
    }
}
