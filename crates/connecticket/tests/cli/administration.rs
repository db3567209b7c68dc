//! One administration, two surfaces: every operation an administrator can
//! do in the console is done once from the command line and once from the
//! console, and each leaves exactly one audit entry naming who did it (the
//! operating-system user and host, with `--actor`'s name, for the command
//! line; the employee for the console) and the records it touched. The
//! operator's own commands leave theirs too, and the trail verifies after
//! all of them.

use connecticket_domain::audit::{Action, AuditRecord, Outcome};
use connecticket_domain::demo::{DEMO_EMPLOYEE_ID, DEMO_PROVIDER_ID, DEMO_RESIDENT_IDS};
use reqwest::StatusCode;

use crate::support::{admin, audit_entries, Console, TestApp};

const ADMINISTRATOR: &str = "sample@example.org";
const SCRIPT: &str = "parity-check";

/// How the trail names whoever runs these commands.
fn operator() -> String {
    let user = whoami::fallible::username().expect("a user");
    let host = whoami::fallible::hostname().expect("a host");
    format!("{user}@{host} ({SCRIPT})")
}

async fn mark(app: &TestApp) -> i64 {
    audit_entries(app).await.last().map_or(0, |e| e.id)
}

/// The one entry written since `mark`.
async fn only_entry(app: &TestApp, mark: i64, what: &str) -> AuditRecord {
    let mut since: Vec<_> = audit_entries(app)
        .await
        .into_iter()
        .filter(|e| e.id > mark)
        .collect();
    assert_eq!(since.len(), 1, "{what}: exactly one entry: {since:#?}");
    since.remove(0)
}

/// Runs an admin command as the script; answers its output.
fn cli(app: &TestApp, args: &[&str]) -> String {
    let mut with_actor = vec!["--actor", SCRIPT];
    with_actor.extend_from_slice(args);
    let (ok, out, err) = admin(&app.database_url, &with_actor);
    assert!(ok, "{args:?}: {err}");
    out
}

/// The number a command's output ends its first line with
/// (`created category 42 (Falls)` -> 42).
fn created(output: &str) -> i64 {
    output
        .split_whitespace()
        .find_map(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("no id in {output}"))
}

/// Checks an entry made from the command line: the action, success, the
/// provider, the operator and the script, and the records.
fn by_operator(entry: &AuditRecord, action: Action, records: &[String]) {
    assert_eq!(
        (entry.action, entry.outcome),
        (action, Outcome::Success),
        "{entry:?}"
    );
    assert_eq!(entry.provider_id, Some(DEMO_PROVIDER_ID.get()), "{entry:?}");
    assert_eq!(
        entry.actor.as_deref(),
        Some(operator().as_str()),
        "{entry:?}"
    );
    assert_eq!(entry.employee_id, None, "{entry:?}");
    assert!(entry.request_id.starts_with("cli-"), "{entry:?}");
    for record in records {
        assert!(entry.records.contains(record), "{record} in {entry:?}");
    }
}

/// Checks an entry made in the console, by the demo's administrator.
fn by_administrator(entry: &AuditRecord, action: Action, records: &[String]) {
    assert_eq!(
        (entry.action, entry.outcome),
        (action, Outcome::Success),
        "{entry:?}"
    );
    assert_eq!(entry.provider_id, Some(DEMO_PROVIDER_ID.get()), "{entry:?}");
    assert_eq!(entry.employee_id, Some(DEMO_EMPLOYEE_ID.get()), "{entry:?}");
    assert_eq!(entry.actor, None, "{entry:?}");
    for record in records {
        assert!(entry.records.contains(record), "{record} in {entry:?}");
    }
}

/// The record an entry names of this kind (`contact:17` -> 17).
fn named(entry: &AuditRecord, kind: &str) -> i64 {
    entry
        .records
        .iter()
        .find_map(|record| record.strip_prefix(&format!("{kind}:"))?.parse().ok())
        .unwrap_or_else(|| panic!("no {kind} in {entry:?}"))
}

/// A command the operator got wrong (a provider that does not exist):
/// refused, and the refusal recorded under their name.
async fn refused_from_the_command_line(app: &TestApp, args: &[&str], action: Action) {
    let at = mark(app).await;
    let mut with_actor = vec!["--actor", SCRIPT];
    with_actor.extend_from_slice(args);
    let (ok, _, err) = admin(&app.database_url, &with_actor);
    assert!(!ok, "{args:?} should fail");
    assert!(err.contains("Invalid Provider ID"), "{err}");
    let entry = only_entry(app, at, &format!("{args:?}")).await;
    assert_eq!(
        (entry.action, entry.outcome),
        (action, Outcome::NotFound),
        "{entry:?}"
    );
    assert_eq!(entry.actor.as_deref(), Some(operator().as_str()));
}

backend_tests! {
    /// Each operation both surfaces offer, from each.
    async fn every_administration_operation_leaves_one_entry_naming_who_did_it() {
        let app = TestApp::demo().await;
        let p = DEMO_PROVIDER_ID.to_string();
        let console = Console::demo(&app, ADMINISTRATOR).await;
        // Posts a form from its page; answers where the trail stood after
        // the page was read, so that the form's own entry is the one after.
        let submit = |page: &'static str, action: String, fields: Vec<(&'static str, String)>| {
            let console = console.clone();
            let app = &app;
            async move {
                let csrf = console.get(page).await.csrf().expect("the page's form");
                let at = mark(app).await;
                let mut fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                fields.push(("csrf", &csrf));
                let answer = console.post(&action, &fields).await;
                assert!(answer.status == StatusCode::SEE_OTHER || answer.status == StatusCode::OK, "{action}: {} {}", answer.status, answer.body);
                at
            }
        };
        let text = |pairs: &[(&'static str, &str)]| pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect::<Vec<_>>();
        let employees = "/console/admin/employees";

        // An employee.
        let at = mark(&app).await;
        let cli_employee = created(&cli(&app, &["employee", "create", "--provider", &p, "--name", "Cli Person", "--email", "cli.person@example.org"]));
        by_operator(&only_entry(&app, at, "employee create").await, Action::ManageEmployees, &[format!("employee:{cli_employee}")]);
        let at = submit(employees, employees.into(), text(&[("name", "Console Person"), ("email", "console.person@example.org"), ("role", "staff")])).await;
        let entry = only_entry(&app, at, "invite").await;
        by_administrator(&entry, Action::ManageEmployees, &["invitation:issued".to_owned()]);
        let console_employee = named(&entry, "employee");

        // A console account's invitation, and a new one.
        let at = mark(&app).await;
        cli(&app, &["employee", "invite", "--provider", &p, "--employee", &cli_employee.to_string()]);
        by_operator(&only_entry(&app, at, "employee invite").await, Action::ManageEmployees, &[format!("employee:{cli_employee}"), "invitation:issued".to_owned()]);
        let at = submit(employees, format!("{employees}/{console_employee}/reset"), Vec::new()).await;
        by_administrator(&only_entry(&app, at, "reset").await, Action::ManageEmployees, &[format!("employee:{console_employee}"), "invitation:issued".to_owned()]);

        // A role.
        let at = mark(&app).await;
        cli(&app, &["employee", "set-role", "--provider", &p, "--employee", &cli_employee.to_string(), "--role", "administrator"]);
        by_operator(&only_entry(&app, at, "set-role").await, Action::ManageEmployees, &[format!("employee:{cli_employee}"), "role:administrator".to_owned()]);
        let at = submit(employees, format!("{employees}/{console_employee}/role"), text(&[("role", "administrator")])).await;
        by_administrator(&only_entry(&app, at, "role").await, Action::ManageEmployees, &[format!("employee:{console_employee}"), "role:administrator".to_owned()]);

        // Whether a second factor is required.
        let at = mark(&app).await;
        cli(&app, &["employee", "second-factor", "--provider", &p, "--policy", "optional"]);
        by_operator(&only_entry(&app, at, "second-factor").await, Action::ManageEmployees, &["require_totp:false".to_owned()]);
        let at = submit(employees, "/console/admin/second-factor".into(), text(&[("require_totp", "0")])).await;
        by_administrator(&only_entry(&app, at, "second factor").await, Action::ManageEmployees, &["require_totp:false".to_owned()]);

        // An application: registered, its secret rotated, revoked.
        let applications = "/console/admin/applications";
        let at = mark(&app).await;
        let cli_app = created(&cli(&app, &["app", "create", "--provider", &p, "--employee", &DEMO_EMPLOYEE_ID.to_string(), "--name", "Cli app"]));
        by_operator(&only_entry(&app, at, "app create").await, Action::ManageApplications, &[format!("application:{cli_app}")]);
        let at = submit(applications, applications.into(), text(&[("name", "Console app")])).await;
        let entry = only_entry(&app, at, "register").await;
        by_administrator(&entry, Action::ManageApplications, &[format!("employee:{DEMO_EMPLOYEE_ID}")]);
        let console_app = named(&entry, "application");
        for (verb, command, record) in [("rotate", "rotate-secret", "secret:rotated"), ("revoke", "revoke", "revoked")] {
            let at = mark(&app).await;
            cli(&app, &["app", command, "--provider", &p, "--id", &cli_app.to_string()]);
            by_operator(&only_entry(&app, at, command).await, Action::ManageApplications, &[format!("application:{cli_app}"), record.to_owned()]);
            let at = submit(applications, format!("{applications}/{console_app}/{verb}"), text(&[("confirmed", "yes")])).await;
            by_administrator(&only_entry(&app, at, verb).await, Action::ManageApplications, &[format!("application:{console_app}"), record.to_owned()]);
        }

        // A category, added and renamed.
        let categories = "/console/admin/categories";
        let at = mark(&app).await;
        let cli_category = created(&cli(&app, &["category", "create", "--provider", &p, "--name", "Cli falls"]));
        by_operator(&only_entry(&app, at, "category create").await, Action::ManageCategories, &[format!("category:{cli_category}")]);
        let at = submit(categories, categories.into(), text(&[("name", "Console falls")])).await;
        let entry = only_entry(&app, at, "add category").await;
        by_administrator(&entry, Action::ManageCategories, &[]);
        let console_category = named(&entry, "category");
        let at = mark(&app).await;
        cli(&app, &["category", "rename", "--provider", &p, "--id", &cli_category.to_string(), "--name", "Cli falls, renamed"]);
        by_operator(&only_entry(&app, at, "category rename").await, Action::ManageCategories, &[format!("category:{cli_category}")]);
        let at = submit(categories, format!("{categories}/{console_category}"), text(&[("name", "Console falls, renamed")])).await;
        by_administrator(&only_entry(&app, at, "rename").await, Action::ManageCategories, &[format!("category:{console_category}")]);

        // A resident's contact: added, corrected, removed.
        let resident = DEMO_RESIDENT_IDS[0].to_string();
        let page = format!("/console/residents/{resident}");
        let page: &'static str = Box::leak(page.into_boxed_str());
        let at = mark(&app).await;
        let cli_contact = created(&cli(&app, &["contact", "add", "--provider", &p, "--resident", &resident, "--role", "family", "--name", "Cli kin", "--email", "cli.kin@example.org", "--email-consent"]));
        by_operator(&only_entry(&app, at, "contact add").await, Action::ManageContacts, &[format!("contact:{cli_contact}"), format!("resident:{resident}")]);
        let at = submit(page, format!("{page}/contacts"), text(&[("role", "family"), ("name", "Console kin"), ("email", "console.kin@example.org")])).await;
        let entry = only_entry(&app, at, "add contact").await;
        by_administrator(&entry, Action::ManageContacts, &[format!("resident:{resident}")]);
        let console_contact = named(&entry, "contact");
        let at = mark(&app).await;
        cli(&app, &["contact", "update", "--id", &cli_contact.to_string(), "--provider", &p, "--resident", &resident, "--role", "family", "--name", "Cli kin", "--phone", "+15555550123", "--sms-consent"]);
        by_operator(&only_entry(&app, at, "contact update").await, Action::ManageContacts, &[format!("contact:{cli_contact}")]);
        let at = submit(page, format!("{page}/contacts/{console_contact}"), text(&[("role", "family"), ("name", "Console kin"), ("phone", "+15555550124")])).await;
        by_administrator(&only_entry(&app, at, "update contact").await, Action::ManageContacts, &[format!("contact:{console_contact}")]);
        let at = mark(&app).await;
        cli(&app, &["contact", "remove", "--provider", &p, "--id", &cli_contact.to_string()]);
        by_operator(&only_entry(&app, at, "contact remove").await, Action::ManageContacts, &[format!("contact:{cli_contact}")]);
        let at = submit(page, format!("{page}/contacts/{console_contact}/remove"), text(&[("confirmed", "yes")])).await;
        by_administrator(&only_entry(&app, at, "remove contact").await, Action::ManageContacts, &[format!("contact:{console_contact}")]);

        // Escalation: a rule, and the staff its tiers reach.
        let escalation = "/console/admin/escalation";
        let at = mark(&app).await;
        cli(&app, &["escalation", "set", "--provider", &p, "--urgency", "High", "--ack-within", "5m"]);
        by_operator(&only_entry(&app, at, "escalation set").await, Action::ManageEscalation, &["urgency:4".to_owned()]);
        let at = submit(escalation, escalation.into(), text(&[("urgency", "4"), ("ack_within", "7m")])).await;
        by_administrator(&only_entry(&app, at, "set rule").await, Action::ManageEscalation, &["urgency:4".to_owned()]);
        let at = mark(&app).await;
        let cli_staff = created(&cli(&app, &["escalation", "contact-add", "--provider", &p, "--role", "on_call_nurse", "--name", "Cli nurse", "--phone", "+15555550177"]));
        by_operator(&only_entry(&app, at, "contact-add").await, Action::ManageEscalation, &[format!("contact:{cli_staff}")]);
        let at = submit(escalation, format!("{escalation}/staff"), text(&[("role", "on_call_nurse"), ("name", "Console nurse"), ("phone", "+15555550178")])).await;
        let entry = only_entry(&app, at, "add staff").await;
        by_administrator(&entry, Action::ManageEscalation, &[]);
        let console_staff = named(&entry, "contact");
        let at = mark(&app).await;
        cli(&app, &["escalation", "contact-remove", "--provider", &p, &cli_staff.to_string()]);
        by_operator(&only_entry(&app, at, "contact-remove").await, Action::ManageEscalation, &[format!("contact:{cli_staff}")]);
        let at = submit(escalation, format!("{escalation}/staff/{console_staff}/remove"), text(&[("confirmed", "yes")])).await;
        by_administrator(&only_entry(&app, at, "remove staff").await, Action::ManageEscalation, &[format!("contact:{console_staff}")]);

        // The notification policy: who is told, and the wording.
        let templates = "/console/admin/templates";
        let at = mark(&app).await;
        cli(&app, &["notifications", "set-policy", "--provider", &p, "--quiet-hours", "22:00-06:00"]);
        by_operator(&only_entry(&app, at, "set-policy").await, Action::NotifyPolicy, &["policy:quiet_hours".to_owned()]);
        let at = submit(templates, "/console/admin/notify-rules".into(), text(&[("created", "family"), ("quiet_hours", "21:00-07:00")])).await;
        by_administrator(&only_entry(&app, at, "rules").await, Action::NotifyPolicy, &["policy:quiet_hours".to_owned(), "policy:on_created".to_owned()]);
        let at = mark(&app).await;
        cli(&app, &["notifications", "set-policy", "--provider", &p, "--sms-template", "{provider}: news, call {callback}"]);
        by_operator(&only_entry(&app, at, "set-policy template").await, Action::NotifyPolicy, &["policy:sms_template".to_owned()]);
        let at = submit(templates, templates.into(), text(&[("sms", "{provider}: please call {callback}")])).await;
        by_administrator(&only_entry(&app, at, "templates").await, Action::NotifyPolicy, &["policy:sms_template".to_owned()]);

        // The numbers to call, and the country numbers are read in.
        let at = mark(&app).await;
        cli(&app, &["notifications", "set-policy", "--provider", &p, "--after-hours-phone", "(555) 555-0109"]);
        by_operator(&only_entry(&app, at, "after-hours number").await, Action::NotifyPolicy, &["policy:after_hours_phone".to_owned()]);
        let at = mark(&app).await;
        cli(&app, &["provider", "set-country", "--provider", &p, "--country", "gb"]);
        by_operator(&only_entry(&app, at, "set-country").await, Action::ManageProviders, &["country:GB".to_owned()]);
        let at = submit(templates, "/console/admin/phone-country".into(), text(&[("country", "US")])).await;
        by_administrator(&only_entry(&app, at, "country").await, Action::ManageProviders, &["country:US".to_owned()]);

        // A board display: granted, listed, revoked.
        let displays = "/console/admin/displays";
        let at = mark(&app).await;
        let granted = cli(&app, &["display", "grant", "--provider", &p, "--name", "Cli station", "--public-url", "https://care.example.org/"]);
        let cli_display = created(&granted);
        assert!(granted.contains("https://care.example.org/console/display/pair/"), "{granted}");
        by_operator(&only_entry(&app, at, "display grant").await, Action::ManageDisplays, &[format!("display:{cli_display}"), "granted".to_owned()]);
        let listed = cli(&app, &["display", "list", "--provider", &p]);
        assert!(listed.contains("Cli station\tWaiting to be paired"), "{listed}");
        let at = submit(displays, displays.into(), text(&[("name", "Console station")])).await;
        let entry = only_entry(&app, at, "grant display").await;
        by_administrator(&entry, Action::ManageDisplays, &["granted".to_owned()]);
        let console_display = named(&entry, "display");
        let at = mark(&app).await;
        cli(&app, &["display", "revoke", "--provider", &p, "--id", &cli_display.to_string()]);
        by_operator(&only_entry(&app, at, "display revoke").await, Action::ManageDisplays, &[format!("display:{cli_display}"), "revoked".to_owned()]);
        let at = submit(displays, format!("{displays}/{console_display}/revoke"), text(&[("confirmed", "yes")])).await;
        by_administrator(&only_entry(&app, at, "revoke display").await, Action::ManageDisplays, &[format!("display:{console_display}"), "revoked".to_owned()]);
        assert!(cli(&app, &["display", "list", "--provider", &p]).contains("Cli station\tRevoked"));

        // A notification made due again.
        app.example().await.create_ticket(&[("title", "Fell"), ("resident_id", &resident), ("email", "1"), ("sent_to_family", "1")]).await;
        let outbox = app.api.outbox(app.admin.call(Action::NotificationQueue), Default::default()).await.expect("outbox");
        let notification = outbox[0].id.to_string();
        let at = mark(&app).await;
        cli(&app, &["notifications", "retry", &notification, "--provider", &p]);
        by_operator(&only_entry(&app, at, "retry").await, Action::ManageNotifications, &[format!("notification:{notification}")]);
        let at = submit("/console/admin/notifications", format!("/console/admin/notifications/{notification}/retry"), Vec::new()).await;
        by_administrator(&only_entry(&app, at, "console retry").await, Action::ManageNotifications, &[format!("notification:{notification}")]);

        // What the operator gets wrong is refused, and recorded so.
        for (args, action) in [
            (vec!["employee", "create", "--provider", "999999", "--name", "Nobody"], Action::ManageEmployees),
            (vec!["app", "revoke", "--provider", "999999", "--id", "1"], Action::ManageApplications),
            (vec!["category", "create", "--provider", "999999", "--name", "Nowhere"], Action::ManageCategories),
            (vec!["escalation", "set", "--provider", "999999", "--urgency", "High", "--ack-within", "5m"], Action::ManageEscalation),
        ] {
            refused_from_the_command_line(&app, &args, action).await;
        }
        // Invalid input is refused by the use case, recorded as invalid,
        // and said by its flag.
        let at = mark(&app).await;
        let (ok, _, err) = admin(&app.database_url, &["--actor", SCRIPT, "escalation", "set", "--provider", &p, "--urgency", "High", "--ack-within", "soon"]);
        assert!(!ok && err.contains("--ack-within must be a duration like 90s, 15m or 2h"), "{err}");
        let entry = only_entry(&app, at, "invalid rule").await;
        assert_eq!((entry.action, entry.outcome, entry.actor.as_deref()), (Action::ManageEscalation, Outcome::Invalid, Some(operator().as_str())));

        // The trail, all of it, verifies.
        let verified = cli(&app, &["audit", "verify"]);
        assert!(verified.contains("the audit trail is intact"), "{verified}");
    }

    /// The operator's own commands: each leaves one entry naming them, and
    /// a new provider's export lists what made it.
    async fn the_operators_own_commands_leave_one_entry_naming_them() {
        let app = TestApp::demo().await;
        let at = mark(&app).await;
        let provider = created(&cli(&app, &["provider", "create", "--name", "Maple Court", "--time-zone", "Europe/Berlin"])).to_string();
        let entry = only_entry(&app, at, "provider create").await;
        assert_eq!((entry.action, entry.provider_id, entry.actor.as_deref()), (Action::ManageProviders, provider.parse().ok(), Some(operator().as_str())));
        let employee = created(&cli(&app, &["employee", "create", "--provider", &provider, "--name", "Nurse Ada", "--email", "ada@maple.example"])).to_string();
        cli(&app, &["app", "create", "--provider", &provider, "--employee", &employee, "--name", "Tablet"]);
        cli(&app, &["category", "create", "--provider", &provider, "--name", "Falls"]);
        // The export for the new provider lists each, naming the operator.
        let export = cli(&app, &["audit", "export", "--provider", &provider, "--format", "csv"]);
        let rows: Vec<&str> = export.lines().skip(1).collect();
        for action in ["manage_providers", "manage_employees", "manage_applications", "manage_categories"] {
            assert!(rows.iter().any(|row| row.contains(&format!(",{action},success,")) && row.ends_with(&operator())), "{action} in {export}");
        }

        // Reads of patient data, and everything else an operator does.
        let p = DEMO_PROVIDER_ID.to_string();
        let dir = tempfile::tempdir().expect("dir");
        let csv = dir.path().join("residents.csv");
        std::fs::write(&csv, "first_name,last_name\nRosa,Diaz\nLeo,Marsh\n").expect("csv");
        let reads_and_writes: Vec<(Vec<&str>, Action)> = vec![
            (vec!["provider", "list"], Action::Providers),
            (vec!["employee", "list", "--provider", &p], Action::Employees),
            (vec!["app", "list", "--provider", &p], Action::Applications),
            (vec!["category", "list", "--provider", &p], Action::ProviderCategories),
            (vec!["contact", "list", "--provider", &p], Action::ResidentContacts),
            (vec!["resident", "create", "--provider", &p, "--first-name", "Ada"], Action::CreateResidents),
            (vec!["resident", "import", "--provider", &p, csv.to_str().expect("path")], Action::CreateResidents),
            (vec!["notifications", "policy", "--provider", &p], Action::ProviderSettings),
            (vec!["escalation", "show", "--provider", &p], Action::ProviderSettings),
            (vec!["escalation", "contacts", "--provider", &p], Action::ProviderSettings),
            (vec!["report", "notifications", "--provider", &p], Action::NotificationReport),
            (vec!["token", "revoke", "--provider", &p, "--employee", "81987870"], Action::ManageApplications),
            (vec!["audit", "export", "--provider", &p], Action::AuditTrail),
        ];
        for (args, action) in reads_and_writes {
            let at = mark(&app).await;
            cli(&app, &args);
            let entry = only_entry(&app, at, &format!("{args:?}")).await;
            assert_eq!((entry.action, entry.outcome), (action, Outcome::Success), "{args:?}: {entry:?}");
            assert_eq!(entry.actor.as_deref(), Some(operator().as_str()), "{args:?}");
        }
        // A whole list streams: its start, durable before the first row,
        // and how it ended.
        let at = mark(&app).await;
        let listed = cli(&app, &["resident", "list", "--provider", &p]);
        assert!(listed.contains("Rosa"), "{listed}");
        let since: Vec<_> = audit_entries(&app).await.into_iter().filter(|e| e.id > at).collect();
        let outcomes: Vec<_> = since.iter().map(|e| (e.action, e.outcome)).collect();
        assert_eq!(outcomes, [(Action::AllResidents, Outcome::Started), (Action::AllResidents, Outcome::Success)]);
        // A console password set from the command line.
        let at = mark(&app).await;
        let (ok, _, err) = crate::support::admin_with_input(&app.database_url, &["--actor", SCRIPT, "employee", "set-password", "--email", "nurse@example.org"], "a long new password 1\n");
        assert!(ok, "{err}");
        let entry = only_entry(&app, at, "set-password").await;
        assert_eq!((entry.action, entry.provider_id, entry.actor.as_deref()), (Action::ConsoleAccount, Some(DEMO_PROVIDER_ID.get()), Some(operator().as_str())));
        assert!(entry.records.contains(&"password:set".to_owned()), "{entry:?}");
        // And the trail verifies, naming how many entries it checked.
        let verified = cli(&app, &["audit", "verify"]);
        assert!(verified.contains("the audit trail is intact"), "{verified}");
    }
}
