//! Column lists and row mappings shared by the queries.

use chrono::NaiveDate;
use rusqlite::types::Type;
use rusqlite::Row;

use connecticket_domain::model::{Provider, ProviderId, Resident, Ticket};
use connecticket_domain::time::from_epoch;
use connecticket_domain::workflow::{CategoryRating, TicketStatus};

pub(crate) const PROVIDER_COLUMNS: &str = "p.id, p.name, p.time_zone, p.created_at";

pub(crate) fn provider(row: &Row<'_>, at: usize) -> rusqlite::Result<Provider> {
    Ok(Provider {
        id: ProviderId(row.get(at)?),
        name: row.get(at + 1)?,
        time_zone: row.get(at + 2)?,
        created_at: from_epoch(row.get(at + 3)?),
    })
}

pub(crate) const TICKET_COLUMNS: &str = "t.id, t.provider_id, t.title, t.resident_id, \
    t.employee_id, t.urgency_status_id, t.ticket_status, t.ticket_type, t.state, t.sms, \
    t.email, t.sent_to_family, t.sent_to_healthcare_pro, t.sent_to_primary, t.start_date, \
    t.end_date, t.created_at, t.updated_at";

pub(crate) fn ticket(row: &Row<'_>) -> rusqlite::Result<Ticket> {
    Ok(Ticket {
        id: row.get(0)?,
        provider_id: ProviderId(row.get(1)?),
        title: row.get(2)?,
        resident_id: row.get(3)?,
        employee_id: row.get(4)?,
        urgency_status_id: row.get(5)?,
        ticket_status: status(row, 6)?,
        ticket_type: row.get(7)?,
        state: row.get(8)?,
        sms: row.get(9)?,
        email: row.get(10)?,
        sent_to_family: row.get(11)?,
        sent_to_healthcare_pro: row.get(12)?,
        sent_to_primary: row.get(13)?,
        start_date: date(row, 14)?,
        end_date: date(row, 15)?,
        created_at: from_epoch(row.get(16)?),
        updated_at: from_epoch(row.get(17)?),
    })
}

pub(crate) const RESIDENT_COLUMNS: &str = "id, provider_id, first_name, last_name, dob, email, \
    phone_number, fax_number, home_address1, home_address2, home_city, home_state, home_zip, \
    location, state, in_home_care, demo, resident_type_id, caretracker_id, customer_number, \
    account_number, photo_file_name, photo_content_type, photo_file_size, creator_id, \
    updater_id, review_updates, last_status_update, next_status_update, created_at, updated_at";

pub(crate) fn resident(row: &Row<'_>) -> rusqlite::Result<Resident> {
    Ok(Resident {
        id: row.get(0)?,
        provider_id: ProviderId(row.get(1)?),
        first_name: row.get(2)?,
        last_name: row.get(3)?,
        dob: date(row, 4)?,
        email: row.get(5)?,
        phone_number: row.get(6)?,
        fax_number: row.get(7)?,
        home_address1: row.get(8)?,
        home_address2: row.get(9)?,
        home_city: row.get(10)?,
        home_state: row.get(11)?,
        home_zip: row.get(12)?,
        location: row.get(13)?,
        state: row.get(14)?,
        in_home_care: row.get(15)?,
        demo: row.get(16)?,
        resident_type_id: row.get(17)?,
        caretracker_id: row.get(18)?,
        customer_number: row.get(19)?,
        account_number: row.get(20)?,
        photo_file_name: row.get(21)?,
        photo_content_type: row.get(22)?,
        photo_file_size: row.get(23)?,
        creator_id: row.get(24)?,
        updater_id: row.get(25)?,
        review_updates: row.get(26)?,
        last_status_update: row.get::<_, Option<i64>>(27)?.map(from_epoch),
        next_status_update: row.get::<_, Option<i64>>(28)?.map(from_epoch),
        created_at: from_epoch(row.get(29)?),
        updated_at: from_epoch(row.get(30)?),
    })
}

fn corrupt(column: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, what.to_owned().into())
}

pub(crate) fn status(row: &Row<'_>, at: usize) -> rusqlite::Result<TicketStatus> {
    let text: String = row.get(at)?;
    TicketStatus::parse(&text).ok_or_else(|| corrupt(at, "unknown ticket status"))
}

pub(crate) fn optional_status(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<TicketStatus>> {
    match row.get::<_, Option<String>>(at)? {
        Some(text) => TicketStatus::parse(&text)
            .map(Some)
            .ok_or_else(|| corrupt(at, "unknown ticket status")),
        None => Ok(None),
    }
}

pub(crate) fn rating(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<CategoryRating>> {
    match row.get::<_, Option<String>>(at)? {
        Some(text) => CategoryRating::parse(&text)
            .map(Some)
            .ok_or_else(|| corrupt(at, "unknown category rating")),
        None => Ok(None),
    }
}

pub(crate) fn date(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<NaiveDate>> {
    match row.get::<_, Option<String>>(at)? {
        Some(text) => NaiveDate::parse_from_str(&text, ISO_DATE)
            .map(Some)
            .map_err(|_| corrupt(at, "malformed date")),
        None => Ok(None),
    }
}

pub(crate) const ISO_DATE: &str = "%Y-%m-%d";

pub(crate) fn iso_date(date: Option<NaiveDate>) -> Option<String> {
    date.map(|d| d.format(ISO_DATE).to_string())
}
