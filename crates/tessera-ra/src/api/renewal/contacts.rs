//! Changing the holder's mobile or e-mail during a renewal (DOMAIN.md, Renewal): the change
//! is signed with the expiring key (a CAdES .p7m of a small JSON document naming the renewal
//! request and the new values), so only the holder can ask for it; a code goes to each new
//! contact, and only when they come back does the holder's record change and the renewal
//! form name the new contacts. A contact registered to another person is refused; an
//! e-mail the holder has no record for is the certificate's and cannot change here.
//! - `POST /api/v1/renewal/{serial}/contacts` `{id, signed_change}`
//! - `POST /api/v1/renewal/{serial}/contacts/confirm` `{id, mobile_code?, email_code?}`

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::renewal::{
    ConfirmContacts, ContactChange as Change, ContactsProposed, ProposeContacts, RenewalRequest,
};
use zeroize::Zeroizing;

use super::{answer_with, contacts, renewal_in, signed_by_holder};
use crate::api::{ApiError, ApiResult, JsonBody, Limited, SerialPath, internal};
use crate::gateway::{Channel, Message};
use crate::state::Ra;
use crate::store::{CONTACT_TRIES, ContactChange, Renewal};

/// How long the codes sent to new contacts are good for (seconds).
const CODE_SECONDS: i64 = 300;

fn mobile_ok(m: &str) -> bool {
    m.strip_prefix('+').is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

fn email_ok(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    e.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.chars().all(|c| c.is_ascii_graphic())
}

/// The renewal `id` of the certificate `serial`, waiting for its form.
async fn waiting(ra: &Ra, serial: &[u8], id: &str) -> ApiResult<Renewal> {
    renewal_in(ra, serial, id, "communicated", |state| Refusal::RenewalNotWaiting { state }).await
}

/// POST …/contacts: the signed change; a code to each new contact.
pub async fn propose(
    State(ra): State<Arc<Ra>>,
    Limited(client): Limited,
    SerialPath(serial): SerialPath,
    JsonBody(body): JsonBody<ProposeContacts>,
) -> ApiResult<Json<ContactsProposed>> {
    let renewal = waiting(&ra, &serial, &body.id).await?;
    let refused = |reason: &str| ApiError::from(Refusal::ContactSignatureRefused { reason: reason.to_string() });
    let content = signed_by_holder(&ra, client, &serial, &body.signed_change, |reason| {
        Refusal::ContactSignatureRefused { reason }
    })
    .await?;
    let change: Change = serde_json::from_slice(&content).map_err(|_| refused("not a contact change"))?;
    if change.renewal != renewal.id {
        return Err(refused("signed for another renewal request"));
    }
    let mobile = change.mobile.filter(|m| !m.is_empty());
    let email = change.email.filter(|e| !e.is_empty()).map(|e| e.to_lowercase());
    for (field, ok) in
        [("mobile", mobile.as_deref().is_none_or(mobile_ok)), ("email", email.as_deref().is_none_or(email_ok))]
    {
        if !ok {
            return Err(ApiError::from(Refusal::ContactInvalid { field: field.to_string() }));
        }
    }
    if mobile.is_none() && email.is_none() {
        return Err(ApiError::from(Refusal::ContactInvalid { field: "none".to_string() }));
    }
    let der = ra.store.certificate_der(&serial).await?.ok_or(ApiError::from(Refusal::UnknownCertificate {}))?;
    let (entry, _) = ra.store.by_certificate(&der, &serial).await?.ok_or(ApiError::from(Refusal::UnknownRenewal {}))?;
    let current = contacts(&ra, &entry).await?;
    if email.is_some() && !current.registered {
        // Without a holder record the e-mail is the certificate's (subject data).
        return Err(ApiError::from(Refusal::ContactInCertificate { field: "email".to_string() }));
    }
    // Registered to another person: refused (DOMAIN.md).
    let mut probe = current.record;
    probe.mobile = mobile.clone();
    probe.email = email.clone();
    if let Some(field) = ra.store.contact_of_another(&probe).await? {
        return Err(ApiError::from(Refusal::ContactTaken { field: field.to_string() }));
    }
    let mut change = ContactChange { mobile: mobile.clone(), email: email.clone(), ..Default::default() };
    let mut messages = Vec::new();
    if let Some(m) = &mobile {
        let code = crate::codes::otp().ok_or_else(|| internal("contact code"))?;
        change.mobile_code = Some(ra.store.code_index(&format!("{}:mobile", renewal.id), &code));
        let text = "Tessera: il codice per confermare il tuo nuovo cellulare è {secret}. Vale 5 minuti.";
        messages.push(Message::new(Channel::Sms, m, "Tessera: nuovo cellulare", text, &code));
    }
    if let Some(e) = &email {
        let code = crate::codes::otp().ok_or_else(|| internal("contact code"))?;
        change.email_code = Some(ra.store.code_index(&format!("{}:email", renewal.id), &code));
        let text = "Il codice per confermare la tua nuova e-mail per Tessera è {secret}. Vale 5 minuti.";
        messages.push(Message::new(Channel::Email, e, "Tessera: nuova e-mail", text, &code));
    }
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + CODE_SECONDS;
    if !ra.store.propose_contacts(&renewal.id, &change, expires).await? {
        return Err(ApiError::from(Refusal::RenewalNotWaiting { state: "changed".to_string() }));
    }
    for m in messages {
        if !ra.gateway.deliver(m).await {
            tracing::warn!(renewal = %renewal.id, "a code for a new contact could not be sent");
        }
    }
    Ok(Json(ContactsProposed {
        id: renewal.id,
        mobile: mobile.as_deref().map(crate::masked::mobile),
        email: email.as_deref().map(crate::masked::email),
        expires_in: CODE_SECONDS,
    }))
}

/// POST …/contacts/confirm: the codes back; the record changes and the form is made again.
pub async fn confirm(
    State(ra): State<Arc<Ra>>,
    Limited(client): Limited,
    SerialPath(serial): SerialPath,
    JsonBody(body): JsonBody<ConfirmContacts>,
) -> ApiResult<Json<RenewalRequest>> {
    let renewal = waiting(&ra, &serial, &body.id).await?;
    let change = ra.store.contact_change(&renewal.id).await?.ok_or(ApiError::from(Refusal::NoContactChange {}))?;
    // A try is taken before the codes are checked: five under any concurrency.
    let Some(left) = ra.store.take_contact_try(&renewal.id).await? else {
        return Err(ApiError::from(Refusal::ContactCodesSpent { tries: CONTACT_TRIES }));
    };
    let right = |field: &str, stored: &Option<String>, given: &Option<Zeroizing<String>>| match stored {
        None => true,
        Some(s) => given.as_ref().is_some_and(|g| ra.store.code_matches(&format!("{}:{field}", renewal.id), g, s)),
    };
    if !(right("mobile", &change.mobile_code, &body.mobile_code)
        && right("email", &change.email_code, &body.email_code))
    {
        ra.failed_from(client);
        return Err(ApiError::from(Refusal::ContactCodeWrong { tries_left: left }));
    }
    // The form again, naming the new contacts.
    let der = ra.store.certificate_der(&serial).await?.ok_or(ApiError::from(Refusal::UnknownCertificate {}))?;
    let now = time::OffsetDateTime::now_utc();
    let summary = tessera_pki::CertificateSummary::parse(&der, now).map_err(|_| internal("stored certificate"))?;
    let (entry, profile) =
        ra.store.by_certificate(&der, &serial).await?.ok_or(ApiError::from(Refusal::UnknownCertificate {}))?;
    // Taken by another person meanwhile (proposed and confirmed by both): refused.
    let mut record = contacts(&ra, &entry).await?.record;
    let mut probe = record.clone();
    probe.mobile = change.mobile.clone();
    probe.email = change.email.clone();
    if let Some(field) = ra.store.contact_of_another(&probe).await? {
        return Err(ApiError::from(Refusal::ContactTaken { field: field.to_string() }));
    }
    record.mobile = change.mobile.clone().or(record.mobile);
    record.email = change.email.clone().or(record.email);
    let text = super::form_of(&renewal.id, &entry, profile, &summary, &record, &renewal.contract_version, now.date());
    if !ra.store.apply_contacts(&renewal.id, &renewal.reference, &change, &text).await? {
        return Err(ApiError::from(Refusal::RenewalNotWaiting { state: "changed".to_string() }));
    }
    let updated = ra.store.renewal(&renewal.id).await?.unwrap_or(renewal);
    // The contacts as they are now (the request itself changed when there is no record).
    let entry = ra.store.by_certificate(&der, &serial).await?.map_or(entry, |(e, _)| e);
    Ok(answer_with(&updated, &ra, Some(&contacts(&ra, &entry).await?)))
}

#[cfg(test)]
mod tests {
    use super::{email_ok, mobile_ok};

    #[test]
    fn new_contacts_are_checked_for_shape() {
        assert!(mobile_ok("+393331234567") && !mobile_ok("3331234567") && !mobile_ok("+39 333") && !mobile_ok("+3"));
        assert!(email_ok("carla@nuova.example"));
        for bad in ["carla", "@x.it", "a@b", "a@.it", "a@b.", "a b@c.it", "a@b@c.it"] {
            assert!(!email_ok(bad), "{bad}");
        }
    }
}
