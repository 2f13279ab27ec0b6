//! One certificate of the profile, from key pair to certConf: the key pair the journal
//! names (made by an earlier run, or being made when it stopped) or a new one under an id
//! recorded first; the CMP ir signed on the card; the checks on what came back; the
//! certificate written next to its key and read back; certConf. Each step resumes what an
//! earlier run did.

use tessera_core::card::{Card, Role};
use tessera_pki::KeyAlgorithm;

use super::{Activation, Installed, label, step};
use crate::journal::Journal;
use crate::prompter::{Progress, Step};
use crate::ra::cmp::{Exchange, Issued};
use crate::secrets::Asked;
use crate::{Error, Result, chain};

fn key_info(id: &str, algorithm: KeyAlgorithm, public_key: Vec<u8>, role: Role) -> tessera_core::keys::KeyPairInfo {
    tessera_core::keys::KeyPairInfo {
        uri: String::new(),
        id: id.to_owned(),
        label: label(role).into(),
        algorithm,
        public_key,
    }
}

/// A fresh CKA_ID for a token without fixed slots: 8 random bytes.
fn fresh_id() -> Vec<u8> {
    let mut id = vec![0u8; 8];
    getrandom::getrandom(&mut id).expect("the OS random source");
    id
}

impl Activation<'_> {
    /// The token among `token` and its siblings (the same card in the same reader) that
    /// shows the key pair `id`, with its public key; `token` itself when none does.
    fn key_token(&mut self, token: &str, id: &[u8]) -> Result<(String, Option<Vec<u8>>)> {
        if let Some(pk) = self.devices.with_token(token, |t| Card::new(t).public_key(id))? {
            return Ok((token.to_owned(), Some(pk)));
        }
        let (reader, serial) = self.devices.with_token(token, |t| Ok((t.reader.clone(), t.serial.clone())))?;
        let Some(reader) = reader else { return Ok((token.to_owned(), None)) };
        let siblings: Vec<String> = self
            .devices
            .snapshot()
            .tokens
            .into_iter()
            .filter(|t| t.reader.as_deref() == Some(reader.as_str()) && t.serial == serial)
            .map(|t| t.uri)
            .filter(|uri| uri != token)
            .collect();
        for sibling in siblings {
            if let Ok(Some(pk)) = self.devices.with_token(&sibling, |t| Card::new(t).public_key(id)) {
                return Ok((sibling, Some(pk)));
            }
        }
        Ok((token.to_owned(), None))
    }

    /// The key pair (the first step): the one an earlier run made, if it is still on the
    /// card; and the token that shows it.
    fn key_pair(
        &mut self,
        secrets: &mut Asked<'_>,
        journal: &mut Journal,
        token: &str,
        role: Role,
        algorithm: KeyAlgorithm,
    ) -> Result<(tessera_core::keys::KeyPairInfo, String)> {
        let s = Step::Generate { role };
        let known = journal.record.certificates.get(&role).cloned().unwrap_or_default();
        let reuse = match (&known.key_id, &known.public_key, known.algorithm) {
            (Some(id), Some(pk), Some(alg)) => {
                let on_card = self
                    .devices
                    .with_token(token, |t| Card::new(t).public_key(&hex::decode(id).unwrap_or_default()))?;
                // PIV keys are invisible to the middleware until their certificate is
                // written: the request signature below proves the key is still there.
                match on_card {
                    Some(found) if found != hex::decode(pk).unwrap_or_default() => None,
                    _ => Some(key_info(id, alg, hex::decode(pk).unwrap_or_default(), role)),
                }
            }
            // An earlier run stopped while generating: adopt the pair if it got made.
            (Some(id), None, Some(alg)) => match self.key_token(token, &hex::decode(id).unwrap_or_default())? {
                (_, Some(pk)) => Some(key_info(id, alg, pk, role)),
                (_, None) => None,
            },
            _ => None,
        };
        let key = match reuse {
            Some(k) => {
                secrets.prompter.progress(&Progress::Resumed { step: s });
                let c = journal.cert(role);
                c.public_key = Some(hex::encode(&k.public_key));
                journal.save()?;
                k
            }
            None => {
                secrets.prompter.progress(&Progress::Started { step: s });
                // The id first, in the journal: a run stopped during generation finds the
                // pair under it (a card's fixed slot for the role, or fresh random bytes).
                let fixed = self.devices.with_token(token, |t| Ok(Card::new(t).role_id(role)))?;
                let id = match (known.key_id.as_deref(), fixed) {
                    (_, Some(slot)) => slot,
                    (Some(id), None) => hex::decode(id).unwrap_or_default(),
                    (None, None) => fresh_id(),
                };
                let c = journal.cert(role);
                *c = Default::default();
                c.key_id = Some(hex::encode(&id));
                c.algorithm = Some(algorithm);
                journal.event(s, "started", None)?;
                let made = secrets.retry(|secrets| {
                    self.devices
                        .with_token(token, |t| Card::new(t).generate(secrets, Some(id.clone()), algorithm, label(role)))
                });
                let made = step(secrets.prompter, None, s, made)?;
                journal.cert(role).public_key = Some(hex::encode(&made.public_key));
                journal.event(s, "done", None)?;
                made
            }
        };
        let key_id = hex::decode(&key.id).unwrap_or_default();
        // The public key as a fresh view of the card shows it (some middleware hands back
        // stale attributes in the session that made the key), on the token that shows it:
        // a card may appear as several tokens (OpenSC's OpenPGP card: the signature key on
        // one, the others on another). PIV keys stay invisible until their certificate is in.
        let (key_token, fresh) = self.key_token(token, &key_id)?;
        let key = match fresh {
            Some(public_key) if public_key != key.public_key => {
                journal.cert(role).public_key = Some(hex::encode(&public_key));
                journal.save()?;
                tessera_core::keys::KeyPairInfo { public_key, ..key }
            }
            _ => key,
        };
        Ok((key, key_token))
    }

    /// The certificate: the one already received, or a CMP ir signed on the card.
    #[allow(clippy::too_many_arguments)]
    async fn issue(
        &mut self,
        secrets: &mut Asked<'_>,
        journal: &mut Journal,
        key_token: &str,
        role: Role,
        key: &tessera_core::keys::KeyPairInfo,
        exchange: &Exchange<'_>,
        subject_cn: &str,
    ) -> Result<Issued> {
        let s = Step::Issue { role };
        let so_far = journal.cert(role).clone();
        let issued = match (&so_far.certificate, &so_far.transaction) {
            (Some(der), Some(t)) => {
                secrets.prompter.progress(&Progress::Resumed { step: s });
                Issued {
                    certificate: hex::decode(der).unwrap_or_default(),
                    extra_certs: so_far.chain.iter().map(|c| hex::decode(c).unwrap_or_default()).collect(),
                    ca_pubs: so_far.ca_pubs.iter().map(|c| hex::decode(c).unwrap_or_default()).collect(),
                    note: so_far.note.clone(),
                    transaction: t.clone(),
                }
            }
            _ => {
                secrets.prompter.progress(&Progress::Started { step: s });
                journal.event(s, "started", None)?;
                let spki = key.algorithm.spki(&key.public_key);
                let cert_request = tessera_protocol::cmp::cert_request(0, &spki, subject_cn);
                let signed = secrets.retry(|secrets| {
                    self.devices.with_token(key_token, |t| {
                        Card::new(t).sign_with(secrets, key, |signer| {
                            let signature = signer
                                .sign(&cert_request)
                                .map_err(|reason| tessera_core::Error::CsrFailed { reason })?;
                            // The card's signature must verify under the key we think it has.
                            tessera_protocol::signature::verify(
                                &spki,
                                &tessera_protocol::signature::algorithm_oid(&key.algorithm.signature_algorithm())
                                    .unwrap_or_default(),
                                &cert_request,
                                &signature,
                            )
                            .map_err(|_| tessera_core::Error::KeyNotFound { uri: key.uri.clone() })?;
                            Ok(signature)
                        })
                    })
                });
                let signed = match signed {
                    Ok(s) => s,
                    Err(e) => return step(secrets.prompter, Some(journal), s, Err(e)),
                };
                let result = exchange.initial(&cert_request, &key.algorithm.signature_algorithm(), &signed).await;
                let issued = step(secrets.prompter, Some(journal), s, result)?;
                let c = journal.cert(role);
                c.certificate = Some(hex::encode(&issued.certificate));
                c.transaction = Some(issued.transaction.clone());
                c.chain = issued.extra_certs.iter().map(hex::encode).collect();
                c.ca_pubs = issued.ca_pubs.iter().map(hex::encode).collect();
                c.note = issued.note.clone();
                journal.save()?;
                issued
            }
        };
        Ok(issued)
    }

    /// The certificate written next to its key (unless an earlier run did), and read
    /// back: its URI, and whether an earlier run had written it.
    fn install(
        &mut self,
        secrets: &mut Asked<'_>,
        journal: &mut Journal,
        key_token: &str,
        role: Role,
        key_id: &[u8],
        issued: &Issued,
    ) -> Result<(String, bool)> {
        let s = Step::Install { role };
        let on_card = self.devices.with_token(key_token, |t| Card::new(t).certificate(key_id))?;
        let resumed = on_card.as_deref() == Some(issued.certificate.as_slice());
        let uri = if resumed {
            secrets.prompter.progress(&Progress::Resumed { step: s });
            self.devices.with_token(key_token, |t| Ok(t.object_uri("", key_id, "cert")))?
        } else {
            secrets.prompter.progress(&Progress::Started { step: s });
            journal.event(s, "started", None)?;
            let written = secrets.retry(|secrets| {
                self.devices.with_token(key_token, |t| {
                    Card::new(t).install(secrets, key_id, &issued.certificate, label(role), false)
                })
            });
            step(secrets.prompter, Some(journal), s, written)?
        };
        journal.cert(role).installed = true;
        journal.save()?;
        Ok((uri, resumed))
    }

    /// One certificate of the profile, from key pair to certConf, resuming what the
    /// journal says is done.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn enroll(
        &mut self,
        secrets: &mut Asked<'_>,
        journal: &mut Journal,
        token: &str,
        role: Role,
        algorithm: KeyAlgorithm,
        exchange: &Exchange<'_>,
        anchors: &[Vec<u8>],
        subject_cn: &str,
    ) -> Result<Installed> {
        let (key, key_token) = self.key_pair(secrets, journal, token, role, algorithm)?;
        let key_id = hex::decode(&key.id).unwrap_or_default();
        let issued = self.issue(secrets, journal, &key_token, role, &key, exchange, subject_cn).await?;
        verify(secrets, journal, role, &key, &issued, exchange, anchors).await?;
        let (uri, resumed) = self.install(secrets, journal, &key_token, role, &key_id, &issued)?;
        // 5. certConf.
        let s = Step::Confirm { role };
        if journal.cert(role).confirmed {
            secrets.prompter.progress(&Progress::Resumed { step: s });
        } else {
            secrets.prompter.progress(&Progress::Started { step: s });
            let confirmed = exchange.confirm(&issued.transaction, &issued.certificate, None).await;
            step(secrets.prompter, Some(journal), s, confirmed)?;
            journal.cert(role).confirmed = true;
            journal.save()?;
        }

        let summary = tessera_pki::CertificateSummary::parse(&issued.certificate, time::OffsetDateTime::now_utc())
            .map_err(|e| Error::RaAnswerMalformed { reason: e.to_string() })?;
        let suspended = issued.note.as_deref().is_some_and(|n| n.starts_with("issued-suspended"));
        Ok(Installed {
            role,
            uri,
            subject: summary.subject,
            common_name: summary.common_name,
            holder_cf: summary.holder_cf,
            serial: summary.serial,
            not_before: summary.not_before,
            not_after: summary.not_after,
            suspended,
            note: issued.note,
            resumed,
        })
    }
}

/// The checks: for our key, chained to the RA's CA. Refused in certConf if not.
async fn verify(
    secrets: &mut Asked<'_>,
    journal: &mut Journal,
    role: Role,
    key: &tessera_core::keys::KeyPairInfo,
    issued: &Issued,
    exchange: &Exchange<'_>,
    anchors: &[Vec<u8>],
) -> Result<()> {
    let s = Step::Verify { role };
    secrets.prompter.progress(&Progress::Started { step: s });
    // Without a configured anchor: the caPubs of the answer, which the activation code
    // authenticated (RFC 9483 4.1.1). The RA's published CA certificates (genm) only
    // when the answer's chain is not enough.
    let trust = if anchors.is_empty() { issued.ca_pubs.clone() } else { anchors.to_vec() };
    let mut checked = chain::check(&issued.certificate, &key.public_key, &issued.extra_certs, &trust);
    if matches!(checked, Err(Error::CertificateUntrusted { .. }))
        && let Ok(published) = exchange.ca_certificates().await
    {
        let trust = if anchors.is_empty() { published.clone() } else { anchors.to_vec() };
        let mut chain = issued.extra_certs.clone();
        chain.extend(published);
        checked = chain::check(&issued.certificate, &key.public_key, &chain, &trust);
    }
    if let Err(e) = &checked {
        let reason = e.to_string();
        let _ = exchange.confirm(&issued.transaction, &issued.certificate, Some(&reason)).await;
        let c = journal.cert(role);
        c.certificate = None;
        c.transaction = None;
        journal.save()?;
    }
    step(secrets.prompter, Some(journal), s, checked)?;
    Ok(())
}
