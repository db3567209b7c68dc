//! Whole databases: moving every record to another database, and backing
//! one up. Both copy patient data wholesale, so both are audited: an entry
//! naming the operator is recorded, durably, before the copy starts (and so
//! travels inside the copy, in the transaction that writes it), and the
//! outcome follows when it ends.

use std::sync::Arc;

use super::OperatorCall;
use crate::audit::Action;
use crate::error::{DomainResult, StoreResult};
use crate::service::audit::{record_list_start, Recorded};
use crate::service::Connecticket;
use crate::store::Store;
use crate::transfer::{self, MoveReport};

impl Connecticket {
    /// Copies every record into the empty database `target` (described as
    /// `target_kind`, never its address) and verifies the copy.
    pub async fn move_database(
        &self,
        call: OperatorCall,
        target: &dyn Store,
        target_kind: &str,
        copied: Arc<dyn Fn(u64) + Send + Sync>,
    ) -> DomainResult<MoveReport> {
        self.administrate(
            call,
            Action::ManageDatabase,
            Recorded::Afterwards,
            async |_, entry| {
                entry.records.insert(format!("move_to:{target_kind}"));
                record_list_start(self.store.as_ref(), entry).await?;
                transfer::move_all(self.store.as_ref(), target, copied).await
            },
        )
        .await
    }

    /// Runs `copy`, which writes a backup of this database, audited like a
    /// move.
    pub async fn back_up(
        &self,
        call: OperatorCall,
        copy: impl AsyncFnOnce() -> StoreResult<()>,
    ) -> DomainResult<()> {
        self.administrate(
            call,
            Action::ManageDatabase,
            Recorded::Afterwards,
            async |_, entry| {
                entry.records.insert("backup".to_owned());
                record_list_start(self.store.as_ref(), entry).await?;
                Ok(copy().await?)
            },
        )
        .await
    }
}
