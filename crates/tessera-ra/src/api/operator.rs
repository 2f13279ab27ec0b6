//! The operator API (JSON, bearer token per operator): register holders (tax code checked,
//! check letter suggested, forcing confirmed explicitly), create requests with their
//! activation code (shown once), search requests, arm a request at the counter (no OTP),
//! hand over the card's PIN and PUK halves, and suspend / reactivate / revoke certificates
//! by the lifecycle rules.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::activation::{Armed, Found, WithCode};
use tessera_protocol::workflow::operator::{
    AuditEntry, AuditQuery, CodeDelivery, CodeHandedOver, Halves, HalvesSent, Handover, HolderCreated, LifecycleChange,
    LifecycleChanged, NewCode, NewHolder, NewRequest, RequestDetail, RequestRow, Search,
};
use zeroize::Zeroizing;

use super::{ApiError, ApiResult, JsonBody, SignedIn, internal};
use crate::actor::Actor;
use crate::actor::Duty;
use crate::gateway::Message;
use crate::registry::{Entry, Issuance, SubjectRefused};
use crate::state::Ra;

impl From<SubjectRefused> for ApiError {
    fn from(r: SubjectRefused) -> ApiError {
        ApiError(Refusal::SubjectFieldRefused { field: r.field.to_owned(), reason: r.reason.to_owned() })
    }
}

/// The request `reference` when it is the actor's to see (an object of another office
/// does not exist for them).
async fn visible(ra: &Ra, actor: &Actor, reference: &str) -> ApiResult<Entry> {
    let entry = ra.store.request(reference.as_bytes()).await?;
    entry.filter(|e| actor.sees(e.office.as_deref())).ok_or(ApiError(Refusal::UnknownRequest {}))
}

/// POST /api/v1/operator/holders
pub async fn register_holder(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    JsonBody(h): JsonBody<NewHolder>,
) -> ApiResult<(StatusCode, Json<HolderCreated>)> {
    actor.may(Duty::Office)?;
    let holder_id = crate::registration::register_holder(&ra, &actor, h).await?;
    Ok((StatusCode::CREATED, Json(HolderCreated { holder_id })))
}

/// The answer once a code was made: the code itself, or where it was e-mailed.
async fn hand_over(
    ra: &Ra,
    reference: &str,
    code: Zeroizing<String>,
    email: Option<Message>,
) -> ApiResult<Json<CodeHandedOver>> {
    let reference = reference.to_owned();
    let Some(m) = email else {
        return Ok(Json(CodeHandedOver { reference, activation_code: Some(code), sent_to: None }));
    };
    let sent_to = crate::masked::email(&m.to);
    if !ra.gateway.deliver(m).await {
        // The request stands; POST …/code sends a new code once the provider is back.
        return Err(Refusal::EmailGatewayFailed { reference }.into());
    }
    Ok(Json(CodeHandedOver { reference, activation_code: None, sent_to: Some(sent_to) }))
}

/// POST /api/v1/operator/requests: the activation code is in this answer only.
pub async fn create_request(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    JsonBody(body): JsonBody<NewRequest>,
) -> ApiResult<(StatusCode, Json<CodeHandedOver>)> {
    actor.may(Duty::Office)?;
    let workflow = actor.follows_workflow();
    let created = crate::registration::create_request(&ra, &actor, body, workflow).await?;
    if workflow {
        // Identified and verified at the console, which makes its code then.
        let answer = CodeHandedOver { reference: created.reference, activation_code: None, sent_to: None };
        return Ok((StatusCode::CREATED, Json(answer)));
    }
    let answer = hand_over(&ra, &created.reference, created.code, created.email).await?;
    Ok((StatusCode::CREATED, answer))
}

/// POST /api/v1/operator/requests/{reference}/code: a new activation code replaces the
/// old one (lost, or the request locked after wrong codes or OTPs), until issuance.
pub async fn replace_code(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Path(reference): Path<String>,
    body: Option<Json<NewCode>>,
) -> ApiResult<Json<CodeHandedOver>> {
    actor.may(Duty::Office)?;
    let delivery = body.map(|b| b.0.code_delivery).unwrap_or_default();
    let entry = visible(&ra, &actor, &reference).await?;
    if matches!(entry.verification.as_deref(), Some("registered" | "to-correct")) {
        return Err(Refusal::NotIdentified { reference }.into());
    }
    let code = crate::codes::activation_code().ok_or_else(|| internal("activation code"))?;
    let email = match delivery {
        CodeDelivery::Operator => None,
        CodeDelivery::Email => {
            let holder = ra.store.holder_of(&reference).await?;
            let email = holder.and_then(|h| crate::registration::code_email(&h, &reference, &code));
            Some(email.ok_or(Refusal::NoEmail {})?)
        }
    };
    if !ra.store.new_code(&reference, &code, &actor.event("", "", ""), email.as_ref()).await? {
        return Err(Refusal::AlreadyIssued { reference: None }.into());
    }
    hand_over(&ra, &reference, code, email).await
}

/// GET /api/v1/operator/requests?q=
pub async fn search(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Query(s): Query<Search>,
) -> ApiResult<Json<Vec<RequestRow>>> {
    Ok(Json(ra.store.search(&s.q, s.limit.unwrap_or(200).clamp(1, 10_000), actor.office_filter()).await?))
}

/// GET /api/v1/operator/audit?subject=: who changed what and when, newest first.
pub async fn audit(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let limit = q.limit.unwrap_or(200).clamp(1, 10_000);
    Ok(Json(ra.store.audit_log(&q.subject, limit, actor.office_filter()).await?))
}

/// GET /api/v1/operator/requests/{reference}: the request and its certificates.
pub async fn request(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Path(reference): Path<String>,
) -> ApiResult<Json<RequestDetail>> {
    visible(&ra, &actor, &reference).await?;
    let request = ra.store.request_row(&reference).await?.ok_or(Refusal::UnknownRequest {})?;
    Ok(Json(RequestDetail { request, certificates: ra.store.certificates_of(&reference).await? }))
}

/// POST /api/v1/operator/requests/{reference}/arm: at the counter, no OTP; the operator
/// types the activation code the holder brought.
pub async fn arm(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<WithCode>,
) -> ApiResult<Json<Armed>> {
    actor.may(Duty::Office)?;
    visible(&ra, &actor, &reference).await?;
    if ra.store.by_code(&body.activation_code).await?.is_none_or(|e| e.request.reference != reference) {
        // Not counted against the holder: the operator is authenticated, and a typo at the
        // counter must not lock the holder's request. It is in the audit log.
        ra.store.audit_event(&actor.event("arm-refused-wrong-code", &reference, "")).await?;
        return Err(Refusal::ActivationRefused { tries_left: None }.into());
    }
    ra.store.arm(&reference, &actor.event("", "", ""), Some(&body.activation_code)).await?;
    Ok(Json(Armed { reference, armed: true }))
}

/// POST /api/v1/operator/activation: at the counter, the operator types the activation
/// code the holder brought; the request it belongs to is armed (no OTP) and shown.
pub async fn activate(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    JsonBody(body): JsonBody<WithCode>,
) -> ApiResult<Json<Found>> {
    actor.may(Duty::Office)?;
    // Another office's request is, to this operator, a wrong code.
    // A code of another request than the one a link named is a wrong code too.
    let entry = ra.store.by_code(&body.activation_code).await?.filter(|e| {
        actor.sees(e.office.as_deref()) && body.reference.as_deref().is_none_or(|r| r == e.request.reference)
    });
    let Some(entry) = entry else {
        // Not counted against any holder (see arm); recorded under the operator.
        ra.store.audit_event(&actor.event("arm-refused-wrong-code", "-", "")).await?;
        return Err(Refusal::ActivationRefused { tries_left: None }.into());
    };
    if entry.locked() {
        return Err(Refusal::RequestLocked {}.into());
    }
    if entry.issuance == Issuance::Confirmed {
        return Err(Refusal::AlreadyIssued { reference: Some(entry.request.reference.clone()) }.into());
    }
    if !entry.request.armed {
        ra.store.arm(&entry.request.reference, &actor.event("", "", ""), Some(&body.activation_code)).await?;
    }
    Ok(Json(super::activation::found(&entry, None, ra.otp)))
}

/// POST /api/v1/operator/certificates/{serial}/{action}: suspend, reactivate, revoke, or
/// approve or refuse a renewal (approval policy; refusing revokes it for good).
pub async fn lifecycle(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Path((serial, action)): Path<(String, String)>,
    body: Option<Json<LifecycleChange>>,
) -> ApiResult<Json<LifecycleChanged>> {
    let decision = action == "approve" || action == "refuse";
    actor.may(if decision { Duty::Decide } else { Duty::Office })?;
    let serial = super::serial_from_hex(&serial).ok_or(Refusal::UnknownCertificate {})?;
    let body = body.map(|b| b.0).unwrap_or_default();
    if decision {
        crate::renewal_decisions::decide(&ra, &actor, &serial, action == "approve").await?;
        let (state, approval) = if action == "approve" { ("active", "approved") } else { ("revoked", "refused") };
        return Ok(Json(LifecycleChanged { state: state.into(), approval: Some(approval.into()) }));
    }
    let invalidity = match body.invalidity_date.as_deref() {
        Some(d) => Some(
            time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339)
                .map_err(|_| Refusal::InvalidityDateRefused {})?
                .unix_timestamp(),
        ),
        None => None,
    };
    let change = crate::lifecycle::Change { action: &action, reason: body.reason, invalidity, detail: "" };
    let next = crate::lifecycle::change(&ra, &actor, &serial, &change).await?;
    Ok(Json(LifecycleChanged { state: next.name().to_owned(), approval: None }))
}

/// GET /api/v1/operator/requests/{reference}/handover: the printable sheet handed over with
/// the card: the first half of its PIN and PUK (the second halves go by e-mail once the
/// request is complete).
pub async fn handover(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Path(reference): Path<String>,
) -> ApiResult<Json<Handover>> {
    actor.may(Duty::Office)?;
    let entry = visible(&ra, &actor, &reference).await?;
    let holder = format!("{} {}", entry.request.holder.given_name, entry.request.holder.surname);
    let p = ra.store.personalisation(&reference).await?.ok_or(Refusal::NoPersonalisation {})?;
    use crate::personalisation::half;
    let (pin, puk) = (Zeroizing::new(half(&p.pin, false).to_owned()), Zeroizing::new(half(&p.puk, false).to_owned()));
    let sheet = Zeroizing::new(format!(
        "TESSERA · Consegna della carta / Card handover\n\nPratica / Request: {reference}\nTitolare / Holder: {holder}\n\n\
         Prima metà del PIN / First half of the PIN: {}\nPrima metà del PUK / First half of the PUK: {}\n\n\
         La seconda metà e il codice utente arrivano per e-mail a pratica completata. Non comunicarli a nessuno.\n\
         The second halves and the user code come by e-mail once the request is complete. Tell them to nobody.\n",
        *pin, *puk
    ));
    ra.store.audit_event(&actor.event("handover-printed", &reference, "")).await?;
    Ok(Json(Handover { reference, holder, pin_first_half: pin, puk_first_half: puk, sheet }))
}

/// POST /api/v1/operator/requests/{reference}/halves: send the halves again.
pub async fn send_halves(
    State(ra): State<Arc<Ra>>,
    SignedIn(actor): SignedIn,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<Halves>,
) -> ApiResult<Json<HalvesSent>> {
    actor.may(Duty::Office)?;
    let entry = visible(&ra, &actor, &reference).await?;
    crate::registration::send_halves(&ra, &actor, &entry, &body.channel).await?;
    Ok(Json(HalvesSent { reference, sent: body.channel }))
}
