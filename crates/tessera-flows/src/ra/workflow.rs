//! The RA's workflow API (JSON, `/api/v1`), for what CMP does not carry: arming a request
//! by the holder (activation code + tax code, then the SMS OTP) or by an operator at the
//! counter (signed in: the holder's activation code, or the request's reference, no OTP),
//! whose request it is, and renewal's requests, forms
//! and authorisations. Bodies and answers are the wire types of
//! `tessera_protocol::workflow`; refusals come back as [`Error::RaRefused`].

use reqwest::Method;
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::activation::{Armed, CardSecrets, Found, Start, Verify, WithCode};
use tessera_protocol::workflow::counter::CounterRequest;
use tessera_protocol::workflow::renewal::{
    Authorise, CodeResent, ConfirmContacts, ContactsProposed, Overwrite, ProposeContacts, RenewalId, RenewalRequest,
    RenewalState, SignedForm,
};
use zeroize::Zeroizing;

use super::http::Http;
use crate::{Error, Result};

/// Whose request it is, as the RA registered it (shown in the window and in `--json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize, ts_rs::TS)]
pub struct Holder {
    pub given_name: String,
    pub surname: String,
}

impl From<tessera_protocol::workflow::HolderName> for Holder {
    fn from(h: tessera_protocol::workflow::HolderName) -> Holder {
        Holder { given_name: h.given_name, surname: h.surname }
    }
}

fn code(text: &str) -> Zeroizing<String> {
    Zeroizing::new(text.to_owned())
}

/// A serial as the RA's paths take it: hex digits only.
fn hex_serial(serial: &str) -> String {
    serial.chars().filter(|c| c.is_ascii_hexdigit()).collect()
}

fn p7m(der: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// Holder mode, step 1: code + tax code (and the request a link named, which the code
/// must be for). The RA sends the OTP unless already armed.
pub async fn start(http: &Http, activation_code: &str, tax_code: &str, link: Option<&str>) -> Result<Found> {
    let body = Start {
        activation_code: code(activation_code),
        tax_code: tax_code.to_owned(),
        reference: link.map(str::to_owned),
    };
    http.call(Method::POST, "/api/v1/activation", None, Some(&body)).await
}

/// Holder mode, step 2: the OTP, in the session its SMS opened, arms the request.
pub async fn verify_otp(http: &Http, reference: &str, session: &str, otp: &str) -> Result<()> {
    let body = Verify { otp: code(otp), session: code(session) };
    let _: Armed = http.call(Method::POST, &format!("/api/v1/activation/{reference}/otp"), None, Some(&body)).await?;
    Ok(())
}

/// Holder mode: another SMS (refused by the RA within 30 s of the last one).
pub async fn resend(http: &Http, reference: &str, activation_code: &str) -> Result<Found> {
    let body = WithCode { activation_code: code(activation_code), reference: None };
    http.call(Method::POST, &format!("/api/v1/activation/{reference}/resend"), None, Some(&body)).await
}

/// Operator mode (`operator`: the bearer token of the operator's session): the operator
/// arms the request the holder's code belongs to.
pub async fn arm_at_counter(http: &Http, operator: &str, activation_code: &str) -> Result<Found> {
    let body = WithCode { activation_code: code(activation_code), reference: None };
    http.call(Method::POST, "/api/v1/operator/activation", Some(operator), Some(&body)).await
}

/// At the counter, by reference: whose request it is (of the operator's office, ready to
/// activate), before anything is armed.
pub async fn counter_request(http: &Http, operator: &str, reference: &str) -> Result<CounterRequest> {
    let path = format!("/api/v1/operator/requests/{}/counter", path_segment(reference));
    http.call::<(), _>(Method::GET, &path, Some(operator), None).await
}

/// At the counter, by reference: the RA arms the request and answers the one-time CMP
/// secret of this arming.
pub async fn counter_arm(http: &Http, operator: &str, reference: &str) -> Result<(Found, Zeroizing<String>)> {
    let path = format!("/api/v1/operator/requests/{}/counter", path_segment(reference));
    let armed: CounterRequest = http.call::<(), _>(Method::POST, &path, Some(operator), None).await?;
    let secret = armed.secret.ok_or_else(|| Error::RaAnswerMalformed { reason: "an arming without secret".into() })?;
    let found = Found {
        reference: armed.reference,
        holder: armed.holder,
        profile: armed.profile,
        armed: true,
        mobile: None,
        otp_expires_in: None,
        resend_after: None,
        session: None,
    };
    Ok((found, secret))
}

/// At the counter: a blank card's secrets, to the operator who armed the request; None
/// from an RA that does not choose them.
pub async fn counter_card_secrets(http: &Http, operator: &str, reference: &str) -> Result<Option<CardSecrets>> {
    let path = format!("/api/v1/operator/requests/{}/personalisation", path_segment(reference));
    match http.call::<(), _>(Method::POST, &path, Some(operator), None).await {
        Ok(secrets) => Ok(Some(secrets)),
        Err(Error::RaRefused(Refusal::NoPersonalisation {})) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A reference as one path segment, form-encoded (the flow checks references first:
/// letters, digits, `-`, `_`, `.`, never only dots; this keeps anything else from
/// reaching another route).
fn path_segment(reference: &str) -> String {
    url::form_urlencoded::byte_serialize(reference.as_bytes()).collect()
}

/// The card secrets of an armed request, released with its activation code; None from an
/// RA that does not choose them.
pub async fn card_secrets(http: &Http, reference: &str, activation_code: &str) -> Result<Option<CardSecrets>> {
    let path = format!("/api/v1/activation/{reference}/personalisation");
    let body = WithCode { activation_code: code(activation_code), reference: None };
    match http.call(Method::POST, &path, None, Some(&body)).await {
        Ok(secrets) => Ok(Some(secrets)),
        Err(Error::RaRefused(Refusal::NoPersonalisation {})) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The RA's word on renewing the certificate with this serial (hex, colons allowed); None
/// when the RA does not know it (another CA's certificate).
pub async fn renewal_state(http: &Http, serial: &str) -> Result<Option<RenewalState>> {
    match http.call::<(), _>(Method::GET, &format!("/api/v1/renewal/{}", hex_serial(serial)), None, None).await {
        Ok(state) => Ok(Some(state)),
        Err(Error::RaRefused(Refusal::UnknownCertificate {})) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Open (or find) the renewal request of the certificate with this serial.
pub async fn renewal_start(http: &Http, serial: &str) -> Result<RenewalRequest> {
    http.call(Method::POST, &format!("/api/v1/renewal/{}", hex_serial(serial)), None, Some(&serde_json::json!({})))
        .await
}

/// Send the renewal form signed on the card (CAdES .p7m), with the contract version shown.
pub async fn renewal_sign(
    http: &Http,
    serial: &str,
    request: &RenewalRequest,
    signed_form: &[u8],
) -> Result<RenewalRequest> {
    let body = SignedForm {
        id: request.id.clone(),
        contract_version: request.contract.version.clone(),
        signed_form: p7m(signed_form),
    };
    http.call(Method::POST, &format!("/api/v1/renewal/{}/form", hex_serial(serial)), None, Some(&body)).await
}

/// Ask for new contacts with the change signed on the card (CAdES .p7m); the RA sends a
/// code to each new one.
pub async fn renewal_contacts(
    http: &Http,
    serial: &str,
    request: &RenewalRequest,
    signed_change: &[u8],
) -> Result<ContactsProposed> {
    let body = ProposeContacts { id: request.id.clone(), signed_change: p7m(signed_change) };
    http.call(Method::POST, &format!("/api/v1/renewal/{}/contacts", hex_serial(serial)), None, Some(&body)).await
}

/// The codes sent to the new contacts: the request again, its form naming them.
pub async fn renewal_contacts_confirm(
    http: &Http,
    serial: &str,
    request: &RenewalRequest,
    mobile_code: Option<&str>,
    email_code: Option<&str>,
) -> Result<RenewalRequest> {
    let body = ConfirmContacts {
        id: request.id.clone(),
        mobile_code: mobile_code.map(code),
        email_code: email_code.map(code),
    };
    let path = format!("/api/v1/renewal/{}/contacts/confirm", hex_serial(serial));
    http.call(Method::POST, &path, None, Some(&body)).await
}

/// Authorise overwriting the slot: with the authorisation signed on the card by the old key
/// (CAdES .p7m), or with the renewal code typed back once the old key is gone.
pub async fn renewal_overwrite(
    http: &Http,
    serial: &str,
    id: &str,
    signed_authorisation: Option<&[u8]>,
    renewal_code: Option<&str>,
) -> Result<Overwrite> {
    let body = Authorise {
        id: id.to_owned(),
        signed_authorisation: signed_authorisation.map(p7m),
        code: renewal_code.map(code),
    };
    http.call(Method::POST, &format!("/api/v1/renewal/{}/overwrite", hex_serial(serial)), None, Some(&body)).await
}

/// The renewal code to the holder again; where it went.
pub async fn renewal_overwrite_resend(http: &Http, serial: &str, id: &str) -> Result<String> {
    let path = format!("/api/v1/renewal/{}/overwrite/resend", hex_serial(serial));
    let sent: CodeResent = http.call(Method::POST, &path, None, Some(&RenewalId { id: id.to_owned() })).await?;
    Ok(sent.sent_to)
}
