//! The storage interface, implemented once over any [`Engine`].

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connecticket_domain::audit::{AuditEntry, AuditRecord, ChainAnchor, RecordRef};
use connecticket_domain::auth::{ApplicationCredentials, NewAccessToken, TokenRecord};
use connecticket_domain::model::{
    AccessTokenId, Application, ApplicationId, Attachment, AttachmentId, Category, CommentId,
    Employee, NewApplication, NewCategory, NewComment, NewEmployee, NewProvider, NewResident,
    NewTicket, Page, Provider, ProviderId, Resident, ResidentId, StatusChange, Ticket,
    TicketDetail, TicketId, TicketQuery,
};
use connecticket_domain::model::{Contact, ContactId, NewContact, NotificationId};
use connecticket_domain::notify::{Channel, Claimed, Notification, NotifyPolicy, ReportedStatus};
use connecticket_domain::store::{Attempt, NotificationFilter, NotificationStore};
use connecticket_domain::store::{
    AuditStore, AuthStore, OperatorStore, RowStream, StatusUpdate, TicketStore, TokenOwner,
    TransferStore, WriteContext, Written, STREAM_CHUNK_ROWS,
};
use connecticket_domain::time::to_epoch;
use connecticket_domain::transfer::Record;
use connecticket_domain::StoreError;

use crate::engine::Engine;
use crate::ops::idempotency::once;
use crate::ops::ticket_reads::Window;
use crate::ops::{
    audit, auth, contacts, notifications, operators, ticket_detail, ticket_reads, ticket_writes,
    transfer,
};

type Result<T> = std::result::Result<T, StoreError>;

/// Connecticket's store on one engine.
pub struct SqlStore<E: Engine> {
    pub(crate) engine: Arc<E>,
}

impl<E: Engine> SqlStore<E> {
    pub fn new(engine: E) -> Self {
        SqlStore {
            engine: Arc::new(engine),
        }
    }

    pub fn engine(&self) -> &E {
        &self.engine
    }
}

impl<E: Engine> std::fmt::Debug for SqlStore<E> {
    // Engines hold paths and URLs that may carry passwords: none is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqlStore<{:?}>", self.engine.dialect())
    }
}

/// A list read one short query at a time: a client's page in one read,
/// a whole list in keyset chunks (`id > last`), each chunk a read of its
/// own. No connection or snapshot is held between chunks, however slowly
/// the client reads, so writers, checkpoints and vacuum go on meanwhile;
/// every row is sent at most once, in id order.
fn keyset_list<E, T, J>(
    engine: Arc<E>,
    page: Option<Page>,
    id_of: fn(&T) -> i64,
    read: impl Fn(Window) -> J + Send + Sync + 'static,
) -> RowStream<T>
where
    E: Engine,
    T: Send + 'static,
    J: crate::engine::Job<Vec<T>>,
{
    let first = match page {
        Some(page) => Window::Page(page),
        None => Window::After {
            after: 0,
            limit: STREAM_CHUNK_ROWS as i64,
        },
    };
    Box::pin(futures::stream::unfold(Some(first), move |window| {
        let engine = Arc::clone(&engine);
        let job = window.map(&read);
        async move {
            let window = window?;
            let rows = match engine.read_statement(job?).await {
                Ok(rows) => rows,
                Err(error) => return Some((Err(error), None)),
            };
            let next = match (window, rows.last()) {
                (Window::After { limit, .. }, Some(last)) if rows.len() as i64 == limit => {
                    Some(Window::After {
                        after: id_of(last),
                        limit,
                    })
                }
                _ => None,
            };
            if rows.is_empty() && matches!(window, Window::After { after, .. } if after > 0) {
                return None;
            }
            Some((Ok(rows), next))
        }
    }))
}

#[async_trait]
impl<E: Engine> AuthStore for SqlStore<E> {
    async fn application_by_key(&self, api_key: &str) -> Result<Option<ApplicationCredentials>> {
        let api_key = api_key.to_owned();
        self.engine
            .read(move |tx| Box::pin(async move { auth::application_by_key(tx, &api_key).await }))
            .await
    }

    async fn insert_access_token(
        &self,
        token: NewAccessToken,
        keep_live: u32,
    ) -> Result<AccessTokenId> {
        self.engine
            .write(move |tx| {
                Box::pin(async move { auth::insert_access_token(tx, &token, keep_live).await })
            })
            .await
    }

    async fn access_token(&self, token_hash: &[u8]) -> Result<Option<TokenRecord>> {
        let hash = token_hash.to_vec();
        self.engine
            .read_statement(move |tx| Box::pin(async move { auth::access_token(tx, &hash).await }))
            .await
    }

    async fn auth_failures(&self, scopes: &[String], window_start: i64) -> Result<Vec<u64>> {
        let scopes = scopes.to_vec();
        self.engine
            .read(move |tx| {
                Box::pin(async move { auth::auth_failures(tx, &scopes, window_start).await })
            })
            .await
    }

    async fn claim_auth_attempt(&self, scopes: Vec<String>, window_start: i64) -> Result<Vec<u64>> {
        self.engine
            .write(move |tx| {
                Box::pin(async move { auth::claim_auth_attempt(tx, &scopes, window_start).await })
            })
            .await
    }

    async fn forgive_auth_attempt(&self, scopes: Vec<String>, window_start: i64) -> Result<()> {
        self.engine
            .write(move |tx| {
                Box::pin(async move { auth::forgive_auth_attempt(tx, &scopes, window_start).await })
            })
            .await
    }
}

#[async_trait]
impl<E: Engine> TicketStore for SqlStore<E> {
    fn tickets(&self, provider: ProviderId, query: TicketQuery) -> RowStream<Ticket> {
        let query = Arc::new(query);
        keyset_list(
            Arc::clone(&self.engine),
            query.page,
            |ticket: &Ticket| ticket.id.get(),
            move |window| {
                let query = Arc::clone(&query);
                move |tx| {
                    Box::pin(
                        async move { ticket_reads::tickets(tx, provider, &query, window).await },
                    )
                }
            },
        )
    }

    fn residents(&self, provider: ProviderId, page: Option<Page>) -> RowStream<Resident> {
        keyset_list(
            Arc::clone(&self.engine),
            page,
            |resident: &Resident| resident.id.get(),
            move |window| move |tx| Box::pin(ticket_reads::residents(tx, provider, window)),
        )
    }

    async fn categories(&self, provider: ProviderId) -> Result<Vec<Category>> {
        self.engine
            .read_statement(move |tx| Box::pin(ticket_reads::categories(tx, provider)))
            .await
    }

    async fn ticket_detail(
        &self,
        provider: ProviderId,
        ticket: TicketId,
    ) -> Result<Option<TicketDetail>> {
        if !ticket_detail::in_one_statement(self.engine.dialect()) {
            return self
                .engine
                .read(move |tx| Box::pin(ticket_detail::ticket_detail(tx, provider, ticket)))
                .await;
        }
        // Most tickets notify no one, and their detail is one statement.
        // One that notifies is read again in a transaction, so that its
        // notifications agree with the rest.
        let detail = self
            .engine
            .read_statement(move |tx| {
                Box::pin(ticket_detail::without_notifications(tx, provider, ticket))
            })
            .await?;
        match detail {
            Some(detail) if ticket_detail::notifies(&detail.ticket) => {
                self.engine
                    .read(move |tx| Box::pin(ticket_detail::ticket_detail(tx, provider, ticket)))
                    .await
            }
            other => Ok(other),
        }
    }

    async fn attachment(
        &self,
        provider: ProviderId,
        attachment: AttachmentId,
    ) -> Result<Option<Attachment>> {
        self.engine
            .read_statement(move |tx| Box::pin(ticket_reads::attachment(tx, provider, attachment)))
            .await
    }

    async fn status_history(
        &self,
        provider: ProviderId,
        ticket: TicketId,
    ) -> Result<Vec<StatusChange>> {
        self.engine
            .read(move |tx| Box::pin(ticket_reads::status_history(tx, provider, ticket)))
            .await
    }

    async fn create_ticket(
        &self,
        provider: ProviderId,
        ticket: NewTicket,
        context: WriteContext,
    ) -> Result<Written<TicketId>> {
        let created = |id| RecordRef::Ticket(TicketId(id));
        self.engine
            .write_by(context.deadline, move |tx| {
                Box::pin(once(tx, context, created, move |tx| {
                    Box::pin(ticket_writes::create_ticket(tx, provider, ticket))
                }))
            })
            .await
            .map(|written| written.map(TicketId))
    }

    async fn create_comment(
        &self,
        provider: ProviderId,
        ticket: TicketId,
        comment: NewComment,
        context: WriteContext,
    ) -> Result<Written<CommentId>> {
        let created = |id| RecordRef::Comment(CommentId(id));
        self.engine
            .write_by(context.deadline, move |tx| {
                Box::pin(once(tx, context, created, move |tx| {
                    Box::pin(ticket_writes::create_comment(tx, provider, ticket, comment))
                }))
            })
            .await
            .map(|written| written.map(CommentId))
    }

    async fn add_attachments(
        &self,
        provider: ProviderId,
        ticket: TicketId,
        attachments: Vec<connecticket_domain::model::NewAttachment>,
        at: DateTime<Utc>,
        context: WriteContext,
    ) -> Result<Written<TicketId>> {
        let created = |id| RecordRef::Ticket(TicketId(id));
        self.engine
            .write_by(context.deadline, move |tx| {
                Box::pin(once(tx, context, created, move |tx| {
                    Box::pin(ticket_writes::add_attachments(
                        tx,
                        provider,
                        ticket,
                        attachments,
                        at,
                    ))
                }))
            })
            .await
            .map(|written| written.map(TicketId))
    }

    async fn update_status(
        &self,
        provider: ProviderId,
        update: StatusUpdate,
        context: WriteContext,
    ) -> Result<Written<TicketId>> {
        let created = |id| RecordRef::Ticket(TicketId(id));
        self.engine
            .write_by(context.deadline, move |tx| {
                Box::pin(once(tx, context, created, move |tx| {
                    Box::pin(ticket_writes::update_status(tx, provider, update))
                }))
            })
            .await
            .map(|written| written.map(TicketId))
    }
}

#[async_trait]
impl<E: Engine> AuditStore for SqlStore<E> {
    async fn append_audit(&self, entry: AuditEntry) -> Result<()> {
        self.engine.append_audit(entry).await
    }

    fn audit_entries(&self) -> RowStream<AuditRecord> {
        self.engine
            .read_stream(|tx, out| Box::pin(audit::entries(tx, out)))
    }

    async fn audit_chains(&self) -> Result<Vec<ChainAnchor>> {
        self.engine.read(|tx| Box::pin(audit::chains(tx))).await
    }

    fn chain_entries(&self, chain_id: i64, through_seq: i64) -> RowStream<AuditRecord> {
        self.engine.read_stream(move |tx, out| {
            Box::pin(audit::chain_entries(tx, out, chain_id, through_seq))
        })
    }

    async fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64> {
        self.engine
            .write(move |tx| Box::pin(audit::prune(tx, to_epoch(before))))
            .await
    }
}

/// Appends a console administrator's entry for an operator-style write
/// (none for the operator's own commands), naming the record written, in
/// the write's transaction.
async fn audited(
    tx: &mut dyn crate::engine::Executor,
    entry: Option<AuditEntry>,
    record: RecordRef,
) -> Result<()> {
    let Some(mut entry) = entry else {
        return Ok(());
    };
    entry.touch(record);
    audit::append(tx, vec![entry]).await
}

#[async_trait]
impl<E: Engine> OperatorStore for SqlStore<E> {
    async fn is_empty(&self) -> Result<bool> {
        self.engine
            .read(|tx| Box::pin(operators::is_empty(tx)))
            .await
    }

    async fn create_provider(&self, provider: NewProvider) -> Result<Provider> {
        self.engine
            .write(move |tx| Box::pin(operators::create_provider(tx, provider)))
            .await
    }

    async fn providers(&self) -> Result<Vec<Provider>> {
        self.engine
            .read(|tx| Box::pin(operators::providers(tx)))
            .await
    }

    async fn provider(&self, id: ProviderId) -> Result<Option<Provider>> {
        self.engine
            .read(move |tx| Box::pin(operators::provider(tx, id)))
            .await
    }

    async fn create_employee(&self, employee: NewEmployee) -> Result<Employee> {
        self.engine
            .write(move |tx| Box::pin(operators::create_employee(tx, employee)))
            .await
    }

    async fn employees(&self, provider: ProviderId) -> Result<Vec<Employee>> {
        self.engine
            .read(move |tx| Box::pin(operators::employees(tx, provider)))
            .await
    }

    async fn create_application(
        &self,
        application: NewApplication,
        audit: Option<AuditEntry>,
    ) -> Result<Application> {
        self.engine
            .write(move |tx| {
                Box::pin(async move {
                    let created = operators::create_application(tx, application).await?;
                    audited(tx, audit, RecordRef::Application(created.id)).await?;
                    Ok(created)
                })
            })
            .await
    }

    async fn applications(&self, provider: ProviderId) -> Result<Vec<Application>> {
        self.engine
            .read(move |tx| Box::pin(operators::applications(tx, provider)))
            .await
    }

    async fn revoke_application(
        &self,
        provider: ProviderId,
        application: ApplicationId,
        at: DateTime<Utc>,
        audit: Option<AuditEntry>,
    ) -> Result<Application> {
        self.engine
            .write(move |tx| {
                Box::pin(async move {
                    let revoked =
                        operators::revoke_application(tx, provider, application, at).await?;
                    audited(tx, audit, RecordRef::Application(revoked.id)).await?;
                    Ok(revoked)
                })
            })
            .await
    }

    async fn revoke_tokens(
        &self,
        provider: ProviderId,
        owner: TokenOwner,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        self.engine
            .write(move |tx| Box::pin(operators::revoke_tokens(tx, provider, owner, at)))
            .await
    }

    async fn rotate_secret(
        &self,
        provider: ProviderId,
        application: ApplicationId,
        secret_hash: Vec<u8>,
        at: DateTime<Utc>,
        audit: Option<AuditEntry>,
    ) -> Result<Application> {
        self.engine
            .write(move |tx| {
                Box::pin(async move {
                    let rotated =
                        operators::rotate_secret(tx, provider, application, secret_hash, at)
                            .await?;
                    audited(tx, audit, RecordRef::Application(rotated.id)).await?;
                    Ok(rotated)
                })
            })
            .await
    }

    async fn create_residents(
        &self,
        provider: ProviderId,
        residents: Vec<NewResident>,
        at: DateTime<Utc>,
    ) -> Result<Vec<ResidentId>> {
        self.engine
            .write(move |tx| Box::pin(operators::create_residents(tx, provider, residents, at)))
            .await
    }

    async fn create_category(
        &self,
        category: NewCategory,
        audit_entry: Option<AuditEntry>,
    ) -> Result<Category> {
        self.engine
            .write(move |tx| {
                Box::pin(async move {
                    let created = operators::create_category(tx, category).await?;
                    audited(tx, audit_entry, RecordRef::Category(created.id)).await?;
                    Ok(created)
                })
            })
            .await
    }

    async fn rename_category(
        &self,
        provider: ProviderId,
        category: connecticket_domain::model::CategoryId,
        name: String,
        audit_entry: AuditEntry,
    ) -> Result<Category> {
        self.engine
            .write(move |tx| {
                Box::pin(async move {
                    let renamed = operators::rename_category(tx, provider, category, name).await?;
                    audited(tx, Some(audit_entry), RecordRef::Category(renamed.id)).await?;
                    Ok(renamed)
                })
            })
            .await
    }
}

#[async_trait]
impl<E: Engine> TransferStore for SqlStore<E> {
    fn export(&self) -> RowStream<Record> {
        self.engine
            .read_stream(|tx, out| Box::pin(transfer::export(tx, out)))
    }

    async fn import(&self, records: RowStream<Record>) -> Result<u64> {
        self.engine
            .write(move |tx| Box::pin(transfer::import(tx, records)))
            .await
    }
}

#[async_trait]
impl<E: Engine> NotificationStore for SqlStore<E> {
    async fn create_contact(
        &self,
        provider: ProviderId,
        contact: NewContact,
        audit: AuditEntry,
    ) -> Result<Contact> {
        self.engine
            .write(move |tx| Box::pin(contacts::create_contact(tx, provider, contact, audit)))
            .await
    }

    async fn contacts(
        &self,
        provider: ProviderId,
        resident: Option<ResidentId>,
    ) -> Result<Vec<Contact>> {
        self.engine
            .read(move |tx| Box::pin(contacts::contacts(tx, provider, resident)))
            .await
    }

    async fn delete_contact(
        &self,
        provider: ProviderId,
        contact: ContactId,
        audit: AuditEntry,
    ) -> Result<()> {
        self.engine
            .write(move |tx| Box::pin(contacts::delete_contact(tx, provider, contact, audit)))
            .await
    }

    async fn update_contact(
        &self,
        provider: ProviderId,
        contact: ContactId,
        new: NewContact,
        audit: AuditEntry,
    ) -> Result<()> {
        self.engine
            .write(move |tx| Box::pin(contacts::update_contact(tx, provider, contact, new, audit)))
            .await
    }

    async fn notify_policy(&self, provider: ProviderId) -> Result<NotifyPolicy> {
        self.engine
            .read(move |tx| Box::pin(contacts::notify_policy(tx, provider)))
            .await
    }

    async fn set_notify_policy(
        &self,
        provider: ProviderId,
        policy: NotifyPolicy,
        audit_entry: Option<AuditEntry>,
    ) -> Result<()> {
        self.engine
            .write(move |tx| {
                Box::pin(async move {
                    contacts::set_notify_policy(tx, provider, &policy).await?;
                    match audit_entry {
                        Some(entry) => audit::append(tx, vec![entry]).await,
                        None => Ok(()),
                    }
                })
            })
            .await
    }

    async fn claim_notifications(
        &self,
        channels: Vec<Channel>,
        owner: String,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Claimed>> {
        self.engine
            .write(move |tx| {
                Box::pin(async move {
                    notifications::claim(tx, &channels, &owner, now, lease_until, limit).await
                })
            })
            .await
    }

    async fn record_attempt(&self, attempt: Attempt, audit: AuditEntry) -> Result<bool> {
        self.engine
            .write(move |tx| Box::pin(notifications::record_attempt(tx, attempt, audit)))
            .await
    }

    async fn hold_notifications(&self, channel: Channel, reason: String) -> Result<u64> {
        self.engine
            .write(move |tx| {
                Box::pin(async move { notifications::hold(tx, channel, &reason).await })
            })
            .await
    }

    async fn notifications(&self, filter: NotificationFilter) -> Result<Vec<Notification>> {
        self.engine
            .read(move |tx| Box::pin(async move { notifications::list(tx, &filter).await }))
            .await
    }

    async fn retry_notification(
        &self,
        id: NotificationId,
        provider: Option<ProviderId>,
        now: DateTime<Utc>,
        audit: Option<AuditEntry>,
    ) -> Result<Notification> {
        self.engine
            .write(move |tx| Box::pin(notifications::retry(tx, id, provider, now, audit)))
            .await
    }

    async fn release_notification_claims(&self, owner: String) -> Result<u64> {
        self.engine
            .write(move |tx| {
                Box::pin(async move { notifications::release_claims(tx, &owner).await })
            })
            .await
    }

    async fn record_gateway_status(
        &self,
        external_id: String,
        reported: ReportedStatus,
        at: DateTime<Utc>,
        audit: AuditEntry,
    ) -> Result<()> {
        self.engine
            .write(move |tx| {
                Box::pin(async move {
                    notifications::gateway_status(tx, &external_id, &reported, at, audit).await
                })
            })
            .await
    }
}
