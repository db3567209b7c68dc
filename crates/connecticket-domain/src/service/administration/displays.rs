//! Board displays as administrators manage them: granted by name with a
//! pairing link shown once, listed, revoked.

use super::{AdminCall, Administrator};
use crate::audit::Action;
use crate::auth::generate_access_token;
use crate::console::display::{
    BoardDisplay, DisplayId, NewDisplay, MAX_DISPLAY_NAME, PAIRING_LIFETIME,
};
use crate::error::{DomainResult, Field};
use crate::service::audit::Recorded;
use crate::service::Connecticket;
use crate::validate::required_text;

/// A display just granted, with its pairing code: it exists nowhere else
/// (only its hash is stored), so it is shown once.
#[derive(Debug)]
pub struct GrantedDisplay {
    pub display: BoardDisplay,
    pub pairing_code: String,
}

impl Connecticket {
    /// Grants a board display named `name` (the place it hangs, like
    /// "Nurses' station, 2nd floor"); it works once its pairing link is
    /// opened on the screen, within `PAIRING_LIFETIME`.
    pub async fn grant_display(&self, call: AdminCall, name: &str) -> DomainResult<GrantedDisplay> {
        self.administrate(
            call,
            Action::ManageDisplays,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let name = required_text(Field::Name, name, MAX_DISPLAY_NAME)?;
                entry.records.insert("granted".to_owned());
                let pairing_code = generate_access_token();
                let now = self.now();
                let new = NewDisplay {
                    provider_id: scope.provider_id()?,
                    name,
                    granted_by: match scope.by {
                        Administrator::Employee(employee) => Some(employee),
                        Administrator::Operator => None,
                    },
                    code_hash: self.display_hash("display_pairing", &pairing_code),
                    pairing_expires_at: now + PAIRING_LIFETIME,
                    at: now,
                };
                let display = self.store.create_board_display(new, entry.clone()).await?;
                Ok(GrantedDisplay {
                    display,
                    pairing_code,
                })
            },
        )
        .await
    }

    /// The provider's displays, revoked ones too.
    pub async fn list_displays(&self, call: AdminCall) -> DomainResult<Vec<BoardDisplay>> {
        self.administrate(
            call,
            Action::ManageDisplays,
            Recorded::Afterwards,
            async |scope, entry| {
                let displays = self.store.board_displays(scope.provider_id()?).await?;
                for display in &displays {
                    entry.records.insert(format!("display:{}", display.id));
                }
                Ok(displays)
            },
        )
        .await
    }

    /// Revokes a display: the next time the screen asks, it is shown that
    /// it was unpaired, and nothing more.
    pub async fn revoke_display(
        &self,
        call: AdminCall,
        id: DisplayId,
    ) -> DomainResult<BoardDisplay> {
        self.administrate(
            call,
            Action::ManageDisplays,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.records.insert("revoked".to_owned());
                Ok(self
                    .store
                    .revoke_board_display(scope.provider_id()?, id, self.now(), entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// A display's pairing code or device token as stored: a keyed hash.
    pub(crate) fn display_hash(&self, purpose: &str, secret: &str) -> Vec<u8> {
        self.hasher.hash(purpose, secret)
    }
}
