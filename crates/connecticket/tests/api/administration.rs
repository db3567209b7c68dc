//! Who may administer, walked as a table: every route of the console's
//! administration and every administration use case, tried as one of the
//! provider's staff, as another provider's administrator and as a
//! stranger. Staff and strangers are refused and audited as denied;
//! another provider's administrator reaches only their own provider (a
//! record of ours is not found to them, audited so) and changes nothing of
//! ours.

use std::collections::BTreeMap;

use connecticket_domain::audit::{Action, AuditRecord, Outcome, RequestContext};
use connecticket_domain::demo::{
    DEMO_CATEGORY_IDS, DEMO_NURSE_EMPLOYEE_ID, DEMO_PROVIDER_ID, DEMO_RESIDENT_IDS,
    SUNRISE_PROVIDER_ID,
};
use connecticket_domain::model::{ApplicationId, ContactId, NotificationId};
use connecticket_domain::service::AdminCall;
use reqwest::StatusCode;

use crate::support::{audit_entries, Console, TestApp};

const NURSE: &str = "nurse@example.org";
const SUNRISE: &str = "sunrise@example.org";

/// Records of the demo's Example Provider that routes and use cases name.
struct Ours {
    application: ApplicationId,
    contact: ContactId,
    staff_contact: ContactId,
    notification: NotificationId,
    display: i64,
    webhook: i64,
}

async fn ours(app: &TestApp) -> Ours {
    let call = |action| app.admin.within(action, DEMO_PROVIDER_ID);
    let application = app
        .api
        .list_applications(call(Action::Applications).await)
        .await
        .expect("apps")[0]
        .id;
    let contacts = app
        .api
        .list_contacts(
            call(Action::ResidentContacts).await,
            Some(DEMO_RESIDENT_IDS[0]),
        )
        .await
        .expect("contacts");
    let staff = app
        .api
        .list_staff_contacts(call(Action::ProviderSettings).await)
        .await
        .expect("staff");
    // A ticket that notifies its resident's family: one notification.
    let session = app.example().await;
    session
        .create_ticket(&[
            ("title", "Fell"),
            ("resident_id", &DEMO_RESIDENT_IDS[0].to_string()),
            ("email", "1"),
            ("sent_to_family", "1"),
        ])
        .await;
    let outbox = app
        .api
        .outbox(
            app.admin.call(Action::NotificationQueue),
            Default::default(),
        )
        .await
        .expect("outbox");
    let notification = outbox
        .iter()
        .find(|n| n.provider_id == DEMO_PROVIDER_ID)
        .expect("a notification")
        .id;
    let display = app
        .api
        .grant_display(call(Action::ManageDisplays).await, "Nurses' station")
        .await
        .expect("a display")
        .display
        .id
        .0;
    let webhook = crate::support::send(
        session
            .post("webhooks")
            // One no step of these tests raises: nothing is delivered.
            .form(&[
                ("url", "https://example.org/hook"),
                ("event_types", "escalation.raised"),
            ]),
    )
    .await
    .body["webhook"]["id"]
        .as_i64()
        .expect("a webhook");
    Ours {
        application,
        contact: contacts[0].id,
        staff_contact: staff[0].id,
        notification,
        display,
        webhook,
    }
}

/// Everything an administrator of ours could change, as text to compare.
async fn snapshot(app: &TestApp) -> BTreeMap<&'static str, String> {
    let call = |action| app.admin.within(action, DEMO_PROVIDER_ID);
    let api = &app.api;
    let mut state = BTreeMap::new();
    let roster: Vec<_> = api
        .roster(call(Action::Employees).await)
        .await
        .expect("roster")
        .into_iter()
        .map(|(e, account)| {
            (
                e.id,
                e.name,
                account.map(|a| {
                    (
                        a.email,
                        a.role,
                        a.password_hash,
                        a.invite_hash,
                        a.totp_secret,
                    )
                }),
            )
        })
        .collect();
    state.insert("roster", format!("{roster:?}"));
    state.insert(
        "applications",
        format!(
            "{:?}",
            api.list_applications(call(Action::Applications).await)
                .await
                .expect("apps")
        ),
    );
    state.insert(
        "fhir",
        format!(
            "{:?}",
            api.fhir_access(call(Action::Applications).await)
                .await
                .expect("fhir standing")
        ),
    );
    state.insert(
        "categories",
        format!(
            "{:?}",
            api.list_categories(call(Action::ProviderCategories).await)
                .await
                .expect("categories")
        ),
    );
    state.insert(
        "contacts",
        format!(
            "{:?}",
            api.list_contacts(call(Action::ResidentContacts).await, None)
                .await
                .expect("contacts")
        ),
    );
    state.insert(
        "policy",
        format!(
            "{:?}",
            api.notify_policy(call(Action::ProviderSettings).await)
                .await
                .expect("policy")
        ),
    );
    state.insert(
        "escalation",
        format!(
            "{:?}",
            api.escalation_policy(call(Action::ProviderSettings).await)
                .await
                .expect("rules")
        ),
    );
    state.insert(
        "displays",
        format!(
            "{:?}",
            api.list_displays(call(Action::ManageDisplays).await)
                .await
                .expect("displays")
        ),
    );
    state.insert(
        "webhooks",
        format!(
            "{:?}",
            api.admin_webhooks(call(Action::ManageWebhooks).await)
                .await
                .expect("webhooks")
        ),
    );
    state.insert(
        "providers",
        format!(
            "{:?}",
            api.list_providers(app.admin.call(Action::Providers))
                .await
                .expect("providers")
                .into_iter()
                .filter(|p| p.id == DEMO_PROVIDER_ID)
                .collect::<Vec<_>>()
        ),
    );
    state.insert(
        "staff",
        format!(
            "{:?}",
            api.list_staff_contacts(call(Action::ProviderSettings).await)
                .await
                .expect("staff")
        ),
    );
    let outbox = api
        .outbox(call(Action::NotificationQueue).await, Default::default())
        .await
        .expect("outbox");
    state.insert(
        "outbox",
        format!(
            "{:?}",
            outbox
                .iter()
                .map(|n| (n.id, n.state, n.attempts, n.next_attempt_at))
                .collect::<Vec<_>>()
        ),
    );
    state
}

/// One route of the administration: its method, its path (naming our
/// records where it names any), what its form sends, and the action its
/// refusal is audited under.
struct Route {
    post: bool,
    path: String,
    fields: Vec<(&'static str, String)>,
    action: Action,
    /// Names one of our records: another provider's administrator must
    /// find nothing there.
    names_ours: bool,
}

fn routes(ours: &Ours) -> Vec<Route> {
    let nurse = DEMO_NURSE_EMPLOYEE_ID;
    let resident = DEMO_RESIDENT_IDS[0];
    let category = DEMO_CATEGORY_IDS[0];
    let contact_fields = || {
        vec![
            ("role", "family".to_owned()),
            ("name", "Mallory".to_owned()),
            ("email", "m@example.org".to_owned()),
        ]
    };
    let route = |post: bool,
                 path: String,
                 fields: Vec<(&'static str, String)>,
                 action: Action,
                 names_ours: bool| Route {
        post,
        path,
        fields,
        action,
        names_ours,
    };
    let get = |path: &str, action| route(false, path.to_owned(), Vec::new(), action, false);
    let form = |path: String, fields: Vec<(&'static str, String)>, action, names_ours| {
        route(true, path, fields, action, names_ours)
    };
    let text = |pairs: &[(&'static str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    vec![
        get("/console/admin", Action::Employees),
        get("/console/admin/employees", Action::Employees),
        form(
            "/console/admin/employees".into(),
            text(&[
                ("name", "Mallory"),
                ("email", "mallory@example.org"),
                ("role", "administrator"),
            ]),
            Action::ManageEmployees,
            false,
        ),
        form(
            format!("/console/admin/employees/{nurse}/role"),
            text(&[("role", "administrator")]),
            Action::ManageEmployees,
            true,
        ),
        form(
            format!("/console/admin/employees/{nurse}/reset"),
            Vec::new(),
            Action::ManageEmployees,
            true,
        ),
        // (Requiring one would send their administrator, who has none, to
        // set one up before anything else.)
        form(
            "/console/admin/second-factor".into(),
            text(&[("require_totp", "0")]),
            Action::ManageEmployees,
            false,
        ),
        get("/console/admin/applications", Action::Applications),
        form(
            "/console/admin/applications".into(),
            text(&[("name", "Sneaky")]),
            Action::ManageApplications,
            false,
        ),
        form(
            format!("/console/admin/applications/{}/revoke", ours.application),
            text(&[("confirmed", "yes")]),
            Action::ManageApplications,
            true,
        ),
        form(
            format!("/console/admin/applications/{}/rotate", ours.application),
            text(&[("confirmed", "yes")]),
            Action::ManageApplications,
            true,
        ),
        form(
            format!(
                "/console/admin/applications/{}/fhir-audit",
                ours.application
            ),
            text(&[("allow", "yes"), ("confirmed", "yes")]),
            Action::ManageApplications,
            true,
        ),
        form(
            format!("/console/admin/applications/{}/fhir-keys", ours.application),
            text(&[("remove", "1")]),
            Action::ManageApplications,
            true,
        ),
        get("/console/admin/audit", Action::AuditTrail),
        get("/console/admin/audit.csv", Action::AuditTrail),
        get("/console/admin/notifications", Action::NotificationQueue),
        form(
            format!("/console/admin/notifications/{}/retry", ours.notification),
            Vec::new(),
            Action::ManageNotifications,
            true,
        ),
        get("/console/admin/escalation", Action::ProviderSettings),
        form(
            "/console/admin/escalation".into(),
            text(&[("urgency", "5"), ("ack_within", "1m")]),
            Action::ManageEscalation,
            false,
        ),
        form(
            "/console/admin/escalation/staff".into(),
            text(&[
                ("role", "on_call_nurse"),
                ("name", "Mallory"),
                ("phone", "+15555550166"),
            ]),
            Action::ManageEscalation,
            false,
        ),
        form(
            format!(
                "/console/admin/escalation/staff/{}/remove",
                ours.staff_contact
            ),
            text(&[("confirmed", "yes")]),
            Action::ManageEscalation,
            true,
        ),
        get("/console/admin/categories", Action::ProviderCategories),
        form(
            "/console/admin/categories".into(),
            text(&[("name", "Sneaky")]),
            Action::ManageCategories,
            false,
        ),
        form(
            format!("/console/admin/categories/{category}"),
            text(&[("name", "Renamed")]),
            Action::ManageCategories,
            true,
        ),
        get("/console/admin/templates", Action::ProviderSettings),
        form(
            "/console/admin/templates".into(),
            text(&[("sms", "{provider}: call {callback}")]),
            Action::NotifyPolicy,
            false,
        ),
        form(
            "/console/admin/phone-country".into(),
            text(&[("country", "GB")]),
            Action::ManageProviders,
            false,
        ),
        get("/console/admin/displays", Action::ManageDisplays),
        form(
            "/console/admin/displays".into(),
            text(&[("name", "Sneaky screen")]),
            Action::ManageDisplays,
            false,
        ),
        form(
            format!("/console/admin/displays/{}/revoke", ours.display),
            text(&[("confirmed", "yes")]),
            Action::ManageDisplays,
            true,
        ),
        get("/console/admin/webhooks", Action::ManageWebhooks),
        form(
            "/console/admin/webhooks".into(),
            // For our application.
            text(&[("application", "1"), ("url", "https://sneaky.example/hook")]),
            Action::ManageWebhooks,
            true,
        ),
        form(
            format!("/console/admin/webhooks/{}/rotate", ours.webhook),
            text(&[("confirmed", "yes")]),
            Action::ManageWebhooks,
            true,
        ),
        form(
            format!("/console/admin/webhooks/{}/replay", ours.webhook),
            text(&[("hours", "24")]),
            Action::ManageWebhooks,
            true,
        ),
        form(
            format!("/console/admin/webhooks/{}/delete", ours.webhook),
            text(&[("confirmed", "yes")]),
            Action::ManageWebhooks,
            true,
        ),
        form(
            "/console/admin/notify-rules".into(),
            text(&[("created", "family"), ("quiet_hours", "20:00-07:00")]),
            Action::NotifyPolicy,
            false,
        ),
        form(
            format!("/console/residents/{resident}/contacts"),
            contact_fields(),
            Action::ManageContacts,
            true,
        ),
        form(
            format!("/console/residents/{resident}/contacts/{}", ours.contact),
            contact_fields(),
            Action::ManageContacts,
            true,
        ),
        form(
            format!(
                "/console/residents/{resident}/contacts/{}/remove",
                ours.contact
            ),
            text(&[("confirmed", "yes")]),
            Action::ManageContacts,
            true,
        ),
    ]
}

/// The route's path as the router knows it (`{id}` for ids).
fn pattern(path: &str) -> String {
    path.trim_start_matches("/console")
        .split('/')
        .enumerate()
        .map(|(n, part)| match (n, part.parse::<i64>()) {
            (_, Ok(_)) => "{id}",
            _ => part,
        })
        .collect::<Vec<_>>()
        .join("/")
        .replace("contacts/{id}/remove", "contacts/{contact}/remove")
        .replace(
            "residents/{id}/contacts/{id}",
            "residents/{id}/contacts/{contact}",
        )
}

async fn send(console: &Console, route: &Route, csrf: Option<&str>) -> crate::support::Page {
    if !route.post {
        return console.get(&route.path).await;
    }
    let mut fields: Vec<(&str, &str)> =
        route.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if let Some(csrf) = csrf {
        fields.push(("csrf", csrf));
    }
    console.post(&route.path, &fields).await
}

/// The entries written since `mark` (an entry id), refusals' counts
/// included.
async fn since(app: &TestApp, mark: i64) -> Vec<AuditRecord> {
    audit_entries(app)
        .await
        .into_iter()
        .filter(|e| e.id > mark)
        .collect()
}

/// The entries since `mark` once one of them satisfies `wanted` (a
/// refusal's entry is written without holding up the answer).
async fn once_recorded(
    app: &TestApp,
    mark: i64,
    what: &str,
    wanted: impl Fn(&AuditRecord) -> bool,
) -> Vec<AuditRecord> {
    crate::support::eventually(what, || async {
        let entries = since(app, mark).await;
        entries.iter().any(&wanted).then_some(entries)
    })
    .await
}

async fn mark(app: &TestApp) -> i64 {
    audit_entries(app).await.last().map_or(0, |e| e.id)
}

backend_tests! {
    /// Every administration route, as staff, as another provider's
    /// administrator and as a stranger.
    async fn every_administration_route_refuses_staff_and_strangers() {
        let app = TestApp::demo().await;
        let ours = ours(&app).await;
        let table = routes(&ours);
        // Every route the console serves is in the table.
        let covered: std::collections::BTreeSet<String> = table.iter().map(|r| pattern(&r.path)).collect();
        for path in connecticket_http::administration_paths() {
            assert!(covered.contains(path), "no row walks {path}");
        }
        assert_eq!(table.len(), 38, "every method of every administration route");
        let before = snapshot(&app).await;

        // Staff: refused, and audited as denied under their name.
        let nurse = Console::demo(&app, NURSE).await;
        let csrf = nurse.get("/console").await.csrf().expect("a token");
        for route in &table {
            let start = mark(&app).await;
            let page = send(&nurse, route, Some(&csrf)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{} {}", route.path, page.body);
            let entries = since(&app, start).await;
            let denied: Vec<_> = entries.iter().filter(|e| e.outcome == Outcome::Denied).collect();
            assert_eq!(denied.len(), 1, "{}: {entries:?}", route.path);
            assert_eq!((denied[0].action, denied[0].employee_id), (route.action, Some(DEMO_NURSE_EMPLOYEE_ID.get())), "{}", route.path);
        }

        // Another provider's administrator: our records are not there;
        // everything else concerns their own provider.
        let sunrise = Console::demo(&app, SUNRISE).await;
        let csrf = sunrise.get("/console").await.csrf().expect("a token");
        for route in &table {
            let start = mark(&app).await;
            let page = send(&sunrise, route, Some(&csrf)).await;
            if route.names_ours {
                assert_eq!(page.status, StatusCode::NOT_FOUND, "{} {} {:?}", route.path, page.body, page.location());
                let entries = once_recorded(&app, start, &route.path, |e| e.action == route.action && e.outcome == Outcome::NotFound).await;
                assert!(entries.iter().all(|e| e.provider_id == Some(SUNRISE_PROVIDER_ID.get())), "{}: {entries:?}", route.path);
            } else {
                let entries = since(&app, start).await;
                assert!(entries.iter().all(|e| e.provider_id == Some(SUNRISE_PROVIDER_ID.get())), "{}: {entries:?}", route.path);
                assert!(page.status.is_success() || page.status.is_redirection(), "{} {} {}", route.path, page.status, page.body);
                for ours in [connecticket_domain::demo::DEMO_API_KEY, NURSE] {
                    assert!(!page.body.contains(ours), "{} shows {ours}", route.path);
                }
            }
        }

        // A stranger: sent to sign in; the refusals counted under each
        // route's action.
        let stranger = Console::of(&app);
        let start = mark(&app).await;
        for route in &table {
            let page = send(&stranger, route, None).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", route.path);
            // To sign in, then back to the page (never straight to an action).
            let location = page.location().unwrap_or_default();
            assert!(location == "/console/sign-in" || location.starts_with("/console/sign-in?next=%2Fconsole"), "{}: {location}", route.path);
            assert!(!location.contains("reason=idle"), "a stranger's session did not lapse: {location}");
        }
        let entries = since(&app, start).await;
        let mut expected: BTreeMap<&str, u64> = BTreeMap::new();
        for route in &table {
            *expected.entry(route.action.as_str()).or_default() += 1;
        }
        let mut counted: BTreeMap<&str, u64> = BTreeMap::new();
        for entry in entries.iter().filter(|e| e.outcome == Outcome::Denied) {
            let refusals: u64 = entry.records.iter().filter_map(|r| r.strip_prefix("refusals:")?.parse::<u64>().ok()).sum();
            *counted.entry(entry.action.as_str()).or_default() += refusals;
        }
        assert_eq!(counted, expected, "{entries:?}");

        // And nothing of ours changed.
        assert_eq!(snapshot(&app).await, before);
    }

    /// Every administration use case, called directly: staff cannot get an
    /// administration call at all (refused, audited as denied); another
    /// provider's administrator gets one for their own provider, in which
    /// our records are not found.
    async fn every_administration_use_case_is_for_the_providers_administrators() {
        let app = TestApp::demo().await;
        let ours = ours(&app).await;
        let before = snapshot(&app).await;
        let nurse = Console::demo(&app, NURSE).await;
        let sunrise = Console::demo(&app, SUNRISE).await;
        let context = RequestContext::default();
        let call_of = |console: &Console, action| {
            let api = &app.api;
            let token = console.session.clone().expect("a session");
            let context = context.clone();
            async move {
                let console = api.console_call(&context, action, Some(&token), true).await.expect("a session");
                api.administer(console.call(action)).await
            }
        };
        let use_cases = use_cases(&ours);
        assert_eq!(use_cases.len(), 35, "every use case that takes an AdminCall");
        for (name, action, names_ours, run) in use_cases {
            // Staff: no administration call; the refusal audited.
            let start = mark(&app).await;
            let refused = call_of(&nurse, action).await;
            assert!(matches!(refused, Err(connecticket_domain::DomainError::Forbidden(_))), "{name}");
            let entries = since(&app, start).await;
            assert!(entries.iter().any(|e| e.action == action && e.outcome == Outcome::Denied && e.employee_id == Some(DEMO_NURSE_EMPLOYEE_ID.get())), "{name}: {entries:?}");
            // Another provider's administrator: within their provider.
            let start = mark(&app).await;
            let call = call_of(&sunrise, action).await.expect("an administrator's call");
            let outcome = run(&app, call).await;
            let expected = if names_ours { Outcome::NotFound } else { Outcome::Success };
            if names_ours {
                assert!(matches!(outcome, Err(connecticket_domain::DomainError::NotFound(_))), "{name}: {outcome:?}");
            } else {
                assert!(outcome.is_ok(), "{name}: {outcome:?}");
            }
            let entries = once_recorded(&app, start, name, |e| e.action == action && e.outcome == expected).await;
            assert!(entries.iter().all(|e| e.provider_id == Some(SUNRISE_PROVIDER_ID.get())), "{name}: {entries:?}");
        }
        assert_eq!(snapshot(&app).await, before, "nothing of ours changed");
    }
}

type UseCaseRun = Box<
    dyn for<'a> Fn(
        &'a TestApp,
        AdminCall,
    )
        -> futures::future::BoxFuture<'a, Result<(), connecticket_domain::DomainError>>,
>;

type UseCase = (&'static str, Action, bool, UseCaseRun);

/// Every administration use case that takes an `AdminCall`, run with our
/// records' ids where it names any. (The operator's own use cases take an
/// `OperatorCall`, which no console call can become: the compiler refuses,
/// see the domain's `administration` module.)
fn use_cases(ours: &Ours) -> Vec<UseCase> {
    use connecticket_domain::console::ConsoleRole;
    use connecticket_domain::model::NewResident;
    use connecticket_domain::service::{
        ApplicationRequest, ContactInput, EscalationInput, NewEmployeeRequest, PolicyChange,
        StaffContactInput,
    };
    use connecticket_domain::store::TokenOwner;
    let (application, contact, staff, notification) = (
        ours.application,
        ours.contact,
        ours.staff_contact,
        ours.notification,
    );
    let resident = DEMO_RESIDENT_IDS[0];
    let contact_input = move || ContactInput {
        resident_id: resident.get(),
        role: "family".into(),
        name: "Mallory".into(),
        email: Some("m@example.org".into()),
        ..ContactInput::default()
    };
    macro_rules! case {
        ($name:literal, $action:expr, $ours:expr, |$app:ident, $call:ident| $body:expr) => {
            (
                $name,
                $action,
                $ours,
                runner(move |$app: &TestApp, $call: AdminCall| {
                    Box::pin(async move { ($body).map(|_| ()) })
                }),
            )
        };
    }
    vec![
        case!("roster", Action::Employees, false, |app, call| app
            .api
            .roster(call)
            .await),
        case!(
            "create_employee",
            Action::ManageEmployees,
            false,
            |app, call| app
                .api
                .create_employee(
                    call,
                    NewEmployeeRequest {
                        name: "Mallory",
                        email: Some("mallory@example.org"),
                        console_role: Some(ConsoleRole::Administrator)
                    }
                )
                .await
        ),
        case!(
            "invite_to_console",
            Action::ManageEmployees,
            true,
            |app, call| app
                .api
                .invite_to_console(call, DEMO_NURSE_EMPLOYEE_ID, None, None)
                .await
        ),
        case!(
            "set_console_role",
            Action::ManageEmployees,
            true,
            |app, call| app
                .api
                .set_console_role(call, DEMO_NURSE_EMPLOYEE_ID, ConsoleRole::Administrator)
                .await
        ),
        case!(
            "require_second_factor",
            Action::ManageEmployees,
            false,
            |app, call| app.api.require_second_factor(call, false).await
        ),
        case!(
            "list_applications",
            Action::Applications,
            false,
            |app, call| app.api.list_applications(call).await
        ),
        case!(
            "create_application",
            Action::ManageApplications,
            true,
            |app, call| app
                .api
                .create_application(
                    call,
                    ApplicationRequest {
                        name: "Sneaky",
                        acting_as: Some(DEMO_NURSE_EMPLOYEE_ID)
                    }
                )
                .await
        ),
        case!(
            "revoke_application",
            Action::ManageApplications,
            true,
            |app, call| app.api.revoke_application(call, application).await
        ),
        case!(
            "rotate_secret",
            Action::ManageApplications,
            true,
            |app, call| app.api.rotate_secret(call, application).await
        ),
        case!("fhir_access", Action::Applications, false, |app, call| app
            .api
            .fhir_access(call)
            .await),
        case!(
            "set_fhir_client_keys",
            Action::ManageApplications,
            true,
            |app, call| app.api.set_fhir_client_keys(call, application, None).await
        ),
        case!(
            "set_fhir_audit_access",
            Action::ManageApplications,
            true,
            |app, call| app.api.set_fhir_audit_access(call, application, true).await
        ),
        case!(
            "revoke_tokens",
            Action::ManageApplications,
            true,
            |app, call| app
                .api
                .revoke_tokens(call, TokenOwner::Application(application))
                .await
        ),
        case!(
            "list_categories",
            Action::ProviderCategories,
            false,
            |app, call| app.api.list_categories(call).await
        ),
        case!(
            "create_category",
            Action::ManageCategories,
            false,
            |app, call| app.api.create_category(call, "Sneaky").await
        ),
        case!(
            "rename_category",
            Action::ManageCategories,
            true,
            |app, call| app
                .api
                .rename_category(call, DEMO_CATEGORY_IDS[0], "Renamed")
                .await
        ),
        case!(
            "create_residents",
            Action::CreateResidents,
            false,
            |app, call| app
                .api
                .create_residents(call, vec![NewResident::named("Sunrise's own")])
                .await
        ),
        case!(
            "list_residents",
            Action::AllResidents,
            false,
            |app, call| {
                let rows = app.api.list_residents(call).await?;
                futures::TryStreamExt::try_collect::<Vec<_>>(rows)
                    .await
                    .map_err(connecticket_domain::DomainError::from)
            }
        ),
        case!(
            "list_contacts",
            Action::ResidentContacts,
            true,
            |app, call| app.api.list_contacts(call, Some(resident)).await
        ),
        case!("add_contact", Action::ManageContacts, true, |app, call| app
            .api
            .add_contact(call, contact_input())
            .await),
        case!(
            "update_contact",
            Action::ManageContacts,
            true,
            |app, call| app.api.update_contact(call, contact, contact_input()).await
        ),
        case!(
            "remove_contact",
            Action::ManageContacts,
            true,
            |app, call| app.api.remove_contact(call, contact).await
        ),
        case!(
            "notify_policy",
            Action::ProviderSettings,
            false,
            |app, call| app.api.notify_policy(call).await
        ),
        case!(
            "change_notify_policy",
            Action::NotifyPolicy,
            false,
            |app, call| app
                .api
                .change_notify_policy(
                    call,
                    PolicyChange {
                        quiet_hours: Some("20:00-07:00".into()),
                        ..PolicyChange::default()
                    }
                )
                .await
        ),
        case!(
            "notification_queue",
            Action::NotificationQueue,
            false,
            |app, call| app.api.notification_queue(call, None).await
        ),
        case!("outbox", Action::NotificationQueue, false, |app, call| app
            .api
            .outbox(
                call,
                connecticket_domain::store::NotificationFilter {
                    limit: 100,
                    ..Default::default()
                }
            )
            .await),
        case!(
            "retry_notification",
            Action::ManageNotifications,
            true,
            |app, call| app.api.retry_notification(call, notification).await
        ),
        case!(
            "escalation_policy",
            Action::ProviderSettings,
            false,
            |app, call| app.api.escalation_policy(call).await
        ),
        case!(
            "set_escalation",
            Action::ManageEscalation,
            false,
            |app, call| app
                .api
                .set_escalation(
                    call,
                    EscalationInput {
                        urgency: "Exception".into(),
                        ack_within: Some("1m".into()),
                        ..EscalationInput::default()
                    }
                )
                .await
        ),
        case!(
            "list_staff_contacts",
            Action::ProviderSettings,
            false,
            |app, call| app.api.list_staff_contacts(call).await
        ),
        case!(
            "add_staff_contact",
            Action::ManageEscalation,
            false,
            |app, call| app
                .api
                .add_staff_contact(
                    call,
                    StaffContactInput {
                        role: "on_call_nurse".into(),
                        name: "Mallory".into(),
                        phone: Some("+15555550166".into()),
                        ..StaffContactInput::default()
                    }
                )
                .await
        ),
        case!(
            "remove_staff_contact",
            Action::ManageEscalation,
            true,
            |app, call| app.api.remove_staff_contact(call, staff).await
        ),
        case!(
            "notification_report",
            Action::NotificationReport,
            false,
            |app, call| app
                .api
                .notification_report(
                    call,
                    chrono::DateTime::<chrono::Utc>::MIN_UTC,
                    chrono::Utc::now()
                )
                .await
        ),
        case!("audit_page", Action::AuditTrail, false, |app, call| app
            .api
            .audit_page(call, Default::default())
            .await),
        case!("export_audit", Action::AuditTrail, false, |app, call| app
            .api
            .export_audit(call, Default::default())
            .await),
    ]
}

/// A use case as the table runs it.
fn runner<F>(run: F) -> UseCaseRun
where
    F: for<'a> Fn(
            &'a TestApp,
            AdminCall,
        )
            -> futures::future::BoxFuture<'a, Result<(), connecticket_domain::DomainError>>
        + 'static,
{
    Box::new(run)
}
