//! The renewal form (DOMAIN.md, Renewal): the RA's renewal request opened, the contract and
//! the form shown and accepted, then the form signed on the card with the expiring key as a
//! CAdES .p7m. The signature is checked here against the certificate before it is sent: it
//! is the test signature that shows the card's key is the certificate's.

use tessera_core::card::Card;
use tessera_core::devices::Devices;
use tessera_core::keys::KeyPairInfo;
use tessera_protocol::cades;
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::renewal::{ContactChange, Contacts, RenewalRequest};

use crate::prompter::{Progress, Question};
use crate::ra::http::Http;
use crate::ra::workflow;
use crate::secrets::Asked;
use crate::{Error, Result};

/// Sign the renewal form of the certificate `certificate` (DER) with its key `old`; the
/// id of the RA's renewal request, now forwarded, and whether it already was (signed by an
/// earlier run: nothing asked, nothing signed).
pub(super) async fn sign(
    devices: &mut Devices,
    token: &str,
    secrets: &mut Asked<'_>,
    http: &Http,
    old: &KeyPairInfo,
    certificate: &[u8],
    summary: &tessera_pki::CertificateSummary,
) -> Result<(String, bool)> {
    let mut request = workflow::renewal_start(http, &summary.serial).await?;
    if request.state == "forwarded" {
        // Signed by an earlier run (whose journal write may have been lost).
        return Ok((request.id, true));
    }
    let mut card = OnCard { devices, token, old, certificate, summary };
    if let Some(contacts) = request.contacts.clone() {
        request = edit_contacts(card.again(), secrets, http, request, &contacts).await?;
    }
    let question = Question::SignRenewalForm {
        form: request.form.clone(),
        contract_version: request.contract.version.clone(),
        contract: request.contract.text.clone(),
        policy: request.policy.clone(),
    };
    if !secrets.prompter.confirm(&question)? {
        return Err(Error::Cancelled);
    }
    let p7m = card.sign(secrets, request.form.as_bytes())?;
    let forwarded = workflow::renewal_sign(http, &summary.serial, &request, &p7m).await?;
    Ok((forwarded.id, false))
}

/// The expiring key on the card, and its certificate: what signs the holder's documents.
pub(super) struct OnCard<'a> {
    pub devices: &'a mut Devices,
    pub token: &'a str,
    pub old: &'a KeyPairInfo,
    pub certificate: &'a [u8],
    pub summary: &'a tessera_pki::CertificateSummary,
}

impl OnCard<'_> {
    fn again(&mut self) -> OnCard<'_> {
        OnCard {
            devices: self.devices,
            token: self.token,
            old: self.old,
            certificate: self.certificate,
            summary: self.summary,
        }
    }

    /// `content` signed on the card with the expiring key as a CAdES .p7m, and checked here
    /// against the certificate before it is sent.
    pub(super) fn sign(mut self, secrets: &mut Asked<'_>, content: &[u8]) -> Result<Vec<u8>> {
        let unusable = |e: tessera_protocol::Error| Error::RenewalKeyMismatch {
            certificate: self.summary.common_name.clone(),
            reason: e.to_string(),
        };
        let signing = cades::Signing::new(
            content,
            self.certificate,
            &self.old.algorithm.signature_algorithm(),
            time::OffsetDateTime::now_utc(),
        )
        .map_err(unusable)?;
        let to_be_signed = signing.to_be_signed().map_err(unusable)?;
        let (token, old) = (self.token, self.old);
        let devices = &mut self.devices;
        let signature = secrets.retry(|secrets| {
            devices.with_token(token, |t| {
                Card::new(t).sign_with(secrets, old, |signer| {
                    signer.sign(&to_be_signed).map_err(|reason| tessera_core::Error::CsrFailed { reason })
                })
            })
        })?;
        let p7m = signing.finish(&signature).map_err(unusable)?;
        cades::verify(&p7m, self.certificate).map_err(unusable)?;
        Ok(p7m)
    }
}

/// New contacts the holder typed (an empty answer keeps them).
#[derive(Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct NewContacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

/// The answer to [`Question::Contacts`], tidied: a number without its country code is
/// Italian (+39); an e-mail in lower case. None: keep the contacts.
fn new_contacts(answer: &str) -> Result<Option<NewContacts>> {
    if answer.trim().is_empty() {
        return Ok(None);
    }
    let given: NewContacts =
        serde_json::from_str(answer).map_err(|e| Error::Input { reason: format!("new contacts: {e}") })?;
    let mobile = given.mobile.map(|m| m.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>());
    let mobile = mobile.filter(|m| !m.is_empty()).map(|m| {
        if m.starts_with('+') {
            m
        } else if let Some(rest) = m.strip_prefix("00") {
            format!("+{rest}")
        } else {
            format!("+39{m}")
        }
    });
    let email = given.email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
    Ok((mobile.is_some() || email.is_some()).then_some(NewContacts { mobile, email }))
}

/// The holder's contacts shown, and changed if asked: the change signed with the expiring
/// key, then the code sent to each new contact typed back (asked again while wrong). A
/// contact another person has stops here, before the form, unless it is changed.
async fn edit_contacts(
    card: OnCard<'_>,
    secrets: &mut Asked<'_>,
    http: &Http,
    request: RenewalRequest,
    contacts: &Contacts,
) -> Result<RenewalRequest> {
    let question = Question::Contacts {
        mobile: contacts.mobile.clone(),
        email: contacts.email.clone(),
        email_editable: contacts.email_editable,
        conflict: contacts.conflict.clone(),
    };
    let Some(change) = new_contacts(&secrets.prompter.ask(&question)?)? else {
        return match &contacts.conflict {
            Some(field) => Err(Error::RaRefused(Refusal::ContactDataConflict { field: field.clone() })),
            None => Ok(request),
        };
    };
    if change.email.is_some() && !contacts.email_editable {
        return Err(Error::RaRefused(Refusal::ContactInCertificate { field: "email".into() }));
    }
    let document = ContactChange { renewal: request.id.clone(), mobile: change.mobile, email: change.email };
    let serial = card.summary.serial.clone();
    let p7m = card.sign(secrets, &serde_json::to_vec(&document).unwrap_or_default())?;
    let sent = workflow::renewal_contacts(http, &serial, &request, &p7m).await?;
    loop {
        let mut code = |channel: &str, to: &Option<String>| -> Result<Option<zeroize::Zeroizing<String>>> {
            to.as_ref()
                .map(|to| secrets.prompter.ask(&Question::ContactCode { channel: channel.into(), to: to.clone() }))
                .transpose()
        };
        let mobile_code = code("mobile", &sent.mobile)?;
        let email_code = code("email", &sent.email)?;
        let confirmed = workflow::renewal_contacts_confirm(
            http,
            &serial,
            &request,
            mobile_code.as_deref().map(String::as_str),
            email_code.as_deref().map(String::as_str),
        )
        .await;
        match confirmed {
            Ok(changed) => {
                if let Some(field) = changed.contacts.as_ref().and_then(|c| c.conflict.as_deref()) {
                    return Err(Error::RaRefused(Refusal::ContactDataConflict { field: field.to_owned() }));
                }
                return Ok(changed);
            }
            Err(Error::RaRefused(r @ Refusal::ContactCodeWrong { .. })) => {
                let event = Progress::Notice { code: format!("error-{}", r.code()), params: r.params() };
                secrets.prompter.progress(&event);
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{NewContacts, new_contacts};

    #[test]
    fn new_contacts_are_tidied_and_an_empty_answer_keeps_them() {
        assert_eq!(new_contacts("").unwrap(), None);
        assert_eq!(new_contacts(r#"{"mobile": " ", "email": ""}"#).unwrap(), None);
        let given = new_contacts(r#"{"mobile": "333 123-4567", "email": " Carla@Example.IT "}"#).unwrap();
        let want = NewContacts { mobile: Some("+393331234567".into()), email: Some("carla@example.it".into()) };
        assert_eq!(given, Some(want));
        assert_eq!(
            new_contacts(r#"{"mobile": "0041791234567"}"#).unwrap().unwrap().mobile.as_deref(),
            Some("+41791234567")
        );
        assert!(new_contacts(r#"{"phone": "1"}"#).is_err() && new_contacts("+39333").is_err());
    }
}
