//! Connecticket on PostgreSQL: for deployments that outgrow one machine,
//! with several stateless `connecticket` instances on one database.
//!
//! Design: every write method is one transaction on a pooled connection;
//! PostgreSQL's row locks and unique constraints, not process-local state,
//! keep concurrent instances correct (`update_status` locks the ticket row;
//! an `Idempotency-Key` is claimed by inserting its row first, so a racing
//! retry on another instance waits for the first and then replays it).
//! Lists are streamed from a task that owns a pooled connection.

mod admin;
mod api_reads;
mod api_writes;
mod audit;
mod auth;
mod idempotency;
mod migrate;
mod rows;
mod stream;
mod transfer;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connecticket_domain::audit::{AuditAnchor, AuditEntry, AuditRecord, RecordRef};
use connecticket_domain::auth::{ApplicationCredentials, NewAccessToken, TokenRecord};
use connecticket_domain::model::{
    Application, Attachment, Category, Employee, NewApplication, NewCategory, NewComment,
    NewEmployee, NewProvider, NewResident, NewTicket, Page, Provider, ProviderId, Resident,
    StatusChange, Ticket, TicketDetail, TicketQuery,
};
use connecticket_domain::store::{
    RowStream, StatusUpdate, Store, TokenOwner, WriteContext, Written,
};
use connecticket_domain::transfer::Record;
use connecticket_domain::StoreError;
use sqlx::postgres::{PgPool, PgPoolOptions};

type Result<T> = std::result::Result<T, StoreError>;

/// Driver errors go to the log through `StoreError::Internal`, never to a
/// client.
pub(crate) fn internal(error: sqlx::Error) -> StoreError {
    StoreError::Internal(format!("postgres: {error}"))
}

#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections this instance keeps at most. Several instances share the
    /// server's `max_connections`.
    pub pool_size: u32,
    pub acquire_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 10,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    audit: std::sync::Arc<audit::Appender>,
}

impl std::fmt::Debug for PostgresStore {
    // The URL may hold a password: it is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

impl PostgresStore {
    /// Connects, then applies pending migrations (one instance at a time).
    pub async fn open(url: &str, options: PostgresOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(options.pool_size.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect(url)
            .await
            .map_err(internal)?;
        migrate::apply(&pool).await?;
        let audit = std::sync::Arc::new(audit::Appender::start(pool.clone()));
        Ok(PostgresStore { pool, audit })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn application_by_key(&self, api_key: &str) -> Result<Option<ApplicationCredentials>> {
        auth::application_by_key(&self.pool, api_key).await
    }

    async fn insert_access_token(&self, token: NewAccessToken) -> Result<i64> {
        auth::insert_access_token(&self.pool, &token).await
    }

    async fn access_token(&self, token_hash: &[u8]) -> Result<Option<TokenRecord>> {
        auth::access_token(&self.pool, token_hash).await
    }

    fn tickets(&self, provider: ProviderId, query: TicketQuery) -> RowStream<Ticket> {
        api_reads::tickets(self.pool.clone(), provider, query)
    }

    fn residents(&self, provider: ProviderId, page: Option<Page>) -> RowStream<Resident> {
        api_reads::residents(self.pool.clone(), provider, page)
    }

    async fn categories(&self, provider: ProviderId) -> Result<Vec<Category>> {
        api_reads::categories(&self.pool, provider).await
    }

    async fn ticket_detail(
        &self,
        provider: ProviderId,
        ticket_id: i64,
    ) -> Result<Option<TicketDetail>> {
        api_reads::ticket_detail(&self.pool, provider, ticket_id).await
    }

    async fn attachment(
        &self,
        provider: ProviderId,
        attachment_id: i64,
    ) -> Result<Option<Attachment>> {
        api_reads::attachment(&self.pool, provider, attachment_id).await
    }

    async fn status_history(
        &self,
        provider: ProviderId,
        ticket_id: i64,
    ) -> Result<Vec<StatusChange>> {
        api_reads::status_history(&self.pool, provider, ticket_id).await
    }

    async fn create_ticket(
        &self,
        provider: ProviderId,
        ticket: NewTicket,
        context: WriteContext,
    ) -> Result<Written<i64>> {
        idempotency::write_once(&self.pool, context, RecordRef::Ticket, async |conn| {
            api_writes::create_ticket(conn, provider, &ticket).await
        })
        .await
    }

    async fn create_comment(
        &self,
        provider: ProviderId,
        ticket_id: i64,
        comment: NewComment,
        at: DateTime<Utc>,
        context: WriteContext,
    ) -> Result<Written<i64>> {
        idempotency::write_once(&self.pool, context, RecordRef::Comment, async |conn| {
            api_writes::create_comment(conn, provider, ticket_id, &comment, at).await
        })
        .await
    }

    async fn update_status(
        &self,
        provider: ProviderId,
        update: StatusUpdate,
        context: WriteContext,
    ) -> Result<Written<i64>> {
        idempotency::write_once(&self.pool, context, RecordRef::Ticket, async |conn| {
            api_writes::update_status(conn, provider, &update).await
        })
        .await
    }

    async fn append_audit(&self, entry: AuditEntry) -> Result<()> {
        self.audit.append(entry).await
    }

    fn audit_entries(&self) -> RowStream<AuditRecord> {
        audit::entries(self.pool.clone())
    }

    async fn audit_anchor(&self) -> Result<AuditAnchor> {
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        audit::anchor(&mut conn).await
    }

    async fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64> {
        audit::prune(&self.pool, connecticket_domain::time::to_epoch(before)).await
    }

    async fn auth_failures(&self, scopes: &[String], window_start: i64) -> Result<Vec<u64>> {
        audit::failures(&self.pool, scopes, window_start).await
    }

    async fn record_auth_failure(&self, scopes: Vec<String>, window_start: i64) -> Result<()> {
        audit::record_failure(&self.pool, &scopes, window_start).await
    }

    async fn revoke_tokens(
        &self,
        provider: ProviderId,
        owner: TokenOwner,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        admin::revoke_tokens(&self.pool, provider, owner, at).await
    }

    async fn rotate_secret(
        &self,
        provider: ProviderId,
        application_id: i64,
        secret_hash: Vec<u8>,
        at: DateTime<Utc>,
    ) -> Result<Application> {
        admin::rotate_secret(&self.pool, provider, application_id, secret_hash, at).await
    }

    async fn is_empty(&self) -> Result<bool> {
        admin::is_empty(&self.pool).await
    }

    async fn create_provider(&self, provider: NewProvider) -> Result<Provider> {
        admin::create_provider(&self.pool, &provider).await
    }

    async fn providers(&self) -> Result<Vec<Provider>> {
        admin::providers(&self.pool).await
    }

    async fn provider(&self, id: ProviderId) -> Result<Option<Provider>> {
        admin::provider(&self.pool, id).await
    }

    async fn create_employee(&self, employee: NewEmployee) -> Result<Employee> {
        admin::create_employee(&self.pool, &employee).await
    }

    async fn employees(&self, provider: ProviderId) -> Result<Vec<Employee>> {
        admin::employees(&self.pool, provider).await
    }

    async fn create_application(&self, application: NewApplication) -> Result<Application> {
        admin::create_application(&self.pool, &application).await
    }

    async fn applications(&self, provider: ProviderId) -> Result<Vec<Application>> {
        admin::applications(&self.pool, provider).await
    }

    async fn revoke_application(
        &self,
        provider: ProviderId,
        application_id: i64,
        at: DateTime<Utc>,
    ) -> Result<Application> {
        admin::revoke_application(&self.pool, provider, application_id, at).await
    }

    async fn create_residents(
        &self,
        provider: ProviderId,
        residents: Vec<NewResident>,
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        admin::create_residents(&self.pool, provider, &residents, at).await
    }

    async fn create_category(&self, category: NewCategory) -> Result<Category> {
        admin::create_category(&self.pool, &category).await
    }

    fn export(&self) -> RowStream<Record> {
        transfer::export(self.pool.clone())
    }

    async fn import(&self, records: RowStream<Record>) -> Result<u64> {
        transfer::import(&self.pool, records).await
    }
}
