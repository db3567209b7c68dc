//! Operator writes and lists.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::rows::{self, advance_identity, iso_date, PROVIDER_COLUMNS};
use crate::{internal, Result};
use connecticket_domain::model::{
    Application, Category, Employee, Fixed, NewApplication, NewCategory, NewEmployee, NewProvider,
    NewResident, Provider, ProviderId,
};
use connecticket_domain::store::TokenOwner;
use connecticket_domain::time::{from_epoch, now, to_epoch};
use connecticket_domain::{Entity, StoreError};

pub(crate) async fn is_empty(pool: &PgPool) -> Result<bool> {
    sqlx::query("SELECT NOT EXISTS (SELECT 1 FROM providers)")
        .fetch_one(pool)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(internal)
}

fn created(fixed: &Fixed) -> i64 {
    to_epoch(fixed.created_at.unwrap_or_else(now))
}

fn duplicate_or_internal(error: sqlx::Error, message: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(message.to_owned())
        }
        _ => internal(error),
    }
}

/// Inserts with a fixed or generated id (`$1` may be NULL) and returns it;
/// a fixed id moves the table's identity past it.
async fn insert_returning_id(
    conn: &mut PgConnection,
    table: &str,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    fixed_id: Option<i64>,
    duplicate: &str,
) -> Result<i64> {
    let id: i64 = query
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|e| duplicate_or_internal(e, duplicate))?;
    if fixed_id.is_some() {
        advance_identity(conn, table).await.map_err(internal)?;
    }
    Ok(id)
}

async fn require_provider(conn: &mut PgConnection, provider: ProviderId) -> Result<()> {
    let found = sqlx::query("SELECT 1 FROM providers WHERE id = $1")
        .bind(provider.0)
        .fetch_optional(conn)
        .await
        .map_err(internal)?;
    found
        .map(|_| ())
        .ok_or(StoreError::NotFound(Entity::Provider))
}

const NEXT_ID: &str = "COALESCE($1, nextval(pg_get_serial_sequence";

pub(crate) async fn create_provider(pool: &PgPool, new: &NewProvider) -> Result<Provider> {
    let mut tx = pool.begin().await.map_err(internal)?;
    let sql = format!(
        "INSERT INTO providers (id, name, time_zone, created_at)
         VALUES ({NEXT_ID}('providers', 'id'))), $2, $3, $4) RETURNING id"
    );
    let query = sqlx::query(&sql)
        .bind(new.fixed.id)
        .bind(&new.name)
        .bind(&new.time_zone)
        .bind(created(&new.fixed));
    let id = insert_returning_id(
        &mut tx,
        "providers",
        query,
        new.fixed.id,
        "a provider with this id already exists",
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    provider(pool, ProviderId(id))
        .await?
        .ok_or_else(|| StoreError::Internal("the new provider vanished".to_owned()))
}

pub(crate) async fn providers(pool: &PgPool) -> Result<Vec<Provider>> {
    sqlx::query(&format!(
        "SELECT {PROVIDER_COLUMNS} FROM providers p ORDER BY p.id"
    ))
    .fetch_all(pool)
    .await
    .map_err(internal)?
    .iter()
    .map(|row| rows::provider(row, 0))
    .collect::<std::result::Result<_, sqlx::Error>>()
    .map_err(internal)
}

pub(crate) async fn provider(pool: &PgPool, id: ProviderId) -> Result<Option<Provider>> {
    let row = sqlx::query(&format!(
        "SELECT {PROVIDER_COLUMNS} FROM providers p WHERE p.id = $1"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(internal)?;
    row.map(|row| rows::provider(&row, 0))
        .transpose()
        .map_err(internal)
}

pub(crate) async fn create_employee(pool: &PgPool, new: &NewEmployee) -> Result<Employee> {
    let mut tx = pool.begin().await.map_err(internal)?;
    require_provider(&mut tx, new.provider_id).await?;
    let created_at = created(&new.fixed);
    let sql = format!(
        "INSERT INTO employees (id, provider_id, name, email, created_at)
         VALUES ({NEXT_ID}('employees', 'id'))), $2, $3, $4, $5) RETURNING id"
    );
    let query = sqlx::query(&sql)
        .bind(new.fixed.id)
        .bind(new.provider_id.0)
        .bind(&new.name)
        .bind(&new.email)
        .bind(created_at);
    let id = insert_returning_id(
        &mut tx,
        "employees",
        query,
        new.fixed.id,
        "an employee with this id already exists",
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    Ok(Employee {
        id,
        provider_id: new.provider_id,
        name: new.name.clone(),
        email: new.email.clone(),
        created_at: from_epoch(created_at),
    })
}

pub(crate) async fn employees(pool: &PgPool, provider: ProviderId) -> Result<Vec<Employee>> {
    sqlx::query(
        "SELECT id, name, email, created_at FROM employees WHERE provider_id = $1 ORDER BY id",
    )
    .bind(provider.0)
    .fetch_all(pool)
    .await
    .map_err(internal)?
    .iter()
    .map(|row| {
        Ok(Employee {
            id: row.try_get(0)?,
            provider_id: provider,
            name: row.try_get(1)?,
            email: row.try_get(2)?,
            created_at: from_epoch(row.try_get(3)?),
        })
    })
    .collect::<std::result::Result<_, sqlx::Error>>()
    .map_err(internal)
}

const APPLICATION_COLUMNS: &str =
    "id, provider_id, employee_id, name, api_key, created_at, revoked_at";

fn application_row(row: &PgRow) -> std::result::Result<Application, sqlx::Error> {
    Ok(Application {
        id: row.try_get(0)?,
        provider_id: ProviderId(row.try_get(1)?),
        employee_id: row.try_get(2)?,
        name: row.try_get(3)?,
        api_key: row.try_get(4)?,
        created_at: from_epoch(row.try_get(5)?),
        revoked_at: row.try_get::<Option<i64>, _>(6)?.map(from_epoch),
    })
}

async fn application(
    conn: &mut PgConnection,
    provider: ProviderId,
    id: i64,
) -> Result<Option<Application>> {
    let row = sqlx::query(&format!(
        "SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = $1 AND provider_id = $2"
    ))
    .bind(id)
    .bind(provider.0)
    .fetch_optional(conn)
    .await
    .map_err(internal)?;
    row.map(|row| application_row(&row))
        .transpose()
        .map_err(internal)
}

pub(crate) async fn create_application(pool: &PgPool, new: &NewApplication) -> Result<Application> {
    let mut tx = pool.begin().await.map_err(internal)?;
    let employee = sqlx::query("SELECT 1 FROM employees WHERE id = $1 AND provider_id = $2")
        .bind(new.employee_id)
        .bind(new.provider_id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(internal)?;
    if employee.is_none() {
        return Err(StoreError::NotFound(Entity::Employee));
    }
    let sql = format!(
        "INSERT INTO applications (id, provider_id, employee_id, name, api_key, secret_hash, created_at)
         VALUES ({NEXT_ID}('applications', 'id'))), $2, $3, $4, $5, $6, $7) RETURNING id"
    );
    let query = sqlx::query(&sql)
        .bind(new.fixed.id)
        .bind(new.provider_id.0)
        .bind(new.employee_id)
        .bind(&new.name)
        .bind(&new.api_key)
        .bind(&new.secret_hash)
        .bind(created(&new.fixed));
    let id = insert_returning_id(
        &mut tx,
        "applications",
        query,
        new.fixed.id,
        "this api_key or id is already registered",
    )
    .await?;
    let created = application(&mut tx, new.provider_id, id)
        .await?
        .ok_or_else(|| StoreError::Internal("the new application vanished".to_owned()))?;
    tx.commit().await.map_err(internal)?;
    Ok(created)
}

pub(crate) async fn applications(pool: &PgPool, provider: ProviderId) -> Result<Vec<Application>> {
    sqlx::query(&format!(
        "SELECT {APPLICATION_COLUMNS} FROM applications WHERE provider_id = $1 ORDER BY id"
    ))
    .bind(provider.0)
    .fetch_all(pool)
    .await
    .map_err(internal)?
    .iter()
    .map(application_row)
    .collect::<std::result::Result<_, sqlx::Error>>()
    .map_err(internal)
}

pub(crate) async fn revoke_application(
    pool: &PgPool,
    provider: ProviderId,
    id: i64,
    at: DateTime<Utc>,
) -> Result<Application> {
    let mut tx = pool.begin().await.map_err(internal)?;
    let revoked = sqlx::query(
        "UPDATE applications SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND provider_id = $2",
    )
    .bind(id)
    .bind(provider.0)
    .bind(to_epoch(at))
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    if revoked.rows_affected() == 0 {
        return Err(StoreError::NotFound(Entity::Application));
    }
    sqlx::query(
        "UPDATE access_tokens SET revoked_at = $2 WHERE application_id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(to_epoch(at))
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    let application = application(&mut tx, provider, id)
        .await?
        .ok_or(StoreError::NotFound(Entity::Application))?;
    tx.commit().await.map_err(internal)?;
    Ok(application)
}

async fn revoke_tokens_in(
    conn: &mut PgConnection,
    provider: ProviderId,
    owner: TokenOwner,
    at: DateTime<Utc>,
) -> Result<u64> {
    let (owner_exists, owner_sql, id, missing) = match owner {
        TokenOwner::Application(id) => (
            "SELECT 1 FROM applications WHERE provider_id = $1 AND id = $2",
            "a.id = $2",
            id,
            Entity::Application,
        ),
        TokenOwner::Employee(id) => (
            "SELECT 1 FROM employees WHERE provider_id = $1 AND id = $2",
            "a.employee_id = $2",
            id,
            Entity::Employee,
        ),
    };
    let found = sqlx::query(owner_exists)
        .bind(provider.0)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(internal)?;
    if found.is_none() {
        return Err(StoreError::NotFound(missing));
    }
    let revoked = sqlx::query(&format!(
        "UPDATE access_tokens SET revoked_at = $3 WHERE revoked_at IS NULL AND application_id IN
             (SELECT a.id FROM applications a WHERE a.provider_id = $1 AND {owner_sql})"
    ))
    .bind(provider.0)
    .bind(id)
    .bind(to_epoch(at))
    .execute(conn)
    .await
    .map_err(internal)?;
    Ok(revoked.rows_affected())
}

pub(crate) async fn revoke_tokens(
    pool: &PgPool,
    provider: ProviderId,
    owner: TokenOwner,
    at: DateTime<Utc>,
) -> Result<u64> {
    let mut tx = pool.begin().await.map_err(internal)?;
    let revoked = revoke_tokens_in(&mut tx, provider, owner, at).await?;
    tx.commit().await.map_err(internal)?;
    Ok(revoked)
}

pub(crate) async fn rotate_secret(
    pool: &PgPool,
    provider: ProviderId,
    id: i64,
    secret_hash: Vec<u8>,
    at: DateTime<Utc>,
) -> Result<Application> {
    let mut tx = pool.begin().await.map_err(internal)?;
    let changed =
        sqlx::query("UPDATE applications SET secret_hash = $3 WHERE id = $1 AND provider_id = $2")
            .bind(id)
            .bind(provider.0)
            .bind(secret_hash)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
    if changed.rows_affected() == 0 {
        return Err(StoreError::NotFound(Entity::Application));
    }
    revoke_tokens_in(&mut tx, provider, TokenOwner::Application(id), at).await?;
    let application = application(&mut tx, provider, id)
        .await?
        .ok_or(StoreError::NotFound(Entity::Application))?;
    tx.commit().await.map_err(internal)?;
    Ok(application)
}

pub(crate) async fn create_residents(
    pool: &PgPool,
    provider: ProviderId,
    residents: &[NewResident],
    at: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut tx = pool.begin().await.map_err(internal)?;
    require_provider(&mut tx, provider).await?;
    let sql = format!(
        "INSERT INTO residents (id, provider_id, first_name, last_name, dob, email,
             phone_number, fax_number, home_address1, home_address2, home_city, home_state,
             home_zip, location, state, in_home_care, demo, resident_type_id, caretracker_id,
             customer_number, account_number, photo_file_name, photo_content_type,
             photo_file_size, creator_id, updater_id, review_updates, last_status_update,
             next_status_update, created_at, updated_at)
         VALUES ({NEXT_ID}('residents', 'id'))), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
             $13, $14, $15, $16, $17, $18, $19, $20, $21, '', '', 0, 0, 0, NULL, NULL, NULL, $22, $22)
         RETURNING id"
    );
    let mut ids = Vec::with_capacity(residents.len());
    let mut any_fixed = false;
    for r in residents {
        any_fixed |= r.id.is_some();
        let id: i64 = sqlx::query(&sql)
            .bind(r.id)
            .bind(provider.0)
            .bind(&r.first_name)
            .bind(&r.last_name)
            .bind(iso_date(r.dob))
            .bind(&r.email)
            .bind(&r.phone_number)
            .bind(&r.fax_number)
            .bind(&r.home_address1)
            .bind(&r.home_address2)
            .bind(&r.home_city)
            .bind(&r.home_state)
            .bind(&r.home_zip)
            .bind(&r.location)
            .bind(&r.state)
            .bind(r.in_home_care)
            .bind(r.demo)
            .bind(r.resident_type_id)
            .bind(&r.caretracker_id)
            .bind(&r.customer_number)
            .bind(&r.account_number)
            .bind(to_epoch(r.created_at.unwrap_or(at)))
            .fetch_one(&mut *tx)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(|e| duplicate_or_internal(e, "a resident with this id already exists"))?;
        ids.push(id);
    }
    if any_fixed {
        advance_identity(&mut tx, "residents")
            .await
            .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)?;
    Ok(ids)
}

pub(crate) async fn create_category(pool: &PgPool, new: &NewCategory) -> Result<Category> {
    let mut tx = pool.begin().await.map_err(internal)?;
    require_provider(&mut tx, new.provider_id).await?;
    let sql = format!(
        "INSERT INTO categories (id, provider_id, name, created_at)
         VALUES ({NEXT_ID}('categories', 'id'))), $2, $3, $4) RETURNING id"
    );
    let query = sqlx::query(&sql)
        .bind(new.fixed.id)
        .bind(new.provider_id.0)
        .bind(&new.name)
        .bind(created(&new.fixed));
    let id = insert_returning_id(
        &mut tx,
        "categories",
        query,
        new.fixed.id,
        "a category with this id already exists",
    )
    .await?;
    tx.commit().await.map_err(internal)?;
    Ok(Category {
        id,
        provider_id: new.provider_id,
        name: new.name.clone(),
    })
}
