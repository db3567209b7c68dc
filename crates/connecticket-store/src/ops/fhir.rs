//! The FHIR facade's tokens and searches. Every search is scoped by the
//! caller's provider and pages by id (keyset), so a page never shifts
//! under concurrent writes: rows written meanwhile land after the cursor.

use connecticket_domain::audit::{AuditEntry, RecordRef};
use connecticket_domain::auth::{NewAccessToken, TokenRecord};
use connecticket_domain::fhir::{
    AssertionClaim, ContactSearch, DayRange, DocumentRecord, DocumentSearch, FhirTokenRecord,
    InstantRange, NotificationSearch, PatientSearch, SearchPage, TaskSearch, Versioned, Window,
};
use connecticket_domain::model::{
    AccessTokenId, ApplicationId, Contact, ProviderId, Resident, Ticket,
};
use connecticket_domain::notify::Notification;
use connecticket_domain::{Entity, StoreError};

use crate::engine::Executor;
use crate::rows;
use crate::sql::{execute, fetch_all, fetch_one, fetch_optional, Columns, Result};
use crate::value::{Row, Value};

pub(crate) async fn insert_fhir_token(
    tx: &mut dyn Executor,
    token: NewAccessToken,
    scope: String,
    keep_live: u32,
    assertion: Option<AssertionClaim>,
) -> Result<AccessTokenId> {
    if let Some(claim) = &assertion {
        execute(
            tx,
            "DELETE FROM fhir_assertions WHERE expires_at < $1",
            &[token.created_at.into()],
        )
        .await?;
        // The first to claim a jti gets it; a replay changes nothing.
        let claimed = execute(
            tx,
            "INSERT INTO fhir_assertions (application_id, jti, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (application_id, jti) DO NOTHING",
            &[
                token.application_id.into(),
                claim.jti.as_str().into(),
                claim.expires_at.into(),
            ],
        )
        .await?;
        if claimed == 0 {
            return Err(StoreError::Duplicate {
                entity: Entity::Application,
                key: "jti",
            });
        }
    }
    let columns = Columns::new()
        .with("application_id", token.application_id)
        .with("token_hash", &token.token_hash)
        .with("scope", &scope)
        .with("created_at", token.created_at)
        .with("expires_at", token.expires_at);
    let id = crate::sql::insert_returning_id(tx, "fhir_tokens", columns).await?;
    super::auth::keep_newest_live(tx, "fhir_tokens", &token, keep_live).await?;
    Ok(AccessTokenId(id))
}

pub(crate) async fn fhir_token(
    tx: &mut dyn Executor,
    token_hash: Vec<u8>,
) -> Result<Option<FhirTokenRecord>> {
    let token_hash = token_hash.as_slice();
    let sql = format!(
        "SELECT t.id AS token_id, t.scope, t.expires_at, t.revoked_at AS token_revoked_at,
                {}
         FROM fhir_tokens t
         JOIN applications a ON a.id = t.application_id
         JOIN providers p ON p.id = a.provider_id
         WHERE t.token_hash = $1",
        super::auth::CREDENTIALS
    );
    fetch_optional(tx, &sql, &[token_hash.into()], |row| {
        let token_revoked: Option<i64> = row.get("token_revoked_at")?;
        let application = super::auth::credentials(row)?;
        Ok(FhirTokenRecord {
            token: TokenRecord {
                token_id: row.get("token_id")?,
                expires_at: row.get("expires_at")?,
                revoked: token_revoked.is_some() || application.revoked,
                application,
            },
            scope: row.get("scope")?,
        })
    })
    .await
}

pub(crate) async fn client_keys(
    tx: &mut dyn Executor,
    application: ApplicationId,
) -> Result<Option<String>> {
    fetch_optional(
        tx,
        "SELECT jwks FROM fhir_client_keys WHERE application_id = $1",
        &[application.into()],
        |row| row.get("jwks"),
    )
    .await
}

pub(crate) async fn set_client_keys(
    tx: &mut dyn Executor,
    provider: ProviderId,
    application: ApplicationId,
    jwks: Option<String>,
    at: chrono::DateTime<chrono::Utc>,
    audit_entry: AuditEntry,
) -> Result<()> {
    super::require_owned(
        tx,
        "applications",
        application.get(),
        provider,
        Entity::Application,
    )
    .await?;
    execute(
        tx,
        "DELETE FROM fhir_client_keys WHERE application_id = $1",
        &[application.into()],
    )
    .await?;
    if let Some(jwks) = &jwks {
        let columns = Columns::new()
            .with("application_id", application)
            .with("jwks", jwks)
            .with("updated_at", at);
        crate::sql::insert(tx, "fhir_client_keys", columns).await?;
    }
    super::audit::record(tx, audit_entry, [RecordRef::Application(application)]).await
}

/// A search's conditions; `$1` is always the provider.
struct Conditions<'a> {
    sql: Vec<String>,
    args: Vec<Value<'a>>,
}

impl<'a> Conditions<'a> {
    fn provider(provider: ProviderId) -> Self {
        Conditions {
            sql: vec!["provider_id = $1".to_owned()],
            args: vec![provider.into()],
        }
    }

    /// Adds `condition`, its `?` standing for `value`'s placeholder.
    fn and(&mut self, condition: &str, value: Value<'a>) {
        self.args.push(value);
        let placeholder = format!("${}", self.args.len());
        self.sql.push(condition.replace('?', &placeholder));
    }

    /// Adds `column IN (…)` over `values`.
    fn any_of(&mut self, column: &str, values: Vec<Value<'a>>) {
        if values.is_empty() {
            self.sql.push("1 = 0".to_owned());
            return;
        }
        let first = self.args.len() + 1;
        let count = values.len();
        self.args.extend(values);
        self.sql.push(format!(
            "{column} IN ({})",
            crate::sql::placeholders(first, count)
        ));
    }

    fn instants(&mut self, column: &str, range: InstantRange) {
        if let Some(from) = range.from {
            self.and(&format!("{column} >= ?"), from.into());
        }
        if let Some(until) = range.until {
            self.and(&format!("{column} < ?"), until.into());
        }
    }

    /// Days are stored as ISO text, which sorts as the days do.
    fn days(&mut self, column: &str, range: DayRange) {
        if let Some(from) = range.from {
            self.and(&format!("{column} >= ?"), Some(from).into());
        }
        if let Some(until) = range.until {
            self.and(&format!("{column} < ?"), Some(until).into());
        }
    }

    fn clause(&self) -> String {
        self.sql.join(" AND ")
    }
}

/// FHIR's string search: the start of the text, ignoring case.
fn starts_with(text: &str) -> String {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("{escaped}%")
}

/// How a search counts its matches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Total {
    Counted,
    /// Counting would read too much (the whole audit trail): 0.
    Skipped,
}

/// Runs a search over `table`: the total, and the page's rows (one more
/// than asked, to know whether more follow).
async fn search<T: Send>(
    tx: &mut dyn Executor,
    table: &str,
    conditions: Conditions<'_>,
    window: Window,
    total: Total,
    map: fn(&dyn Row) -> Result<T>,
) -> Result<SearchPage<T>> {
    let total = match total {
        Total::Counted => {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM {table} WHERE {}",
                conditions.clause()
            );
            let n: i64 = fetch_one(tx, &sql, &conditions.args, |row| row.get("n")).await?;
            u64::try_from(n).unwrap_or_default()
        }
        Total::Skipped => 0,
    };
    let mut conditions = conditions;
    if let Some(after) = window.after {
        conditions.and("id > ?", after.into());
    }
    let limit = i64::from(window.count) + 1;
    conditions.args.push(limit.into());
    let sql = format!(
        "SELECT * FROM {table} WHERE {} ORDER BY id LIMIT ${}",
        conditions.clause(),
        conditions.args.len()
    );
    let mut rows = if window.count == 0 {
        Vec::new()
    } else {
        fetch_all(tx, &sql, &conditions.args, map).await?
    };
    let more = rows.len() > window.count as usize;
    rows.truncate(window.count as usize);
    Ok(SearchPage { rows, more, total })
}

pub(crate) async fn search_patients(
    tx: &mut dyn Executor,
    provider: ProviderId,
    query: PatientSearch,
) -> Result<SearchPage<Resident>> {
    let mut conditions = Conditions::provider(provider);
    if let Some(ids) = &query.ids {
        conditions.any_of("id", ids.iter().map(|id| (*id).into()).collect());
    }
    if let Some(name) = &query.name {
        conditions.and(
            "(LOWER(first_name) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(last_name, '')) LIKE ? ESCAPE '\\')",
            starts_with(name).into(),
        );
    }
    if let Some(family) = &query.family {
        conditions.and(
            "LOWER(COALESCE(last_name, '')) LIKE ? ESCAPE '\\'",
            starts_with(family).into(),
        );
    }
    if let Some(given) = &query.given {
        conditions.and(
            "LOWER(first_name) LIKE ? ESCAPE '\\'",
            starts_with(given).into(),
        );
    }
    if let Some(identifier) = &query.identifier {
        let value: &str = &identifier.value;
        match identifier.system {
            Some(system) => conditions.and(&format!("{} = ?", system.column()), value.into()),
            None => conditions.and(
                "(customer_number = ? OR account_number = ? OR caretracker_id = ?)",
                value.into(),
            ),
        }
    }
    conditions.days("dob", query.birthdate);
    conditions.instants("updated_at", query.last_updated);
    search(
        tx,
        "residents",
        conditions,
        query.window,
        Total::Counted,
        rows::resident,
    )
    .await
}

fn versioned_ticket(row: &dyn Row) -> Result<Versioned<Ticket>> {
    Ok(Versioned {
        value: rows::ticket(row)?,
        version: row.get("version")?,
    })
}

pub(crate) async fn search_tasks(
    tx: &mut dyn Executor,
    provider: ProviderId,
    query: TaskSearch,
) -> Result<SearchPage<Versioned<Ticket>>> {
    let mut conditions = Conditions::provider(provider);
    if let Some(ids) = &query.ids {
        conditions.any_of("id", ids.iter().map(|id| (*id).into()).collect());
    }
    if let Some(patient) = query.patient {
        conditions.and("resident_id = ?", patient.into());
    }
    if !query.statuses.is_empty() {
        let statuses = query.statuses.iter().map(|status| (*status).into());
        conditions.any_of("ticket_status", statuses.collect());
    }
    if !query.urgencies.is_empty() {
        let urgencies = query.urgencies.iter().map(|id| (*id).into());
        conditions.any_of("urgency_status_id", urgencies.collect());
    }
    conditions.instants("updated_at", query.last_updated);
    search(
        tx,
        "tickets",
        conditions,
        query.window,
        Total::Counted,
        versioned_ticket,
    )
    .await
}

pub(crate) async fn search_contacts(
    tx: &mut dyn Executor,
    provider: ProviderId,
    query: ContactSearch,
) -> Result<SearchPage<Contact>> {
    let mut conditions = Conditions::provider(provider);
    if let Some(ids) = &query.ids {
        conditions.any_of("id", ids.iter().map(|id| (*id).into()).collect());
    }
    if let Some(patient) = query.patient {
        conditions.and("resident_id = ?", patient.into());
    }
    let roles = query.roles.iter().map(|role| role.as_str().into());
    conditions.any_of("role", roles.collect());
    search(
        tx,
        "contacts",
        conditions,
        query.window,
        Total::Counted,
        rows::contact,
    )
    .await
}

pub(crate) async fn search_notifications(
    tx: &mut dyn Executor,
    provider: ProviderId,
    query: NotificationSearch,
) -> Result<SearchPage<Notification>> {
    let mut conditions = Conditions::provider(provider);
    if let Some(ids) = &query.ids {
        conditions.any_of("id", ids.iter().map(|id| (*id).into()).collect());
    }
    if let Some(patient) = query.patient {
        conditions.and("resident_id = ?", patient.into());
    }
    if let Some(ticket) = query.ticket {
        conditions.and("ticket_id = ?", ticket.into());
    }
    search(
        tx,
        "notifications",
        conditions,
        query.window,
        Total::Counted,
        rows::notification,
    )
    .await
}

/// Attachments with their ticket's provider and resident, without the
/// bytes: the search runs over this as over a table.
const DOCUMENTS: &str = "(SELECT a.id, a.ticket_id, a.file_name, a.content_type, a.file_size,
        a.created_at, t.resident_id, t.provider_id
    FROM attachments a JOIN tickets t ON t.id = a.ticket_id) documents";

fn document(row: &dyn Row) -> Result<DocumentRecord> {
    Ok(DocumentRecord {
        meta: connecticket_domain::model::AttachmentMeta {
            id: row.get("id")?,
            file_name: row.get("file_name")?,
            content_type: row.get("content_type")?,
            file_size: row.get("file_size")?,
        },
        ticket_id: row.get("ticket_id")?,
        resident_id: row.get("resident_id")?,
        created_at: row.get("created_at")?,
    })
}

pub(crate) async fn search_documents(
    tx: &mut dyn Executor,
    provider: ProviderId,
    query: DocumentSearch,
) -> Result<SearchPage<DocumentRecord>> {
    let mut conditions = Conditions::provider(provider);
    if let Some(ids) = &query.ids {
        conditions.any_of("id", ids.iter().map(|id| (*id).into()).collect());
    }
    if let Some(patient) = query.patient {
        conditions.and("resident_id = ?", patient.into());
    }
    if let Some(ticket) = query.ticket {
        conditions.and("ticket_id = ?", ticket.into());
    }
    search(
        tx,
        DOCUMENTS,
        conditions,
        query.window,
        Total::Counted,
        document,
    )
    .await
}

pub(crate) async fn audit_reader(
    tx: &mut dyn Executor,
    application: ApplicationId,
) -> Result<bool> {
    crate::sql::exists(
        tx,
        "SELECT 1 FROM fhir_audit_readers WHERE application_id = $1",
        &[application.into()],
    )
    .await
}

pub(crate) async fn set_audit_reader(
    tx: &mut dyn Executor,
    provider: ProviderId,
    application: ApplicationId,
    allowed: bool,
    at: chrono::DateTime<chrono::Utc>,
    audit_entry: AuditEntry,
) -> Result<()> {
    super::require_owned(
        tx,
        "applications",
        application.get(),
        provider,
        Entity::Application,
    )
    .await?;
    execute(
        tx,
        "DELETE FROM fhir_audit_readers WHERE application_id = $1",
        &[application.into()],
    )
    .await?;
    if allowed {
        let columns = Columns::new()
            .with("application_id", application)
            .with("granted_at", at);
        crate::sql::insert(tx, "fhir_audit_readers", columns).await?;
    }
    super::audit::record(tx, audit_entry, [RecordRef::Application(application)]).await
}

pub(crate) async fn search_audit(
    tx: &mut dyn Executor,
    provider: ProviderId,
    since: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    ids: Option<Vec<i64>>,
    window: Window,
) -> Result<SearchPage<connecticket_domain::audit::AuditRecord>> {
    let mut conditions = Conditions::provider(provider);
    if let Some(ids) = &ids {
        conditions.any_of("id", ids.iter().map(|id| (*id).into()).collect());
    }
    conditions.instants("at", InstantRange { from: since, until });
    let map = rows::audit_record;
    search(tx, "audit_log", conditions, window, Total::Skipped, map).await
}

pub(crate) async fn access(
    tx: &mut dyn Executor,
    provider: ProviderId,
) -> Result<Vec<connecticket_domain::fhir::FhirAccess>> {
    fetch_all(
        tx,
        "SELECT a.id, k.jwks, r.application_id AS reader
         FROM applications a
         LEFT JOIN fhir_client_keys k ON k.application_id = a.id
         LEFT JOIN fhir_audit_readers r ON r.application_id = a.id
         WHERE a.provider_id = $1 ORDER BY a.id",
        &[provider.into()],
        |row| {
            Ok(connecticket_domain::fhir::FhirAccess {
                application: row.get("id")?,
                jwks: row.get("jwks")?,
                audit_trail: row.get::<Option<i64>>("reader")?.is_some(),
            })
        },
    )
    .await
}
