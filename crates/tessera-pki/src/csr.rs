//! PKCS#10 certification requests signed by a key we cannot see: the [`Signer`] holds the
//! private key (on a card, a token); the CSR only proves possession. The subject is the
//! registration authority's business, so the CSR carries a plain common name.

use serde::{Deserialize, Serialize};
use sha2::Digest;
use x509_parser::prelude::*;

use crate::Error;

/// Key pairs Tessera generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    Rsa2048,
    Rsa3072,
    P256,
    P384,
}

impl KeyAlgorithm {
    pub const ALL: [KeyAlgorithm; 4] = [Self::Rsa2048, Self::Rsa3072, Self::P256, Self::P384];

    /// The catalog's and the CLI's name: rsa2048, rsa3072, p256, p384.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rsa2048 => "rsa2048",
            Self::Rsa3072 => "rsa3072",
            Self::P256 => "p256",
            Self::P384 => "p384",
        }
    }

    pub fn parse(name: &str) -> Option<KeyAlgorithm> {
        Self::ALL.into_iter().find(|a| a.name() == name.to_ascii_lowercase())
    }

    pub fn is_rsa(self) -> bool {
        matches!(self, Self::Rsa2048 | Self::Rsa3072)
    }

    pub fn rsa_bits(self) -> usize {
        match self {
            Self::Rsa2048 => 2048,
            Self::Rsa3072 => 3072,
            _ => 0,
        }
    }

    /// DER of the named curve's OID (CKA_EC_PARAMS), for EC algorithms.
    pub fn ec_params(self) -> &'static [u8] {
        match self {
            Self::P256 => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            Self::P384 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
            _ => &[],
        }
    }

    /// Length of an uncompressed EC point (04 || X || Y).
    pub fn ec_point_len(self) -> usize {
        match self {
            Self::P256 => 65,
            Self::P384 => 97,
            _ => 0,
        }
    }

    /// DER SubjectPublicKeyInfo for a subjectPublicKey content of this kind (RFC 3279,
    /// RFC 5480).
    pub fn spki(self, public_key: &[u8]) -> Vec<u8> {
        use crate::der::{sequence, tlv};
        const RSA: &[u8] = &[0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
        const EC: &[u8] = &[0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
        let algorithm = if self.is_rsa() {
            sequence(&[RSA.to_vec(), vec![0x05, 0x00]])
        } else {
            sequence(&[EC.to_vec(), self.ec_params().to_vec()])
        };
        sequence(&[algorithm, tlv(0x03, &[&[0u8][..], public_key].concat())])
    }

    /// DER AlgorithmIdentifier of the signatures a [`Signer`] of this kind makes.
    pub fn signature_algorithm(self) -> Vec<u8> {
        use crate::der::sequence;
        match self {
            Self::Rsa2048 | Self::Rsa3072 => {
                sequence(&[vec![0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B], vec![0x05, 0x00]])
            }
            Self::P256 => sequence(&[vec![0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]]),
            Self::P384 => sequence(&[vec![0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03]]),
        }
    }

    /// The digest an ECDSA signature is made over (hashed on the host).
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::P384 => sha2::Sha384::digest(message).to_vec(),
            _ => sha2::Sha256::digest(message).to_vec(),
        }
    }

    /// rcgen's signature algorithm for keys of this kind (RSA: PKCS#1 v1.5 with SHA-256).
    pub fn rcgen(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            Self::Rsa2048 | Self::Rsa3072 => &rcgen::PKCS_RSA_SHA256,
            Self::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Self::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }
}

/// A private key somewhere else that can sign.
pub trait Signer {
    fn algorithm(&self) -> KeyAlgorithm;
    /// The subjectPublicKey content: DER RSAPublicKey, or the uncompressed EC point.
    fn public_key(&self) -> &[u8];
    /// The signature as it goes into X.509: PKCS#1 v1.5 over SHA-256 for RSA, DER
    /// ECDSA-Sig-Value over SHA-256 (P-256) or SHA-384 (P-384).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String>;
}

/// rcgen's view of a [`Signer`]; keeps the signer's own error, which rcgen cannot carry.
struct Remote<'a> {
    signer: &'a dyn Signer,
    error: std::cell::RefCell<Option<String>>,
}

impl rcgen::PublicKeyData for Remote<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.signer.public_key()
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.signer.algorithm().rcgen()
    }
}

impl rcgen::SigningKey for Remote<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.signer.sign(msg).map_err(|reason| {
            *self.error.borrow_mut() = Some(reason);
            rcgen::Error::RemoteKeyError
        })
    }
}

/// Build a CSR with `common_name` as subject, sign it with `signer`, and verify it
/// (signature, and that it carries the signer's public key) before returning it.
pub fn build(signer: &dyn Signer, common_name: &str) -> Result<Vec<u8>, Error> {
    let failed = |reason: String| Error::CsrFailed { reason };
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| failed(e.to_string()))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    let remote = Remote { signer, error: Default::default() };
    let csr =
        params.serialize_request(&remote).map_err(|e| failed(remote.error.take().unwrap_or_else(|| e.to_string())))?;
    let der = csr.der().to_vec();
    let spki = verify(&der)?;
    if subject_public_key(&spki)? != signer.public_key() {
        return Err(failed("the CSR does not carry the signer's public key".into()));
    }
    Ok(der)
}

/// Check a CSR's self-signature; returns its SubjectPublicKeyInfo (DER).
pub fn verify(der: &[u8]) -> Result<Vec<u8>, Error> {
    let (_, csr) = X509CertificationRequest::from_der(der).map_err(|e| Error::CsrFailed { reason: e.to_string() })?;
    csr.verify_signature().map_err(|e| Error::CsrFailed { reason: format!("signature does not verify: {e}") })?;
    Ok(csr.certification_request_info.subject_pki.raw.to_vec())
}

/// The subjectPublicKey content of a DER SubjectPublicKeyInfo.
pub fn subject_public_key(spki: &[u8]) -> Result<Vec<u8>, Error> {
    let (_, info) = SubjectPublicKeyInfo::from_der(spki).map_err(|e| Error::CsrFailed { reason: e.to_string() })?;
    Ok(info.subject_public_key.data.to_vec())
}

/// PEM armour for a DER CSR.
pub fn to_pem(der: &[u8]) -> String {
    ::pem::encode(&::pem::Pem::new("CERTIFICATE REQUEST", der.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spki_matches_rcgen_for_ec_keys() {
        for (algorithm, alg) in
            [(KeyAlgorithm::P256, &rcgen::PKCS_ECDSA_P256_SHA256), (KeyAlgorithm::P384, &rcgen::PKCS_ECDSA_P384_SHA384)]
        {
            let key = rcgen::KeyPair::generate_for(alg).unwrap();
            use rcgen::PublicKeyData;
            assert_eq!(algorithm.spki(key.public_key_raw()), key.subject_public_key_info());
        }
    }
}
