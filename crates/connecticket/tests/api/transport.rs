//! TLS termination with a real client, and the client address behind
//! trusted proxies.

use connecticket_domain::audit::AuditRecord;
use futures::TryStreamExt;
use reqwest::StatusCode;

use crate::support::tls::{certificate, trusting};
use crate::support::{eventually, send, TestApp, TestOptions};

backend_tests! {
    async fn the_api_is_served_over_tls_to_a_real_client() {
        let dir = tempfile::tempdir().expect("dir");
        let (files, pem) = certificate(dir.path(), "server");
        let app = TestApp::spawn(TestOptions { tls: Some(files), ..TestOptions::default() }).await;
        assert!(app.base.starts_with("https://"));
        let client = trusting(&pem);
        let reply = send(
            client
                .post(app.url("/api/authorize"))
                .header("api_key", connecticket_domain::demo::DEMO_API_KEY)
                .header("api_secret", connecticket_domain::demo::DEMO_API_SECRET),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        // A client that does not trust the certificate gets no answer, and
        // plain HTTP on the TLS port gets none either.
        assert!(reqwest::get(app.url("/health")).await.is_err());
        let plain = app.base.replacen("https://", "http://", 1);
        let over_plain_http = reqwest::get(format!("{plain}/health")).await;
        assert!(!over_plain_http.map(|r| r.status().is_success()).unwrap_or(false));
    }

    async fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusting_app = TestApp::spawn(TestOptions {
            trusted_proxies: vec!["127.0.0.0/8".parse().expect("net")],
            ..TestOptions::default()
        })
        .await;
        let plain_app = TestApp::demo().await;
        for (app, expected) in [(&trusting_app, "203.0.113.9"), (&plain_app, "127.0.0.1")] {
            let session = app.example().await;
            let reply = send(session.get("provider_categories").header("x-forwarded-for", "6.6.6.6, 203.0.113.9")).await;
            assert_eq!(reply.status, StatusCode::OK);
            let entries: Vec<Vec<AuditRecord>> = app.store.audit_entries().try_collect().await.expect("audit");
            let last = entries.into_iter().flatten().last().expect("entry");
            assert_eq!(last.client_addr.as_deref(), Some(expected));
        }
    }

    async fn a_certificate_replaced_on_disk_is_served_without_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let (files, old_pem) = certificate(dir.path(), "server");
        let app = TestApp::spawn(TestOptions {
            tls: Some(files.clone()),
            tls_check_interval: std::time::Duration::from_millis(50),
            ..TestOptions::default()
        })
        .await;
        let old_client = trusting(&old_pem);
        assert_eq!(send(old_client.get(app.url("/health"))).await.status, StatusCode::OK);
        let (next, new_pem) = certificate(dir.path(), "next");
        std::fs::rename(&next.certificate, &files.certificate).expect("replace certificate");
        std::fs::rename(&next.key, &files.key).expect("replace key");
        let new_client = trusting(&new_pem);
        eventually("the server to notice the new certificate", || async {
            let answer = new_client.get(app.url("/health")).send().await;
            answer.ok().filter(|a| a.status() == StatusCode::OK).map(|_| ())
        })
        .await;
    }
}
