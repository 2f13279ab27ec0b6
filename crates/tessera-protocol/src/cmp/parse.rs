//! Requests parsed from the bytes as received: every field by its tag, a body that does
//! not read kept as [`Body::Invalid`] so that it is still answered.

use super::status::{FailInfo, fail_bits, status_text};
use crate::Error;
use crate::asn1::{self, Tlv, tlv};
use crate::mac::Pbm;

/// Body types of the requests the RA answers (RFC 4210 5.1.2 tags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// p10cr: a PKCS#10 request (DER).
    P10cr {
        csr: Vec<u8>,
    },
    /// ir (initialization) or kur (key update): a CRMF request.
    Ir {
        request: crate::crmf::CertRequest,
    },
    Kur {
        request: crate::crmf::CertRequest,
    },
    /// rr: revoke (or, with reason certificateHold, suspend) the certificate with this
    /// serial number (INTEGER content) from this issuer (DER Name).
    Rr {
        serial: Vec<u8>,
        issuer: Vec<u8>,
        reason: Option<u8>,
    },
    /// certConf: the hash of the certificate the client accepts, or its rejection; with
    /// pvno 3, the hash algorithm when the client names one (hashAlg, OID content).
    CertConf {
        cert_hash: Option<Vec<u8>>,
        cert_req_id: i64,
        rejected: bool,
        hash_alg: Option<Vec<u8>>,
    },
    /// genm: the info types asked for (OID contents), e.g. id-it-caCerts, and whether any
    /// came with an infoValue (RFC 9483 4.3: a request for them has none).
    Genm {
        info_types: Vec<Vec<u8>>,
        with_value: bool,
    },
    /// ip / cp / kup: the first response's status, certificate, and the CA's note
    /// (statusString), e.g. that the certificate is issued suspended (client side).
    CertResponse {
        accepted: bool,
        cert_req_id: i64,
        certificate: Option<Vec<u8>>,
        text: Option<String>,
        /// caPubs: the trust anchors the CA offers (client side).
        ca_pubs: Vec<Vec<u8>>,
        /// The failure bits of a rejected response.
        fail_info: Option<u32>,
    },
    /// genp: the CA certificates of an id-it-caCerts answer (client side).
    Genp {
        ca_certs: Vec<Vec<u8>>,
    },
    /// pkiconf.
    Confirmed,
    /// error: the status text as received (client side).
    Error {
        text: String,
        /// The PKIFailureInfo bits (bit n of RFC 4210 as 1 << n).
        fail_info: Option<u32>,
    },
    /// Anything else: the body's context tag number.
    Other {
        tag: u8,
    },
    /// A body of a known type that could not be read: why, and the failure to answer with
    /// (the header was read, so the request can still be answered with a PKIMessage).
    Invalid {
        reason: String,
        fail: FailInfo,
    },
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub sender: Vec<u8>,
    pub recipient: Vec<u8>,
    pub sender_kid: Option<Vec<u8>>,
    pub transaction_id: Option<Vec<u8>>,
    pub sender_nonce: Option<Vec<u8>>,
    /// recipNonce: the nonce of the message this one answers.
    pub recip_nonce: Option<Vec<u8>>,
    /// The certificate profile the client asks for (generalInfo id-it-certProfile).
    pub cert_profile: Option<String>,
    pub body: Body,
    /// The header's pvno (2 or 3 are supported; others are answered unsupportedVersion).
    pub pvno: i64,
    pub pbm: Option<Pbm>,
    /// The signature algorithm (DER AlgorithmIdentifier), for signature-protected requests.
    pub signature_alg: Option<Vec<u8>>,
    /// A protectionAlg this side does not support: answered with badAlg.
    pub unsupported_protection: Option<String>,
    /// extraCerts as received (DER); for signature protection the first is the signer's.
    pub extra_certs: Vec<Vec<u8>>,
    /// DER of ProtectedPart ::= SEQUENCE { header, body }, from the bytes as received.
    pub(super) protected_part: Vec<u8>,
    pub(super) protection: Option<Vec<u8>>,
}

fn malformed(reason: &str) -> Error {
    Error::Malformed { reason: reason.to_owned() }
}

/// Parse a PKIMessage, strictly (DER, every field by its tag). A message whose header
/// reads but whose body does not is returned with [`Body::Invalid`], so that it can be
/// answered with a PKIMessage; only a message without a readable header is an error.
pub fn parse(der: &[u8]) -> Result<Request, Error> {
    let message = asn1::read_one(der)?;
    if message.tag != 0x30 {
        return Err(malformed("not a SEQUENCE"));
    }
    let parts = asn1::children(message.content)?;
    let mut it = parts.iter().peekable();
    let header = *it.next().filter(|t| t.tag == 0x30).ok_or_else(|| malformed("no PKIHeader"))?;
    let body = *it.next().filter(|t| (0xA0..=0xBA).contains(&t.tag)).ok_or_else(|| malformed("no PKIBody"))?;
    let protection = match asn1::optional(&mut it, 0xA0) {
        Some(t) => Some(asn1::whole_bytes(&asn1::read_one(t.content)?, "protection")?.to_vec()),
        None => None,
    };
    let extra_certs = match asn1::optional(&mut it, 0xA1) {
        Some(t) => {
            let certs = asn1::read_one(t.content)?;
            if certs.tag != 0x30 {
                return Err(malformed("extraCerts"));
            }
            let certs = asn1::children(certs.content)?;
            if certs.iter().any(|c| c.tag != 0x30) {
                return Err(malformed("extraCerts: not a certificate"));
            }
            certs.iter().map(|c| c.raw.to_vec()).collect()
        }
        None => Vec::new(),
    };
    asn1::end(&mut it, "PKIMessage")?;
    let mut protected_part = header.raw.to_vec();
    protected_part.extend_from_slice(body.raw);
    let mut request = Request {
        sender: Vec::new(),
        recipient: Vec::new(),
        sender_kid: None,
        transaction_id: None,
        sender_nonce: None,
        recip_nonce: None,
        cert_profile: None,
        body: Body::Other { tag: body.tag & 0x1F },
        pvno: 0,
        pbm: None,
        signature_alg: None,
        unsupported_protection: None,
        extra_certs,
        protected_part: tlv(0x30, &protected_part),
        protection,
    };
    let fields = asn1::children(header.content)?;
    let mut fields = fields.iter();
    let pvno = *fields.next().filter(|t| t.tag == 0x02).ok_or_else(|| malformed("pvno"))?;
    request.pvno = asn1::integer_value(pvno.content).ok_or_else(|| malformed("pvno"))?;
    // sender and recipient: GeneralName, a context-specific CHOICE.
    let name = |t: Option<&Tlv<'_>>, what: &str| -> Result<Vec<u8>, Error> {
        match t {
            Some(t) if t.tag & 0xC0 == 0x80 => Ok(t.raw.to_vec()),
            _ => Err(malformed(what)),
        }
    };
    request.sender = name(fields.next(), "sender")?;
    request.recipient = name(fields.next(), "recipient")?;
    // The optional fields [0] .. [8], each at most once, in order.
    let mut last = None;
    for field in fields {
        if !(0xA0..=0xA8).contains(&field.tag) || last.is_some_and(|l| l >= field.tag) {
            return Err(malformed(&format!("PKIHeader: field with tag {:02X} out of place", field.tag)));
        }
        last = Some(field.tag);
        let inner = || asn1::read_one(field.content);
        let octets = || -> Result<Vec<u8>, Error> {
            let t = inner()?;
            if t.tag != 0x04 {
                return Err(malformed("PKIHeader: not an OCTET STRING"));
            }
            Ok(t.content.to_vec())
        };
        match field.tag {
            0xA0 if inner()?.tag != 0x18 => return Err(malformed("messageTime")),
            0xA1 => match crate::mac::parse(field.content) {
                Ok(Some(pbm)) => request.pbm = Some(pbm),
                Ok(None) if crate::signature::supported(field.content) => {
                    request.signature_alg = Some(inner()?.raw.to_vec())
                }
                Ok(None) => request.unsupported_protection = Some("protection algorithm".into()),
                Err(Error::UnsupportedProtection { algorithm }) => request.unsupported_protection = Some(algorithm),
                Err(e) => return Err(e),
            },
            0xA2 => request.sender_kid = Some(octets()?),
            0xA3 => {
                octets()?;
            }
            0xA4 => request.transaction_id = Some(octets()?),
            0xA5 => request.sender_nonce = Some(octets()?),
            0xA6 => request.recip_nonce = Some(octets()?),
            0xA8 => request.cert_profile = cert_profile(field.content)?,
            _ => {}
        }
    }
    request.body = match parse_body(&body, request.pvno) {
        Ok(b) => b,
        Err(Error::Malformed { reason }) => {
            let fail = if reason.starts_with("rr") { FailInfo::BadCertTemplate } else { FailInfo::BadDataFormat };
            Body::Invalid { reason, fail }
        }
        Err(e) => return Err(e),
    };
    Ok(request)
}

/// id-it-certProfile, 1.3.6.1.5.5.7.4.21.
pub const OID_IT_CERT_PROFILE: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x04, 0x15];

/// The first name of an id-it-certProfile InfoTypeAndValue in generalInfo's content.
fn cert_profile(general_info: &[u8]) -> Result<Option<String>, Error> {
    let list = asn1::read_one(general_info)?;
    for itav in asn1::children(list.content)? {
        let f = asn1::children(itav.content)?;
        if f.first().is_some_and(|o| o.tag == 0x06 && o.content == OID_IT_CERT_PROFILE)
            && let Some(names) = f.get(1)
            && let Some(first) = asn1::children(names.content)?.first()
        {
            let name = std::str::from_utf8(first.content).map_err(|_| malformed("certProfile is not UTF-8"))?;
            return Ok(Some(name.to_owned()));
        }
    }
    Ok(None)
}

/// A SEQUENCE (tag checked) and its fields.
fn sequence_fields<'a>(content: &'a [u8], what: &str) -> Result<Vec<Tlv<'a>>, Error> {
    let t = asn1::read_one(content)?;
    if t.tag != 0x30 {
        return Err(malformed(&format!("{what}: not a SEQUENCE")));
    }
    asn1::children(t.content)
}

fn parse_body(body: &Tlv<'_>, pvno: i64) -> Result<Body, Error> {
    Ok(match body.tag {
        0xA4 => {
            let csr = asn1::read_one(body.content)?;
            if csr.tag != 0x30 {
                return Err(malformed("p10cr: not a CertificationRequest"));
            }
            Body::P10cr { csr: csr.raw.to_vec() }
        }
        0xA0 => Body::Ir { request: crate::crmf::parse(body.content)? },
        0xA7 => Body::Kur { request: crate::crmf::parse(body.content)? },
        0xAB => parse_rr(body.content)?,
        0xB5 => {
            let (mut info_types, mut with_value) = (Vec::new(), false);
            for itav in sequence_fields(body.content, "genm")? {
                if itav.tag != 0x30 {
                    return Err(malformed("genm: InfoTypeAndValue"));
                }
                let f = asn1::children(itav.content)?;
                let mut it = f.iter();
                info_types.push(asn1::expect(&mut it, 0x06, "infoType")?.content.to_vec());
                with_value |= it.next().is_some();
                asn1::end(&mut it, "InfoTypeAndValue")?;
            }
            Body::Genm { info_types, with_value }
        }
        0xA1 | 0xA3 | 0xA8 => parse_cert_rep(body.content)?,
        0xB3 => Body::Confirmed,
        0xB6 => {
            let content = asn1::read_one(body.content)?;
            let mut ca_certs = Vec::new();
            for itav in asn1::children(content.content)? {
                let f = asn1::children(itav.content)?;
                if f.first().is_some_and(|o| o.tag == 0x06 && o.content == OID_IT_CA_CERTS)
                    && let Some(value) = f.get(1)
                {
                    ca_certs = asn1::children(value.content)?.iter().map(|c| c.raw.to_vec()).collect();
                }
            }
            Body::Genp { ca_certs }
        }
        0xB7 => {
            let content = asn1::read_one(body.content)?;
            let info = asn1::children(content.content)?.into_iter().next();
            Body::Error {
                text: info.as_ref().and_then(|i| status_text(i.content)).unwrap_or_default(),
                fail_info: info.and_then(|i| fail_bits(i.content)),
            }
        }
        0xB8 => {
            let statuses = sequence_fields(body.content, "certConf")?;
            match statuses.first() {
                None => Body::CertConf { cert_hash: None, cert_req_id: 0, rejected: true, hash_alg: None },
                Some(status) if status.tag == 0x30 => {
                    // CertStatus ::= SEQUENCE { certHash OCTET STRING, certReqId INTEGER,
                    //   statusInfo PKIStatusInfo OPTIONAL, hashAlg [0] AlgorithmIdentifier
                    //   OPTIONAL (pvno 3 only) }
                    let f = asn1::children(status.content)?;
                    let mut it = f.iter().peekable();
                    let hash = *it.next().filter(|t| t.tag == 0x04).ok_or_else(|| malformed("certHash"))?;
                    let id = it.next().filter(|t| t.tag == 0x02).and_then(|t| asn1::integer_value(t.content));
                    let id = id.ok_or_else(|| malformed("certReqId"))?;
                    // statusInfo present with a status other than accepted (0) = rejection.
                    let rejected = match asn1::optional(&mut it, 0x30) {
                        Some(info) => {
                            let v = asn1::children(info.content)?;
                            let status =
                                v.first().filter(|s| s.tag == 0x02).and_then(|s| asn1::integer_value(s.content));
                            status.ok_or_else(|| malformed("PKIStatus"))? != 0
                        }
                        None => false,
                    };
                    let hash_alg = match asn1::optional(&mut it, 0xA0) {
                        Some(_) if pvno < 3 => return Err(malformed("hashAlg needs pvno 3")),
                        Some(alg) => Some(crate::signature::algorithm_oid(alg.content)?),
                        None => None,
                    };
                    asn1::end(&mut it, "CertStatus")?;
                    Body::CertConf { cert_hash: Some(hash.content.to_vec()), cert_req_id: id, rejected, hash_alg }
                }
                Some(_) => return Err(malformed("CertStatus")),
            }
        }
        tag => Body::Other { tag: tag & 0x1F },
    })
}

fn parse_cert_rep(content: &[u8]) -> Result<Body, Error> {
    let rep = asn1::read_one(content)?;
    let parts = asn1::children(rep.content)?;
    let responses = parts.iter().find(|t| t.tag == 0x30).ok_or_else(|| malformed("no CertResponse"))?;
    let first = asn1::children(responses.content)?.into_iter().next().ok_or_else(|| malformed("empty response"))?;
    let f = asn1::children(first.content)?;
    let cert_req_id = f.first().and_then(|t| asn1::integer_value(t.content)).unwrap_or(0);
    let status = f
        .get(1)
        .and_then(|s| asn1::children(s.content).ok())
        .and_then(|s| s.first().and_then(|t| asn1::integer_value(t.content)))
        .unwrap_or(2);
    let text = f.get(1).and_then(|s| status_text(s.content));
    let fail_info = f.get(1).and_then(|s| fail_bits(s.content));
    let ca_pubs = match parts.iter().find(|t| t.tag == 0xA1) {
        Some(t) => asn1::children(asn1::read_one(t.content)?.content)?.iter().map(|c| c.raw.to_vec()).collect(),
        None => Vec::new(),
    };
    let certificate = f
        .get(2)
        .and_then(|pair| asn1::children(pair.content).ok())
        .and_then(|p| p.into_iter().find(|t| t.tag == 0xA0))
        .and_then(|c| asn1::read_one(c.content).ok().map(|t| t.raw.to_vec()));
    Ok(Body::CertResponse { accepted: status == 0 || status == 1, cert_req_id, certificate, text, ca_pubs, fail_info })
}

/// id-it-caCerts, 1.3.6.1.5.5.7.4.17.
pub const OID_IT_CA_CERTS: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x04, 0x11];

/// id-ce-cRLReasons, 2.5.29.21.
const OID_CRL_REASON: &[u8] = &[0x55, 0x1D, 0x15];

fn parse_rr(content: &[u8]) -> Result<Body, Error> {
    let list = sequence_fields(content, "rr")?;
    let details = list.first().filter(|d| d.tag == 0x30).ok_or_else(|| malformed("rr: no RevDetails"))?;
    let f = asn1::children(details.content)?;
    let mut it = f.iter().peekable();
    let template = *it.next().filter(|t| t.tag == 0x30).ok_or_else(|| malformed("rr without certDetails"))?;
    let (mut serial, mut issuer) = (Vec::new(), Vec::new());
    for t in asn1::children(template.content)? {
        match t.tag {
            0x81 => serial = t.content.to_vec(),
            0xA3 => issuer = asn1::read_one(t.content)?.raw.to_vec(),
            _ => {}
        }
    }
    let mut reason = None;
    if let Some(extensions) = asn1::optional(&mut it, 0x30) {
        for ext in asn1::children(extensions.content)? {
            let e = asn1::children(ext.content)?;
            if e.first().is_some_and(|o| o.tag == 0x06 && o.content == OID_CRL_REASON)
                && let Some(value) = e.last().filter(|v| v.tag == 0x04)
            {
                let enumerated = asn1::read_one(value.content)?;
                if enumerated.tag != 0x0A {
                    return Err(malformed("rr: reasonCode"));
                }
                reason = enumerated.content.first().copied();
            }
        }
    }
    asn1::end(&mut it, "RevDetails")?;
    if serial.is_empty() || issuer.is_empty() {
        return Err(malformed("rr needs serialNumber and issuer"));
    }
    Ok(Body::Rr { serial, issuer, reason })
}

impl Request {
    /// Check the password-based MAC with `secret` over the bytes as received.
    pub fn verify(&self, secret: &[u8]) -> Result<(), Error> {
        let (pbm, protection) = match (&self.pbm, &self.protection) {
            (Some(p), Some(v)) => (p, v),
            _ => return Err(Error::Unprotected),
        };
        if pbm.verify(secret, &self.protected_part, protection) { Ok(()) } else { Err(Error::BadMac) }
    }
}

impl Request {
    /// Check a signature protection with the key of DER SubjectPublicKeyInfo `spki` (the
    /// first extraCert's, once the caller has decided to trust that certificate).
    pub fn verify_signature(&self, spki: &[u8]) -> Result<(), Error> {
        match (&self.signature_alg, &self.protection) {
            (Some(alg), Some(sig)) => crate::signature::verify_algorithm(spki, alg, &self.protected_part, sig),
            _ => Err(Error::Unprotected),
        }
    }
}
