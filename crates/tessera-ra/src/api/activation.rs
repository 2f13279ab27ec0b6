//! The holder's activation API: activation code + tax code -> an OTP by SMS to the
//! registered mobile -> OTP verified in the session its SMS opened -> the request's CMP
//! reference is armed. A new SMS after 30 seconds; five wrong codes or OTPs lock the
//! request. A blank card's PIN and PUK are released with the activation code.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::HolderName;
use tessera_protocol::workflow::activation::{Armed, CardSecrets, Found, Start, Verify, WithCode};

use super::{ApiResult, JsonBody, Limited, internal};
use crate::config::OtpTimes;
use crate::gateway::{Channel, Message};
use crate::registry::{Entry, Issuance};
use crate::state::Ra;

/// Whose request it is, armed; `mobile`: the OTP just went there instead.
pub fn found(entry: &Entry, mobile: Option<&str>, otp: OtpTimes) -> Found {
    let h = &entry.request.holder;
    Found {
        reference: entry.request.reference.clone(),
        holder: HolderName { given_name: h.given_name.clone(), surname: h.surname.clone() },
        profile: entry.request.profile.name().to_owned(),
        armed: mobile.is_none(),
        mobile: mobile.map(crate::masked::mobile),
        otp_expires_in: mobile.map(|_| otp.ttl_seconds),
        resend_after: mobile.map(|_| otp.resend_after_seconds),
        session: None,
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The request an activation code belongs to, which must be `reference` when given; a
/// wrong code slows its source down (anyone who knows a reference could send one).
async fn by_code(ra: &Ra, client: std::net::IpAddr, code: &str, reference: Option<&str>) -> ApiResult<Entry> {
    match ra.store.by_code(code).await? {
        Some(e) if reference.is_none_or(|r| r == e.request.reference) => Ok(e),
        _ => {
            ra.failed_from(client);
            Err(Refusal::ActivationRefused { tries_left: None }.into())
        }
    }
}

fn unlocked(entry: Entry) -> ApiResult<Entry> {
    if entry.locked() { Err(Refusal::RequestLocked {}.into()) } else { Ok(entry) }
}

/// Make, store and send an OTP; the session it opens (the OTP is tried only with it).
async fn send(ra: &Ra, reference: &str, code: &str, mobile: &str) -> ApiResult<String> {
    let otp = crate::codes::otp().ok_or_else(|| internal("OTP"))?;
    let session = crate::codes::random_chars(26).ok_or_else(|| internal("session"))?;
    let sms = Message::new(
        Channel::Sms,
        mobile,
        "",
        "Tessera: il codice di conferma per la tua attivazione è {secret}. Scade tra 5 minuti. Non comunicarlo a nessuno.",
        &otp,
    );
    ra.store.send_otp(reference, code, &otp, &session, &sms, ra.otp.ttl_seconds).await?;
    if !ra.gateway.deliver(sms).await {
        return Err(Refusal::SmsGatewayFailed {}.into());
    }
    Ok(session)
}

/// Take one of the request's tries before its secret is checked (five under any
/// concurrency); `right`: whether it was right, given back then. A wrong one is recorded.
async fn try_secret(ra: &Ra, reference: &str, what: &str, right: bool) -> ApiResult<()> {
    let Some(left) = ra.store.take_try(reference).await? else { return Err(Refusal::RequestLocked {}.into()) };
    if right {
        ra.store.give_back_try(reference).await?;
        return Ok(());
    }
    ra.store.wrong_secret(reference, what, left).await?;
    Err(match (left, what) {
        (0, _) => Refusal::RequestLocked {},
        (_, "otp-wrong") => Refusal::OtpWrong { tries_left: left },
        _ => Refusal::ActivationRefused { tries_left: Some(left) },
    }
    .into())
}

/// POST /api/v1/activation
pub async fn start(
    State(ra): State<Arc<Ra>>,
    Limited(client): Limited,
    JsonBody(body): JsonBody<Start>,
) -> ApiResult<Json<Found>> {
    let entry = unlocked(by_code(&ra, client, &body.activation_code, body.reference.as_deref()).await?)?;
    let reference = entry.request.reference.clone();
    // The code is right: which half was wrong is not said.
    try_secret(&ra, &reference, "activation-refused", entry.request.holder.identity_matches(&body.tax_code)).await?;
    if entry.issuance == Issuance::Confirmed {
        return Err(Refusal::AlreadyIssued { reference: Some(reference) }.into());
    }
    if entry.request.armed {
        // Armed before (an interrupted activation run again): nothing to send.
        return Ok(Json(found(&entry, None, ra.otp)));
    }
    let mobile = entry.request.mobile.clone().ok_or(Refusal::NoMobile {})?;
    let session = send(&ra, &reference, &body.activation_code, &mobile).await?;
    Ok(Json(Found { session: Some(session), ..found(&entry, Some(&mobile), ra.otp) }))
}

/// POST /api/v1/activation/{reference}/otp
pub async fn verify(
    State(ra): State<Arc<Ra>>,
    Limited(client): Limited,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<Verify>,
) -> ApiResult<Json<Armed>> {
    let entry = ra.store.request(reference.as_bytes()).await?.ok_or(Refusal::UnknownRequest {})?;
    unlocked(entry)?;
    // Only inside the session the SMS opened: without it, nothing is tried or counted.
    if !ra.store.otp_session(&reference, body.session.trim()).await? {
        ra.failed_from(client);
        return Err(Refusal::ActivationSessionInvalid {}.into());
    }
    let (hash, _, expires) = ra.store.otp(&reference).await?.ok_or(Refusal::NoOtp {})?;
    if now() > expires {
        return Err(Refusal::OtpExpired {}.into());
    }
    try_secret(&ra, &reference, "otp-wrong", ra.store.otp_matches(&reference, body.otp.trim(), &hash)).await?;
    let by = crate::store::audit::Event { actor: "holder", address: Some(&client.to_string()), ..Default::default() };
    ra.store.arm(&reference, &by, None).await?;
    Ok(Json(Armed { reference, armed: true }))
}

/// POST /api/v1/activation/{reference}/resend
pub async fn resend(
    State(ra): State<Arc<Ra>>,
    Limited(client): Limited,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<WithCode>,
) -> ApiResult<Json<Found>> {
    let entry = unlocked(by_code(&ra, client, &body.activation_code, Some(&reference)).await?)?;
    let (_, sent, _) = ra.store.otp(&reference).await?.ok_or(Refusal::NoOtp {})?;
    if now() - sent < ra.otp.resend_after_seconds {
        return Err(Refusal::OtpResendTooSoon { wait: ra.otp.resend_after_seconds - (now() - sent) }.into());
    }
    let mobile = entry.request.mobile.clone().ok_or(Refusal::NoMobile {})?;
    let session = send(&ra, &reference, &body.activation_code, &mobile).await?;
    Ok(Json(Found { session: Some(session), ..found(&entry, Some(&mobile), ra.otp) }))
}

/// POST /api/v1/activation/{reference}/personalisation: the card's PIN, PUK and PIV
/// management key, for the tool to set on a blank card. Only with the request's activation
/// code, only while it is armed and not yet issued; a wrong code slows its source down.
pub async fn personalisation(
    State(ra): State<Arc<Ra>>,
    Limited(client): Limited,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<WithCode>,
) -> ApiResult<Json<CardSecrets>> {
    let entry = unlocked(by_code(&ra, client, &body.activation_code, Some(&reference)).await?)?;
    if !entry.request.armed || entry.issuance == Issuance::Confirmed {
        return Err(Refusal::PersonalisationClosed {}.into());
    }
    let p = ra.store.personalisation(&reference).await?.ok_or(Refusal::NoPersonalisation {})?;
    ra.store.audit("holder", "personalisation-released", &reference, "").await?;
    Ok(Json(CardSecrets { pin: p.pin, puk: p.puk, management_key: p.management_key }))
}
