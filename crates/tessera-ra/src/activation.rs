//! The holder's activation API (JSON): activation code + tax code -> an OTP by SMS to the
//! registered mobile -> OTP verified -> the request's CMP reference is armed. A new SMS
//! after 30 seconds; five wrong codes or OTPs lock the request. Errors are
//! `{code, params}`, rendered by the client from its locales.

use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::gateway::{Channel, Message};
use crate::problem::{JsonBody, internal, problem};
use crate::state::Ra;

/// How long an OTP is good for, and how soon another may be sent (configuration `[otp]`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpTimes {
    #[serde(default = "default_ttl")]
    pub ttl_seconds: i64,
    #[serde(default = "default_resend")]
    pub resend_after_seconds: i64,
}

fn default_ttl() -> i64 {
    300
}

fn default_resend() -> i64 {
    30
}

impl Default for OtpTimes {
    fn default() -> Self {
        OtpTimes { ttl_seconds: default_ttl(), resend_after_seconds: default_resend() }
    }
}
/// Holder API calls allowed per client address at once and a minute (guessing codes is
/// slow; wrong guesses are also failures, [`crate::state::FAILURES_PER_MINUTE`]).
pub const CALLS_PER_MINUTE: u32 = 30;

pub(crate) fn rate_limited(ra: &Ra, client: std::net::SocketAddr) -> Option<Response> {
    ra.over_rate(client.ip())
        .map(|wait| problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited", &[("retry_after", wait.to_string())]))
}

#[derive(Deserialize)]
pub struct Start {
    activation_code: Zeroizing<String>,
    tax_code: String,
}

/// Whose request a code belongs to, so the tool can show it before any key is made.
#[derive(Serialize)]
pub struct Found {
    reference: String,
    holder: HolderName,
    profile: crate::registry::Profile,
    /// Armed for CMP: no OTP is needed (operator mode, or armed earlier).
    armed: bool,
    /// The mobile number the SMS went to, masked but for its last digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    mobile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    otp_expires_in: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resend_after: Option<i64>,
    /// The session the SMS opened: the OTP is tried only with it, so that someone who
    /// knows just the reference cannot spend the holder's tries.
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<String>,
}

#[derive(Serialize)]
struct HolderName {
    given_name: String,
    surname: String,
}

impl Found {
    /// The request armed; `mobile`: the OTP just went there instead.
    pub fn new(entry: &crate::registry::Entry, mobile: Option<&str>, otp: OtpTimes) -> Found {
        let h = &entry.request.holder;
        Found {
            reference: entry.request.reference.clone(),
            holder: HolderName { given_name: h.given_name.clone(), surname: h.surname.clone() },
            profile: entry.request.profile,
            armed: mobile.is_none(),
            mobile: mobile.map(masked),
            otp_expires_in: mobile.map(|_| otp.ttl_seconds),
            resend_after: mobile.map(|_| otp.resend_after_seconds),
            session: None,
        }
    }

    fn with_session(self, session: String) -> Found {
        Found { session: Some(session), ..self }
    }
}

#[derive(Deserialize)]
pub struct Verify {
    otp: String,
    /// The session the SMS opened (from the answer that sent it).
    #[serde(default)]
    session: Zeroizing<String>,
}

#[derive(Deserialize)]
pub struct Resend {
    activation_code: Zeroizing<String>,
}

pub(crate) fn random_otp() -> Option<String> {
    // Rejection sampling keeps the six digits uniform.
    loop {
        let mut b = [0u8; 4];
        getrandom::getrandom(&mut b).ok()?;
        let n = u32::from_be_bytes(b);
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return Some(format!("{:06}", n % 1_000_000));
        }
    }
}

pub(crate) fn masked(mobile: &str) -> String {
    let keep = mobile.len().saturating_sub(2);
    mobile.chars().enumerate().map(|(i, c)| if i < keep && c.is_ascii_digit() && i > 2 { '*' } else { c }).collect()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Make, store and send an OTP; the session it opens (the OTP is tried only with it), or
/// the answer to give when that failed.
async fn send(ra: &Ra, reference: &str, code: &str, mobile: &str) -> Result<String, Response> {
    let fail = || problem(StatusCode::INTERNAL_SERVER_ERROR, "ra-internal", &[]);
    let Some(otp) = random_otp() else { return Err(fail()) };
    let Some(session) = crate::operator::random_chars(26) else { return Err(fail()) };
    let sms = Message::new(
        Channel::Sms,
        mobile,
        "",
        "Tessera: il codice di conferma per la tua attivazione è {secret}. Scade tra 5 minuti. Non comunicarlo a nessuno.",
        &otp,
    );
    match ra.store.send_otp(reference, code, &otp, &session, &sms, ra.otp.ttl_seconds).await {
        Ok(()) if ra.gateway.deliver(sms).await => Ok(session),
        Ok(()) => Err(problem(StatusCode::BAD_GATEWAY, "sms-gateway-failed", &[])),
        Err(e) => Err(internal(e)),
    }
}

/// POST /api/v1/activation
pub async fn start(
    State(ra): State<Arc<Ra>>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    JsonBody(body): JsonBody<Start>,
) -> Response {
    if let Some(r) = rate_limited(&ra, client) {
        return r;
    }
    let refused = || problem(StatusCode::FORBIDDEN, "activation-refused", &[]);
    let entry = match ra.store.by_code(&body.activation_code).await {
        Ok(Some(e)) => e,
        Ok(None) => {
            ra.failed_from(client.ip());
            return refused();
        }
        Err(e) => return internal(e),
    };
    let reference = entry.request.reference.clone();
    if entry.locked() {
        return problem(StatusCode::LOCKED, "request-locked", &[]);
    }
    // The code is right: a try is taken before the tax code is checked (five under any
    // concurrency), given back when it matches. Which half was wrong is not said.
    let left = match ra.store.take_try(&reference).await {
        Ok(Some(left)) => left,
        Ok(None) => return problem(StatusCode::LOCKED, "request-locked", &[]),
        Err(e) => return internal(e),
    };
    if !entry.request.holder.identity_matches(&body.tax_code) {
        return match ra.store.wrong_secret(&reference, "activation-refused", left).await {
            Ok(()) if left == 0 => problem(StatusCode::LOCKED, "request-locked", &[]),
            Ok(()) => problem(StatusCode::FORBIDDEN, "activation-refused", &[("tries_left", left.to_string())]),
            Err(e) => internal(e),
        };
    }
    if let Err(e) = ra.store.give_back_try(&reference).await {
        return internal(e);
    }
    if entry.issuance == crate::registry::Issuance::Confirmed {
        return problem(StatusCode::CONFLICT, "already-issued", &[("reference", reference)]);
    }
    if entry.request.armed {
        // Armed before (an interrupted activation run again): nothing to send.
        return Json(Found::new(&entry, None, ra.otp)).into_response();
    }
    let Some(mobile) = entry.request.mobile.clone() else {
        return problem(StatusCode::CONFLICT, "no-mobile", &[]);
    };
    match send(&ra, &reference, &body.activation_code, &mobile).await {
        Ok(session) => Json(Found::new(&entry, Some(&mobile), ra.otp).with_session(session)).into_response(),
        Err(failure) => failure,
    }
}

/// POST /api/v1/activation/{reference}/otp
pub async fn verify(
    State(ra): State<Arc<Ra>>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<Verify>,
) -> Response {
    if let Some(r) = rate_limited(&ra, client) {
        return r;
    }
    let entry = match ra.store.request(reference.as_bytes()).await {
        Ok(Some(e)) => e,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "unknown-request", &[]),
        Err(e) => return internal(e),
    };
    if entry.locked() {
        return problem(StatusCode::LOCKED, "request-locked", &[]);
    }
    // Only inside the session the SMS opened: without it, nothing is tried or counted.
    match ra.store.otp_session(&reference, body.session.trim()).await {
        Ok(true) => {}
        Ok(false) => {
            ra.failed_from(client.ip());
            return problem(StatusCode::FORBIDDEN, "activation-session-invalid", &[]);
        }
        Err(e) => return internal(e),
    }
    let (hash, _, expires) = match ra.store.otp(&reference).await {
        Ok(Some(o)) => o,
        Ok(None) => return problem(StatusCode::CONFLICT, "no-otp", &[]),
        Err(e) => return internal(e),
    };
    if now() > expires {
        return problem(StatusCode::GONE, "otp-expired", &[]);
    }
    let left = match ra.store.take_try(&reference).await {
        Ok(Some(left)) => left,
        Ok(None) => return problem(StatusCode::LOCKED, "request-locked", &[]),
        Err(e) => return internal(e),
    };
    if !ra.store.otp_matches(&reference, body.otp.trim(), &hash) {
        return match ra.store.wrong_secret(&reference, "otp-wrong", left).await {
            Ok(()) if left == 0 => problem(StatusCode::LOCKED, "request-locked", &[]),
            Ok(()) => problem(StatusCode::FORBIDDEN, "otp-wrong", &[("tries_left", left.to_string())]),
            Err(e) => internal(e),
        };
    }
    if let Err(e) = ra.store.give_back_try(&reference).await {
        return internal(e);
    }
    match ra.store.arm(&reference, "holder", None).await {
        Ok(()) => Json(serde_json::json!({ "reference": reference, "armed": true })).into_response(),
        Err(e) => internal(e),
    }
}

/// POST /api/v1/activation/{reference}/resend
pub async fn resend(
    State(ra): State<Arc<Ra>>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<Resend>,
) -> Response {
    if let Some(r) = rate_limited(&ra, client) {
        return r;
    }
    let entry = match ra.store.by_code(&body.activation_code).await {
        Ok(Some(e)) if e.request.reference == reference => e,
        Ok(_) => {
            ra.failed_from(client.ip());
            return problem(StatusCode::FORBIDDEN, "activation-refused", &[]);
        }
        Err(e) => return internal(e),
    };
    if entry.locked() {
        return problem(StatusCode::LOCKED, "request-locked", &[]);
    }
    match ra.store.otp(&reference).await {
        Ok(Some((_, sent, _))) if now() - sent < ra.otp.resend_after_seconds => {
            return problem(
                StatusCode::TOO_MANY_REQUESTS,
                "otp-resend-too-soon",
                &[("wait", (ra.otp.resend_after_seconds - (now() - sent)).to_string())],
            );
        }
        Ok(Some(_)) => {}
        Ok(None) => return problem(StatusCode::CONFLICT, "no-otp", &[]),
        Err(e) => return internal(e),
    }
    let Some(mobile) = entry.request.mobile.clone() else { return problem(StatusCode::CONFLICT, "no-mobile", &[]) };
    match send(&ra, &reference, &body.activation_code, &mobile).await {
        Ok(session) => Json(Found::new(&entry, Some(&mobile), ra.otp).with_session(session)).into_response(),
        Err(failure) => failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otps_are_six_digits_and_mobiles_are_masked() {
        for _ in 0..100 {
            let otp = random_otp().unwrap();
            assert_eq!(otp.len(), 6);
            assert!(otp.chars().all(|c| c.is_ascii_digit()));
        }
        assert_eq!(masked("+393331234567"), "+39********67");
    }
}

#[derive(Deserialize)]
pub struct Unlock {
    activation_code: Zeroizing<String>,
}

/// POST /api/v1/activation/{reference}/personalisation: the card's PIN, PUK and PIV
/// management key, for the tool to set on a blank card. Only with the request's activation
/// code, only while it is armed and not yet issued; a wrong code slows its source down.
pub async fn personalisation(
    State(ra): State<Arc<Ra>>,
    ConnectInfo(client): ConnectInfo<std::net::SocketAddr>,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<Unlock>,
) -> Response {
    if let Some(r) = rate_limited(&ra, client) {
        return r;
    }
    let entry = match ra.store.by_code(&body.activation_code).await {
        Ok(Some(e)) if e.request.reference == reference => e,
        Ok(_) => {
            // A wrong code: anyone who knows the reference could send one, so it slows the
            // source down instead of spending the holder's tries.
            ra.failed_from(client.ip());
            return problem(StatusCode::FORBIDDEN, "activation-refused", &[]);
        }
        Err(e) => return internal(e),
    };
    if entry.locked() {
        return problem(StatusCode::LOCKED, "request-locked", &[]);
    }
    if !entry.request.armed || entry.issuance == crate::registry::Issuance::Confirmed {
        return problem(StatusCode::CONFLICT, "personalisation-closed", &[]);
    }
    match ra.store.personalisation(&reference).await {
        Ok(Some(p)) => match ra.store.audit("holder", "personalisation-released", &reference, "").await {
            Ok(()) => Json(serde_json::json!({
                "pin": p.pin.as_str(),
                "puk": p.puk.as_str(),
                "management_key": p.management_key.as_str(),
            }))
            .into_response(),
            Err(e) => internal(e),
        },
        Ok(None) => problem(StatusCode::CONFLICT, "no-personalisation", &[]),
        Err(e) => internal(e),
    }
}
