//! Records to test with, made through the storage interface itself.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use connecticket_domain::audit::{Action, AuditEntry, Outcome, RequestContext};
use connecticket_domain::model::{
    Application, CategoryId, Employee, NewApplication, NewAttachment, NewCategory, NewComment,
    NewEmployee, NewProvider, NewResident, NewTicket, Provider, Rating, ResidentId,
};
use connecticket_domain::store::{IdempotencyClaim, RowStream, Store, WriteContext};
use connecticket_domain::time::from_epoch;
use connecticket_domain::workflow::{CategoryRating, TicketStatus, UrgencyStatus};
use futures::TryStreamExt;

use crate::testing::TestDatabase;

/// Opens another store on the fixture's database (a second instance).
pub type Reopen =
    Box<dyn Fn(String) -> futures::future::BoxFuture<'static, Arc<dyn Store>> + Send + Sync>;

/// A store on a fresh database, kept alive as long as the fixture.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    database: TestDatabase,
    reopen: Reopen,
}

impl Fixture {
    pub fn new(store: Arc<dyn Store>, database: TestDatabase, reopen: Reopen) -> Self {
        Fixture {
            store,
            database,
            reopen,
        }
    }

    /// Another store on the same database, as a second instance would open.
    pub async fn reopen(&self) -> Arc<dyn Store> {
        (self.reopen)(self.database.url.clone()).await
    }
}

/// The audit entry an administrator's write carries into its transaction.
pub fn admin_entry() -> AuditEntry {
    let context = RequestContext::operator("conformance".to_owned(), "tester@test".to_owned());
    AuditEntry::new(&context, Action::ManageProviders, Outcome::Success, t0())
}

/// The moment every test's records are made at.
pub fn t0() -> DateTime<Utc> {
    from_epoch(1_700_000_000)
}

pub fn later(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

/// A provider with an employee, an application, two residents and two
/// categories.
pub struct Tenant {
    pub provider: Provider,
    pub employee: Employee,
    pub application: Application,
    pub residents: Vec<ResidentId>,
    pub categories: Vec<CategoryId>,
}

pub async fn tenant(store: &dyn Store, name: &str) -> Tenant {
    let provider = store
        .create_provider(
            NewProvider {
                id: None,
                name: name.to_owned(),
                time_zone: "America/New_York".to_owned(),
                country: "US".to_owned(),
                created_at: t0(),
            },
            admin_entry(),
        )
        .await
        .expect("provider");
    let employee = store
        .create_employee(
            NewEmployee {
                id: None,
                provider_id: provider.id,
                name: format!("{name} nurse"),
                email: None,
                created_at: t0(),
            },
            admin_entry(),
        )
        .await
        .expect("employee");
    let application = store
        .create_application(
            NewApplication {
                id: None,
                provider_id: provider.id,
                employee_id: employee.id,
                name: format!("{name} tablet"),
                api_key: format!("key-{name}"),
                secret_hash: vec![1, 2, 3],
                created_at: t0(),
            },
            admin_entry(),
        )
        .await
        .expect("application");
    let residents = store
        .create_residents(
            provider.id,
            vec![NewResident::named("Ada"), NewResident::named("Grace")],
            t0(),
            admin_entry(),
        )
        .await
        .expect("residents");
    let mut categories = Vec::new();
    for category in ["Falls", "Weight"] {
        let made = store
            .create_category(
                NewCategory {
                    id: None,
                    provider_id: provider.id,
                    name: category.to_owned(),
                    created_at: t0(),
                },
                admin_entry(),
            )
            .await
            .expect("category");
        categories.push(made.id);
    }
    Tenant {
        provider,
        employee,
        application,
        residents,
        categories,
    }
}

/// A plain `New` ticket about the tenant's first resident.
pub fn ticket(tenant: &Tenant, title: &str) -> NewTicket {
    NewTicket {
        id: None,
        title: title.to_owned(),
        resident_id: tenant.residents[0],
        employee_id: tenant.employee.id,
        application_id: Some(tenant.application.id),
        urgency: UrgencyStatus::DEFAULT,
        ticket_status: TicketStatus::New,
        ticket_type: None,
        state: false,
        sms: Some(true),
        email: None,
        sent_to_family: None,
        sent_to_healthcare_pro: None,
        sent_to_primary: Some(false),
        start_date: None,
        end_date: None,
        ratings: Vec::new(),
        comments: Vec::new(),
        attachments: Vec::new(),
        created_at: t0(),
    }
}

/// A ticket with a rating, a category comment, a general comment and a
/// file.
pub fn full_ticket(tenant: &Tenant, title: &str) -> NewTicket {
    let mut ticket = ticket(tenant, title);
    ticket.ratings = vec![Rating {
        category_id: tenant.categories[0],
        rating: CategoryRating::Issue,
    }];
    ticket.comments = vec![
        comment(tenant, None, "family called"),
        comment(tenant, Some(tenant.categories[0]), "bruised arm"),
    ];
    ticket.attachments = vec![NewAttachment {
        file_name: "photo.jpg".to_owned(),
        content_type: "image/jpeg".to_owned(),
        data: Bytes::from_static(&[0xff, 0xd8, 0x00, 0x01]),
    }];
    ticket
}

pub fn comment(tenant: &Tenant, category: Option<CategoryId>, body: &str) -> NewComment {
    NewComment {
        category_id: category,
        employee_id: tenant.employee.id,
        body: body.to_owned(),
        created_at: t0(),
    }
}

pub fn entry(tenant: &Tenant, action: Action) -> AuditEntry {
    let context = RequestContext {
        request_id: format!("test-{}", action.as_str()),
        ..RequestContext::default()
    };
    let mut entry = AuditEntry::new(&context, action, Outcome::Success, t0());
    entry.provider_id = Some(tenant.provider.id);
    entry.application_id = Some(tenant.application.id);
    entry.employee_id = Some(tenant.employee.id);
    entry
}

/// A write's context without an `Idempotency-Key`.
pub fn write(tenant: &Tenant, action: Action) -> WriteContext {
    WriteContext {
        idempotency: None,
        audit: entry(tenant, action),
        deadline: None,
    }
}

/// A write's context claiming `key` with `fingerprint` at `now`.
pub fn keyed(
    tenant: &Tenant,
    action: Action,
    key: &str,
    fingerprint: &[u8],
    now: DateTime<Utc>,
) -> WriteContext {
    WriteContext {
        idempotency: Some(IdempotencyClaim {
            application_id: tenant.application.id,
            key: key.to_owned(),
            fingerprint: fingerprint.to_vec(),
            now,
            not_before: now - Duration::hours(24),
        }),
        audit: entry(tenant, action),
        deadline: None,
    }
}

pub async fn collect<T>(rows: RowStream<T>) -> Vec<T> {
    let chunks: Vec<Vec<T>> = rows.try_collect().await.expect("stream");
    chunks.into_iter().flatten().collect()
}
