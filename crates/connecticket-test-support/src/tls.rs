//! Certificates for tests of TLS, and clients that trust them.

use connecticket_http::TlsFiles;

/// A self-signed certificate for localhost and 127.0.0.1, written as PEM
/// files named `name` in `dir`; answers the files and the certificate's
/// PEM (to trust it).
pub fn certificate(dir: &std::path::Path, name: &str) -> (TlsFiles, String) {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("certificate");
    let files = TlsFiles {
        certificate: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
    };
    std::fs::write(&files.certificate, cert.pem()).expect("write certificate");
    std::fs::write(&files.key, key_pair.serialize_pem()).expect("write key");
    (files, cert.pem())
}

/// A client that trusts this PEM certificate.
pub fn trusting(pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("pem"))
        .build()
        .expect("client")
}
