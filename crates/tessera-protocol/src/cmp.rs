//! Lightweight CMP (RFC 9483) as the registration authority speaks it: requests parsed
//! from the bytes as received, password-based MAC protection (RFC 4210 5.1.3.1), and the
//! answers built as DER.

use sha2::Digest;

use crate::Error;
use crate::asn1::{self, Tlv, explicit, integer, octet_string, sequence, tlv};
pub use crate::mac::Pbm;

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
    protected_part: Vec<u8>,
    protection: Option<Vec<u8>>,
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

/// The failInfo bits of a PKIStatusInfo's content, bit n (RFC 4210 numbering) as 1 << n.
fn fail_bits(info: &[u8]) -> Option<u32> {
    let bits = asn1::children(info).ok()?.into_iter().find(|t| t.tag == 0x03)?;
    let bytes = bits.content.get(1..)?;
    let mut out = 0u32;
    for (i, byte) in bytes.iter().take(4).enumerate() {
        for b in 0..8 {
            if byte & (0x80 >> b) != 0 {
                out |= 1 << (i * 8 + b);
            }
        }
    }
    Some(out)
}

/// The first statusString of a PKIStatusInfo's content.
fn status_text(info: &[u8]) -> Option<String> {
    asn1::children(info)
        .ok()?
        .into_iter()
        .find(|t| t.tag == 0x30)
        .and_then(|strings| asn1::children(strings.content).ok())
        .and_then(|v| v.first().map(|t| String::from_utf8_lossy(t.content).into_owned()))
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

/// PKIStatus values (RFC 4210 5.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Accepted = 0,
    Rejection = 2,
}

/// PKIFailureInfo bits (RFC 4210 5.2.3) that the RA sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailInfo {
    BadAlg = 0,
    BadMessageCheck = 1,
    BadRequest = 2,
    BadTime = 3,
    BadCertId = 4,
    BadDataFormat = 5,
    WrongAuthority = 6,
    IncorrectData = 7,
    BadPop = 9,
    CertRevoked = 10,
    CertConfirmed = 11,
    WrongIntegrity = 12,
    BadRecipientNonce = 13,
    BadSenderNonce = 18,
    BadCertTemplate = 19,
    SignerNotTrusted = 20,
    TransactionIdInUse = 21,
    UnsupportedVersion = 22,
    NotAuthorized = 23,
    SystemUnavail = 24,
    SystemFailure = 25,
    DuplicateCertReq = 26,
}

/// What the RA answers with.
pub enum Answer<'a> {
    /// cp (to p10cr), ip (to ir) or kup (to kur): the certificate; `ca_pubs`, the trust
    /// anchors for the client (caPubs); `chain`, the certificates between (extraCerts);
    /// `note`, a statusString for the holder.
    Certificate {
        body_tag: u8,
        cert_req_id: i64,
        certificate: &'a [u8],
        ca_pubs: &'a [Vec<u8>],
        chain: &'a [Vec<u8>],
        note: Option<&'a str>,
    },
    /// pkiconf (to certConf).
    Confirm,
    /// rp (to rr): accepted.
    Revoked,
    /// genp (to genm): the CA certificates (id-it-caCerts, RFC 9483 4.3.1).
    CaCertificates { certificates: &'a [Vec<u8>] },
    /// error: status rejection with a failure bit and a text.
    Error { fail: FailInfo, text: &'a str },
}

/// Signs a CMP ProtectedPart (DER) and returns the signature as it goes into the message.
/// A failure is an error of the whole answer: an answer with an empty signature is never
/// sent.
pub type Sign<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, String>;

/// The CA's side of the header and the protection.
pub struct Responder<'a> {
    /// DER GeneralName of the RA/CA (directoryName).
    pub sender: &'a [u8],
    /// Fresh random bytes for senderNonce.
    pub nonce: &'a [u8],
    /// Signature protection, for requests that were signature-protected (no shared
    /// secret): the signer, its DER AlgorithmIdentifier and certificate chain.
    pub signer: Option<Sign<'a>>,
    /// The signer's key identifier (its certificate's subjectKeyIdentifier): the
    /// senderKID of signed answers (RFC 9483 3.1).
    pub signer_kid: Option<&'a [u8]>,
    pub signer_alg: &'a [u8],
    pub signer_chain: &'a [Vec<u8>],
}

fn status_info(status: Status, fail: Option<FailInfo>, text: Option<&str>) -> Vec<u8> {
    let mut parts = vec![integer(status as i64)];
    if let Some(t) = text {
        parts.push(sequence(&[tlv(0x0C, t.as_bytes())]));
    }
    if let Some(f) = fail {
        // BIT STRING with the single bit `f` set (DER: minimal length, unused bits).
        let bit = f as usize;
        let mut bytes = vec![0u8; bit / 8 + 1];
        bytes[bit / 8] = 0x80 >> (bit % 8);
        let unused = 7 - (bit % 8) as u8;
        parts.push(tlv(0x03, &[&[unused][..], &bytes].concat()));
    }
    sequence(&parts)
}

/// Build the answer to `request`, protected with the request's PBM parameters and
/// `secret` when there is one (errors to unauthenticated requests go unprotected).
pub fn answer(
    request: &Request,
    responder: &Responder<'_>,
    secret: Option<&[u8]>,
    what: Answer<'_>,
) -> Result<Vec<u8>, String> {
    let now = time::OffsetDateTime::now_utc();
    let generalized = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let protect = secret.and(request.pbm.as_ref());
    let sign = if protect.is_none() && request.signature_alg.is_some() { responder.signer } else { None };
    let mut header = vec![
        integer(2),
        responder.sender.to_vec(),
        if request.sender.is_empty() { explicit(4, &sequence(&[])) } else { request.sender.clone() },
        explicit(0, &tlv(0x18, generalized.as_bytes())),
    ];
    if let Some(pbm) = protect {
        header.push(explicit(1, &pbm.algorithm));
    } else if sign.is_some() {
        header.push(explicit(1, responder.signer_alg));
    }
    // senderKID names the key that protects this message: the shared reference for MAC
    // protection, the signing certificate's key identifier for the CA's signature.
    match (&request.sender_kid, sign.is_some(), responder.signer_kid) {
        (_, true, Some(kid)) => header.push(explicit(2, &octet_string(kid))),
        (Some(kid), false, _) => header.push(explicit(2, &octet_string(kid))),
        _ => {}
    }
    if let Some(id) = &request.transaction_id {
        header.push(explicit(4, &octet_string(id)));
    }
    header.push(explicit(5, &octet_string(responder.nonce)));
    if let Some(nonce) = &request.sender_nonce {
        header.push(explicit(6, &octet_string(nonce)));
    }
    let header = sequence(&header);
    let mut extra = Vec::new();
    let body = match what {
        Answer::Certificate { body_tag, cert_req_id, certificate, ca_pubs, chain, note } => {
            let certified = sequence(&[explicit(0, certificate)]);
            let response = sequence(&[integer(cert_req_id), status_info(Status::Accepted, None, note), certified]);
            let mut rep = Vec::new();
            if !ca_pubs.is_empty() {
                rep.push(explicit(1, &sequence(ca_pubs)));
            }
            extra.extend(chain.iter().cloned());
            rep.push(sequence(&[response]));
            explicit(body_tag, &sequence(&rep))
        }
        Answer::Confirm => explicit(19, &[0x05, 0x00]),
        Answer::Revoked => explicit(12, &sequence(&[sequence(&[status_info(Status::Accepted, None, None)])])),
        Answer::CaCertificates { certificates } => {
            let itav = sequence(&[tlv(0x06, OID_IT_CA_CERTS), sequence(certificates)]);
            explicit(22, &sequence(&[itav]))
        }
        Answer::Error { fail, text } => {
            explicit(23, &sequence(&[status_info(Status::Rejection, Some(fail), Some(text))]))
        }
    };
    let mut message = vec![header.clone(), body.clone()];
    if let Some(pbm) = protect {
        let protected = sequence(&[header, body]);
        let mac = pbm.mac(secret.unwrap_or_default(), &protected);
        message.push(explicit(0, &tlv(0x03, &[&[0u8][..], &mac].concat())));
    } else if let Some(sign) = sign {
        let signature = sign(&sequence(&[header, body]))?;
        message.push(explicit(0, &tlv(0x03, &[&[0u8][..], &signature].concat())));
        // The signer's certificate first (RFC 9483 3.3), then the rest of its chain, then
        // whatever else the answer carries.
        let mut front: Vec<Vec<u8>> = responder.signer_chain.to_vec();
        extra.retain(|c| !front.contains(c));
        front.append(&mut extra);
        extra = front;
    }
    if !extra.is_empty() {
        message.push(explicit(1, &sequence(&extra)));
    }
    Ok(sequence(&message))
}

/// The client's side of a MAC-protected exchange: reference, secret, and the transaction.
pub struct Client<'a> {
    pub reference: &'a [u8],
    pub secret: &'a [u8],
    pub transaction_id: [u8; 16],
    /// PBM salt (random per transaction).
    pub salt: [u8; 16],
    /// The certificate profile asked for (generalInfo id-it-certProfile, RFC 9483 3.1).
    pub profile: Option<&'a str>,
}

/// id-it-certProfile, 1.3.6.1.5.5.7.4.21.
pub const OID_IT_CERT_PROFILE: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x04, 0x15];

/// A CRMF CertRequest (RFC 4211) for the key of DER SubjectPublicKeyInfo `spki`, with a
/// subject of just `common_name`: the DER that the proof-of-possession signature covers
/// (RFC 9483 4.1.1). The RA dictates the real subject; the template must carry one
/// anyway, since a signature POP without poposkInput needs it (RFC 4211 4.1).
pub fn cert_request(cert_req_id: i64, spki: &[u8], common_name: &str) -> Vec<u8> {
    const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
    let name = sequence(&[tlv(0x31, &sequence(&[tlv(0x06, OID_CN), tlv(0x0C, common_name.as_bytes())]))]);
    // CertTemplate (IMPLICIT TAGS): subject [5] Name is a CHOICE, so explicitly tagged;
    // publicKey [6] SubjectPublicKeyInfo is the SEQUENCE's content under the tag.
    let spki_content = asn1::read_one(spki).map(|t| t.content.to_vec()).unwrap_or_default();
    let template = sequence(&[explicit(5, &name), tlv(0xA6, &spki_content)]);
    sequence(&[integer(cert_req_id), template])
}

impl Client<'_> {
    fn pbm(&self) -> Pbm {
        Pbm::sha256(&self.salt, PBM_ITERATIONS)
    }

    fn message(&self, nonce: &[u8], recip_nonce: Option<&[u8]>, body: Vec<u8>) -> Vec<u8> {
        let pbm = self.pbm();
        let empty_name = explicit(4, &sequence(&[]));
        let mut header = vec![integer(2), empty_name.clone(), empty_name, explicit(1, &pbm.algorithm)];
        header.push(explicit(2, &octet_string(self.reference)));
        header.push(explicit(4, &octet_string(&self.transaction_id)));
        header.push(explicit(5, &octet_string(nonce)));
        if let Some(r) = recip_nonce {
            header.push(explicit(6, &octet_string(r)));
        }
        if let Some(profile) = self.profile {
            let itav = sequence(&[tlv(0x06, OID_IT_CERT_PROFILE), sequence(&[tlv(0x0C, profile.as_bytes())])]);
            header.push(explicit(8, &sequence(&[itav])));
        }
        let header = sequence(&header);
        let mac = pbm.mac(self.secret, &sequence(&[header.clone(), body.clone()]));
        sequence(&[header, body, explicit(0, &tlv(0x03, &[&[0u8][..], &mac].concat()))])
    }

    /// p10cr carrying a PKCS#10 request (DER).
    pub fn p10cr(&self, nonce: &[u8], csr: &[u8]) -> Vec<u8> {
        self.message(nonce, None, explicit(4, csr))
    }

    /// ir carrying `cert_request` (from [`cert_request`]) with its signature proof of
    /// possession: `pop_algorithm` a DER AlgorithmIdentifier, `pop_signature` as in X.509.
    pub fn ir(&self, nonce: &[u8], cert_request: &[u8], pop_algorithm: &[u8], pop_signature: &[u8]) -> Vec<u8> {
        let pop = tlv(0xA1, &[pop_algorithm, &tlv(0x03, &[&[0u8][..], pop_signature].concat())].concat());
        let message = sequence(&[cert_request.to_vec(), pop]);
        self.message(nonce, None, explicit(0, &sequence(&[message])))
    }

    /// genm asking for the CA certificates (id-it-caCerts, RFC 9483 4.3.1).
    pub fn genm_ca_certs(&self, nonce: &[u8]) -> Vec<u8> {
        self.message(nonce, None, explicit(21, &sequence(&[sequence(&[tlv(0x06, OID_IT_CA_CERTS)])])))
    }

    /// certConf rejecting `certificate` (it failed the client's checks), with the reason.
    pub fn cert_reject(
        &self,
        nonce: &[u8],
        recip_nonce: &[u8],
        certificate: &[u8],
        cert_req_id: i64,
        reason: &str,
    ) -> Vec<u8> {
        let info = status_info(Status::Rejection, Some(FailInfo::BadCertTemplate), Some(reason));
        let status = sequence(&[octet_string(&cert_hash(certificate)), integer(cert_req_id), info]);
        self.message(nonce, Some(recip_nonce), explicit(24, &sequence(&[status])))
    }

    /// certConf accepting `certificate` (certReqId -1 for p10cr, RFC 9483 4.1.4).
    pub fn cert_conf(&self, nonce: &[u8], recip_nonce: &[u8], certificate: &[u8], cert_req_id: i64) -> Vec<u8> {
        let status = sequence(&[octet_string(&cert_hash(certificate)), integer(cert_req_id)]);
        self.message(nonce, Some(recip_nonce), explicit(24, &sequence(&[status])))
    }
}

/// id-regCtrl-oldCertID, 1.3.6.1.5.5.7.5.1.5.
const OID_OLD_CERT_ID: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x05, 0x01, 0x05];

/// A CRMF CertRequest for a key update (kur, RFC 9483 4.1.3): as [`cert_request`], with
/// the oldCertID control naming the certificate it renews (its issuer Name, DER, and
/// serial number, INTEGER content).
pub fn renewal_request(cert_req_id: i64, spki: &[u8], common_name: &str, issuer: &[u8], serial: &[u8]) -> Vec<u8> {
    let plain = cert_request(cert_req_id, spki, common_name);
    let fields = asn1::read_one(&plain).and_then(|t| asn1::children(t.content)).unwrap_or_default();
    let old_cert_id = sequence(&[explicit(4, issuer), tlv(0x02, serial)]);
    let controls = sequence(&[sequence(&[tlv(0x06, OID_OLD_CERT_ID), old_cert_id])]);
    let mut parts: Vec<Vec<u8>> = fields.iter().map(|f| f.raw.to_vec()).collect();
    parts.push(controls);
    sequence(&parts)
}

/// The client's side of a signature-protected exchange (kur and its certConf): the
/// certificate being renewed signs; its key stays on the card, so messages are built in
/// two steps: the part to sign ([`Signed::protected_part`]), then the message with the
/// card's signature ([`Signed::message`]).
pub struct Signed<'a> {
    /// The certificate whose key protects the messages (DER): sender, senderKID and
    /// extraCerts come from it.
    pub certificate: &'a [u8],
    /// DER AlgorithmIdentifier of the signature the card makes with that key.
    pub algorithm: &'a [u8],
    pub transaction_id: [u8; 16],
}

/// A certificate's subject and issuer (DER Names) and subjectKeyIdentifier.
type Names = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

/// The subject, issuer (DER Names) and subjectKeyIdentifier of a DER certificate.
fn names_of(certificate: &[u8]) -> Names {
    let parse = || -> Option<Names> {
        let cert = asn1::read_one(certificate).ok()?;
        let tbs = asn1::children(cert.content).ok()?.into_iter().next()?;
        let fields = asn1::children(tbs.content).ok()?;
        let at = if fields.first()?.tag == 0xA0 { 1 } else { 0 };
        let (issuer, subject) = (fields.get(at + 2)?.raw.to_vec(), fields.get(at + 4)?.raw.to_vec());
        let ski = fields.iter().find(|f| f.tag == 0xA3).and_then(|ext| {
            let list = asn1::read_one(ext.content).ok()?;
            asn1::children(list.content).ok()?.into_iter().find_map(|e| {
                let f = asn1::children(e.content).ok()?;
                if f.first()?.content != [0x55, 0x1D, 0x0E] {
                    return None;
                }
                let value = asn1::read_one(f.last()?.content).ok()?;
                Some(value.content.to_vec())
            })
        });
        Some((subject, issuer, ski))
    };
    parse().unwrap_or_default()
}

impl Signed<'_> {
    fn header(&self, nonce: &[u8], recip_nonce: Option<&[u8]>) -> Vec<u8> {
        let (subject, issuer, ski) = names_of(self.certificate);
        let mut header = vec![integer(2), explicit(4, &subject), explicit(4, &issuer), explicit(1, self.algorithm)];
        if let Some(kid) = ski {
            header.push(explicit(2, &octet_string(&kid)));
        }
        header.push(explicit(4, &octet_string(&self.transaction_id)));
        header.push(explicit(5, &octet_string(nonce)));
        if let Some(r) = recip_nonce {
            header.push(explicit(6, &octet_string(r)));
        }
        sequence(&header)
    }

    /// kur: header and body, for `renewal_request` with the new key's POP signature.
    pub fn kur(
        &self,
        nonce: &[u8],
        cert_request: &[u8],
        pop_algorithm: &[u8],
        pop_signature: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let pop = tlv(0xA1, &[pop_algorithm, &tlv(0x03, &[&[0u8][..], pop_signature].concat())].concat());
        let body = explicit(7, &sequence(&[sequence(&[cert_request.to_vec(), pop])]));
        (self.header(nonce, None), body)
    }

    /// certConf accepting `certificate`: header and body.
    pub fn cert_conf(
        &self,
        nonce: &[u8],
        recip_nonce: &[u8],
        certificate: &[u8],
        cert_req_id: i64,
    ) -> (Vec<u8>, Vec<u8>) {
        let status = sequence(&[octet_string(&cert_hash(certificate)), integer(cert_req_id)]);
        (self.header(nonce, Some(recip_nonce)), explicit(24, &sequence(&[status])))
    }

    /// What the card signs: ProtectedPart ::= SEQUENCE { header, body }.
    pub fn protected_part(header: &[u8], body: &[u8]) -> Vec<u8> {
        sequence(&[header.to_vec(), body.to_vec()])
    }

    /// The message, with the card's signature over the protected part and the certificate
    /// in extraCerts.
    pub fn message(&self, header: Vec<u8>, body: Vec<u8>, signature: &[u8]) -> Vec<u8> {
        sequence(&[
            header,
            body,
            explicit(0, &tlv(0x03, &[&[0u8][..], signature].concat())),
            explicit(1, &sequence(&[self.certificate.to_vec()])),
        ])
    }
}

/// PBM iteration count Tessera's client uses (openssl cmp's default is 500 too).
pub const PBM_ITERATIONS: u32 = 500;

/// The certificate hash certConf carries (RFC 4210 5.3.18; RFC 9481 2): made with the hash
/// of the certificate's own signature algorithm (SHA-384 for ecdsa-with-SHA384 and
/// sha384WithRSAEncryption, SHA-512 for their SHA-512 kin, SHA-256 otherwise).
/// certHash with the hash certConf's hashAlg names (OID content): SHA-256, -384 or -512.
pub fn cert_hash_with(hash_alg: &[u8], certificate: &[u8]) -> Option<Vec<u8>> {
    match hash_alg {
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01] => Some(sha2::Sha256::digest(certificate).to_vec()),
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02] => Some(sha2::Sha384::digest(certificate).to_vec()),
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03] => Some(sha2::Sha512::digest(certificate).to_vec()),
        _ => None,
    }
}

pub fn cert_hash(certificate: &[u8]) -> Vec<u8> {
    const SHA384: [&[u8]; 2] =
        [crate::signature::OID_ECDSA_SHA384, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0C]];
    const SHA512: [&[u8]; 2] =
        [&[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x04], &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0D]];
    let oid = crate::asn1::read_one(certificate)
        .and_then(|c| crate::asn1::children(c.content))
        .ok()
        .and_then(|fields| fields.get(1).and_then(|alg| crate::signature::algorithm_oid(alg.raw).ok()))
        .unwrap_or_default();
    if SHA384.contains(&oid.as_slice()) {
        sha2::Sha384::digest(certificate).to_vec()
    } else if SHA512.contains(&oid.as_slice()) {
        sha2::Sha512::digest(certificate).to_vec()
    } else {
        sha2::Sha256::digest(certificate).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pbm() -> Pbm {
        Pbm::sha256(b"0123456789abcdef", 500)
    }

    #[test]
    fn our_answers_parse_and_verify_with_the_same_secret() {
        let p = pbm();
        let request = Request {
            sender: explicit(4, &sequence(&[])),
            recipient: explicit(4, &sequence(&[])),
            sender_kid: Some(b"REF-1".to_vec()),
            transaction_id: Some(vec![1; 16]),
            sender_nonce: Some(vec![2; 16]),
            recip_nonce: None,
            cert_profile: None,
            body: Body::Other { tag: 4 },
            pvno: 2,
            pbm: Some(p),
            signature_alg: None,
            unsupported_protection: None,
            extra_certs: Vec::new(),
            protected_part: Vec::new(),
            protection: None,
        };
        let responder = Responder {
            sender: &explicit(4, &sequence(&[])),
            nonce: &[3; 16],
            signer: None,
            signer_kid: None,
            signer_alg: &[],
            signer_chain: &[],
        };
        let der = answer(&request, &responder, Some(b"secret"), Answer::Confirm).unwrap();
        let parsed = parse(&der).unwrap();
        assert_eq!(parsed.transaction_id, request.transaction_id);
        assert_eq!(parsed.sender_kid.as_deref(), Some(&b"REF-1"[..]));
        assert!(parsed.verify(b"secret").is_ok());
        assert_eq!(parsed.verify(b"wrong"), Err(Error::BadMac));
        let unprotected =
            answer(&request, &responder, None, Answer::Error { fail: FailInfo::BadRequest, text: "no" }).unwrap();
        assert_eq!(parse(&unprotected).unwrap().verify(b"secret"), Err(Error::Unprotected));
    }

    #[test]
    fn client_messages_verify_on_the_server_side() {
        let client =
            Client { reference: b"REQ-1", secret: b"code", transaction_id: [7; 16], salt: [9; 16], profile: Some("p") };
        let csr = sequence(&[integer(0)]);
        let request = parse(&client.p10cr(&[1; 16], &csr)).unwrap();
        assert_eq!(request.body, Body::P10cr { csr: csr.clone() });
        assert_eq!(request.cert_profile.as_deref(), Some("p"));
        assert_eq!(request.sender_kid.as_deref(), Some(&b"REQ-1"[..]));
        assert!(request.verify(b"code").is_ok());
        assert_eq!(request.verify(b"other"), Err(Error::BadMac));
        let conf = parse(&client.cert_conf(&[2; 16], &[3; 16], b"cert", -1)).unwrap();
        assert!(matches!(conf.body, Body::CertConf { cert_req_id: -1, rejected: false, .. }));
        assert!(conf.verify(b"code").is_ok());
    }

    #[test]
    fn failure_bits_are_minimal_bit_strings() {
        let info = status_info(Status::Rejection, Some(FailInfo::BadMessageCheck), None);
        assert_eq!(info, [0x30, 0x07, 0x02, 0x01, 0x02, 0x03, 0x02, 0x06, 0x40]);
    }

    #[test]
    fn an_ir_with_signature_pop_verifies_on_the_server_side() {
        use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let alg = sequence(&[
            tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]),
            tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]),
        ]);
        let spki = sequence(&[alg, tlv(0x03, &[&[0u8][..], key.public_key().as_ref()].concat())]);
        let cr = cert_request(0, &spki, "ROSSI MARIO");
        let pop = key.sign(&rng, &cr).unwrap();
        let client = Client { reference: b"R", secret: b"s", transaction_id: [1; 16], salt: [2; 16], profile: None };
        let pop_alg = crate::signature::algorithm_identifier(crate::signature::OID_ECDSA_SHA256);
        let request = parse(&client.ir(&[3; 16], &cr, &pop_alg, pop.as_ref())).unwrap();
        let Body::Ir { request: parsed } = request.body else { panic!("not an ir") };
        assert_eq!(parsed.public_key, spki);
        assert!(parsed.verify_pop().is_ok());
        // The same request with another key's signature does not.
        let other = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let other = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, other.as_ref(), &rng).unwrap();
        let forged = parse(&client.ir(&[3; 16], &cr, &pop_alg, other.sign(&rng, &cr).unwrap().as_ref())).unwrap();
        let Body::Ir { request: forged } = forged.body else { panic!("not an ir") };
        assert!(forged.verify_pop().is_err());
    }

    #[test]
    fn genm_rejections_and_fail_bits_read_back() {
        let client = Client { reference: b"R", secret: b"s", transaction_id: [1; 16], salt: [2; 16], profile: None };
        let genm = parse(&client.genm_ca_certs(&[3; 16])).unwrap();
        assert_eq!(genm.body, Body::Genm { info_types: vec![OID_IT_CA_CERTS.to_vec()], with_value: false });
        let reject = parse(&client.cert_reject(&[3; 16], &[4; 16], b"cert", -1, "wrong key")).unwrap();
        assert!(matches!(reject.body, Body::CertConf { rejected: true, cert_req_id: -1, .. }));
        let info = status_info(Status::Rejection, Some(FailInfo::NotAuthorized), Some("no"));
        assert_eq!(fail_bits(asn1::read_one(&info).unwrap().content), Some(1 << 23));
    }

    #[test]
    fn a_signed_kur_carries_the_old_certificate_id_and_parses_back() {
        // A small certificate-shaped DER: tbs with serial, issuer and subject Names.
        let name = |cn: &[u8]| sequence(&[tlv(0x31, &sequence(&[tlv(0x06, &[0x55, 0x04, 0x03]), tlv(0x0C, cn)]))]);
        let alg = sequence(&[tlv(0x06, crate::signature::OID_ECDSA_SHA256)]);
        let validity = sequence(&[tlv(0x17, b"260101000000Z"), tlv(0x17, b"270101000000Z")]);
        let spki = sequence(&[sequence(&[tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01])]), tlv(0x03, &[0, 4])]);
        let tbs = sequence(&[
            explicit(0, &integer(2)),
            tlv(0x02, &[0x42]),
            alg.clone(),
            name(b"Issuing CA"),
            validity,
            name(b"ROSSI MARIO"),
            spki.clone(),
        ]);
        let cert = sequence(&[tbs, alg.clone(), tlv(0x03, &[0, 1])]);
        let request = renewal_request(0, &spki, "ROSSI MARIO", &name(b"Issuing CA"), &[0x42]);
        let signed = Signed { certificate: &cert, algorithm: &alg, transaction_id: [5; 16] };
        let (header, body) = signed.kur(&[6; 16], &request, &alg, &[1, 2, 3]);
        let der = signed.message(header.clone(), body.clone(), &[9, 9]);
        let parsed = parse(&der).unwrap();
        assert_eq!(parsed.signature_alg.as_deref(), Some(alg.as_slice()));
        assert_eq!(parsed.extra_certs, std::slice::from_ref(&cert));
        assert_eq!(parsed.sender, explicit(4, &name(b"ROSSI MARIO")));
        let Body::Kur { request: cr } = parsed.body else { panic!("{:?}", parsed.body) };
        assert_eq!(cr.old_cert_id, Some((explicit(4, &name(b"Issuing CA")), vec![0x42])));
        assert_eq!(Signed::protected_part(&header, &body), sequence(&[header, body]));
    }
}
