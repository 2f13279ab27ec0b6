//! Renewal diagnostics, before any PIN try is spent: whether this card and each of its
//! certificates can be renewed, and if not why and what to do. Every check is a verdict
//! (pass, warn, fail) with a message id and its parameters, rendered from locales/
//! (`diag-<check>-<outcome>`); the report is kept for the error file.

use crate::ra::http::Http;
use std::collections::BTreeMap;

use tessera_core::card::{Card, Role as KeyRole};
use tessera_core::devices::Devices;
use tessera_core::token::{KeyPresence, PinState, TokenView};
use tessera_pki::{KeyAlgorithm, RenewalStatus, Role};

use crate::settings::Settings;
use crate::{Error, Result};

use crate::checks::check;
pub use crate::checks::{CertificateReport, Check, Report, Verdict};

/// Run every check that needs no PIN on the token `uri`.
pub async fn diagnose(devices: &mut Devices, settings: &Settings, uri: &str) -> Result<Report> {
    let view = match devices.with_token(uri, |t| Ok((t.uri(), t.serial.clone(), t.reader.clone(), t.label.clone()))) {
        Ok(v) => v,
        Err(e) => return held_elsewhere(uri, e),
    };
    let mut checks = Vec::new();
    // First: a card another program holds can be looked at no further.
    if let Some(reader) = &view.2 {
        let busy = match tessera_core::readers::in_use_by_another(reader) {
            Ok(false) => check("card-in-use", Verdict::Pass, "free", &[]),
            Ok(true) => check("card-in-use", Verdict::Fail, "busy", &[("reader", reader.clone())]),
            Err(e) => check("card-in-use", Verdict::Warn, "unknown", &[("reason", e.to_string())]),
        };
        let stop = busy.verdict == Verdict::Fail;
        checks.push(busy);
        if stop {
            let report = Report { token: view.0, label: view.3, card: None, checks, certificates: Vec::new() };
            crate::support::remember_diagnostics(&report);
            return Ok(report);
        }
    }
    let snapshot = devices.snapshot();
    let token = snapshot
        .tokens
        .iter()
        .find(|t| t.serial == view.1 && t.uri == view.0)
        .or_else(|| snapshot.tokens.iter().find(|t| t.serial == view.1 && t.label == view.3))
        .cloned()
        .ok_or_else(|| Error::Device(tessera_core::Error::TokenNotFound { uri: uri.to_owned() }))?;
    let card = card_checks(devices, uri, &token, &mut checks)?;
    checks.push(pin_check(&token));
    checks.push(cache_check());
    let (ra, http) = ra_check(settings).await;
    checks.push(ra);
    let decryption: Vec<_> = token
        .certificates
        .iter()
        .filter(|c| c.summary.role == Role::Encryption && c.private_key != KeyPresence::Missing)
        .collect();
    if !decryption.is_empty() {
        let names = decryption.iter().map(|c| c.summary.common_name.clone()).collect::<Vec<_>>().join(", ");
        checks.push(check("decryption-key", Verdict::Warn, "kept", &[("certificates", names)]));
    }

    let lineage = super::lineage::Lineage::from_journals();
    let mut certificates = Vec::new();
    for c in token.certificates.iter().filter(|c| matches!(c.summary.role, Role::Authentication | Role::Signature)) {
        let s = &c.summary;
        let at_ra = match &http {
            Some(http) => Some(crate::ra::workflow::renewal_state(http, &s.serial).await),
            None => None,
        };
        // Renewed already: as this computer's journal or the RA knows it; when neither
        // does, a newer certificate of the same holder and role on the card (one the
        // journal says renewed another certificate is not this one's successor).
        let renewed = lineage.renewed(&s.serial)
            || match &at_ra {
                Some(Ok(Some(state))) => state.state == "superseded",
                _ => token.certificates.iter().any(|o| {
                    o.summary.role == s.role
                        && o.summary.common_name == s.common_name
                        && super::lineage::follows(
                            &s.not_before,
                            &s.not_after,
                            &o.summary.not_before,
                            &o.summary.not_after,
                        )
                        && lineage.may_succeed(&s.serial, &o.summary.serial)
                }),
            };
        let mut checks = vec![if renewed && s.status != RenewalStatus::Expired {
            check("renewal-window", Verdict::Fail, "already-renewed", &[("not_after", s.not_after.clone())])
        } else {
            window_check(s.status, &s.not_after, s.days_left)
        }];
        checks.push(algorithm_check(&s.key, &card.algorithms));
        checks.push(match c.private_key {
            KeyPresence::Present => check("private-key", Verdict::Pass, "present", &[]),
            KeyPresence::NotVisible => check("private-key", Verdict::Pass, "after-pin", &[]),
            KeyPresence::Missing => check("private-key", Verdict::Fail, "missing", &[]),
        });
        let role = if s.role == Role::Signature { KeyRole::Signature } else { KeyRole::Authentication };
        checks.push(match card.room.get(&role) {
            Some(true) | None => check("room", Verdict::Pass, "next-to-old", &[]),
            Some(false) => check("room", Verdict::Warn, "overwrite", &[]),
        });
        if let Some(answer) = at_ra {
            checks.push(ra_renewal_check(answer));
        }
        certificates.push(CertificateReport {
            uri: c.uri.clone(),
            subject: s.common_name.clone(),
            serial: s.serial.clone(),
            role: s.role,
            not_after: s.not_after.clone(),
            days_left: s.days_left,
            checks,
        });
    }
    let report = Report { token: token.uri.clone(), label: token.label.clone(), card: card.name, checks, certificates };
    crate::support::remember_diagnostics(&report);
    Ok(report)
}

/// The token `uri` could not be opened: when a card another program holds exclusively
/// is the reason (the middleware does not show it), a report that says so; else `e`.
fn held_elsewhere(uri: &str, e: tessera_core::Error) -> Result<Report> {
    let readers = tessera_core::readers::list().unwrap_or_default();
    let busy = readers
        .into_iter()
        .filter(|r| r.card.is_some())
        .find(|r| tessera_core::readers::in_use_by_another(&r.name).unwrap_or(false));
    let Some(r) = busy else { return Err(e.into()) };
    let checks = vec![check("card-in-use", Verdict::Fail, "busy", &[("reader", r.name)])];
    let report = Report { token: uri.to_owned(), label: uri.to_owned(), card: None, checks, certificates: Vec::new() };
    crate::support::remember_diagnostics(&report);
    Ok(report)
}

/// What the card checks found out that the certificate checks need.
struct CardFacts {
    name: Option<String>,
    algorithms: Vec<KeyAlgorithm>,
    /// Per role: whether a new key fits next to the old one (false: the role's fixed slot).
    room: BTreeMap<KeyRole, bool>,
}

fn card_checks(devices: &mut Devices, uri: &str, token: &TokenView, checks: &mut Vec<Check>) -> Result<CardFacts> {
    let facts = devices.with_token(uri, |t| {
        let card = Card::new(t);
        let mut room = BTreeMap::new();
        for role in [KeyRole::Signature, KeyRole::Authentication] {
            if card.role_id(role).is_some() {
                room.insert(role, card.has_room(role)?);
            }
        }
        let name = t.model.as_ref().map(|m| m.name.clone());
        let middleware = crate::activation::middleware_verdict(t, name.as_deref().unwrap_or(&t.label));
        let model = t.model.as_ref().map(|m| (m.obsolete, m.renewable, m.name.clone()));
        Ok((CardFacts { name, algorithms: card.algorithms(), room }, middleware, model))
    })?;
    let (facts, middleware, model) = facts;
    checks.push(match model {
        None => check("card-model", Verdict::Warn, "unknown", &[("token", token.label.clone())]),
        Some((true, _, name)) => check("card-model", Verdict::Fail, "obsolete", &[("card", name)]),
        Some((_, false, name)) => check("card-model", Verdict::Fail, "not-renewable", &[("card", name)]),
        Some((_, _, name)) => check("card-model", Verdict::Pass, "known", &[("card", name)]),
    });
    checks.push(match middleware {
        None => check("middleware", Verdict::Pass, "can-renew", &[("module", token.module.clone())]),
        Some(Error::MiddlewareCannotActivate { middleware, can, install, .. }) => check(
            "middleware",
            Verdict::Fail,
            "cannot-write",
            &[("middleware", middleware), ("can", can), ("install", install)],
        ),
        Some(other) => check("middleware", Verdict::Fail, "other", &[("reason", other.to_string())]),
    });
    Ok(facts)
}

fn pin_check(token: &TokenView) -> Check {
    match token.pin.state {
        PinState::Ok => check("pin", Verdict::Pass, "ok", &[]),
        PinState::CountLow => check("pin", Verdict::Warn, "count-low", &[]),
        PinState::FinalTry => check("pin", Verdict::Fail, "final-try", &[]),
        PinState::Locked => check("pin", Verdict::Fail, "locked", &[]),
        PinState::ToBeChanged => check("pin", Verdict::Fail, "to-be-changed", &[]),
        PinState::NotInitialized => check("pin", Verdict::Fail, "not-initialized", &[]),
    }
}

fn window_check(status: RenewalStatus, not_after: &str, days_left: i64) -> Check {
    let params = [("not_after", not_after.to_owned()), ("days", days_left.to_string())];
    match status {
        RenewalStatus::Renewable => check("renewal-window", Verdict::Pass, "open", &params),
        RenewalStatus::Valid => {
            let opens = (days_left - tessera_pki::RENEWAL_WINDOW_DAYS).to_string();
            check("renewal-window", Verdict::Fail, "not-yet", &[params[0].clone(), ("opens_in", opens)])
        }
        RenewalStatus::Expired => check("renewal-window", Verdict::Fail, "expired", &params),
        RenewalStatus::NotYetValid => check("renewal-window", Verdict::Fail, "not-valid-yet", &params),
    }
}

/// The old key must still be accepted (RSA of at least 2048 bits, P-256 or P-384), and the
/// card must make a new key of a kind the CA takes.
fn algorithm_check(key: &tessera_pki::KeyInfo, card: &[KeyAlgorithm]) -> Check {
    let described = match key.curve.as_deref() {
        Some(curve) => format!("{} {curve}", key.algorithm),
        None => format!("{} {}", key.algorithm, key.bits),
    };
    let accepted = match (key.algorithm.as_str(), key.curve.as_deref()) {
        ("RSA", _) => key.bits >= 2048,
        ("EC", Some("P-256" | "P-384")) => true,
        _ => false,
    };
    if !accepted {
        return check("key-algorithm", Verdict::Fail, "too-weak", &[("key", described)]);
    }
    if card.is_empty() {
        return check("key-algorithm", Verdict::Fail, "card-makes-none", &[("key", described)]);
    }
    check("key-algorithm", Verdict::Pass, "accepted", &[("key", described)])
}

/// OpenSC's file cache shows the old objects after a renewal until it is cleared.
fn cache_check() -> Check {
    let dir = tessera_core::opensc_cache_dir();
    match dir.as_ref().and_then(|d| std::fs::read_dir(d).ok()).map(|entries| entries.count()) {
        Some(n) if n > 0 => check(
            "middleware-cache",
            Verdict::Warn,
            "present",
            &[("dir", dir.map(|d| d.display().to_string()).unwrap_or_default())],
        ),
        _ => check("middleware-cache", Verdict::Pass, "none", &[]),
    }
}

/// The RA reachable with its TLS trust; the client, when it is, for the checks that ask it.
async fn ra_check(settings: &Settings) -> (Check, Option<Http>) {
    let url = settings.ra.clone();
    let reached = async {
        let anchors = settings.anchors()?;
        let http = Http::new(&settings.ra, &anchors)?;
        http.reachable().await.map(|()| http)
    };
    match reached.await {
        Ok(http) => (check("ra", Verdict::Pass, "reachable", &[("url", url)]), Some(http)),
        Err(Error::RaUnreachable { reason, .. }) => {
            (check("ra", Verdict::Fail, "unreachable", &[("url", url), ("reason", reason)]), None)
        }
        Err(e) => (check("ra", Verdict::Fail, "unreachable", &[("url", url), ("reason", e.to_string())]), None),
    }
}

/// The RA's word on this certificate: still current there, and under which policy.
fn ra_renewal_check(answer: Result<Option<tessera_protocol::workflow::renewal::RenewalState>>) -> Check {
    match answer {
        Ok(Some(s)) if s.state == "active" && s.conflict.is_some() => {
            check("ra-renewal", Verdict::Warn, "contact-conflict", &[("field", s.conflict.clone().unwrap_or_default())])
        }
        Ok(Some(s)) if s.renewable && s.policy == "approval" => check("ra-renewal", Verdict::Pass, "approval", &[]),
        Ok(Some(s)) if s.renewable => check("ra-renewal", Verdict::Pass, "open", &[]),
        Ok(Some(s)) => match s.state.as_str() {
            "superseded" => check("ra-renewal", Verdict::Fail, "superseded", &[]),
            "suspended" => check("ra-renewal", Verdict::Fail, "suspended", &[]),
            _ => check("ra-renewal", Verdict::Fail, "revoked", &[]),
        },
        Ok(None) => check("ra-renewal", Verdict::Warn, "unknown", &[]),
        Err(e) => check("ra-renewal", Verdict::Warn, "unanswered", &[("reason", e.to_string())]),
    }
}

/// After the PIN (asked through `prompter`, once): each certificate's key signs a random
/// challenge on the card, and the signature must verify with the certificate. The outcome
/// replaces the report's private-key check of that certificate. Nothing is asked when the
/// PIN is locked or down to its final try (the report already stops there).
/// Whether the key pair `key` on the card signs: a random challenge signed there verifies
/// with its public key (false too when the key under its id is another key).
pub(crate) fn key_signs(
    devices: &mut Devices,
    token: &str,
    secrets: &mut crate::secrets::Asked<'_>,
    key: &tessera_core::keys::KeyPairInfo,
) -> Result<bool> {
    let mut challenge = [0u8; 32];
    getrandom::getrandom(&mut challenge).map_err(|e| Error::Input { reason: e.to_string() })?;
    let signed = secrets.retry(|secrets| {
        devices.with_token(token, |t| {
            Card::new(t).sign_with(secrets, key, |signer| {
                signer.sign(&challenge).map_err(|reason| tessera_core::Error::CsrFailed { reason })
            })
        })
    });
    match signed {
        Ok(signature) => Ok(tessera_protocol::signature::verify_algorithm(
            &key.algorithm.spki(&key.public_key),
            &key.algorithm.signature_algorithm(),
            &challenge,
            &signature,
        )
        .is_ok()),
        Err(Error::Device(tessera_core::Error::KeyNotFound { .. })) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn test_signatures(
    devices: &mut Devices,
    report: &mut Report,
    prompter: &mut dyn crate::prompter::Prompter,
) -> Result<()> {
    if report.checks.iter().any(|c| c.check == "pin" && c.verdict == Verdict::Fail) {
        return Ok(());
    }
    let mut secrets = crate::secrets::Asked::new(prompter);
    let token = report.token.clone();
    for cert in &mut report.certificates {
        let Some(at) = cert.checks.iter().position(|c| c.check == "private-key" && c.verdict == Verdict::Pass) else {
            continue;
        };
        let id = tessera_pki::uri::Pkcs11Uri::parse(&cert.uri).ok().and_then(|u| u.id).unwrap_or_default();
        let Some(der) = devices.with_token(&token, |t| Card::new(t).certificate(&id))? else { continue };
        // A key type renewal cannot use failed its own check already.
        let Ok(key) = super::old_key(&der, &hex::encode(&id)) else { continue };
        cert.checks[at] = match key_signs(devices, &token, &mut secrets, &key) {
            Ok(true) => check("private-key", Verdict::Pass, "signs", &[]),
            Ok(false) => check("private-key", Verdict::Fail, "does-not-sign", &[]),
            Err(Error::Cancelled) => return Err(Error::Cancelled),
            // The PIN's own trouble ends the test signatures: the answer is about the PIN.
            Err(
                e @ Error::Device(
                    tessera_core::Error::WrongPin { .. }
                    | tessera_core::Error::PinLocked
                    | tessera_core::Error::FinalTryNotConfirmed,
                ),
            ) => {
                return Err(e);
            }
            Err(e) => check("private-key", Verdict::Fail, "unusable", &[("reason", e.to_string())]),
        };
    }
    crate::support::remember_diagnostics(report);
    Ok(())
}
