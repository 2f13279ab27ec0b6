//! What a holder and an operator need to know about one certificate, parsed from DER.

use ::time::OffsetDateTime;
use serde::Serialize;
use x509_parser::der_parser::oid::Oid;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521, OID_PKCS1_RSAENCRYPTION,
    OID_X509_GIVEN_NAME, OID_X509_SERIALNUMBER, OID_X509_SURNAME,
};
use x509_parser::prelude::*;

use crate::{Error, codice_fiscale};

/// Renewal opens this many days before expiry (DOMAIN.md, Rinnovo).
pub const RENEWAL_WINDOW_DAYS: i64 = 60;

/// What a certificate is for, from its key usage and extended key usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// digitalSignature (+ clientAuth): the CNS authentication certificate.
    Authentication,
    /// nonRepudiation [contentCommitment]: the qualified signature certificate.
    Signature,
    /// keyEncipherment / dataEncipherment / keyAgreement only: a decryption key.
    Encryption,
    /// A CA certificate (keyCertSign).
    Authority,
    /// No key usage, or a combination that says none of the above.
    Other,
}

/// Where a certificate stands with respect to renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum RenewalStatus {
    /// Valid, and more than 60 days from expiry.
    Valid,
    /// Valid and within 60 days of expiry: renewal is possible now.
    Renewable,
    /// Past its notAfter: it can no longer be renewed.
    Expired,
    /// Before its notBefore (an early renewal's certificate, or a wrong clock).
    NotYetValid,
}

/// Public key algorithm and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct KeyInfo {
    /// "RSA", "EC" or the algorithm's OID.
    pub algorithm: String,
    /// Modulus size for RSA, field size for EC; 0 when unknown.
    pub bits: usize,
    /// Named curve for EC keys ("P-256", ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
}

/// A parsed certificate as the UI and CLI show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CertificateSummary {
    /// Full subject DN, RFC 4514 order as in the certificate.
    pub subject: String,
    /// The subject's common name (or the full subject when it has none).
    pub common_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The holder's codice fiscale, from serialNumber `TINIT-<CF>` or the CNS CN form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_cf: Option<String>,
    /// The issuer's common name (or the full issuer DN).
    pub issuer: String,
    /// Serial number, upper-case hex with colons.
    pub serial: String,
    /// RFC 3339 UTC.
    pub not_before: String,
    /// RFC 3339 UTC.
    pub not_after: String,
    /// Whole days until notAfter (negative once expired).
    pub days_left: i64,
    pub role: Role,
    pub key: KeyInfo,
    pub status: RenewalStatus,
    /// The DER SubjectPublicKeyInfo, to match the certificate with keys on the token.
    #[serde(skip)]
    pub spki: Vec<u8>,
}

impl CertificateSummary {
    /// Parse a DER certificate and classify it as of `now`.
    pub fn parse(der: &[u8], now: OffsetDateTime) -> Result<Self, Error> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| Error::CertificateUnreadable { reason: e.to_string() })?;
        let subject = cert.subject();
        let common_name = subject
            .iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| subject.to_string());
        let serial_number = first(subject, &OID_X509_SERIALNUMBER);
        let holder_cf = serial_number
            .as_deref()
            .and_then(codice_fiscale::from_subject_field)
            .or_else(|| codice_fiscale::from_subject_field(&common_name));
        let issuer = cert
            .issuer()
            .iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| cert.issuer().to_string());
        let not_before = cert.validity().not_before.to_datetime();
        let not_after = cert.validity().not_after.to_datetime();
        // Days as a person counts them: 29.9 days left is "30 days", 10.1 days ago is "10".
        let seconds = (not_after - now).whole_seconds();
        let days_left = if seconds >= 0 { (seconds + 86_399) / 86_400 } else { -(-seconds / 86_400) };
        let status = if now > not_after {
            RenewalStatus::Expired
        } else if now < not_before {
            RenewalStatus::NotYetValid
        } else if (not_after - now).whole_days() < RENEWAL_WINDOW_DAYS {
            RenewalStatus::Renewable
        } else {
            RenewalStatus::Valid
        };
        Ok(CertificateSummary {
            subject: subject.to_string(),
            common_name,
            given_name: first(subject, &OID_X509_GIVEN_NAME),
            surname: first(subject, &OID_X509_SURNAME),
            organization: subject.iter_organization().next().and_then(|a| a.as_str().ok()).map(str::to_owned),
            holder_cf,
            issuer,
            serial: cert.raw_serial_as_string().to_ascii_uppercase(),
            not_before: rfc3339(not_before),
            not_after: rfc3339(not_after),
            days_left,
            role: role(&cert),
            key: key_info(cert.public_key()),
            status,
            spki: cert.public_key().raw.to_vec(),
        })
    }
}

fn first(name: &X509Name<'_>, oid: &Oid<'_>) -> Option<String> {
    name.iter_by_oid(oid).next().and_then(|a| a.as_str().ok()).map(str::to_owned)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&::time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn role(cert: &X509Certificate<'_>) -> Role {
    let Ok(Some(ku)) = cert.key_usage() else { return Role::Other };
    let ku = ku.value;
    let client_auth = matches!(cert.extended_key_usage(), Ok(Some(eku)) if eku.value.client_auth);
    if ku.key_cert_sign() {
        Role::Authority
    } else if ku.non_repudiation() {
        Role::Signature
    } else if ku.digital_signature() || client_auth {
        Role::Authentication
    } else if ku.key_encipherment() || ku.data_encipherment() || ku.key_agreement() {
        Role::Encryption
    } else {
        Role::Other
    }
}

fn key_info(spki: &SubjectPublicKeyInfo<'_>) -> KeyInfo {
    let oid = &spki.algorithm.algorithm;
    if *oid == OID_PKCS1_RSAENCRYPTION {
        let bits = match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => rsa.key_size(),
            _ => 0,
        };
        return KeyInfo { algorithm: "RSA".into(), bits, curve: None };
    }
    if *oid == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve_oid = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
        let (curve, bits) = match curve_oid {
            Some(c) if c == OID_EC_P256 => (Some("P-256".to_owned()), 256),
            Some(c) if c == OID_NIST_EC_P384 => (Some("P-384".to_owned()), 384),
            Some(c) if c == OID_NIST_EC_P521 => (Some("P-521".to_owned()), 521),
            Some(c) => (Some(c.to_id_string()), 0),
            None => (None, 0),
        };
        return KeyInfo { algorithm: "EC".into(), bits, curve };
    }
    KeyInfo { algorithm: oid.to_id_string(), bits: 0, curve: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_clear_error() {
        let err = CertificateSummary::parse(b"not a certificate", OffsetDateTime::now_utc()).unwrap_err();
        assert!(matches!(err, Error::CertificateUnreadable { .. }));
    }
}

/// What a PKCS#11 certificate object needs, and the key it must sit next to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateObject {
    /// DER Name of the subject (CKA_SUBJECT).
    pub subject: Vec<u8>,
    /// DER Name of the issuer (CKA_ISSUER).
    pub issuer: Vec<u8>,
    /// DER INTEGER of the serial number (CKA_SERIAL_NUMBER).
    pub serial: Vec<u8>,
    /// subjectPublicKey content: DER RSAPublicKey or the EC point.
    pub public_key: Vec<u8>,
    pub common_name: String,
}

impl CertificateObject {
    /// From a DER or PEM certificate.
    pub fn parse(input: &[u8]) -> Result<(Vec<u8>, CertificateObject), Error> {
        let der = match ::pem::parse(input) {
            Ok(p) if p.tag() == "CERTIFICATE" => p.into_contents(),
            _ => input.to_vec(),
        };
        let (_, cert) =
            X509Certificate::from_der(&der).map_err(|e| Error::CertificateUnreadable { reason: e.to_string() })?;
        let object = CertificateObject {
            subject: cert.subject().as_raw().to_vec(),
            issuer: cert.issuer().as_raw().to_vec(),
            serial: crate::der::unsigned_integer(cert.raw_serial()),
            public_key: cert.public_key().subject_public_key.data.to_vec(),
            common_name: cert
                .subject()
                .iter_common_name()
                .next()
                .and_then(|a| a.as_str().ok())
                .unwrap_or_default()
                .to_owned(),
        };
        Ok((der, object))
    }
}
