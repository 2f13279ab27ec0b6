//! Who signed a document, read from the signing certificate: the identity a registration
//! office records (subject and issuer in full, serial, fingerprint), the tax code by the
//! stricter rule identification needs, and whether the certificate is for signing at all.

use sha2::Digest;
use x509_parser::oid_registry::{OID_X509_COMMON_NAME, OID_X509_SERIALNUMBER};
use x509_parser::prelude::*;

use crate::{Error, codice_fiscale};

/// A signing certificate as identification sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerIdentity {
    /// The subject and the issuer, RFC 4514.
    pub subject: String,
    pub issuer: String,
    /// Upper-case hex with colons.
    pub serial: String,
    /// SHA-256 of the certificate, lower-case hex.
    pub fingerprint: String,
    /// The tax code the certificate asserts: serialNumber `TINIT-<CF>` (or the CNS form
    /// `IT:<CF>`); the common name's `<CF>/…` form only when there is no serialNumber.
    /// A serialNumber of another kind (passport, identity card) asserts none.
    pub tax_code: Option<String>,
    /// Its key usage allows signing documents (digitalSignature or nonRepudiation), or
    /// it states none.
    pub signs_documents: bool,
    /// A CA certificate (basicConstraints cA): never a person's signature.
    pub is_ca: bool,
}

/// Read `der` as a signing certificate.
pub fn identity(der: &[u8]) -> Result<SignerIdentity, Error> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| Error::CertificateUnreadable { reason: e.to_string() })?;
    let subject = cert.subject();
    let value = |oid| subject.iter_by_oid(oid).next().and_then(|a| a.as_str().ok()).map(str::to_owned);
    let tax_code = match value(&OID_X509_SERIALNUMBER) {
        Some(serial) => match serial.strip_prefix("TINIT-").or_else(|| serial.strip_prefix("IT:")) {
            Some(code) => codice_fiscale::from_subject_field(&format!("TINIT-{code}")),
            None => None,
        },
        None => value(&OID_X509_COMMON_NAME)
            .as_deref()
            .filter(|cn| cn.contains('/'))
            .and_then(codice_fiscale::from_subject_field),
    };
    let signs_documents = match cert.key_usage() {
        Ok(Some(ku)) => ku.value.digital_signature() || ku.value.non_repudiation(),
        Ok(None) => true,
        Err(_) => false,
    };
    let is_ca = cert.basic_constraints().ok().flatten().is_some_and(|b| b.value.ca);
    let serial = cert.raw_serial().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
    Ok(SignerIdentity {
        subject: subject.to_string(),
        issuer: cert.issuer().to_string(),
        serial,
        fingerprint: sha2::Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect(),
        tax_code,
        signs_documents,
        is_ca,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(subject: &[(rcgen::DnType, &str)], usage: &[rcgen::KeyUsagePurpose]) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        for (t, v) in subject {
            p.distinguished_name.push(t.clone(), *v);
        }
        p.key_usages = usage.to_vec();
        p.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn the_tax_code_comes_from_serial_number_and_from_the_common_name_only_without_one() {
        use rcgen::DnType::{CommonName, CustomDnType};
        let serial = CustomDnType(vec![2, 5, 4, 5]);
        let sign = [rcgen::KeyUsagePurpose::ContentCommitment];
        let tinit =
            certificate(&[(CommonName.clone(), "ROSSI MARIO"), (serial.clone(), "TINIT-RSSMRA80A01H501U")], &sign);
        assert_eq!(identity(&tinit).unwrap().tax_code.as_deref(), Some("RSSMRA80A01H501U"));
        let cns = certificate(&[(CommonName.clone(), "RSSMRA80A01H501U/7420000012345678.abc")], &sign);
        assert_eq!(identity(&cns).unwrap().tax_code.as_deref(), Some("RSSMRA80A01H501U"));
        // A passport number in serialNumber: the common name's code does not count.
        let passport =
            certificate(&[(CommonName.clone(), "RSSMRA80A01H501U/1"), (serial.clone(), "PASIT-YA1234567")], &sign);
        assert_eq!(identity(&passport).unwrap().tax_code, None);
        let it = certificate(&[(CommonName.clone(), "X"), (serial, "IT:RSSMRA80A01H501U")], &sign);
        assert_eq!(identity(&it).unwrap().tax_code.as_deref(), Some("RSSMRA80A01H501U"));
    }

    #[test]
    fn a_certificate_for_keys_only_does_not_sign_documents() {
        use rcgen::KeyUsagePurpose::*;
        assert!(identity(&certificate(&[], &[DigitalSignature])).unwrap().signs_documents);
        assert!(identity(&certificate(&[], &[ContentCommitment])).unwrap().signs_documents);
        assert!(!identity(&certificate(&[], &[KeyEncipherment])).unwrap().signs_documents);
    }
}
