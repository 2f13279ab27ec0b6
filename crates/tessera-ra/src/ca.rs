//! The issuing CA: a key and self-signed certificate made at start (kept in memory for this
//! first cut), and certificates whose subject and key usages come from the registered
//! holder and the profile, never from the CSR.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SubjectPublicKeyInfo,
};

use crate::registry::{Holder, Profile};

pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub certificate: Vec<u8>,
}

fn name(pairs: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (t, v) in pairs {
        dn.push(t.clone(), *v);
    }
    dn
}

impl Ca {
    pub fn generate(common_name: &str) -> Result<Ca, rcgen::Error> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = name(&[
            (DnType::CountryName, "IT"),
            (DnType::OrganizationName, "Tessera RA"),
            (DnType::CommonName, common_name),
        ]);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3650);
        let certificate = params.self_signed(&key)?.der().to_vec();
        Ok(Ca { issuer: Issuer::new(params, key), certificate })
    }

    /// DER GeneralName (directoryName) of the CA, for CMP headers.
    pub fn general_name(&self) -> Vec<u8> {
        let subject = x509_subject(&self.certificate);
        tessera_protocol::asn1::explicit(4, &subject)
    }

    /// Issue a certificate for `spki` (the CSR's verified key) to `holder`.
    pub fn issue(&self, spki: &[u8], holder: &Holder, profile: Profile, days: i64) -> Result<Vec<u8>, rcgen::Error> {
        let key = SubjectPublicKeyInfo::from_der(spki)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let cn = format!("{} {}", holder.surname, holder.given_name);
        let serial = format!("TINIT-{}", holder.cf);
        params.distinguished_name = name(&[
            (DnType::CountryName, "IT"),
            (DnType::CustomDnType(vec![2, 5, 4, 4]), &holder.surname),
            (DnType::CustomDnType(vec![2, 5, 4, 42]), &holder.given_name),
            (DnType::CustomDnType(vec![2, 5, 4, 5]), &serial),
            (DnType::CommonName, &cn),
        ]);
        match profile {
            Profile::Signature => params.key_usages = vec![KeyUsagePurpose::ContentCommitment],
            Profile::CnsAuthentication => {
                params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            }
        }
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::minutes(5);
        params.not_after = now + time::Duration::days(days);
        params.use_authority_key_identifier_extension = true;
        Ok(params.signed_by(&key, &self.issuer)?.der().to_vec())
    }
}

/// The raw subject Name of a DER certificate.
fn x509_subject(der: &[u8]) -> Vec<u8> {
    use tessera_protocol::asn1::{children, read_one};
    let cert = read_one(der).expect("our own certificate");
    let tbs = children(cert.content).expect("tbs")[0];
    let fields = children(tbs.content).expect("fields");
    // version [0], serial, signature, issuer, validity, subject
    let offset = if fields[0].tag == 0xA0 { 1 } else { 0 };
    fields[offset + 4].raw.to_vec()
}
