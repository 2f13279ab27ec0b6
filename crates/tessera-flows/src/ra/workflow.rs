//! The RA's workflow API (JSON, `/api/v1`), for what CMP does not carry: arming a request
//! by the holder (activation code + tax code, then the SMS OTP) or by an operator at the
//! counter (activation code, no OTP), and whose request it is.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::http::Http;
use crate::{Error, Result};

/// Whose request it is, as the RA registered it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize, ts_rs::TS)]
pub struct Holder {
    pub given_name: String,
    pub surname: String,
}

/// A request found by its activation code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Found {
    /// The CMP reference (senderKID).
    pub reference: String,
    pub holder: Holder,
    /// The RA's profile name: signature, cns-authentication, cns+signature.
    pub profile: String,
    /// Already armed for CMP (operator mode, or an earlier run that got that far).
    pub armed: bool,
    /// Holder mode, not yet armed: where the SMS went, and when another may be asked.
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub resend_after: Option<i64>,
    /// The session the SMS opened: the OTP is sent with it (the RA tries an OTP only
    /// inside it). Not a secret of the holder's, but not logged either.
    #[serde(default)]
    pub session: Option<String>,
}

fn malformed(e: serde_json::Error) -> Error {
    Error::RaAnswerMalformed { reason: e.to_string() }
}

/// Holder mode, step 1: code + tax code. The RA sends the OTP unless already armed.
pub async fn start(http: &Http, code: &str, tax_code: &str) -> Result<Found> {
    let v = http
        .json(Method::POST, "/api/v1/activation", None, Some(json!({ "activation_code": code, "tax_code": tax_code })))
        .await?;
    serde_json::from_value(v).map_err(malformed)
}

/// Holder mode, step 2: the OTP, in the session its SMS opened, arms the request.
pub async fn verify_otp(http: &Http, reference: &str, session: &str, otp: &str) -> Result<()> {
    let body = json!({ "otp": otp, "session": session });
    http.json(Method::POST, &format!("/api/v1/activation/{reference}/otp"), None, Some(body)).await.map(|_| ())
}

/// Holder mode: another SMS (refused by the RA within 30 s of the last one).
pub async fn resend(http: &Http, reference: &str, code: &str) -> Result<Found> {
    let v = http
        .json(
            Method::POST,
            &format!("/api/v1/activation/{reference}/resend"),
            None,
            Some(json!({ "activation_code": code })),
        )
        .await?;
    serde_json::from_value(v).map_err(malformed)
}

/// Operator mode: the operator arms the request the code belongs to.
pub async fn arm_at_counter(http: &Http, operator_token: &str, code: &str) -> Result<Found> {
    let v = http
        .json(
            Method::POST,
            "/api/v1/operator/activation",
            Some(operator_token),
            Some(json!({ "activation_code": code })),
        )
        .await?;
    serde_json::from_value(v).map_err(malformed)
}

/// A blank card's secrets, chosen by the RA for the request.
#[derive(Deserialize)]
pub struct CardSecrets {
    pub pin: zeroize::Zeroizing<String>,
    pub puk: zeroize::Zeroizing<String>,
    pub management_key: zeroize::Zeroizing<String>,
}

/// The card secrets of an armed request, released with its activation code; None from an
/// RA that does not choose them.
pub async fn card_secrets(http: &Http, reference: &str, code: &str) -> Result<Option<CardSecrets>> {
    let path = format!("/api/v1/activation/{reference}/personalisation");
    match http.json(Method::POST, &path, None, Some(json!({ "activation_code": code }))).await {
        Ok(v) => serde_json::from_value(v).map(Some).map_err(malformed),
        Err(Error::RaRefused { code, .. }) if code == "no-personalisation" => Ok(None),
        Err(e) => Err(e),
    }
}

/// What the RA says about renewing one of its certificates.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RenewalState {
    /// active, superseded (a confirmed renewal replaced it), suspended, revoked.
    pub state: String,
    pub renewable: bool,
    /// automatic, or approval (an operator approves the renewal afterwards).
    pub policy: String,
    /// The holder's mobile or e-mail ("mobile", "email") is registered to another person:
    /// renewal waits until it is changed.
    #[serde(default)]
    pub conflict: Option<String>,
}

/// The RA's word on renewing the certificate with this serial (hex, colons allowed); None
/// when the RA does not know it (another CA's certificate).
pub async fn renewal_state(http: &Http, serial: &str) -> Result<Option<RenewalState>> {
    let serial: String = serial.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    match http.json(Method::GET, &format!("/api/v1/renewal/{serial}"), None, None).await {
        Ok(v) => serde_json::from_value(v).map(Some).map_err(malformed),
        Err(Error::RaRefused { code, .. }) if code == "unknown-certificate" => Ok(None),
        Err(e) => Err(e),
    }
}

/// The contract a renewal accepts, as the RA words it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Contract {
    pub version: String,
    pub text: String,
}

/// A renewal request at the RA: communicated (the form waits for its signature) or
/// forwarded (signed: kur may go ahead).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RenewalRequest {
    pub id: String,
    pub state: String,
    /// The renewal form: the document signed, exactly as the RA made it.
    pub form: String,
    pub contract: Contract,
    pub policy: String,
    /// While it waits for the form.
    #[serde(default)]
    pub contacts: Option<Contacts>,
}

/// Open (or find) the renewal request of the certificate with this serial.
pub async fn renewal_start(http: &Http, serial: &str) -> Result<RenewalRequest> {
    let serial: String = serial.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let v = http.json(Method::POST, &format!("/api/v1/renewal/{serial}"), None, Some(json!({}))).await?;
    serde_json::from_value(v).map_err(malformed)
}

/// Send the renewal form signed on the card (CAdES .p7m), with the contract version shown.
pub async fn renewal_sign(
    http: &Http,
    serial: &str,
    request: &RenewalRequest,
    signed_form: &[u8],
) -> Result<RenewalRequest> {
    use base64::Engine;
    let serial: String = serial.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let body = json!({
        "id": request.id,
        "contract_version": request.contract.version,
        "signed_form": base64::engine::general_purpose::STANDARD.encode(signed_form),
    });
    let v = http.json(Method::POST, &format!("/api/v1/renewal/{serial}/form"), None, Some(body)).await?;
    serde_json::from_value(v).map_err(malformed)
}

/// The holder's contacts on a renewal request waiting for its form (masked), and which one
/// another person has (to be changed before the form can be signed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Contacts {
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// False when the e-mail is the certificate's (no holder record): it cannot change here.
    #[serde(default)]
    pub email_editable: bool,
    #[serde(default)]
    pub conflict: Option<String>,
}

/// A contact change the RA accepted: where the codes went (masked).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ContactsProposed {
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// Ask for new contacts with the change signed on the card (CAdES .p7m); the RA sends a
/// code to each new one.
pub async fn renewal_contacts(
    http: &Http,
    serial: &str,
    request: &RenewalRequest,
    signed_change: &[u8],
) -> Result<ContactsProposed> {
    use base64::Engine;
    let serial: String = serial.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let body = json!({
        "id": request.id,
        "signed_change": base64::engine::general_purpose::STANDARD.encode(signed_change),
    });
    let v = http.json(Method::POST, &format!("/api/v1/renewal/{serial}/contacts"), None, Some(body)).await?;
    serde_json::from_value(v).map_err(malformed)
}

/// The codes sent to the new contacts: the request again, its form naming them.
pub async fn renewal_contacts_confirm(
    http: &Http,
    serial: &str,
    request: &RenewalRequest,
    mobile_code: Option<&str>,
    email_code: Option<&str>,
) -> Result<RenewalRequest> {
    let serial: String = serial.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let body = json!({ "id": request.id, "mobile_code": mobile_code, "email_code": email_code });
    let v = http.json(Method::POST, &format!("/api/v1/renewal/{serial}/contacts/confirm"), None, Some(body)).await?;
    serde_json::from_value(v).map_err(malformed)
}

/// A fixed-slot card's renewal authorised at the RA: the renewal code (the CMP secret that
/// completes it without the old key; never journaled), where it was sent, and the card's
/// management key where the RA holds one.
#[derive(Deserialize)]
pub struct Overwrite {
    pub code: zeroize::Zeroizing<String>,
    pub sent_to: String,
    #[serde(default)]
    pub management_key: Option<zeroize::Zeroizing<String>>,
    pub resend_after: i64,
}

impl std::fmt::Debug for Overwrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overwrite").field("sent_to", &self.sent_to).finish_non_exhaustive()
    }
}

/// Authorise overwriting the slot: with the authorisation signed on the card by the old key
/// (CAdES .p7m), or with the renewal code typed back once the old key is gone.
pub async fn renewal_overwrite(
    http: &Http,
    serial: &str,
    id: &str,
    signed_authorisation: Option<&[u8]>,
    code: Option<&str>,
) -> Result<Overwrite> {
    use base64::Engine;
    let serial: String = serial.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let body = json!({
        "id": id,
        "signed_authorisation": signed_authorisation.map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
        "code": code,
    });
    let v = http.json(Method::POST, &format!("/api/v1/renewal/{serial}/overwrite"), None, Some(body)).await?;
    serde_json::from_value(v).map_err(malformed)
}

/// The renewal code to the holder again; where it went.
pub async fn renewal_overwrite_resend(http: &Http, serial: &str, id: &str) -> Result<String> {
    let serial: String = serial.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let body = json!({ "id": id });
    let v = http.json(Method::POST, &format!("/api/v1/renewal/{serial}/overwrite/resend"), None, Some(body)).await?;
    Ok(v["sent_to"].as_str().unwrap_or_default().to_owned())
}
