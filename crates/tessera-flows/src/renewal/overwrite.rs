//! Renewing a fixed-slot card (PIV 9A/9C, OpenPGP's signature and authentication keys):
//! the new key can only take the old key's slot, so the old key cannot sign anything
//! afterwards. Before the slot is overwritten the renewal is therefore authorised with the
//! old key: the RA answers a renewal code (sent to the holder too) that completes the
//! renewal by MAC-protected CMP `ir` and `certConf`, with the old key or without it. The
//! code is never journaled: an interrupted run that no longer has it asks the holder for
//! it (the SMS), and the RA sends it again on request.

use tessera_core::devices::Devices;
use tessera_core::keys::KeyPairInfo;
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::renewal::OverwriteAuthorisation;
use zeroize::Zeroizing;

use super::form::OnCard;
use crate::journal::Journal;
use crate::prompter::{Progress, Question};
use crate::ra::http::Http;
use crate::ra::workflow;
use crate::secrets::Asked;
use crate::{Error, Result};

/// The holder's explicit choice before anything is signed (DOMAIN.md: nothing that loses a
/// key proceeds without it).
pub(super) fn choose(secrets: &mut Asked<'_>, token: &str, certificate: &str) -> Result<()> {
    let question = Question::ConfirmOverwrite { token: token.to_owned(), certificate: certificate.to_owned() };
    if secrets.prompter.confirm(&question)? { Ok(()) } else { Err(Error::Cancelled) }
}

/// The renewal code, in memory for this run only (the CMP secret, canonical form).
pub(super) struct Authorised {
    pub code: Zeroizing<String>,
}

/// Authorise the overwrite: signed by the old key while it is still in its slot
/// (`old_in_slot`), else with the renewal code the holder received, asked for (an empty
/// answer sends it again). The management key the RA holds for the card comes with it.
pub(super) async fn authorise(
    card: OnCard<'_>,
    secrets: &mut Asked<'_>,
    http: &Http,
    journal: &mut Journal,
    id: &str,
    old_in_slot: bool,
) -> Result<Authorised> {
    let serial = card.summary.serial.clone();
    let answer = if old_in_slot {
        let document = OverwriteAuthorisation { renewal: id.to_owned(), overwrite: true };
        let p7m = card.sign(secrets, &serde_json::to_vec(&document).unwrap_or_default())?;
        workflow::renewal_overwrite(http, &serial, id, Some(&p7m), None).await?
    } else {
        let mut to = journal.record.overwrite_sent_to.clone().unwrap_or_default();
        let mut resend_after = 0;
        loop {
            let typed = secrets.prompter.ask(&Question::RenewalCode { to: to.clone(), resend_after })?;
            if typed.trim().is_empty() {
                match workflow::renewal_overwrite_resend(http, &serial, id).await {
                    Ok(sent_to) => {
                        to = sent_to;
                        resend_after = 30;
                    }
                    Err(Error::RaRefused(r @ Refusal::CodeResendTooSoon { wait })) => {
                        resend_after = wait;
                        let notice = Progress::Notice { code: format!("error-{}", r.code()), params: r.params() };
                        secrets.prompter.progress(&notice);
                    }
                    Err(e) => return Err(e),
                }
                continue;
            }
            match workflow::renewal_overwrite(http, &serial, id, None, Some(&typed)).await {
                Ok(a) => break a,
                Err(Error::RaRefused(r @ (Refusal::RenewalCodeWrong {} | Refusal::RenewalCodeWait { .. }))) => {
                    let notice = Progress::Notice { code: format!("error-{}", r.code()), params: r.params() };
                    secrets.prompter.progress(&notice);
                }
                Err(e) => return Err(e),
            }
        }
    };
    if let Some(key) = answer.management_key {
        secrets.know_management_key(key);
    }
    journal.record.overwrite_authorised = true;
    journal.record.overwrite_sent_to = Some(answer.sent_to.clone());
    journal.save()?;
    Ok(Authorised { code: tessera_protocol::activation::canonical_code(&answer.code) })
}

/// Whether the key in the slot is `key`: a signature made there verifies with its public
/// key. (A PIV card shows no public key for a slot: what the journal says is checked so.)
pub(super) fn signs_as(devices: &mut Devices, token: &str, secrets: &mut Asked<'_>, key: &KeyPairInfo) -> Result<bool> {
    super::diagnostics::key_signs(devices, token, secrets, key)
}
