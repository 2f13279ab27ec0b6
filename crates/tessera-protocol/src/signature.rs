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
/// id-RSASSA-PSS, 1.2.840.113549.1.1.10, and id-mgf1, 1.2.840.113549.1.1.8.
pub const OID_RSASSA_PSS: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A];
const OID_MGF1: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x08];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const OID_SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];

/// The ring verification algorithm for RSASSA-PSS parameters (RFC 4055 3.1), if they are
/// a combination RFC 9481 lists: SHA-256/384/512, MGF1 with the same hash, salt as long as
/// the hash, trailer 1.
fn pss(params: &[u8]) -> Option<&'static dyn ring::signature::VerificationAlgorithm> {
    use ring::signature as sig;
    let seq = asn1::read_one(params).ok().filter(|t| t.tag == 0x30)?;
    let fields = asn1::children(seq.content).ok()?;
    let mut it = fields.iter().peekable();
    let oid_of = |t: &asn1::Tlv<'_>| -> Option<Vec<u8>> {
        let alg = asn1::read_one(t.content).ok().filter(|a| a.tag == 0x30)?;
        asn1::children(alg.content).ok()?.first().filter(|o| o.tag == 0x06).map(|o| o.content.to_vec())
    };
    let hash = oid_of(&asn1::optional(&mut it, 0xA0)?)?;
    let mgf = asn1::optional(&mut it, 0xA1)?;
    let mgf_alg = asn1::read_one(mgf.content).ok().filter(|a| a.tag == 0x30)?;
    let mgf_fields = asn1::children(mgf_alg.content).ok()?;
    let (mgf_oid, mgf_hash) = (mgf_fields.first()?, mgf_fields.get(1)?);
    let mgf_hash = asn1::children(mgf_hash.content).ok()?.first().map(|o| o.content.to_vec())?;
    let salt = asn1::optional(&mut it, 0xA2)
        .and_then(|t| asn1::read_one(t.content).ok())
        .and_then(|i| asn1::integer_value(i.content))?;
    if let Some(trailer) = asn1::optional(&mut it, 0xA3) {
        asn1::read_one(trailer.content).ok().and_then(|i| asn1::integer_value(i.content)).filter(|t| *t == 1)?;
    }
    asn1::end(&mut it, "RSASSA-PSS-params").ok()?;
    if mgf_oid.content != OID_MGF1 || mgf_hash != hash {
        return None;
    }
    match (hash.as_slice(), salt) {
        (OID_SHA256, 32) => Some(&sig::RSA_PSS_2048_8192_SHA256),
        (OID_SHA384, 48) => Some(&sig::RSA_PSS_2048_8192_SHA384),
        (OID_SHA512, 64) => Some(&sig::RSA_PSS_2048_8192_SHA512),
        _ => None,
    }
}

/// Whether a DER AlgorithmIdentifier is a signature algorithm these checks support.
pub fn supported(alg_id: &[u8]) -> bool {
    let Ok(t) = asn1::read_one(alg_id) else { return false };
    let Ok(f) = asn1::children(t.content) else { return false };
    match (f.first().map(|o| o.content), f.get(1)) {
        (Some(OID_ECDSA_SHA256 | OID_ECDSA_SHA384), None) => true,
        (Some(OID_RSA_SHA256), None) => true,
        (Some(OID_RSA_SHA256), Some(p)) => p.raw == [0x05, 0x00],
        (Some(OID_RSASSA_PSS), Some(p)) => pss(p.raw).is_some(),
        _ => false,
    }
}

/// Verify `signature` over `data` with the key of `spki`, for the signature algorithm of
/// DER AlgorithmIdentifier `alg_id` (with its parameters: RSASSA-PSS's are checked).
pub fn verify_algorithm(spki: &[u8], alg_id: &[u8], data: &[u8], signature: &[u8]) -> Result<(), Error> {
    let t = asn1::read_one(alg_id)?;
    let f = asn1::children(t.content)?;
    let oid = f.first().filter(|o| o.tag == 0x06).map(|o| o.content).ok_or_else(|| bad("AlgorithmIdentifier"))?;
    if oid != OID_RSASSA_PSS {
        return verify(spki, oid, data, signature);
    }
    let scheme = f
        .get(1)
        .and_then(|p| pss(p.raw))
        .ok_or_else(|| Error::UnsupportedProtection { algorithm: "RSASSA-PSS parameters".into() })?;
    let info = asn1::children(asn1::read_one(spki)?.content)?;
    let [alg, key] = info.as_slice() else { return Err(bad("SubjectPublicKeyInfo")) };
    let key_oid = asn1::children(alg.content)?.first().map(|o| o.content.to_vec()).unwrap_or_default();
    if key_oid != OID_RSA && key_oid != OID_RSASSA_PSS {
        return Err(Error::BadSignature);
    }
    let key_bits = asn1::whole_bytes(key, "public key")?;
    ring::signature::UnparsedPublicKey::new(scheme, key_bits).verify(data, signature).map_err(|_| Error::BadSignature)
}

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
