//! Renewal (DOMAIN.md, Renewal): the diagnostics that come before any PIN, then the re-key
//! as one journaled transaction. On a card with room the new key pair is made next to the
//! old one; CMP kur is signed by the old key with proof of possession by the new one; the
//! new certificate is checked (its key, its chain, a validity that continues where the old
//! one ends), written next to the new key, read back and confirmed; only then may the old
//! key and certificate go (on request: by default they stay, working until the new
//! validity begins). Every step is journaled (no secret), so an interrupted renewal
//! resumes with the same new key and the RA answers with the same certificate; until the
//! end the old certificate keeps working.

pub mod diagnostics;
mod form;
pub mod lineage;
mod overwrite;
mod rekey;

use serde::Serialize;
use tessera_core::card::{Card, Role};
use tessera_core::devices::Devices;
use tessera_core::keys::KeyPairInfo;
use tessera_pki::KeyAlgorithm;

use crate::journal::Journal;
use crate::prompter::{Progress, Prompter, Step};
use crate::settings::Settings;
use crate::{Error, Result};
use diagnostics::Verdict;

/// What a renewal left on the card.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "RenewalOutcome")]
pub struct Outcome {
    pub token: String,
    pub role: Role,
    /// The new certificate's PKCS#11 URI, subject, serial and validity.
    pub uri: String,
    pub subject: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    /// The renewed certificate's serial, and whether its key and certificate were removed.
    pub replaced: String,
    pub retired: bool,
    /// Steps an earlier, interrupted run had done.
    pub resumed: bool,
}

pub struct Renewal<'d> {
    pub devices: &'d mut Devices,
    pub settings: Settings,
    /// The card or token (PKCS#11 URI).
    pub token: String,
    /// The certificate to renew (PKCS#11 URI), when the card holds several renewable ones.
    pub certificate: Option<String>,
    /// Remove the old key and certificate as soon as the new ones are confirmed. By
    /// default they stay: the new certificate's validity starts where the old one ends, so
    /// until then the old one is the one that works.
    pub retire_old: bool,
}

fn step<T>(prompter: &mut dyn Prompter, journal: &mut Journal, s: Step, r: Result<T>) -> Result<T> {
    match &r {
        Ok(_) => {
            prompter.progress(&Progress::Done { step: s });
            journal.event(s, "done", None)?;
        }
        Err(e) => {
            prompter.progress(&Progress::Failed { step: s, error: e.payload() });
            let _ = journal.event(s, "failed", Some(e.payload()));
        }
    }
    r
}

fn fresh_id() -> Vec<u8> {
    let mut id = vec![0u8; 8];
    getrandom::getrandom(&mut id).expect("the OS random source");
    id
}

/// The diagnostics' verdict on `checks`: the first failing one stops the renewal there,
/// before any PIN; else the step is done.
fn verdict<'c>(prompter: &mut dyn Prompter, mut checks: impl Iterator<Item = &'c diagnostics::Check>) -> Result<()> {
    if let Some(failed) = checks.find(|c| c.verdict == Verdict::Fail) {
        let e = Error::RenewalBlocked {
            check: failed.check.to_owned(),
            code: failed.code.clone(),
            params: failed.params.clone(),
        };
        prompter.progress(&Progress::Failed { step: Step::Diagnose, error: e.payload() });
        return Err(e);
    }
    prompter.progress(&Progress::Done { step: Step::Diagnose });
    Ok(())
}

/// Whether the PKCS#11 URI the holder gave names the certificate at `uri`: the same, or
/// every attribute it gives matches (a token's label can change with its certificates:
/// `pkcs11:serial=…;id=%02` still names it).
fn names_certificate(given: &str, uri: &str) -> bool {
    use tessera_pki::uri::Pkcs11Uri;
    if given == uri || given.contains(uri) {
        return true;
    }
    let (Ok(g), Ok(u)) = (Pkcs11Uri::parse(given), Pkcs11Uri::parse(uri)) else { return false };
    let same = |a: &Option<String>, b: &Option<String>| a.is_none() || a == b;
    g.id.is_some()
        && g.id == u.id
        && same(&g.token, &u.token)
        && same(&g.serial, &u.serial)
        && same(&g.manufacturer, &u.manufacturer)
        && same(&g.model, &u.model)
        && same(&g.object, &u.object)
        && g.object_type.as_deref().is_none_or(|t| t == "cert")
}

/// The key of a certificate on the card: its CKA_ID, algorithm and public key.
pub(crate) fn old_key(certificate: &[u8], id: &str) -> Result<KeyPairInfo> {
    let (_, c) = x509_parser::parse_x509_certificate(certificate)
        .map_err(|e| Error::CertificateUntrusted { reason: format!("the certificate to renew: {e}") })?;
    let summary = tessera_pki::CertificateSummary::parse(certificate, time::OffsetDateTime::now_utc())
        .map_err(|e| Error::CertificateUntrusted { reason: e.to_string() })?;
    let algorithm = match (summary.key.algorithm.as_str(), summary.key.bits, summary.key.curve.as_deref()) {
        ("RSA", 2048, _) => KeyAlgorithm::Rsa2048,
        ("RSA", 3072, _) => KeyAlgorithm::Rsa3072,
        ("EC", _, Some("P-256")) => KeyAlgorithm::P256,
        ("EC", _, Some("P-384")) => KeyAlgorithm::P384,
        _ => {
            return Err(Error::RenewalBlocked {
                check: "key-algorithm".into(),
                code: "diag-key-algorithm-too-weak".into(),
                params: [("key".to_owned(), summary.key.algorithm.clone())].into(),
            });
        }
    };
    Ok(KeyPairInfo {
        uri: String::new(),
        id: id.to_owned(),
        label: String::new(),
        algorithm,
        public_key: c.public_key().subject_public_key.data.to_vec(),
    })
}

impl Renewal<'_> {
    /// Run the renewal, asking through `prompter` (the PIN only).
    pub async fn run(self, prompter: &mut dyn Prompter) -> Result<Outcome> {
        let Renewal { devices, settings, token, certificate, retire_old } = self;
        // 1. Diagnostics, before any PIN: a failing check stops here.
        prompter.progress(&Progress::Started { step: Step::Diagnose });
        let report = diagnostics::diagnose(devices, &settings, &token).await;
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                prompter.progress(&Progress::Failed { step: Step::Diagnose, error: e.payload() });
                return Err(e);
            }
        };
        // A fixed-slot renewal interrupted once its slot was overwritten: the old certificate
        // may be gone from the card (its successor there instead); the journal keeps it.
        let serial_of = |der: &[u8]| {
            tessera_pki::CertificateSummary::parse(der, time::OffsetDateTime::now_utc()).map(|s| s.serial).ok()
        };
        let given_id =
            certificate.as_deref().and_then(|u| tessera_pki::uri::Pkcs11Uri::parse(u).ok()).and_then(|u| u.id);
        let overwritten = Journal::all().into_iter().find(|r| {
            !r.completed
                && r.overwrite_authorised
                && r.token == token
                && given_id.as_ref().is_none_or(|id| {
                    r.certificates.keys().next().is_some_and(|role| {
                        devices.with_token(&token, |t| Ok(Card::new(t).role_id(*role))).ok().flatten().as_ref()
                            == Some(id)
                    })
                })
                && r.old_certificate
                    .as_deref()
                    .map(|h| hex::decode(h).unwrap_or_default())
                    .and_then(|d| serial_of(&d))
                    .is_some_and(|old| !report.certificates.iter().any(|c| c.serial == old))
        });
        if let Some(r) = overwritten {
            let role = r.certificates.keys().next().copied().unwrap_or(Role::Signature);
            let slot = devices.with_token(&token, |t| Ok(Card::new(t).role_id(role)))?.unwrap_or_default();
            let old_certificate =
                r.old_certificate.as_deref().map(|h| hex::decode(h).unwrap_or_default()).unwrap_or_default();
            // The card's own checks still count (a locked PIN stops here); the certificate
            // now on the card is the renewal's own successor.
            prompter.progress(&Progress::Diagnosed { checks: report.checks.clone() });
            verdict(prompter, report.checks.iter())?;
            return rekey::rekey(devices, settings, token, retire_old, prompter, &report, role, slot, old_certificate)
                .await;
        }
        let journal_of = |serial: &str| format!("renew-{}", serial.replace(':', "").to_lowercase());
        let candidates: Vec<_> = report
            .certificates
            .iter()
            .filter(|c| certificate.as_deref().is_none_or(|uri| names_certificate(uri, &c.uri)))
            .collect();
        // A renewal an earlier run began comes first: it is resumed, whatever the card
        // shows now (its successor may already be on it).
        let resuming = candidates.iter().find(|c| Journal::in_progress(&journal_of(&c.serial))).copied();
        let chosen = match (candidates.as_slice(), &certificate) {
            _ if resuming.is_some() => resuming.unwrap_or(candidates[0]),
            ([], _) => return Err(Error::NothingToRenew { token: report.label.clone() }),
            ([one], _) => *one,
            (many, None) => {
                let renewable: Vec<_> = many.iter().filter(|c| c.verdict(&report.checks) != Verdict::Fail).collect();
                match renewable.as_slice() {
                    [one] => **one,
                    [] => many[0],
                    _ => {
                        let list = renewable.iter().map(|c| c.uri.clone()).collect::<Vec<_>>().join(", ");
                        return Err(Error::ChooseCertificate { candidates: list });
                    }
                }
            }
            (many, Some(_)) => many[0],
        };
        // A renewal in progress has already replaced the certificate, on the card and perhaps
        // at the RA (confirmed before the interruption): it goes on to its end.
        let checks = report.checks.iter().chain(&chosen.checks).cloned().collect();
        prompter.progress(&Progress::Diagnosed { checks });
        // A fixed slot authorised and perhaps overwritten: the old certificate's own checks
        // (its window, its key) no longer decide; the renewal completes whatever they say.
        let overwriting =
            resuming.and_then(|c| Journal::pending(&journal_of(&c.serial))).is_some_and(|r| r.overwrite_authorised);
        let own: &[diagnostics::Check] = if overwriting { &[] } else { &chosen.checks };
        let resumable = |c: &&diagnostics::Check| {
            resuming.is_some()
                && matches!(c.code.as_str(), "diag-renewal-window-already-renewed" | "diag-ra-renewal-superseded")
        };
        verdict(prompter, report.checks.iter().chain(own).filter(|c| !resumable(c)))?;
        let role = if chosen.role == tessera_pki::Role::Signature { Role::Signature } else { Role::Authentication };
        let old_id = tessera_pki::uri::Pkcs11Uri::parse(&chosen.uri).ok().and_then(|u| u.id).unwrap_or_default();
        let old_certificate = devices
            .with_token(&token, |t| Card::new(t).certificate(&old_id))?
            .ok_or_else(|| Error::NothingToRenew { token: report.label.clone() })?;
        rekey::rekey(devices, settings, token, retire_old, prompter, &report, role, old_id, old_certificate).await
    }
}
