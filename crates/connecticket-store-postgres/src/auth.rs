//! Credentials and tokens.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use crate::rows::{provider, PROVIDER_COLUMNS};
use crate::{internal, Result};
use connecticket_domain::auth::{ApplicationCredentials, NewAccessToken, TokenRecord};
use connecticket_domain::time::{from_epoch, to_epoch};

const APPLICATION_COLUMNS: &str =
    "a.id, a.employee_id, a.api_key, a.secret_hash, a.revoked_at IS NOT NULL";

fn credentials(row: &PgRow, at: usize) -> std::result::Result<ApplicationCredentials, sqlx::Error> {
    Ok(ApplicationCredentials {
        application_id: row.try_get(at)?,
        employee_id: row.try_get(at + 1)?,
        api_key: row.try_get(at + 2)?,
        secret_hash: row.try_get(at + 3)?,
        revoked: row.try_get(at + 4)?,
        provider: provider(row, at + 5)?,
    })
}

pub(crate) async fn application_by_key(
    pool: &PgPool,
    api_key: &str,
) -> Result<Option<ApplicationCredentials>> {
    let row = sqlx::query(&format!(
        "SELECT {APPLICATION_COLUMNS}, {PROVIDER_COLUMNS}
         FROM applications a JOIN providers p ON p.id = a.provider_id
         WHERE a.api_key = $1"
    ))
    .bind(api_key)
    .fetch_optional(pool)
    .await
    .map_err(internal)?;
    row.map(|row| credentials(&row, 0))
        .transpose()
        .map_err(internal)
}

pub(crate) async fn insert_access_token(pool: &PgPool, token: &NewAccessToken) -> Result<i64> {
    sqlx::query(
        "INSERT INTO access_tokens (application_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(token.application_id)
    .bind(&token.token_hash)
    .bind(to_epoch(token.created_at))
    .bind(to_epoch(token.expires_at))
    .fetch_one(pool)
    .await
    .and_then(|row| row.try_get(0))
    .map_err(internal)
}

pub(crate) async fn access_token(pool: &PgPool, token_hash: &[u8]) -> Result<Option<TokenRecord>> {
    let row = sqlx::query(&format!(
        "SELECT t.id, t.expires_at, t.revoked_at IS NOT NULL, {APPLICATION_COLUMNS}, {PROVIDER_COLUMNS}
         FROM access_tokens t
         JOIN applications a ON a.id = t.application_id
         JOIN providers p ON p.id = a.provider_id
         WHERE t.token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await
    .map_err(internal)?;
    row.map(|row| {
        Ok(TokenRecord {
            token_id: row.try_get(0)?,
            expires_at: from_epoch(row.try_get(1)?),
            revoked: row.try_get(2)?,
            application: credentials(&row, 3)?,
        })
    })
    .transpose()
    .map_err(internal)
}
