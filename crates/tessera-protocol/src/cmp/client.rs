//! The client's side: CRMF requests for a key on the card, MAC-protected exchanges
//! (ir, certConf), signature-protected ones (kur) built in two steps, and certConf's
//! certificate hash.

use sha2::Digest;

use super::parse::*;
use super::status::{FailInfo, Status, status_info};
use crate::asn1::{self, explicit, integer, octet_string, sequence, tlv};
use crate::mac::Pbm;

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
