//! [`ConsoleStore`] over any engine: each method one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connecticket_domain::audit::AuditEntry;
use connecticket_domain::console::{
    AccountHolder, Board, BoardFilter, ConsoleAccount, NewSession, SessionId, SessionRecord,
};
use connecticket_domain::model::{
    Employee, EmployeeId, NewEmployee, ProviderId, Resident, ResidentId,
};
use connecticket_domain::store::ConsoleStore;
use connecticket_domain::StoreError;

use crate::engine::Engine;
use crate::ops::console;
use crate::store::SqlStore;

type Result<T> = std::result::Result<T, StoreError>;

#[async_trait]
impl<E: Engine> ConsoleStore for SqlStore<E> {
    async fn console_account_by_email(&self, email: &str) -> Result<Option<AccountHolder>> {
        let email = email.to_owned();
        self.engine
            .read(move |tx| Box::pin(async move { console::account_by_email(tx, &email).await }))
            .await
    }

    async fn console_account_by_invite(
        &self,
        invite_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<AccountHolder>> {
        let hash = invite_hash.to_vec();
        self.engine
            .read(move |tx| {
                Box::pin(async move { console::account_by_invite(tx, &hash, now).await })
            })
            .await
    }

    async fn console_roster(
        &self,
        provider: ProviderId,
    ) -> Result<Vec<(Employee, Option<ConsoleAccount>)>> {
        self.engine
            .read(move |tx| Box::pin(console::roster(tx, provider)))
            .await
    }

    async fn save_console_account(
        &self,
        account: ConsoleAccount,
        end_sessions: bool,
        audit: Option<AuditEntry>,
    ) -> Result<()> {
        self.engine
            .write(move |tx| Box::pin(console::save_account(tx, account, end_sessions, audit)))
            .await
    }

    async fn create_console_employee(
        &self,
        employee: NewEmployee,
        account: ConsoleAccount,
        audit: Option<AuditEntry>,
    ) -> Result<EmployeeId> {
        self.engine
            .write(move |tx| Box::pin(console::create_employee(tx, employee, account, audit)))
            .await
    }

    async fn set_console_totp_required(
        &self,
        provider: ProviderId,
        required: bool,
        audit: AuditEntry,
    ) -> Result<()> {
        self.engine
            .write(move |tx| Box::pin(console::set_totp_required(tx, provider, required, audit)))
            .await
    }

    async fn create_console_session(
        &self,
        session: NewSession,
        audit: AuditEntry,
    ) -> Result<Option<SessionId>> {
        self.engine
            .write(move |tx| Box::pin(console::create_session(tx, session, audit)))
            .await
    }

    async fn enrol_second_factor(
        &self,
        account: ConsoleAccount,
        step: i64,
        audit: AuditEntry,
    ) -> Result<()> {
        self.engine
            .write(move |tx| Box::pin(console::enrol_second_factor(tx, account, step, audit)))
            .await
    }

    async fn end_sessions_of(
        &self,
        employee: EmployeeId,
        at: DateTime<Utc>,
        audit: AuditEntry,
    ) -> Result<u64> {
        self.engine
            .write(move |tx| Box::pin(console::end_sessions_of(tx, employee, at, audit)))
            .await
    }

    async fn console_session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>> {
        let hash = token_hash.to_vec();
        self.engine
            .read(move |tx| Box::pin(async move { console::session(tx, &hash).await }))
            .await
    }

    async fn touch_console_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<()> {
        self.engine
            .write(move |tx| Box::pin(console::touch_session(tx, id, at)))
            .await
    }

    async fn end_console_session(
        &self,
        id: SessionId,
        at: DateTime<Utc>,
        audit: AuditEntry,
    ) -> Result<()> {
        self.engine
            .write(move |tx| Box::pin(console::end_session(tx, id, at, audit)))
            .await
    }

    async fn board(&self, provider: ProviderId, filter: BoardFilter, limit: u32) -> Result<Board> {
        self.engine
            .read(move |tx| Box::pin(console::board(tx, provider, filter, limit)))
            .await
    }

    async fn resident(&self, provider: ProviderId, id: ResidentId) -> Result<Option<Resident>> {
        self.engine
            .read(move |tx| Box::pin(console::resident(tx, provider, id)))
            .await
    }

    async fn search_residents(
        &self,
        provider: ProviderId,
        text: &str,
        limit: u32,
    ) -> Result<Vec<Resident>> {
        let text = text.to_owned();
        self.engine
            .read(move |tx| {
                Box::pin(async move { console::search_residents(tx, provider, &text, limit).await })
            })
            .await
    }
}
