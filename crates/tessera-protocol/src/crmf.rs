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
    /// The oldCertID control (id-regCtrl-oldCertID) of a kur: the issuer (DER
    /// GeneralName) and serial number (INTEGER content) of the certificate it renews.
    pub old_cert_id: Option<(Vec<u8>, Vec<u8>)>,
    /// Raw DER of the CertRequest, which the POP signature covers.
    cert_request: Vec<u8>,
    pop: Pop,
}

/// The proof of possession a request carries (RFC 4211 4: ProofOfPossession), every
/// choice parsed, so that one the RA does not take is refused by name and protected like
/// any other answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pop {
    /// None at all.
    Missing,
    /// raVerified: an RA vouches for it; an end entity may not claim it.
    RaVerified,
    /// A signature by the new key over the CertRequest: DER AlgorithmIdentifier and bytes.
    Signature { algorithm: Vec<u8>, signature: Vec<u8> },
    /// keyEncipherment (a key that cannot sign).
    KeyEncipherment,
    /// keyAgreement.
    KeyAgreement,
}

/// id-regCtrl-oldCertID, 1.3.6.1.5.5.7.5.1.5.
const OID_OLD_CERT_ID: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x05, 0x01, 0x05];

/// Parse the content of an ir/cr/kur body (a CertReqMessages), every field by its tag.
pub fn parse(body_content: &[u8]) -> Result<CertRequest, Error> {
    let messages = asn1::read_one(body_content)?;
    if messages.tag != 0x30 {
        return Err(bad("CertReqMessages"));
    }
    let list = asn1::children(messages.content)?;
    let first = list.first().filter(|m| m.tag == 0x30).ok_or_else(|| bad("no CertReqMsg"))?;
    let parts = asn1::children(first.content)?;
    let mut parts = parts.iter().peekable();
    let cert_req = *parts.next().filter(|t| t.tag == 0x30).ok_or_else(|| bad("no CertRequest"))?;
    let fields = asn1::children(cert_req.content)?;
    let mut fields = fields.iter().peekable();
    let id = fields.next().filter(|t| t.tag == 0x02).and_then(|t| asn1::integer_value(t.content));
    let id = id.ok_or_else(|| bad("certReqId"))?;
    let template = *fields.next().filter(|t| t.tag == 0x30).ok_or_else(|| bad("no CertTemplate"))?;
    // publicKey [6] IMPLICIT SubjectPublicKeyInfo: rebuild the SEQUENCE.
    let public_key = asn1::children(template.content)?
        .into_iter()
        .find(|t| t.tag == 0xA6)
        .map(|t| tlv(0x30, t.content))
        .ok_or_else(|| bad("template without publicKey"))?;
    let mut old_cert_id = None;
    if let Some(controls) = asn1::optional(&mut fields, 0x30) {
        for control in asn1::children(controls.content)? {
            let f = asn1::children(control.content)?;
            let mut it = f.iter();
            let oid = asn1::expect(&mut it, 0x06, "control type")?;
            let value = it.next().ok_or_else(|| bad("control value"))?;
            asn1::end(&mut it, "AttributeTypeAndValue")?;
            if oid.content == OID_OLD_CERT_ID {
                // CertId ::= SEQUENCE { issuer GeneralName, serialNumber INTEGER }
                if value.tag != 0x30 {
                    return Err(bad("oldCertID"));
                }
                let id = asn1::children(value.content)?;
                let mut it = id.iter();
                let issuer = it.next().filter(|t| t.tag & 0xC0 == 0x80).ok_or_else(|| bad("oldCertID issuer"))?;
                let serial = asn1::expect(&mut it, 0x02, "oldCertID serialNumber")?;
                asn1::end(&mut it, "CertId")?;
                old_cert_id = Some((issuer.raw.to_vec(), serial.content.to_vec()));
            }
        }
    }
    asn1::end(&mut fields, "CertRequest")?;
    let pop = match parts.peek().map(|t| t.tag) {
        // raVerified [0] IMPLICIT NULL
        Some(0x80) => {
            let t = parts.next().ok_or_else(|| bad("POP"))?;
            if !t.content.is_empty() {
                return Err(bad("raVerified is a NULL"));
            }
            Pop::RaVerified
        }
        // signature [1] IMPLICIT POPOSigningKey { [0] poposkInput OPTIONAL, alg, BIT STRING }
        Some(0xA1) => {
            let p = parts.next().ok_or_else(|| bad("POP"))?;
            let f = asn1::children(p.content)?;
            if f.first().is_some_and(|t| t.tag == 0xA0) {
                return Err(bad("POPOSigningKeyInput is not supported (RFC 9483 forbids it)"));
            }
            let mut it = f.iter();
            let alg = asn1::expect(&mut it, 0x30, "POP algorithm")?;
            let bits = asn1::expect(&mut it, 0x03, "POP signature")?;
            asn1::end(&mut it, "POPOSigningKey")?;
            Pop::Signature {
                algorithm: alg.raw.to_vec(),
                signature: asn1::whole_bytes(&bits, "POP signature")?.to_vec(),
            }
        }
        // keyEncipherment [2] / keyAgreement [3] POPOPrivKey, a CHOICE (so explicitly
        // tagged) of thisMessage [0] BIT STRING, subsequentMessage [1] INTEGER, dhMAC [2]
        // BIT STRING, agreeMAC [3] PKMACValue, encryptedKey [4] EnvelopedData.
        Some(tag @ (0xA2 | 0xA3)) => {
            let p = parts.next().ok_or_else(|| bad("POP"))?;
            let choice = asn1::children(p.content)?;
            let mut it = choice.iter();
            let inner = it.next().ok_or_else(|| bad("POPOPrivKey"))?;
            if !matches!(inner.tag, 0x80 | 0x81 | 0x82 | 0xA3 | 0xA4) {
                return Err(bad("POPOPrivKey choice"));
            }
            asn1::end(&mut it, "POPOPrivKey")?;
            if tag == 0xA2 { Pop::KeyEncipherment } else { Pop::KeyAgreement }
        }
        _ => Pop::Missing,
    };
    // regInfo (a SEQUENCE) may follow; nothing else.
    let _ = asn1::optional(&mut parts, 0x30);
    asn1::end(&mut parts, "CertReqMsg")?;
    Ok(CertRequest { cert_req_id: id, public_key, old_cert_id, cert_request: cert_req.raw.to_vec(), pop })
}

impl CertRequest {
    /// The proof of possession, as it came.
    pub fn pop(&self) -> &Pop {
        &self.pop
    }

    /// Check a signature proof of possession: the new key signed the CertRequest (any
    /// other choice does not verify here).
    pub fn verify_pop(&self) -> Result<(), Error> {
        match &self.pop {
            Pop::Signature { algorithm, signature } => {
                crate::signature::verify_algorithm(&self.public_key, algorithm, &self.cert_request, signature)
            }
            _ => Err(Error::BadSignature),
        }
    }
}
