//! The CMP endpoint (RFC 9483 5.1, HTTP POST application/pkixcmp).
//!
//! - MAC-protected with the request's reference and activation code: p10cr (answered with
//!   cp) and ir (ip), then certConf (pkiconf).
//! - Signature-protected with a certificate this CA issued: kur (kup) within the renewal
//!   window, the new validity continuing from the old certificate's end; then certConf.
//!   Those answers are signed by the CA.
//!
//! Everything else is refused with a PKIFailureInfo.

use std::sync::Mutex;

use tessera_pki::{CertificateSummary, RenewalStatus};
use tessera_protocol::cmp::{self, Answer, Body, FailInfo, Request, Responder};

use crate::ca::{Ca, serial_of, spki_of};
use crate::registry::{Entry, Issuance, Lifecycle, Registry};

pub struct Ra {
    pub ca: Ca,
    pub registry: Mutex<Registry>,
    pub validity_days: i64,
    sender: Vec<u8>,
}

/// Why a request is refused: the failure bit and a text for the client.
type Refusal = (FailInfo, &'static str);

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
        let sign = |data: &[u8]| self.ca.sign(data);
        let algorithm = self.ca.signature_algorithm();
        let chain = [self.ca.certificate.clone()];
        let responder = Responder {
            sender: &self.sender,
            nonce: &nonce,
            signer: Some(&sign),
            signer_alg: &algorithm,
            signer_chain: &chain,
        };
        let mut registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        Some(if request.signature_alg.is_some() {
            self.signed(&request, &responder, &mut registry)
        } else {
            self.with_mac(&request, &responder, &mut registry)
        })
    }

    fn with_mac(&self, request: &Request, responder: &Responder<'_>, registry: &mut Registry) -> Vec<u8> {
        let refuse = |secret: Option<&[u8]>, (fail, text): Refusal| {
            cmp::answer(request, responder, secret, Answer::Error { fail, text })
        };
        let Some(entry) = request.sender_kid.as_deref().and_then(|kid| registry.get_mut(kid)) else {
            tracing::info!("CMP request with an unknown reference");
            return refuse(None, (FailInfo::NotAuthorized, "unknown reference"));
        };
        if let Err(e) = request.verify(&entry.secret) {
            // Neither the reference's secret nor the message is logged.
            tracing::info!(reference = %entry.request.reference, error = %e, "CMP protection refused");
            return refuse(None, (FailInfo::BadMessageCheck, "message protection does not verify"));
        }
        let secret = entry.secret.clone();
        let secret = Some(secret.as_slice());
        let result = match &request.body {
            Body::P10cr { csr } => tessera_pki::csr::verify(csr)
                .map_err(|_| (FailInfo::BadPop, "the CSR's signature does not verify"))
                .and_then(|spki| self.enroll(request, entry, &spki))
                .map(|certificate| (3, -1, certificate)),
            Body::Ir { request: cr } => cr
                .verify_pop()
                .map_err(|_| (FailInfo::BadPop, "proof of possession does not verify"))
                .and_then(|()| self.enroll(request, entry, &cr.public_key))
                .map(|certificate| (1, cr.cert_req_id, certificate)),
            Body::CertConf { .. } => {
                return match confirm(request, entry) {
                    Ok(()) => cmp::answer(request, responder, secret, Answer::Confirm),
                    Err(r) => refuse(secret, r),
                };
            }
            _ => Err((
                FailInfo::BadRequest,
                "with a reference and activation code this RA serves ir, p10cr and certConf",
            )),
        };
        match result {
            Ok((body_tag, cert_req_id, certificate)) => {
                let ca = [self.ca.certificate.clone()];
                cmp::answer(
                    request,
                    responder,
                    secret,
                    Answer::Certificate { body_tag, cert_req_id, certificate: &certificate, ca_certs: &ca },
                )
            }
            Err(r) => refuse(secret, r),
        }
    }

    /// Issue the request's certificate for a verified key.
    fn enroll(&self, request: &Request, entry: &mut Entry, spki: &[u8]) -> Result<Vec<u8>, Refusal> {
        if entry.issuance == Issuance::Confirmed {
            return Err((FailInfo::NotAuthorized, "this request was already issued"));
        }
        let certificate =
            self.ca.issue(spki, &entry.request.holder, entry.request.profile, self.validity_days).map_err(|e| {
                tracing::error!(error = %e, "issuance failed");
                (FailInfo::SystemFailure, "issuance failed")
            })?;
        self.issued(request, entry, &certificate);
        Ok(certificate)
    }

    fn issued(&self, request: &Request, entry: &mut Entry, certificate: &[u8]) {
        entry.issuance = Issuance::Issued {
            transaction_id: request.transaction_id.clone().unwrap_or_default(),
            cert_hash: cmp::cert_hash(certificate),
        };
        entry.certificates.push(certificate.to_vec());
        tracing::info!(reference = %entry.request.reference, "certificate issued, waiting for certConf");
    }

    fn signed(&self, request: &Request, responder: &Responder<'_>, registry: &mut Registry) -> Vec<u8> {
        let refuse = |(fail, text): Refusal| cmp::answer(request, responder, None, Answer::Error { fail, text });
        let Some(old) = request.extra_certs.first() else {
            return refuse((FailInfo::BadRequest, "signature protection without the signer's certificate"));
        };
        if !self.ca.issued(old) {
            return refuse((FailInfo::NotAuthorized, "the signer's certificate was not issued by this CA"));
        }
        if request.verify_signature(&spki_of(old)).is_err() {
            return refuse((FailInfo::BadMessageCheck, "message signature does not verify"));
        }
        if let Body::Rr { serial, issuer, reason } = &request.body {
            // The holder revokes (or suspends) the certificate whose key signed the request.
            return match self.revoke(registry, old, serial, issuer, *reason) {
                Ok(()) => cmp::answer(request, responder, None, Answer::Revoked),
                Err(r) => refuse(r),
            };
        }
        let state = registry.lifecycle.get(&serial_of(old)).copied().unwrap_or(Lifecycle::Active);
        if matches!(request.body, Body::Kur { .. }) && state.now(time::OffsetDateTime::now_utc()) != Lifecycle::Active {
            return refuse((FailInfo::NotAuthorized, "a suspended or revoked certificate cannot be renewed"));
        }
        let Some(entry) = registry.by_certificate(old) else {
            return refuse((FailInfo::NotAuthorized, "unknown certificate"));
        };
        match &request.body {
            Body::Kur { request: cr } => match self.renew(request, entry, old, cr) {
                Ok(certificate) => {
                    let ca = [self.ca.certificate.clone()];
                    cmp::answer(
                        request,
                        responder,
                        None,
                        Answer::Certificate {
                            body_tag: 8,
                            cert_req_id: cr.cert_req_id,
                            certificate: &certificate,
                            ca_certs: &ca,
                        },
                    )
                }
                Err(r) => refuse(r),
            },
            Body::CertConf { .. } => match confirm(request, entry) {
                Ok(()) => cmp::answer(request, responder, None, Answer::Confirm),
                Err(r) => refuse(r),
            },
            _ => refuse((FailInfo::BadRequest, "with a certificate this RA serves kur and certConf")),
        }
    }

    /// rr signed by the certificate itself: certificateHold (6) suspends, any other reason
    /// revokes; revoked is final (DOMAIN.md, certificate lifecycle).
    fn revoke(
        &self,
        registry: &mut Registry,
        signer: &[u8],
        serial: &[u8],
        issuer: &[u8],
        reason: Option<u8>,
    ) -> Result<(), Refusal> {
        if serial_of(signer) != serial || issuer != self.ca.name().as_slice() {
            return Err((FailInfo::NotAuthorized, "a holder revokes the certificate it signs with"));
        }
        let now = time::OffsetDateTime::now_utc();
        let state = registry.lifecycle.get(serial).copied().unwrap_or(Lifecycle::Active).now(now);
        let next = match (state, reason) {
            (Lifecycle::Revoked { .. }, _) => return Err((FailInfo::BadRequest, "the certificate is already revoked")),
            (Lifecycle::Suspended { .. }, Some(6)) => {
                return Err((FailInfo::BadRequest, "the certificate is already suspended"));
            }
            (Lifecycle::Active, Some(6)) => Lifecycle::Suspended { since: now },
            (_, reason) => Lifecycle::Revoked { at: now, reason: reason.unwrap_or(0) },
        };
        tracing::info!(serial = ?serial, state = ?next, "certificate lifecycle change");
        registry.lifecycle.insert(serial.to_vec(), next);
        Ok(())
    }

    /// The current CRL (DER).
    pub fn crl(&self) -> Option<Vec<u8>> {
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let entries: Vec<(Vec<u8>, Lifecycle)> = registry.lifecycle.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let number = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
        self.ca.crl(&entries, number).map_err(|e| tracing::error!(error = %e, "CRL")).ok()
    }

    /// Key update: a new certificate for the same holder and profile, whose validity
    /// starts where the old one ends (renewing early loses no days).
    fn renew(
        &self,
        request: &Request,
        entry: &mut Entry,
        old: &[u8],
        cr: &tessera_protocol::crmf::CertRequest,
    ) -> Result<Vec<u8>, Refusal> {
        cr.verify_pop().map_err(|_| (FailInfo::BadPop, "proof of possession does not verify"))?;
        let now = time::OffsetDateTime::now_utc();
        let summary =
            CertificateSummary::parse(old, now).map_err(|_| (FailInfo::BadDataFormat, "unreadable certificate"))?;
        match summary.status {
            RenewalStatus::Renewable => {}
            RenewalStatus::Valid => return Err((FailInfo::NotAuthorized, "renewal opens 60 days before expiry")),
            RenewalStatus::Expired => return Err((FailInfo::NotAuthorized, "expired: it can no longer be renewed")),
            RenewalStatus::NotYetValid => return Err((FailInfo::NotAuthorized, "the certificate is not valid yet")),
        }
        if entry.certificates.last().map(Vec::as_slice) != Some(old) {
            return Err((FailInfo::NotAuthorized, "only the newest certificate of a request can be renewed"));
        }
        let start = time::OffsetDateTime::parse(&summary.not_after, &time::format_description::well_known::Rfc3339)
            .map_err(|_| (FailInfo::BadDataFormat, "unreadable validity"))?;
        let certificate = self
            .ca
            .issue_between(
                &cr.public_key,
                &entry.request.holder,
                entry.request.profile,
                start,
                start + time::Duration::days(self.validity_days),
            )
            .map_err(|e| {
                tracing::error!(error = %e, "renewal issuance failed");
                (FailInfo::SystemFailure, "issuance failed")
            })?;
        self.issued(request, entry, &certificate);
        Ok(certificate)
    }
}

/// certConf for the certificate issued in this transaction.
fn confirm(request: &Request, entry: &mut Entry) -> Result<(), Refusal> {
    let Body::CertConf { cert_hash, rejected, .. } = &request.body else {
        return Err((FailInfo::BadRequest, "not a certConf"));
    };
    match &entry.issuance {
        Issuance::Issued { transaction_id, cert_hash: issued }
            if request.transaction_id.as_deref() == Some(transaction_id.as_slice()) =>
        {
            if *rejected {
                tracing::info!(reference = %entry.request.reference, "client rejected the certificate");
                entry.issuance = Issuance::Waiting;
                entry.certificates.pop();
            } else if cert_hash.as_deref() == Some(issued.as_slice()) {
                tracing::info!(reference = %entry.request.reference, "certificate confirmed");
                entry.issuance = Issuance::Confirmed;
            } else {
                return Err((FailInfo::BadRequest, "certHash does not match the issued certificate"));
            }
            Ok(())
        }
        _ => Err((FailInfo::BadRequest, "no certificate waiting for confirmation in this transaction")),
    }
}
