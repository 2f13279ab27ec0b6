//! The CMP endpoint (RFC 9483 5.1, HTTP POST application/pkixcmp).
//!
//! - MAC-protected with the request's reference and activation code: p10cr (answered with
//!   cp) and ir (ip), then certConf (pkiconf).
//! - Signature-protected with a certificate this CA issued: kur (kup) within the renewal
//!   window, the new validity continuing from the old certificate's end; rr (rp) to
//!   suspend or revoke it; then certConf. Those answers are signed by the CA.
//!
//! Everything else is refused with a PKIFailureInfo. State lives in the [`Store`].

use tessera_pki::{CertificateSummary, RenewalStatus};
use tessera_protocol::cmp::{self, Answer, Body, FailInfo, Request, Responder};

use crate::ca::{Ca, serial_of, spki_of};
use crate::registry::{Entry, Issuance, Lifecycle};
use crate::store::Store;

pub struct Ra {
    pub ca: Ca,
    pub store: Store,
    pub validity_days: i64,
    /// Where SMS and e-mail to holders go.
    pub gateway: crate::gateway::Gateway,
    /// Operators allowed on the operator API.
    pub operators: Vec<crate::operator::Operator>,
    /// The centre's renewal policy.
    pub renewal_policy: crate::registry::RenewalPolicy,
    /// SMS codes' lifetime and resend delay.
    pub otp: crate::activation::OtpTimes,
    /// Holder API calls per client address in the current minute.
    pub rate: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (i64, u32)>>,
    sender: Vec<u8>,
}

/// The statusString of a certificate issued suspended; clients recognise its first word.
pub const ISSUED_SUSPENDED: &str =
    "issued-suspended: the registration office activates the certificate once it has validated the paperwork";

/// Why a request is refused: the failure bit and a text for the client.
type Refusal = (FailInfo, &'static str);

fn internal(e: sqlx::Error) -> Refusal {
    tracing::error!(error = %e, "database");
    (FailInfo::SystemFailure, "the registration authority could not record this")
}

/// What to answer, before the answer is built (building borrows the request).
enum Outcome {
    Certificate { body_tag: u8, cert_req_id: i64, certificate: Vec<u8>, note: Option<&'static str> },
    Confirm,
    Revoked,
    CaCertificates,
}

impl Ra {
    pub fn new(ca: Ca, store: Store, validity_days: i64) -> Ra {
        let sender = ca.general_name();
        Ra {
            ca,
            store,
            validity_days,
            gateway: Default::default(),
            operators: Vec::new(),
            renewal_policy: Default::default(),
            otp: Default::default(),
            rate: Default::default(),
            sender,
        }
    }

    /// Count a holder API call from `ip`; the seconds to wait when over the limit.
    pub fn over_rate(&self, ip: std::net::IpAddr) -> Option<i64> {
        let minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
        let mut rate = self.rate.lock().unwrap_or_else(|p| p.into_inner());
        rate.retain(|_, (m, _)| *m == minute);
        let entry = rate.entry(ip).or_insert((minute, 0));
        entry.1 += 1;
        (entry.1 > crate::activation::CALLS_PER_MINUTE)
            .then(|| 60 - time::OffsetDateTime::now_utc().unix_timestamp() % 60)
    }

    /// Answer one CMP message; None when it cannot even be parsed (HTTP 400).
    pub async fn handle(&self, der: &[u8]) -> Option<Vec<u8>> {
        let request = match cmp::parse(der) {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = %e, "unparsable CMP message");
                return None;
            }
        };
        let (secret, outcome) = if request.signature_alg.is_some() {
            (None, self.signed(&request).await)
        } else {
            match self.with_mac(&request).await {
                Ok((secret, outcome)) => (Some(secret), outcome),
                Err(refusal) => (None, Err(refusal)),
            }
        };
        let mut nonce = [0u8; 16];
        getrandom::getrandom(&mut nonce).ok()?;
        let sign = |data: &[u8]| self.ca.sign(data);
        let algorithm = self.ca.signature_algorithm();
        let chain = self.ca.chain();
        let anchors = [self.ca.root.clone()];
        let responder = Responder {
            sender: &self.sender,
            nonce: &nonce,
            signer: Some(&sign),
            signer_alg: &algorithm,
            signer_chain: &chain,
        };
        let secret = secret.as_ref().map(|s| s.as_slice());
        Some(match outcome {
            Ok(Outcome::Certificate { body_tag, cert_req_id, certificate, note }) => cmp::answer(
                &request,
                &responder,
                secret,
                Answer::Certificate {
                    body_tag,
                    cert_req_id,
                    certificate: &certificate,
                    ca_pubs: &anchors,
                    chain: &chain,
                    note,
                },
            ),
            Ok(Outcome::Confirm) => cmp::answer(&request, &responder, secret, Answer::Confirm),
            Ok(Outcome::Revoked) => cmp::answer(&request, &responder, secret, Answer::Revoked),
            Ok(Outcome::CaCertificates) => {
                cmp::answer(&request, &responder, secret, Answer::CaCertificates { certificates: &chain })
            }
            Err((fail, text)) => cmp::answer(&request, &responder, secret, Answer::Error { fail, text }),
        })
    }

    /// MAC-protected requests. The secret is returned once the MAC verified, so refusals
    /// after that point are protected too.
    async fn with_mac(
        &self,
        request: &Request,
    ) -> Result<(zeroize::Zeroizing<Vec<u8>>, Result<Outcome, Refusal>), Refusal> {
        let entry = match request.sender_kid.as_deref() {
            Some(kid) => self.store.request(kid).await.map_err(internal)?,
            None => None,
        };
        let Some(entry) = entry else {
            tracing::info!("CMP request with an unknown reference");
            return Err((FailInfo::NotAuthorized, "unknown reference"));
        };
        // The code is kept (sealed) only while the request is armed: otherwise there is
        // nothing to check the MAC with, and the refusal goes unprotected.
        if entry.locked() {
            return Err((FailInfo::NotAuthorized, "the request is locked after too many wrong codes"));
        }
        let secret = match (&entry.secret, &entry.issuance) {
            (Some(secret), _) if entry.request.armed => secret.clone(),
            (_, Issuance::Confirmed) => return Err((FailInfo::NotAuthorized, "this request was already issued")),
            _ => return Err((FailInfo::NotAuthorized, "the request is not armed: confirm the SMS code first")),
        };
        if let Err(e) = request.verify(&secret) {
            // Neither the activation code nor the message is logged. A wrong code counts
            // towards the lock like a wrong OTP.
            tracing::info!(reference = %entry.request.reference, error = %e, "CMP protection refused");
            let failures = self.store.failed(&entry.request.reference, "cmp-wrong-code").await.map_err(internal)?;
            return Err(if failures >= crate::registry::MAX_FAILURES {
                (FailInfo::NotAuthorized, "the request is locked after too many wrong codes")
            } else {
                (FailInfo::BadMessageCheck, "message protection does not verify")
            });
        }
        let outcome =
            match &request.body {
                Body::P10cr { csr } => match tessera_pki::csr::verify(csr) {
                    Ok(spki) => self.enroll(request, &entry, &spki).await.map(|(certificate, note)| {
                        Outcome::Certificate { body_tag: 3, cert_req_id: -1, certificate, note }
                    }),
                    Err(_) => Err((FailInfo::BadPop, "the CSR's signature does not verify")),
                },
                Body::Ir { request: cr } => match cr.verify_pop() {
                    Ok(()) => self.enroll(request, &entry, &cr.public_key).await.map(|(certificate, note)| {
                        Outcome::Certificate { body_tag: 1, cert_req_id: cr.cert_req_id, certificate, note }
                    }),
                    Err(_) => Err((FailInfo::BadPop, "proof of possession does not verify")),
                },
                Body::CertConf { .. } => self.confirm(request, &entry).await.map(|()| Outcome::Confirm),
                Body::Genm { info_types } => Self::ca_certificates(info_types),
                _ => Err((
                    FailInfo::BadRequest,
                    "with a reference and activation code this RA serves ir, p10cr, genm and certConf",
                )),
            };
        Ok((secret, outcome))
    }

    /// Issue the request's certificate for a verified key; with a note for the holder
    /// when it is issued suspended, waiting for the paperwork to be validated.
    async fn enroll(
        &self,
        request: &Request,
        entry: &Entry,
        spki: &[u8],
    ) -> Result<(Vec<u8>, Option<&'static str>), Refusal> {
        if entry.issuance == Issuance::Confirmed {
            return Err((FailInfo::NotAuthorized, "this request was already issued"));
        }
        let profile = entry
            .next_certificate(request.cert_profile.as_deref())
            .map_err(|text| (FailInfo::BadCertTemplate, text))?;
        let certificate = self.ca.issue(spki, &entry.request.holder, profile, self.validity_days).map_err(|e| {
            tracing::error!(error = %e, "issuance failed");
            (FailInfo::SystemFailure, "issuance failed")
        })?;
        self.record(request, entry, &certificate, "certificate-issued", profile).await?;
        if !entry.request.issued_suspended {
            return Ok((certificate, None));
        }
        let since = time::OffsetDateTime::now_utc();
        self.store
            .set_lifecycle_by(&serial_of(&certificate), Lifecycle::Suspended { since }, "ra")
            .await
            .map_err(internal)?;
        Ok((certificate, Some(ISSUED_SUSPENDED)))
    }

    async fn record(
        &self,
        request: &Request,
        entry: &Entry,
        certificate: &[u8],
        action: &str,
        profile: crate::registry::Profile,
    ) -> Result<(), Refusal> {
        let recorded = self
            .store
            .issued(
                &entry.request.reference,
                request.transaction_id.as_deref().unwrap_or_default(),
                &crate::store::IssuedCertificate {
                    cert_hash: &cmp::cert_hash(certificate),
                    serial: &serial_of(certificate),
                    der: certificate,
                    action,
                    profile,
                },
            )
            .await
            .map_err(internal)?;
        if !recorded {
            return Err((FailInfo::NotAuthorized, "this request was already issued"));
        }
        tracing::info!(reference = %entry.request.reference, action, "waiting for certConf");
        Ok(())
    }

    /// genm: this RA answers id-it-caCerts (RFC 9483 4.3.1).
    fn ca_certificates(info_types: &[Vec<u8>]) -> Result<Outcome, Refusal> {
        if info_types.iter().any(|t| t == cmp::OID_IT_CA_CERTS) {
            Ok(Outcome::CaCertificates)
        } else {
            Err((FailInfo::BadRequest, "this RA answers genm for caCerts"))
        }
    }

    /// certConf for the certificate issued in this transaction.
    async fn confirm(&self, request: &Request, entry: &Entry) -> Result<(), Refusal> {
        let Body::CertConf { cert_hash, rejected, .. } = &request.body else {
            return Err((FailInfo::BadRequest, "not a certConf"));
        };
        match &entry.issuance {
            Issuance::Issued { transaction_id, cert_hash: issued }
                if request.transaction_id.as_deref() == Some(transaction_id.as_slice()) =>
            {
                if *rejected {
                    tracing::info!(reference = %entry.request.reference, "client rejected the certificate");
                    let serial = self.store.newest_serial(&entry.request.reference).await.map_err(internal)?;
                    self.store
                        .confirm(&entry.request.reference, Some(&serial.unwrap_or_default()))
                        .await
                        .map_err(internal)
                } else if cert_hash.as_deref() == Some(issued.as_slice()) {
                    tracing::info!(reference = %entry.request.reference, "certificate confirmed");
                    self.store.confirm(&entry.request.reference, None).await.map_err(internal)?;
                    self.completed(&entry.request.reference).await;
                    Ok(())
                } else {
                    Err((FailInfo::BadRequest, "certHash does not match the issued certificate"))
                }
            }
            _ => Err((FailInfo::BadRequest, "no certificate waiting for confirmation in this transaction")),
        }
    }

    /// Once every certificate of a request is confirmed: the second halves of the card's
    /// PIN and PUK and the user code to the holder's e-mail (DOMAIN.md, Activation).
    async fn completed(&self, reference: &str) {
        let Ok(Some(entry)) = self.store.request(reference.as_bytes()).await else { return };
        if entry.issuance != Issuance::Confirmed {
            return;
        }
        let to = match self.store.holder_of(reference).await {
            Ok(Some(h)) => h.email,
            _ => None,
        };
        let (Some(to), Ok(Some(p))) = (to, self.store.personalisation(reference).await) else { return };
        let holder = format!("{} {}", entry.request.holder.given_name, entry.request.holder.surname);
        if !self.gateway.deliver(crate::personalisation::completion_email(&to, &holder, reference, &p)).await {
            tracing::warn!(reference, "the completion e-mail could not be sent: an operator can send it again");
        }
    }

    async fn signed(&self, request: &Request) -> Result<Outcome, Refusal> {
        let Some(old) = request.extra_certs.first() else {
            return Err((FailInfo::BadRequest, "signature protection without the signer's certificate"));
        };
        if !self.ca.issued(old) {
            return Err((FailInfo::NotAuthorized, "the signer's certificate was not issued by this CA"));
        }
        if request.verify_signature(&spki_of(old)).is_err() {
            return Err((FailInfo::BadMessageCheck, "message signature does not verify"));
        }
        let serial = serial_of(old);
        let now = time::OffsetDateTime::now_utc();
        let state = self.store.lifecycle(&serial).await.map_err(internal)?.now(now);
        if let Body::Rr { serial: target, issuer, reason } = &request.body {
            // The holder revokes (or suspends) the certificate whose key signed the request.
            if target != &serial || issuer != &self.ca.name() {
                return Err((FailInfo::NotAuthorized, "a holder revokes the certificate it signs with"));
            }
            let next = match (state, reason) {
                (Lifecycle::Revoked { .. }, _) => {
                    return Err((FailInfo::BadRequest, "the certificate is already revoked"));
                }
                (Lifecycle::Suspended { .. }, Some(6)) => {
                    return Err((FailInfo::BadRequest, "the certificate is already suspended"));
                }
                (Lifecycle::Active, Some(6)) => Lifecycle::Suspended { since: now },
                (_, reason) => Lifecycle::Revoked { at: now, reason: reason.unwrap_or(0) },
            };
            self.store.set_lifecycle(&serial, next).await.map_err(internal)?;
            return Ok(Outcome::Revoked);
        }
        let Some((entry, newest)) = self.store.by_certificate(old, &serial).await.map_err(internal)? else {
            return Err((FailInfo::NotAuthorized, "unknown certificate"));
        };
        match &request.body {
            Body::Kur { request: cr } => {
                if state != Lifecycle::Active {
                    return Err((FailInfo::NotAuthorized, "a suspended or revoked certificate cannot be renewed"));
                }
                if !newest {
                    return Err((FailInfo::NotAuthorized, "only the newest certificate of a request can be renewed"));
                }
                let certificate = self.renew(request, &entry, old, cr).await?;
                Ok(Outcome::Certificate { body_tag: 8, cert_req_id: cr.cert_req_id, certificate, note: None })
            }
            Body::CertConf { .. } => self.confirm(request, &entry).await.map(|()| Outcome::Confirm),
            Body::Genm { info_types } => Self::ca_certificates(info_types),
            _ => Err((FailInfo::BadRequest, "with a certificate this RA serves kur, rr, genm and certConf")),
        }
    }

    /// Key update: a new certificate for the same holder and profile, whose validity
    /// starts where the old one ends (renewing early loses no days).
    async fn renew(
        &self,
        request: &Request,
        entry: &Entry,
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
        let start = time::OffsetDateTime::parse(&summary.not_after, &time::format_description::well_known::Rfc3339)
            .map_err(|_| (FailInfo::BadDataFormat, "unreadable validity"))?;
        // The same certificate profile as the old one (a two-certificate request renews each).
        let profile = match (entry.request.profile, summary.role) {
            (crate::registry::Profile::CnsSignature, tessera_pki::certificate::Role::Authentication) => {
                crate::registry::Profile::CnsAuthentication
            }
            (crate::registry::Profile::CnsSignature, _) => crate::registry::Profile::Signature,
            (p, _) => p,
        };
        let certificate = self
            .ca
            .issue_between(
                &cr.public_key,
                &entry.request.holder,
                profile,
                start,
                start + time::Duration::days(self.validity_days),
            )
            .map_err(|e| {
                tracing::error!(error = %e, "renewal issuance failed");
                (FailInfo::SystemFailure, "issuance failed")
            })?;
        self.record(request, entry, &certificate, "renewed", profile).await?;
        if self.renewal_policy == crate::registry::RenewalPolicy::Approval {
            // Works at once; an operator must approve it by the old certificate's expiry.
            self.store.await_approval(&serial_of(&certificate), start).await.map_err(internal)?;
        }
        Ok(certificate)
    }

    /// The current CRL (DER).
    pub async fn crl(&self) -> Option<Vec<u8>> {
        let entries = self.store.not_active().await.map_err(internal).ok()?;
        let number = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
        self.ca.crl(&entries, number).map_err(|e| tracing::error!(error = %e, "CRL")).ok()
    }
}
