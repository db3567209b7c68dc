//! The storage interface's roles. Each trait says what its implementation
//! promises beyond the rules of the module.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{AckBy, AckTarget, Attempt, NoticeQuery, NotificationFilter, NotificationHistory};
use super::{NotificationCounts, SchemaStatus, StoreLoad};
use super::{RowStream, StatusUpdate, TokenOwner, WriteContext, Written};
use crate::audit::{AuditEntry, AuditRecord, ChainAnchor};
use crate::auth::{ApplicationCredentials, NewAccessToken, TokenRecord};
use crate::console::{AccountHolder, Board, BoardFilter, ConsoleAccount, NewSession};
use crate::console::{SessionId, SessionRecord};
use crate::error::StoreResult;
use crate::model::ProviderContact;
use crate::model::{
    AccessTokenId, Application, ApplicationId, Attachment, AttachmentId, Category, CommentId,
    Employee, EmployeeId, NewApplication, NewCategory, NewComment, NewEmployee, NewProvider,
    NewResident, NewTicket, Page, Provider, ProviderId, Resident, ResidentId, StatusChange, Ticket,
    TicketDetail, TicketId, TicketQuery,
};
use crate::model::{Contact, ContactId, NewContact, NotificationId};
use crate::notify::Channel;
use crate::notify::{AckRefusal, EscalationPolicy, EscalationRule, EscalationStep};
use crate::notify::{Claimed, Notification, NotifyPolicy};
use crate::transfer::Record;

/// Credentials, tokens and the authorize-failure counters. Not scoped by
/// tenant: the tenant is what these lookups find.
#[async_trait]
pub trait AuthStore: Send + Sync + 'static {
    /// The application registered under a public api_key, revoked or not.
    async fn application_by_key(
        &self,
        api_key: &str,
    ) -> StoreResult<Option<ApplicationCredentials>>;
    /// Stores a token's hash. At most `keep_live` unrevoked tokens of the
    /// application remain: older ones are revoked in the same transaction.
    async fn insert_access_token(
        &self,
        token: NewAccessToken,
        keep_live: u32,
    ) -> StoreResult<AccessTokenId>;
    /// A token by its hash, joined with its application and provider.
    async fn access_token(&self, token_hash: &[u8]) -> StoreResult<Option<TokenRecord>>;
    /// The failure counts of each scope in the window starting at
    /// `window_start` (seconds since the epoch), in the order given.
    async fn auth_failures(&self, scopes: &[String], window_start: i64) -> StoreResult<Vec<u64>>;
    /// Counts one attempt in each scope and answers the counts with it, in
    /// the order given, atomically (concurrent attempts each see the ones
    /// before them); forgets older windows.
    async fn claim_auth_attempt(
        &self,
        scopes: Vec<String>,
        window_start: i64,
    ) -> StoreResult<Vec<u64>>;
    /// Takes back one attempt in each scope (it succeeded: no failure).
    async fn forgive_auth_attempt(&self, scopes: Vec<String>, window_start: i64)
        -> StoreResult<()>;
}

/// Tickets and the records they are about, always within one provider.
#[async_trait]
pub trait TicketStore: Send + Sync + 'static {
    /// Ordered by id; filters and paging as the query says.
    fn tickets(&self, provider: ProviderId, query: TicketQuery) -> RowStream<Ticket>;
    fn residents(&self, provider: ProviderId, page: Option<Page>) -> RowStream<Resident>;
    async fn categories(&self, provider: ProviderId) -> StoreResult<Vec<Category>>;
    /// The ticket with its ratings, comments and attachment metadata, read
    /// from one snapshot.
    async fn ticket_detail(
        &self,
        provider: ProviderId,
        ticket: TicketId,
    ) -> StoreResult<Option<TicketDetail>>;
    async fn attachment(
        &self,
        provider: ProviderId,
        attachment: AttachmentId,
    ) -> StoreResult<Option<Attachment>>;
    async fn status_history(
        &self,
        provider: ProviderId,
        ticket: TicketId,
    ) -> StoreResult<Vec<StatusChange>>;
    /// Stores the ticket with its ratings, comments, attachments and first
    /// history entry. `NotFound` for a resident or category of another
    /// provider.
    async fn create_ticket(
        &self,
        provider: ProviderId,
        ticket: NewTicket,
        context: WriteContext,
    ) -> StoreResult<Written<TicketId>>;
    /// Adds a comment and moves the ticket's `updated_at` (never backwards).
    async fn create_comment(
        &self,
        provider: ProviderId,
        ticket: TicketId,
        comment: NewComment,
        context: WriteContext,
    ) -> StoreResult<Written<CommentId>>;
    /// Adds files to a ticket and moves its `updated_at` (never
    /// backwards); answers the ticket's id.
    async fn add_attachments(
        &self,
        provider: ProviderId,
        ticket: TicketId,
        attachments: Vec<crate::model::NewAttachment>,
        at: DateTime<Utc>,
        context: WriteContext,
    ) -> StoreResult<Written<TicketId>>;
    /// Moves a ticket to a status and records the change; setting the
    /// status it already has changes and records nothing.
    async fn update_status(
        &self,
        provider: ProviderId,
        update: StatusUpdate,
        context: WriteContext,
    ) -> StoreResult<Written<TicketId>>;
}

/// The hash-chained audit trail (see `audit`).
#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Chains and appends one entry to one of this store's own chains;
    /// resolves once it is durable. Entries of concurrent calls share one
    /// commit, and appends never wait on another instance's.
    async fn append_audit(&self, entry: AuditEntry) -> StoreResult<()>;
    /// Every entry of every chain in the order they were written.
    fn audit_entries(&self) -> RowStream<AuditRecord>;
    /// Every chain's anchor, by chain id.
    async fn audit_chains(&self) -> StoreResult<Vec<ChainAnchor>>;
    /// One chain's entries in chain order, up to `through_seq` (its anchor's
    /// head when the anchor was read: later appends are left out).
    fn chain_entries(&self, chain_id: i64, through_seq: i64) -> RowStream<AuditRecord>;
    /// Removes entries older than `before` from every chain, keeping each
    /// verifiable from its first remaining entry; returns how many.
    async fn prune_audit(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// What operators manage. Lists are small and come whole.
#[async_trait]
pub trait OperatorStore: Send + Sync + 'static {
    /// True while no provider exists.
    async fn is_empty(&self) -> StoreResult<bool>;
    /// `Duplicate` when a fixed id is taken.
    async fn create_provider(&self, provider: NewProvider) -> StoreResult<Provider>;
    async fn providers(&self) -> StoreResult<Vec<Provider>>;
    async fn provider(&self, id: ProviderId) -> StoreResult<Option<Provider>>;
    /// `NotFound(Provider)` for an unknown provider.
    async fn create_employee(&self, employee: NewEmployee) -> StoreResult<Employee>;
    async fn employees(&self, provider: ProviderId) -> StoreResult<Vec<Employee>>;
    /// `NotFound(Employee)` unless the employee belongs to the provider;
    /// `Duplicate` for a taken api_key. `audit` (a console administrator's
    /// call; operators' are not audited) is appended in the same
    /// transaction, naming the application, as for the two below.
    async fn create_application(
        &self,
        application: NewApplication,
        audit: Option<AuditEntry>,
    ) -> StoreResult<Application>;
    async fn applications(&self, provider: ProviderId) -> StoreResult<Vec<Application>>;
    /// Revokes the application and every token it holds.
    async fn revoke_application(
        &self,
        provider: ProviderId,
        application: ApplicationId,
        at: DateTime<Utc>,
        audit: Option<AuditEntry>,
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
        application: ApplicationId,
        secret_hash: Vec<u8>,
        at: DateTime<Utc>,
        audit: Option<AuditEntry>,
    ) -> StoreResult<Application>;
    /// Inserts all residents or none.
    async fn create_residents(
        &self,
        provider: ProviderId,
        residents: Vec<NewResident>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<ResidentId>>;
    /// `audit` (a console administrator's call) is appended in the same
    /// transaction, naming the category.
    async fn create_category(
        &self,
        category: NewCategory,
        audit: Option<AuditEntry>,
    ) -> StoreResult<Category>;
    /// Renames one of the provider's categories, with `audit` in the same
    /// transaction (`NotFound(Category)` for another provider's).
    async fn rename_category(
        &self,
        provider: ProviderId,
        category: crate::model::CategoryId,
        name: String,
        audit: AuditEntry,
    ) -> StoreResult<Category>;
}

/// Whole-database copies between backends (see `transfer`).
#[async_trait]
pub trait TransferStore: Send + Sync + 'static {
    /// Every record of every table, in `Table::ALL` order and by primary
    /// key within a table, read from one consistent snapshot.
    fn export(&self) -> RowStream<Record>;
    /// Writes records, keeping their ids, into an empty database in one
    /// transaction. Emptiness is checked inside that transaction, so of two
    /// racing imports one writes and the other gets `NotEmpty`.
    async fn import(&self, records: RowStream<Record>) -> StoreResult<u64>;
}

/// Residents' contacts, providers' notification policies, and the outbox.
/// Notifications themselves are recorded by the ticket writes that cause
/// them, in their own transactions.
#[async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    /// `NotFound(Resident)` unless the resident is the provider's.
    async fn create_contact(
        &self,
        provider: ProviderId,
        contact: NewContact,
        audit: AuditEntry,
    ) -> StoreResult<Contact>;
    /// A resident's contacts (or every contact of the provider), by id.
    async fn contacts(
        &self,
        provider: ProviderId,
        resident: Option<ResidentId>,
    ) -> StoreResult<Vec<Contact>>;
    /// Removes a contact; its past notifications stay.
    async fn delete_contact(
        &self,
        provider: ProviderId,
        contact: ContactId,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    /// Replaces a contact's role, name, addresses and consents
    /// (`NotFound(Contact)` unless it is the provider's and the same
    /// resident's); its past notifications keep what they were sent to.
    async fn update_contact(
        &self,
        provider: ProviderId,
        contact: ContactId,
        new: NewContact,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    /// The provider's policy, or the default when none was set.
    async fn notify_policy(&self, provider: ProviderId) -> StoreResult<NotifyPolicy>;
    /// `audit` is appended in the same transaction.
    async fn set_notify_policy(
        &self,
        provider: ProviderId,
        policy: NotifyPolicy,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()>;
    /// Leases up to `limit` due, pending notifications on these channels
    /// to `owner` until `lease_until`, oldest first. A notification leased
    /// by another owner whose lease has not run out is never handed out,
    /// so no two dispatchers (on any instance) send the same one at once.
    async fn claim_notifications(
        &self,
        channels: Vec<Channel>,
        owner: String,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Claimed>>;
    /// Records an attempt with its audit entry, in one transaction, if
    /// `attempt.owner` still holds the lease (false otherwise: someone else
    /// took it over). A delivery sets the ticket's `sent_to_*` field of the
    /// contact's role.
    async fn record_attempt(&self, attempt: Attempt, audit: AuditEntry) -> StoreResult<bool>;
    /// Gives back the leases `owner` holds, so that another instance sends
    /// those notifications at once instead of after the lease; answers how
    /// many.
    async fn release_notification_claims(&self, owner: String) -> StoreResult<u64>;
    /// Notes on pending notifications of a channel that no transport sends
    /// why they wait; returns how many it marked.
    async fn hold_notifications(&self, channel: Channel, reason: String) -> StoreResult<u64>;
    async fn notifications(&self, filter: NotificationFilter) -> StoreResult<Vec<Notification>>;
    /// Makes a failed or pending notification due now, with a fresh count
    /// of attempts. `provider`: only one of this provider's (another's is
    /// `NotFound`); `audit` is appended in the same transaction.
    async fn retry_notification(
        &self,
        id: NotificationId,
        provider: Option<ProviderId>,
        now: DateTime<Utc>,
        audit: Option<AuditEntry>,
    ) -> StoreResult<Notification>;
    /// Applies a gateway's report to the SMS notification it sent as
    /// `external_id`, and appends `audit` (naming the notification, or
    /// `not_found`) in the same transaction.
    async fn record_gateway_status(
        &self,
        external_id: String,
        reported: crate::notify::ReportedStatus,
        at: DateTime<Utc>,
        audit: AuditEntry,
    ) -> StoreResult<()>;
}

/// Acknowledgments and escalation. Each method is one transaction with the
/// audit entry it is given.
#[async_trait]
pub trait EscalationStore: Send + Sync + 'static {
    /// The provider's rules: the defaults, overridden urgency by urgency.
    async fn escalation_policy(&self, provider: ProviderId) -> StoreResult<EscalationPolicy>;
    /// Sets one urgency's rule; `None`: that urgency needs no answer.
    async fn set_escalation_rule(
        &self,
        provider: ProviderId,
        urgency_status_id: i64,
        rule: Option<EscalationRule>,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    async fn create_provider_contact(
        &self,
        contact: ProviderContact,
        audit: AuditEntry,
    ) -> StoreResult<ProviderContact>;
    async fn provider_contacts(&self, provider: ProviderId) -> StoreResult<Vec<ProviderContact>>;
    async fn delete_provider_contact(
        &self,
        provider: ProviderId,
        contact: ContactId,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    /// Takes the next level of up to `limit` escalations due at `now`, in
    /// one transaction: each level's notifications, its step, its new
    /// deadline and an audit entry (a copy of `audit` naming the ticket).
    /// Escalations another instance is taking are skipped, so a level is
    /// never taken twice.
    async fn escalate_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        audit: AuditEntry,
    ) -> StoreResult<Vec<EscalationStep>>;
    /// The notification an acknowledgment link points to, for its page.
    async fn ack_target(
        &self,
        token_hash: Vec<u8>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<AckTarget, AckRefusal>>;
    /// Acknowledges a notification and ends its ticket's escalation, with
    /// `audit` naming what was acknowledged. A refusal (or `NotFound` for
    /// staff) changes nothing and appends nothing.
    async fn acknowledge(
        &self,
        by: AckBy,
        now: DateTime<Utc>,
        audit: AuditEntry,
    ) -> StoreResult<Result<AckTarget, AckRefusal>>;
    /// A page of the provider's notifications, by id.
    async fn notices(
        &self,
        query: NoticeQuery,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Notification>>;
    /// Notifications queued in `[since, until)` and their tickets'
    /// escalations and steps.
    async fn notification_history(
        &self,
        provider: ProviderId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<NotificationHistory>;
}

/// The store as operators watch it: readiness, load, and an orderly end.
#[async_trait]
pub trait HealthStore: Send + Sync + 'static {
    /// Asks the database one question, and compares its schema version
    /// with the newest this binary knows.
    async fn schema_status(&self) -> StoreResult<SchemaStatus>;
    /// Connections and queued writes right now (no database call).
    fn load(&self) -> StoreLoad;
    /// Notifications by delivery state, and escalations still open.
    async fn notification_counts(&self) -> StoreResult<NotificationCounts>;
    /// Closes the store's connections once the server has stopped (the
    /// last call of a process; later calls fail).
    async fn close(&self);
}

/// Console accounts, sessions and the board. Writes that change who may
/// do what carry their audit entry into their own transaction.
#[async_trait]
pub trait ConsoleStore: Send + Sync + 'static {
    /// The account with this (lower-cased) address, with its holder.
    async fn console_account_by_email(&self, email: &str) -> StoreResult<Option<AccountHolder>>;
    /// The account whose pending invitation has this hash, unexpired at
    /// `now`.
    async fn console_account_by_invite(
        &self,
        invite_hash: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<AccountHolder>>;
    /// The provider's employees with their accounts (none for an employee
    /// who has no console account), by employee id.
    async fn console_roster(
        &self,
        provider: ProviderId,
    ) -> StoreResult<Vec<(Employee, Option<ConsoleAccount>)>>;
    /// Creates or replaces the employee's account (`NotFound(Employee)`
    /// unless the employee is the account's provider's; `Duplicate` for an
    /// address another account has). `end_sessions`: the employee's open
    /// sessions end in the same transaction (a new password, role or
    /// reset must not leave an old browser signed in).
    async fn save_console_account(
        &self,
        account: ConsoleAccount,
        end_sessions: bool,
        audit: Option<AuditEntry>,
    ) -> StoreResult<()>;
    /// A new employee with an account, in one transaction.
    async fn create_console_employee(
        &self,
        employee: NewEmployee,
        account: ConsoleAccount,
        audit: Option<AuditEntry>,
    ) -> StoreResult<EmployeeId>;
    /// Whether the provider asks every account for a second factor.
    async fn set_console_totp_required(
        &self,
        provider: ProviderId,
        required: bool,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    /// Opens a session; with a second-factor code's step, only if that
    /// step is later than the account's last (a code is good once): else
    /// nothing is written and the answer is `None`.
    async fn create_console_session(
        &self,
        session: NewSession,
        audit: AuditEntry,
    ) -> StoreResult<Option<SessionId>>;
    /// Saves the account with its new second factor; `step`, its
    /// enrolment code's, becomes the last one used.
    async fn enrol_second_factor(
        &self,
        account: ConsoleAccount,
        step: i64,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    /// Ends every open session of the employee; answers how many.
    async fn end_sessions_of(
        &self,
        employee: EmployeeId,
        at: DateTime<Utc>,
        audit: AuditEntry,
    ) -> StoreResult<u64>;
    /// A session by its token's hash, ended or not.
    async fn console_session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>>;
    /// Notes a request in the session (its idle clock restarts).
    async fn touch_console_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Ends a session (if still open), with `audit` in the same
    /// transaction.
    async fn end_console_session(
        &self,
        id: SessionId,
        at: DateTime<Utc>,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    /// The provider's open tickets (neither Resolved nor Closed) that match,
    /// most urgent first, then oldest; at most `limit`, and how many
    /// matched in all.
    async fn board(
        &self,
        provider: ProviderId,
        filter: BoardFilter,
        limit: u32,
    ) -> StoreResult<Board>;
    /// One resident of the provider.
    async fn resident(&self, provider: ProviderId, id: ResidentId)
        -> StoreResult<Option<Resident>>;
    /// The provider's residents whose first or last name contains `text`
    /// (any case), by last then first name; at most `limit`.
    async fn search_residents(
        &self,
        provider: ProviderId,
        text: &str,
        limit: u32,
    ) -> StoreResult<Vec<Resident>>;
}
