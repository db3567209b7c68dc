//! The storage interface. One implementation per database engine lives in
//! its own crate; the binary picks one from the database URL at start.
//!
//! Rules every implementation keeps:
//! - each method is one transaction: a write is all or nothing, and it is
//!   acknowledged (the future resolves) only after it is durable;
//! - every method on tenant data is scoped by the `ProviderId` it is given; a
//!   record of another provider is `NotFound`, like a missing one;
//! - lists are streamed in chunks, ordered by id, never built whole.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::audit::{AuditAnchor, AuditEntry, AuditRecord};
use crate::auth::{ApplicationCredentials, NewAccessToken, TokenRecord};
use crate::error::StoreResult;
use crate::model::{
    Application, Attachment, Category, Employee, NewApplication, NewCategory, NewComment,
    NewEmployee, NewProvider, NewResident, NewTicket, Page, Provider, ProviderId, Resident,
    StatusChange, Ticket, TicketDetail, TicketQuery,
};
use crate::transfer::Record;
use crate::workflow::TicketStatus;

/// A list answer: chunks of rows, read lazily while the client receives them.
pub type RowStream<T> = BoxStream<'static, StoreResult<Vec<T>>>;

/// How many rows a backend reads per chunk of a [`RowStream`].
pub const STREAM_CHUNK_ROWS: usize = 500;

/// A write's `Idempotency-Key`, checked and recorded in the write's own
/// transaction so that two racing retries cannot both write.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    pub application_id: i64,
    pub key: String,
    /// Which call and which parameters; see `RequestParams::fingerprint`.
    pub fingerprint: Vec<u8>,
    pub now: DateTime<Utc>,
    /// Records older than this are forgotten and the key may be reused.
    pub not_before: DateTime<Utc>,
}

/// The result of an idempotent write: done now, or done by an earlier
/// request with the same key (nothing was written this time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written<T> {
    Fresh(T),
    Replayed(T),
}

impl<T> Written<T> {
    pub fn into_inner(self) -> T {
        match self {
            Written::Fresh(value) | Written::Replayed(value) => value,
        }
    }
}

/// What every API write carries into its transaction besides its data: the
/// `Idempotency-Key` claim and the audit entry to record with the write.
#[derive(Debug, Clone)]
pub struct WriteContext {
    pub idempotency: Option<IdempotencyClaim>,
    /// Recorded in the write's transaction, with the records it created and
    /// an outcome of `Success` (or `Replayed`); the store completes both.
    pub audit: AuditEntry,
}

/// Whose tokens to revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner {
    Application(i64),
    Employee(i64),
}

#[derive(Debug, Clone)]
pub struct StatusUpdate {
    pub ticket_id: i64,
    pub status: TicketStatus,
    pub employee_id: i64,
    pub application_id: Option<i64>,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ----- authentication (not tenant-scoped: the tenant is what it finds)
    async fn application_by_key(
        &self,
        api_key: &str,
    ) -> StoreResult<Option<ApplicationCredentials>>;
    async fn insert_access_token(&self, token: NewAccessToken) -> StoreResult<i64>;
    async fn access_token(&self, token_hash: &[u8]) -> StoreResult<Option<TokenRecord>>;

    // ----- the API's reads
    fn tickets(&self, provider: ProviderId, query: TicketQuery) -> RowStream<Ticket>;
    fn residents(&self, provider: ProviderId, page: Option<Page>) -> RowStream<Resident>;
    async fn categories(&self, provider: ProviderId) -> StoreResult<Vec<Category>>;
    async fn ticket_detail(
        &self,
        provider: ProviderId,
        ticket_id: i64,
    ) -> StoreResult<Option<TicketDetail>>;
    async fn attachment(
        &self,
        provider: ProviderId,
        attachment_id: i64,
    ) -> StoreResult<Option<Attachment>>;
    async fn status_history(
        &self,
        provider: ProviderId,
        ticket_id: i64,
    ) -> StoreResult<Vec<StatusChange>>;

    // ----- the API's writes
    async fn create_ticket(
        &self,
        provider: ProviderId,
        ticket: NewTicket,
        context: WriteContext,
    ) -> StoreResult<Written<i64>>;
    async fn create_comment(
        &self,
        provider: ProviderId,
        ticket_id: i64,
        comment: NewComment,
        at: DateTime<Utc>,
        context: WriteContext,
    ) -> StoreResult<Written<i64>>;
    async fn update_status(
        &self,
        provider: ProviderId,
        update: StatusUpdate,
        context: WriteContext,
    ) -> StoreResult<Written<i64>>;

    // ----- audit trail (see `audit`)
    /// Chains and appends one entry in its own transaction.
    async fn append_audit(&self, entry: AuditEntry) -> StoreResult<()>;
    /// Every entry in id order.
    fn audit_entries(&self) -> RowStream<AuditRecord>;
    async fn audit_anchor(&self) -> StoreResult<AuditAnchor>;
    /// Removes entries older than `before`, keeping the chain verifiable
    /// from the first remaining entry; returns how many were removed.
    async fn prune_audit(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    // ----- throttling (see `service::throttle`)
    /// The failure counts of each scope in the window starting at
    /// `window_start` (seconds since the epoch).
    async fn auth_failures(&self, scopes: &[String], window_start: i64) -> StoreResult<Vec<u64>>;
    async fn record_auth_failure(&self, scopes: Vec<String>, window_start: i64) -> StoreResult<()>;

    // ----- operators
    async fn is_empty(&self) -> StoreResult<bool>;
    async fn create_provider(&self, provider: NewProvider) -> StoreResult<Provider>;
    async fn providers(&self) -> StoreResult<Vec<Provider>>;
    async fn provider(&self, id: ProviderId) -> StoreResult<Option<Provider>>;
    async fn create_employee(&self, employee: NewEmployee) -> StoreResult<Employee>;
    async fn employees(&self, provider: ProviderId) -> StoreResult<Vec<Employee>>;
    async fn create_application(&self, application: NewApplication) -> StoreResult<Application>;
    async fn applications(&self, provider: ProviderId) -> StoreResult<Vec<Application>>;
    /// Revokes the application and every token it holds.
    async fn revoke_application(
        &self,
        provider: ProviderId,
        application_id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<Application>;
    /// Revokes every live token of an application or of an employee's
    /// applications; returns how many.
    async fn revoke_tokens(
        &self,
        provider: ProviderId,
        owner: TokenOwner,
        at: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Replaces an application's secret hash and revokes its tokens.
    async fn rotate_secret(
        &self,
        provider: ProviderId,
        application_id: i64,
        secret_hash: Vec<u8>,
        at: DateTime<Utc>,
    ) -> StoreResult<Application>;
    /// Inserts all residents or none.
    async fn create_residents(
        &self,
        provider: ProviderId,
        residents: Vec<NewResident>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>>;
    async fn create_category(&self, category: NewCategory) -> StoreResult<Category>;

    // ----- data moves (see `transfer`)
    /// Every record of every table, in `Table::ALL` order and by primary key
    /// within a table, read from one consistent snapshot.
    fn export(&self) -> RowStream<Record>;
    /// Writes exported records, keeping their ids, into an empty database in
    /// one transaction; refuses a database that holds anything.
    async fn import(&self, records: RowStream<Record>) -> StoreResult<u64>;
}
