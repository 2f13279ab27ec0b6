//! What stops the RA or one of its duties: start-up, the CA's key, the database, message
//! delivery. Refusals to clients are not errors here: CMP answers them with a
//! PKIFailureInfo, the JSON API with a `Refusal` (`crate::api`).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    /// A file is there, but not with what it should hold.
    #[error("{}: {reason}", path.display())]
    Content { path: PathBuf, reason: String },
    /// The issuing CA's certificate is for another key.
    #[error("{}: this certificate is not for the CA key", path.display())]
    CertificateNotForKey { path: PathBuf },
    /// The issuing CA's key file is gone, its certificate is not.
    #[error("{}: missing, and {} is its certificate", key.display(), certificate.display())]
    CaKeyMissing { key: PathBuf, certificate: PathBuf },
    /// A new issuing CA key needs the root's key, which was taken offline.
    #[error(
        "{}: the root key is needed (once) to certify the issuing CA's key: bring it back, or give the \
         issuing CA's certificate in [ca] certificate",
        path.display()
    )]
    RootKeyOffline { path: PathBuf },
    /// The CA key's PKCS#11 URI cannot be used as it is.
    #[error("the CA key's URI: {reason}")]
    KeyUri { reason: String },
    /// The HSM (its module, token, session or key) refused an operation.
    #[error("the CA's token: {operation}: {reason}")]
    Token { operation: &'static str, reason: String },
    /// Making a key, certificate or CRL failed.
    #[error("certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// The system's random number generator failed.
    #[error("no random numbers: {reason}")]
    Random { reason: String },
    /// A provider did not take an SMS or e-mail.
    #[error("{provider}: {reason}")]
    Delivery { provider: String, reason: String },
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The database's schema could not be brought up to date.
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A secret could not be made or sealed (randomness, AEAD).
    #[error("sealing {what}")]
    Sealing { what: &'static str },
}

impl Error {
    pub fn file(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::File { path: path.to_path_buf(), source }
    }

    pub fn content(path: &std::path::Path, reason: impl std::fmt::Display) -> Error {
        Error::Content { path: path.to_path_buf(), reason: reason.to_string() }
    }

    pub fn token(operation: &'static str) -> impl FnOnce(cryptoki::error::Error) -> Error {
        move |e| Error::Token { operation, reason: e.to_string() }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
