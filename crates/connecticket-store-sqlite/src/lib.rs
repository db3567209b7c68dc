//! Connecticket's embedded default: the storage interface on one SQLite file.
//!
//! Design: SQLite allows one writer at a time, so all writes go through a
//! single writer thread fed by a queue ([`writer`]). It takes whatever jobs
//! are waiting, runs each in its own savepoint inside one transaction and
//! acknowledges them only after that transaction commits: concurrent writes
//! share one fsync (group commit) and a failed job rolls back alone. Reads run
//! on a small pool of read-only connections ([`readers`]); lists are streamed
//! in chunks from a blocking task.

mod admin;
mod api_reads;
mod api_writes;
mod audit;
mod auth;
mod connection;
mod idempotency;
mod migrate;
mod readers;
mod rows;
mod transfer;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

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
use futures::StreamExt;

pub use migrate::MIGRATIONS;
use readers::Readers;
use writer::Writer;

type Result<T> = std::result::Result<T, StoreError>;

/// Driver errors carry SQL and sometimes values: they go to the log through
/// `StoreError::Internal`, never to a client.
pub(crate) fn internal(error: rusqlite::Error) -> StoreError {
    StoreError::Internal(format!("sqlite: {error}"))
}

/// The SQLite store. Cheap to clone; all clones share the writer and pool.
#[derive(Clone)]
pub struct SqliteStore {
    writer: Arc<Writer>,
    readers: Arc<Readers>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// Settings for opening a SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Read connections kept open (reads beyond this wait their turn).
    pub read_connections: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            read_connections: 8,
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, applies pending
    /// migrations and starts the writer thread.
    pub async fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let writer_path = path.clone();
        let connection = tokio::task::spawn_blocking(move || {
            let mut connection = connection::open_writer(&writer_path)?;
            migrate::apply(&mut connection)?;
            Ok::<_, StoreError>(connection)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("opening the database failed: {e}")))??;
        Ok(SqliteStore {
            writer: Arc::new(Writer::start(connection)?),
            readers: Arc::new(Readers::new(path.clone(), options.read_connections)),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn application_by_key(&self, api_key: &str) -> Result<Option<ApplicationCredentials>> {
        let api_key = api_key.to_owned();
        self.readers
            .read(move |conn| auth::application_by_key(conn, &api_key))
            .await
    }

    async fn insert_access_token(&self, token: NewAccessToken) -> Result<i64> {
        self.writer
            .write(move |conn| auth::insert_access_token(conn, &token))
            .await
    }

    async fn access_token(&self, token_hash: &[u8]) -> Result<Option<TokenRecord>> {
        let token_hash = token_hash.to_vec();
        self.readers
            .read(move |conn| auth::access_token(conn, &token_hash))
            .await
    }

    fn tickets(&self, provider: ProviderId, query: TicketQuery) -> RowStream<Ticket> {
        self.readers
            .stream(move |conn, sink| api_reads::tickets(conn, provider, &query, sink))
    }

    fn residents(&self, provider: ProviderId, page: Option<Page>) -> RowStream<Resident> {
        self.readers
            .stream(move |conn, sink| api_reads::residents(conn, provider, page, sink))
    }

    async fn categories(&self, provider: ProviderId) -> Result<Vec<Category>> {
        self.readers
            .read(move |conn| api_reads::categories(conn, provider))
            .await
    }

    async fn ticket_detail(
        &self,
        provider: ProviderId,
        ticket_id: i64,
    ) -> Result<Option<TicketDetail>> {
        self.readers
            .read(move |conn| api_reads::ticket_detail(conn, provider, ticket_id))
            .await
    }

    async fn attachment(
        &self,
        provider: ProviderId,
        attachment_id: i64,
    ) -> Result<Option<Attachment>> {
        self.readers
            .read(move |conn| api_reads::attachment(conn, provider, attachment_id))
            .await
    }

    async fn status_history(
        &self,
        provider: ProviderId,
        ticket_id: i64,
    ) -> Result<Vec<StatusChange>> {
        self.readers
            .read(move |conn| api_reads::status_history(conn, provider, ticket_id))
            .await
    }

    async fn create_ticket(
        &self,
        provider: ProviderId,
        ticket: NewTicket,
        context: WriteContext,
    ) -> Result<Written<i64>> {
        self.writer
            .write(move |conn| {
                idempotency::once(conn, context, RecordRef::Ticket, || {
                    api_writes::create_ticket(conn, provider, &ticket)
                })
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
        self.writer
            .write(move |conn| {
                idempotency::once(conn, context, RecordRef::Comment, || {
                    api_writes::create_comment(conn, provider, ticket_id, &comment, at)
                })
            })
            .await
    }

    async fn update_status(
        &self,
        provider: ProviderId,
        update: StatusUpdate,
        context: WriteContext,
    ) -> Result<Written<i64>> {
        self.writer
            .write(move |conn| {
                idempotency::once(conn, context, RecordRef::Ticket, || {
                    api_writes::update_status(conn, provider, &update)
                })
            })
            .await
    }

    async fn append_audit(&self, entry: AuditEntry) -> Result<()> {
        self.writer
            .write(move |conn| audit::append(conn, entry))
            .await
    }

    fn audit_entries(&self) -> RowStream<AuditRecord> {
        self.readers.stream(audit::entries)
    }

    async fn audit_anchor(&self) -> Result<AuditAnchor> {
        self.readers.read(audit::anchor).await
    }

    async fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64> {
        self.writer
            .write(move |conn| audit::prune(conn, connecticket_domain::time::to_epoch(before)))
            .await
    }

    async fn auth_failures(&self, scopes: &[String], window_start: i64) -> Result<Vec<u64>> {
        let scopes = scopes.to_vec();
        self.readers
            .read(move |conn| audit::failures(conn, &scopes, window_start))
            .await
    }

    async fn record_auth_failure(&self, scopes: Vec<String>, window_start: i64) -> Result<()> {
        self.writer
            .write(move |conn| audit::record_failure(conn, &scopes, window_start))
            .await
    }

    async fn revoke_tokens(
        &self,
        provider: ProviderId,
        owner: TokenOwner,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        self.writer
            .write(move |conn| admin::revoke_tokens(conn, provider, owner, at))
            .await
    }

    async fn rotate_secret(
        &self,
        provider: ProviderId,
        application_id: i64,
        secret_hash: Vec<u8>,
        at: DateTime<Utc>,
    ) -> Result<Application> {
        self.writer
            .write(move |conn| {
                admin::rotate_secret(conn, provider, application_id, &secret_hash, at)
            })
            .await
    }

    async fn is_empty(&self) -> Result<bool> {
        self.readers.read(admin::is_empty).await
    }

    async fn create_provider(&self, provider: NewProvider) -> Result<Provider> {
        self.writer
            .write(move |conn| admin::create_provider(conn, &provider))
            .await
    }

    async fn providers(&self) -> Result<Vec<Provider>> {
        self.readers.read(admin::providers).await
    }

    async fn provider(&self, id: ProviderId) -> Result<Option<Provider>> {
        self.readers
            .read(move |conn| admin::provider(conn, id))
            .await
    }

    async fn create_employee(&self, employee: NewEmployee) -> Result<Employee> {
        self.writer
            .write(move |conn| admin::create_employee(conn, &employee))
            .await
    }

    async fn employees(&self, provider: ProviderId) -> Result<Vec<Employee>> {
        self.readers
            .read(move |conn| admin::employees(conn, provider))
            .await
    }

    async fn create_application(&self, application: NewApplication) -> Result<Application> {
        self.writer
            .write(move |conn| admin::create_application(conn, &application))
            .await
    }

    async fn applications(&self, provider: ProviderId) -> Result<Vec<Application>> {
        self.readers
            .read(move |conn| admin::applications(conn, provider))
            .await
    }

    async fn revoke_application(
        &self,
        provider: ProviderId,
        application_id: i64,
        at: DateTime<Utc>,
    ) -> Result<Application> {
        self.writer
            .write(move |conn| admin::revoke_application(conn, provider, application_id, at))
            .await
    }

    async fn create_residents(
        &self,
        provider: ProviderId,
        residents: Vec<NewResident>,
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        self.writer
            .write(move |conn| admin::create_residents(conn, provider, &residents, at))
            .await
    }

    async fn create_category(&self, category: NewCategory) -> Result<Category> {
        self.writer
            .write(move |conn| admin::create_category(conn, &category))
            .await
    }

    fn export(&self) -> RowStream<Record> {
        self.readers.stream(transfer::export)
    }

    async fn import(&self, mut records: RowStream<Record>) -> Result<u64> {
        // The writer job reads the records as they arrive, so a large move
        // never sits in memory whole; it is still one transaction.
        let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
        let feed = async move {
            while let Some(chunk) = records.next().await {
                let failed = chunk.is_err();
                if sender.send(chunk).await.is_err() || failed {
                    break;
                }
            }
        };
        let write = self
            .writer
            .write(move |conn| transfer::import(conn, &mut receiver));
        let ((), written) = tokio::join!(feed, write);
        written
    }
}

impl SqliteStore {
    /// Writes a consistent copy of the database to `destination` while the
    /// server keeps serving (`VACUUM INTO` reads one snapshot). The
    /// destination must not exist.
    pub async fn backup_to(&self, destination: &Path) -> Result<()> {
        if destination.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists; choose a new file",
                destination.display()
            )));
        }
        let source = self.path.clone();
        let destination = destination.to_string_lossy().into_owned();
        tokio::task::spawn_blocking(move || {
            let connection = connection::open_writer(&source)?;
            connection
                .execute("VACUUM INTO ?1", [destination])
                .map_err(internal)?;
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Internal(format!("the backup task failed: {e}")))?
    }
}
