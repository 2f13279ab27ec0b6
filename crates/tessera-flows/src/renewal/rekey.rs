//! The re-key, one journaled step at a time: the renewal form signed with the expiring
//! key; for a fixed slot, the overwrite authorised; the new key pair; the certificate
//! requested (kur signed by the old key, or an `ir` MAC-protected with the renewal code
//! for a fixed slot); its checks; written next to the new key and read back; confirmed;
//! only then the old key and certificate retired. Each step first looks in the journal
//! and on the card for what an interrupted run already did.

use tessera_core::card::{Card, Role};
use tessera_core::devices::Devices;
use tessera_core::keys::KeyPairInfo;
use tessera_pki::CertificateSummary;

use super::overwrite::{self, Authorised};
use super::{Outcome, diagnostics, form, fresh_id, old_key, step};
use crate::journal::Journal;
use crate::prompter::{Progress, Prompter, Step};
use crate::ra::cmp::{Exchange, Issued, Renewing};
use crate::ra::http::Http;
use crate::secrets::Asked;
use crate::settings::Settings;
use crate::{Error, Result};

/// The re-key of one certificate: what it works on, and what it has done so far.
struct Rekey<'d, 'p> {
    devices: &'d mut Devices,
    token: String,
    secrets: Asked<'p>,
    journal: Journal,
    http: Http,
    anchors: Vec<Vec<u8>>,
    role: Role,
    /// The expiring certificate, its key on the card, and what it says.
    old: KeyPairInfo,
    old_id: Vec<u8>,
    old_certificate: Vec<u8>,
    old_summary: CertificateSummary,
    /// The slot the card's convention fixes for this role's key, if any: the new key
    /// takes the old one's place.
    fixed_slot: Option<Vec<u8>>,
    /// Some step was found done by an earlier run.
    resumed: bool,
}

/// The re-key (and, first, the form and any authorisation) of the certificate
/// `old_certificate` whose key is `old_id` on the card.
#[allow(clippy::too_many_arguments)]
pub(super) async fn rekey(
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
    let old_summary = CertificateSummary::parse(&old_certificate, time::OffsetDateTime::now_utc())
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
    if fixed_slot.is_some() && journal.record.old_certificate.is_none() {
        journal.record.old_certificate = Some(hex::encode(&old_certificate));
        journal.save()?;
    }
    let mut secrets = Asked::new(prompter);
    if fixed_slot.is_some() && !journal.record.overwrite_authorised {
        overwrite::choose(&mut secrets, &report.label, &old_summary.common_name)?;
    }
    let mut r = Rekey {
        devices,
        token,
        secrets,
        journal,
        http,
        anchors,
        role,
        old,
        old_id,
        old_certificate,
        old_summary,
        fixed_slot,
        resumed: false,
    };
    r.sign_form().await?;
    let authorised = r.authorise().await?;
    let new_key = r.generate()?;
    let issued = r.issue(&new_key, authorised.as_ref()).await?;
    let new_summary = r.verify(&issued, &new_key)?;
    let uri = r.install(&issued, &new_key, &new_summary)?;
    r.confirm(&issued, authorised.as_ref()).await?;
    let retired = r.retire(retire_old)?;
    r.journal.record.completed = true;
    r.journal.save()?;
    Ok(Outcome {
        token: r.token,
        role,
        uri,
        subject: new_summary.common_name,
        serial: new_summary.serial,
        not_before: new_summary.not_before,
        not_after: new_summary.not_after,
        replaced: r.old_summary.serial,
        retired,
        resumed: r.resumed,
    })
}

impl Rekey<'_, '_> {
    /// The contract accepted and the renewal form signed with the expiring key. Until kur
    /// is answered the RA's word counts, not the journal's: a request cancelled or
    /// expired since is signed again (a new one), a forwarded one is not.
    async fn sign_form(&mut self) -> Result<()> {
        let s = Step::SignForm;
        if self.journal.record.renewal_form.is_some() && self.journal.cert(self.role).certificate.is_some() {
            self.resumed = true;
            self.secrets.prompter.progress(&Progress::Resumed { step: s });
            return Ok(());
        }
        self.secrets.prompter.progress(&Progress::Started { step: s });
        self.journal.event(s, "started", None)?;
        let signed = form::sign(
            self.devices,
            &self.token,
            &mut self.secrets,
            &self.http,
            &self.old,
            &self.old_certificate,
            &self.old_summary,
        )
        .await;
        let id = match signed {
            Ok((id, true)) => {
                self.resumed = true;
                self.secrets.prompter.progress(&Progress::Resumed { step: s });
                self.journal.event(s, "resumed", None)?;
                id
            }
            other => step(self.secrets.prompter, &mut self.journal, s, other.map(|(id, _)| id))?,
        };
        self.journal.record.renewal_form = Some(id);
        self.journal.save()
    }

    /// The renewal request the form opened at the RA.
    fn renewal_id(&self) -> String {
        self.journal.record.renewal_form.clone().unwrap_or_default()
    }

    /// A fixed slot: overwriting it authorised with the old key while it is there (or,
    /// once it is gone, with the renewal code the holder received). None otherwise, or
    /// when the certificate was already confirmed.
    async fn authorise(&mut self) -> Result<Option<Authorised>> {
        if self.fixed_slot.is_none() {
            return Ok(None);
        }
        let s = Step::Authorise;
        if self.journal.cert(self.role).confirmed {
            self.secrets.prompter.progress(&Progress::Resumed { step: s });
            return Ok(None);
        }
        self.secrets.prompter.progress(&Progress::Started { step: s });
        self.journal.event(s, "started", None)?;
        let old_in_slot = self.journal.cert(self.role).key_id.is_none();
        let renewal_id = self.renewal_id();
        let card = form::OnCard {
            devices: self.devices,
            token: &self.token,
            old: &self.old,
            certificate: &self.old_certificate,
            summary: &self.old_summary,
        };
        let done =
            overwrite::authorise(card, &mut self.secrets, &self.http, &mut self.journal, &renewal_id, old_in_slot)
                .await;
        step(self.secrets.prompter, &mut self.journal, s, done).map(Some)
    }

    /// The new key pair, next to the old one (or in the old one's slot); its id journaled
    /// first, so that a run stopped during generation finds it.
    fn generate(&mut self) -> Result<KeyPairInfo> {
        let (role, token) = (self.role, self.token.clone());
        let s = Step::Generate { role };
        let known = self.journal.cert(role).clone();
        let algorithm = {
            let card = self.devices.with_token(&token, |t| Ok(Card::new(t).algorithms()))?;
            if card.contains(&self.old.algorithm) {
                self.old.algorithm
            } else {
                card.first().copied().unwrap_or(self.old.algorithm)
            }
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
            Some(key) if self.fixed_slot.is_some() => {
                overwrite::signs_as(self.devices, &token, &mut self.secrets, key)?
            }
            Some(key) => {
                self.devices
                    .with_token(&token, |t| Card::new(t).public_key(&hex::decode(&key.id).unwrap_or_default()))?
                    .as_deref()
                    == Some(key.public_key.as_slice())
            }
            None => false,
        };
        if let Some(key) = journaled.filter(|_| still_there) {
            self.resumed = true;
            self.secrets.prompter.progress(&Progress::Resumed { step: s });
            return Ok(key);
        }
        self.secrets.prompter.progress(&Progress::Started { step: s });
        // An id journaled by a run stopped during generation: the pair may be there.
        let id = self
            .fixed_slot
            .clone()
            .or_else(|| known.key_id.as_deref().map(|h| hex::decode(h).unwrap_or_default()))
            .unwrap_or_else(fresh_id);
        // In a fixed slot there is nothing to adopt: whatever is there is replaced (the
        // overwrite is authorised).
        let adopted = match self.fixed_slot {
            Some(_) => None,
            None => self.devices.with_token(&token, |t| Card::new(t).public_key(&id))?,
        };
        let c = self.journal.cert(role);
        c.key_id = Some(hex::encode(&id));
        c.algorithm = Some(algorithm);
        self.journal.event(s, "started", None)?;
        let in_slot = self.fixed_slot.is_some();
        let made = match adopted {
            Some(public_key) => Ok(KeyPairInfo {
                uri: String::new(),
                id: hex::encode(&id),
                label: String::new(),
                algorithm,
                public_key,
            }),
            None => {
                let devices = &mut *self.devices;
                self.secrets.retry(|secrets| {
                    devices.with_token(&token, |t| {
                        Card::new(t).make_key(secrets, Some(id.clone()), algorithm, "Rinnovo", in_slot)
                    })
                })
            }
        };
        let made = step(self.secrets.prompter, &mut self.journal, s, made)?;
        self.journal.cert(role).public_key = Some(hex::encode(&made.public_key));
        self.journal.save()?;
        Ok(made)
    }

    /// The certificate requested: kur, the request signed by the new key (POP) and the
    /// message by the old one; or, for a fixed slot, an `ir` MAC-protected with the
    /// renewal code. An answer journaled by an earlier run is taken as it is.
    async fn issue(&mut self, new_key: &KeyPairInfo, authorised: Option<&Authorised>) -> Result<Issued> {
        let s = Step::Issue { role: self.role };
        let so_far = self.journal.cert(self.role).clone();
        if let (Some(der), Some(t)) = (&so_far.certificate, &so_far.transaction) {
            self.resumed = true;
            self.secrets.prompter.progress(&Progress::Resumed { step: s });
            return Ok(Issued {
                certificate: hex::decode(der).unwrap_or_default(),
                extra_certs: so_far.chain.iter().map(|c| hex::decode(c).unwrap_or_default()).collect(),
                ca_pubs: Vec::new(),
                note: so_far.note.clone(),
                transaction: t.clone(),
            });
        }
        self.secrets.prompter.progress(&Progress::Started { step: s });
        self.journal.event(s, "started", None)?;
        let issuer = x509_parser::parse_x509_certificate(&self.old_certificate)
            .map(|(_, c)| (c.tbs_certificate.issuer.as_raw().to_vec(), c.tbs_certificate.raw_serial().to_vec()))
            .map_err(|e| Error::CertificateUntrusted { reason: e.to_string() })?;
        let spki = new_key.algorithm.spki(&new_key.public_key);
        let name = &self.old_summary.common_name;
        let request = match authorised {
            Some(_) => tessera_protocol::cmp::cert_request(0, &spki, name),
            None => tessera_protocol::cmp::renewal_request(0, &spki, name, &issuer.0, &issuer.1),
        };
        let (devices, token, secrets, old) = (&mut *self.devices, &self.token, &mut self.secrets, &self.old);
        let mut sign = |secrets: &mut Asked<'_>, key: &KeyPairInfo, data: &[u8]| {
            secrets.retry(|secrets| {
                devices.with_token(token, |t| {
                    Card::new(t).sign_with(secrets, key, |signer| {
                        signer.sign(data).map_err(|reason| tessera_core::Error::CsrFailed { reason })
                    })
                })
            })
        };
        let pop = match sign(secrets, new_key, &request) {
            Ok(p) => p,
            Err(e) => return step(secrets.prompter, &mut self.journal, s, Err(e)),
        };
        let algorithm = new_key.algorithm.signature_algorithm();
        let renewal_id = self.journal.record.renewal_form.clone().unwrap_or_default();
        let result = match authorised {
            Some(a) => {
                let exchange =
                    Exchange { http: &self.http, reference: &renewal_id, secret: a.code.as_bytes(), profile: None };
                exchange.initial(&request, &algorithm, &pop).await
            }
            None => {
                let old_algorithm = old.algorithm.signature_algorithm();
                let renewing = Renewing {
                    http: &self.http,
                    certificate: &self.old_certificate,
                    algorithm: &old_algorithm,
                    anchors: &self.anchors,
                };
                renewing.key_update(&request, &algorithm, &pop, |part| sign(secrets, old, part)).await
            }
        };
        let issued = step(secrets.prompter, &mut self.journal, s, result)?;
        let c = self.journal.cert(self.role);
        c.certificate = Some(hex::encode(&issued.certificate));
        c.transaction = Some(issued.transaction.clone());
        c.chain = issued.extra_certs.iter().map(hex::encode).collect();
        c.note = issued.note.clone();
        self.journal.save()?;
        Ok(issued)
    }

    /// The checks: the new key, the chain, a validity continuing from the old end.
    fn verify(&mut self, issued: &Issued, new_key: &KeyPairInfo) -> Result<CertificateSummary> {
        let s = Step::Verify { role: self.role };
        self.secrets.prompter.progress(&Progress::Started { step: s });
        let new_summary = CertificateSummary::parse(&issued.certificate, time::OffsetDateTime::now_utc())
            .map_err(|e| Error::RaAnswerMalformed { reason: e.to_string() });
        let checked = new_summary.and_then(|summary| {
            // Not valid yet is what a renewal before the old end looks like: not expired
            // will do.
            crate::chain::check_renewed(&issued.certificate, &new_key.public_key, &issued.extra_certs, &self.anchors)?;
            if summary.not_before != self.old_summary.not_after {
                return Err(Error::ValidityNotContinuing {
                    starts: summary.not_before.clone(),
                    ends: self.old_summary.not_after.clone(),
                });
            }
            Ok(summary)
        });
        step(self.secrets.prompter, &mut self.journal, s, checked)
    }

    /// Written next to the new key and read back; the middleware must show it (its cache
    /// for this card cleared, a fresh listing checked). The new certificate's URI.
    fn install(&mut self, issued: &Issued, new_key: &KeyPairInfo, new_summary: &CertificateSummary) -> Result<String> {
        let (role, token) = (self.role, self.token.clone());
        let s = Step::Install { role };
        let new_id = hex::decode(&new_key.id).unwrap_or_default();
        let on_card = self.devices.with_token(&token, |t| Card::new(t).certificate(&new_id))?;
        let uri = if on_card.as_deref() == Some(issued.certificate.as_slice()) {
            self.resumed = true;
            self.secrets.prompter.progress(&Progress::Resumed { step: s });
            self.devices.with_token(&token, |t| Ok(t.object_uri("", &new_id, "cert")))?
        } else {
            self.secrets.prompter.progress(&Progress::Started { step: s });
            self.journal.event(s, "started", None)?;
            let label = if role == Role::Signature { "Firma qualificata" } else { "Autenticazione CNS" };
            let in_slot = self.fixed_slot.is_some();
            let devices = &mut *self.devices;
            let written = self.secrets.retry(|secrets| {
                devices
                    .with_token(&token, |t| Card::new(t).install(secrets, &new_id, &issued.certificate, label, in_slot))
            });
            step(self.secrets.prompter, &mut self.journal, s, written)?
        };
        self.journal.cert(role).installed = true;
        self.journal.save()?;
        let card_serial = self.devices.with_token(&token, |t| Ok(t.serial.clone()))?;
        if let Ok(n) = tessera_core::clear_opensc_cache(&card_serial)
            && n > 0
        {
            tracing::info!(files = n, "OpenSC cache cleared for the renewed card");
        }
        let listed =
            self.devices.snapshot().tokens.iter().any(|t| {
                t.serial == card_serial && t.certificates.iter().any(|c| c.summary.serial == new_summary.serial)
            });
        if !listed {
            return Err(Error::Device(tessera_core::Error::ObjectNotFound { uri }));
        }
        Ok(uri)
    }

    /// certConf: signed with the old key (kur), or MAC-protected with the renewal code (a
    /// fixed slot's `ir`).
    async fn confirm(&mut self, issued: &Issued, authorised: Option<&Authorised>) -> Result<()> {
        let s = Step::Confirm { role: self.role };
        if self.journal.cert(self.role).confirmed {
            self.secrets.prompter.progress(&Progress::Resumed { step: s });
            return Ok(());
        }
        self.secrets.prompter.progress(&Progress::Started { step: s });
        let renewal_id = self.renewal_id();
        let (devices, token, secrets, old) = (&mut *self.devices, &self.token, &mut self.secrets, &self.old);
        let confirmed = match authorised {
            Some(a) => {
                let exchange =
                    Exchange { http: &self.http, reference: &renewal_id, secret: a.code.as_bytes(), profile: None };
                exchange.confirm(&issued.transaction, &issued.certificate, None).await
            }
            None => {
                let old_algorithm = old.algorithm.signature_algorithm();
                let renewing = Renewing {
                    http: &self.http,
                    certificate: &self.old_certificate,
                    algorithm: &old_algorithm,
                    anchors: &self.anchors,
                };
                renewing
                    .confirm(&issued.transaction, &issued.certificate, |part| {
                        secrets.retry(|secrets| {
                            devices.with_token(token, |t| {
                                Card::new(t).sign_with(secrets, old, |signer| {
                                    signer.sign(part).map_err(|reason| tessera_core::Error::CsrFailed { reason })
                                })
                            })
                        })
                    })
                    .await
            }
        };
        step(secrets.prompter, &mut self.journal, s, confirmed)?;
        self.journal.cert(self.role).confirmed = true;
        self.journal.save()
    }

    /// Only now the old key and certificate go, when asked (a fixed slot's are already
    /// gone: overwritten). Whether they are gone.
    fn retire(&mut self, retire_old: bool) -> Result<bool> {
        let s = Step::Retire { role: self.role };
        if retire_old && self.fixed_slot.is_none() {
            self.secrets.prompter.progress(&Progress::Started { step: s });
            let (devices, token, old_id) = (&mut *self.devices, &self.token, &self.old_id);
            let removed =
                self.secrets.retry(|secrets| devices.with_token(token, |t| Card::new(t).remove(secrets, old_id)));
            step(self.secrets.prompter, &mut self.journal, s, removed)?;
        }
        Ok(retire_old || self.fixed_slot.is_some())
    }
}
