//! The storage interface's roles, one operation per line (see `declare`).
//! Each role says what its implementation promises beyond the rules of the
//! module; each operation, what it does and how it runs, and the statement
//! in `connecticket-store`'s `ops` that does it.

use super::types::*;

crate::store_role! {
    /// Credentials, tokens and the authorize-failure counters. Not scoped
    /// by tenant: the tenant is what these lookups find.
    pub trait AuthStore implemented by implement_auth_store {
        /// The application registered under a public api_key, revoked or
        /// not.
        read application_by_key(api_key: String) -> Option<ApplicationCredentials>
            = auth::application_by_key;
        /// Stores a token's hash. At most `keep_live` unrevoked tokens of
        /// the application remain: older ones are revoked in the same
        /// transaction.
        write insert_access_token(token: NewAccessToken, keep_live: u32) -> AccessTokenId
            = auth::insert_access_token;
        /// A token by its hash, joined with its application and provider.
        statement access_token(token_hash: Vec<u8>) -> Option<TokenRecord>
            = auth::access_token;
        /// The failure counts of each scope in the window starting at
        /// `window_start` (seconds since the epoch), in the order given.
        read auth_failures(scopes: Vec<String>, window_start: i64) -> Vec<u64>
            = auth::auth_failures;
        /// Counts one attempt in each scope and answers the counts with
        /// it, in the order given, atomically (concurrent attempts each
        /// see the ones before them); forgets older windows.
        write claim_auth_attempt(scopes: Vec<String>, window_start: i64) -> Vec<u64>
            = auth::claim_auth_attempt;
        /// Takes back one attempt in each scope (it succeeded: no failure).
        write forgive_auth_attempt(scopes: Vec<String>, window_start: i64) -> ()
            = auth::forgive_auth_attempt;
    }
}

crate::store_role! {
    /// Tickets and the records they are about, always within one provider.
    pub trait TicketStore implemented by implement_ticket_store {
        /// Ordered by id; filters and paging as the query says.
        custom_stream tickets(provider: ProviderId, query: TicketQuery) -> Ticket;
        custom_stream residents(provider: ProviderId, page: Option<Page>) -> Resident;
        statement categories(provider: ProviderId) -> Vec<Category>
            = ticket_reads::categories;
        /// The ticket with its ratings, comments and attachment metadata,
        /// read from one snapshot.
        custom ticket_detail(provider: ProviderId, ticket: TicketId) -> Option<TicketDetail>;
        statement attachment(provider: ProviderId, attachment: AttachmentId)
            -> Option<Attachment> = ticket_reads::attachment;
        read status_history(provider: ProviderId, ticket: TicketId) -> Vec<StatusChange>
            = ticket_reads::status_history;
        /// Stores the ticket with its ratings, comments, attachments and
        /// first history entry. `NotFound` for a resident or category of
        /// another provider.
        custom create_ticket(provider: ProviderId, ticket: NewTicket, context: WriteContext)
            -> Written<TicketId>;
        /// Adds a comment and moves the ticket's `updated_at` (never
        /// backwards).
        custom create_comment(
            provider: ProviderId,
            ticket: TicketId,
            comment: NewComment,
            context: WriteContext,
        ) -> Written<CommentId>;
        /// Adds files to a ticket and moves its `updated_at` (never
        /// backwards); answers the ticket's id.
        custom add_attachments(
            provider: ProviderId,
            ticket: TicketId,
            attachments: Vec<NewAttachment>,
            at: DateTime<Utc>,
            context: WriteContext,
        ) -> Written<TicketId>;
        /// Moves a ticket to a status and records the change; setting the
        /// status it already has changes and records nothing.
        custom update_status(provider: ProviderId, update: StatusUpdate, context: WriteContext)
            -> Written<TicketId>;
    }
}

crate::store_role! {
    /// The hash-chained audit trail (see `audit`).
    pub trait AuditStore implemented by implement_audit_store {
        /// Chains and appends one entry to one of this store's own chains;
        /// resolves once it is durable. Entries of concurrent calls share
        /// one commit, and appends never wait on another instance's.
        custom append_audit(entry: AuditEntry) -> ();
        /// Every entry of every chain in the order they were written.
        stream audit_entries() -> AuditRecord = audit::entries;
        /// Every chain's anchor, by chain id.
        read audit_chains() -> Vec<ChainAnchor> = audit::chains;
        /// One chain's entries in chain order, up to `through_seq` (its
        /// anchor's head when the anchor was read: later appends are left
        /// out).
        stream chain_entries(chain_id: i64, through_seq: i64) -> AuditRecord
            = audit::chain_entries;
        /// Removes entries older than `before` from every chain, keeping
        /// each verifiable from its first remaining entry; returns how
        /// many, and appends `audit` (naming the count) after them. A
        /// pruning that removes nothing appends nothing.
        write prune_audit(before: DateTime<Utc>, audit: AuditEntry) -> u64 = audit::prune;
    }
}

crate::store_role! {
    /// What administrators and operators manage. Lists are small and come
    /// whole. Every write appends the audit entry it is given in its own
    /// transaction, naming the records it wrote.
    pub trait OperatorStore implemented by implement_operator_store {
        /// True while no provider exists.
        read is_empty() -> bool = operators::is_empty;
        /// `Duplicate` when a fixed id is taken.
        write create_provider(provider: NewProvider, audit: AuditEntry) -> Provider
            = operators::create_provider;
        read providers() -> Vec<Provider> = operators::providers;
        read provider(id: ProviderId) -> Option<Provider> = operators::provider;
        /// Sets the country (ISO 3166 alpha-2, checked) the provider's
        /// phone numbers are read in; `NotFound(Provider)` for an unknown
        /// provider.
        write set_provider_country(provider: ProviderId, country: String, audit: AuditEntry)
            -> () = operators::set_provider_country;
        /// `NotFound(Provider)` for an unknown provider.
        write create_employee(employee: NewEmployee, audit: AuditEntry) -> Employee
            = operators::create_employee;
        read employees(provider: ProviderId) -> Vec<Employee> = operators::employees;
        /// `NotFound(Employee)` unless the employee belongs to the
        /// provider; `Duplicate` for a taken api_key.
        write create_application(application: NewApplication, audit: AuditEntry)
            -> Application = operators::create_application;
        read applications(provider: ProviderId) -> Vec<Application>
            = operators::applications;
        /// Revokes the application and every token it holds.
        write revoke_application(
            provider: ProviderId,
            application: ApplicationId,
            at: DateTime<Utc>,
            audit: AuditEntry,
        ) -> Application = operators::revoke_application;
        /// Revokes every live token of an application or of an employee's
        /// applications; returns how many.
        write revoke_tokens(
            provider: ProviderId,
            owner: TokenOwner,
            at: DateTime<Utc>,
            audit: AuditEntry,
        ) -> u64 = operators::revoke_tokens;
        /// Replaces an application's secret hash and revokes its tokens.
        write rotate_secret(
            provider: ProviderId,
            application: ApplicationId,
            secret_hash: Vec<u8>,
            at: DateTime<Utc>,
            audit: AuditEntry,
        ) -> Application = operators::rotate_secret;
        /// Inserts all residents (and their contacts) or none.
        write create_residents(
            provider: ProviderId,
            residents: Vec<NewResident>,
            at: DateTime<Utc>,
            audit: AuditEntry,
        ) -> Vec<ResidentId> = operators::create_residents;
        write create_category(category: NewCategory, audit: AuditEntry) -> Category
            = operators::create_category;
        /// Renames one of the provider's categories (`NotFound(Category)`
        /// for another provider's).
        write rename_category(
            provider: ProviderId,
            category: CategoryId,
            name: String,
            audit: AuditEntry,
        ) -> Category = operators::rename_category;
    }
}

crate::store_role! {
    /// Whole-database copies between backends (see `transfer`).
    pub trait TransferStore implemented by implement_transfer_store {
        /// Every record of every table, in `Table::ALL` order and by
        /// primary key within a table, read from one consistent snapshot.
        stream export() -> Record = transfer::export;
        /// Writes records, keeping their ids, into an empty database in
        /// one transaction. Emptiness is checked inside that transaction,
        /// so of two racing imports one writes and the other gets
        /// `NotEmpty`. (Unaudited by itself: what it writes is a copy,
        /// audit trail included, whose move was audited at its source
        /// before the copy began.)
        write import(records: RowStream<Record>) -> u64 = transfer::import;
    }
}

crate::store_role! {
    /// Residents' contacts, providers' notification policies, and the
    /// outbox. Notifications themselves are recorded by the ticket writes
    /// that cause them, in their own transactions.
    pub trait NotificationStore implemented by implement_notification_store {
        /// `NotFound(Resident)` unless the resident is the provider's.
        write create_contact(provider: ProviderId, contact: NewContact, audit: AuditEntry)
            -> Contact = contacts::create_contact;
        /// A resident's contacts (or every contact of the provider), by id.
        read contacts(provider: ProviderId, resident: Option<ResidentId>) -> Vec<Contact>
            = contacts::contacts;
        /// Removes a contact; its past notifications stay.
        write delete_contact(provider: ProviderId, contact: ContactId, audit: AuditEntry) -> ()
            = contacts::delete_contact;
        /// Replaces a contact's role, name, addresses and consents
        /// (`NotFound(Contact)` unless it is the provider's and the same
        /// resident's); its past notifications keep what they were sent
        /// to.
        write update_contact(
            provider: ProviderId,
            contact: ContactId,
            new: NewContact,
            audit: AuditEntry,
        ) -> () = contacts::update_contact;
        /// The provider's policy, or the default when none was set.
        read notify_policy(provider: ProviderId) -> NotifyPolicy = contacts::notify_policy;
        write set_notify_policy(provider: ProviderId, policy: NotifyPolicy, audit: AuditEntry)
            -> () = contacts::set_notify_policy;
        /// Leases up to `limit` due, pending notifications on these
        /// channels to `owner` until `lease_until`, oldest first. A
        /// notification leased by another owner whose lease has not run
        /// out is never handed out, so no two dispatchers (on any
        /// instance) send the same one at once.
        write claim_notifications(
            channels: Vec<Channel>,
            owner: String,
            now: DateTime<Utc>,
            lease_until: DateTime<Utc>,
            limit: u32,
        ) -> Vec<Claimed> = notifications::claim;
        /// Stores the acknowledgment links of claimed notifications (each
        /// token's hash, and when it expires unless it already has an
        /// expiry) before they are sent, so that a link works the moment
        /// its message arrives. Only notifications `owner` holds.
        write publish_ack_links(owner: String, links: Vec<AckLinkRecord>) -> ()
            = notifications::publish_ack_links;
        /// Records an attempt with its audit entry, in one transaction, if
        /// `attempt.owner` still holds the lease (false otherwise: someone
        /// else took it over). A delivery sets the ticket's `sent_to_*`
        /// field of the contact's role.
        write record_attempt(attempt: Attempt, audit: AuditEntry) -> bool
            = notifications::record_attempt;
        /// Gives back the leases `owner` holds, so that another instance
        /// sends those notifications at once instead of after the lease;
        /// answers how many.
        write release_notification_claims(owner: String) -> u64
            = notifications::release_claims;
        /// Notes on pending notifications of a channel that no transport
        /// sends why they wait; returns how many it marked.
        write hold_notifications(channel: Channel, reason: String) -> u64
            = notifications::hold;
        read notifications(filter: NotificationFilter) -> Vec<Notification>
            = notifications::list;
        /// Makes a failed or pending notification due now, with a fresh
        /// count of attempts. `provider`: only one of this provider's
        /// (another's is `NotFound`).
        write retry_notification(
            id: NotificationId,
            provider: Option<ProviderId>,
            now: DateTime<Utc>,
            audit: AuditEntry,
        ) -> Notification = notifications::retry;
        /// Applies a gateway's report to the SMS notification it sent as
        /// `external_id`, and appends `audit` (naming the notification,
        /// or `not_found`) in the same transaction.
        write record_gateway_status(
            external_id: String,
            reported: ReportedStatus,
            at: DateTime<Utc>,
            audit: AuditEntry,
        ) -> () = notifications::gateway_status;
    }
}

crate::store_role! {
    /// Acknowledgments and escalation. Each write is one transaction with
    /// the audit entry it is given.
    pub trait EscalationStore implemented by implement_escalation_store {
        /// The provider's rules: the defaults, overridden urgency by
        /// urgency.
        read escalation_policy(provider: ProviderId) -> EscalationPolicy
            = escalations::policy;
        /// Sets one urgency's rule; `None`: that urgency needs no answer.
        write set_escalation_rule(
            provider: ProviderId,
            urgency_status_id: i64,
            rule: Option<EscalationRule>,
            audit: AuditEntry,
        ) -> () = escalations::set_rule;
        write create_provider_contact(contact: ProviderContact, audit: AuditEntry)
            -> ProviderContact = escalations::create_staff;
        read provider_contacts(provider: ProviderId) -> Vec<ProviderContact>
            = escalations::staff;
        /// A ticket's escalation with the levels it took; `None` when its
        /// notifications never needed an answer (or it is another
        /// provider's).
        read ticket_escalation(provider: ProviderId, ticket: TicketId)
            -> Option<TicketEscalation> = escalations::of_ticket_with_steps;
        write delete_provider_contact(provider: ProviderId, contact: ContactId, audit: AuditEntry)
            -> () = escalations::delete_staff;
        /// Takes the next level of up to `limit` escalations due at `now`,
        /// in one transaction: each level's notifications, its step, its
        /// new deadline and an audit entry (a copy of `audit` naming the
        /// ticket). Escalations another instance is taking are skipped, so
        /// a level is never taken twice.
        custom escalate_due(now: DateTime<Utc>, limit: u32, audit: AuditEntry)
            -> Vec<EscalationStep>;
        /// The notification an acknowledgment link points to, for its
        /// page.
        read ack_target(token_hash: Vec<u8>, now: DateTime<Utc>)
            -> Result<AckTarget, AckRefusal> = acknowledgments::link_target;
        /// Acknowledges a notification and ends its ticket's escalation,
        /// with `audit` naming what was acknowledged. A refusal (or
        /// `NotFound` for staff) changes nothing and appends nothing.
        write acknowledge(by: AckBy, now: DateTime<Utc>, audit: AuditEntry)
            -> Result<AckTarget, AckRefusal> = acknowledgments::acknowledge;
        /// The provider whose SMS most recently went to `phone`, with how
        /// many of its notifications to that number still wait for an
        /// answer at `now`; none if no provider texted it.
        read sms_correspondent(phone: String, now: DateTime<Utc>) -> Option<SmsCorrespondent>
            = acknowledgments::sms_correspondent;
        /// Gives or withdraws SMS consent for every contact of the provider
        /// with this number (a STOP or START reply); a withdrawal also
        /// cancels the SMS still waiting to go to it. Answers how many
        /// contacts changed; `audit` names them.
        write set_sms_consent(
            provider: ProviderId,
            phone: String,
            consent: bool,
            audit: AuditEntry,
        ) -> u64 = acknowledgments::set_sms_consent;
        /// A page of the provider's notifications, by id.
        read notices(query: NoticeQuery, now: DateTime<Utc>) -> Vec<Notification>
            = acknowledgments::notices;
        /// Notifications queued in `[since, until)` and their tickets'
        /// escalations and steps.
        read notification_history(
            provider: ProviderId,
            since: DateTime<Utc>,
            until: DateTime<Utc>,
        ) -> NotificationHistory = acknowledgments::history;
    }
}

crate::store_role! {
    /// The store as operators watch it: readiness, load, and an orderly
    /// end.
    pub trait HealthStore implemented by implement_health_store {
        /// Asks the database one question, and compares its schema version
        /// with the newest this binary knows.
        custom schema_status() -> SchemaStatus;
        /// Connections and queued writes right now (no database call).
        plain load() -> StoreLoad;
        /// Notifications by delivery state, and escalations still open.
        read notification_counts() -> NotificationCounts = health::notification_counts;
        /// Closes the store's connections once the server has stopped (the
        /// last call of a process: later calls may fail, as PostgreSQL's
        /// do). Other stores on the same database serve on.
        plain close() -> futures::future::BoxFuture<'_, ()>;
    }
}

crate::store_role! {
    /// Console accounts, sessions and the board. Writes that change who
    /// may do what carry their audit entry into their own transaction.
    pub trait ConsoleStore implemented by implement_console_store {
        /// The account with this (lower-cased) address, with its holder.
        read console_account_by_email(email: String) -> Option<AccountHolder>
            = console::account_by_email;
        /// The account whose pending invitation has this hash, unexpired
        /// at `now`.
        read console_account_by_invite(invite_hash: Vec<u8>, now: DateTime<Utc>)
            -> Option<AccountHolder> = console::account_by_invite;
        /// The provider's employees with their accounts (none for an
        /// employee who has no console account), by employee id.
        read console_roster(provider: ProviderId) -> Vec<(Employee, Option<ConsoleAccount>)>
            = console::roster;
        /// Creates or replaces the employee's account (`NotFound(Employee)`
        /// unless the employee is the account's provider's; `Duplicate` for
        /// an address another account has). `end_sessions`: the
        /// employee's open sessions end in the same transaction (a new
        /// password, role or reset must not leave an old browser signed
        /// in).
        write save_console_account(account: ConsoleAccount, end_sessions: bool, audit: AuditEntry)
            -> () = console::save_account;
        /// A new employee with an account, in one transaction.
        write create_console_employee(
            employee: NewEmployee,
            account: ConsoleAccount,
            audit: AuditEntry,
        ) -> EmployeeId = console::create_employee;
        /// Whether the provider asks every account for a second factor.
        write set_console_totp_required(provider: ProviderId, required: bool, audit: AuditEntry)
            -> () = console::set_totp_required;
        /// Opens a session; with a second-factor code's step, only if that
        /// step is later than the account's last (a code is good once):
        /// else nothing is written and the answer is `None`.
        write create_console_session(session: NewSession, audit: AuditEntry)
            -> Option<SessionId> = console::create_session;
        /// Saves the account with its new second factor; `step`, its
        /// enrolment code's, becomes the last one used.
        write enrol_second_factor(account: ConsoleAccount, step: i64, audit: AuditEntry) -> ()
            = console::enrol_second_factor;
        /// Ends every open session of the employee; answers how many.
        write end_sessions_of(employee: EmployeeId, at: DateTime<Utc>, audit: AuditEntry) -> u64
            = console::end_sessions_of;
        /// A session by its token's hash, ended or not.
        read console_session(token_hash: Vec<u8>) -> Option<SessionRecord> = console::session;
        /// Notes a request in the session (its idle clock restarts).
        write touch_console_session(id: SessionId, at: DateTime<Utc>) -> ()
            = console::touch_session;
        /// Ends a session (if still open), with `audit` in the same
        /// transaction.
        write end_console_session(id: SessionId, at: DateTime<Utc>, audit: AuditEntry) -> ()
            = console::end_session;
        /// The provider's open tickets (neither Resolved nor Closed) that
        /// match, most urgent first, then oldest; at most `limit`, and how
        /// many matched in all.
        read board(provider: ProviderId, filter: BoardFilter, limit: u32) -> Board
            = console::board;
        /// One resident of the provider.
        read resident(provider: ProviderId, id: ResidentId) -> Option<Resident>
            = console::resident;
        /// The provider's residents whose first or last name contains
        /// `text` (any case), by last then first name; at most `limit`.
        read search_residents(provider: ProviderId, text: String, limit: u32) -> Vec<Resident>
            = console::search_residents;
        /// Grants a board display, with its pairing code's hash.
        write create_board_display(display: NewDisplay, audit: AuditEntry) -> BoardDisplay
            = displays::create;
        /// The provider's displays, revoked ones too, by id.
        read board_displays(provider: ProviderId) -> Vec<BoardDisplay> = displays::list;
        /// The display whose pairing code has this hash, if still
        /// unpaired, unrevoked and unexpired at `now`.
        read board_display_by_code(code_hash: Vec<u8>, now: DateTime<Utc>)
            -> Option<BoardDisplay> = displays::by_pairing_code;
        /// Spends the pairing code for a device token; false (and nothing
        /// written) if the code was spent, expired or revoked meanwhile.
        write pair_board_display(
            id: DisplayId,
            code_hash: Vec<u8>,
            token_hash: Vec<u8>,
            at: DateTime<Utc>,
            audit: AuditEntry,
        ) -> bool = displays::pair;
        /// The display whose device token has this hash, revoked or not
        /// (so the screen can be told it was revoked).
        read board_display(token_hash: Vec<u8>) -> Option<BoardDisplay> = displays::by_token;
        /// Notes that the display asked (at most once a minute).
        write touch_board_display(id: DisplayId, at: DateTime<Utc>) -> () = displays::touch;
        /// Revokes a display: its token and pairing code stop working at
        /// once. `NotFound(Display)` unless it is the provider's.
        write revoke_board_display(
            provider: ProviderId,
            id: DisplayId,
            at: DateTime<Utc>,
            audit: AuditEntry,
        ) -> BoardDisplay = displays::revoke;
    }
}

crate::store_role! {
    /// The change feed and webhooks (docs/EVENTS.md). Events themselves
    /// are recorded by the writes that cause them, in their transactions.
    /// Every operation on an endpoint is scoped by provider and, when
    /// given, by the application that owns it (another's is `NotFound`).
    pub trait EventStore implemented by implement_event_store {
        /// Publishes up to `limit` settled events (an event's id is its
        /// cursor; published, every event below it has committed or never
        /// will; sequencers on every instance take turns), and queues
        /// their deliveries to the endpoints that want them; answers how
        /// many.
        custom sequence_events(limit: u32, now: DateTime<Utc>) -> u64;
        /// The provider's events after the cursor, oldest first, with the
        /// log's newest and pruned cursors, from one snapshot.
        read event_feed(provider: ProviderId, after: i64, limit: u32) -> EventPage
            = events::feed;
        /// Removes events that occurred before `before` (a prefix of the
        /// feed) and their deliveries; `audit` names the count.
        write prune_events(before: DateTime<Utc>, audit: AuditEntry) -> u64 = events::prune;
        write create_webhook(webhook: NewWebhook, audit: AuditEntry) -> Webhook
            = webhooks::create;
        /// The provider's endpoints (one application's, when given), by id.
        read webhooks(provider: ProviderId, application: Option<ApplicationId>) -> Vec<Webhook>
            = webhooks::list;
        /// Deletes an endpoint with the deliveries still waiting for it.
        write delete_webhook(
            provider: ProviderId,
            application: Option<ApplicationId>,
            webhook: WebhookId,
            at: DateTime<Utc>,
            audit: AuditEntry,
        ) -> () = webhooks::delete;
        /// Replaces the signing secret's salt; the previous one signs too
        /// until `previous_until`.
        write rotate_webhook_secret(
            provider: ProviderId,
            application: Option<ApplicationId>,
            webhook: WebhookId,
            salt: Vec<u8>,
            previous_until: DateTime<Utc>,
            audit: AuditEntry,
        ) -> Webhook = webhooks::rotate;
        /// Queues the provider's events with cursors in the range
        /// for the endpoint again and re-enables it; answers how many.
        write replay_webhook_events(
            provider: ProviderId,
            application: Option<ApplicationId>,
            webhook: WebhookId,
            range: ReplayRange,
            now: DateTime<Utc>,
            audit: AuditEntry,
        ) -> u64 = webhooks::replay;
        /// Leases up to `limit` endpoints with deliveries due to `owner`,
        /// each with its next `per_endpoint` deliveries in feed order.
        write claim_webhooks(
            owner: String,
            now: DateTime<Utc>,
            lease_until: DateTime<Utc>,
            limit: u32,
            per_endpoint: u32,
        ) -> Vec<WebhookBatch> = webhooks::claim;
        /// Records an attempt if `attempt.owner` still holds the endpoint;
        /// one that disables the endpoint appends `audit`.
        write record_webhook_attempt(attempt: WebhookAttempt, audit: AuditEntry)
            -> WebhookRecorded = webhooks::record_attempt;
        /// Gives back an endpoint `owner` holds.
        write release_webhook(webhook: WebhookId, owner: String) -> () = webhooks::release;
        /// Gives back every endpoint `owner` holds (an orderly shutdown),
        /// so another instance delivers at once rather than after the
        /// lease; answers how many.
        write release_webhook_claims(owner: String) -> u64 = webhooks::release_all;
        /// Every live endpoint with its queue, for metrics.
        read webhook_queue() -> Vec<Webhook> = webhooks::queue;
    }
}

crate::store_role! {
    /// The FHIR facade (docs/FHIR.md): its bearer tokens, and searches
    /// that page by id, each scoped by provider.
    pub trait FhirStore implemented by implement_fhir_store {
        /// Stores a FHIR token's hash with its granted scopes; at most
        /// `keep_live` unrevoked FHIR tokens of the application remain.
        /// With a client assertion's claim, in the same transaction:
        /// `Duplicate` when that `jti` was claimed before (expired claims
        /// are forgotten).
        write insert_fhir_token(
            token: NewAccessToken,
            scope: String,
            keep_live: u32,
            assertion: Option<AssertionClaim>,
        ) -> AccessTokenId = fhir::insert_fhir_token;
        /// The public keys (a JWK Set) an application registered for
        /// signed assertions.
        statement fhir_client_keys(application: ApplicationId) -> Option<String>
            = fhir::client_keys;
        /// Registers (or, with `None`, removes) an application's keys;
        /// `NotFound` for another provider's application.
        write set_fhir_client_keys(
            provider: ProviderId,
            application: ApplicationId,
            jwks: Option<String>,
            at: DateTime<Utc>,
            audit: AuditEntry,
        ) -> () = fhir::set_client_keys;
        /// A FHIR token by its hash, joined with its application.
        statement fhir_token(token_hash: Vec<u8>) -> Option<FhirTokenRecord>
            = fhir::fhir_token;
        /// The provider's residents matching the search: the page after
        /// the window's cursor, and how many match, from one snapshot.
        read search_patients(provider: ProviderId, query: PatientSearch)
            -> SearchPage<Resident> = fhir::search_patients;
        /// The provider's tickets matching the search, with their
        /// versions, and how many match, from one snapshot.
        read search_tasks(provider: ProviderId, query: TaskSearch)
            -> SearchPage<Versioned<Ticket>> = fhir::search_tasks;
        /// The provider's residents' contacts in the search's roles.
        read search_contacts(provider: ProviderId, query: ContactSearch)
            -> SearchPage<Contact> = fhir::search_contacts;
        read search_notifications(provider: ProviderId, query: NotificationSearch)
            -> SearchPage<Notification> = fhir::search_notifications;
        /// Each of the provider's applications' keys and audit leave, by id.
        read fhir_access(provider: ProviderId) -> Vec<FhirAccess> = fhir::access;
        /// Whether an administrator allowed the application to read the
        /// audit trail as AuditEvent.
        statement fhir_audit_reader(application: ApplicationId) -> bool = fhir::audit_reader;
        /// Allows (or stops allowing) an application to read the audit
        /// trail; `NotFound` for another provider's application.
        write set_fhir_audit_reader(
            provider: ProviderId,
            application: ApplicationId,
            allowed: bool,
            at: DateTime<Utc>,
            audit: AuditEntry,
        ) -> () = fhir::set_audit_reader;
        /// The provider's audit entries, oldest first, paged by id (no
        /// total: counting would read the whole trail).
        read search_audit(provider: ProviderId, since: Option<DateTime<Utc>>,
            until: Option<DateTime<Utc>>, ids: Option<Vec<i64>>, window: Window)
            -> SearchPage<AuditRecord> = fhir::search_audit;
        /// Attachments' metadata (never their bytes) with their tickets.
        read search_documents(provider: ProviderId, query: DocumentSearch)
            -> SearchPage<DocumentRecord> = fhir::search_documents;
    }
}
