//! Signature checks over DER SubjectPublicKeyInfo keys (ring): proof of possession in
//! CRMF requests, and signature-protected CMP messages.

use crate::Error;
use crate::asn1;

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
const OID_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
const OID_P256: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2B, 0x81, 0x04, 0x00, 0x22];
pub const OID_ECDSA_SHA256: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02];
pub const OID_ECDSA_SHA384: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03];
pub const OID_RSA_SHA256: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B];

fn bad(reason: &str) -> Error {
    Error::Malformed { reason: reason.to_owned() }
}

/// Verify `signature` (as in X.509: DER ECDSA-Sig-Value, or PKCS#1 v1.5) over `data` with
/// the key of DER SubjectPublicKeyInfo `spki`, for the signature algorithm OID `algorithm`.
pub fn verify(spki: &[u8], algorithm: &[u8], data: &[u8], signature: &[u8]) -> Result<(), Error> {
    use ring::signature as sig;
    let info = asn1::children(asn1::read_one(spki)?.content)?;
    let [alg, key] = info.as_slice() else { return Err(bad("SubjectPublicKeyInfo")) };
    let alg = asn1::children(alg.content)?;
    let key_oid = alg.first().map(|t| t.content).unwrap_or_default();
    let param = alg.get(1).map(|t| t.content).unwrap_or_default();
    let key_bits = key.content.get(1..).ok_or_else(|| bad("public key"))?;
    let scheme: &dyn sig::VerificationAlgorithm = match (key_oid, param, algorithm) {
        (OID_EC_PUBLIC_KEY, OID_P256, OID_ECDSA_SHA256) => &sig::ECDSA_P256_SHA256_ASN1,
        (OID_EC_PUBLIC_KEY, OID_P384, OID_ECDSA_SHA384) => &sig::ECDSA_P384_SHA384_ASN1,
        (OID_RSA, _, OID_RSA_SHA256) => &sig::RSA_PKCS1_2048_8192_SHA256,
        _ => return Err(Error::UnsupportedProtection { algorithm: format!("{algorithm:02x?}") }),
    };
    sig::UnparsedPublicKey::new(scheme, key_bits).verify(data, signature).map_err(|_| Error::BadSignature)
}

/// The DER AlgorithmIdentifier of a signature algorithm OID (RSA's with NULL parameters,
/// ECDSA's without, as RFC 5758 and RFC 4055 say).
pub fn algorithm_identifier(oid: &[u8]) -> Vec<u8> {
    let mut parts = vec![asn1::tlv(0x06, oid)];
    if oid == OID_RSA_SHA256 {
        parts.push(vec![0x05, 0x00]);
    }
    asn1::sequence(&parts)
}

/// The algorithm OID of a DER AlgorithmIdentifier.
pub fn algorithm_oid(alg_id: &[u8]) -> Result<Vec<u8>, Error> {
    let t = asn1::read_one(alg_id)?;
    Ok(asn1::children(t.content)?.first().map(|o| o.content.to_vec()).unwrap_or_default())
}
