//! The CMP endpoint (RFC 9483 5.1, HTTP POST application/pkixcmp).
//!
//! - MAC-protected with the request's reference and activation code: p10cr (answered with
//!   cp) and ir (ip), then certConf (pkiconf).
//! - Signature-protected with a certificate this CA issued: kur (kup) within the renewal
//!   window, the new validity continuing from the old certificate's end; rr (rp) to
//!   suspend or revoke it; then certConf. Those answers are signed by the CA.
//!
//! Everything else is refused with a PKIFailureInfo. State lives in the [`crate::store::Store`].

use tessera_pki::{CertificateSummary, RenewalStatus};
use tessera_protocol::cmp::{self, Answer, Body, FailInfo, Request, Responder};

use crate::ca::{serial_of, spki_of};
use crate::registry::{Entry, Issuance, Lifecycle};
pub use crate::state::Ra;

/// The statusString of a certificate issued suspended; clients recognise its first word.
pub const ISSUED_SUSPENDED: &str =
    "issued-suspended: the registration office activates the certificate once it has validated the paperwork";

/// A message no PKIMessage can answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Unanswerable {
    /// Not a PKIMessage at all (HTTP 400).
    Unparsable,
    /// The CA key could not sign the answer (HTTP 500): nothing is sent unsigned.
    NotSigned,
}

/// Why a request is refused: the failure bit and a text for the client.
type Refusal = (FailInfo, &'static str);

fn internal(e: crate::store::Error) -> Refusal {
    tracing::error!(error = %e, "database");
    (FailInfo::SystemFailure, "the registration authority could not record this")
}

/// What to answer, before the answer is built (building borrows the request).
enum Outcome {
    Certificate {
        body_tag: u8,
        cert_req_id: i64,
        certificate: Vec<u8>,
        note: Option<&'static str>,
        claim: Claim,
    },
    Confirm,
    Revoked,
    CaCertificates,
    /// A retransmission: the answer its transaction got, byte for byte.
    Repeat(Vec<u8>),
}

/// What an answer carrying a certificate records, once it is built: the certificate and
/// the transaction, or (`fresh` None) this transaction taking over the certificate an
/// interrupted one issued for the same key.
struct Claim {
    reference: String,
    fresh: Option<FreshCertificate>,
}

struct FreshCertificate {
    profile: crate::registry::Profile,
    replaces: Option<Vec<u8>>,
    suspended: bool,
    /// Suspended by the RA for the paperwork (verification, originals): only that step
    /// releases it; otherwise an operator's to reactivate.
    held_for: Option<&'static str>,
    approval_due: Option<time::OffsetDateTime>,
}

/// The transactionID and senderNonce of a request that opens a transaction: present and
/// at least 128 bits (RFC 9483 3.1).
fn opening(request: &Request) -> Result<&[u8], Refusal> {
    let id = request.transaction_id.as_deref().filter(|t| t.len() >= 16);
    let Some(id) = id else { return Err((FailInfo::BadRequest, "transactionID missing or shorter than 128 bits")) };
    if request.sender_nonce.as_ref().is_none_or(|n| n.len() < 16) {
        return Err((FailInfo::BadSenderNonce, "senderNonce missing or shorter than 128 bits"));
    }
    Ok(id)
}

/// The proof of possession this RA takes: a signature by the new key (RFC 9483 4.1.1).
/// raVerified is for an RA vouching for its end entity, never claimed by one.
fn proof_of_possession(cr: &tessera_protocol::crmf::CertRequest) -> Result<(), Refusal> {
    use tessera_protocol::crmf::Pop;
    match cr.pop() {
        Pop::Signature { .. } => cr.verify_pop().map_err(|_| (FailInfo::BadPop, "proof of possession does not verify")),
        Pop::RaVerified => Err((FailInfo::NotAuthorized, "raVerified proof of possession from an end entity")),
        Pop::KeyEncipherment | Pop::KeyAgreement => {
            Err((FailInfo::BadPop, "this RA takes proof of possession by a signature of the new key"))
        }
        Pop::Missing => Err((FailInfo::BadPop, "no proof of possession")),
    }
}

impl Ra {
    /// Answer one CMP message; an error when it cannot even be parsed (HTTP 400) or the
    /// answer cannot be signed (HTTP 500).
    /// With the answer: whether it refuses the request (a failure of its sender).
    pub async fn handle(&self, der: &[u8]) -> Result<(Vec<u8>, bool), Unanswerable> {
        let request = match cmp::parse(der) {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = %e, "unparsable CMP message");
                return Err(Unanswerable::Unparsable);
            }
        };
        let hash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(der).into();
        // A byte-identical retransmission of a request that was answered gets that answer
        // again, whatever happened since (certConf, the code forgotten): the hash proves it
        // is the very message whose protection was checked then.
        if let Some(id) = request.transaction_id.as_deref()
            && let Ok(Some(a)) = self.store.answered(id).await
            && a.request_hash == hash
        {
            tracing::info!(reference = %a.reference, "retransmission: the same answer again");
            return Ok((a.answer, false));
        }
        let (secret, outcome) = if let Some(refusal) = Self::unanswerable(&request) {
            (None, Err(refusal))
        } else if request.signature_alg.is_some() {
            (None, self.signed(&request, &hash).await)
        } else {
            match self.with_mac(&request, &hash).await {
                Ok((secret, outcome)) => (Some(secret), outcome),
                Err(refusal) => (None, Err(refusal)),
            }
        };
        let mut nonce = [0u8; 16];
        getrandom::getrandom(&mut nonce).map_err(|_| Unanswerable::NotSigned)?;
        let secret = secret.as_ref().map(|s| s.as_slice());
        let build = |what: Answer<'_>| self.build(&request, &nonce, secret, what).ok_or(Unanswerable::NotSigned);
        let refuse = |fail, text| build(Answer::Error { fail, text }).map(|a| (a, true));
        let accept = |answer: Result<Vec<u8>, Unanswerable>| answer.map(|a| (a, false));
        let chain = self.ca.chain();
        match outcome {
            Ok(Outcome::Repeat(answer)) => Ok((answer, false)),
            Ok(Outcome::Certificate { body_tag, cert_req_id, certificate, note, claim }) => {
                // kup carries no caPubs (RFC 9483 4.1.3).
                let anchors = if body_tag == 8 { vec![] } else { vec![self.ca.root.clone()] };
                let answer = build(Answer::Certificate {
                    body_tag,
                    cert_req_id,
                    certificate: &certificate,
                    ca_pubs: &anchors,
                    chain: &chain,
                    note,
                })?;
                match self.record(&request, &hash, &nonce, &certificate, &answer, claim).await {
                    Ok(None) => Ok((answer, false)),
                    Ok(Some(earlier)) => Ok((earlier, false)),
                    Err((fail, text)) => refuse(fail, text),
                }
            }
            Ok(Outcome::Confirm) => accept(build(Answer::Confirm)),
            Ok(Outcome::Revoked) => accept(build(Answer::Revoked)),
            Ok(Outcome::CaCertificates) => accept(build(Answer::CaCertificates { certificates: &chain })),
            Err((fail, text)) => refuse(fail, text),
        }
    }

    /// The answer to `request`, protected like it (MAC with the request's secret) or
    /// signed by the CA.
    fn build(&self, request: &Request, nonce: &[u8], secret: Option<&[u8]>, what: Answer<'_>) -> Option<Vec<u8>> {
        let sign = |data: &[u8]| self.ca.sign(data);
        let algorithm = self.ca.signature_algorithm();
        let chain = self.ca.chain();
        let responder = Responder {
            sender: &self.sender,
            nonce,
            signer: Some(&sign),
            signer_kid: self.key_id.as_deref(),
            signer_alg: &algorithm,
            signer_chain: &chain,
        };
        cmp::answer(request, &responder, secret, what)
            .map_err(|e| tracing::error!(error = %e, "the answer could not be signed"))
            .ok()
    }

    /// What no request of this RA may be, whatever its protection: refused before it is
    /// looked at further, with the failure RFC 9483 3.5 names.
    fn unanswerable(request: &Request) -> Option<Refusal> {
        if !matches!(request.pvno, 2 | 3) {
            return Some((FailInfo::UnsupportedVersion, "pvno must be 2 or 3"));
        }
        if request.unsupported_protection.is_some() {
            return Some((FailInfo::BadAlg, "unsupported protection algorithm (RFC 9481: PBM, PBMAC1, ECDSA, RSA)"));
        }
        if let Body::Invalid { fail, .. } = &request.body {
            return Some((*fail, "the message body is malformed"));
        }
        None
    }

    /// Reserve a MAC check of `reference` (see [`crate::store::Store::take_mac_check`]).
    async fn mac_check(&self, reference: &str) -> Result<(), Refusal> {
        match self.store.take_mac_check(reference, self.wrong_code_wait).await.map_err(internal)? {
            crate::store::MacCheck::Allowed => Ok(()),
            crate::store::MacCheck::Wait(seconds) => {
                tracing::info!(reference = %reference, seconds, "CMP MAC checks wait after wrong codes");
                Err((FailInfo::SystemUnavail, "too many wrong codes for this reference: try again in a few minutes"))
            }
            crate::store::MacCheck::Busy => {
                Err((FailInfo::SystemUnavail, "other messages of this reference are being checked: try again"))
            }
        }
    }

    /// A retransmission of a transaction that issued gets the same answer; the same
    /// transactionID on another request is refused.
    async fn retransmission(&self, request: &Request, hash: &[u8]) -> Result<Option<Outcome>, Refusal> {
        let id = opening(request)?;
        match self.store.answered(id).await.map_err(internal)? {
            Some(a) if a.request_hash == hash => {
                tracing::info!(reference = %a.reference, "retransmission: the same answer again");
                Ok(Some(Outcome::Repeat(a.answer)))
            }
            Some(_) => Err((FailInfo::TransactionIdInUse, "this transactionID is already in use")),
            None => Ok(None),
        }
    }

    /// Record the issuance an answer carries, before it is sent. When another transaction
    /// claimed the request first, nothing is recorded and this answer is not sent: the
    /// earlier answer goes instead if it was this very message, else a refusal.
    async fn record(
        &self,
        request: &Request,
        hash: &[u8],
        nonce: &[u8],
        certificate: &[u8],
        answer: &[u8],
        claim: Claim,
    ) -> Result<Option<Vec<u8>>, Refusal> {
        let transaction_id = request.transaction_id.as_deref().unwrap_or_default();
        let serial = serial_of(certificate);
        let fresh = claim.fresh.as_ref().map(|f| crate::store::Fresh {
            der: certificate,
            profile: f.profile,
            replaces: f.replaces.as_deref(),
            suspended: f.suspended,
            held_for: f.held_for,
            approval_due: f.approval_due,
        });
        let recorded = self
            .store
            .record_issuance(&crate::store::NewIssuance {
                reference: &claim.reference,
                transaction_id,
                request_hash: hash,
                answer,
                answer_nonce: nonce,
                serial: &serial,
                cert_hash: &cmp::cert_hash(certificate),
                fresh,
            })
            .await
            .map_err(internal)?;
        if recorded {
            tracing::info!(reference = %claim.reference, "waiting for certConf");
            return Ok(None);
        }
        match self.store.answered(transaction_id).await.map_err(internal)? {
            Some(a) if a.request_hash == hash => Ok(Some(a.answer)),
            Some(_) => Err((FailInfo::TransactionIdInUse, "this transactionID is already in use")),
            None => {
                Err((FailInfo::DuplicateCertReq, "another transaction issued this request's certificate meanwhile"))
            }
        }
    }

    /// MAC-protected requests. The secret is returned once the MAC verified, so refusals
    /// after that point are protected too.
    async fn with_mac(
        &self,
        request: &Request,
        hash: &[u8],
    ) -> Result<(zeroize::Zeroizing<Vec<u8>>, Result<Outcome, Refusal>), Refusal> {
        let entry = match request.sender_kid.as_deref() {
            Some(kid) => self.store.request(kid).await.map_err(internal)?,
            None => None,
        };
        let Some(entry) = entry else {
            if let Some(kid) = request.sender_kid.as_deref()
                && let Ok(id) = std::str::from_utf8(kid)
                && let Some((renewal, sealed)) = self.store.overwrite_code(id).await.map_err(internal)?
            {
                return self.overwriting(request, hash, &renewal, &sealed).await;
            }
            tracing::info!("CMP request with an unknown reference");
            return Err((FailInfo::NotAuthorized, "unknown reference"));
        };
        // The code is kept (sealed) only while the request is armed: otherwise there is
        // nothing to check the MAC with, and the refusal goes unprotected.
        if entry.locked() {
            return Err((FailInfo::NotAuthorized, "the request is locked after too many wrong codes"));
        }
        // The holder's code once armed, and the secret of an arming at the counter: either
        // completes the request. Issued: a client that lost the pkiconf may still repeat
        // its certConf.
        let confirmed = entry.issuance == Issuance::Confirmed;
        let certconf = matches!(request.body, Body::CertConf { .. });
        let mut secrets = Vec::new();
        if let Some(s) = entry.secret.as_ref().filter(|_| entry.request.armed || (confirmed && certconf)) {
            secrets.push(s.clone());
        }
        if let Some(s) = entry.counter_secret.as_ref().filter(|_| !confirmed || certconf) {
            secrets.push(s.clone());
        }
        if secrets.is_empty() {
            return Err(if confirmed {
                (FailInfo::NotAuthorized, "this request was already issued")
            } else {
                (FailInfo::NotAuthorized, "the request is not armed: confirm the SMS code first")
            });
        }
        // MAC-protected: the sender is a directoryName (RFC 9483 3.1), the NULL-DN at least.
        if request.sender.first() != Some(&0xA4) {
            return Err((FailInfo::BadRequest, "the sender of a MAC-protected message is a directoryName"));
        }
        // Anyone who knows a reference can send wrong MACs: they make the reference wait
        // (longer each five), they do not lock the holder out. Each check is reserved
        // first, so five means five under any concurrency.
        let reference = &entry.request.reference;
        self.mac_check(reference).await?;
        let Some(secret) = secrets.into_iter().find(|s| request.verify(s).is_ok()) else {
            // Neither the activation code nor the message is logged.
            tracing::info!(reference = %reference, "CMP protection refused");
            self.store.mac_wrong(reference, self.wrong_code_wait).await.map_err(internal)?;
            return Err((FailInfo::BadMessageCheck, "message protection does not verify"));
        };
        self.store.mac_right(reference).await.map_err(internal)?;
        if matches!(request.body, Body::P10cr { .. } | Body::Ir { .. }) {
            match self.retransmission(request, hash).await {
                Ok(Some(repeat)) => return Ok((secret, Ok(repeat))),
                Ok(None) => {}
                Err(refusal) => return Ok((secret, Err(refusal))),
            }
        }
        let outcome = match &request.body {
            Body::P10cr { csr } => match tessera_pki::csr::verify(csr) {
                Ok(spki) => self.enroll(request, &entry, &spki).await.map(|(certificate, note, claim)| {
                    Outcome::Certificate { body_tag: 3, cert_req_id: -1, certificate, note, claim }
                }),
                Err(_) => Err((FailInfo::BadPop, "the CSR's signature does not verify")),
            },
            Body::Ir { request: cr } => match proof_of_possession(cr) {
                Ok(()) => self.enroll(request, &entry, &cr.public_key).await.map(|(certificate, note, claim)| {
                    Outcome::Certificate { body_tag: 1, cert_req_id: cr.cert_req_id, certificate, note, claim }
                }),
                Err(refusal) => Err(refusal),
            },
            Body::CertConf { .. } => self.confirm(request, &entry).await.map(|()| Outcome::Confirm),
            Body::Genm { info_types, with_value } => Self::ca_certificates(info_types, *with_value),
            _ => Err((
                FailInfo::BadRequest,
                "with a reference and activation code this RA serves ir, p10cr, genm and certConf",
            )),
        };
        Ok((secret, outcome))
    }

    /// A fixed-slot card's renewal, authorised with the expiring key before its slot was
    /// overwritten (renewal/overwrite.rs): ir and certConf MAC-protected with the renewal's
    /// id and renewal code renew the old certificate as kur would.
    async fn overwriting(
        &self,
        request: &Request,
        hash: &[u8],
        renewal: &crate::store::Renewal,
        sealed: &str,
    ) -> Result<(zeroize::Zeroizing<Vec<u8>>, Result<Outcome, Refusal>), Refusal> {
        let unknown = (FailInfo::NotAuthorized, "unknown reference");
        let Some(code) = self.store.open_code(&renewal.id, sealed) else { return Err(unknown) };
        let secret = zeroize::Zeroizing::new(code.as_bytes().to_vec());
        if request.sender.first() != Some(&0xA4) {
            return Err((FailInfo::BadRequest, "the sender of a MAC-protected message is a directoryName"));
        }
        let old_serial = crate::store::unhex(&renewal.serial);
        let old = self.store.certificate_der(&old_serial).await.map_err(internal)?.ok_or(unknown)?;
        let (entry, profile) = self.store.by_certificate(&old, &old_serial).await.map_err(internal)?.ok_or(unknown)?;
        // Wrong MACs slow the holder's request down, as for its activation code.
        let reference = &entry.request.reference;
        self.mac_check(reference).await?;
        if let Err(e) = request.verify(&secret) {
            tracing::info!(renewal = %renewal.id, error = %e, "CMP protection refused");
            self.store.mac_wrong(reference, self.wrong_code_wait).await.map_err(internal)?;
            return Err((FailInfo::BadMessageCheck, "message protection does not verify"));
        }
        self.store.mac_right(reference).await.map_err(internal)?;
        let outcome = match &request.body {
            // Completed: only a certConf repeated after its answer was lost.
            Body::Ir { .. } if renewal.state == "completed" => {
                Err((FailInfo::NotAuthorized, "this renewal is complete: its certificate was issued and confirmed"))
            }
            Body::Ir { request: cr } => match self.retransmission(request, hash).await {
                Ok(Some(repeat)) => Ok(repeat),
                Err(refusal) => Err(refusal),
                Ok(None)
                    if self
                        .store
                        .lifecycle(&old_serial)
                        .await
                        .map_err(internal)?
                        .now(time::OffsetDateTime::now_utc())
                        != Lifecycle::Active =>
                {
                    Err((FailInfo::CertRevoked, "a suspended or revoked certificate cannot be renewed"))
                }
                Ok(None) => self.renew(&entry, profile, &old, cr, true).await.map(|(certificate, claim)| {
                    Outcome::Certificate { body_tag: 1, cert_req_id: cr.cert_req_id, certificate, note: None, claim }
                }),
            },
            Body::CertConf { .. } => self.confirm(request, &entry).await.map(|()| Outcome::Confirm),
            Body::Genm { info_types, with_value } => Self::ca_certificates(info_types, *with_value),
            _ => Err((FailInfo::BadRequest, "with a renewal's id and code this RA serves ir, genm and certConf")),
        };
        Ok((secret, outcome))
    }

    /// The request's certificate for a verified key: a new one, or the one an interrupted
    /// transaction issued for this key and never got confirmed (the client lost the
    /// answer). With a note for the holder when it is issued suspended, waiting for the
    /// paperwork to be validated.
    async fn enroll(
        &self,
        request: &Request,
        entry: &Entry,
        spki: &[u8],
    ) -> Result<(Vec<u8>, Option<&'static str>, Claim), Refusal> {
        if entry.issuance == Issuance::Confirmed {
            return Err((FailInfo::NotAuthorized, "this request was already issued"));
        }
        let reference = entry.request.reference.clone();
        let profile = entry
            .next_certificate(request.cert_profile.as_deref())
            .map_err(|text| (FailInfo::BadCertTemplate, text))?;
        if let Some(pending) = self.pending(&reference, profile, None, spki).await? {
            return Ok(pending);
        }
        let certificate = self.ca.issue(spki, &entry.request.holder, profile, self.validity_days).map_err(|e| {
            tracing::error!(error = %e, "issuance failed");
            (FailInfo::SystemFailure, "issuance failed")
        })?;
        // Issued suspended as the request asks: a request of the JSON API until an operator
        // activates it; a console request held by the RA until its verification passes, or
        // while its paper originals are late (the card activated after verification, with
        // the originals in time, is issued active).
        let late = entry.verification.as_deref() == Some("awaiting-originals")
            && self.store.originals_late(&reference).await.map_err(internal)?;
        let held_for = match entry.verification.as_deref() {
            _ if !entry.request.issued_suspended => None,
            None => None,
            Some("awaiting-originals") if late => Some("originals"),
            Some("awaiting-originals" | "completed") => None,
            Some(_) => Some("verification"),
        };
        let suspended = entry.request.issued_suspended && (entry.verification.is_none() || held_for.is_some());
        let fresh = FreshCertificate { profile, replaces: None, suspended, held_for, approval_due: None };
        Ok((certificate, suspended.then_some(ISSUED_SUSPENDED), Claim { reference, fresh: Some(fresh) }))
    }

    /// The certificate waiting for certConf for this request and profile (renewing
    /// `replaces`), when a new transaction asks for it again: the same certificate for the
    /// same key; refused for another key, until it is confirmed or revoked.
    async fn pending(
        &self,
        reference: &str,
        profile: crate::registry::Profile,
        replaces: Option<&[u8]>,
        spki: &[u8],
    ) -> Result<Option<(Vec<u8>, Option<&'static str>, Claim)>, Refusal> {
        let Some(waiting) = self.store.unconfirmed(reference, profile, replaces).await.map_err(internal)? else {
            return Ok(None);
        };
        if spki_of(&waiting.der) != spki {
            return Err((
                FailInfo::DuplicateCertReq,
                "a certificate issued for this request waits for confirmation in another transaction",
            ));
        }
        let suspended = matches!(
            self.store.confirmed(&waiting.serial).await.map_err(internal)?,
            Some((_, crate::registry::Lifecycle::Suspended { .. }))
        );
        tracing::info!(reference, "the certificate an interrupted transaction issued, again");
        let claim = Claim { reference: reference.to_owned(), fresh: None };
        Ok(Some((waiting.der, suspended.then_some(ISSUED_SUSPENDED), claim)))
    }

    /// genm: this RA answers id-it-caCerts (RFC 9483 4.3.1).
    fn ca_certificates(info_types: &[Vec<u8>], with_value: bool) -> Result<Outcome, Refusal> {
        if with_value {
            return Err((FailInfo::BadRequest, "genm asks for caCerts without an infoValue (RFC 9483 4.3.1)"));
        }
        if info_types.iter().any(|t| t == cmp::OID_IT_CA_CERTS) {
            Ok(Outcome::CaCertificates)
        } else {
            Err((FailInfo::BadRequest, "this RA answers genm for caCerts"))
        }
    }

    /// certConf for the certificate issued in this transaction: its recipNonce must repeat
    /// the answer's senderNonce. Accepted, the certificate is confirmed (a repeated certConf
    /// is answered again); rejected, it is revoked and kept on record.
    async fn confirm(&self, request: &Request, entry: &Entry) -> Result<(), Refusal> {
        let Body::CertConf { cert_hash, rejected, hash_alg, .. } = &request.body else {
            return Err((FailInfo::BadRequest, "not a certConf"));
        };
        let reference = &entry.request.reference;
        let transaction_id = request.transaction_id.as_deref().unwrap_or_default();
        let answered = self.store.answered(transaction_id).await.map_err(internal)?;
        let Some(answered) = answered.filter(|a| &a.reference == reference) else {
            return Err((FailInfo::BadRequest, "no certificate waiting for confirmation in this transaction"));
        };
        if request.recip_nonce.as_deref() != Some(answered.answer_nonce.as_slice()) {
            return Err((FailInfo::BadRecipientNonce, "recipNonce is not the senderNonce of the answer"));
        }
        let der = self.store.certificate_der(&answered.serial).await.map_err(internal)?.unwrap_or_default();
        if *rejected {
            tracing::info!(reference = %reference, "client rejected the certificate: revoked");
            return match self.store.reject(reference, transaction_id, &answered.serial).await.map_err(internal)? {
                Ok(()) => Ok(()),
                Err(_) => Err((FailInfo::CertRevoked, "the certificate is already revoked")),
            };
        }
        let expected = match hash_alg {
            None => cmp::cert_hash(&der),
            Some(oid) => cmp::cert_hash_with(oid, &der)
                .ok_or((FailInfo::BadAlg, "certConf hashAlg: SHA-256, SHA-384 or SHA-512"))?,
        };
        if cert_hash.as_deref() != Some(expected.as_slice()) {
            return Err((FailInfo::BadCertId, "certHash does not match the issued certificate"));
        }
        match self.store.accept(reference, transaction_id, &answered.serial).await.map_err(internal)? {
            Ok(first) => {
                if first {
                    tracing::info!(reference = %reference, "certificate confirmed");
                    match self.store.replaced_by(&answered.serial).await.map_err(internal)? {
                        Some(old) => self.renewed(reference, &old, &answered.serial).await,
                        None => self.completed(reference).await,
                    }
                }
                Ok(())
            }
            Err(crate::store::ConfirmRefused::Revoked) => Err((
                FailInfo::CertRevoked,
                "the certificate was revoked: it was not confirmed in time or was rejected",
            )),
            Err(crate::store::ConfirmRefused::NotWaiting) => {
                Err((FailInfo::BadRequest, "a newer transaction took this certificate over: confirm that one"))
            }
        }
    }

    /// Once every certificate of a request is confirmed and (for a request registered at
    /// the console) its paperwork verified: the second halves of the card's PIN and PUK and
    /// the user code to the holder's e-mail (DOMAIN.md, Activation). Whichever comes last
    /// sends it.
    pub async fn completed(&self, reference: &str) {
        let Ok(Some(entry)) = self.store.request(reference.as_bytes()).await else { return };
        if entry.issuance != Issuance::Confirmed {
            return;
        }
        if matches!(entry.verification.as_deref(), Some("registered" | "to-verify" | "to-correct")) {
            return;
        }
        // Verified at the console while its certificate was being issued: released now
        // (a request of the JSON API waits for an operator to activate it).
        if entry.verification.is_some() {
            let by = crate::store::audit::Event { actor: "ra", detail: "verification passed", ..Default::default() };
            crate::paperwork::release(self, reference, "verification", &by).await;
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

    /// A renewal's new certificate confirmed: its renewal request is completed, and the
    /// user code goes to the holder's e-mail again (DOMAIN.md, Renewal).
    async fn renewed(&self, reference: &str, old: &[u8], new: &[u8]) {
        let id = match self.store.complete_renewal(old, new).await {
            Ok(Some(id)) => id,
            Ok(None) => return,
            Err(e) => {
                // The sweeper completes it later (the user code is not mailed then).
                tracing::error!(error = %e, "completing the renewal request");
                return;
            }
        };
        let to = match self.store.holder_of(reference).await {
            Ok(Some(h)) => h.email,
            _ => None,
        };
        let (Some(to), Ok(Some(p)), Ok(Some(entry))) =
            (to, self.store.personalisation(reference).await, self.store.request(reference.as_bytes()).await)
        else {
            return;
        };
        let holder = format!("{} {}", entry.request.holder.given_name, entry.request.holder.surname);
        if !self.gateway.deliver(crate::personalisation::renewal_email(&to, &holder, &id, &p)).await {
            tracing::warn!(renewal = %id, "the renewal e-mail could not be sent");
        }
    }

    async fn signed(&self, request: &Request, hash: &[u8]) -> Result<Outcome, Refusal> {
        let Some(old) = request.extra_certs.first() else {
            return Err((FailInfo::SignerNotTrusted, "signature protection without the signer's certificate"));
        };
        if !self.ca.issued(old) {
            return Err((FailInfo::SignerNotTrusted, "the signer's certificate was not issued by this CA"));
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
                    return Err((FailInfo::CertRevoked, "the certificate is already revoked"));
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
        let Some((entry, profile)) = self.store.by_certificate(old, &serial).await.map_err(internal)? else {
            return Err((FailInfo::NotAuthorized, "unknown certificate"));
        };
        match &request.body {
            Body::Kur { request: cr } => {
                if let Some(repeat) = self.retransmission(request, hash).await? {
                    return Ok(repeat);
                }
                // oldCertID (RFC 9483 4.1.3) names the certificate that signed the request.
                let Some((old_issuer, old_serial)) = &cr.old_cert_id else {
                    return Err((FailInfo::BadCertId, "kur without the oldCertID control"));
                };
                if old_serial != &serial || old_issuer != &tessera_protocol::asn1::explicit(4, &self.ca.name()) {
                    return Err((FailInfo::BadCertId, "oldCertID is not the certificate that signed the request"));
                }
                if state != Lifecycle::Active {
                    return Err((FailInfo::CertRevoked, "a suspended or revoked certificate cannot be renewed"));
                }
                if self.store.superseded(&serial).await.map_err(internal)? {
                    return Err((FailInfo::NotAuthorized, "only the newest certificate of a request can be renewed"));
                }
                let (certificate, claim) = self.renew(&entry, profile, old, cr, false).await?;
                Ok(Outcome::Certificate { body_tag: 8, cert_req_id: cr.cert_req_id, certificate, note: None, claim })
            }
            Body::CertConf { .. } => self.confirm(request, &entry).await.map(|()| Outcome::Confirm),
            Body::Genm { info_types, with_value } => Self::ca_certificates(info_types, *with_value),
            _ => Err((FailInfo::BadRequest, "with a certificate this RA serves kur, rr, genm and certConf")),
        }
    }

    /// Key update: a new certificate for the same holder and profile, whose validity
    /// starts where the old one ends (renewing early loses no days). `overwritten`: a
    /// fixed-slot card's renewal authorised before its key was overwritten, completed even
    /// after the old certificate's end.
    async fn renew(
        &self,
        entry: &Entry,
        recorded: Option<crate::registry::Profile>,
        old: &[u8],
        cr: &tessera_protocol::crmf::CertRequest,
        overwritten: bool,
    ) -> Result<(Vec<u8>, Claim), Refusal> {
        proof_of_possession(cr)?;
        let now = time::OffsetDateTime::now_utc();
        let summary =
            CertificateSummary::parse(old, now).map_err(|_| (FailInfo::BadDataFormat, "unreadable certificate"))?;
        match summary.status {
            RenewalStatus::Renewable => {}
            RenewalStatus::Valid => return Err((FailInfo::NotAuthorized, "renewal opens 60 days before expiry")),
            // Authorised before the card's key was overwritten: completed whenever it comes.
            RenewalStatus::Expired if overwritten => {}
            RenewalStatus::Expired => return Err((FailInfo::NotAuthorized, "expired: it can no longer be renewed")),
            RenewalStatus::NotYetValid => return Err((FailInfo::NotAuthorized, "the certificate is not valid yet")),
        }
        let start = time::OffsetDateTime::parse(&summary.not_after, &time::format_description::well_known::Rfc3339)
            .map_err(|_| (FailInfo::BadDataFormat, "unreadable validity"))?;
        // The same certificate profile as the old one (a two-certificate request renews each).
        let profile = recorded.unwrap_or(match (entry.request.profile, summary.role) {
            (crate::registry::Profile::CnsSignature, tessera_pki::certificate::Role::Authentication) => {
                crate::registry::Profile::CnsAuthentication
            }
            (crate::registry::Profile::CnsSignature, _) => crate::registry::Profile::Signature,
            (p, _) => p,
        });
        let old_serial = serial_of(old);
        if let Some((certificate, _, claim)) =
            self.pending(&entry.request.reference, profile, Some(&old_serial), &cr.public_key).await?
        {
            return Ok((certificate, claim));
        }
        // The renewal form signed with the expiring key comes first (DOMAIN.md), unless the
        // centre lets kur alone renew.
        if self.renewal.form == crate::config::FormPolicy::Required {
            let open = self.store.open_renewal_of(&old_serial).await.map_err(internal)?;
            if open.is_none_or(|r| r.state != "forwarded") {
                return Err((
                    FailInfo::NotAuthorized,
                    "the renewal form is not signed yet (POST /api/v1/renewal/{serial})",
                ));
            }
        }
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
        // Under the approval policy it works at once; an operator must approve it by the old
        // certificate's expiry.
        // A fixed slot's renewal completed after the old end gets a month from now.
        let due = if start < now { now + time::Duration::days(30) } else { start };
        let approval_due = (self.renewal_policy == crate::registry::RenewalPolicy::Approval).then_some(due);
        let fresh =
            FreshCertificate { profile, replaces: Some(old_serial), suspended: false, held_for: None, approval_due };
        Ok((certificate, Claim { reference: entry.request.reference.clone(), fresh: Some(fresh) }))
    }

    /// The current CRL (DER).
    pub async fn crl(&self) -> Option<Vec<u8>> {
        let entries = self.store.not_active().await.map_err(internal).ok()?;
        let invalid_since = self.store.invalidity_dates().await.map_err(internal).ok()?;
        let number = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
        self.ca.crl(&entries, &invalid_since, number).map_err(|e| tracing::error!(error = %e, "CRL")).ok()
    }
}
