//! Renewing a fixed-slot card (PIV 9A/9C, OpenPGP's signature and authentication keys),
//! whose new key can only take the old key's slot: the renewal is authorised with the
//! expiring key *before* the slot is overwritten, so that it can always be completed
//! afterwards without that key.
//!
//! - `POST /api/v1/renewal/{serial}/overwrite` `{id, signed_authorisation}`: a CAdES .p7m
//!   of `{"renewal": id, "overwrite": true}` signed with the expiring key, on a forwarded
//!   renewal (its form signed). The RA makes the renewal's **renewal code** (the CMP
//!   shared secret with senderKID = the renewal's id), keeps it sealed, sends it to the
//!   holder's mobile (else e-mail) and answers it, with the card's management key where
//!   the RA holds one. Repeated, it answers the same code and sends nothing.
//! - The same with `{id, code}` instead: the renewal code typed back from the SMS (an
//!   interrupted renewal, the old key gone) answers the management key again, also for a
//!   completed renewal whose certConf answer was lost. Wrong codes make the holder's
//!   request wait (as wrong CMP MACs do), they never lock it.
//! - `POST …/overwrite/resend` `{id}`: the code to the holder again (once per 30 s).
//!
//! CMP `ir` and `certConf` protected by PBM with the renewal's id and code then renew the
//! old certificate like kur (endpoint.rs). From the authorisation on, operators cannot
//! cancel the renewal (only it gives that card a working key again), and it lasts
//! `OVERWRITE_DAYS` from the authorisation, whatever the old certificate's end.

use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::{contacts, renewal_in, serial_from_hex, signed_by_holder};
use crate::gateway::{Channel, Message};
use crate::problem::{ApiError, JsonBody};
use crate::state::Ra;
use crate::store::Renewal;

/// Seconds between two sendings of the renewal code.
pub const RESEND_SECONDS: i64 = 30;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorise {
    id: String,
    /// The .p7m (base64) of `{"renewal": id, "overwrite": true}`.
    #[serde(default)]
    signed_authorisation: Option<String>,
    /// Or the renewal code, typed back.
    #[serde(default)]
    code: Option<Zeroizing<String>>,
}

/// What the holder signed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Authorisation {
    renewal: String,
    overwrite: bool,
}

async fn forwarded(ra: &Ra, serial: &[u8], id: &str) -> Result<Renewal, ApiError> {
    // The form comes first; a completed renewal has nothing left to authorise.
    renewal_in(ra, serial, id, "forwarded", "renewal-not-forwarded").await
}

/// Where the renewal code goes: the holder's mobile, else e-mail (masked for the answer).
async fn destination(ra: &Ra, serial: &[u8]) -> Result<(Channel, String, String), ApiError> {
    let der =
        ra.store.certificate_der(serial).await?.ok_or(ApiError::new(StatusCode::NOT_FOUND, "unknown-certificate"))?;
    let (entry, _) = ra
        .store
        .by_certificate(&der, serial)
        .await?
        .ok_or(ApiError::new(StatusCode::NOT_FOUND, "unknown-certificate"))?;
    let record = contacts(ra, &entry).await?.record;
    match (record.mobile, record.email) {
        (Some(m), _) => Ok((Channel::Sms, crate::activation::masked(&m), m)),
        (None, Some(e)) => Ok((Channel::Email, crate::operator::masked_email(&e), e)),
        // Without a contact an interrupted renewal could not be completed: not authorised.
        (None, None) => Err(ApiError::new(StatusCode::CONFLICT, "no-contact-for-code")),
    }
}

async fn send(ra: &Ra, renewal: &Renewal, serial: &[u8], code: &str) -> Result<String, ApiError> {
    let (channel, masked, to) = destination(ra, serial).await?;
    let text = "Tessera: il codice di rinnovo della tua carta è {secret}. Ti serve solo se il rinnovo si interrompe: \
                Tessera te lo chiede per completarlo.";
    if !ra.gateway.deliver(Message::new(channel, &to, "Tessera: codice di rinnovo", text, code)).await {
        tracing::warn!(renewal = %renewal.id, "the renewal code could not be sent");
    }
    Ok(masked)
}

/// POST …/overwrite: the renewal authorised to overwrite the card's slot.
pub async fn authorise(
    State(ra): State<Arc<Ra>>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    Path(serial): Path<String>,
    JsonBody(body): JsonBody<Authorise>,
) -> Result<Response, ApiError> {
    if let Some(r) = crate::activation::rate_limited(&ra, client) {
        return Ok(r);
    }
    let serial = serial_from_hex(&serial).ok_or(ApiError::new(StatusCode::BAD_REQUEST, "bad-serial"))?;
    let internal = || ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "ra-internal");
    let (renewal, code) = match (&body.signed_authorisation, &body.code) {
        (Some(p7m), None) => {
            let renewal = forwarded(&ra, &serial, &body.id).await?;
            let refused = |reason: &str| {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "overwrite-signature-refused").with("reason", reason)
            };
            let content = signed_by_holder(&ra, client.ip(), &serial, p7m, "overwrite-signature-refused").await?;
            let what: Authorisation =
                serde_json::from_slice(&content).map_err(|_| refused("not an overwrite authorisation"))?;
            if what.renewal != renewal.id || !what.overwrite {
                return Err(refused("signed for another renewal request"));
            }
            // A contact to send the code to, checked before anything is recorded.
            destination(&ra, &serial).await?;
            let fresh =
                tessera_protocol::activation::canonical_code(&crate::operator::random_chars(16).ok_or_else(internal)?);
            let sealed = ra.store.seal_code(&renewal.id, &fresh).ok_or_else(internal)?;
            let (kept, first) = ra
                .store
                .authorise_overwrite(&renewal.id, &sealed)
                .await?
                .ok_or(ApiError::new(StatusCode::CONFLICT, "renewal-not-forwarded").with("state", "changed"))?;
            let code = ra.store.open_code(&renewal.id, &kept).ok_or_else(internal)?;
            if first && ra.store.take_overwrite_send(&renewal.id, RESEND_SECONDS).await?.is_none() {
                send(&ra, &renewal, &serial, &code).await?;
            }
            (renewal, code)
        }
        (None, Some(typed)) => {
            // Forwarded, or completed (a run whose certConf answer was lost needs the code
            // to repeat it), within the authorisation's time.
            let (renewal, kept) = ra
                .store
                .overwrite_code(&body.id)
                .await?
                .filter(|(r, _)| r.serial.eq_ignore_ascii_case(&crate::store::hex(&serial)))
                .ok_or(ApiError::new(StatusCode::CONFLICT, "overwrite-not-authorised"))?;
            // Wrong codes make the holder's request wait, longer each five, as wrong CMP
            // MACs do (the same counters): anyone may try, nobody can lock the holder out.
            if let crate::store::MacCheck::Wait(seconds) = ra.store.take_mac_check(&renewal.reference).await? {
                return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "renewal-code-wait").with("wait", seconds));
            }
            let code = ra.store.open_code(&renewal.id, &kept).ok_or_else(internal)?;
            let typed = tessera_protocol::activation::canonical_code(typed);
            // Compared in constant time, through the keyed index.
            let purpose = format!("{}:renewal-code", renewal.id);
            if !ra.store.code_matches(&purpose, &typed, &ra.store.code_index(&purpose, &code)) {
                ra.failed_from(client.ip());
                ra.store.mac_wrong(&renewal.reference, ra.wrong_code_wait).await?;
                return Err(ApiError::new(StatusCode::FORBIDDEN, "renewal-code-wrong"));
            }
            ra.store.mac_right(&renewal.reference).await?;
            (renewal, typed)
        }
        _ => {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "overwrite-proof").with("field", "signed_authorisation"));
        }
    };
    let management_key = ra.store.personalisation(&renewal.reference).await?.map(|p| p.management_key);
    let (_, sent_to, _) = destination(&ra, &serial).await?;
    Ok(Json(json!({
        "id": renewal.id,
        "code": code.as_str(),
        "sent_to": sent_to,
        "management_key": management_key.as_deref().map(String::as_str),
        "resend_after": RESEND_SECONDS,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resend {
    id: String,
}

/// POST …/overwrite/resend: the renewal code to the holder again.
pub async fn resend(
    State(ra): State<Arc<Ra>>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    Path(serial): Path<String>,
    JsonBody(body): JsonBody<Resend>,
) -> Result<Response, ApiError> {
    if let Some(r) = crate::activation::rate_limited(&ra, client) {
        return Ok(r);
    }
    let serial = serial_from_hex(&serial).ok_or(ApiError::new(StatusCode::BAD_REQUEST, "bad-serial"))?;
    let renewal = forwarded(&ra, &serial, &body.id).await?;
    let (_, kept) = ra
        .store
        .overwrite_code(&renewal.id)
        .await?
        .ok_or(ApiError::new(StatusCode::CONFLICT, "overwrite-not-authorised"))?;
    if let Some(wait) = ra.store.take_overwrite_send(&renewal.id, RESEND_SECONDS).await? {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "code-resend-too-soon").with("wait", wait));
    }
    let internal = || ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "ra-internal");
    let code = ra.store.open_code(&renewal.id, &kept).ok_or_else(internal)?;
    let sent_to = send(&ra, &renewal, &serial, &code).await?;
    Ok(Json(json!({ "id": renewal.id, "sent_to": sent_to, "resend_after": RESEND_SECONDS })).into_response())
}
