//! The operator API (JSON, bearer token per operator): register holders (tax code checked,
//! check letter suggested, forcing confirmed explicitly), create requests with their
//! activation code (shown once), search requests, arm a request at the counter (no OTP),
//! and suspend / reactivate / revoke certificates by the lifecycle rules of DOMAIN.md.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::Digest;
use tessera_pki::codice_fiscale::{self, CfCheck};

use crate::gateway::{Channel, Message};
use crate::problem::{ApiError, JsonBody, internal, problem};
use crate::registry::{Holder, Lifecycle, Profile, RegisteredRequest};
use crate::state::Ra;
use crate::store::NewHolder;

/// An operator as configured: the token is kept as its SHA-256 only.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    pub name: String,
    pub token_sha256: String,
}

/// The operator a request's bearer token belongs to. An extractor from the request's
/// head: a call without a valid token gets 401 before its body is even read.
pub struct SignedIn(pub String);

impl axum::extract::FromRequestParts<Arc<Ra>> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, ra: &Arc<Ra>) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            // The scheme is case-insensitive (RFC 9110 11.1): bearer, Bearer, BEARER.
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let digest =
            |t: &str| -> String { sha2::Sha256::digest(t.as_bytes()).iter().map(|b| format!("{b:02x}")).collect() };
        token
            .and_then(|t| {
                let d = digest(t);
                ra.operators.iter().find(|o| o.token_sha256.eq_ignore_ascii_case(&d))
            })
            .map(|o| SignedIn(o.name.clone()))
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "operator-unauthenticated"))
    }
}

fn subject_refused(r: crate::registry::SubjectRefused) -> Response {
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "subject-field-refused",
        &[("field", r.field.to_owned()), ("reason", r.reason.to_owned())],
    )
}

/// Random characters from an alphabet without look-alikes (no 0/O, 1/I).
pub fn random_chars(n: usize) -> Option<String> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| ALPHABET[(b & 31) as usize] as char).collect())
}

/// POST /api/v1/operator/holders
pub async fn register_holder(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    JsonBody(mut h): JsonBody<NewHolder>,
) -> Response {
    match (&h.cf, &h.passport) {
        (None, None) => return problem(StatusCode::UNPROCESSABLE_ENTITY, "holder-needs-cf-or-passport", &[]),
        (None, Some(_))
            if !h
                .passport_country
                .as_deref()
                .is_some_and(|c| c.len() == 2 && c.chars().all(|c| c.is_ascii_alphabetic())) =>
        {
            return problem(StatusCode::UNPROCESSABLE_ENTITY, "passport-needs-country", &[]);
        }
        (Some(cf), _) => match codice_fiscale::check(cf) {
            CfCheck::Valid { code } => h.cf = Some(code),
            CfCheck::WrongCheckLetter { expected, .. } if !h.cf_forced => {
                return problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "cf-check-letter",
                    &[("expected", expected.to_string())],
                );
            }
            CfCheck::Malformed { position } if !h.cf_forced => {
                return problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "cf-malformed",
                    &[("position", position.to_string())],
                );
            }
            // Forced: the check letter or the data may be off, the shape may not.
            _ => match codice_fiscale::forced_shape(cf) {
                Ok(code) => h.cf = Some(code),
                Err(position) => {
                    return problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "cf-malformed",
                        &[("position", position.to_string())],
                    );
                }
            },
        },
        (None, Some(_)) => {}
    }
    // What goes into certificate subjects is checked when it is registered, not when a
    // certificate nobody accepts is already issued; names in NFC, as they are stored.
    h.given_name = crate::registry::normalise(&h.given_name);
    h.surname = crate::registry::normalise(&h.surname);
    let id = h.cf.clone().or_else(|| h.passport.clone()).unwrap_or_default();
    let mut subject = Holder::new(&h.given_name, &h.surname, &id);
    subject.email = h.email.clone();
    if let Err(r) = subject.check_subject() {
        return subject_refused(r);
    }
    h.passport = h.passport.map(|p| p.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase());
    h.passport_country = h.passport_country.map(|c| c.to_ascii_uppercase());
    h.mobile = h.mobile.map(|m| m.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect());
    h.email = h.email.map(|e| e.trim().to_owned());
    // OTPs and codes go to these: another person's mobile or e-mail would let them
    // activate this holder's requests (DOMAIN.md checks the same at renewal).
    match ra.store.contact_of_another(&h).await {
        Ok(Some(which)) => {
            return problem(StatusCode::CONFLICT, "contact-of-another-holder", &[("contact", which.into())]);
        }
        Ok(None) => {}
        Err(e) => return internal(e),
    }
    match ra.store.insert_holder(&h, &name).await {
        Ok(id) => (StatusCode::CREATED, Json(serde_json::json!({ "holder_id": id }))).into_response(),
        Err(e) => internal(e),
    }
}

/// How the activation code reaches the holder.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CodeDelivery {
    /// In the answer, for the operator to hand over (printout, or at the counter).
    #[default]
    Operator,
    /// By e-mail to the holder's registered address; the operator never sees it.
    Email,
}

#[derive(Deserialize)]
pub struct NewRequest {
    holder_id: i64,
    profile: Profile,
    #[serde(default)]
    code_delivery: CodeDelivery,
    /// Optional subject data (signature profile only).
    #[serde(default)]
    subject: SubjectExtras,
    /// Issue the certificates suspended until the paperwork is validated (then
    /// `reactivate`).
    #[serde(default)]
    issued_suspended: bool,
}

/// What a holder may add to the signature certificate's subject (DOMAIN.md).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SubjectExtras {
    /// Professional title or role in the organization.
    title: Option<String>,
    organization: Option<String>,
    /// The organization's VAT number [partita IVA] (checked), or
    organization_vat: Option<String>,
    /// its tax code (11 digits, or a person's 16 characters; checked).
    organization_cf: Option<String>,
    /// Put the holder's registered e-mail in the certificate (never a certified-mail one).
    #[serde(default)]
    include_email: bool,
}

fn unprocessable(code: &'static str, params: &[(&'static str, String)]) -> Box<Response> {
    Box::new(problem(StatusCode::UNPROCESSABLE_ENTITY, code, params))
}

/// Whether an address belongs to a certified-mail [PEC] domain (`pec.…`, `….pec.it`,
/// `legalmail`, `postacert`, `cert.…`): those never go into a certificate.
fn is_pec(address: &str) -> bool {
    let domain = address.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    domain.split('.').any(|label| ["pec", "legalmail", "postacert", "cert", "certmail"].contains(&label))
}

/// Check the subject extras against the holder and profile; fill them into `subject`.
fn add_extras(
    extras: SubjectExtras,
    holder: &NewHolder,
    profile: Profile,
    subject: &mut Holder,
) -> Result<(), Box<Response>> {
    let clean = |v: Option<String>| v.map(|s| crate::registry::normalise(&s)).filter(|s| !s.is_empty());
    let (title, organization) = (clean(extras.title), clean(extras.organization));
    let (vat, org_cf) = (clean(extras.organization_vat), clean(extras.organization_cf));
    let any = title.is_some() || organization.is_some() || vat.is_some() || org_cf.is_some() || extras.include_email;
    if any && !profile.has_signature() {
        return Err(unprocessable("subject-extras-signature-only", &[]));
    }
    let identifier = match (&vat, &org_cf) {
        (Some(_), Some(_)) => return Err(unprocessable("organization-one-identifier", &[])),
        (Some(vat), None) if codice_fiscale::valid_partita_iva(vat) => Some(format!("VATIT-{vat}")),
        (Some(_), None) => return Err(unprocessable("organization-vat-invalid", &[])),
        (None, Some(cf)) if codice_fiscale::valid_partita_iva(cf) => Some(format!("CF:IT-{cf}")),
        (None, Some(cf)) => match codice_fiscale::check(cf) {
            CfCheck::Valid { code } => Some(format!("CF:IT-{code}")),
            CfCheck::WrongCheckLetter { expected, .. } => {
                return Err(unprocessable("cf-check-letter", &[("expected", expected.to_string())]));
            }
            CfCheck::Malformed { position } => {
                return Err(unprocessable("cf-malformed", &[("position", position.to_string())]));
            }
        },
        (None, None) => None,
    };
    if organization.is_some() != identifier.is_some() {
        return Err(unprocessable("organization-needs-identifier", &[]));
    }
    subject.email = match (extras.include_email, &holder.email) {
        (false, _) => None,
        (true, None) => return Err(Box::new(problem(StatusCode::CONFLICT, "no-email", &[]))),
        (true, Some(address)) if is_pec(address) => return Err(unprocessable("email-is-pec", &[])),
        (true, Some(address)) => Some(address.clone()),
    };
    subject.title = title;
    subject.organization = organization;
    subject.organization_identifier = identifier;
    Ok(())
}

/// A new activation code: 12 characters without look-alikes, in groups of four.
/// A holder's user code [codice utente], for suspending or revoking later: 8 characters
/// without look-alikes.
pub fn random_user_code() -> Option<zeroize::Zeroizing<String>> {
    random_chars(8).map(zeroize::Zeroizing::new)
}

fn random_code() -> Option<zeroize::Zeroizing<String>> {
    random_chars(12).map(|c| tessera_protocol::activation::canonical_code(&c))
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

/// An e-mail address with its local part masked but for the first character.
pub(crate) fn masked_email(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

/// The answer once a code was made: the code itself, or where it was e-mailed.
async fn hand_over(ra: &Ra, status: StatusCode, reference: &str, code: &str, email: Option<Message>) -> Response {
    match email {
        None => (status, Json(serde_json::json!({ "reference": reference, "activation_code": code }))).into_response(),
        Some(m) => {
            let sent_to = masked_email(&m.to);
            if ra.gateway.deliver(m).await {
                (status, Json(serde_json::json!({ "reference": reference, "sent_to": sent_to }))).into_response()
            } else {
                // The request stands; POST …/code sends a new code once the provider is back.
                problem(StatusCode::BAD_GATEWAY, "email-gateway-failed", &[("reference", reference.to_owned())])
            }
        }
    }
}

/// POST /api/v1/operator/requests: the activation code is in this answer only.
pub async fn create_request(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    JsonBody(body): JsonBody<NewRequest>,
) -> Response {
    let holder = match ra.store.holder(body.holder_id).await {
        Ok(Some(h)) => h,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "unknown-holder", &[]),
        Err(e) => return internal(e),
    };
    // Without a tax code only the signature certificate can be issued (DOMAIN.md); its
    // serialNumber is then the passport's.
    let mut subject = match (&holder.cf, &holder.passport, body.profile) {
        (Some(cf), _, _) => Holder::new(&holder.given_name, &holder.surname, cf),
        (None, Some(passport), Profile::Signature) => Holder {
            passport_country: holder.passport_country.clone(),
            ..Holder::new(&holder.given_name, &holder.surname, passport)
        },
        _ => return problem(StatusCode::UNPROCESSABLE_ENTITY, "profile-needs-cf", &[]),
    };
    if let Err(refused) = add_extras(body.subject, &holder, body.profile, &mut subject) {
        return *refused;
    }
    if let Err(r) = subject.check_subject() {
        return subject_refused(r);
    }
    if body.code_delivery == CodeDelivery::Email && holder.email.is_none() {
        return problem(StatusCode::CONFLICT, "no-email", &[]);
    }
    let (Some(reference), Some(code)) = (random_chars(8), random_code()) else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "ra-internal", &[]);
    };
    let reference = format!("REQ-{reference}");
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
    match ra.store.create_request(&request, body.holder_id, &name, email.as_ref()).await {
        Ok(()) => hand_over(&ra, StatusCode::CREATED, &request.reference, &request.activation_code, email).await,
        Err(e) => internal(e),
    }
}

#[derive(Deserialize, Default)]
pub struct NewCode {
    #[serde(default)]
    code_delivery: CodeDelivery,
}

/// POST /api/v1/operator/requests/{reference}/code: a new activation code replaces the
/// old one (lost, or the request locked after wrong codes or OTPs), until issuance.
pub async fn replace_code(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    Path(reference): Path<String>,
    body: Option<Json<NewCode>>,
) -> Response {
    let delivery = body.map(|b| b.0.code_delivery).unwrap_or_default();
    match ra.store.request(reference.as_bytes()).await {
        Ok(Some(_)) => {}
        Ok(None) => return problem(StatusCode::NOT_FOUND, "unknown-request", &[]),
        Err(e) => return internal(e),
    }
    let Some(code) = random_code() else { return problem(StatusCode::INTERNAL_SERVER_ERROR, "ra-internal", &[]) };
    let email = match (delivery, ra.store.holder_of(&reference).await) {
        (CodeDelivery::Operator, _) => None,
        (CodeDelivery::Email, Ok(Some(holder))) => match code_email(&holder, &reference, &code) {
            Some(m) => Some(m),
            None => return problem(StatusCode::CONFLICT, "no-email", &[]),
        },
        (CodeDelivery::Email, Ok(None)) => return problem(StatusCode::CONFLICT, "no-email", &[]),
        (_, Err(e)) => return internal(e),
    };
    match ra.store.new_code(&reference, &code, &name, email.as_ref()).await {
        Ok(true) => hand_over(&ra, StatusCode::OK, &reference, &code, email).await,
        Ok(false) => problem(StatusCode::CONFLICT, "already-issued", &[]),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    /// At most this many rows (default 200, at most 10000).
    #[serde(default)]
    limit: Option<i64>,
}

/// GET /api/v1/operator/requests?q=
pub async fn search(State(ra): State<Arc<Ra>>, SignedIn(name): SignedIn, Query(s): Query<Search>) -> Response {
    let _ = name;
    match ra.store.search(&s.q, s.limit.unwrap_or(200).clamp(1, 10_000)).await {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct Arm {
    /// The code the holder brought, as typed: the RA keeps it sealed until issuance.
    activation_code: zeroize::Zeroizing<String>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    limit: Option<i64>,
}

/// GET /api/v1/operator/audit?subject=: who changed what and when, newest first.
pub async fn audit(State(ra): State<Arc<Ra>>, SignedIn(name): SignedIn, Query(q): Query<AuditQuery>) -> Response {
    let _ = name;
    match ra.store.audit_log(&q.subject, q.limit.unwrap_or(200).clamp(1, 10_000)).await {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => internal(e),
    }
}

/// GET /api/v1/operator/requests/{reference}: the request and its certificates.
pub async fn request(State(ra): State<Arc<Ra>>, SignedIn(name): SignedIn, Path(reference): Path<String>) -> Response {
    let _ = name;
    let row = match ra.store.request_row(&reference).await {
        Ok(Some(row)) => row,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "unknown-request", &[]),
        Err(e) => return internal(e),
    };
    match ra.store.certificates_of(&reference).await {
        Ok(certificates) => Json(serde_json::json!({ "request": row, "certificates": certificates })).into_response(),
        Err(e) => internal(e),
    }
}

/// POST /api/v1/operator/requests/{reference}/arm: at the counter, no OTP; the operator
/// types the activation code the holder brought.
pub async fn arm(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<Arm>,
) -> Response {
    match ra.store.request(reference.as_bytes()).await {
        Ok(Some(_)) => {}
        Ok(None) => return problem(StatusCode::NOT_FOUND, "unknown-request", &[]),
        Err(e) => return internal(e),
    }
    match ra.store.by_code(&body.activation_code).await {
        Ok(Some(e)) if e.request.reference == reference => {}
        Ok(_) => {
            // Not counted against the holder: the operator is authenticated, and a typo at
            // the counter must not lock the holder's request. It is in the audit log.
            return match ra.store.audit(&name, "arm-refused-wrong-code", &reference, "").await {
                Ok(()) => problem(StatusCode::FORBIDDEN, "activation-refused", &[]),
                Err(e) => internal(e),
            };
        }
        Err(e) => return internal(e),
    }
    match ra.store.arm(&reference, &name, Some(&body.activation_code)).await {
        Ok(()) => Json(serde_json::json!({ "reference": reference, "armed": true })).into_response(),
        Err(e) => internal(e),
    }
}

/// POST /api/v1/operator/activation: at the counter, the operator types the activation
/// code the holder brought; the request it belongs to is armed (no OTP) and shown.
pub async fn activate(State(ra): State<Arc<Ra>>, SignedIn(name): SignedIn, JsonBody(body): JsonBody<Arm>) -> Response {
    let entry = match ra.store.by_code(&body.activation_code).await {
        Ok(Some(e)) => e,
        Ok(None) => {
            // Not counted against any holder (see arm); recorded under the operator.
            return match ra.store.audit(&name, "arm-refused-wrong-code", "-", "").await {
                Ok(()) => problem(StatusCode::FORBIDDEN, "activation-refused", &[]),
                Err(e) => internal(e),
            };
        }
        Err(e) => return internal(e),
    };
    if entry.locked() {
        return problem(StatusCode::LOCKED, "request-locked", &[]);
    }
    if entry.issuance == crate::registry::Issuance::Confirmed {
        return problem(StatusCode::CONFLICT, "already-issued", &[("reference", entry.request.reference.clone())]);
    }
    if !entry.request.armed
        && let Err(e) = ra.store.arm(&entry.request.reference, &name, Some(&body.activation_code)).await
    {
        return internal(e);
    }
    Json(crate::activation::Found::new(&entry, None, ra.otp)).into_response()
}

#[derive(Deserialize, Default)]
pub struct Change {
    #[serde(default)]
    reason: Option<u8>,
}

/// POST /api/v1/operator/certificates/{serial}/{action}: suspend, reactivate, revoke, or
/// approve or refuse a renewal (approval policy; refusing revokes it for good).
pub async fn lifecycle(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    Path((serial, action)): Path<(String, String)>,
    body: Option<Json<Change>>,
) -> Response {
    let Some(serial) = crate::renewal::serial_from_hex(&serial) else {
        return problem(StatusCode::NOT_FOUND, "unknown-certificate", &[]);
    };
    match ra.store.certificate_exists(&serial).await {
        Ok(true) => {}
        Ok(false) => return problem(StatusCode::NOT_FOUND, "unknown-certificate", &[]),
        Err(e) => return internal(e),
    }
    let now = time::OffsetDateTime::now_utc();
    let state = match ra.store.lifecycle(&serial).await {
        Ok(s) => s.now(now),
        Err(e) => return internal(e),
    };
    let reason = body.map(|b| b.0.reason).unwrap_or_default();
    if action == "approve" || action == "refuse" {
        // A renewal under the approval policy; once revoked (120 days after the old
        // certificate's expiry) it is beyond decision.
        if let Lifecycle::Revoked { .. } = state {
            return problem(StatusCode::CONFLICT, "certificate-revoked", &[]);
        }
        let approve = action == "approve";
        // DOMAIN.md: an approval must come within 90 days of the renewal form's signature.
        if approve {
            let old = match ra.store.replaced_by(&serial).await {
                Ok(old) => old.unwrap_or_default(),
                Err(e) => return internal(e),
            };
            match ra.store.form_signed_for(&old).await {
                Ok(Some(signed)) if now.unix_timestamp() - signed > crate::registry::APPROVAL_DAYS * 86_400 => {
                    let at = time::OffsetDateTime::from_unix_timestamp(signed)
                        .ok()
                        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                        .unwrap_or_default();
                    return problem(StatusCode::CONFLICT, "approval-too-late", &[("signed_at", at)]);
                }
                Ok(_) => {}
                Err(e) => return internal(e),
            }
        }
        let decided =
            if approve { ra.store.approve(&serial, &name).await } else { ra.store.refuse(&serial, &name).await };
        return match decided {
            Ok(true) if approve => {
                Json(serde_json::json!({ "state": "active", "approval": "approved" })).into_response()
            }
            Ok(true) => Json(serde_json::json!({ "state": "revoked", "approval": "refused" })).into_response(),
            Ok(false) => problem(StatusCode::CONFLICT, "nothing-to-approve", &[]),
            Err(e) => internal(e),
        };
    }
    let next = match (action.as_str(), state) {
        (_, Lifecycle::Revoked { .. }) => return problem(StatusCode::CONFLICT, "certificate-revoked", &[]),
        ("suspend", Lifecycle::Active) => Lifecycle::Suspended { since: now },
        ("reactivate", Lifecycle::Suspended { .. }) => Lifecycle::Active,
        ("revoke", _) => Lifecycle::Revoked { at: now, reason: reason.unwrap_or(0) },
        ("suspend" | "reactivate", _) => {
            return problem(StatusCode::CONFLICT, "lifecycle-not-allowed", &[("action", action.clone())]);
        }
        _ => return problem(StatusCode::NOT_FOUND, "unknown-action", &[]),
    };
    match ra.store.set_lifecycle_by(&serial, next, &name).await {
        Ok(()) => {
            Json(serde_json::json!({ "state": format!("{next:?}").split_whitespace().next().unwrap_or_default() }))
                .into_response()
        }
        Err(e) => internal(e),
    }
}

/// GET /api/v1/operator/requests/{reference}/handover: the printable sheet handed over with
/// the card: the first half of its PIN and PUK (the second halves go by e-mail once the
/// request is complete).
pub async fn handover(State(ra): State<Arc<Ra>>, SignedIn(name): SignedIn, Path(reference): Path<String>) -> Response {
    let holder = match ra.store.request(reference.as_bytes()).await {
        Ok(Some(e)) => format!("{} {}", e.request.holder.given_name, e.request.holder.surname),
        Ok(None) => return problem(StatusCode::NOT_FOUND, "unknown-request", &[]),
        Err(e) => return internal(e),
    };
    let p = match ra.store.personalisation(&reference).await {
        Ok(Some(p)) => p,
        Ok(None) => return problem(StatusCode::CONFLICT, "no-personalisation", &[]),
        Err(e) => return internal(e),
    };
    use crate::personalisation::half;
    let (pin, puk) = (half(&p.pin, false), half(&p.puk, false));
    let sheet = format!(
        "TESSERA · Consegna della carta / Card handover\n\nPratica / Request: {reference}\nTitolare / Holder: {holder}\n\n\
         Prima metà del PIN / First half of the PIN: {pin}\nPrima metà del PUK / First half of the PUK: {puk}\n\n\
         La seconda metà e il codice utente arrivano per e-mail a pratica completata. Non comunicarli a nessuno.\n\
         The second halves and the user code come by e-mail once the request is complete. Tell them to nobody.\n"
    );
    match ra.store.audit(&name, "handover-printed", &reference, "").await {
        Ok(()) => Json(serde_json::json!({
            "reference": reference, "holder": holder, "pin_first_half": pin, "puk_first_half": puk, "sheet": sheet,
        }))
        .into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct Halves {
    /// "sms": the first halves to the holder's mobile; "email": the second halves and the
    /// user code to the holder's e-mail (once the request is complete).
    channel: String,
}

/// POST /api/v1/operator/requests/{reference}/halves: send the halves again.
pub async fn send_halves(
    State(ra): State<Arc<Ra>>,
    SignedIn(name): SignedIn,
    Path(reference): Path<String>,
    JsonBody(body): JsonBody<Halves>,
) -> Response {
    let entry = match ra.store.request(reference.as_bytes()).await {
        Ok(Some(e)) => e,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "unknown-request", &[]),
        Err(e) => return internal(e),
    };
    let contact = match ra.store.holder_of(&reference).await {
        Ok(h) => h,
        Err(e) => return internal(e),
    };
    let p = match ra.store.personalisation(&reference).await {
        Ok(Some(p)) => p,
        Ok(None) => return problem(StatusCode::CONFLICT, "no-personalisation", &[]),
        Err(e) => return internal(e),
    };
    let message = match body.channel.as_str() {
        "sms" => match entry.request.mobile.as_deref().or(contact.as_ref().and_then(|c| c.mobile.as_deref())) {
            Some(mobile) => crate::personalisation::first_halves_sms(mobile, &reference, &p),
            None => return problem(StatusCode::CONFLICT, "no-mobile", &[]),
        },
        "email" if entry.issuance != crate::registry::Issuance::Confirmed => {
            return problem(StatusCode::CONFLICT, "halves-not-yet", &[]);
        }
        "email" => match contact.as_ref().and_then(|c| c.email.as_deref()) {
            Some(to) => {
                let holder = format!("{} {}", entry.request.holder.given_name, entry.request.holder.surname);
                crate::personalisation::completion_email(to, &holder, &reference, &p)
            }
            None => return problem(StatusCode::CONFLICT, "no-email", &[]),
        },
        _ => return problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown-channel", &[]),
    };
    if let Err(e) = ra.store.audit(&name, "halves-sent", &reference, &body.channel).await {
        return internal(e);
    }
    if ra.gateway.deliver(message).await {
        Json(serde_json::json!({ "reference": reference, "sent": body.channel })).into_response()
    } else {
        problem(StatusCode::BAD_GATEWAY, "sms-gateway-failed", &[])
    }
}
