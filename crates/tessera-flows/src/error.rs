//! The one error type of tessera-flows: the device layer's errors as they are, plus what
//! the network, the registration authority and the checks on its answers can say. Each has
//! a stable code (Fluent id `error-<code>`) and parameters, never a secret.

use std::collections::BTreeMap;

use tessera_core::ErrorPayload;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A card, token or PIN error from the device layer.
    #[error(transparent)]
    Device(#[from] tessera_core::Error),
    /// The RA could not be reached (down, wrong address, TLS trust failed).
    #[error("the registration authority at {url} cannot be reached: {reason}")]
    RaUnreachable { url: String, reason: String },
    /// The RA's workflow API refused (activation-refused, otp-wrong, request-locked, ...):
    /// the typed refusal of the shared contract, rendered from our locales like any other
    /// error.
    #[error("the registration authority refused: {0}")]
    RaRefused(tessera_protocol::refusal::Refusal),
    /// The RA answered something that is not what the protocol says.
    #[error("the registration authority's answer is malformed: {reason}")]
    RaAnswerMalformed { reason: String },
    /// The CA refused the CMP request (PKIStatus rejection).
    #[error("the CA refused the request: {text}")]
    CmpRejected { text: String, fail_info: String },
    /// The answer's protection does not verify with the activation code: not from the RA,
    /// or altered on the way.
    #[error("the answer is not protected by the activation code")]
    AnswerNotAuthentic,
    /// The certificate the CA returned is not for the key the card made: it was refused.
    #[error("the certificate returned is not for the card's key")]
    CertificateForAnotherKey,
    /// The certificate does not chain to the RA's trust anchor: it was refused.
    #[error("the certificate does not lead to the registration authority's CA: {reason}")]
    CertificateUntrusted { reason: String },
    /// The card cannot make keys this profile needs, or has no room for them.
    #[error("the card {card} cannot take the {profile} profile: {reason}")]
    CardUnsuitable { card: String, profile: String, reason: String },
    /// The middleware serving the card cannot generate keys or write certificates on it
    /// (OpenSC on Italian CNS cards reads and signs only): which one, and what to install.
    #[error("{middleware} cannot put keys on {card}; install: {install}")]
    MiddlewareCannotActivate { card: String, middleware: String, can: String, install: String },
    /// The request's profile is not one Tessera knows.
    #[error("unknown certificate profile {profile}")]
    ProfileUnknown { profile: String },
    /// No card or token to work on, or several and no choice was made.
    #[error("no card or token is present")]
    NoToken,
    /// The user stopped the flow.
    #[error("cancelled")]
    Cancelled,
    /// An answer (code, tax code, OTP) could not be read.
    #[error("input failed: {reason}")]
    Input { reason: String },
    /// The settings file or the journal could not be read or written.
    #[error("{path}: {reason}")]
    Storage { path: String, reason: String },
    /// This request was already activated on this computer.
    #[error("request {reference} is already activated")]
    AlreadyActivated { reference: String },
    /// The diagnostics found what stops this certificate's renewal (the check's message
    /// id says why and what to do).
    #[error("renewal is not possible: {check}")]
    RenewalBlocked { check: String, code: String, params: BTreeMap<String, String> },
    /// Several certificates can be renewed: the holder must say which (--certificate).
    #[error("several certificates can be renewed: {candidates}")]
    ChooseCertificate { candidates: String },
    /// No certificate on the card is one renewal replaces.
    #[error("no certificate on {token} can be renewed")]
    NothingToRenew { token: String },
    /// The card's signature of the renewal form does not verify with the certificate being
    /// renewed: its key on the card is not the certificate's.
    #[error("the card's key does not sign for {certificate}: {reason}")]
    RenewalKeyMismatch { certificate: String, reason: String },
    /// The renewed certificate does not continue where the old one ends.
    #[error("the new certificate starts {starts}, not where the old one ends ({ends})")]
    ValidityNotContinuing { starts: String, ends: String },
    /// A `tessera://` link that is not one of the app's (the detail, in English, is what
    /// the log says; the link itself is repeated neither to the user nor to the log).
    #[error("link refused: {detail}")]
    LinkRefused { detail: String },
    /// A link that carries a code: never the app's.
    #[error("link refused: it carries a code")]
    LinkCarriesCode,
    /// The activation code typed belongs to another request than the link's.
    #[error("the code is for request {found}, the link for {expected}")]
    LinkReferenceMismatch { expected: String, found: String },
    /// A batch at the counter named more requests than there were cards without
    /// certificates: this one got none.
    #[error("no card left for request {reference}")]
    BatchNoCard { reference: String },
    /// The activation of this request was begun on another card (its journal names it):
    /// resuming here would put that card's certificate on this one.
    #[error("request {reference} was begun on another card")]
    BegunOnAnotherCard { reference: String },
}

impl Error {
    pub fn code(&self) -> &str {
        match self {
            Error::Device(e) => e.code(),
            Error::RaUnreachable { .. } => "ra-unreachable",
            Error::RaRefused(r) => r.code(),
            Error::RaAnswerMalformed { .. } => "ra-answer-malformed",
            Error::CmpRejected { .. } => "cmp-rejected",
            Error::AnswerNotAuthentic => "answer-not-authentic",
            Error::CertificateForAnotherKey => "certificate-for-another-key",
            Error::CertificateUntrusted { .. } => "certificate-untrusted",
            Error::CardUnsuitable { .. } => "card-unsuitable",
            Error::ProfileUnknown { .. } => "profile-unknown",
            Error::MiddlewareCannotActivate { .. } => "middleware-cannot-activate",
            Error::NoToken => "no-token",
            Error::Cancelled => "cancelled",
            Error::Input { .. } => "input-failed",
            Error::Storage { .. } => "storage-failed",
            Error::AlreadyActivated { .. } => "already-activated",
            Error::RenewalBlocked { .. } => "renewal-blocked",
            Error::ChooseCertificate { .. } => "choose-certificate",
            Error::NothingToRenew { .. } => "nothing-to-renew",
            Error::ValidityNotContinuing { .. } => "validity-not-continuing",
            Error::RenewalKeyMismatch { .. } => "renewal-key-mismatch",
            Error::LinkRefused { .. } => "link-refused",
            Error::LinkCarriesCode => "link-carries-code",
            Error::LinkReferenceMismatch { .. } => "link-reference-mismatch",
            Error::BatchNoCard { .. } => "batch-no-card",
            Error::BegunOnAnotherCard { .. } => "begun-on-another-card",
        }
    }

    pub fn params(&self) -> BTreeMap<String, String> {
        let pairs: Vec<(&str, String)> = match self {
            Error::Device(e) => return e.params(),
            Error::RaRefused(r) => return r.params(),
            Error::RaUnreachable { url, reason } => vec![("url", url.clone()), ("reason", reason.clone())],
            Error::RaAnswerMalformed { reason } | Error::CertificateUntrusted { reason } | Error::Input { reason } => {
                vec![("reason", reason.clone())]
            }
            Error::CmpRejected { text, fail_info } => vec![("text", text.clone()), ("fail_info", fail_info.clone())],
            Error::CardUnsuitable { card, profile, reason } => {
                vec![("card", card.clone()), ("profile", profile.clone()), ("reason", reason.clone())]
            }
            Error::ProfileUnknown { profile } => vec![("profile", profile.clone())],
            Error::MiddlewareCannotActivate { card, middleware, can, install } => vec![
                ("card", card.clone()),
                ("middleware", middleware.clone()),
                ("can", can.clone()),
                ("install", install.clone()),
            ],
            Error::Storage { path, reason } => vec![("path", path.clone()), ("reason", reason.clone())],
            Error::AlreadyActivated { reference }
            | Error::BatchNoCard { reference }
            | Error::BegunOnAnotherCard { reference } => {
                vec![("reference", reference.clone())]
            }
            Error::RenewalBlocked { check, code, params } => {
                let mut all: Vec<(&str, String)> = vec![("check", check.clone()), ("code", code.clone())];
                all.extend(params.iter().map(|(k, v)| (k.as_str(), v.clone())));
                all
            }
            Error::ChooseCertificate { candidates } => vec![("candidates", candidates.clone())],
            Error::NothingToRenew { token } => vec![("token", token.clone())],
            Error::ValidityNotContinuing { starts, ends } => vec![("starts", starts.clone()), ("ends", ends.clone())],
            Error::RenewalKeyMismatch { certificate, reason } => {
                vec![("certificate", certificate.clone()), ("reason", reason.clone())]
            }
            Error::LinkReferenceMismatch { expected, found } => {
                vec![("expected", expected.clone()), ("found", found.clone())]
            }
            Error::AnswerNotAuthentic
            | Error::CertificateForAnotherKey
            | Error::NoToken
            | Error::Cancelled
            | Error::LinkRefused { .. }
            | Error::LinkCarriesCode => vec![],
        };
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload { code: self.code().to_owned(), params: self.params() }
    }

    /// Whether running the flow again later may succeed without changing anything (the
    /// network or the RA was down): the journal keeps the step for the next run.
    pub fn transient(&self) -> bool {
        matches!(self, Error::RaUnreachable { .. })
            || matches!(
                self,
                Error::Device(
                    tessera_core::Error::CardRemoved { .. }
                        | tessera_core::Error::TokenRemoved { .. }
                        // The card left the reader between two visits: its token is gone.
                        | tessera_core::Error::TokenNotFound { .. }
                        | tessera_core::Error::PcscNotRunning
                )
            )
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::messages::{Lang, Messages};

    #[test]
    fn every_flow_error_has_a_cause_and_a_remedy_in_both_languages() {
        let samples = [
            Error::RaUnreachable { url: "https://ra".into(), reason: "r".into() },
            Error::RaAnswerMalformed { reason: "r".into() },
            Error::CmpRejected { text: "t".into(), fail_info: "badPOP".into() },
            Error::AnswerNotAuthentic,
            Error::CertificateForAnotherKey,
            Error::CertificateUntrusted { reason: "r".into() },
            Error::CardUnsuitable { card: "C".into(), profile: "signature".into(), reason: "r".into() },
            Error::MiddlewareCannotActivate {
                card: "C".into(),
                middleware: "M".into(),
                can: "read".into(),
                install: "V".into(),
            },
            Error::MiddlewareCannotActivate {
                card: "C".into(),
                middleware: "M".into(),
                can: "read".into(),
                install: "none".into(),
            },
            Error::ProfileUnknown { profile: "p".into() },
            Error::NoToken,
            Error::Cancelled,
            Error::Input { reason: "r".into() },
            Error::Storage { path: "/p".into(), reason: "r".into() },
            Error::AlreadyActivated { reference: "REQ".into() },
            Error::LinkRefused { detail: "d".into() },
            Error::LinkCarriesCode,
            Error::BatchNoCard { reference: "REQ".into() },
            Error::BegunOnAnotherCard { reference: "REQ".into() },
            Error::LinkReferenceMismatch { expected: "REQ-1".into(), found: "REQ-2".into() },
        ];
        // And every refusal of the RA's contract, rendered from our catalogs: a code
        // without a message in either language fails here.
        let names = [
            "reason",
            "retry_after",
            "tries_left",
            "reference",
            "wait",
            "expected",
            "position",
            "field",
            "contact",
            "signed_at",
            "action",
            "state",
            "opens_in",
            "version",
            "tries",
        ];
        let params: BTreeMap<String, String> = names.iter().map(|n| (n.to_string(), "1".to_string())).collect();
        let ra: Vec<ErrorPayload> = crate::Refusal::CODES
            .iter()
            .map(|(code, _)| ErrorPayload { code: (*code).into(), params: params.clone() })
            .collect();
        for lang in [Lang::It, Lang::En] {
            let m = Messages::new(lang);
            let payloads = samples.iter().map(Error::payload).chain(ra.iter().cloned());
            for p in payloads {
                let r = m.error(&p);
                assert!(
                    !r.cause.starts_with("Errore imprevisto") && !r.cause.starts_with("Unexpected"),
                    "{lang:?} {}",
                    p.code
                );
                assert!(!r.remedy.is_empty() && !r.remedy.contains('{'), "{lang:?} {}: {}", p.code, r.remedy);
            }
        }
    }
}
