//! Secrets hygiene: rotating a secret, revoking tokens, and refusing to
//! serve real data behind the published demo credentials.

use std::process::Command;

use reqwest::StatusCode;

use crate::support::{
    admin, binary, demo_session, once_refused, send, Backend, ServerProcess, TestDatabase,
};

fn ok(database: &str, args: &[&str]) -> String {
    let (success, stdout, stderr) = admin(database, args);
    assert!(success, "{args:?} failed: {stderr}");
    stdout
}

fn field(output: &str, label: &str) -> String {
    output
        .lines()
        .find_map(|line| line.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in {output}"))
        .trim()
        .to_owned()
}

async fn authorize(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    secret: &str,
) -> crate::support::Reply {
    send(
        http.post(format!("{base}/api/authorize"))
            .header("api-key", key)
            .header("api-secret", secret),
    )
    .await
}

backend_tests! {
    /// `connecticket resident list | head -1`: the reader goes away after
    /// the first line; the command ends quietly and successfully, as any
    /// Unix tool does, with no panic and no "Broken pipe" error.
    async fn a_reader_that_stops_early_ends_the_command_quietly() {
        let app = crate::support::TestApp::demo().await;
        let residents = (0..3_000)
            .map(|n| connecticket_domain::model::NewResident::named(format!("Resident {n}")))
            .collect();
        let call = app
            .admin
            .within(connecticket_domain::audit::Action::CreateResidents, connecticket_domain::demo::DEMO_PROVIDER_ID)
            .await;
        app.api.create_residents(call, residents).await.expect("residents");
        let mut child = Command::new(binary())
            .args(["--database", &app.database_url, "resident", "list", "--provider", "72136196"])
            .env("CONNECTICKET_HASH_KEY", crate::support::TEST_HASH_KEY)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut first).expect("a line");
        assert_eq!(first.trim_end(), "id,first_name,last_name,location,state");
        // The reader is gone now (as `head` exits after its line).
        let output = child.wait_with_output().expect("finish");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{:?}: {stderr}", output.status);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    }

    async fn rotating_a_secret_and_revoking_tokens_take_effect_within_a_second() {
        let database = TestDatabase::create(Backend::current()).await;
        let db = database.url.clone();
        let provider = ok(&db, &["provider", "create", "--name", "P"]).split_whitespace().nth(2).expect("id").to_owned();
        let nurse = ok(&db, &["employee", "create", "--provider", &provider, "--name", "Nurse"]).split_whitespace().nth(2).expect("id").to_owned();
        let doctor = ok(&db, &["employee", "create", "--provider", &provider, "--name", "Doctor"]).split_whitespace().nth(2).expect("id").to_owned();
        let tablet = ok(&db, &["app", "create", "--provider", &provider, "--employee", &nurse, "--name", "Tablet"]);
        let desk = ok(&db, &["app", "create", "--provider", &provider, "--employee", &doctor, "--name", "Desk"]);
        let (key, old_secret) = (field(&tablet, "api_key:"), field(&tablet, "api_secret:"));
        let (desk_key, desk_secret) = (field(&desk, "api_key:"), field(&desk, "api_secret:"));
        let server = ServerProcess::start(&db, &[]);
        let http = reqwest::Client::new();
        let token = authorize(&http, &server.base, &key, &old_secret).await.body["access_token"].as_str().expect("token").to_owned();
        let desk_token = authorize(&http, &server.base, &desk_key, &desk_secret).await.body["access_token"].as_str().expect("token").to_owned();
        let call = |token: &str, key: &str, secret: &str| {
            http.get(format!("{}/api/{token}/provider_categories", server.base)).header("api_key", key).header("api_secret", secret)
        };
        assert_eq!(send(call(&token, &key, &old_secret)).await.status, StatusCode::OK);

        // Revoking the nurse's tokens leaves the doctor's working.
        assert_eq!(ok(&db, &["token", "revoke", "--provider", &provider, "--employee", &nurse]).trim(), "revoked 1 tokens");
        once_refused(|| call(&token, &key, &old_secret)).await.assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        assert_eq!(send(call(&desk_token, &desk_key, &desk_secret)).await.status, StatusCode::OK);

        // Rotation: the old secret is refused everywhere, the new one works.
        let token = authorize(&http, &server.base, &key, &old_secret).await.body["access_token"].as_str().expect("token").to_owned();
        let app_id = ok(&db, &["app", "list", "--provider", &provider]).lines().nth(1).expect("row").split('\t').next().expect("id").to_owned();
        let rotated = ok(&db, &["app", "rotate-secret", "--provider", &provider, "--id", &app_id]);
        let new_secret = field(&rotated, "api_secret:");
        assert_ne!(new_secret, old_secret);
        assert_eq!(field(&rotated, "api_key:"), key);
        authorize(&http, &server.base, &key, &old_secret).await.assert_failure(StatusCode::UNAUTHORIZED, "Invalid API key or API secret");
        once_refused(|| call(&token, &key, &new_secret)).await.assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        let fresh = authorize(&http, &server.base, &key, &new_secret).await;
        assert_eq!(fresh.status, StatusCode::OK);
        let fresh = fresh.body["access_token"].as_str().expect("token").to_owned();
        assert_eq!(send(call(&fresh, &key, &new_secret)).await.status, StatusCode::OK);
        assert!(admin(&db, &["token", "revoke", "--provider", &provider, "--employee", "999"]).2.contains("Invalid Employee ID"));
    }

    async fn serving_refuses_a_database_that_accepts_the_demo_credentials() {
        let database = TestDatabase::create(Backend::current()).await;
        // Seed the demo, then try to serve it as if it were real.
        let demo = ServerProcess::start(&database.url, &["--demo"]);
        let http = reqwest::Client::new();
        demo_session(&http, &demo.base).await;
        drop(demo);
        let refused = Command::new(binary())
            .args(["--database", &database.url, "serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .env("CONNECTICKET_HASH_KEY", crate::support::TEST_HASH_KEY)
            .output()
            .expect("run");
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("accepts the published demo credentials"), "{stderr}");
        // Once the demo applications are revoked, the console's demo
        // passwords still stop it.
        for provider in ["72136196", "72136197"] {
            let apps = ok(&database.url, &["app", "list", "--provider", provider]);
            let id = apps.lines().nth(1).expect("row").split('\t').next().expect("id").to_owned();
            ok(&database.url, &["app", "revoke", "--provider", provider, "--id", &id]);
        }
        let refused = Command::new(binary())
            .args(["--database", &database.url, "serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .env("CONNECTICKET_HASH_KEY", crate::support::TEST_HASH_KEY)
            .output()
            .expect("run");
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("open with the published demo password"), "{stderr}");
        // A password too short is refused by name; then each account gets
        // its own, and it serves.
        let (set, _, err) = set_password(&database.url, "sample@example.org", "short");
        assert!(!set);
        assert!(err.contains("password must be at least 12 characters"), "{err}");
        for email in ["sample@example.org", "nurse@example.org", "sunrise@example.org"] {
            let (set, _, err) = set_password(&database.url, email, "a new and private phrase");
            assert!(set, "{err}");
        }
        let server = ServerProcess::start(&database.url, &[]);
        assert_eq!(send(http.get(format!("{}/health", server.base))).await.status, StatusCode::OK);
        let mut console = crate::support::Console::new(&server.base);
        let old = console.sign_in("nurse@example.org", crate::support::DEMO_PASSWORD, None).await;
        assert_eq!(old.status, StatusCode::UNAUTHORIZED);
        let new = console.sign_in("nurse@example.org", "a new and private phrase", None).await;
        assert_eq!(new.status, StatusCode::SEE_OTHER);

        // The operator invites a provider's first administrator: the printed
        // link sets a password that signs in with the administrator's role.
        let employee = ok(&database.url, &["employee", "create", "--provider", "72136196", "--name", "Dana", "--email", "dana@example.org"]);
        let employee = employee.split_whitespace().nth(2).expect("id").to_owned();
        let link = ok(&database.url, &["employee", "invite", "--provider", "72136196", "--employee", &employee, "--role", "administrator", "--public-url", "https://care.example.org/"]);
        let link = link.trim();
        assert!(link.starts_with("https://care.example.org/console/invite/"), "{link}");
        let path = &link["https://care.example.org".len()..];
        let visitor = crate::support::Console::new(&server.base);
        assert_eq!(visitor.accept_invitation(path, "dana's own long password").await.status, StatusCode::OK);
        let mut dana = crate::support::Console::new(&server.base);
        assert_eq!(dana.sign_in("dana@example.org", "dana's own long password", None).await.status, StatusCode::SEE_OTHER);
        assert_eq!(dana.get("/console/admin/employees").await.status, StatusCode::OK);
    }

    async fn serve_refuses_the_published_hash_key_outside_demo_mode() {
        let database = TestDatabase::create(Backend::current()).await;
        let serve = |key: Option<&str>, demo: bool| {
            let mut command = Command::new(binary());
            command
                .args(["--database", &database.url, "serve", "--listen", "127.0.0.1:0"])
                .env("RUST_LOG", "warn")
                .env_remove("CONNECTICKET_HASH_KEY");
            if let Some(key) = key {
                command.args(["--hash-key", key]);
            }
            if demo {
                command.arg("--demo");
            }
            command
        };
        for key in [None, Some(connecticket_domain::auth::DEMO_HASH_KEY)] {
            let refused = serve(key, false).output().expect("run");
            assert!(!refused.status.success());
            let stderr = String::from_utf8_lossy(&refused.stderr);
            assert!(stderr.contains("CONNECTICKET_HASH_KEY"), "{stderr}");
            assert!(stderr.contains("openssl rand -hex 32"), "says how to make one: {stderr}");
        }
        // Nothing was written before refusing.
        let (_, providers, _) = admin(&database.url, &["provider", "list"]);
        assert_eq!(providers.lines().count(), 1, "{providers}");
        // A demo runs on the published key: its credentials are public anyway.
        let mut demo = serve(None, true)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start");
        let stdout = demo.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("line");
        assert!(line.starts_with("connecticket listening on"), "{line}");
        let _ = demo.kill();
        let _ = demo.wait();
    }
}

/// `employee set-password` with the password on standard input.
fn set_password(database_url: &str, email: &str, password: &str) -> (bool, String, String) {
    crate::support::admin_with_input(
        database_url,
        &["employee", "set-password", "--email", email],
        &format!("{password}\n"),
    )
}
