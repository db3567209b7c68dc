use std::io::Write;

use reqwest::StatusCode;

use crate::support::{admin, once_refused, send, Backend, ServerProcess, TestDatabase};

/// Pulls `label: value` out of command output.
fn field(output: &str, label: &str) -> String {
    output
        .lines()
        .find_map(|line| line.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in {output}"))
        .trim()
        .to_owned()
}

/// `created <kind> <id> (...)` -> id
fn created_id(output: &str) -> String {
    output
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("unexpected output {output}"))
        .to_owned()
}

fn ok(database: &str, args: &[&str]) -> String {
    let (success, stdout, stderr) = admin(database, args);
    assert!(success, "{args:?} failed: {stderr}");
    stdout
}

fn fails(database: &str, args: &[&str]) -> String {
    let (success, _, stderr) = admin(database, args);
    assert!(!success, "{args:?} should fail");
    stderr
}

backend_tests! {
async fn an_operator_sets_up_a_provider_without_sql_and_a_client_uses_it() {
    let database = TestDatabase::create(Backend::current()).await;
    let db = database.url.clone();
    let provider = created_id(&ok(
        &db,
        &[
            "provider",
            "create",
            "--name",
            "Maple Court",
            "--time-zone",
            "Europe/Berlin",
        ],
    ));
    assert!(
        ok(&db, &["provider", "list"]).contains(&format!("{provider}\tMaple Court\tEurope/Berlin"))
    );
    let employee = created_id(&ok(
        &db,
        &[
            "employee",
            "create",
            "--provider",
            &provider,
            "--name",
            "Nurse Ada",
        ],
    ));
    assert!(ok(&db, &["employee", "list", "--provider", &provider]).contains("Nurse Ada"));
    let created = ok(
        &db,
        &[
            "app",
            "create",
            "--provider",
            &provider,
            "--employee",
            &employee,
            "--name",
            "Tablet",
        ],
    );
    let api_key = field(&created, "api_key:");
    let api_secret = field(&created, "api_secret:");
    assert_eq!(api_key.len(), 32);
    assert!(api_secret.len() >= 26);
    let listing = ok(&db, &["app", "list", "--provider", &provider]);
    assert!(listing.contains(&api_key));
    assert!(!listing.contains(&api_secret), "secrets are never listed");
    let category = created_id(&ok(
        &db,
        &[
            "category",
            "create",
            "--provider",
            &provider,
            "--name",
            "Falls",
        ],
    ));
    assert!(ok(&db, &["category", "list", "--provider", &provider]).contains("Falls"));
    let resident = ok(
        &db,
        &[
            "resident",
            "create",
            "--provider",
            &provider,
            "--first-name",
            "Greta",
            "--dob",
            "1940-05-06",
            "--in-home-care",
        ],
    );
    let resident = resident.trim().rsplit(' ').next().expect("id").to_owned();

    let server = ServerProcess::start(&db, &[]);
    let http = reqwest::Client::new();
    let authorized = send(
        http.post(format!("{}/api/authorize", server.base))
            .header("api-key", &api_key)
            .header("api-secret", &api_secret),
    )
    .await;
    assert_eq!(authorized.status, StatusCode::OK);
    assert!(authorized.body["message"]
        .as_str()
        .expect("message")
        .ends_with("Maple Court"));
    assert!(authorized.body["expires_at"]
        .as_str()
        .expect("expiry")
        .ends_with("+0100"));
    let token = authorized.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let call = |path: &str| {
        http.get(format!("{}/api/{token}/{path}", server.base))
            .header("api_key", &api_key)
            .header("api_secret", &api_secret)
    };
    let residents = send(call("all_residents")).await;
    assert_eq!(residents.body["residents"][0]["first_name"], "Greta");
    assert_eq!(residents.body["residents"][0]["dob"], "1940/05/06");
    assert_eq!(residents.body["residents"][0]["in_home_care"], true);
    let ticket = send(call(&format!(
        "create_ticket?title=Fall&resident_id={resident}&category_{category}=Issue"
    )))
    .await;
    assert_eq!(ticket.status, StatusCode::OK, "{}", ticket.body);
    let tickets = send(call("tickets")).await;
    assert_eq!(
        tickets.body["ticket"][0]["employee_id"].to_string(),
        employee
    );

    // Revoking through the admin command stops the running server's token.
    let app_id = listing
        .lines()
        .nth(1)
        .expect("row")
        .split('\t')
        .next()
        .expect("id")
        .to_owned();
    assert!(ok(
        &db,
        &["app", "revoke", "--provider", &provider, "--id", &app_id]
    )
    .contains("revoked"));
    once_refused(|| call("tickets"))
        .await
        .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
}

async fn admin_commands_refuse_bad_input_clearly() {
    let dir = tempfile::tempdir().expect("dir");
    let database = TestDatabase::create(Backend::current()).await;
    let db = database.url.clone();
    assert!(fails(
        &db,
        &[
            "provider",
            "create",
            "--name",
            "X",
            "--time-zone",
            "Mars/Olympus"
        ]
    )
    .contains("is not an IANA time zone name"));
    assert!(fails(&db, &["provider", "create", "--name", "  "]).contains("name required"));
    assert!(fails(
        &db,
        &["employee", "create", "--provider", "42", "--name", "N"]
    )
    .contains("Invalid Provider ID"));
    let provider = created_id(&ok(&db, &["provider", "create", "--name", "P"]));
    let other = created_id(&ok(&db, &["provider", "create", "--name", "Q"]));
    let foreign_employee = created_id(&ok(
        &db,
        &["employee", "create", "--provider", &other, "--name", "E"],
    ));
    assert!(fails(
        &db,
        &[
            "app",
            "create",
            "--provider",
            &provider,
            "--employee",
            &foreign_employee,
            "--name",
            "A"
        ]
    )
    .contains("Invalid Employee ID"));
    assert!(fails(
        &db,
        &["app", "revoke", "--provider", &provider, "--id", "999"]
    )
    .contains("Invalid Application ID"));
    assert!(fails(
        &db,
        &[
            "resident",
            "create",
            "--provider",
            &provider,
            "--first-name",
            "A",
            "--dob",
            "someday"
        ]
    )
    .contains("dob must be a date"));
    // A bare path is not a database URL: nothing is created.
    let bare = dir.path().join("bare.db");
    assert!(fails(bare.to_str().expect("path"), &["provider", "list"])
        .contains("unsupported database URL"));
    assert!(!bare.exists());
}

async fn csv_import_is_all_or_nothing_with_a_row_report() {
    let dir = tempfile::tempdir().expect("dir");
    let database = TestDatabase::create(Backend::current()).await;
    let db = database.url.clone();
    let provider = created_id(&ok(&db, &["provider", "create", "--name", "P"]));
    let header = ok(&db, &["resident", "csv-header"]);
    assert!(header.starts_with("first_name,last_name,dob"));

    let bad = dir.path().join("bad.csv");
    let mut file = std::fs::File::create(&bad).expect("csv");
    writeln!(file, "first_name,last_name,dob,in_home_care").expect("write");
    writeln!(file, "Ada,Lovelace,1815/12/10,no").expect("write");
    writeln!(file, ",Nameless,1900/01/01,no").expect("write");
    writeln!(file, "Bad,Date,12-10-1815,no").expect("write");
    writeln!(file, "Odd,Flag,1900/01/01,sometimes").expect("write");
    drop(file);
    let report = fails(
        &db,
        &[
            "resident",
            "import",
            "--provider",
            &provider,
            bad.to_str().expect("path"),
        ],
    );
    assert!(
        report.contains("nothing was imported; 3 bad rows"),
        "{report}"
    );
    assert!(report.contains("line 3: first_name required"), "{report}");
    assert!(
        report.contains("line 4: dob must be a date like 1937/01/21"),
        "{report}"
    );
    assert!(
        report.contains("line 5: in_home_care must be a boolean"),
        "{report}"
    );

    let unknown = dir.path().join("unknown.csv");
    std::fs::write(&unknown, "first_name,ssn\nA,123\n").expect("csv");
    assert!(fails(
        &db,
        &[
            "resident",
            "import",
            "--provider",
            &provider,
            unknown.to_str().expect("path")
        ]
    )
    .contains("unknown CSV columns: ssn"));

    let good = dir.path().join("good.csv");
    std::fs::write(&good, "first_name,last_name,location\nAda,Lovelace,Room 1\n\"Grace, Jr.\",Hopper,Room 2\nAlan,Turing,\n").expect("csv");
    let imported = ok(
        &db,
        &[
            "resident",
            "import",
            "--provider",
            &provider,
            good.to_str().expect("path"),
        ],
    );
    assert!(imported.starts_with("imported 3 residents"), "{imported}");
    // The failed import wrote nothing: the good one's ids start at the first.
    assert!(imported.contains("ids 1 to 3"), "{imported}");
    let listed = ok(&db, &["resident", "list", "--provider", &provider]);
    assert_eq!(
        listed,
        "id,first_name,last_name,location,state\n1,Ada,Lovelace,Room 1,active\n2,\"Grace, Jr.\",Hopper,Room 2,active\n3,Alan,Turing,,active\n"
    );
}

async fn contacts_and_the_notification_queue_are_managed_from_the_command_line() {
    let database = TestDatabase::create(Backend::current()).await;
    let db = database.url.clone();
    let provider = created_id(&ok(&db, &["provider", "create", "--name", "P"]));
    let other = created_id(&ok(&db, &["provider", "create", "--name", "Q"]));
    ok(&db, &["resident", "create", "--provider", &provider, "--first-name", "Greta"]);
    let resident = ok(&db, &["resident", "list", "--provider", &provider])
        .lines()
        .nth(1)
        .and_then(|line| line.split(',').next())
        .map(str::to_owned)
        .expect("a resident");
    let add = |provider: &str, extra: &[&str]| {
        let mut args = vec!["contact", "add", "--provider", provider, "--resident", &resident];
        args.extend_from_slice(extra);
        admin(&db, &args)
    };
    let (_, _, err) = add(&provider, &["--role", "cousin", "--name", "C", "--phone", "+15555550123"]);
    assert!(err.contains("role must be family, primary_physician or healthcare_professional"), "{err}");
    let (_, _, err) = add(&provider, &["--role", "family", "--name", "C", "--phone", "5550123"]);
    assert!(err.contains("phone must be a number like (555) 555-0123"), "{err}");
    let (_, _, err) = add(&provider, &["--role", "family", "--name", "C", "--email", "not-an-address"]);
    assert!(err.contains("email must look like name@example.org"), "{err}");
    let (_, _, err) = add(&provider, &["--role", "family", "--name", "C"]);
    assert!(err.contains("needs an email address or a phone number"), "{err}");
    // Another provider's resident is no resident of theirs.
    let (success, _, err) = add(&other, &["--role", "family", "--name", "C", "--phone", "+15555550123"]);
    assert!(!success && err.contains("Invalid Resident ID"), "{err}");
    let (success, out, err) = add(
        &provider,
        &["--role", "family", "--name", "Ann Olsen", "--phone", "+1 555 555 0123", "--sms-consent", "--email-consent"],
    );
    assert!(success, "{err}");
    let contact = created_id(&out);
    let listed = ok(&db, &["contact", "list", "--provider", &provider, "--resident", &resident]);
    // No email, so no email consent; the number in E.164.
    assert!(listed.contains(&format!("{contact}\t{resident}\tfamily\tAnn Olsen\t\t+15555550123\tfalse\ttrue")), "{listed}");
    assert!(ok(&db, &["contact", "list", "--provider", &other]).lines().count() == 1);
    let policy = ok(&db, &["notifications", "policy", "--provider", &provider]);
    assert!(policy.contains("on_status_change\tfamily,primary_physician") && policy.contains("quiet_hours\t21:00-08:00"), "{policy}");
    let (_, _, err) = admin(
        &db,
        &["notifications", "set-policy", "--provider", &provider, "--email-subject-template", "Re: {comments}"],
    );
    assert!(err.contains("the email subject template uses {comments}"), "{err}");
    let set = ok(
        &db,
        &["notifications", "set-policy", "--provider", &provider, "--sms-template", "{provider}: news about {resident}"],
    );
    assert!(set.contains("policy saved"));
    let shown = ok(&db, &["notifications", "policy", "--provider", &provider]);
    assert!(shown.contains("sms_template\t{provider}: news about {resident}") && shown.contains("email_body_template\t(default)"), "{shown}");
    let (_, _, err) = admin(&db, &["notifications", "set-policy", "--provider", &provider, "--quiet-hours", "late"]);
    assert!(err.contains("--quiet-hours must be two times like 21:00-08:00"), "{err}");
    let queue = ok(&db, &["notifications", "list", "--provider", &provider]);
    assert_eq!(queue.lines().count(), 1, "only the header: {queue}");
    ok(&db, &["contact", "remove", "--provider", &provider, "--id", &contact]);
    assert_eq!(ok(&db, &["contact", "list", "--provider", &provider]).lines().count(), 1);
}

async fn a_csv_import_carries_residents_contacts_all_or_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let database = TestDatabase::create(Backend::current()).await;
    let db = database.url.clone();
    let provider = created_id(&ok(&db, &["provider", "create", "--name", "P"]));
    let header = ok(&db, &["resident", "csv-header"]);
    assert!(header.trim_end().ends_with("contact3_email_consent,contact3_sms_consent"), "{header}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "first_name,contact1_role,contact1_name,contact1_phone,contact1_sms_consent\n\
         Ada,family,Ann,+15555550123,yes\n\
         Grace,physician,Dr Who,555-0123,yes\n",
    )
    .expect("csv");
    let report = fails(&db, &["resident", "import", "--provider", &provider, bad.to_str().expect("path")]);
    assert!(report.contains("nothing was imported; 1 bad rows"), "{report}");
    assert!(report.contains("line 3: contact1: phone must be a number like (555) 555-0123"), "{report}");
    assert_eq!(ok(&db, &["contact", "list", "--provider", &provider]).lines().count(), 1);

    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "first_name,contact1_role,contact1_name,contact1_phone,contact1_sms_consent,contact2_role,contact2_name,contact2_email,contact2_email_consent\n\
         Ada,family,Ann,+15555550123,yes,physician,Dr Bell,bell@example.org,yes\n\
         Grace,,,,,,,,\n",
    )
    .expect("csv");
    let imported = ok(&db, &["resident", "import", "--provider", &provider, good.to_str().expect("path")]);
    assert!(imported.contains("imported 2 residents"), "{imported}");
    let contacts = ok(&db, &["contact", "list", "--provider", &provider]);
    let rows: Vec<_> = contacts.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{contacts}");
    assert!(rows[0].contains("\tfamily\tAnn\t\t+15555550123\tfalse\ttrue"), "{contacts}");
    assert!(rows[1].contains("\tprimary_physician\tDr Bell\tbell@example.org\t\ttrue\tfalse"), "{contacts}");
}
}
