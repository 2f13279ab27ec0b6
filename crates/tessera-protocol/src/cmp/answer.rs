//! The RA's answers: PKIStatusInfo with its failure bits, the body for each request,
//! protected with the request's MAC parameters or the CA's signature.

use super::parse::*;
use super::status::{FailInfo, Status, status_info};
use crate::asn1::{explicit, integer, octet_string, sequence, tlv};

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
