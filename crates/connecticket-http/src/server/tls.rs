//! TLS termination with a certificate that can be replaced while serving:
//! `reload` swaps the configuration for new handshakes; established
//! connections keep theirs and are never dropped.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("cannot read the certificate chain {path}: {reason}")]
    Certificate { path: String, reason: String },
    #[error("cannot read the private key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(String),
}

/// PEM files: the certificate chain (leaf first) and its private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

/// When the certificate and key files were last modified.
type Modified = Option<(SystemTime, SystemTime)>;

impl TlsFiles {
    fn modified(&self) -> Modified {
        let certificate = std::fs::metadata(&self.certificate).ok()?.modified().ok()?;
        let key = std::fs::metadata(&self.key).ok()?.modified().ok()?;
        Some((certificate, key))
    }
}

pub struct ReloadingTls {
    files: TlsFiles,
    current: RwLock<(Arc<ServerConfig>, Modified)>,
}

fn build(files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    let certificate_path = files.certificate.display().to_string();
    let chain = CertificateDer::pem_file_iter(&files.certificate)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|error| TlsError::Certificate {
            path: certificate_path.clone(),
            reason: error.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Certificate {
            path: certificate_path,
            reason: "no certificate in the file".to_owned(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|error| TlsError::Key {
        path: files.key.display().to_string(),
        reason: error.to_string(),
    })?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|error| TlsError::Config(error.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|error| TlsError::Config(error.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

impl ReloadingTls {
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let config = build(&files)?;
        let modified = files.modified();
        Ok(ReloadingTls {
            files,
            current: RwLock::new((Arc::new(config), modified)),
        })
    }

    /// Re-reads the files. On failure the previous certificate stays in use.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = build(&self.files)?;
        let modified = self.files.modified();
        if let Ok(mut current) = self.current.write() {
            *current = (Arc::new(config), modified);
        }
        Ok(())
    }

    /// Reloads if either file changed since the last load.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let last = self.current.read().ok().and_then(|current| current.1);
        if self.files.modified() == last {
            return Ok(false);
        }
        self.reload().map(|()| true)
    }

    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        let config = match self.current.read() {
            Ok(current) => Arc::clone(&current.0),
            Err(poisoned) => Arc::clone(&poisoned.into_inner().0),
        };
        TlsAcceptor::from(config)
    }
}
