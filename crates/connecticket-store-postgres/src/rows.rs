//! Column lists and row mappings shared by the queries. The column lists
//! are the SQLite backend's, so both answer identically.

use chrono::NaiveDate;
use sqlx::postgres::PgRow;
use sqlx::Row;

use connecticket_domain::model::{Provider, ProviderId, Resident, Ticket};
use connecticket_domain::time::from_epoch;
use connecticket_domain::workflow::{CategoryRating, TicketStatus};

type Result<T> = std::result::Result<T, sqlx::Error>;

pub(crate) const PROVIDER_COLUMNS: &str = "p.id, p.name, p.time_zone, p.created_at";

pub(crate) fn provider(row: &PgRow, at: usize) -> Result<Provider> {
    Ok(Provider {
        id: ProviderId(row.try_get(at)?),
        name: row.try_get(at + 1)?,
        time_zone: row.try_get(at + 2)?,
        created_at: from_epoch(row.try_get(at + 3)?),
    })
}

pub(crate) const TICKET_COLUMNS: &str = "t.id, t.provider_id, t.title, t.resident_id, \
    t.employee_id, t.urgency_status_id, t.ticket_status, t.ticket_type, t.state, t.sms, \
    t.email, t.sent_to_family, t.sent_to_healthcare_pro, t.sent_to_primary, t.start_date, \
    t.end_date, t.created_at, t.updated_at";

pub(crate) fn ticket(row: &PgRow) -> Result<Ticket> {
    Ok(Ticket {
        id: row.try_get(0)?,
        provider_id: ProviderId(row.try_get(1)?),
        title: row.try_get(2)?,
        resident_id: row.try_get(3)?,
        employee_id: row.try_get(4)?,
        urgency_status_id: row.try_get(5)?,
        ticket_status: status(row, 6)?,
        ticket_type: row.try_get(7)?,
        state: row.try_get(8)?,
        sms: row.try_get(9)?,
        email: row.try_get(10)?,
        sent_to_family: row.try_get(11)?,
        sent_to_healthcare_pro: row.try_get(12)?,
        sent_to_primary: row.try_get(13)?,
        start_date: date(row, 14)?,
        end_date: date(row, 15)?,
        created_at: from_epoch(row.try_get(16)?),
        updated_at: from_epoch(row.try_get(17)?),
    })
}

pub(crate) const RESIDENT_COLUMNS: &str = "id, provider_id, first_name, last_name, dob, email, \
    phone_number, fax_number, home_address1, home_address2, home_city, home_state, home_zip, \
    location, state, in_home_care, demo, resident_type_id, caretracker_id, customer_number, \
    account_number, photo_file_name, photo_content_type, photo_file_size, creator_id, \
    updater_id, review_updates, last_status_update, next_status_update, created_at, updated_at";

pub(crate) fn resident(row: &PgRow) -> Result<Resident> {
    Ok(Resident {
        id: row.try_get(0)?,
        provider_id: ProviderId(row.try_get(1)?),
        first_name: row.try_get(2)?,
        last_name: row.try_get(3)?,
        dob: date(row, 4)?,
        email: row.try_get(5)?,
        phone_number: row.try_get(6)?,
        fax_number: row.try_get(7)?,
        home_address1: row.try_get(8)?,
        home_address2: row.try_get(9)?,
        home_city: row.try_get(10)?,
        home_state: row.try_get(11)?,
        home_zip: row.try_get(12)?,
        location: row.try_get(13)?,
        state: row.try_get(14)?,
        in_home_care: row.try_get(15)?,
        demo: row.try_get(16)?,
        resident_type_id: row.try_get(17)?,
        caretracker_id: row.try_get(18)?,
        customer_number: row.try_get(19)?,
        account_number: row.try_get(20)?,
        photo_file_name: row.try_get(21)?,
        photo_content_type: row.try_get(22)?,
        photo_file_size: row.try_get(23)?,
        creator_id: row.try_get(24)?,
        updater_id: row.try_get(25)?,
        review_updates: row.try_get(26)?,
        last_status_update: row.try_get::<Option<i64>, _>(27)?.map(from_epoch),
        next_status_update: row.try_get::<Option<i64>, _>(28)?.map(from_epoch),
        created_at: from_epoch(row.try_get(29)?),
        updated_at: from_epoch(row.try_get(30)?),
    })
}

fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(what.to_owned().into())
}

pub(crate) fn status(row: &PgRow, at: usize) -> Result<TicketStatus> {
    let text: String = row.try_get(at)?;
    TicketStatus::parse(&text).ok_or_else(|| corrupt("unknown ticket status"))
}

pub(crate) fn optional_status(row: &PgRow, at: usize) -> Result<Option<TicketStatus>> {
    match row.try_get::<Option<String>, _>(at)? {
        Some(text) => TicketStatus::parse(&text)
            .map(Some)
            .ok_or_else(|| corrupt("unknown ticket status")),
        None => Ok(None),
    }
}

pub(crate) fn rating(row: &PgRow, at: usize) -> Result<Option<CategoryRating>> {
    match row.try_get::<Option<String>, _>(at)? {
        Some(text) => CategoryRating::parse(&text)
            .map(Some)
            .ok_or_else(|| corrupt("unknown category rating")),
        None => Ok(None),
    }
}

pub(crate) fn date(row: &PgRow, at: usize) -> Result<Option<NaiveDate>> {
    match row.try_get::<Option<String>, _>(at)? {
        Some(text) => NaiveDate::parse_from_str(&text, ISO_DATE)
            .map(Some)
            .map_err(|_| corrupt("malformed date")),
        None => Ok(None),
    }
}

pub(crate) const ISO_DATE: &str = "%Y-%m-%d";

pub(crate) fn iso_date(date: Option<NaiveDate>) -> Option<String> {
    date.map(|d| d.format(ISO_DATE).to_string())
}

/// After rows were inserted with fixed ids (demo seed, data moves), moves
/// the table's identity past them so generated ids never collide.
pub(crate) async fn advance_identity(
    executor: &mut sqlx::PgConnection,
    table: &str,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
         GREATEST((SELECT MAX(id) FROM {table}), 1))"
    ))
    .execute(executor)
    .await
    .map(|_| ())
}
