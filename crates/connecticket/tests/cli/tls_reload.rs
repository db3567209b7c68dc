//! A certificate replaced while serving: new connections get the new one,
//! established connections are not dropped.

use reqwest::StatusCode;

use crate::support::tls::{certificate, trusting};
use crate::support::{eventually, send, sqlite_path, ServerProcess};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_certificate_without_dropping_connections() {
    let dir = tempfile::tempdir().expect("dir");
    let (files, old_pem) = certificate(dir.path(), "server");
    let database = sqlite_path(dir.path());
    let server = ServerProcess::start(
        &database,
        &[
            "--demo",
            "--tls-cert",
            files.certificate.to_str().expect("path"),
            "--tls-key",
            files.key.to_str().expect("path"),
            "--header-timeout-secs",
            "30",
        ],
    );
    assert!(server.base.starts_with("https://"));
    let old_client = trusting(&old_pem);
    assert_eq!(
        send(old_client.get(format!("{}/health", server.base)))
            .await
            .status,
        StatusCode::OK
    );

    // Replace the files with a new certificate and tell the server.
    let (new_files, new_pem) = certificate(dir.path(), "next");
    std::fs::rename(&new_files.certificate, &files.certificate).expect("replace certificate");
    std::fs::rename(&new_files.key, &files.key).expect("replace key");
    server.signal("HUP");

    // New connections present the new certificate, once the signal is
    // handled.
    let new_client = trusting(&new_pem);
    eventually("the new certificate to be served", || async {
        let answer = new_client
            .get(format!("{}/health", server.base))
            .send()
            .await;
        answer
            .ok()
            .filter(|a| a.status() == StatusCode::OK)
            .map(|_| ())
    })
    .await;
    assert!(trusting(&old_pem)
        .get(format!("{}/health", server.base))
        .send()
        .await
        .is_err());
    // The connection opened before the reload still serves: the old client
    // trusts only the old certificate, so this can only succeed on it.
    assert_eq!(
        send(old_client.get(format!("{}/health", server.base)))
            .await
            .status,
        StatusCode::OK
    );
}
