//! Credentials and tokens.

use rusqlite::{params, Connection, OptionalExtension};

use crate::rows::{provider, PROVIDER_COLUMNS};
use crate::{internal, Result};
use connecticket_domain::auth::{ApplicationCredentials, NewAccessToken, TokenRecord};
use connecticket_domain::time::{from_epoch, to_epoch};

const APPLICATION_COLUMNS: &str =
    "a.id, a.employee_id, a.api_key, a.secret_hash, a.revoked_at IS NOT NULL";

fn credentials(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<ApplicationCredentials> {
    Ok(ApplicationCredentials {
        application_id: row.get(at)?,
        employee_id: row.get(at + 1)?,
        api_key: row.get(at + 2)?,
        secret_hash: row.get(at + 3)?,
        revoked: row.get(at + 4)?,
        provider: provider(row, at + 5)?,
    })
}

pub(crate) fn application_by_key(
    conn: &Connection,
    api_key: &str,
) -> Result<Option<ApplicationCredentials>> {
    conn.prepare_cached(&format!(
        "SELECT {APPLICATION_COLUMNS}, {PROVIDER_COLUMNS}
         FROM applications a JOIN providers p ON p.id = a.provider_id
         WHERE a.api_key = ?1"
    ))
    .and_then(|mut statement| {
        statement
            .query_row([api_key], |row| credentials(row, 0))
            .optional()
    })
    .map_err(internal)
}

pub(crate) fn insert_access_token(conn: &Connection, token: &NewAccessToken) -> Result<i64> {
    conn.execute(
        "INSERT INTO access_tokens (application_id, token_hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            token.application_id,
            token.token_hash,
            to_epoch(token.created_at),
            to_epoch(token.expires_at)
        ],
    )
    .map_err(internal)?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn access_token(conn: &Connection, token_hash: &[u8]) -> Result<Option<TokenRecord>> {
    conn.prepare_cached(&format!(
        "SELECT t.id, t.expires_at, t.revoked_at IS NOT NULL, {APPLICATION_COLUMNS}, {PROVIDER_COLUMNS}
         FROM access_tokens t
         JOIN applications a ON a.id = t.application_id
         JOIN providers p ON p.id = a.provider_id
         WHERE t.token_hash = ?1"
    ))
    .and_then(|mut statement| {
        statement
            .query_row([token_hash], |row| {
                Ok(TokenRecord {
                    token_id: row.get(0)?,
                    expires_at: from_epoch(row.get(1)?),
                    revoked: row.get(2)?,
                    application: credentials(row, 3)?,
                })
            })
            .optional()
    })
    .map_err(internal)
}
