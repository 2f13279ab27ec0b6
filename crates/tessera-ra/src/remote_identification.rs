//! Remote identification [riconoscimento da remoto]: instead of signing the printed
//! request form in front of the operator, the holder signs the form the RA made for the
//! request with a qualified signature or CNS card they already have, as a CAdES `.p7m`.
//! It stands as identification when: the signature checks out over the document inside;
//! the signer's certificate is valid now, is for signing documents and leads to one of
//! the configured CAs (no SHA-1 link); the signer's tax code is the holder's; and the
//! document is, byte for byte, a request form the RA made for this request. A signer
//! certificate this RA issued counts only while active and not held; another provider's
//! revocation is not looked up here (the verifier's step, with the rest of the
//! paperwork).

use sha2::Digest;
use time::OffsetDateTime;

use crate::state::Ra;
use crate::store::verification::RequestView;

/// Who signed a form remotely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer(pub tessera_pki::signer::SignerIdentity);

impl Signer {
    /// As the identification record and the audit log keep it: subject, issuer, serial
    /// and fingerprint (a serial is unique only within its issuer).
    pub fn describe(&self) -> String {
        let s = &self.0;
        format!("{} (issuer {}, serial {}, SHA-256 {})", s.subject, s.issuer, s.serial, s.fingerprint)
    }
}

/// Why a `.p7m` does not identify the holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotIdentified {
    /// Remote identification is not configured (no trusted CAs).
    NotOffered,
    /// The holder was registered with a passport: there is no tax code to match.
    NoTaxCode,
    /// Not a signed document this RA reads, or its signature does not check out.
    BadSignature(String),
    /// The signer's certificate is expired or not yet valid.
    CertificateNotValid,
    /// A certificate this RA issued, suspended or revoked (or held for its paperwork).
    CertificateRevoked,
    /// Not a certificate for signing documents (a CA's, or one for keys only).
    NotForSigning,
    /// It does not lead to a configured CA.
    Untrusted(String),
    /// The signer's tax code is not the holder's.
    AnotherPerson,
    /// The signed document is not a request form the RA made for this request.
    AnotherDocument,
    Internal,
}

impl NotIdentified {
    /// The refusal's name on the page (`console-error-remote-<name>`) and in the log.
    pub fn name(&self) -> &'static str {
        match self {
            NotIdentified::NotOffered => "not-offered",
            NotIdentified::NoTaxCode => "no-tax-code",
            NotIdentified::BadSignature(_) => "signature",
            NotIdentified::CertificateNotValid => "certificate-expired",
            NotIdentified::CertificateRevoked => "certificate-revoked",
            NotIdentified::NotForSigning => "not-for-signing",
            NotIdentified::Untrusted(_) => "untrusted",
            NotIdentified::AnotherPerson => "another-person",
            NotIdentified::AnotherDocument => "another-document",
            NotIdentified::Internal => "internal",
        }
    }
}

/// The SHA-256 of a request form as the RA keeps it (hex).
pub fn form_digest(pdf: &[u8]) -> String {
    sha2::Sha256::digest(pdf).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a refused check leaves for the log: the signer, when the signature got that far.
pub struct Refused {
    pub why: NotIdentified,
    pub signer: Option<Signer>,
}

impl From<NotIdentified> for Refused {
    fn from(why: NotIdentified) -> Self {
        Refused { why, signer: None }
    }
}

/// Check a form signed remotely for `request` (`.p7m` as uploaded: DER, Base64 or PEM).
pub async fn check(ra: &Ra, request: &RequestView, upload: &[u8]) -> Result<Signer, Refused> {
    if ra.remote_anchors.is_empty() {
        return Err(NotIdentified::NotOffered.into());
    }
    // A holder registered with a passport has no tax code to match.
    if request.passport_country.is_some() {
        return Err(NotIdentified::NoTaxCode.into());
    }
    let bad = |e: tessera_protocol::Error| NotIdentified::BadSignature(e.to_string());
    let p7m = tessera_protocol::cades::from_transport(upload)
        .ok_or_else(|| NotIdentified::BadSignature("not DER, Base64 or PEM".into()))?;
    let (certificate, others) = tessera_protocol::cades::certificates(&p7m).map_err(bad)?;
    let signed = tessera_protocol::cades::verify(&p7m, &certificate).map_err(bad)?;
    let identity =
        tessera_pki::signer::identity(&certificate).map_err(|e| NotIdentified::BadSignature(e.to_string()))?;
    let signer = Signer(identity);
    let refused = |why: NotIdentified| Refused { why, signer: Some(signer.clone()) };
    let now = OffsetDateTime::now_utc();
    // The signing time is the signer's claim: the certificate must be valid now.
    if !tessera_pki::chain::valid_on(&certificate, now)
        .map_err(|e| refused(NotIdentified::BadSignature(e.to_string())))?
    {
        return Err(refused(NotIdentified::CertificateNotValid));
    }
    if signer.0.is_ca || !signer.0.signs_documents {
        return Err(refused(NotIdentified::NotForSigning));
    }
    tessera_pki::chain::to_anchor(&certificate, &others, &ra.remote_anchors, now)
        .map_err(|e| refused(NotIdentified::Untrusted(e.to_string())))?;
    // A certificate this RA issued: only while it is active and not held.
    let serial: Vec<u8> = signer.0.serial.split(':').filter_map(|b| u8::from_str_radix(b, 16).ok()).collect();
    if ra.store.by_certificate(&certificate, &serial).await.map_err(|_| refused(NotIdentified::Internal))?.is_some() {
        let view = ra.store.certificate_view(&serial).await.map_err(|_| refused(NotIdentified::Internal))?;
        if !view.is_some_and(|v| matches!(v.state, crate::registry::Lifecycle::Active) && v.held_for.is_none()) {
            return Err(refused(NotIdentified::CertificateRevoked));
        }
    }
    let holder = crate::registry::normalize_code(&request.identity);
    if signer.0.tax_code.as_deref().map(crate::registry::normalize_code) != Some(holder) {
        return Err(refused(NotIdentified::AnotherPerson));
    }
    let made = ra
        .store
        .request_form_made(&request.reference, &form_digest(&signed.content))
        .await
        .map_err(|_| refused(NotIdentified::Internal))?;
    if !made {
        return Err(refused(NotIdentified::AnotherDocument));
    }
    Ok(signer)
}
