//! Pure PKI knowledge shared by the Tessera client and the registration authority:
//! certificate parsing and classification, CSRs, PKCS#11 URIs (RFC 7512), and the Italian
//! tax code [codice fiscale].
//! No I/O and no hardware here, so everything is unit-testable and fuzzable.
#![forbid(unsafe_code)]

pub mod certificate;
pub mod chain;
pub mod codice_fiscale;
pub mod csr;
pub mod der;
pub mod places;
pub mod signer;
pub mod uri;

pub use certificate::{CertificateSummary, KeyInfo, RENEWAL_WINDOW_DAYS, RenewalStatus, Role};
pub use codice_fiscale::CfCheck;
pub use csr::{KeyAlgorithm, Signer};

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a DER X.509 certificate.
    #[error("not a DER X.509 certificate: {reason}")]
    CertificateUnreadable { reason: String },
    /// A CSR could not be built, or does not verify.
    #[error("certification request failed: {reason}")]
    CsrFailed { reason: String },
    /// A certificate does not lead to a trust anchor.
    #[error("certificate not trusted: {reason}")]
    Untrusted { reason: String },
}
