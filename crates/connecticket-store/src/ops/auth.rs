//! Credentials, tokens and the authorize-failure counters.

use connecticket_domain::auth::{ApplicationCredentials, NewAccessToken, TokenRecord};
use connecticket_domain::model::AccessTokenId;
use connecticket_domain::transfer::StoredToken;

use crate::engine::Executor;
use crate::rows;
use crate::sql::{execute, fetch_all, fetch_optional, insert_returning_id, Result};
use crate::value::Row;

/// An application's credentials with its provider; the provider's columns
/// are aliased so that they cannot be mistaken for the application's.
pub(super) const CREDENTIALS: &str =
    "a.id AS application_id, a.employee_id, a.api_key, a.secret_hash, \
    a.revoked_at AS application_revoked_at, p.id, p.name, p.time_zone, p.country,
    p.created_at";

pub(super) fn credentials(row: &dyn Row) -> Result<ApplicationCredentials> {
    let revoked_at: Option<i64> = row.get("application_revoked_at")?;
    Ok(ApplicationCredentials {
        application_id: row.get("application_id")?,
        provider: rows::provider(row)?,
        employee_id: row.get("employee_id")?,
        api_key: row.get("api_key")?,
        secret_hash: row.get("secret_hash")?,
        revoked: revoked_at.is_some(),
    })
}

pub(crate) async fn application_by_key(
    tx: &mut dyn Executor,
    api_key: String,
) -> Result<Option<ApplicationCredentials>> {
    let api_key = api_key.as_str();
    let sql = format!(
        "SELECT {CREDENTIALS} FROM applications a JOIN providers p ON p.id = a.provider_id
         WHERE a.api_key = $1"
    );
    fetch_optional(tx, &sql, &[api_key.into()], credentials).await
}

pub(crate) async fn insert_access_token(
    tx: &mut dyn Executor,
    token: NewAccessToken,
    keep_live: u32,
) -> Result<AccessTokenId> {
    let token = &token;
    // Authorizations of one application take turns on its row, so their
    // revocations of its oldest tokens never cross each other.
    let lock = format!(
        "SELECT id FROM applications WHERE id = $1{}",
        tx.dialect().for_update()
    );
    fetch_optional(tx, &lock, &[token.application_id.into()], |row| {
        row.get::<i64>("id")
    })
    .await?;
    let stored = StoredToken {
        id: AccessTokenId(0),
        application_id: token.application_id,
        token_hash: token.token_hash.clone(),
        created_at: token.created_at,
        expires_at: token.expires_at,
        revoked_at: None,
    };
    let columns = rows::token_columns(&stored).without("id");
    let id = insert_returning_id(tx, "access_tokens", columns).await?;
    keep_newest_live(tx, "access_tokens", token, keep_live).await?;
    Ok(AccessTokenId(id))
}

/// Revokes the application's tokens in `table` beyond the newest
/// `keep_live` (the one just issued among them), so that minting tokens
/// never accumulates live credentials.
pub(super) async fn keep_newest_live(
    tx: &mut dyn Executor,
    table: &str,
    token: &NewAccessToken,
    keep_live: u32,
) -> Result<()> {
    let sql = format!(
        "UPDATE {table} SET revoked_at = $3
         WHERE application_id = $1 AND revoked_at IS NULL AND id NOT IN
             (SELECT id FROM {table} WHERE application_id = $1 AND revoked_at IS NULL
              ORDER BY id DESC LIMIT $2)"
    );
    execute(
        tx,
        &sql,
        &[
            token.application_id.into(),
            i64::from(keep_live.max(1)).into(),
            token.created_at.into(),
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn access_token(
    tx: &mut dyn Executor,
    token_hash: Vec<u8>,
) -> Result<Option<TokenRecord>> {
    let token_hash = token_hash.as_slice();
    let sql = format!(
        "SELECT t.id AS token_id, t.expires_at, t.revoked_at AS token_revoked_at, {CREDENTIALS}
         FROM access_tokens t
         JOIN applications a ON a.id = t.application_id
         JOIN providers p ON p.id = a.provider_id
         WHERE t.token_hash = $1"
    );
    fetch_optional(tx, &sql, &[token_hash.into()], |row| {
        let token_revoked: Option<i64> = row.get("token_revoked_at")?;
        let application = credentials(row)?;
        Ok(TokenRecord {
            token_id: row.get("token_id")?,
            expires_at: row.get("expires_at")?,
            revoked: token_revoked.is_some() || application.revoked,
            application,
        })
    })
    .await
}

pub(crate) async fn auth_failures(
    tx: &mut dyn Executor,
    scopes: Vec<String>,
    window_start: i64,
) -> Result<Vec<u64>> {
    let scopes = scopes.as_slice();
    let mut counts = Vec::with_capacity(scopes.len());
    for scope in scopes {
        let found = fetch_all(
            tx,
            "SELECT failures FROM auth_failures WHERE scope = $1 AND window_start = $2",
            &[scope.into(), window_start.into()],
            |row| row.get::<u64>("failures"),
        )
        .await?;
        counts.push(found.into_iter().next().unwrap_or(0));
    }
    Ok(counts)
}

/// Counts one attempt in each scope's window and answers the counts with
/// it, in the order given: one statement, so that concurrent attempts each
/// see the ones before them (an attempt is counted before it is checked,
/// and forgiven only once it succeeded). Older windows are forgotten.
pub(crate) async fn claim_auth_attempt(
    tx: &mut dyn Executor,
    scopes: Vec<String>,
    window_start: i64,
) -> Result<Vec<u64>> {
    let scopes = scopes.as_slice();
    execute(
        tx,
        "DELETE FROM auth_failures WHERE window_start < $1",
        &[window_start.into()],
    )
    .await?;
    if scopes.is_empty() {
        return Ok(Vec::new());
    }
    let rows = (0..scopes.len())
        .map(|n| format!("(${}, $1, 1)", n + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO auth_failures (scope, window_start, failures) VALUES {rows}
         ON CONFLICT (scope, window_start) DO UPDATE SET failures = auth_failures.failures + 1
         RETURNING scope, failures"
    );
    let mut args: Vec<crate::value::Value<'_>> = vec![window_start.into()];
    args.extend(scopes.iter().map(|scope| scope.as_str().into()));
    let counted = fetch_all(tx, &sql, &args, |row| {
        Ok((row.get::<String>("scope")?, row.get::<u64>("failures")?))
    })
    .await?;
    Ok(scopes
        .iter()
        .map(|scope| {
            counted
                .iter()
                .find(|(counted, _)| counted == scope)
                .map_or(0, |(_, count)| *count)
        })
        .collect())
}

/// Takes back an attempt that succeeded: it was no failure.
pub(crate) async fn forgive_auth_attempt(
    tx: &mut dyn Executor,
    scopes: Vec<String>,
    window_start: i64,
) -> Result<()> {
    let scopes = scopes.as_slice();
    if scopes.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE auth_failures SET failures = failures - 1
         WHERE window_start = $1 AND failures > 0 AND scope IN ({})",
        crate::sql::placeholders(2, scopes.len())
    );
    let mut args: Vec<crate::value::Value<'_>> = vec![window_start.into()];
    args.extend(scopes.iter().map(|scope| scope.as_str().into()));
    execute(tx, &sql, &args).await?;
    Ok(())
}
