//! Certificates [sospensione, riattivazione, revoca]: found by the holder's name, tax
//! code, serial or request; a certificate's page with its history and the lifecycle
//! change: who asks (the holder, or a third party for an organisation role) and the
//! identity document they show, the reason (RFC 5280; the invalidity date of a key
//! compromise), the pre-filled form printed and signed, its scan and the document's
//! uploaded; then the change, which the CRL and OCSP show at once.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::operator::AuditEntry;

use super::paper;
use super::session::{Me, SubmittedFiles};
use super::ui::Ui;
use super::{FormErrors, render, render_status};
use crate::documents::kinds;
use crate::lifecycle::{KEY_COMPROMISE, REASONS};
use crate::registry::Lifecycle;
use crate::state::Ra;
use crate::store::CertificateView;
use crate::store::documents::{DocumentInfo, NewDocument};

/// The states a search may ask for.
pub const STATES: [&str; 3] = ["active", "suspended", "revoked"];

#[derive(Template)]
#[template(path = "certificates.html")]
struct ListPage {
    ui: Ui,
    q: Find,
    rows: Vec<CertificateView>,
    states: [&'static str; 3],
}

#[derive(serde::Deserialize, Default)]
pub struct Find {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
}

/// GET /console/certificates
pub async fn list(State(ra): State<Arc<Ra>>, me: Me, Query(q): Query<Find>) -> Response {
    if !me.account.role.serves_office() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let state = if STATES.contains(&q.state.as_str()) { q.state.as_str() } else { "" };
    let rows = ra.store.find_certificates(&q.q, state, me.office(), 500).await.unwrap_or_default();
    render(&ListPage { ui: me.ui, rows, q, states: STATES })
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage {
    ui: Ui,
    errors: FormErrors,
    c: CertificateView,
    events: Vec<AuditEntry>,
    documents: Vec<DocumentInfo>,
    /// The form's values, as typed.
    v: HashMap<String, String>,
    notice: Option<String>,
    reasons: [u8; 6],
    kinds: [&'static str; 5],
    max_mb: usize,
    max_files: usize,
}

impl CertificatePage {
    fn val(&self, name: &str) -> String {
        self.v.get(name).cloned().unwrap_or_default()
    }

    fn checked(&self, name: &str, value: &str) -> bool {
        self.v.get(name).is_some_and(|v| v == value)
    }

    /// The changes the certificate's state allows.
    fn actions(&self) -> Vec<&'static str> {
        match self.c.state {
            Lifecycle::Active => vec!["suspend", "revoke"],
            // Held by the CA for the paperwork: not reinstated here (suspending records the
            // holder's own request).
            Lifecycle::Suspended { .. } if self.c.held_for.is_some() => vec!["suspend", "revoke"],
            Lifecycle::Suspended { .. } => vec!["reactivate", "revoke"],
            Lifecycle::Revoked { .. } => vec![],
        }
    }

    fn since(&self) -> Option<i64> {
        match self.c.state {
            Lifecycle::Active => None,
            Lifecycle::Suspended { since } => Some(since.unix_timestamp()),
            Lifecycle::Revoked { at, .. } => Some(at.unix_timestamp()),
        }
    }

    fn revoked_reason(&self) -> Option<String> {
        match self.c.state {
            Lifecycle::Revoked { reason, .. } => Some(self.ui.label("console-reason", &reason.to_string())),
            _ => None,
        }
    }

    fn reason_selected(&self, r: &u8) -> bool {
        self.v.get("reason").is_some_and(|v| *v == r.to_string())
    }
}

fn serial_of(text: &str) -> Option<Vec<u8>> {
    crate::api::serial_from_hex(text)
}

/// The certificate, if the operator's office may see it: else it does not exist for them.
async fn visible(ra: &Ra, me: &Me, serial: &[u8]) -> Option<CertificateView> {
    if !me.account.role.serves_office() {
        return None;
    }
    ra.store.certificate_view(serial).await.ok().flatten().filter(|c| c.office.as_deref() == Some(me.office()))
}

async fn page_of(
    ra: &Ra,
    me: Me,
    c: CertificateView,
    errors: FormErrors,
    v: HashMap<String, String>,
    notice: Option<String>,
) -> Response {
    let events = ra.store.audit_log(&c.serial, 100, "").await.unwrap_or_default();
    let documents = ra.store.documents_of("certificate", &c.serial).await.unwrap_or_default();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = CertificatePage {
        ui: me.ui,
        errors,
        c,
        events,
        documents,
        v,
        notice,
        reasons: REASONS,
        kinds: paper::DOCUMENT_KINDS,
        max_mb: ra.console.upload_max_bytes / (1024 * 1024),
        max_files: ra.console.uploads_per_step,
    };
    render_status(status, &page)
}

#[derive(serde::Deserialize, Default)]
pub struct Said {
    #[serde(default)]
    done: Option<String>,
}

/// GET /console/certificates/{serial}
pub async fn page(State(ra): State<Arc<Ra>>, me: Me, Path(serial): Path<String>, Query(q): Query<Said>) -> Response {
    let Some(bytes) = serial_of(&serial) else { return StatusCode::NOT_FOUND.into_response() };
    let Some(c) = visible(&ra, &me, &bytes).await else { return StatusCode::NOT_FOUND.into_response() };
    let notice = q
        .done
        .as_deref()
        .filter(|d| ["suspend", "reactivate", "revoke"].contains(d))
        .map(|d| me.ui.label("console-lifecycle-done", d));
    let mut v = HashMap::new();
    v.insert("requester".to_owned(), "holder".to_owned());
    page_of(&ra, me, c, FormErrors::default(), v, notice).await
}

/// What the lifecycle form says, checked; field errors in `errors`.
struct Asked {
    action: String,
    reason: Option<u8>,
    invalidity: Option<i64>,
    requester: String,
    document: crate::store::verification::IdDocument,
}

fn asked(ui: &Ui, c: &CertificateView, f: &HashMap<String, String>, errors: &mut FormErrors) -> Asked {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let action = get("action");
    let allowed = match c.state {
        Lifecycle::Active => ["suspend", "revoke"].contains(&action.as_str()),
        Lifecycle::Suspended { .. } if c.held_for.is_some() => ["suspend", "revoke"].contains(&action.as_str()),
        Lifecycle::Suspended { .. } => ["reactivate", "revoke"].contains(&action.as_str()),
        Lifecycle::Revoked { .. } => false,
    };
    if !allowed {
        errors.field("action", ui.t("console-error-action"), ui.t("console-error-action-remedy"));
    }
    let reason = if action == "revoke" {
        match get("reason").parse::<u8>() {
            Ok(r) if REASONS.contains(&r) => Some(r),
            _ => {
                errors.field("reason", ui.t("console-error-reason-code"), ui.t("console-error-reason-code-remedy"));
                None
            }
        }
    } else {
        None
    };
    let mut invalidity = None;
    if reason == Some(KEY_COMPROMISE) {
        let now = time::OffsetDateTime::now_utc();
        match crate::registration::parse_date(&get("invalidity_date")) {
            // The day the key is known or suspected compromised; not before the
            // certificate's start, not after now.
            Some(d) if d <= now.date() => {
                let t = d.midnight().assume_utc().unix_timestamp().max(c.not_before).min(now.unix_timestamp());
                invalidity = Some(t);
            }
            _ => errors.field(
                "invalidity_date",
                ui.t("console-error-invalidity-date"),
                ui.t("console-error-invalidity-date-remedy"),
            ),
        }
    }
    let requester = if get("requester") == "third-party" {
        let (name, role) = (get("requester_name"), get("requester_role"));
        if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
            errors.field("requester_name", ui.t("console-error-required"), ui.t("console-error-required-remedy"));
        }
        if role.is_empty() || role.chars().count() > 128 || role.chars().any(char::is_control) {
            errors.field("requester_role", ui.t("console-error-required"), ui.t("console-error-required-remedy"));
        }
        format!("{name} ({role})")
    } else {
        format!("{} {} ({})", c.surname, c.given_name, ui.t("console-requester-holder"))
    };
    let document = paper::id_document(ui, f, errors);
    Asked { action, reason, invalidity, requester, document }
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:02}/{:02}/{}", d.day(), d.month() as u8, d.year())
}

/// POST /console/certificates/{serial}/form.pdf: the form for the change asked, filled in
/// with what was typed, to print and have signed.
pub async fn form_pdf(State(ra): State<Arc<Ra>>, Path(serial): Path<String>, form: SubmittedFiles) -> Response {
    let me = form.me;
    let Some(bytes) = serial_of(&serial) else { return StatusCode::NOT_FOUND.into_response() };
    let Some(c) = visible(&ra, &me, &bytes).await else { return StatusCode::NOT_FOUND.into_response() };
    let mut errors = FormErrors::default();
    let a = asked(&me.ui, &c, &form.fields, &mut errors);
    if !errors.is_empty() {
        return page_of(&ra, me, c, errors, form.fields, None).await;
    }
    let d = &a.document;
    let document =
        format!("{} {} · {} · {} – {}", me.ui.label("console-id", &d.kind), d.number, d.issuer, d.issued, d.expires);
    let mut reason = a.reason.map(|r| me.ui.label("console-reason", &r.to_string())).unwrap_or_default();
    if let Some(t) = a.invalidity {
        reason.push_str(&format!(" · {} {}", me.ui.t("console-field-invalidity-date"), me.ui.when(&t)));
    }
    let holder = format!("{} {}", c.surname, c.given_name);
    let f = crate::forms::LifecycleForm {
        serial: &c.serial,
        holder: &holder,
        identity: &c.identity,
        action: &a.action,
        reason: &reason,
        requester: &a.requester,
        requester_document: &document,
        office: c.office.as_deref().unwrap_or_default(),
        today: &today(),
    };
    let _ = ra.store.audit_event(&me.event("lifecycle-form-printed", &c.serial, &a.action)).await;
    super::requests::pdf(crate::forms::lifecycle_form(&f), &format!("{}-{}.pdf", a.action, c.serial))
}

/// POST /console/certificates/{serial}/change: the change, with the signed form's scan
/// and the requester's document.
pub async fn change(State(ra): State<Arc<Ra>>, Path(serial): Path<String>, form: SubmittedFiles) -> Response {
    let me = form.me;
    let Some(bytes) = serial_of(&serial) else { return StatusCode::NOT_FOUND.into_response() };
    let Some(c) = visible(&ra, &me, &bytes).await else { return StatusCode::NOT_FOUND.into_response() };
    let mut errors = FormErrors::default();
    let a = asked(&me.ui, &c, &form.fields, &mut errors);
    let wanted = [kinds::LIFECYCLE_FORM, kinds::REQUESTER_ID];
    let files = paper::accepted(&me.ui, &ra.console, &form.files, &wanted, &wanted, &[], &mut errors);
    if !errors.is_empty() {
        return page_of(&ra, me, c, errors, form.fields, None).await;
    }
    for f in files {
        let d = NewDocument {
            owner_kind: "certificate",
            owner: &c.serial,
            office: c.office.as_deref(),
            kind: f.kind,
            media: f.media,
            bytes: f.bytes,
            keep_days: ra.console.retention_days,
        };
        if ra.store.add_document(&d, &me.event("", "", "")).await.is_err() {
            return (StatusCode::INTERNAL_SERVER_ERROR, "the document could not be kept").into_response();
        }
    }
    let detail = format!("asked by {}; document {} {}", a.requester, a.document.kind, a.document.number);
    let change =
        crate::lifecycle::Change { action: &a.action, reason: a.reason, invalidity: a.invalidity, detail: &detail };
    match crate::lifecycle::change(&ra, &me.actor(), &bytes, &change).await {
        Ok(_) => Redirect::to(&format!("/console/certificates/{}?done={}", c.serial, a.action)).into_response(),
        Err(Refusal::UnknownCertificate {}) => StatusCode::NOT_FOUND.into_response(),
        Err(r) => {
            let mut errors = FormErrors::default();
            let (cause, remedy) = me.ui.error(r.code(), &r.params());
            errors.set_general(cause, remedy);
            let c = ra.store.certificate_view(&bytes).await.ok().flatten().unwrap_or(c);
            page_of(&ra, me, c, errors, form.fields, None).await
        }
    }
}
