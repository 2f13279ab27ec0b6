//! Remote identification [riconoscimento da remoto]: instead of signing the printed
//! request form in front of the operator, the holder signs the form the RA made for the
//! request with a qualified signature or CNS card they already have, as a CAdES `.p7m`.
//! It stands as identification when: the signature checks out over the document inside;
//! the signer's certificate is valid now and leads to one of the configured CAs; the
//! signer's tax code is the holder's; and the document is, byte for byte, a request form
//! the RA made for this request. The signer certificate's revocation is not checked here
//! (the verifier's step, like the rest of the paperwork).

use sha2::Digest;
use time::OffsetDateTime;

use crate::state::Ra;
use crate::store::verification::RequestView;

/// Who signed a form remotely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
}

impl Signer {
    /// As the identification record and the audit log keep it.
    pub fn describe(&self) -> String {
        format!("{} (issuer {}, serial {})", self.subject, self.issuer, self.serial)
    }
}

/// Why a `.p7m` does not identify the holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotIdentified {
    /// Remote identification is not configured (no trusted CAs).
    NotOffered,
    /// Not a signed document this RA reads, or its signature does not check out.
    BadSignature(String),
    /// The signer's certificate is expired or not yet valid.
    CertificateNotValid,
    /// It does not lead to a configured CA.
    Untrusted(String),
    /// The signer's tax code is not the holder's (or the holder has none).
    AnotherPerson,
    /// The signed document is not a request form the RA made for this request.
    AnotherDocument,
    Internal,
}

/// The SHA-256 of a request form as the RA keeps it (hex).
pub fn form_digest(pdf: &[u8]) -> String {
    sha2::Sha256::digest(pdf).iter().map(|b| format!("{b:02x}")).collect()
}

/// Check a form signed remotely for `request`.
pub async fn check(ra: &Ra, request: &RequestView, p7m: &[u8]) -> Result<Signer, NotIdentified> {
    if ra.remote_anchors.is_empty() {
        return Err(NotIdentified::NotOffered);
    }
    let bad = |e: tessera_protocol::Error| NotIdentified::BadSignature(e.to_string());
    let (certificate, others) = tessera_protocol::cades::certificates(p7m).map_err(bad)?;
    let signed = tessera_protocol::cades::verify(p7m, &certificate).map_err(bad)?;
    let now = OffsetDateTime::now_utc();
    // The signing time is the signer's claim: the certificate must be valid now.
    if !tessera_pki::chain::valid_on(&certificate, now).map_err(|e| NotIdentified::BadSignature(e.to_string()))? {
        return Err(NotIdentified::CertificateNotValid);
    }
    tessera_pki::chain::to_anchor(&certificate, &others, &ra.remote_anchors, now)
        .map_err(|e| NotIdentified::Untrusted(e.to_string()))?;
    let summary = tessera_pki::CertificateSummary::parse(&certificate, now)
        .map_err(|e| NotIdentified::BadSignature(e.to_string()))?;
    // A holder registered with a passport has no tax code to match.
    let holder = request.passport_country.is_none().then(|| crate::registry::normalize_code(&request.identity));
    let signer_cf = summary.holder_cf.as_deref().map(crate::registry::normalize_code);
    if holder.is_none() || holder != signer_cf {
        return Err(NotIdentified::AnotherPerson);
    }
    let made = ra
        .store
        .request_form_made(&request.reference, &form_digest(&signed.content))
        .await
        .map_err(|_| NotIdentified::Internal)?;
    if !made {
        return Err(NotIdentified::AnotherDocument);
    }
    Ok(Signer { subject: summary.subject, issuer: summary.issuer, serial: summary.serial })
}
