//! Whether a certificate leads to a trust anchor: through the intermediates given, each
//! a CA valid at the moment asked about and whose key signed the one below it. The same
//! rule for the client (the certificate the RA issued) and the RA (the certificate that
//! signed a request form remotely).

use ::time::OffsetDateTime;
use x509_parser::prelude::*;

use crate::Error;

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, Error> {
    X509Certificate::from_der(der).map(|(_, c)| c).map_err(|e| untrusted(&format!("unreadable certificate: {e}")))
}

fn untrusted(reason: &str) -> Error {
    Error::Untrusted { reason: reason.to_owned() }
}

/// A CA that may sign certificates: basicConstraints cA, and keyCertSign when it states
/// a key usage.
fn is_ca(c: &X509Certificate<'_>) -> bool {
    let ca = c.basic_constraints().ok().flatten().is_some_and(|b| b.value.ca);
    let signs_certificates = match c.key_usage() {
        Ok(Some(ku)) => ku.value.key_cert_sign(),
        Ok(None) => true,
        Err(_) => false,
    };
    ca && signs_certificates
}

/// Signed with SHA-1 (sha1WithRSAEncryption, ecdsa-with-SHA1, dsa-with-sha1): collisions
/// can be made, so such a link proves nothing.
fn sha1_signed(c: &X509Certificate<'_>) -> bool {
    ["1.2.840.113549.1.1.5", "1.2.840.10045.4.1", "1.2.840.10040.4.3"]
        .contains(&c.signature_algorithm.algorithm.to_id_string().as_str())
}

/// Whether `certificate` (DER) may serve as a trust anchor: a CA that signs certificates.
pub fn anchor_usable(certificate: &[u8]) -> Result<bool, Error> {
    Ok(is_ca(&parse(certificate)?))
}

fn valid_at(c: &X509Certificate<'_>, at: OffsetDateTime) -> bool {
    let at = at.unix_timestamp();
    c.validity().not_before.timestamp() <= at && at <= c.validity().not_after.timestamp()
}

/// Check that `certificate` (DER) is one of `anchors` or was signed, through
/// `intermediates` (CAs valid at `at`), by one of them. The certificate's own validity
/// is the caller's to judge (a renewed certificate starts later).
pub fn to_anchor(
    certificate: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: OffsetDateTime,
) -> Result<(), Error> {
    if anchors.is_empty() {
        return Err(untrusted("no trust anchor configured"));
    }
    if anchors.iter().any(|a| a == certificate) {
        return Ok(());
    }
    let anchors: Vec<X509Certificate<'_>> = anchors.iter().map(|a| parse(a)).collect::<Result<_, _>>()?;
    let intermediates: Vec<X509Certificate<'_>> = intermediates.iter().map(|a| parse(a)).collect::<Result<_, _>>()?;
    let mut current = parse(certificate)?;
    for _ in 0..8 {
        if sha1_signed(&current) {
            return Err(untrusted(&format!("{} is signed with SHA-1", current.subject())));
        }
        let signs = |issuer: &X509Certificate<'_>| {
            issuer.subject() == current.issuer() && current.verify_signature(Some(issuer.public_key())).is_ok()
        };
        if anchors.iter().any(signs) {
            return Ok(());
        }
        match intermediates.iter().find(|i| is_ca(i) && valid_at(i, at) && signs(i)) {
            Some(next) => current = next.clone(),
            None => return Err(untrusted(&format!("no trusted issuer for {}", current.issuer()))),
        }
    }
    Err(untrusted("chain too long"))
}

/// Whether `certificate` (DER) is valid at `at`.
pub fn valid_on(certificate: &[u8], at: OffsetDateTime) -> Result<bool, Error> {
    Ok(valid_at(&parse(certificate)?, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca(name: &str, issuer: Option<(&rcgen::Certificate, &rcgen::KeyPair)>) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.not_before = OffsetDateTime::now_utc() - ::time::Duration::days(1);
        p.not_after = OffsetDateTime::now_utc() + ::time::Duration::days(365);
        let cert = match issuer {
            Some((c, k)) => p.signed_by(&key, &rcgen::Issuer::from_ca_cert_der(c.der(), k).unwrap()).unwrap(),
            None => p.self_signed(&key).unwrap(),
        };
        (cert, key)
    }

    #[test]
    fn a_leaf_leads_through_its_issuing_ca_to_the_root_and_to_nothing_else() {
        let now = OffsetDateTime::now_utc();
        let (root, root_key) = ca("Root", None);
        let (issuing, issuing_key) = ca("Issuing", Some((&root, &root_key)));
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, "ROSSI MARIO");
        let leaf =
            p.signed_by(&leaf_key, &rcgen::Issuer::from_ca_cert_der(issuing.der(), &issuing_key).unwrap()).unwrap();
        let (chain, anchors) = (vec![issuing.der().to_vec()], vec![root.der().to_vec()]);
        assert!(to_anchor(leaf.der(), &chain, &anchors, now).is_ok());
        assert!(to_anchor(root.der(), &[], &anchors, now).is_ok(), "an anchor is trusted as it is");
        let (stranger, _) = ca("Root", None);
        assert!(to_anchor(leaf.der(), &chain, &[stranger.der().to_vec()], now).is_err(), "another root of that name");
        assert!(to_anchor(leaf.der(), &[], &anchors, now).is_err(), "the intermediate missing");
        assert!(to_anchor(leaf.der(), &chain, &[], now).is_err(), "no anchor");
        let long_ago = now - ::time::Duration::days(3650);
        assert!(to_anchor(leaf.der(), &chain, &anchors, long_ago).is_err(), "the intermediate not yet valid then");
        assert!(valid_on(issuing.der(), now).unwrap() && !valid_on(issuing.der(), long_ago).unwrap());
    }
}
