//! The benchmark's data: one provider with its employees, an application,
//! residents, four categories and as many tickets as asked for, each rated
//! in every category, with a comment and its first status; every fiftieth
//! with a small attachment. Imported in one go, as `db move` does, so that
//! a million tickets take minutes rather than hours of API calls.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use connecticket_domain::auth::SecretHasher;
use connecticket_domain::model::{
    ApplicationId, AttachmentId, CategoryId, CommentId, Employee, EmployeeId, NewResident,
    Provider, ProviderId, Resident, ResidentId, Ticket, TicketId,
};
use connecticket_domain::store::{RowStream, Store};
use connecticket_domain::transfer::{
    Record, StoredApplication, StoredAttachment, StoredCategory, StoredComment, StoredRating,
    StoredStatusChange, StoredTicket,
};
use connecticket_domain::workflow::{CategoryRating, TicketStatus, UrgencyStatus};
use futures::StreamExt;

const PROVIDER: ProviderId = ProviderId(1);
const EMPLOYEES: i64 = 20;
const APPLICATION: ApplicationId = ApplicationId(1);
pub const CATEGORIES: [i64; 4] = [1, 2, 3, 4];
/// One ticket in this many carries an attachment.
const ATTACHMENT_EVERY: u64 = 50;
/// The size of each attachment.
pub const ATTACHMENT_BYTES: usize = 2048;
/// Records per imported chunk.
const CHUNK: u64 = 2_000;

/// What the dataset holds, so that calls pick ids that exist.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Shape {
    pub tickets: u64,
    pub residents: u64,
    pub attachments: u64,
}

impl Shape {
    /// A resident per hundred tickets (at least ten).
    pub fn for_tickets(tickets: u64) -> Shape {
        Shape {
            tickets,
            residents: (tickets / 100).max(10),
            attachments: tickets / ATTACHMENT_EVERY,
        }
    }
}

/// The application the benchmark calls as.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub api_key: String,
    pub api_secret: String,
}

impl Credentials {
    pub fn bench() -> Credentials {
        Credentials {
            api_key: "bench-application-key-0000000001".to_owned(),
            api_secret: "bench-application-secret-00000000000000000001".to_owned(),
        }
    }
}

/// Imports the dataset into the (empty) database behind `store`.
pub async fn import(
    store: Arc<dyn Store>,
    hasher: &SecretHasher,
    shape: Shape,
) -> anyhow::Result<u64> {
    let credentials = Credentials::bench();
    let start = Utc::now() - Duration::days(365);
    let mut head = vec![Record::Provider(Provider {
        id: PROVIDER,
        name: "Bench Care Homes".to_owned(),
        time_zone: "America/Los_Angeles".to_owned(),
        country: "US".to_owned(),
        created_at: start,
    })];
    head.extend((1..=EMPLOYEES).map(|id| {
        Record::Employee(Employee {
            id: EmployeeId(id),
            provider_id: PROVIDER,
            name: format!("Nurse {id}"),
            email: None,
            created_at: start,
        })
    }));
    head.push(Record::Application(StoredApplication {
        id: APPLICATION,
        provider_id: PROVIDER,
        employee_id: EmployeeId(1),
        name: "Bench tablet".to_owned(),
        api_key: credentials.api_key.clone(),
        secret_hash: hasher.hash_api_secret(&credentials.api_secret),
        created_at: start,
        revoked_at: None,
    }));
    let head = futures::stream::iter([Ok(head)]);
    let residents = chunked(shape.residents, move |n| resident(n, start));
    let categories = futures::stream::iter([Ok(CATEGORIES
        .iter()
        .map(|&id| {
            Record::Category(StoredCategory {
                id: CategoryId(id),
                provider_id: PROVIDER,
                name: ["Falls", "Weight", "Medication", "Emergency"][(id - 1) as usize].to_owned(),
                created_at: start,
            })
        })
        .collect())]);
    let tickets = chunked(shape.tickets, move |n| ticket(n, shape, start));
    let ratings = chunked(shape.tickets * CATEGORIES.len() as u64, rating);
    let comments = chunked(shape.tickets, move |n| comment(n, start));
    let attachments = chunked(shape.attachments, move |n| attachment(n, start));
    let history = chunked(shape.tickets, move |n| first_status(n, start));
    let records: RowStream<Record> = head
        .chain(residents)
        .chain(categories)
        .chain(tickets)
        .chain(ratings)
        .chain(comments)
        .chain(attachments)
        .chain(history)
        .boxed();
    Ok(store.import(records).await?)
}

/// `count` records made by `make(1..=count)`, in chunks.
fn chunked(
    count: u64,
    make: impl Fn(u64) -> Record + Send + Sync + 'static,
) -> futures::stream::BoxStream<'static, connecticket_domain::error::StoreResult<Vec<Record>>> {
    let make = Arc::new(make);
    futures::stream::iter((0..count.div_ceil(CHUNK)).map(move |chunk| {
        let first = chunk * CHUNK + 1;
        let last = (first + CHUNK - 1).min(count);
        Ok((first..=last).map(|n| make(n)).collect())
    }))
    .boxed()
}

fn at(start: DateTime<Utc>, n: u64) -> DateTime<Utc> {
    start + Duration::seconds(n as i64 * 10)
}

fn resident(n: u64, start: DateTime<Utc>) -> Record {
    let mut new = NewResident::named(format!("Resident {n}"));
    new.last_name = Some(format!("Family {}", n % 97));
    new.location = Some(format!("Room {}", n % 400));
    Record::Resident(Box::new(Resident::from_new(
        ResidentId(n as i64),
        PROVIDER,
        new,
        start,
    )))
}

fn ticket(n: u64, shape: Shape, start: DateTime<Utc>) -> Record {
    let created = at(start, n);
    Record::Ticket(Box::new(StoredTicket {
        ticket: Ticket {
            id: TicketId(n as i64),
            provider_id: PROVIDER,
            title: format!("Change of condition {n}: weight gain of 2 kg this week"),
            resident_id: ResidentId((n % shape.residents + 1) as i64),
            employee_id: EmployeeId((n % EMPLOYEES as u64 + 1) as i64),
            urgency_status_id: UrgencyStatus::DEFAULT.id,
            ticket_status: TicketStatus::New,
            ticket_type: None,
            state: false,
            sms: None,
            email: None,
            sent_to_family: None,
            sent_to_healthcare_pro: None,
            sent_to_primary: None,
            start_date: None,
            end_date: None,
            created_at: created,
            updated_at: created,
        },
        application_id: Some(APPLICATION),
        version: 1,
    }))
}

fn rating(n: u64) -> Record {
    let ticket = (n - 1) / CATEGORIES.len() as u64 + 1;
    let category = (n - 1) % CATEGORIES.len() as u64;
    let status = [
        CategoryRating::NoIssue,
        CategoryRating::Issue,
        CategoryRating::PotentialIssue,
    ][(n % 3) as usize];
    Record::TicketCategory(StoredRating {
        ticket_id: TicketId(ticket as i64),
        category_id: CategoryId(CATEGORIES[category as usize]),
        status,
    })
}

fn comment(n: u64, start: DateTime<Utc>) -> Record {
    Record::Comment(StoredComment {
        id: CommentId(n as i64),
        ticket_id: TicketId(n as i64),
        category_id: Some(CategoryId(CATEGORIES[(n % 4) as usize])),
        employee_id: EmployeeId((n % EMPLOYEES as u64 + 1) as i64),
        body: "Seen by the night nurse; family informed.".to_owned(),
        created_at: at(start, n),
    })
}

fn attachment(n: u64, start: DateTime<Utc>) -> Record {
    Record::Attachment(StoredAttachment {
        id: AttachmentId(n as i64),
        ticket_id: TicketId((n * ATTACHMENT_EVERY) as i64),
        file_name: format!("photo-{n}.jpg"),
        content_type: "image/jpeg".to_owned(),
        file_size: ATTACHMENT_BYTES as i64,
        data: Bytes::from(vec![(n % 251) as u8; ATTACHMENT_BYTES]),
        created_at: at(start, n * ATTACHMENT_EVERY),
    })
}

fn first_status(n: u64, start: DateTime<Utc>) -> Record {
    Record::StatusChange(StoredStatusChange {
        id: n as i64,
        ticket_id: TicketId(n as i64),
        employee_id: EmployeeId((n % EMPLOYEES as u64 + 1) as i64),
        application_id: Some(APPLICATION),
        from_status: None,
        to_status: TicketStatus::New,
        changed_at: at(start, n),
    })
}
