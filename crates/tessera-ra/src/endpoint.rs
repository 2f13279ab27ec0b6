//! The CMP endpoint (RFC 9483 5.1, HTTP POST application/pkixcmp): p10cr protected with the
//! request's reference and activation code, answered with cp; certConf answered with
//! pkiconf. Everything else is refused with a proper PKIFailureInfo.

use std::sync::Mutex;

use tessera_protocol::cmp::{self, Answer, Body, FailInfo, Responder};

use crate::ca::Ca;
use crate::registry::{Issuance, Registry};

pub struct Ra {
    pub ca: Ca,
    pub registry: Mutex<Registry>,
    pub validity_days: i64,
    sender: Vec<u8>,
}

impl Ra {
    pub fn new(ca: Ca, registry: Registry, validity_days: i64) -> Ra {
        let sender = ca.general_name();
        Ra { ca, registry: Mutex::new(registry), validity_days, sender }
    }

    /// Answer one CMP message; None when it cannot even be parsed (HTTP 400).
    pub fn handle(&self, der: &[u8]) -> Option<Vec<u8>> {
        let request = match cmp::parse(der) {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = %e, "unparsable CMP message");
                return None;
            }
        };
        let mut nonce = [0u8; 16];
        getrandom::getrandom(&mut nonce).ok()?;
        let responder = Responder { sender: &self.sender, nonce: &nonce };
        let error =
            |secret: Option<&[u8]>, fail, text| cmp::answer(&request, &responder, secret, Answer::Error { fail, text });

        let mut registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = request.sender_kid.as_deref().and_then(|kid| registry.get_mut(kid)) else {
            tracing::info!("CMP request with an unknown reference");
            return Some(error(None, FailInfo::NotAuthorized, "unknown reference"));
        };
        if let Err(e) = request.verify(&entry.secret) {
            // Reference and activation code are never logged.
            tracing::info!(reference = %entry.request.reference, error = %e, "CMP protection refused");
            return Some(error(None, FailInfo::BadMessageCheck, "message protection does not verify"));
        }
        let secret = entry.secret.clone();
        let secret = Some(secret.as_slice());
        Some(match &request.body {
            Body::P10cr { csr } => {
                if entry.issuance == Issuance::Confirmed {
                    return Some(error(secret, FailInfo::NotAuthorized, "this request was already issued"));
                }
                let spki = match tessera_pki::csr::verify(csr) {
                    Ok(spki) => spki,
                    Err(_) => return Some(error(secret, FailInfo::BadPop, "the CSR's signature does not verify")),
                };
                let certificate =
                    match self.ca.issue(&spki, &entry.request.holder, entry.request.profile, self.validity_days) {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::error!(error = %e, "issuance failed");
                            return Some(error(secret, FailInfo::SystemFailure, "issuance failed"));
                        }
                    };
                entry.issuance = Issuance::Issued {
                    transaction_id: request.transaction_id.clone().unwrap_or_default(),
                    cert_hash: cmp::cert_hash(&certificate),
                };
                tracing::info!(reference = %entry.request.reference, "certificate issued, waiting for certConf");
                let ca = [self.ca.certificate.clone()];
                cmp::answer(
                    &request,
                    &responder,
                    secret,
                    Answer::Certificate { body_tag: 3, cert_req_id: -1, certificate: &certificate, ca_certs: &ca },
                )
            }
            Body::CertConf { cert_hash, rejected, .. } => match &entry.issuance {
                Issuance::Issued { transaction_id, cert_hash: issued }
                    if request.transaction_id.as_deref() == Some(transaction_id.as_slice()) =>
                {
                    if *rejected {
                        tracing::info!(reference = %entry.request.reference, "client rejected the certificate");
                        entry.issuance = Issuance::Waiting;
                    } else if cert_hash.as_deref() == Some(issued.as_slice()) {
                        tracing::info!(reference = %entry.request.reference, "certificate confirmed");
                        entry.issuance = Issuance::Confirmed;
                    } else {
                        return Some(error(
                            secret,
                            FailInfo::BadRequest,
                            "certHash does not match the issued certificate",
                        ));
                    }
                    cmp::answer(&request, &responder, secret, Answer::Confirm)
                }
                _ => error(secret, FailInfo::BadRequest, "no certificate waiting for confirmation in this transaction"),
            },
            Body::Other { tag } => {
                tracing::info!(tag, "CMP body type not served yet");
                error(secret, FailInfo::BadRequest, "this RA serves p10cr and certConf")
            }
        })
    }
}
