//! The demo data of the contract: the seed's provider, credentials,
//! residents, categories and tickets, so that the seed's examples work as
//! printed, plus a second provider to try tenant isolation with.
//!
//! Demo data only ever goes into an empty database (or one that already
//! holds exactly this demo), never next to real data.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{DomainError, DomainResult};
use crate::model::{Fixed, NewComment, NewResident, NewTicket, ProviderId};
use crate::service::AdminService;
use crate::time::parse_timestamp;
use crate::workflow::CategoryRating;

pub const DEMO_PROVIDER_ID: i64 = 72_136_196;
pub const DEMO_PROVIDER_NAME: &str = "Example Provider";
pub const DEMO_API_KEY: &str = "8eb68e28cda407158cf9a8064bdd5351";
pub const DEMO_API_SECRET: &str = "b19fszzt9e2z4wpu87r09zy58";
pub const DEMO_EMPLOYEE_ID: i64 = 81_987_870;
pub const DEMO_RESIDENT_IDS: [i64; 2] = [889_283_349, 501_333_996];
/// Clinical Edit, Emergency, Activity Level, Weight Gain. The first three
/// are the ids of the seed's `create_ticket` example (`category_19` …).
pub const DEMO_CATEGORY_IDS: [i64; 4] = [19, 22, 33, 34];
pub const DEMO_TICKET_IDS: [i64; 2] = [201, 202];

pub const SUNRISE_PROVIDER_ID: i64 = 72_136_197;
pub const SUNRISE_PROVIDER_NAME: &str = "Sunrise Home Care";
pub const SUNRISE_API_KEY: &str = "5be1c0de7a9f4e21b3d86c0a4f2e9d17";
pub const SUNRISE_API_SECRET: &str = "k2v8q4w6e1r9t3y7u5i0o2p4a";
pub const SUNRISE_RESIDENT_ID: i64 = 889_283_400;
pub const SUNRISE_CATEGORY_IDS: [i64; 2] = [40, 41];
pub const SUNRISE_TICKET_ID: i64 = 301;

/// What `seed` found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoSeed {
    Seeded,
    AlreadyPresent,
}

fn at(text: &str) -> DomainResult<DateTime<Utc>> {
    parse_timestamp(text).ok_or_else(|| DomainError::Conflict(format!("bad demo timestamp {text}")))
}

fn fixed(id: i64, created: &str) -> DomainResult<Fixed> {
    Ok(Fixed {
        id: Some(id),
        created_at: Some(at(created)?),
    })
}

/// Seeds the demo into an empty database; accepts a database that already
/// holds it; refuses any other.
pub async fn seed(admin: &AdminService) -> DomainResult<DemoSeed> {
    if !admin.store().is_empty().await? {
        let demo = admin.store().provider(ProviderId(DEMO_PROVIDER_ID)).await?;
        return match demo {
            Some(provider) if provider.name == DEMO_PROVIDER_NAME => Ok(DemoSeed::AlreadyPresent),
            _ => Err(DomainError::Conflict(
                "refusing to write demo data into a database that holds other data; \
                 use an empty database for --demo"
                    .to_owned(),
            )),
        };
    }
    seed_example_provider(admin).await?;
    seed_sunrise(admin).await?;
    Ok(DemoSeed::Seeded)
}

const CREATED: &str = "2016/02/07 02:57:51 -0800";

fn seed_resident(
    id: i64,
    first_name: &str,
    resident_type_id: Option<i64>,
) -> DomainResult<NewResident> {
    let mut resident = NewResident::named(first_name);
    resident.id = Some(id);
    resident.dob = NaiveDate::from_ymd_opt(1937, 1, 21);
    resident.home_address1 = Some("123 Mockingbird Lane".to_owned());
    resident.home_address2 = Some(String::new());
    resident.home_city = Some("New York".to_owned());
    resident.home_state = Some("NY".to_owned());
    resident.home_zip = Some("534412".to_owned());
    resident.location = Some("Assisted Living Apt. 204".to_owned());
    resident.resident_type_id = resident_type_id;
    resident.created_at = Some(at(CREATED)?);
    Ok(resident)
}

fn ticket(
    id: i64,
    title: &str,
    resident_id: i64,
    employee_id: i64,
    created: &str,
) -> DomainResult<NewTicket> {
    let mut ticket = NewTicket::draft(title, resident_id, employee_id, at(created)?);
    ticket.id = Some(id);
    Ok(ticket)
}

async fn seed_example_provider(admin: &AdminService) -> DomainResult<()> {
    let provider = admin
        .create_provider(
            DEMO_PROVIDER_NAME,
            "America/Los_Angeles",
            fixed(DEMO_PROVIDER_ID, CREATED)?,
        )
        .await?
        .id;
    let employee = admin
        .create_employee(provider, "Sample", None, fixed(DEMO_EMPLOYEE_ID, CREATED)?)
        .await?
        .id;
    admin
        .register_application(
            provider,
            employee,
            "Demo application",
            DEMO_API_KEY,
            DEMO_API_SECRET,
            Fixed::default(),
        )
        .await?;
    admin
        .create_residents(
            provider,
            vec![
                seed_resident(DEMO_RESIDENT_IDS[0], "Test Case (Provider Type)", None)?,
                seed_resident(DEMO_RESIDENT_IDS[1], "Test Doctor", Some(1_058_366_525))?,
            ],
        )
        .await?;
    for (id, name) in DEMO_CATEGORY_IDS.into_iter().zip([
        "Clinical Edit",
        "Emergency",
        "Activity Level",
        "Weight Gain",
    ]) {
        admin
            .create_category(provider, name, fixed(id, CREATED)?)
            .await?;
    }
    let mut first = ticket(
        DEMO_TICKET_IDS[0],
        "Weight gain of 2 kg this week",
        DEMO_RESIDENT_IDS[1],
        employee,
        "2016/02/11 09:15:00 -0800",
    )?;
    first.ratings = vec![(DEMO_CATEGORY_IDS[3], CategoryRating::PotentialIssue)];
    admin.create_ticket(provider, first).await?;
    // The seed's example ticket, with the two category comments its
    // ticket_detail example shows (made 9 s after the ticket, which is what
    // moved its updated_at).
    let mut example = ticket(
        DEMO_TICKET_IDS[1],
        "Ticket  commment",
        DEMO_RESIDENT_IDS[0],
        employee,
        "2016/02/12 03:00:25 -0800",
    )?;
    example.ratings = vec![
        (DEMO_CATEGORY_IDS[0], CategoryRating::NoIssue),
        (DEMO_CATEGORY_IDS[1], CategoryRating::Issue),
    ];
    let ticket_id = admin.create_ticket(provider, example).await?;
    let commented = at("2016/02/12 03:00:34 -0800")?;
    for (category, text) in [
        (DEMO_CATEGORY_IDS[0], "comment 1"),
        (DEMO_CATEGORY_IDS[1], "comment 2"),
    ] {
        let comment = NewComment {
            category_id: Some(category),
            employee_id: employee,
            body: text.to_owned(),
        };
        admin
            .create_comment(provider, ticket_id, comment, commented)
            .await?;
    }
    Ok(())
}

async fn seed_sunrise(admin: &AdminService) -> DomainResult<()> {
    let created = "2016/03/01 08:00:00 -0500";
    let provider = admin
        .create_provider(
            SUNRISE_PROVIDER_NAME,
            "America/New_York",
            fixed(SUNRISE_PROVIDER_ID, created)?,
        )
        .await?
        .id;
    let employee = admin
        .create_employee(provider, "Sunrise Nurse", None, Fixed::default())
        .await?
        .id;
    admin
        .register_application(
            provider,
            employee,
            "Sunrise application",
            SUNRISE_API_KEY,
            SUNRISE_API_SECRET,
            Fixed::default(),
        )
        .await?;
    let mut resident = NewResident::named("Margaret");
    resident.id = Some(SUNRISE_RESIDENT_ID);
    resident.last_name = Some("Hale".to_owned());
    resident.dob = NaiveDate::from_ymd_opt(1941, 6, 3);
    resident.in_home_care = true;
    resident.created_at = Some(at(created)?);
    admin.create_residents(provider, vec![resident]).await?;
    for (id, name) in SUNRISE_CATEGORY_IDS
        .into_iter()
        .zip(["Fall", "Missed Medication"])
    {
        admin
            .create_category(provider, name, fixed(id, created)?)
            .await?;
    }
    let mut fall = ticket(
        SUNRISE_TICKET_ID,
        "Fall in the kitchen",
        SUNRISE_RESIDENT_ID,
        employee,
        "2016/03/02 10:30:00 -0500",
    )?;
    fall.ratings = vec![(SUNRISE_CATEGORY_IDS[0], CategoryRating::Issue)];
    admin.create_ticket(provider, fall).await?;
    Ok(())
}
