//! The checks an issued certificate passes before it goes on the card: it is for the key
//! the card made, it is valid now, and its chain leads to a trust anchor of the RA's.

use x509_parser::prelude::*;

use crate::{Error, Result};

fn parse(der: &[u8]) -> Result<X509Certificate<'_>> {
    X509Certificate::from_der(der)
        .map(|(_, c)| c)
        .map_err(|e| Error::CertificateUntrusted { reason: format!("unreadable certificate: {e}") })
}

/// Check `certificate` (DER) against the card's `public_key` (subjectPublicKey content),
/// through `intermediates` up to one of `anchors`.
pub fn check(certificate: &[u8], public_key: &[u8], intermediates: &[Vec<u8>], anchors: &[Vec<u8>]) -> Result<()> {
    let leaf = parse(certificate)?;
    if leaf.public_key().subject_public_key.data.as_ref() != public_key {
        return Err(Error::CertificateForAnotherKey);
    }
    if !leaf.validity().is_valid() {
        return Err(Error::CertificateUntrusted { reason: "not valid now".into() });
    }
    chain_to(leaf, intermediates, anchors)
}

/// As [`check`], for a renewed certificate, whose validity starts where the old one ends:
/// not expired, rather than valid now.
pub fn check_renewed(
    certificate: &[u8],
    public_key: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &[Vec<u8>],
) -> Result<()> {
    let leaf = parse(certificate)?;
    if leaf.public_key().subject_public_key.data.as_ref() != public_key {
        return Err(Error::CertificateForAnotherKey);
    }
    if leaf.validity().not_after.timestamp() <= ::time::OffsetDateTime::now_utc().unix_timestamp() {
        return Err(Error::CertificateUntrusted { reason: "expired".into() });
    }
    chain_to(leaf, intermediates, anchors)
}

/// Check that `certificate` (a CA's, which signed an answer) is one of `anchors` or leads
/// to one through `intermediates`.
pub fn trusted_ca(certificate: &[u8], intermediates: &[Vec<u8>], anchors: &[Vec<u8>]) -> Result<()> {
    let ca = parse(certificate)?;
    if anchors.iter().any(|a| a == certificate) {
        return Ok(());
    }
    if !ca.validity().is_valid() {
        return Err(Error::CertificateUntrusted { reason: "not valid now".into() });
    }
    chain_to(ca, intermediates, anchors)
}

fn chain_to(leaf: X509Certificate<'_>, intermediates: &[Vec<u8>], anchors: &[Vec<u8>]) -> Result<()> {
    if anchors.is_empty() {
        return Err(Error::CertificateUntrusted { reason: "no trust anchor for the RA".into() });
    }
    tessera_pki::chain::to_anchor(leaf.as_raw(), intermediates, anchors, ::time::OffsetDateTime::now_utc())
        .map_err(|e| Error::CertificateUntrusted { reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca(name: &str, issuer: Option<(&rcgen::Certificate, &rcgen::KeyPair)>) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = match issuer {
            Some((c, k)) => p.signed_by(&key, &rcgen::Issuer::from_ca_cert_der(c.der(), k).unwrap()).unwrap(),
            None => p.self_signed(&key).unwrap(),
        };
        (cert, key)
    }

    #[test]
    fn leaf_chains_through_the_issuing_ca_to_the_root_and_nothing_else() {
        let (root, root_key) = ca("Root", None);
        let (issuing, issuing_key) = ca("Issuing", Some((&root, &root_key)));
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, "ROSSI MARIO");
        let leaf =
            p.signed_by(&leaf_key, &rcgen::Issuer::from_ca_cert_der(issuing.der(), &issuing_key).unwrap()).unwrap();
        let key = leaf_key.public_key_raw().to_vec();
        let (chain, anchors) = (vec![issuing.der().to_vec()], vec![root.der().to_vec()]);
        assert!(check(leaf.der(), &key, &chain, &anchors).is_ok());
        // Another key, another root, a missing intermediate: refused.
        let other = rcgen::KeyPair::generate().unwrap();
        assert!(matches!(
            check(leaf.der(), other.public_key_raw(), &chain, &anchors),
            Err(Error::CertificateForAnotherKey)
        ));
        let (stranger, _) = ca("Root", None);
        assert!(check(leaf.der(), &key, &chain, &[stranger.der().to_vec()]).is_err());
        assert!(check(leaf.der(), &key, &[], &anchors).is_err());
        assert!(check(leaf.der(), &key, &chain, &[]).is_err());
    }
}
