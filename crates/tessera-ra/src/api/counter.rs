//! The counter's API: the operator signs in to the app with their account (the console's
//! accounts and checks: name, password and a one-time code, wrong tries slowing the
//! account and the address down) and gets a bearer session that ends after the console's
//! idle time or lifetime, at sign-out, or when the account is disabled. With it the app
//! arms a request of the operator's office by its reference, without the holder's
//! activation code (that arming gets its own CMP secret: the holder's code and arming
//! stay as they are), and fetches a blank card's PIN and PUK.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::HolderName;
use tessera_protocol::workflow::activation::CardSecrets;
use tessera_protocol::workflow::counter::{CounterRequest, OperatorSession, SignIn};
use zeroize::Zeroizing;

use super::{ApiError, ApiResult, JsonBody, Limited, SignedIn, internal};
use crate::actor::{Actor, Duty};
use crate::credentials::Refused;
use crate::registry::{Entry, Issuance};
use crate::state::Ra;
use crate::store::accounts::Account;

/// The stage of a console session that is the app's.
pub const APP_STAGE: &str = "app";

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn session_of(ra: &Ra, account: &Account, created_at: i64, token: Option<Zeroizing<String>>) -> OperatorSession {
    OperatorSession {
        token,
        name: account.name.clone(),
        office: account.office.clone(),
        role: account.role.name().to_owned(),
        idle_seconds: ra.console.idle_minutes * 60,
        expires_in: (created_at + ra.console.session_hours * 3600 - now()).max(0),
    }
}

/// An app session from the bearer token: alive (not idle too long, not too old), its
/// account enabled. None when the token is no session at all.
pub(super) async fn live(ra: &Ra, digest: &str) -> ApiResult<Option<(Account, i64)>> {
    let Some(session) = ra.store.session(digest).await?.filter(|s| s.stage == APP_STAGE) else {
        return Ok(None);
    };
    let t = now();
    let ended = session.last_seen + ra.console.idle_minutes * 60 < t
        || session.created_at + ra.console.session_hours * 3600 < t;
    let account = ra.store.account_by_id(session.operator_id).await?.filter(|a| !a.disabled);
    let Some(account) = account.filter(|_| !ended) else {
        ra.store.close_session(digest, None).await?;
        return Err(Refusal::OperatorSessionEnded {}.into());
    };
    if t - session.last_seen >= 10 {
        ra.store.touch_session(digest).await?;
    }
    Ok(Some((account, session.created_at)))
}

/// The signed-in operator of an app session, and the session's digest (sign-out).
pub struct AppSession {
    actor: Actor,
    account: Account,
    digest: String,
    created_at: i64,
}

impl FromRequestParts<Arc<Ra>> for AppSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ra: &Arc<Ra>) -> Result<Self, ApiError> {
        let digest = super::bearer_digest(parts).ok_or(ApiError(Refusal::OperatorUnauthenticated {}))?;
        let (account, created_at) = live(ra, &digest).await?.ok_or(Refusal::OperatorUnauthenticated {})?;
        let address = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(AppSession { actor: Actor::of_account(&account, address), account, digest, created_at })
    }
}

/// POST /api/v1/operator/session: sign in; the session's bearer token is in this answer
/// only. Only accounts that serve an office's holders work at the counter.
pub async fn sign_in(
    State(ra): State<Arc<Ra>>,
    Limited(client): Limited,
    JsonBody(body): JsonBody<SignIn>,
) -> ApiResult<(StatusCode, Json<OperatorSession>)> {
    // Something missing is no try at all: nothing is counted.
    if body.name.trim().is_empty() || body.password.is_empty() || body.code.trim().is_empty() {
        return Err(Refusal::SignInRefused {}.into());
    }
    let address = Some(client);
    let (account, _) =
        crate::credentials::check(&ra, address, body.name.trim(), Some(&body.password), body.code.trim())
            .await
            .map_err(|r| match r {
                Refused::Wrong => Refusal::SignInRefused {},
                Refused::Reused => Refusal::SignInCodeReused {},
                Refused::Waiting(s) => Refusal::SignInWaits { minutes: (s + 59) / 60 },
                Refused::Address(s) => Refusal::RateLimited { retry_after: s },
            })?;
    if account.must_change {
        return Err(Refusal::PasswordChangeRequired {}.into());
    }
    if !account.role.serves_office() {
        return Err(Refusal::RoleRefused { role: account.role.name().to_owned() }.into());
    }
    let token = crate::codes::random_token().ok_or_else(|| internal("session token"))?;
    let from = client.to_string();
    let by = account.self_event(Some(&from));
    let digest = crate::codes::token_digest(&token);
    ra.store.open_session(&account, &digest, APP_STAGE, "-", &by).await?;
    Ok((StatusCode::CREATED, Json(session_of(&ra, &account, now(), Some(Zeroizing::new(token))))))
}

/// GET /api/v1/operator/session: the session, still alive (its idle time starts again).
pub async fn session(State(ra): State<Arc<Ra>>, s: AppSession) -> Json<OperatorSession> {
    Json(session_of(&ra, &s.account, s.created_at, None))
}

/// DELETE /api/v1/operator/session: sign out.
pub async fn sign_out(State(ra): State<Arc<Ra>>, s: AppSession) -> ApiResult<StatusCode> {
    ra.store.close_session(&s.digest, Some(&s.actor.event("signed-out", &s.account.name, APP_STAGE))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The request `reference` of the operator's office, ready for the counter: identified,
/// not locked, not yet issued.
async fn ready(ra: &Ra, actor: &Actor, reference: &str) -> ApiResult<Entry> {
    actor.may(Duty::Office)?;
    let entry = ra.store.request(reference.as_bytes()).await?;
    let entry = entry.filter(|e| actor.sees(e.office.as_deref())).ok_or(Refusal::UnknownRequest {})?;
    if matches!(entry.verification.as_deref(), Some("registered" | "to-correct")) {
        return Err(Refusal::NotIdentified { reference: reference.to_owned() }.into());
    }
    if entry.locked() {
        return Err(Refusal::RequestLocked {}.into());
    }
    // Every certificate of the profile confirmed (also while one is renewed).
    if entry.issuance == Issuance::Confirmed || entry.next_certificate(None).is_err() {
        return Err(Refusal::AlreadyIssued { reference: Some(reference.to_owned()) }.into());
    }
    Ok(entry)
}

fn counter_request(entry: &Entry, secret: Option<Zeroizing<String>>) -> CounterRequest {
    let h = &entry.request.holder;
    CounterRequest {
        reference: entry.request.reference.clone(),
        holder: HolderName { given_name: h.given_name.clone(), surname: h.surname.clone() },
        profile: entry.request.profile.name().to_owned(),
        office: entry.office.clone().unwrap_or_default(),
        secret,
    }
}

/// GET /api/v1/operator/requests/{reference}/counter: whose request it is, before arming.
pub async fn show(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Path(reference): Path<String>,
) -> ApiResult<Json<CounterRequest>> {
    Ok(Json(counter_request(&ready(&ra, &actor, &reference).await?, None)))
}

/// POST /api/v1/operator/requests/{reference}/counter: armed for this counter activation
/// with a new one-time CMP secret (in this answer only); the holder's activation code is
/// untouched. Recorded under the operator's name.
pub async fn arm(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Path(reference): Path<String>,
) -> ApiResult<Json<CounterRequest>> {
    let entry = ready(&ra, &actor, &reference).await?;
    let secret = crate::codes::activation_code().ok_or_else(|| internal("counter secret"))?;
    ra.store.arm_at_counter(&reference, &secret, &actor.event("", "", "at the counter, by reference")).await?;
    tell_holder(&ra, &actor, &entry).await;
    Ok(Json(counter_request(&entry, Some(secret))))
}

/// The holder is told, on their registered mobile and e-mail, that their request is being
/// activated at the counter, and by which office: whoever is not at that counter learns it
/// at once. A message not delivered does not stop the counter (it is logged).
async fn tell_holder(ra: &Ra, actor: &Actor, entry: &Entry) {
    use crate::gateway::{Channel, Message};
    let reference = &entry.request.reference;
    let office = actor.office.clone().unwrap_or_default();
    let text = format!(
        "Tessera: la pratica {reference} è in attivazione allo sportello dell'ufficio {office}. Se non sei tu allo \
         sportello, contatta subito l'ufficio.{{secret}}\nTessera: request {reference} is being activated at the \
         counter of office {office}. If you are not at that counter, contact the office at once."
    );
    let email = ra.store.holder_of(reference).await.ok().flatten().and_then(|h| h.email);
    let mut told = Vec::new();
    if let Some(mobile) = &entry.request.mobile {
        told.push(Message::new(Channel::Sms, mobile, "", &text, ""));
    }
    if let Some(email) = email {
        told.push(Message::new(
            Channel::Email,
            &email,
            "Tessera: attivazione allo sportello / counter activation",
            &text,
            "",
        ));
    }
    for message in told {
        let channel = message.channel.name();
        if ra.gateway.deliver(message).await {
            let _ = ra.store.audit_event(&actor.event("holder-told-of-counter", reference, channel)).await;
        }
    }
}

/// POST /api/v1/operator/requests/{reference}/personalisation: a blank card's PIN, PUK
/// and PIV management key, to the operator who armed the request at the counter, until it
/// is issued (anyone else gets the first halves on the handover sheet only).
pub async fn personalisation(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Path(reference): Path<String>,
) -> ApiResult<Json<CardSecrets>> {
    let entry = ready(&ra, &actor, &reference).await?;
    if entry.counter_secret.is_none() || entry.counter_by.as_deref() != Some(actor.name.as_str()) {
        return Err(Refusal::PersonalisationClosed {}.into());
    }
    let p = ra.store.personalisation(&reference).await?.ok_or(Refusal::NoPersonalisation {})?;
    ra.store.audit_event(&actor.event("personalisation-released", &reference, "")).await?;
    Ok(Json(CardSecrets { pin: p.pin, puk: p.puk, management_key: p.management_key }))
}
