//! The demo data of the contract: the seed's provider, credentials,
//! residents, categories and tickets, so that the seed's examples work as
//! printed, plus a second provider to try tenant isolation with.
//!
//! The whole demo is written in one transaction, and only into an empty
//! database: it is there completely or not at all, never next to real
//! data.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};

use crate::audit::{
    Action, AuditEntry, AuditRecord, ChainAnchor, Outcome, RecordRef, RequestContext,
};
use crate::console::{password, ConsoleAccount, ConsoleRole};
use crate::error::{DomainError, DomainResult};
use crate::model::{
    ApplicationId, CategoryId, CommentId, EmployeeId, NewResident, Provider, ProviderId, Resident,
    ResidentId, Ticket, TicketId,
};
use crate::service::{Connecticket, Operator};
use crate::time::parse_timestamp;
use crate::transfer::{
    Record, StoredApplication, StoredCategory, StoredComment, StoredRating, StoredStatusChange,
    StoredTicket,
};
use crate::workflow::{CategoryRating, TicketStatus, UrgencyStatus};

pub const DEMO_PROVIDER_ID: ProviderId = ProviderId(72_136_196);
pub const DEMO_PROVIDER_NAME: &str = "Example Provider";
pub const DEMO_API_KEY: &str = "8eb68e28cda407158cf9a8064bdd5351";
pub const DEMO_API_SECRET: &str = "b19fszzt9e2z4wpu87r09zy58";
pub const DEMO_EMPLOYEE_ID: EmployeeId = EmployeeId(81_987_870);
pub const DEMO_RESIDENT_IDS: [ResidentId; 2] = [ResidentId(889_283_349), ResidentId(501_333_996)];
/// Clinical Edit, Emergency, Activity Level, Weight Gain. The first three
/// are the ids of the seed's `create_ticket` example (`category_19` …).
pub const DEMO_CATEGORY_IDS: [CategoryId; 4] = [
    CategoryId(19),
    CategoryId(22),
    CategoryId(33),
    CategoryId(34),
];
pub const DEMO_TICKET_IDS: [TicketId; 2] = [TicketId(201), TicketId(202)];

pub const SUNRISE_PROVIDER_ID: ProviderId = ProviderId(72_136_197);
pub const SUNRISE_PROVIDER_NAME: &str = "Sunrise Home Care";
pub const SUNRISE_API_KEY: &str = "5be1c0de7a9f4e21b3d86c0a4f2e9d17";
pub const SUNRISE_API_SECRET: &str = "k2v8q4w6e1r9t3y7u5i0o2p4a";
pub const SUNRISE_EMPLOYEE_ID: EmployeeId = EmployeeId(81_987_871);
pub const SUNRISE_RESIDENT_ID: ResidentId = ResidentId(889_283_400);
pub const SUNRISE_CATEGORY_IDS: [CategoryId; 2] = [CategoryId(40), CategoryId(41)];
pub const SUNRISE_TICKET_ID: TicketId = TicketId(301);
/// Example Provider's nurse, who signs in to the console as staff.
pub const DEMO_NURSE_EMPLOYEE_ID: EmployeeId = EmployeeId(81_987_872);

/// The demo's console accounts (address, employee, provider, role), all
/// with the published `console::password::DEMO_PASSWORD`.
pub const DEMO_CONSOLE_ACCOUNTS: [(&str, EmployeeId, ProviderId, ConsoleRole); 3] = [
    (
        "sample@example.org",
        DEMO_EMPLOYEE_ID,
        DEMO_PROVIDER_ID,
        ConsoleRole::Administrator,
    ),
    (
        "nurse@example.org",
        DEMO_NURSE_EMPLOYEE_ID,
        DEMO_PROVIDER_ID,
        ConsoleRole::Staff,
    ),
    (
        "sunrise@example.org",
        SUNRISE_EMPLOYEE_ID,
        SUNRISE_PROVIDER_ID,
        ConsoleRole::Administrator,
    ),
];

/// The demo password's hash, made once per process: argon2id is slow on
/// purpose, and every demo seed needs it.
static DEMO_PASSWORD_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| password::hash_password(password::DEMO_PASSWORD));

/// What `seed` found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoSeed {
    Seeded,
    AlreadyPresent,
}

/// Seeds the demo into an empty database; accepts a database that already
/// holds it; refuses any other.
pub async fn seed(service: &Connecticket) -> DomainResult<DemoSeed> {
    let records = records(service)?;
    match service.import_records(records).await {
        Ok(_) => {
            add_contacts(service).await?;
            add_escalation(service).await?;
            add_callback_number(service).await?;
            Ok(DemoSeed::Seeded)
        }
        Err(DomainError::NotEmpty) => match service.stored_provider(DEMO_PROVIDER_ID).await {
            Ok(Some(provider)) if provider.name == DEMO_PROVIDER_NAME => {
                Ok(DemoSeed::AlreadyPresent)
            }
            _ => Err(DomainError::NotEmpty),
        },
        Err(error) => Err(error),
    }
}

/// The seed's own operator: every entry of its writes names it.
fn seeder() -> Operator {
    Operator::this_server("demo-seed")
}

/// A call of the seed's operator for the demo provider.
async fn demo_call(
    service: &Connecticket,
    action: Action,
) -> DomainResult<crate::service::AdminCall> {
    service
        .within(service.operate(&seeder(), action), DEMO_PROVIDER_ID)
        .await
}

/// Each demo resident's family member, primary physician and healthcare
/// professional, at `example.org` addresses and 555 numbers, so that a
/// local mail catcher shows notifications at once. (Added after the
/// import by the instance whose import won.)
async fn add_contacts(service: &Connecticket) -> DomainResult<()> {
    let people = [
        ("family", "Family of"),
        ("primary_physician", "Physician of"),
        ("healthcare_professional", "Nurse of"),
    ];
    for (n, resident) in DEMO_RESIDENT_IDS.into_iter().enumerate() {
        for (k, (role, title)) in people.into_iter().enumerate() {
            let input = crate::service::ContactInput {
                resident_id: resident.get(),
                role: role.to_owned(),
                name: format!("{title} resident {resident}"),
                email: Some(format!("{role}.{resident}@example.org")),
                phone: Some(format!("+1555555{:04}", 100 + n * 10 + k)),
                email_consent: true,
                sms_consent: true,
            };
            let call = demo_call(service, Action::ManageContacts).await?;
            service.add_contact(call, input).await?;
        }
    }
    Ok(())
}

/// Two-minute deadlines for Exception and High, so that a demo shows a
/// reminder and each tier within minutes; and the staff of both tiers.
async fn add_escalation(service: &Connecticket) -> DomainResult<()> {
    // The staff first: a tier is accepted only once someone holds it.
    let staff = [
        ("on_call_nurse", "On-call nurse", "oncall", "+15555550190"),
        (
            "director_of_nursing",
            "Director of nursing",
            "director",
            "+15555550191",
        ),
    ];
    for (role, name, mailbox, phone) in staff {
        let input = crate::service::StaffContactInput {
            role: role.to_owned(),
            name: name.to_owned(),
            email: Some(format!("{mailbox}@example.org")),
            phone: Some(phone.to_owned()),
        };
        let call = demo_call(service, Action::ManageEscalation).await?;
        service.add_staff_contact(call, input).await?;
    }
    for urgency in ["Exception", "High"] {
        let input = crate::service::EscalationInput {
            urgency: urgency.to_owned(),
            ack_within: Some(DEMO_ACK_WITHIN.to_owned()),
            renotify_after: None,
            then: crate::notify::escalation::DEFAULT_TIERS
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
        };
        let call = demo_call(service, Action::ManageEscalation).await?;
        service.set_escalation(call, input).await?;
    }
    Ok(())
}

/// The number the demo's messages and acknowledgment page ask people to
/// call (a fictional 555 number).
pub const DEMO_CALLBACK_PHONE: &str = "+15555550100";
/// And the number for out of hours (fictional too).
pub const DEMO_AFTER_HOURS_PHONE: &str = "+15555550101";

async fn add_callback_number(service: &Connecticket) -> DomainResult<()> {
    let change = crate::service::PolicyChange {
        callback_phone: Some(DEMO_CALLBACK_PHONE.to_owned()),
        after_hours_phone: Some(DEMO_AFTER_HOURS_PHONE.to_owned()),
        ..Default::default()
    };
    let call = demo_call(service, Action::NotifyPolicy).await?;
    service.change_notify_policy(call, change).await?;
    Ok(())
}

/// How long the demo's urgent notifications wait for an answer.
pub const DEMO_ACK_WITHIN: &str = "2m";

fn at(text: &'static str) -> DateTime<Utc> {
    // The demo's timestamps are constants of this file, checked by a test.
    parse_timestamp(text).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

const CREATED: &str = "2016/02/07 02:57:51 -0800";
const SUNRISE_CREATED: &str = "2016/03/01 08:00:00 -0500";

/// Every record of the demo, in the order an import takes them.
fn records(service: &Connecticket) -> DomainResult<Vec<Record>> {
    let hasher = service.hasher();
    let mut demo = Demo::default();
    demo.provider(
        DEMO_PROVIDER_ID,
        DEMO_PROVIDER_NAME,
        "America/Los_Angeles",
        CREATED,
    );
    demo.provider(
        SUNRISE_PROVIDER_ID,
        SUNRISE_PROVIDER_NAME,
        "America/New_York",
        SUNRISE_CREATED,
    );
    demo.employee(DEMO_EMPLOYEE_ID, DEMO_PROVIDER_ID, "Sample", CREATED);
    demo.employee(
        SUNRISE_EMPLOYEE_ID,
        SUNRISE_PROVIDER_ID,
        "Sunrise Nurse",
        SUNRISE_CREATED,
    );
    demo.employee(DEMO_NURSE_EMPLOYEE_ID, DEMO_PROVIDER_ID, "Nurse", CREATED);
    for (id, provider_id, employee_id, name, key, secret, created) in [
        (
            1,
            DEMO_PROVIDER_ID,
            DEMO_EMPLOYEE_ID,
            "Demo application",
            DEMO_API_KEY,
            DEMO_API_SECRET,
            CREATED,
        ),
        (
            2,
            SUNRISE_PROVIDER_ID,
            SUNRISE_EMPLOYEE_ID,
            "Sunrise application",
            SUNRISE_API_KEY,
            SUNRISE_API_SECRET,
            SUNRISE_CREATED,
        ),
    ] {
        demo.records.push(Record::Application(StoredApplication {
            id: ApplicationId(id),
            provider_id,
            employee_id,
            name: name.to_owned(),
            api_key: key.to_owned(),
            secret_hash: hasher.hash_api_secret(secret),
            created_at: at(created),
            revoked_at: None,
        }));
    }
    let password_hash = DEMO_PASSWORD_HASH.clone();
    for (email, employee_id, provider_id, role) in DEMO_CONSOLE_ACCOUNTS {
        let created = match provider_id {
            SUNRISE_PROVIDER_ID => at(SUNRISE_CREATED),
            _ => at(CREATED),
        };
        demo.records.push(Record::ConsoleAccount(ConsoleAccount {
            employee_id,
            provider_id,
            email: email.to_owned(),
            role,
            password_hash: password_hash.clone(),
            totp_secret: None,
            invite_hash: None,
            invite_expires_at: None,
            created_at: created,
            updated_at: created,
        }));
    }
    demo.resident(
        seed_resident(DEMO_RESIDENT_IDS[0], "Test Case (Provider Type)", None),
        DEMO_PROVIDER_ID,
    );
    demo.resident(
        seed_resident(DEMO_RESIDENT_IDS[1], "Test Doctor", Some(1_058_366_525)),
        DEMO_PROVIDER_ID,
    );
    let mut margaret = NewResident::named("Margaret");
    margaret.id = Some(SUNRISE_RESIDENT_ID);
    margaret.last_name = Some("Hale".to_owned());
    margaret.dob = NaiveDate::from_ymd_opt(1941, 6, 3);
    margaret.in_home_care = true;
    margaret.created_at = Some(at(SUNRISE_CREATED));
    demo.resident(margaret, SUNRISE_PROVIDER_ID);
    for (id, name) in DEMO_CATEGORY_IDS.into_iter().zip([
        "Clinical Edit",
        "Emergency",
        "Activity Level",
        "Weight Gain",
    ]) {
        demo.category(id, DEMO_PROVIDER_ID, name, CREATED);
    }
    for (id, name) in SUNRISE_CATEGORY_IDS
        .into_iter()
        .zip(["Fall", "Missed Medication"])
    {
        demo.category(id, SUNRISE_PROVIDER_ID, name, SUNRISE_CREATED);
    }
    let weight = DemoTicket {
        id: DEMO_TICKET_IDS[0],
        provider_id: DEMO_PROVIDER_ID,
        title: "Weight gain of 2 kg this week",
        resident_id: DEMO_RESIDENT_IDS[1],
        employee_id: DEMO_EMPLOYEE_ID,
        created: "2016/02/11 09:15:00 -0800",
        updated: "2016/02/11 09:15:00 -0800",
        ratings: &[(DEMO_CATEGORY_IDS[3], CategoryRating::PotentialIssue)],
    };
    // The seed's example ticket; its two category comments, made 9 s after
    // the ticket, are what moved its updated_at.
    let example = DemoTicket {
        id: DEMO_TICKET_IDS[1],
        provider_id: DEMO_PROVIDER_ID,
        title: "Ticket  commment",
        resident_id: DEMO_RESIDENT_IDS[0],
        employee_id: DEMO_EMPLOYEE_ID,
        created: "2016/02/12 03:00:25 -0800",
        updated: "2016/02/12 03:00:34 -0800",
        ratings: &[
            (DEMO_CATEGORY_IDS[0], CategoryRating::NoIssue),
            (DEMO_CATEGORY_IDS[1], CategoryRating::Issue),
        ],
    };
    let fall = DemoTicket {
        id: SUNRISE_TICKET_ID,
        provider_id: SUNRISE_PROVIDER_ID,
        title: "Fall in the kitchen",
        resident_id: SUNRISE_RESIDENT_ID,
        employee_id: SUNRISE_EMPLOYEE_ID,
        created: "2016/03/02 10:30:00 -0500",
        updated: "2016/03/02 10:30:00 -0500",
        ratings: &[(SUNRISE_CATEGORY_IDS[0], CategoryRating::Issue)],
    };
    // Written by the operator, and audited as such, in the order the
    // records were made.
    let mut audit = OperatorAudit::new(service.now());
    for ticket in [&weight, &example] {
        demo.ticket(ticket);
        audit.record(
            Action::CreateTicket,
            ticket.provider_id,
            &[RecordRef::Ticket(ticket.id)],
        );
    }
    for (id, category, text) in [
        (1, DEMO_CATEGORY_IDS[0], "comment 1"),
        (2, DEMO_CATEGORY_IDS[1], "comment 2"),
    ] {
        audit.record(
            Action::CreateComment,
            DEMO_PROVIDER_ID,
            &[
                RecordRef::Comment(CommentId(id)),
                RecordRef::Ticket(example.id),
                RecordRef::Resident(example.resident_id),
            ],
        );
        demo.comments.push(Record::Comment(StoredComment {
            id: CommentId(id),
            ticket_id: example.id,
            category_id: Some(category),
            employee_id: DEMO_EMPLOYEE_ID,
            body: text.to_owned(),
            created_at: at(example.updated),
        }));
    }
    demo.ticket(&fall);
    audit.record(
        Action::CreateTicket,
        fall.provider_id,
        &[RecordRef::Ticket(fall.id)],
    );
    let mut records = demo.into_records();
    records.extend(audit.into_records());
    Ok(records)
}

/// The audit trail of the demo's writes: a chain of its own.
struct OperatorAudit {
    chain: ChainAnchor,
    records: Vec<AuditRecord>,
}

impl OperatorAudit {
    fn new(at: DateTime<Utc>) -> Self {
        OperatorAudit {
            chain: ChainAnchor::new(1, "demo seed", at),
            records: Vec::new(),
        }
    }

    fn record(&mut self, action: Action, provider: ProviderId, touched: &[RecordRef]) {
        let context = RequestContext::operator("demo-seed".to_owned(), seeder().actor().to_owned());
        let mut entry = AuditEntry::new(&context, action, Outcome::Success, self.chain.created_at);
        entry.provider_id = Some(provider);
        for record in touched {
            entry.touch(*record);
        }
        let mut record = AuditRecord::chain(entry, &self.chain);
        record.id = self.records.len() as i64 + 1;
        self.chain.advance(&record);
        self.records.push(record);
    }

    fn into_records(self) -> Vec<Record> {
        let mut records = vec![Record::AuditChain(self.chain)];
        records.extend(
            self.records
                .into_iter()
                .map(|record| Record::AuditEntry(Box::new(record))),
        );
        records
    }
}

struct DemoTicket {
    id: TicketId,
    provider_id: ProviderId,
    title: &'static str,
    resident_id: ResidentId,
    employee_id: EmployeeId,
    created: &'static str,
    updated: &'static str,
    ratings: &'static [(CategoryId, CategoryRating)],
}

/// The demo's records, gathered per table and emitted in import order.
#[derive(Default)]
struct Demo {
    records: Vec<Record>,
    residents: Vec<Record>,
    categories: Vec<Record>,
    tickets: Vec<Record>,
    ratings: Vec<Record>,
    comments: Vec<Record>,
    history: Vec<Record>,
}

impl Demo {
    fn provider(&mut self, id: ProviderId, name: &str, zone: &str, created: &'static str) {
        self.records.push(Record::Provider(Provider {
            id,
            name: name.to_owned(),
            time_zone: zone.to_owned(),
            country: "US".to_owned(),
            created_at: at(created),
        }));
    }

    fn employee(
        &mut self,
        id: EmployeeId,
        provider_id: ProviderId,
        name: &str,
        created: &'static str,
    ) {
        self.records.push(Record::Employee(crate::model::Employee {
            id,
            provider_id,
            name: name.to_owned(),
            email: None,
            created_at: at(created),
        }));
    }

    fn resident(&mut self, resident: NewResident, provider_id: ProviderId) {
        let id = resident.id.unwrap_or(ResidentId(0));
        let created = resident.created_at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        self.residents
            .push(Record::Resident(Box::new(Resident::from_new(
                id,
                provider_id,
                resident,
                created,
            ))));
    }

    fn category(
        &mut self,
        id: CategoryId,
        provider_id: ProviderId,
        name: &str,
        created: &'static str,
    ) {
        self.categories.push(Record::Category(StoredCategory {
            id,
            provider_id,
            name: name.to_owned(),
            created_at: at(created),
        }));
    }

    fn ticket(&mut self, ticket: &DemoTicket) {
        self.tickets.push(Record::Ticket(Box::new(StoredTicket {
            ticket: Ticket {
                id: ticket.id,
                provider_id: ticket.provider_id,
                title: ticket.title.to_owned(),
                resident_id: ticket.resident_id,
                employee_id: ticket.employee_id,
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
                created_at: at(ticket.created),
                updated_at: at(ticket.updated),
            },
            application_id: None,
            version: 1,
        })));
        for (category_id, status) in ticket.ratings {
            self.ratings.push(Record::TicketCategory(StoredRating {
                ticket_id: ticket.id,
                category_id: *category_id,
                status: *status,
            }));
        }
        self.history.push(Record::StatusChange(StoredStatusChange {
            id: self.history.len() as i64 + 1,
            ticket_id: ticket.id,
            employee_id: ticket.employee_id,
            application_id: None,
            from_status: None,
            to_status: TicketStatus::New,
            changed_at: at(ticket.created),
        }));
    }

    fn into_records(self) -> Vec<Record> {
        let mut records = self.records;
        for table in [
            self.residents,
            self.categories,
            self.tickets,
            self.ratings,
            self.comments,
            self.history,
        ] {
            records.extend(table);
        }
        records.sort_by_key(Record::table);
        records
    }
}

fn seed_resident(id: ResidentId, first_name: &str, resident_type_id: Option<i64>) -> NewResident {
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
    resident.created_at = Some(at(CREATED));
    resident
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_timestamp_parses() {
        for text in [
            CREATED,
            SUNRISE_CREATED,
            "2016/02/11 09:15:00 -0800",
            "2016/02/12 03:00:25 -0800",
            "2016/02/12 03:00:34 -0800",
            "2016/03/02 10:30:00 -0500",
        ] {
            assert!(parse_timestamp(text).is_some(), "{text}");
        }
    }
}
