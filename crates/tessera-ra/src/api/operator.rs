//! The operator API (JSON, bearer token per operator): register holders (tax code checked,
//! check letter suggested, forcing confirmed explicitly), create requests with their
//! activation code (shown once), search requests, arm a request at the counter (no OTP),
//! hand over the card's PIN and PUK halves, and suspend / reactivate / revoke certificates
//! by the lifecycle rules.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use tessera_pki::codice_fiscale::{self, CfCheck};
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::activation::{Armed, Found, WithCode};
use tessera_protocol::workflow::operator::{
    AuditEntry, AuditQuery, CodeDelivery, CodeHandedOver, Halves, HalvesSent, Handover, HolderCreated, LifecycleChange,
    LifecycleChanged, NewCode, NewHolder, NewRequest, RequestDetail, RequestRow, Search, SubjectExtras,
};
use zeroize::Zeroizing;

use super::{ApiError, ApiResult, JsonBody, SignedIn, internal};
use crate::gateway::{Channel, Message};
use crate::registry::{Holder, Issuance, Lifecycle, Profile, RegisteredRequest, SubjectRefused};
use crate::state::Ra;

impl From<SubjectRefused> for ApiError {
    fn from(r: SubjectRefused) -> ApiError {
        ApiError(Refusal::SubjectFieldRefused { field: r.field.to_owned(), reason: r.reason.to_owned() })
    }
}

/// The tax code as registered: checked, or forced (the check letter or the data may be
/// off, the shape may not).
fn checked_cf(cf: &str, forced: bool) -> Result<String, Refusal> {
    match codice_fiscale::check(cf) {
        CfCheck::Valid { code } => Ok(code),
        CfCheck::WrongCheckLetter { expected, .. } if !forced => Err(Refusal::CfCheckLetter { expected }),
        CfCheck::Malformed { position } if !forced => Err(Refusal::CfMalformed { position }),
        _ => codice_fiscale::forced_shape(cf).map_err(|position| Refusal::CfMalformed { position }),
    }
}

/// POST /api/v1/operator/holders
pub async fn register_holder(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    JsonBody(mut h): JsonBody<NewHolder>,
) -> ApiResult<(StatusCode, Json<HolderCreated>)> {
    match (&h.cf, &h.passport) {
        (None, None) => return Err(Refusal::HolderNeedsCfOrPassport {}.into()),
        (None, Some(_))
            if !h
                .passport_country
                .as_deref()
                .is_some_and(|c| c.len() == 2 && c.chars().all(|c| c.is_ascii_alphabetic())) =>
        {
            return Err(Refusal::PassportNeedsCountry {}.into());
        }
        (Some(cf), _) => h.cf = Some(checked_cf(cf, h.cf_forced)?),
        (None, Some(_)) => {}
    }
    // What goes into certificate subjects is checked when it is registered, not when a
    // certificate nobody accepts is already issued; names in NFC, as they are stored.
    h.given_name = crate::registry::normalise(&h.given_name);
    h.surname = crate::registry::normalise(&h.surname);
    let id = h.cf.clone().or_else(|| h.passport.clone()).unwrap_or_default();
    let mut subject = Holder::new(&h.given_name, &h.surname, &id);
    subject.email = h.email.clone();
    subject.check_subject()?;
    h.passport = h.passport.map(|p| p.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase());
    h.passport_country = h.passport_country.map(|c| c.to_ascii_uppercase());
    h.mobile = h.mobile.map(|m| m.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect());
    h.email = h.email.map(|e| e.trim().to_owned());
    // OTPs and codes go to these: another person's mobile or e-mail would let them
    // activate this holder's requests (renewal checks the same).
    if let Some(which) = ra.store.contact_of_another(&h).await? {
        return Err(Refusal::ContactOfAnotherHolder { contact: which.into() }.into());
    }
    let holder_id = ra.store.insert_holder(&h, &name).await?;
    Ok((StatusCode::CREATED, Json(HolderCreated { holder_id })))
}

/// Whether an address belongs to a certified-mail [PEC] domain (`pec.…`, `….pec.it`,
/// `legalmail`, `postacert`, `cert.…`): those never go into a certificate.
pub fn is_pec(address: &str) -> bool {
    let domain = address.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    domain.split('.').any(|label| ["pec", "legalmail", "postacert", "cert", "certmail"].contains(&label))
}

/// Check the subject extras against the holder and profile; fill them into `subject`.
fn add_extras(extras: SubjectExtras, holder: &NewHolder, profile: Profile, subject: &mut Holder) -> ApiResult<()> {
    let clean = |v: Option<String>| v.map(|s| crate::registry::normalise(&s)).filter(|s| !s.is_empty());
    let (title, organization) = (clean(extras.title), clean(extras.organization));
    let (vat, org_cf) = (clean(extras.organization_vat), clean(extras.organization_cf));
    let any = title.is_some() || organization.is_some() || vat.is_some() || org_cf.is_some() || extras.include_email;
    if any && !profile.has_signature() {
        return Err(Refusal::SubjectExtrasSignatureOnly {}.into());
    }
    let identifier = match (&vat, &org_cf) {
        (Some(_), Some(_)) => return Err(Refusal::OrganizationOneIdentifier {}.into()),
        (Some(vat), None) if codice_fiscale::valid_partita_iva(vat) => Some(format!("VATIT-{vat}")),
        (Some(_), None) => return Err(Refusal::OrganizationVatInvalid {}.into()),
        (None, Some(cf)) if codice_fiscale::valid_partita_iva(cf) => Some(format!("CF:IT-{cf}")),
        (None, Some(cf)) => Some(format!("CF:IT-{}", checked_cf(cf, false)?)),
        (None, None) => None,
    };
    if organization.is_some() != identifier.is_some() {
        return Err(Refusal::OrganizationNeedsIdentifier {}.into());
    }
    subject.email = match (extras.include_email, &holder.email) {
        (false, _) => None,
        (true, None) => return Err(Refusal::NoEmail {}.into()),
        (true, Some(address)) if is_pec(address) => return Err(Refusal::EmailIsPec {}.into()),
        (true, Some(address)) => Some(address.clone()),
    };
    subject.title = title;
    subject.organization = organization;
    subject.organization_identifier = identifier;
    Ok(())
}

/// The e-mail that takes a request's activation code to its holder.
fn code_email(holder: &NewHolder, reference: &str, code: &str) -> Option<Message> {
    let to = holder.email.as_deref()?;
    let template = format!(
        "Gentile {} {},\n\nil codice di attivazione della pratica {reference} è {{secret}}.\n\n\
         Avvia Tessera, inserisci la carta, scegli Nuova attivazione e digita il codice e il tuo codice \
         fiscale: riceverai un SMS con il codice di conferma. Il codice serve una sola volta; non \
         comunicarlo a nessuno: l'ufficio di registrazione non te lo chiederà mai.",
        holder.given_name, holder.surname
    );
    Some(Message::new(Channel::Email, to, "Tessera: il tuo codice di attivazione", &template, code))
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
    SignedIn(name): SignedIn,
    JsonBody(body): JsonBody<NewRequest>,
) -> ApiResult<(StatusCode, Json<CodeHandedOver>)> {
    let holder = ra.store.holder(body.holder_id).await?.ok_or(Refusal::UnknownHolder {})?;
    // Without a tax code only the signature certificate can be issued; its serialNumber
    // is then the passport's.
    let mut subject = match (&holder.cf, &holder.passport, body.profile) {
        (Some(cf), _, _) => Holder::new(&holder.given_name, &holder.surname, cf),
        (None, Some(passport), Profile::Signature) => Holder {
            passport_country: holder.passport_country.clone(),
            ..Holder::new(&holder.given_name, &holder.surname, passport)
        },
        _ => return Err(Refusal::ProfileNeedsCf {}.into()),
    };
    add_extras(body.subject, &holder, body.profile, &mut subject)?;
    subject.check_subject()?;
    if body.code_delivery == CodeDelivery::Email && holder.email.is_none() {
        return Err(Refusal::NoEmail {}.into());
    }
    let reference = format!("REQ-{}", crate::codes::random_chars(8).ok_or_else(|| internal("reference"))?);
    let code = crate::codes::activation_code().ok_or_else(|| internal("activation code"))?;
    let email = match body.code_delivery {
        CodeDelivery::Email => code_email(&holder, &reference, &code),
        CodeDelivery::Operator => None,
    };
    let request = RegisteredRequest {
        reference,
        activation_code: code,
        holder: subject,
        profile: body.profile,
        mobile: holder.mobile.clone(),
        armed: false,
        issued_suspended: body.issued_suspended,
    };
    ra.store.create_request(&request, body.holder_id, &name, email.as_ref()).await?;
    let answer = hand_over(&ra, &request.reference, request.activation_code.clone(), email).await?;
    Ok((StatusCode::CREATED, answer))
}

/// POST /api/v1/operator/requests/{reference}/code: a new activation code replaces the
/// old one (lost, or the request locked after wrong codes or OTPs), until issuance.
pub async fn replace_code(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    Path(reference): Path<String>,
    body: Option<Json<NewCode>>,
) -> ApiResult<Json<CodeHandedOver>> {
    let delivery = body.map(|b| b.0.code_delivery).unwrap_or_default();
    ra.store.request(reference.as_bytes()).await?.ok_or(Refusal::UnknownRequest {})?;
    let code = crate::codes::activation_code().ok_or_else(|| internal("activation code"))?;
    let email = match delivery {
        CodeDelivery::Operator => None,
        CodeDelivery::Email => {
            let holder = ra.store.holder_of(&reference).await?;
            Some(holder.and_then(|h| code_email(&h, &reference, &code)).ok_or(Refusal::NoEmail {})?)
        }
    };
    if !ra.store.new_code(&reference, &code, &name, email.as_ref()).await? {
        return Err(Refusal::AlreadyIssued { reference: None }.into());
    }
    hand_over(&ra, &reference, code, email).await
}

/// GET /api/v1/operator/requests?q=
pub async fn search(
    State(ra): State<Arc<Ra>>,
    SignedIn(_): SignedIn,
    Query(s): Query<Search>,
) -> ApiResult<Json<Vec<RequestRow>>> {
    Ok(Json(ra.store.search(&s.q, s.limit.unwrap_or(200).clamp(1, 10_000)).await?))
}

/// GET /api/v1/operator/audit?subject=: who changed what and when, newest first.
pub async fn audit(
    State(ra): State<Arc<Ra>>,
    SignedIn(_): SignedIn,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    Ok(Json(ra.store.audit_log(&q.subject, q.limit.unwrap_or(200).clamp(1, 10_000)).await?))
}

/// GET /api/v1/operator/requests/{reference}: the request and its certificates.
pub async fn request(
    State(ra): State<Arc<Ra>>,
    SignedIn(_): SignedIn,
    Path(reference): Path<String>,
) -> ApiResult<Json<RequestDetail>> {
    let request = ra.store.request_row(&reference).await?.ok_or(Refusal::UnknownRequest {})?;
    Ok(Json(RequestDetail { request, certificates: ra.store.certificates_of(&reference).await? }))
}

/// POST /api/v1/operator/requests/{reference}/arm: at the counter, no OTP; the operator
/// types the activation code the holder brought.
pub async fn arm(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<WithCode>,
) -> ApiResult<Json<Armed>> {
    ra.store.request(reference.as_bytes()).await?.ok_or(Refusal::UnknownRequest {})?;
    if ra.store.by_code(&body.activation_code).await?.is_none_or(|e| e.request.reference != reference) {
        // Not counted against the holder: the operator is authenticated, and a typo at the
        // counter must not lock the holder's request. It is in the audit log.
        ra.store.audit(&name, "arm-refused-wrong-code", &reference, "").await?;
        return Err(Refusal::ActivationRefused { tries_left: None }.into());
    }
    ra.store.arm(&reference, &name, Some(&body.activation_code)).await?;
    Ok(Json(Armed { reference, armed: true }))
}

/// POST /api/v1/operator/activation: at the counter, the operator types the activation
/// code the holder brought; the request it belongs to is armed (no OTP) and shown.
pub async fn activate(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    JsonBody(body): JsonBody<WithCode>,
) -> ApiResult<Json<Found>> {
    let Some(entry) = ra.store.by_code(&body.activation_code).await? else {
        // Not counted against any holder (see arm); recorded under the operator.
        ra.store.audit(&name, "arm-refused-wrong-code", "-", "").await?;
        return Err(Refusal::ActivationRefused { tries_left: None }.into());
    };
    if entry.locked() {
        return Err(Refusal::RequestLocked {}.into());
    }
    if entry.issuance == Issuance::Confirmed {
        return Err(Refusal::AlreadyIssued { reference: Some(entry.request.reference.clone()) }.into());
    }
    if !entry.request.armed {
        ra.store.arm(&entry.request.reference, &name, Some(&body.activation_code)).await?;
    }
    Ok(Json(super::activation::found(&entry, None, ra.otp)))
}

/// POST /api/v1/operator/certificates/{serial}/{action}: suspend, reactivate, revoke, or
/// approve or refuse a renewal (approval policy; refusing revokes it for good).
pub async fn lifecycle(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    Path((serial, action)): Path<(String, String)>,
    body: Option<Json<LifecycleChange>>,
) -> ApiResult<Json<LifecycleChanged>> {
    let serial = super::serial_from_hex(&serial).ok_or(Refusal::UnknownCertificate {})?;
    if !ra.store.certificate_exists(&serial).await? {
        return Err(Refusal::UnknownCertificate {}.into());
    }
    let now = time::OffsetDateTime::now_utc();
    let state = ra.store.lifecycle(&serial).await?.now(now);
    let reason = body.and_then(|b| b.0.reason);
    if action == "approve" || action == "refuse" {
        return decide(&ra, &name, &serial, state, action == "approve", now).await.map(Json);
    }
    let next = match (action.as_str(), state) {
        (_, Lifecycle::Revoked { .. }) => return Err(Refusal::CertificateRevoked {}.into()),
        ("suspend", Lifecycle::Active) => Lifecycle::Suspended { since: now },
        ("reactivate", Lifecycle::Suspended { .. }) => Lifecycle::Active,
        ("revoke", _) => Lifecycle::Revoked { at: now, reason: reason.unwrap_or(0) },
        ("suspend" | "reactivate", _) => return Err(Refusal::LifecycleNotAllowed { action }.into()),
        _ => return Err(Refusal::UnknownAction {}.into()),
    };
    ra.store.set_lifecycle_by(&serial, next, &name).await?;
    Ok(Json(LifecycleChanged { state: next.name().to_owned(), approval: None }))
}

/// Approve or refuse a renewal under the approval policy. Once revoked (120 days after the
/// old certificate's expiry) it is beyond decision; an approval must come within 90 days of
/// the renewal form's signature.
async fn decide(
    ra: &Ra,
    operator: &str,
    serial: &[u8],
    state: Lifecycle,
    approve: bool,
    now: time::OffsetDateTime,
) -> ApiResult<LifecycleChanged> {
    if let Lifecycle::Revoked { .. } = state {
        return Err(Refusal::CertificateRevoked {}.into());
    }
    if approve {
        let old = ra.store.replaced_by(serial).await?.unwrap_or_default();
        if let Some(signed) = ra.store.form_signed_for(&old).await?
            && now.unix_timestamp() - signed > crate::registry::APPROVAL_DAYS * 86_400
        {
            let signed_at = time::OffsetDateTime::from_unix_timestamp(signed)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_default();
            return Err(Refusal::ApprovalTooLate { signed_at }.into());
        }
    }
    let decided =
        if approve { ra.store.approve(serial, operator).await? } else { ra.store.refuse(serial, operator).await? };
    match (decided, approve) {
        (false, _) => Err(Refusal::NothingToApprove {}.into()),
        (true, true) => Ok(LifecycleChanged { state: "active".into(), approval: Some("approved".into()) }),
        (true, false) => Ok(LifecycleChanged { state: "revoked".into(), approval: Some("refused".into()) }),
    }
}

/// GET /api/v1/operator/requests/{reference}/handover: the printable sheet handed over with
/// the card: the first half of its PIN and PUK (the second halves go by e-mail once the
/// request is complete).
pub async fn handover(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    Path(reference): Path<String>,
) -> ApiResult<Json<Handover>> {
    let entry = ra.store.request(reference.as_bytes()).await?.ok_or(Refusal::UnknownRequest {})?;
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
    ra.store.audit(&name, "handover-printed", &reference, "").await?;
    Ok(Json(Handover { reference, holder, pin_first_half: pin, puk_first_half: puk, sheet }))
}

/// POST /api/v1/operator/requests/{reference}/halves: send the halves again.
pub async fn send_halves(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<Halves>,
) -> ApiResult<Json<HalvesSent>> {
    let entry = ra.store.request(reference.as_bytes()).await?.ok_or(Refusal::UnknownRequest {})?;
    let contact = ra.store.holder_of(&reference).await?;
    let p = ra.store.personalisation(&reference).await?.ok_or(Refusal::NoPersonalisation {})?;
    let message = match body.channel.as_str() {
        "sms" => {
            let mobile = entry.request.mobile.as_deref().or(contact.as_ref().and_then(|c| c.mobile.as_deref()));
            crate::personalisation::first_halves_sms(mobile.ok_or(Refusal::NoMobile {})?, &reference, &p)
        }
        "email" if entry.issuance != Issuance::Confirmed => return Err(Refusal::HalvesNotYet {}.into()),
        "email" => {
            let to = contact.as_ref().and_then(|c| c.email.as_deref()).ok_or(Refusal::NoEmail {})?;
            let holder = format!("{} {}", entry.request.holder.given_name, entry.request.holder.surname);
            crate::personalisation::completion_email(to, &holder, &reference, &p)
        }
        _ => return Err(Refusal::UnknownChannel {}.into()),
    };
    ra.store.audit(&name, "halves-sent", &reference, &body.channel).await?;
    if !ra.gateway.deliver(message).await {
        return Err(Refusal::SmsGatewayFailed {}.into());
    }
    Ok(Json(HalvesSent { reference, sent: body.channel }))
}
