//! Operator writes and lists.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

use crate::rows::{self, iso_date, PROVIDER_COLUMNS};
use crate::{internal, Result};
use connecticket_domain::model::{
    Application, Category, Employee, NewApplication, NewCategory, NewEmployee, NewProvider,
    NewResident, Provider, ProviderId,
};
use connecticket_domain::store::TokenOwner;
use connecticket_domain::time::{from_epoch, now, to_epoch};
use connecticket_domain::{Entity, StoreError};

pub(crate) fn is_empty(conn: &Connection) -> Result<bool> {
    conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM providers)", [], |row| {
        row.get(0)
    })
    .map_err(internal)
}

fn created(fixed: Option<DateTime<Utc>>) -> i64 {
    to_epoch(fixed.unwrap_or_else(now))
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::ConstraintViolation)
    )
}

fn require_provider(conn: &Connection, provider: ProviderId) -> Result<()> {
    let found = conn
        .prepare_cached("SELECT 1 FROM providers WHERE id = ?1")
        .and_then(|mut statement| statement.exists([provider.0]))
        .map_err(internal)?;
    if found {
        Ok(())
    } else {
        Err(StoreError::NotFound(Entity::Provider))
    }
}

pub(crate) fn create_provider(conn: &Connection, new: &NewProvider) -> Result<Provider> {
    conn.execute(
        "INSERT INTO providers (id, name, time_zone, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            new.fixed.id,
            new.name,
            new.time_zone,
            created(new.fixed.created_at)
        ],
    )
    .map_err(|e| duplicate_or_internal(e, "a provider with this id already exists"))?;
    provider(conn, ProviderId(conn.last_insert_rowid()))?
        .ok_or_else(|| StoreError::Internal("the new provider vanished".to_owned()))
}

fn duplicate_or_internal(error: rusqlite::Error, message: &str) -> StoreError {
    if is_unique_violation(&error) {
        StoreError::Conflict(message.to_owned())
    } else {
        internal(error)
    }
}

pub(crate) fn providers(conn: &Connection) -> Result<Vec<Provider>> {
    let mut statement = conn
        .prepare(&format!(
            "SELECT {PROVIDER_COLUMNS} FROM providers p ORDER BY p.id"
        ))
        .map_err(internal)?;
    let rows = statement
        .query_map([], |row| rows::provider(row, 0))
        .map_err(internal)?;
    rows.collect::<rusqlite::Result<_>>().map_err(internal)
}

pub(crate) fn provider(conn: &Connection, id: ProviderId) -> Result<Option<Provider>> {
    conn.query_row(
        &format!("SELECT {PROVIDER_COLUMNS} FROM providers p WHERE p.id = ?1"),
        [id.0],
        |row| rows::provider(row, 0),
    )
    .optional()
    .map_err(internal)
}

pub(crate) fn create_employee(conn: &Connection, new: &NewEmployee) -> Result<Employee> {
    require_provider(conn, new.provider_id)?;
    let created_at = created(new.fixed.created_at);
    conn.execute(
        "INSERT INTO employees (id, provider_id, name, email, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![new.fixed.id, new.provider_id.0, new.name, new.email, created_at],
    )
    .map_err(|e| duplicate_or_internal(e, "an employee with this id already exists"))?;
    Ok(Employee {
        id: conn.last_insert_rowid(),
        provider_id: new.provider_id,
        name: new.name.clone(),
        email: new.email.clone(),
        created_at: from_epoch(created_at),
    })
}

pub(crate) fn employees(conn: &Connection, provider: ProviderId) -> Result<Vec<Employee>> {
    let mut statement = conn
        .prepare(
            "SELECT id, name, email, created_at FROM employees WHERE provider_id = ?1 ORDER BY id",
        )
        .map_err(internal)?;
    let rows = statement
        .query_map([provider.0], |row| {
            Ok(Employee {
                id: row.get(0)?,
                provider_id: provider,
                name: row.get(1)?,
                email: row.get(2)?,
                created_at: from_epoch(row.get(3)?),
            })
        })
        .map_err(internal)?;
    rows.collect::<rusqlite::Result<_>>().map_err(internal)
}

pub(crate) fn create_application(conn: &Connection, new: &NewApplication) -> Result<Application> {
    let employee_found = conn
        .prepare_cached("SELECT 1 FROM employees WHERE id = ?1 AND provider_id = ?2")
        .and_then(|mut statement| statement.exists(params![new.employee_id, new.provider_id.0]))
        .map_err(internal)?;
    if !employee_found {
        return Err(StoreError::NotFound(Entity::Employee));
    }
    let created_at = created(new.fixed.created_at);
    conn.execute(
        "INSERT INTO applications (id, provider_id, employee_id, name, api_key, secret_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new.fixed.id,
            new.provider_id.0,
            new.employee_id,
            new.name,
            new.api_key,
            new.secret_hash,
            created_at
        ],
    )
    .map_err(|e| duplicate_or_internal(e, "this api_key or id is already registered"))?;
    application(conn, new.provider_id, conn.last_insert_rowid())?
        .ok_or_else(|| StoreError::Internal("the new application vanished".to_owned()))
}

fn application_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Application> {
    Ok(Application {
        id: row.get(0)?,
        provider_id: ProviderId(row.get(1)?),
        employee_id: row.get(2)?,
        name: row.get(3)?,
        api_key: row.get(4)?,
        created_at: from_epoch(row.get(5)?),
        revoked_at: row.get::<_, Option<i64>>(6)?.map(from_epoch),
    })
}

const APPLICATION_COLUMNS: &str =
    "id, provider_id, employee_id, name, api_key, created_at, revoked_at";

fn application(conn: &Connection, provider: ProviderId, id: i64) -> Result<Option<Application>> {
    conn.query_row(
        &format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = ?1 AND provider_id = ?2"
        ),
        params![id, provider.0],
        application_row,
    )
    .optional()
    .map_err(internal)
}

pub(crate) fn applications(conn: &Connection, provider: ProviderId) -> Result<Vec<Application>> {
    let mut statement = conn
        .prepare(&format!(
            "SELECT {APPLICATION_COLUMNS} FROM applications WHERE provider_id = ?1 ORDER BY id"
        ))
        .map_err(internal)?;
    let rows = statement
        .query_map([provider.0], application_row)
        .map_err(internal)?;
    rows.collect::<rusqlite::Result<_>>().map_err(internal)
}

pub(crate) fn revoke_application(
    conn: &Connection,
    provider: ProviderId,
    id: i64,
    at: DateTime<Utc>,
) -> Result<Application> {
    let revoked = conn
        .execute(
            "UPDATE applications SET revoked_at = COALESCE(revoked_at, ?3)
             WHERE id = ?1 AND provider_id = ?2",
            params![id, provider.0, to_epoch(at)],
        )
        .map_err(internal)?;
    if revoked == 0 {
        return Err(StoreError::NotFound(Entity::Application));
    }
    conn.execute(
        "UPDATE access_tokens SET revoked_at = ?2 WHERE application_id = ?1 AND revoked_at IS NULL",
        params![id, to_epoch(at)],
    )
    .map_err(internal)?;
    application(conn, provider, id)?.ok_or(StoreError::NotFound(Entity::Application))
}

pub(crate) fn revoke_tokens(
    conn: &Connection,
    provider: ProviderId,
    owner: TokenOwner,
    at: DateTime<Utc>,
) -> Result<u64> {
    let (owner_sql, id, missing) = match owner {
        TokenOwner::Application(id) => ("a.id = ?2", id, Entity::Application),
        TokenOwner::Employee(id) => ("a.employee_id = ?2", id, Entity::Employee),
    };
    let owner_exists = match owner {
        TokenOwner::Application(_) => {
            "SELECT 1 FROM applications WHERE provider_id = ?1 AND id = ?2"
        }
        TokenOwner::Employee(_) => "SELECT 1 FROM employees WHERE provider_id = ?1 AND id = ?2",
    };
    let found = conn
        .prepare(owner_exists)
        .and_then(|mut statement| statement.exists(params![provider.0, id]))
        .map_err(internal)?;
    if !found {
        return Err(StoreError::NotFound(missing));
    }
    let revoked = conn
        .execute(
            &format!(
                "UPDATE access_tokens SET revoked_at = ?3 WHERE revoked_at IS NULL AND application_id IN
                     (SELECT a.id FROM applications a WHERE a.provider_id = ?1 AND {owner_sql})"
            ),
            params![provider.0, id, to_epoch(at)],
        )
        .map_err(internal)?;
    Ok(revoked as u64)
}

pub(crate) fn rotate_secret(
    conn: &Connection,
    provider: ProviderId,
    id: i64,
    secret_hash: &[u8],
    at: DateTime<Utc>,
) -> Result<Application> {
    let changed = conn
        .execute(
            "UPDATE applications SET secret_hash = ?3 WHERE id = ?1 AND provider_id = ?2",
            params![id, provider.0, secret_hash],
        )
        .map_err(internal)?;
    if changed == 0 {
        return Err(StoreError::NotFound(Entity::Application));
    }
    revoke_tokens(conn, provider, TokenOwner::Application(id), at)?;
    application(conn, provider, id)?.ok_or(StoreError::NotFound(Entity::Application))
}

pub(crate) fn create_residents(
    conn: &Connection,
    provider: ProviderId,
    residents: &[NewResident],
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    require_provider(conn, provider)?;
    let mut statement = conn
        .prepare_cached(
            "INSERT INTO residents (id, provider_id, first_name, last_name, dob, email,
                 phone_number, fax_number, home_address1, home_address2, home_city, home_state,
                 home_zip, location, state, in_home_care, demo, resident_type_id, caretracker_id,
                 customer_number, account_number, photo_file_name, photo_content_type,
                 photo_file_size, creator_id, updater_id, review_updates, last_status_update,
                 next_status_update, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21, '', '', 0, 0, 0, NULL, NULL, NULL, ?22, ?22)",
        )
        .map_err(internal)?;
    let mut ids = Vec::with_capacity(residents.len());
    for resident in residents {
        statement
            .execute(params![
                resident.id,
                provider.0,
                resident.first_name,
                resident.last_name,
                iso_date(resident.dob),
                resident.email,
                resident.phone_number,
                resident.fax_number,
                resident.home_address1,
                resident.home_address2,
                resident.home_city,
                resident.home_state,
                resident.home_zip,
                resident.location,
                resident.state,
                resident.in_home_care,
                resident.demo,
                resident.resident_type_id,
                resident.caretracker_id,
                resident.customer_number,
                resident.account_number,
                to_epoch(resident.created_at.unwrap_or(at)),
            ])
            .map_err(|e| duplicate_or_internal(e, "a resident with this id already exists"))?;
        ids.push(conn.last_insert_rowid());
    }
    Ok(ids)
}

pub(crate) fn create_category(conn: &Connection, new: &NewCategory) -> Result<Category> {
    require_provider(conn, new.provider_id)?;
    conn.execute(
        "INSERT INTO categories (id, provider_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            new.fixed.id,
            new.provider_id.0,
            new.name,
            created(new.fixed.created_at)
        ],
    )
    .map_err(|e| duplicate_or_internal(e, "a category with this id already exists"))?;
    Ok(Category {
        id: conn.last_insert_rowid(),
        provider_id: new.provider_id,
        name: new.name.clone(),
    })
}
