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

use serde::Serialize;
use tessera_core::card::{Card, Role};
use tessera_core::devices::Devices;
use tessera_core::keys::KeyPairInfo;
use tessera_pki::KeyAlgorithm;

use crate::journal::Journal;
use crate::prompter::{Progress, Prompter, Step};
use crate::ra::cmp::{Issued, Renewing};
use crate::ra::http::Http;
use crate::secrets::Asked;
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
            return rekey(devices, settings, token, retire_old, prompter, &report, role, slot, old_certificate).await;
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
        rekey(devices, settings, token, retire_old, prompter, &report, role, old_id, old_certificate).await
    }
}

/// The re-key (and, first, the form and any authorisation) of the certificate
/// `old_certificate` whose key is `old_id` on the card.
#[allow(clippy::too_many_arguments)]
async fn rekey(
    devices: &mut Devices,
    settings: Settings,
    token: String,
    retire_old: bool,
    prompter: &mut dyn Prompter,
    report: &diagnostics::Report,
    role: Role,
    old_id: Vec<u8>,
    old_certificate: Vec<u8>,
) -> Result<Outcome> {
    let old = old_key(&old_certificate, &hex::encode(&old_id))?;
    let old_summary = tessera_pki::CertificateSummary::parse(&old_certificate, time::OffsetDateTime::now_utc())
        .map_err(|e| Error::CertificateUntrusted { reason: e.to_string() })?;
    // A card whose convention fixes this key's slot: the new key takes the old one's
    // (overwrite.rs), as the diagnostics said before the PIN.
    let fixed_slot = devices.with_token(&token, |t| Ok(Card::new(t).role_id(role)))?;
    // The slot overwritten must be the old key's own: a certificate kept elsewhere (put
    // there by another tool) would have another working key overwritten.
    if let Some(slot) = &fixed_slot
        && *slot != old_id
    {
        return Err(Error::CardUnsuitable {
            card: report.card.clone().unwrap_or(report.label.clone()),
            profile: "renewal".into(),
            reason: format!(
                "the certificate's key is in slot {}, not in the {} slot {}: renewing would overwrite another key",
                hex::encode(&old_id),
                if role == Role::Signature { "signature" } else { "authentication" },
                hex::encode(slot)
            ),
        });
    }

    let serial = old_summary.serial.replace(':', "").to_lowercase();
    let mut journal = Journal::open(&format!("renew-{serial}"), &token, &settings.ra, "renewal")?;
    if journal.record.completed {
        return Err(Error::AlreadyActivated { reference: format!("renew-{serial}") });
    }
    journal.save()?;
    let anchors = settings.anchors()?;
    let http = Http::new(&settings.ra, &anchors)?;
    let algorithm_id = old.algorithm.signature_algorithm();
    let renewing = Renewing { http: &http, certificate: &old_certificate, algorithm: &algorithm_id, anchors: &anchors };
    if fixed_slot.is_some() && journal.record.old_certificate.is_none() {
        journal.record.old_certificate = Some(hex::encode(&old_certificate));
        journal.save()?;
    }
    let mut secrets = Asked::new(prompter);
    let mut resumed = false;
    if fixed_slot.is_some() && !journal.record.overwrite_authorised {
        overwrite::choose(&mut secrets, &report.label, &old_summary.common_name)?;
    }

    // 2. The contract accepted and the renewal form signed with the expiring key.
    // Until kur is answered the RA's word counts, not the journal's: a request cancelled
    // or expired since is signed again (a new one), a forwarded one is not.
    let s = Step::SignForm;
    if journal.record.renewal_form.is_some() && journal.cert(role).certificate.is_some() {
        resumed = true;
        secrets.prompter.progress(&Progress::Resumed { step: s });
    } else {
        secrets.prompter.progress(&Progress::Started { step: s });
        journal.event(s, "started", None)?;
        let signed = form::sign(devices, &token, &mut secrets, &http, &old, &old_certificate, &old_summary).await;
        let id = match signed {
            Ok((id, true)) => {
                resumed = true;
                secrets.prompter.progress(&Progress::Resumed { step: s });
                journal.event(s, "resumed", None)?;
                id
            }
            other => step(secrets.prompter, &mut journal, s, other.map(|(id, _)| id))?,
        };
        journal.record.renewal_form = Some(id);
        journal.save()?;
    }

    // 2b. A fixed slot: overwriting it authorised with the old key while it is there (or,
    // once it is gone, with the renewal code the holder received).
    let renewal_id = journal.record.renewal_form.clone().unwrap_or_default();
    let mut authorised = None;
    if fixed_slot.is_some() {
        let s = Step::Authorise;
        if journal.cert(role).confirmed {
            secrets.prompter.progress(&Progress::Resumed { step: s });
        } else {
            secrets.prompter.progress(&Progress::Started { step: s });
            journal.event(s, "started", None)?;
            let old_in_slot = journal.cert(role).key_id.is_none();
            let card = form::OnCard {
                devices,
                token: &token,
                old: &old,
                certificate: &old_certificate,
                summary: &old_summary,
            };
            let done = overwrite::authorise(card, &mut secrets, &http, &mut journal, &renewal_id, old_in_slot).await;
            authorised = Some(step(secrets.prompter, &mut journal, s, done)?);
        }
    }
    let exchange = authorised.as_ref().map(|a| crate::ra::cmp::Exchange {
        http: &http,
        reference: &renewal_id,
        secret: a.code.as_bytes(),
        profile: None,
    });

    // 3. The new key pair, next to the old one (or in the old one's slot); its id
    // journaled first.
    let s = Step::Generate { role };
    let known = journal.cert(role).clone();
    let algorithm = {
        let card = devices.with_token(&token, |t| Ok(Card::new(t).algorithms()))?;
        if card.contains(&old.algorithm) { old.algorithm } else { card.first().copied().unwrap_or(old.algorithm) }
    };
    let journaled = match (&known.key_id, &known.public_key) {
        (Some(id), Some(pk)) => Some(KeyPairInfo {
            uri: String::new(),
            id: id.clone(),
            label: String::new(),
            algorithm: known.algorithm.unwrap_or(algorithm),
            public_key: hex::decode(pk).unwrap_or_default(),
        }),
        _ => None,
    };
    let still_there = match &journaled {
        // A slot's public key may not show (PIV): a signature tells.
        Some(key) if fixed_slot.is_some() => overwrite::signs_as(devices, &token, &mut secrets, key)?,
        Some(key) => {
            devices
                .with_token(&token, |t| Card::new(t).public_key(&hex::decode(&key.id).unwrap_or_default()))?
                .as_deref()
                == Some(key.public_key.as_slice())
        }
        None => false,
    };
    let new_key = match journaled.filter(|_| still_there) {
        Some(key) => {
            resumed = true;
            secrets.prompter.progress(&Progress::Resumed { step: s });
            key
        }
        _ => {
            secrets.prompter.progress(&Progress::Started { step: s });
            // An id journaled by a run stopped during generation: the pair may be there.
            let id = fixed_slot
                .clone()
                .or_else(|| known.key_id.as_deref().map(|h| hex::decode(h).unwrap_or_default()))
                .unwrap_or_else(fresh_id);
            // In a fixed slot there is nothing to adopt: whatever is there is replaced
            // (the overwrite is authorised).
            let adopted = match fixed_slot {
                Some(_) => None,
                None => devices.with_token(&token, |t| Card::new(t).public_key(&id))?,
            };
            let c = journal.cert(role);
            c.key_id = Some(hex::encode(&id));
            c.algorithm = Some(algorithm);
            journal.event(s, "started", None)?;
            let made = match adopted {
                Some(public_key) => Ok(KeyPairInfo {
                    uri: String::new(),
                    id: hex::encode(&id),
                    label: String::new(),
                    algorithm,
                    public_key,
                }),
                None => secrets.retry(|secrets| {
                    devices.with_token(&token, |t| {
                        Card::new(t).make_key(secrets, Some(id.clone()), algorithm, "Rinnovo", fixed_slot.is_some())
                    })
                }),
            };
            let made = step(secrets.prompter, &mut journal, s, made)?;
            journal.cert(role).public_key = Some(hex::encode(&made.public_key));
            journal.save()?;
            made
        }
    };
    let new_id = hex::decode(&new_key.id).unwrap_or_default();

    // 4. kur: the request signed by the new key (POP), the message by the old one.
    let s = Step::Issue { role };
    let so_far = journal.cert(role).clone();
    let issued = match (&so_far.certificate, &so_far.transaction) {
        (Some(der), Some(t)) => {
            resumed = true;
            secrets.prompter.progress(&Progress::Resumed { step: s });
            Issued {
                certificate: hex::decode(der).unwrap_or_default(),
                extra_certs: so_far.chain.iter().map(|c| hex::decode(c).unwrap_or_default()).collect(),
                ca_pubs: Vec::new(),
                note: so_far.note.clone(),
                transaction: t.clone(),
            }
        }
        _ => {
            secrets.prompter.progress(&Progress::Started { step: s });
            journal.event(s, "started", None)?;
            let issuer = x509_parser::parse_x509_certificate(&old_certificate)
                .map(|(_, c)| (c.tbs_certificate.issuer.as_raw().to_vec(), c.tbs_certificate.raw_serial().to_vec()))
                .map_err(|e| Error::CertificateUntrusted { reason: e.to_string() })?;
            let spki = new_key.algorithm.spki(&new_key.public_key);
            // ir (a fixed slot, MAC-protected with the renewal code) or kur naming the old
            // certificate.
            let request = match exchange {
                Some(_) => tessera_protocol::cmp::cert_request(0, &spki, &old_summary.common_name),
                None => {
                    tessera_protocol::cmp::renewal_request(0, &spki, &old_summary.common_name, &issuer.0, &issuer.1)
                }
            };
            let mut sign = |secrets: &mut Asked<'_>, key: &KeyPairInfo, data: &[u8]| {
                secrets.retry(|secrets| {
                    devices.with_token(&token, |t| {
                        Card::new(t).sign_with(secrets, key, |signer| {
                            signer.sign(data).map_err(|reason| tessera_core::Error::CsrFailed { reason })
                        })
                    })
                })
            };
            let pop = sign(&mut secrets, &new_key, &request);
            let pop = match pop {
                Ok(p) => p,
                Err(e) => return step(secrets.prompter, &mut journal, s, Err(e)),
            };
            let result = match &exchange {
                Some(exchange) => exchange.initial(&request, &new_key.algorithm.signature_algorithm(), &pop).await,
                None => {
                    renewing
                        .key_update(&request, &new_key.algorithm.signature_algorithm(), &pop, |part| {
                            sign(&mut secrets, &old, part)
                        })
                        .await
                }
            };
            let issued = step(secrets.prompter, &mut journal, s, result)?;
            let c = journal.cert(role);
            c.certificate = Some(hex::encode(&issued.certificate));
            c.transaction = Some(issued.transaction.clone());
            c.chain = issued.extra_certs.iter().map(hex::encode).collect();
            c.note = issued.note.clone();
            journal.save()?;
            issued
        }
    };

    // 5. The checks: the new key, the chain, a validity continuing from the old end.
    let s = Step::Verify { role };
    secrets.prompter.progress(&Progress::Started { step: s });
    let new_summary = tessera_pki::CertificateSummary::parse(&issued.certificate, time::OffsetDateTime::now_utc())
        .map_err(|e| Error::RaAnswerMalformed { reason: e.to_string() });
    let checked = new_summary.and_then(|summary| {
        // Not valid yet is what a renewal before the old end looks like: not expired will do.
        crate::chain::check_renewed(&issued.certificate, &new_key.public_key, &issued.extra_certs, &anchors)?;
        if summary.not_before != old_summary.not_after {
            return Err(Error::ValidityNotContinuing {
                starts: summary.not_before.clone(),
                ends: old_summary.not_after.clone(),
            });
        }
        Ok(summary)
    });
    let new_summary = step(secrets.prompter, &mut journal, s, checked)?;

    // 6. Written next to the new key, and read back.
    let s = Step::Install { role };
    let on_card = devices.with_token(&token, |t| Card::new(t).certificate(&new_id))?;
    let uri = if on_card.as_deref() == Some(issued.certificate.as_slice()) {
        resumed = true;
        secrets.prompter.progress(&Progress::Resumed { step: s });
        devices.with_token(&token, |t| Ok(t.object_uri("", &new_id, "cert")))?
    } else {
        secrets.prompter.progress(&Progress::Started { step: s });
        journal.event(s, "started", None)?;
        let label = if role == Role::Signature { "Firma qualificata" } else { "Autenticazione CNS" };
        let written = secrets.retry(|secrets| {
            devices.with_token(&token, |t| {
                Card::new(t).install(secrets, &new_id, &issued.certificate, label, fixed_slot.is_some())
            })
        });
        step(secrets.prompter, &mut journal, s, written)?
    };
    journal.cert(role).installed = true;
    journal.save()?;
    // The middleware must show the new certificate: its cache for this card cleared, a
    // fresh listing checked.
    let card_serial = devices.with_token(&token, |t| Ok(t.serial.clone()))?;
    if let Ok(n) = tessera_core::clear_opensc_cache(&card_serial)
        && n > 0
    {
        tracing::info!(files = n, "OpenSC cache cleared for the renewed card");
    }
    let listed = devices
        .snapshot()
        .tokens
        .iter()
        .any(|t| t.serial == card_serial && t.certificates.iter().any(|c| c.summary.serial == new_summary.serial));
    if !listed {
        return Err(Error::Device(tessera_core::Error::ObjectNotFound { uri }));
    }

    // 7. certConf, signed with the old key.
    let s = Step::Confirm { role };
    if journal.cert(role).confirmed {
        secrets.prompter.progress(&Progress::Resumed { step: s });
    } else {
        secrets.prompter.progress(&Progress::Started { step: s });
        let confirmed = match &exchange {
            Some(exchange) => exchange.confirm(&issued.transaction, &issued.certificate, None).await,
            None => {
                renewing
                    .confirm(&issued.transaction, &issued.certificate, |part| {
                        secrets.retry(|secrets| {
                            devices.with_token(&token, |t| {
                                Card::new(t).sign_with(secrets, &old, |signer| {
                                    signer.sign(part).map_err(|reason| tessera_core::Error::CsrFailed { reason })
                                })
                            })
                        })
                    })
                    .await
            }
        };
        step(secrets.prompter, &mut journal, s, confirmed)?;
        journal.cert(role).confirmed = true;
        journal.save()?;
    }

    // 8. Only now the old key and certificate go (unless kept).
    // (A fixed slot's old key and certificate are already gone: overwritten.)
    let s = Step::Retire { role };
    let retired = retire_old || fixed_slot.is_some();
    if retire_old && fixed_slot.is_none() {
        secrets.prompter.progress(&Progress::Started { step: s });
        let removed = secrets.retry(|secrets| devices.with_token(&token, |t| Card::new(t).remove(secrets, &old_id)));
        step(secrets.prompter, &mut journal, s, removed)?;
    }
    journal.record.completed = true;
    journal.save()?;
    Ok(Outcome {
        token,
        role,
        uri,
        subject: new_summary.common_name,
        serial: new_summary.serial,
        not_before: new_summary.not_before,
        not_after: new_summary.not_after,
        replaced: old_summary.serial,
        retired,
        resumed,
    })
}

#[cfg(test)]
mod tests {
    use super::names_certificate;

    #[test]
    fn a_certificate_is_named_by_its_uri_or_by_the_attributes_given() {
        let uri =
            "pkcs11:token=HOLDER%20TEST;manufacturer=piv_II;serial=a53e;model=PKCS%2315%20emulated;id=%02;type=cert";
        assert!(names_certificate(uri, uri));
        assert!(names_certificate("pkcs11:serial=a53e;id=%02", uri));
        assert!(names_certificate("pkcs11:serial=a53e;id=%02;type=cert", uri));
        assert!(!names_certificate("pkcs11:serial=a53e;id=%01", uri));
        assert!(!names_certificate("pkcs11:serial=ffff;id=%02", uri));
        assert!(!names_certificate("pkcs11:token=PIV_II;id=%02", uri), "another label");
        assert!(!names_certificate("pkcs11:serial=a53e", uri), "no id: not one certificate");
    }
}
