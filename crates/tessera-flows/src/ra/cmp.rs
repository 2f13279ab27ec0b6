//! Lightweight CMP (RFC 9483) from the client's side: `ir` with the proof of possession
//! signed on the card, `certConf` accepting or rejecting what came back, `genm` for the
//! CA certificates. MAC-protected with the request's reference and activation code; every
//! answer that carries a certificate must verify with that code and belong to our
//! transaction, or it is not used.

use tessera_protocol::cmp::{self, Body, Client};

use super::http::Http;
use crate::journal::{hex, unhex};
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
                    id: hex(&id),
                    ra_nonce: hex(answer.sender_nonce.as_deref().unwrap_or_default()),
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
        let id: [u8; 16] = unhex(&t.id)
            .try_into()
            .map_err(|_| Error::Storage { path: "journal".into(), reason: "transaction id".into() })?;
        let nonce = random::<16>();
        let client = self.client(id);
        let der = match reject {
            None => client.cert_conf(&nonce, &unhex(&t.ra_nonce), certificate, t.cert_req_id),
            Some(reason) => client.cert_reject(&nonce, &unhex(&t.ra_nonce), certificate, t.cert_req_id, reason),
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
