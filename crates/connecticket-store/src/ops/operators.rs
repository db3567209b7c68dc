//! What administrators and operators manage: providers, employees,
//! applications, residents, categories. Every write appends its audit
//! entry in its own transaction.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::{AuditEntry, RecordRef};
use connecticket_domain::model::{
    Application, ApplicationId, Category, CategoryId, Contact, ContactId, Employee, EmployeeId,
    NewApplication, NewCategory, NewEmployee, NewProvider, NewResident, Provider, ProviderId,
    Resident, ResidentId,
};
use connecticket_domain::store::TokenOwner;
use connecticket_domain::transfer::{StoredApplication, StoredCategory};
use connecticket_domain::{Entity, StoreError};

use super::{audit, require_owned};
use crate::engine::Executor;
use crate::rows;
use crate::sql::{
    execute, exists, fetch_all, fetch_optional, insert_returning_id, insert_unique, Columns, Result,
};

pub(crate) async fn is_empty(tx: &mut dyn Executor) -> Result<bool> {
    Ok(!exists(tx, "SELECT 1 FROM providers LIMIT 1", &[]).await?)
}

/// Inserts a row whose id is fixed or generated; a taken id (or other
/// unique key) is `taken`.
async fn insert_record(
    tx: &mut dyn Executor,
    table: &str,
    columns: Columns<'_>,
    fixed: bool,
    taken: StoreError,
) -> Result<i64> {
    let columns = if fixed {
        columns
    } else {
        columns.without("id")
    };
    let id = insert_unique(tx, table, columns, taken).await?;
    if fixed {
        tx.advance_identity(table).await?;
    }
    Ok(id)
}

fn duplicate(entity: Entity, key: &'static str) -> StoreError {
    StoreError::Duplicate { entity, key }
}

pub(crate) async fn create_provider(
    tx: &mut dyn Executor,
    new: NewProvider,
    audit_entry: AuditEntry,
) -> Result<Provider> {
    let mut provider = Provider {
        id: new.id.unwrap_or(ProviderId(0)),
        name: new.name,
        time_zone: new.time_zone,
        country: new.country,
        created_at: new.created_at,
    };
    let columns = rows::provider_columns(&provider);
    let taken = duplicate(Entity::Provider, "id");
    provider.id =
        ProviderId(insert_record(tx, "providers", columns, new.id.is_some(), taken).await?);
    let mut entry = audit_entry;
    entry.provider_id = Some(provider.id);
    audit::record(tx, entry, []).await?;
    Ok(provider)
}

pub(crate) async fn providers(tx: &mut dyn Executor) -> Result<Vec<Provider>> {
    fetch_all(
        tx,
        "SELECT * FROM providers ORDER BY id",
        &[],
        rows::provider,
    )
    .await
}

pub(crate) async fn provider(tx: &mut dyn Executor, id: ProviderId) -> Result<Option<Provider>> {
    fetch_optional(
        tx,
        "SELECT * FROM providers WHERE id = $1",
        &[id.into()],
        rows::provider,
    )
    .await
}

pub(crate) async fn set_provider_country(
    tx: &mut dyn Executor,
    provider: ProviderId,
    country: String,
    audit_entry: AuditEntry,
) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE providers SET country = $2 WHERE id = $1",
        &[provider.into(), country.as_str().into()],
    )
    .await?;
    if changed == 0 {
        return Err(StoreError::NotFound(Entity::Provider));
    }
    audit::record(tx, audit_entry, []).await
}

async fn require_provider(tx: &mut dyn Executor, id: ProviderId) -> Result<()> {
    if exists(tx, "SELECT 1 FROM providers WHERE id = $1", &[id.into()]).await? {
        Ok(())
    } else {
        Err(StoreError::NotFound(Entity::Provider))
    }
}

pub(crate) async fn create_employee(
    tx: &mut dyn Executor,
    new: NewEmployee,
    audit_entry: AuditEntry,
) -> Result<Employee> {
    require_provider(tx, new.provider_id).await?;
    let mut employee = Employee {
        id: new.id.unwrap_or(EmployeeId(0)),
        provider_id: new.provider_id,
        name: new.name,
        email: new.email,
        created_at: new.created_at,
    };
    let columns = rows::employee_columns(&employee);
    let taken = duplicate(Entity::Employee, "id");
    employee.id =
        EmployeeId(insert_record(tx, "employees", columns, new.id.is_some(), taken).await?);
    audit::record(tx, audit_entry, [RecordRef::Employee(employee.id)]).await?;
    Ok(employee)
}

pub(crate) async fn employees(
    tx: &mut dyn Executor,
    provider: ProviderId,
) -> Result<Vec<Employee>> {
    fetch_all(
        tx,
        "SELECT * FROM employees WHERE provider_id = $1 ORDER BY id",
        &[provider.into()],
        rows::employee,
    )
    .await
}

pub(crate) async fn create_application(
    tx: &mut dyn Executor,
    new: NewApplication,
    audit_entry: AuditEntry,
) -> Result<Application> {
    require_owned(
        tx,
        "employees",
        new.employee_id.get(),
        new.provider_id,
        Entity::Employee,
    )
    .await?;
    let stored = StoredApplication {
        id: new.id.unwrap_or(ApplicationId(0)),
        provider_id: new.provider_id,
        employee_id: new.employee_id,
        name: new.name,
        api_key: new.api_key,
        secret_hash: new.secret_hash,
        created_at: new.created_at,
        revoked_at: None,
    };
    let taken = duplicate(Entity::Application, "api_key or id");
    let columns = rows::application_columns(&stored);
    let id =
        ApplicationId(insert_record(tx, "applications", columns, new.id.is_some(), taken).await?);
    audit::record(tx, audit_entry, [RecordRef::Application(id)]).await?;
    application(tx, new.provider_id, id)
        .await?
        .ok_or(StoreError::NotFound(Entity::Application))
}

async fn application(
    tx: &mut dyn Executor,
    provider: ProviderId,
    id: ApplicationId,
) -> Result<Option<Application>> {
    fetch_optional(
        tx,
        "SELECT * FROM applications WHERE id = $1 AND provider_id = $2",
        &[id.into(), provider.into()],
        rows::application,
    )
    .await
}

pub(crate) async fn applications(
    tx: &mut dyn Executor,
    provider: ProviderId,
) -> Result<Vec<Application>> {
    fetch_all(
        tx,
        "SELECT * FROM applications WHERE provider_id = $1 ORDER BY id",
        &[provider.into()],
        rows::application,
    )
    .await
}

pub(crate) async fn revoke_application(
    tx: &mut dyn Executor,
    provider: ProviderId,
    id: ApplicationId,
    at: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<Application> {
    let revoked = execute(
        tx,
        "UPDATE applications SET revoked_at = COALESCE(revoked_at, $3)
         WHERE id = $1 AND provider_id = $2",
        &[id.into(), provider.into(), at.into()],
    )
    .await?;
    if revoked == 0 {
        return Err(StoreError::NotFound(Entity::Application));
    }
    execute(
        tx,
        "UPDATE access_tokens SET revoked_at = $2 WHERE application_id = $1 AND revoked_at IS NULL",
        &[id.into(), at.into()],
    )
    .await?;
    audit::record(tx, audit_entry, [RecordRef::Application(id)]).await?;
    application(tx, provider, id)
        .await?
        .ok_or(StoreError::NotFound(Entity::Application))
}

pub(crate) async fn revoke_tokens(
    tx: &mut dyn Executor,
    provider: ProviderId,
    owner: TokenOwner,
    at: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<u64> {
    let revoked = revoke_live_tokens(tx, provider, owner, at).await?;
    let mut entry = audit_entry;
    entry.records.insert(format!("tokens:{revoked}"));
    audit::record(tx, entry, []).await?;
    Ok(revoked)
}

/// Revokes every live token of an application or of an employee's
/// applications, the API's and the FHIR facade's; returns how many.
async fn revoke_live_tokens(
    tx: &mut dyn Executor,
    provider: ProviderId,
    owner: TokenOwner,
    at: DateTime<Utc>,
) -> Result<u64> {
    let (owner_table, owner_column, id, missing) = match owner {
        TokenOwner::Application(id) => ("applications", "a.id", id.get(), Entity::Application),
        TokenOwner::Employee(id) => ("employees", "a.employee_id", id.get(), Entity::Employee),
    };
    require_owned(tx, owner_table, id, provider, missing).await?;
    let mut revoked = 0;
    for table in ["access_tokens", "fhir_tokens"] {
        let sql = format!(
            "UPDATE {table} SET revoked_at = $3 WHERE revoked_at IS NULL AND application_id IN
                 (SELECT a.id FROM applications a WHERE a.provider_id = $1 AND {owner_column} = $2)"
        );
        revoked += execute(tx, &sql, &[provider.into(), id.into(), at.into()]).await?;
    }
    Ok(revoked)
}

pub(crate) async fn rotate_secret(
    tx: &mut dyn Executor,
    provider: ProviderId,
    id: ApplicationId,
    secret_hash: Vec<u8>,
    at: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<Application> {
    let changed = execute(
        tx,
        "UPDATE applications SET secret_hash = $3 WHERE id = $1 AND provider_id = $2",
        &[id.into(), provider.into(), (&secret_hash).into()],
    )
    .await?;
    if changed == 0 {
        return Err(StoreError::NotFound(Entity::Application));
    }
    revoke_live_tokens(tx, provider, TokenOwner::Application(id), at).await?;
    audit::record(tx, audit_entry, [RecordRef::Application(id)]).await?;
    application(tx, provider, id)
        .await?
        .ok_or(StoreError::NotFound(Entity::Application))
}

pub(crate) async fn create_residents(
    tx: &mut dyn Executor,
    provider: ProviderId,
    residents: Vec<NewResident>,
    at: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<Vec<ResidentId>> {
    require_provider(tx, provider).await?;
    let mut ids = Vec::with_capacity(residents.len());
    for mut new in residents {
        let fixed = new.id;
        let contacts = std::mem::take(&mut new.contacts);
        let resident = Resident::from_new(fixed.unwrap_or(ResidentId(0)), provider, new, at);
        let columns = rows::resident_columns(&resident);
        let taken = duplicate(Entity::Resident, "id");
        let id = ResidentId(insert_record(tx, "residents", columns, fixed.is_some(), taken).await?);
        for contact in contacts {
            let contact = Contact {
                id: ContactId(0),
                provider_id: provider,
                resident_id: id,
                role: contact.role,
                name: contact.name,
                email: contact.email,
                phone: contact.phone,
                email_consent: contact.email_consent,
                sms_consent: contact.sms_consent,
                created_at: resident.created_at,
            };
            insert_returning_id(
                tx,
                "contacts",
                rows::contact_columns(&contact).without("id"),
            )
            .await?;
        }
        let kind = connecticket_domain::events::EventKind::ResidentCreated;
        let event = connecticket_domain::events::NewEvent::resident(provider, kind, id, at);
        super::events::record(tx, event).await?;
        ids.push(id);
    }
    let touched = ids.iter().map(|id| RecordRef::Resident(*id));
    audit::record(tx, audit_entry, touched).await?;
    Ok(ids)
}

pub(crate) async fn create_category(
    tx: &mut dyn Executor,
    new: NewCategory,
    audit_entry: AuditEntry,
) -> Result<Category> {
    require_provider(tx, new.provider_id).await?;
    let stored = StoredCategory {
        id: new.id.unwrap_or(CategoryId(0)),
        provider_id: new.provider_id,
        name: new.name,
        created_at: new.created_at,
    };
    let taken = duplicate(Entity::Category, "id");
    let columns = rows::category_columns(&stored);
    let id = CategoryId(insert_record(tx, "categories", columns, new.id.is_some(), taken).await?);
    audit::record(tx, audit_entry, [RecordRef::Category(id)]).await?;
    Ok(Category {
        id,
        provider_id: stored.provider_id,
        name: stored.name,
    })
}

/// Renames one of the provider's categories (its ratings keep pointing at
/// it).
pub(crate) async fn rename_category(
    tx: &mut dyn Executor,
    provider: ProviderId,
    id: CategoryId,
    name: String,
    audit_entry: AuditEntry,
) -> Result<Category> {
    let changed = execute(
        tx,
        "UPDATE categories SET name = $3 WHERE id = $1 AND provider_id = $2",
        &[id.into(), provider.into(), (&name).into()],
    )
    .await?;
    if changed == 0 {
        return Err(StoreError::NotFound(Entity::Category));
    }
    audit::record(tx, audit_entry, [RecordRef::Category(id)]).await?;
    Ok(Category {
        id,
        provider_id: provider,
        name,
    })
}
