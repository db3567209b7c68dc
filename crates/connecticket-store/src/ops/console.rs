//! The console's accounts, sessions and board.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::{AuditEntry, RecordRef};
use connecticket_domain::console::{
    AccountHolder, Board, BoardCard, BoardEscalation, BoardFilter, ConsoleAccount, NewSession,
    SessionId, SessionRecord,
};
use connecticket_domain::model::{
    Employee, EmployeeId, NewEmployee, Provider, ProviderId, Resident, ResidentId,
};
use connecticket_domain::workflow::TicketStatus;
use connecticket_domain::{Entity, StoreError};

use super::{audit, operators, require_owned};
use crate::engine::Executor;
use crate::rows;
use crate::sql::{
    execute, fetch_all, fetch_one, fetch_optional, insert, is_unique_violation, Result,
};
use crate::value::{Row, Value};

/// An account joined with its employee's name, its provider and the
/// provider's console settings.
const HOLDER: &str = "SELECT a.*, e.name AS employee_name, p.name AS provider_name,
        p.time_zone AS provider_time_zone, p.country AS provider_country,
        p.created_at AS provider_created_at,
        COALESCE(s.require_totp, FALSE) AS provider_requires_totp,
        np.callback_phone AS provider_callback_phone
    FROM console_accounts a
    JOIN employees e ON e.id = a.employee_id
    JOIN providers p ON p.id = a.provider_id
    LEFT JOIN console_settings s ON s.provider_id = a.provider_id
    LEFT JOIN notification_policies np ON np.provider_id = a.provider_id";

fn holder(row: &dyn Row) -> Result<AccountHolder> {
    let account = rows::console_account(row)?;
    Ok(AccountHolder {
        provider: Provider {
            id: account.provider_id,
            name: row.get("provider_name")?,
            time_zone: row.get("provider_time_zone")?,
            country: row.get("provider_country")?,
            created_at: row.get("provider_created_at")?,
        },
        employee_name: row.get("employee_name")?,
        provider_requires_totp: row.get("provider_requires_totp")?,
        provider_has_callback: row
            .get::<Option<String>>("provider_callback_phone")?
            .is_some(),
        account,
    })
}

pub(crate) async fn account_by_email(
    tx: &mut dyn Executor,
    email: String,
) -> Result<Option<AccountHolder>> {
    let email = email.as_str();
    let sql = format!("{HOLDER} WHERE a.email = $1");
    fetch_optional(tx, &sql, &[email.into()], holder).await
}

pub(crate) async fn account_by_invite(
    tx: &mut dyn Executor,
    invite_hash: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<Option<AccountHolder>> {
    let invite_hash = invite_hash.as_slice();
    let sql = format!("{HOLDER} WHERE a.invite_hash = $1 AND a.invite_expires_at > $2");
    fetch_optional(tx, &sql, &[invite_hash.into(), now.into()], holder).await
}

pub(crate) async fn roster(
    tx: &mut dyn Executor,
    provider: ProviderId,
) -> Result<Vec<(Employee, Option<ConsoleAccount>)>> {
    let employees = operators::employees(tx, provider).await?;
    let accounts = fetch_all(
        tx,
        "SELECT * FROM console_accounts WHERE provider_id = $1 ORDER BY employee_id",
        &[provider.into()],
        rows::console_account,
    )
    .await?;
    Ok(employees
        .into_iter()
        .map(|employee| {
            let account = accounts
                .iter()
                .find(|account| account.employee_id == employee.id)
                .cloned();
            (employee, account)
        })
        .collect())
}

pub(crate) async fn save_account(
    tx: &mut dyn Executor,
    account: ConsoleAccount,
    end_sessions: bool,
    audit_entry: AuditEntry,
) -> Result<()> {
    require_owned(
        tx,
        "employees",
        account.employee_id.get(),
        account.provider_id,
        Entity::Employee,
    )
    .await?;
    execute(
        tx,
        "DELETE FROM console_accounts WHERE employee_id = $1",
        &[account.employee_id.into()],
    )
    .await?;
    insert_account(tx, &account).await?;
    if end_sessions {
        execute(
            tx,
            "UPDATE console_sessions SET ended_at = $1 WHERE employee_id = $2 AND ended_at IS NULL",
            &[account.updated_at.into(), account.employee_id.into()],
        )
        .await?;
    }
    let employee = RecordRef::Employee(account.employee_id);
    audit::record(tx, audit_entry, [employee]).await
}

async fn insert_account(tx: &mut dyn Executor, account: &ConsoleAccount) -> Result<()> {
    let taken = StoreError::Duplicate {
        entity: Entity::Employee,
        key: "email",
    };
    match insert(
        tx,
        "console_accounts",
        rows::console_account_columns(account),
    )
    .await
    {
        Err(error) if is_unique_violation(&error) => Err(taken),
        other => other,
    }
}

pub(crate) async fn create_employee(
    tx: &mut dyn Executor,
    employee: NewEmployee,
    mut account: ConsoleAccount,
    audit_entry: AuditEntry,
) -> Result<EmployeeId> {
    let created = operators::create_employee(tx, employee, audit_entry).await?;
    account.employee_id = created.id;
    account.provider_id = created.provider_id;
    insert_account(tx, &account).await?;
    Ok(created.id)
}

pub(crate) async fn set_totp_required(
    tx: &mut dyn Executor,
    provider: ProviderId,
    required: bool,
    audit_entry: AuditEntry,
) -> Result<()> {
    execute(
        tx,
        "INSERT INTO console_settings (provider_id, require_totp) VALUES ($1, $2)
         ON CONFLICT (provider_id) DO UPDATE SET require_totp = excluded.require_totp",
        &[provider.into(), required.into()],
    )
    .await?;
    audit::append(tx, vec![audit_entry]).await
}

/// Opens a session. A sign-in with a second-factor code claims the code's
/// step first: a step at or before the account's last is refused (the
/// code was used), and then nothing is written (`None`).
pub(crate) async fn create_session(
    tx: &mut dyn Executor,
    session: NewSession,
    audit_entry: AuditEntry,
) -> Result<Option<SessionId>> {
    if let Some(step) = session.totp_step {
        if !claim_totp_step(tx, session.employee_id, step).await? {
            return Ok(None);
        }
    }
    let id = fetch_one(
        tx,
        "INSERT INTO console_sessions (token_hash, employee_id, provider_id, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
        &[
            session.token_hash.as_slice().into(),
            session.employee_id.into(),
            session.provider_id.into(),
            session.at.into(),
        ],
        |row| row.get("id"),
    )
    .await?;
    audit::append(tx, vec![audit_entry]).await?;
    Ok(Some(SessionId(id)))
}

/// Keeps `step` as the employee's last second-factor step if it is later
/// than the one kept; false when it is not (the code was used already).
async fn claim_totp_step(tx: &mut dyn Executor, employee: EmployeeId, step: i64) -> Result<bool> {
    let claimed = execute(
        tx,
        "INSERT INTO totp_steps (employee_id, last_step) VALUES ($1, $2)
         ON CONFLICT (employee_id) DO UPDATE SET last_step = excluded.last_step
         WHERE totp_steps.last_step < excluded.last_step",
        &[employee.into(), step.into()],
    )
    .await?;
    Ok(claimed == 1)
}

/// Saves the account with its new second factor, whose enrolment code's
/// step becomes the last one used (it cannot then sign in).
pub(crate) async fn enrol_second_factor(
    tx: &mut dyn Executor,
    account: ConsoleAccount,
    step: i64,
    audit_entry: AuditEntry,
) -> Result<()> {
    let employee = account.employee_id;
    save_account(tx, account, false, audit_entry).await?;
    execute(
        tx,
        "INSERT INTO totp_steps (employee_id, last_step) VALUES ($1, $2)
         ON CONFLICT (employee_id) DO UPDATE SET last_step = excluded.last_step",
        &[employee.into(), step.into()],
    )
    .await?;
    Ok(())
}

/// Ends every open session of the employee (signing out everywhere).
pub(crate) async fn end_sessions_of(
    tx: &mut dyn Executor,
    employee: EmployeeId,
    at: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<u64> {
    let ended = execute(
        tx,
        "UPDATE console_sessions SET ended_at = $1 WHERE employee_id = $2 AND ended_at IS NULL",
        &[at.into(), employee.into()],
    )
    .await?;
    audit::append(tx, vec![audit_entry]).await?;
    Ok(ended)
}

pub(crate) async fn session(
    tx: &mut dyn Executor,
    token_hash: Vec<u8>,
) -> Result<Option<SessionRecord>> {
    let token_hash = token_hash.as_slice();
    let sql = "SELECT s.id AS session_id, s.created_at AS session_created_at,
            s.last_seen_at, s.ended_at, s.employee_id
        FROM console_sessions s WHERE s.token_hash = $1";
    let found = fetch_optional(tx, sql, &[token_hash.into()], |row| {
        Ok((
            SessionId(row.get("session_id")?),
            row.get::<DateTime<Utc>>("session_created_at")?,
            row.get::<DateTime<Utc>>("last_seen_at")?,
            row.get::<Option<DateTime<Utc>>>("ended_at")?,
            row.get::<EmployeeId>("employee_id")?,
        ))
    })
    .await?;
    let Some((id, created_at, last_seen_at, ended_at, employee)) = found else {
        return Ok(None);
    };
    let sql = format!("{HOLDER} WHERE a.employee_id = $1");
    // An account removed under a session ends it.
    let Some(holder) = fetch_optional(tx, &sql, &[employee.into()], holder).await? else {
        return Ok(None);
    };
    Ok(Some(SessionRecord {
        id,
        holder,
        created_at,
        last_seen_at,
        ended_at,
    }))
}

pub(crate) async fn touch_session(
    tx: &mut dyn Executor,
    id: SessionId,
    at: DateTime<Utc>,
) -> Result<()> {
    execute(
        tx,
        "UPDATE console_sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1",
        &[at.into(), id.0.into()],
    )
    .await
    .map(|_| ())
}

pub(crate) async fn end_session(
    tx: &mut dyn Executor,
    id: SessionId,
    at: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<()> {
    execute(
        tx,
        "UPDATE console_sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL",
        &[at.into(), id.0.into()],
    )
    .await?;
    audit::append(tx, vec![audit_entry]).await
}

pub(crate) async fn board(
    tx: &mut dyn Executor,
    provider: ProviderId,
    filter: BoardFilter,
    limit: u32,
) -> Result<Board> {
    // Spelled out, not bound, so that the partial index of open tickets
    // (whose condition is this one) serves the query.
    let open = format!(
        "t.ticket_status NOT IN ('{}', '{}')",
        TicketStatus::Resolved.as_str(),
        TicketStatus::Closed.as_str()
    );
    let mut conditions = vec!["t.provider_id = $1".to_owned(), open.clone()];
    let mut args: Vec<Value<'_>> = vec![provider.into()];
    if let Some(resident) = filter.resident {
        args.push(resident.into());
        conditions.push(format!("t.resident_id = ${}", args.len()));
    }
    if let Some(urgency) = filter.urgency {
        args.push(urgency.into());
        conditions.push(format!("t.urgency_status_id = ${}", args.len()));
    }
    if let Some(category) = filter.category {
        args.push(category.into());
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM ticket_categories c WHERE c.ticket_id = t.id AND c.category_id = ${})",
            args.len()
        ));
    }
    if filter.needs_ack {
        conditions.push("e.state = 'active'".to_owned());
    }
    let from = format!(
        "FROM tickets t
         JOIN residents r ON r.id = t.resident_id AND r.provider_id = t.provider_id
         LEFT JOIN escalations e ON e.ticket_id = t.id AND e.provider_id = t.provider_id
         WHERE {}",
        conditions.join(" AND ")
    );
    let total: i64 = fetch_one(tx, &format!("SELECT COUNT(*) AS n {from}"), &args, |row| {
        row.get("n")
    })
    .await?;
    let sql = format!(
        "SELECT t.*, r.first_name AS resident_first_name, r.last_name AS resident_last_name,
                r.dob AS resident_dob, r.location AS resident_location,
                e.state AS escalation_state, e.level AS escalation_level,
                e.next_at AS escalation_next_at
         {from}
         ORDER BY t.urgency_status_id DESC, t.created_at, t.id
         LIMIT {limit}"
    );
    let cards = fetch_all(tx, &sql, &args, |row| {
        let escalation = match row.get("escalation_state")? {
            Some(state) => Some(BoardEscalation {
                state,
                level: row.get("escalation_level")?,
                next_at: row.get("escalation_next_at")?,
            }),
            None => None,
        };
        Ok(BoardCard {
            ticket: rows::ticket(row)?,
            resident_first_name: row.get("resident_first_name")?,
            resident_last_name: row.get("resident_last_name")?,
            resident_dob: row.get("resident_dob")?,
            resident_location: row.get("resident_location")?,
            escalation,
        })
    })
    .await?;
    let all_open = if filter == BoardFilter::default() {
        total
    } else {
        let sql =
            format!("SELECT COUNT(*) AS n FROM tickets t WHERE t.provider_id = $1 AND {open}");
        fetch_one(tx, &sql, &[provider.into()], |row| row.get("n")).await?
    };
    Ok(Board {
        cards,
        total: u64::try_from(total).unwrap_or(0),
        all_open: u64::try_from(all_open).unwrap_or(0),
    })
}

pub(crate) async fn resident(
    tx: &mut dyn Executor,
    provider: ProviderId,
    id: ResidentId,
) -> Result<Option<Resident>> {
    fetch_optional(
        tx,
        "SELECT * FROM residents WHERE id = $1 AND provider_id = $2",
        &[id.into(), provider.into()],
        rows::resident,
    )
    .await
}

/// Residents whose first or last name contains `text` (any case), by
/// last name then first name; every resident for an empty `text`.
/// Words of a resident search beyond these are ignored.
const MAX_SEARCH_WORDS: usize = 6;

pub(crate) async fn search_residents(
    tx: &mut dyn Executor,
    provider: ProviderId,
    text: String,
    limit: u32,
) -> Result<Vec<Resident>> {
    // Every word must match some identifier, so "Harold Mbeki", "mbeki
    // har" and "Mbeki 1938" all find Harold Mbeki.
    let words: Vec<String> = text
        .split_whitespace()
        .take(MAX_SEARCH_WORDS)
        .map(|word| {
            let escaped: String = word
                .to_lowercase()
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            format!("%{escaped}%")
        })
        .collect();
    let mut args: Vec<Value<'_>> = vec![provider.into()];
    let mut conditions = vec!["provider_id = $1".to_owned()];
    for word in words {
        args.push(word.into());
        let n = args.len();
        conditions.push(format!(
            "(LOWER(first_name) LIKE ${n} ESCAPE '\\'
              OR LOWER(COALESCE(last_name, '')) LIKE ${n} ESCAPE '\\'
              OR LOWER(COALESCE(location, '')) LIKE ${n} ESCAPE '\\'
              OR COALESCE(dob, '') LIKE ${n} ESCAPE '\\'
              OR CAST(id AS TEXT) LIKE ${n} ESCAPE '\\')"
        ));
    }
    let sql = format!(
        "SELECT * FROM residents WHERE {}
         ORDER BY LOWER(COALESCE(last_name, '')), LOWER(first_name), id
         LIMIT {limit}",
        conditions.join(" AND ")
    );
    fetch_all(tx, &sql, &args, rows::resident).await
}
