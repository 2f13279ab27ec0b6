//! CRMF certificate requests (RFC 4211) as CMP ir/cr/kur carry them: the new public key
//! from the template, and its proof of possession (a signature over the CertRequest).

use crate::Error;
use crate::asn1::{self, tlv};

fn bad(reason: &str) -> Error {
    Error::Malformed { reason: reason.to_owned() }
}

/// The first CertReqMsg of a CertReqMessages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRequest {
    pub cert_req_id: i64,
    /// DER SubjectPublicKeyInfo of the key to certify.
    pub public_key: Vec<u8>,
    /// Raw DER of the CertRequest, which the POP signature covers.
    cert_request: Vec<u8>,
    /// Signature POP: algorithm OID and signature bytes.
    pop: Option<(Vec<u8>, Vec<u8>)>,
}

/// Parse the content of an ir/cr/kur body (a CertReqMessages).
pub fn parse(body_content: &[u8]) -> Result<CertRequest, Error> {
    let messages = asn1::read_one(body_content)?;
    let first = asn1::children(messages.content)?.into_iter().next().ok_or_else(|| bad("no CertReqMsg"))?;
    let parts = asn1::children(first.content)?;
    let cert_req = parts.first().ok_or_else(|| bad("no CertRequest"))?;
    let fields = asn1::children(cert_req.content)?;
    let id = fields.first().and_then(|t| asn1::integer_value(t.content)).ok_or_else(|| bad("certReqId"))?;
    let template = fields.get(1).ok_or_else(|| bad("no CertTemplate"))?;
    // publicKey [6] IMPLICIT SubjectPublicKeyInfo: rebuild the SEQUENCE.
    let public_key = asn1::children(template.content)?
        .into_iter()
        .find(|t| t.tag == 0xA6)
        .map(|t| tlv(0x30, t.content))
        .ok_or_else(|| bad("template without publicKey"))?;
    // popo signature [1] IMPLICIT POPOSigningKey { [0] poposkInput OPTIONAL, alg, BIT STRING }
    let pop = match parts.get(1).filter(|t| t.tag == 0xA1) {
        Some(p) => {
            let f = asn1::children(p.content)?;
            if f.first().is_some_and(|t| t.tag == 0xA0) {
                return Err(bad("POPOSigningKeyInput is not supported (RFC 9483 forbids it)"));
            }
            let alg = f.first().ok_or_else(|| bad("POP algorithm"))?;
            let bits = f.get(1).filter(|t| t.tag == 0x03).ok_or_else(|| bad("POP signature"))?;
            Some((crate::signature::algorithm_oid(alg.raw)?, bits.content.get(1..).unwrap_or_default().to_vec()))
        }
        None => None,
    };
    Ok(CertRequest { cert_req_id: id, public_key, cert_request: cert_req.raw.to_vec(), pop })
}

impl CertRequest {
    /// Check the proof of possession: the new key signed the CertRequest.
    pub fn verify_pop(&self) -> Result<(), Error> {
        let (alg, sig) = self.pop.as_ref().ok_or(Error::BadSignature)?;
        crate::signature::verify(&self.public_key, alg, &self.cert_request, sig)
    }
}
