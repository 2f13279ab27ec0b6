//! Lightweight CMP (RFC 9483) from the client's side: `ir` with the proof of possession
//! signed on the card, `certConf` accepting or rejecting what came back, `genm` for the
//! CA certificates. MAC-protected with the request's reference and activation code; every
//! answer that carries a certificate must verify with that code and belong to our
//! transaction, or it is not used.

use tessera_protocol::cmp::{self, Body, Client};

use super::http::Http;
use crate::{Error, Result};

/// One CMP transaction's identity: kept in the journal so that certConf after a restart
/// belongs to the transaction that issued the certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transaction {
    /// hex
    pub id: String,
    /// The RA's senderNonce in the answer that carried the certificate (hex): certConf's
    /// recipNonce.
    pub ra_nonce: String,
    pub cert_req_id: i64,
}

/// What the CA returned for one request.
#[derive(Debug, Clone)]
pub struct Issued {
    pub certificate: Vec<u8>,
    /// extraCerts (the chain) and caPubs (trust anchors), as received.
    pub extra_certs: Vec<Vec<u8>>,
    pub ca_pubs: Vec<Vec<u8>>,
    /// The CA's statusString, e.g. that it is issued suspended.
    pub note: Option<String>,
    pub transaction: Transaction,
}

pub struct Exchange<'a> {
    pub http: &'a Http,
    pub reference: &'a str,
    /// The activation code in canonical form: the MAC secret.
    pub secret: &'a [u8],
    /// RFC 9483 id-it-certProfile, when the RA issues several profiles for one reference.
    pub profile: Option<&'a str>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).expect("the OS random source");
    b
}

/// Names of the PKIFailureInfo bits set (RFC 4210 5.2.3), for messages and the error file.
fn fail_names(bits: Option<u32>) -> String {
    const NAMES: [&str; 27] = [
        "badAlg",
        "badMessageCheck",
        "badRequest",
        "badTime",
        "badCertId",
        "badDataFormat",
        "wrongAuthority",
        "incorrectData",
        "missingTimeStamp",
        "badPOP",
        "certRevoked",
        "certConfirmed",
        "wrongIntegrity",
        "badRecipientNonce",
        "timeNotAvailable",
        "unacceptedPolicy",
        "unacceptedExtension",
        "addInfoNotAvailable",
        "badSenderNonce",
        "badCertTemplate",
        "signerNotTrusted",
        "transactionIdInUse",
        "unsupportedVersion",
        "notAuthorized",
        "systemUnavail",
        "systemFailure",
        "duplicateCertReq",
    ];
    let bits = bits.unwrap_or(0);
    NAMES.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, n)| *n).collect::<Vec<_>>().join(",")
}

impl Exchange<'_> {
    fn client(&self, transaction_id: [u8; 16]) -> Client<'_> {
        Client {
            reference: self.reference.as_bytes(),
            secret: self.secret,
            transaction_id,
            salt: random(),
            profile: self.profile,
        }
    }

    /// Send, parse, and check the answer belongs to this transaction and, when it is not a
    /// refusal, that the activation code protects it.
    async fn round_trip(&self, der: Vec<u8>, transaction_id: &[u8], nonce: &[u8]) -> Result<cmp::Request> {
        let answer = self.http.cmp(der).await?;
        let answer = cmp::parse(&answer).map_err(|e| Error::RaAnswerMalformed { reason: e.to_string() })?;
        if let Body::Error { text, fail_info } = &answer.body {
            // Refusals may come unprotected (RFC 9483 3.6.4): they change nothing here.
            return Err(Error::CmpRejected { text: text.clone(), fail_info: fail_names(*fail_info) });
        }
        answer.verify(self.secret).map_err(|_| Error::AnswerNotAuthentic)?;
        if answer.transaction_id.as_deref() != Some(transaction_id) || answer.recip_nonce.as_deref() != Some(nonce) {
            return Err(Error::RaAnswerMalformed { reason: "the answer belongs to another transaction".into() });
        }
        Ok(answer)
    }

    /// `ir` for `cert_request` (tessera_protocol::cmp::cert_request) with its signature by
    /// the card's key.
    pub async fn initial(&self, cert_request: &[u8], pop_algorithm: &[u8], pop_signature: &[u8]) -> Result<Issued> {
        let (id, nonce) = (random::<16>(), random::<16>());
        let der = self.client(id).ir(&nonce, cert_request, pop_algorithm, pop_signature);
        let answer = self.round_trip(der, &id, &nonce).await?;
        match answer.body {
            Body::CertResponse {
                accepted: true, certificate: Some(certificate), cert_req_id, text, ca_pubs, ..
            } => Ok(Issued {
                certificate,
                extra_certs: answer.extra_certs,
                ca_pubs,
                note: text,
                transaction: Transaction {
                    id: hex::encode(id),
                    ra_nonce: hex::encode(answer.sender_nonce.as_deref().unwrap_or_default()),
                    cert_req_id,
                },
            }),
            Body::CertResponse { text, fail_info, .. } => {
                Err(Error::CmpRejected { text: text.unwrap_or_default(), fail_info: fail_names(fail_info) })
            }
            other => Err(Error::RaAnswerMalformed { reason: format!("expected ip, got {other:?}") }),
        }
    }

    /// certConf: accept `certificate`, or reject it with `reason` (it failed our checks).
    pub async fn confirm(&self, t: &Transaction, certificate: &[u8], reject: Option<&str>) -> Result<()> {
        let id: [u8; 16] = hex::decode(&t.id)
            .unwrap_or_default()
            .try_into()
            .map_err(|_| Error::Storage { path: "journal".into(), reason: "transaction id".into() })?;
        let nonce = random::<16>();
        let client = self.client(id);
        let der = match reject {
            None => client.cert_conf(&nonce, &hex::decode(&t.ra_nonce).unwrap_or_default(), certificate, t.cert_req_id),
            Some(reason) => client.cert_reject(
                &nonce,
                &hex::decode(&t.ra_nonce).unwrap_or_default(),
                certificate,
                t.cert_req_id,
                reason,
            ),
        };
        match self.round_trip(der, &id, &nonce).await?.body {
            Body::Confirmed => Ok(()),
            other => Err(Error::RaAnswerMalformed { reason: format!("expected pkiconf, got {other:?}") }),
        }
    }

    /// genm id-it-caCerts: the CA certificates the RA publishes.
    pub async fn ca_certificates(&self) -> Result<Vec<Vec<u8>>> {
        let (id, nonce) = (random::<16>(), random::<16>());
        let der = self.client(id).genm_ca_certs(&nonce);
        match self.round_trip(der, &id, &nonce).await?.body {
            Body::Genp { ca_certs } => Ok(ca_certs),
            other => Err(Error::RaAnswerMalformed { reason: format!("expected genp, got {other:?}") }),
        }
    }
}

/// A key update (kur) and its certConf, protected by the card's signature with the key of
/// the certificate being renewed; the answers are signed by the CA, whose certificate must
/// lead to the RA's trust anchors.
pub struct Renewing<'a> {
    pub http: &'a Http,
    /// The certificate being renewed (DER).
    pub certificate: &'a [u8],
    /// DER AlgorithmIdentifier of the old key's signatures.
    pub algorithm: &'a [u8],
    pub anchors: &'a [Vec<u8>],
}

impl Renewing<'_> {
    fn signed(&self, id: [u8; 16]) -> cmp::Signed<'_> {
        cmp::Signed { certificate: self.certificate, algorithm: self.algorithm, transaction_id: id }
    }

    /// Send a signed message and check the answer: our transaction, and signed by a CA
    /// that leads to the anchors.
    async fn round_trip(&self, der: Vec<u8>, id: &[u8], nonce: &[u8]) -> Result<cmp::Request> {
        let answer = self.http.cmp(der).await?;
        let answer = cmp::parse(&answer).map_err(|e| Error::RaAnswerMalformed { reason: e.to_string() })?;
        if let Body::Error { text, fail_info } = &answer.body {
            return Err(Error::CmpRejected { text: text.clone(), fail_info: fail_names(*fail_info) });
        }
        let signer = answer.extra_certs.first().ok_or(Error::AnswerNotAuthentic)?;
        crate::chain::trusted_ca(signer, &answer.extra_certs[1..], self.anchors)?;
        let spki = x509_parser::parse_x509_certificate(signer)
            .map(|(_, c)| c.tbs_certificate.subject_pki.raw.to_vec())
            .map_err(|_| Error::AnswerNotAuthentic)?;
        answer.verify_signature(&spki).map_err(|_| Error::AnswerNotAuthentic)?;
        if answer.transaction_id.as_deref() != Some(id) || answer.recip_nonce.as_deref() != Some(nonce) {
            return Err(Error::RaAnswerMalformed { reason: "the answer belongs to another transaction".into() });
        }
        Ok(answer)
    }

    /// kur for `cert_request` (tessera_protocol::cmp::renewal_request) with the new key's
    /// POP; `sign` signs the message with the old key on the card.
    pub async fn key_update(
        &self,
        cert_request: &[u8],
        pop_algorithm: &[u8],
        pop_signature: &[u8],
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
    ) -> Result<Issued> {
        let (id, nonce) = (random::<16>(), random::<16>());
        let signed = self.signed(id);
        let (header, body) = signed.kur(&nonce, cert_request, pop_algorithm, pop_signature);
        let signature = sign(&cmp::Signed::protected_part(&header, &body))?;
        let answer = self.round_trip(signed.message(header, body, &signature), &id, &nonce).await?;
        match answer.body {
            Body::CertResponse { accepted: true, certificate: Some(certificate), cert_req_id, text, .. } => {
                Ok(Issued {
                    certificate,
                    ca_pubs: Vec::new(),
                    note: text,
                    transaction: Transaction {
                        id: hex::encode(id),
                        ra_nonce: hex::encode(answer.sender_nonce.as_deref().unwrap_or_default()),
                        cert_req_id,
                    },
                    extra_certs: answer.extra_certs,
                })
            }
            Body::CertResponse { text, fail_info, .. } => {
                Err(Error::CmpRejected { text: text.unwrap_or_default(), fail_info: fail_names(fail_info) })
            }
            other => Err(Error::RaAnswerMalformed { reason: format!("expected kup, got {other:?}") }),
        }
    }

    /// certConf for the renewed certificate, signed with the old key.
    pub async fn confirm(
        &self,
        t: &Transaction,
        certificate: &[u8],
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
    ) -> Result<()> {
        let id: [u8; 16] = hex::decode(&t.id)
            .unwrap_or_default()
            .try_into()
            .map_err(|_| Error::Storage { path: "journal".into(), reason: "transaction id".into() })?;
        let nonce = random::<16>();
        let signed = self.signed(id);
        let (header, body) =
            signed.cert_conf(&nonce, &hex::decode(&t.ra_nonce).unwrap_or_default(), certificate, t.cert_req_id);
        let signature = sign(&cmp::Signed::protected_part(&header, &body))?;
        match self.round_trip(signed.message(header, body, &signature), &id, &nonce).await?.body {
            Body::Confirmed => Ok(()),
            other => Err(Error::RaAnswerMalformed { reason: format!("expected pkiconf, got {other:?}") }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_bits_are_named() {
        assert_eq!(fail_names(Some(1 << 1)), "badMessageCheck");
        assert_eq!(fail_names(Some((1 << 9) | (1 << 23))), "badPOP,notAuthorized");
        assert_eq!(fail_names(None), "");
    }
}
