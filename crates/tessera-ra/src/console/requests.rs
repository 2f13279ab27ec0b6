//! A request's page: the holder and the request, identification (the document shown, the
//! request form printed, signed and uploaded with the document's scans), the verifier's
//! decision, the activation code (made once identified, shown once or e-mailed), the
//! card's handover (first halves on a printed sheet or by SMS, second halves by e-mail
//! once verified), the link that opens the desktop app at the counter, its certificates
//! and its events.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tessera_protocol::workflow::operator::AuditEntry;
use tessera_protocol::workflow::operator::CertificateRow;

use super::paper;
use super::session::{Me, Submitted, SubmittedFiles};
use super::ui::Ui;
use super::{FormErrors, render_status};
use crate::documents::kinds;
use crate::paperwork::NotDecided;
use crate::remote_identification::NotIdentified;
use crate::state::Ra;
use crate::store::documents::{DocumentInfo, NewDocument};
use crate::store::verification::{IdDocument, RequestView};

/// Why a form signed remotely was refused (`console-error-remote-<why>` and its remedy).
pub const REMOTE_REFUSALS: [&str; 10] = [
    "one-file",
    "no-tax-code",
    "signature",
    "certificate-expired",
    "certificate-revoked",
    "not-for-signing",
    "untrusted",
    "another-person",
    "another-document",
    "wrong-mode",
];

/// What an action just did, said once on the page after it (`?done=`).
pub const DONE: [&str; 6] = ["identified", "verified", "to-correct", "originals", "halves-sms", "halves-email"];

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    ui: Ui,
    errors: FormErrors,
    r: RequestView,
    document: Option<IdDocument>,
    documents: Vec<DocumentInfo>,
    certificates: Vec<CertificateRow>,
    events: Vec<AuditEntry>,
    /// A code just made: shown this once.
    code: Option<String>,
    /// Said once, after an action.
    notice: Option<String>,
    /// The identification form's values, as typed.
    idv: IdDocument,
    /// The signed-in operator may act for the office (not only verify).
    office_role: bool,
    /// The signed-in verifier may decide (four eyes).
    may_decide: bool,
    kinds: [&'static str; 5],
    /// The RA made the card's PIN and PUK (a blank card): the halves can be handed over.
    personalised: bool,
    max_mb: usize,
    max_files: usize,
    /// Remote identification is configured (trusted CAs for the signed form).
    remote_offered: bool,
}

impl RequestPage {
    fn state_label(&self) -> String {
        self.ui.t(&format!("console-state-{}", self.r.verification.as_deref().unwrap_or("api")))
    }

    fn identifying(&self) -> bool {
        self.office_role && matches!(self.r.verification.as_deref(), Some("registered" | "to-correct"))
    }

    fn identified(&self) -> bool {
        !matches!(self.r.verification.as_deref(), Some("registered" | "to-correct"))
    }

    fn verified(&self) -> bool {
        matches!(self.r.verification.as_deref(), None | Some("awaiting-originals" | "completed"))
    }

    fn issued(&self) -> bool {
        self.r.issuance == "confirmed"
    }

    fn doc_label(&self, kind: &str) -> String {
        self.ui.t(&format!("console-doc-{kind}"))
    }

    fn id_kind_label(&self, kind: &str) -> String {
        self.ui.t(&format!("console-id-{kind}"))
    }

    fn remote(&self) -> bool {
        self.idv.mode == "remote"
    }

    /// The files identification asks for.
    fn upload_kinds(&self) -> Vec<&'static str> {
        let mut k = vec![kinds::SIGNED_FORM, kinds::ID_FRONT, kinds::ID_BACK];
        if self.r.organization.is_some() {
            k.push(kinds::REPRESENTATION);
        }
        k
    }

    /// A document of this kind was uploaded before (a correction may keep it).
    fn has_document(&self, kind: &str) -> bool {
        self.documents.iter().any(|d| d.kind == kind)
    }

    fn counter_link(&self) -> String {
        format!("tessera://counter?reference={}", self.r.reference)
    }
}

/// Whether the signed-in operator may see this request: their office's, or (a verifier)
/// any office's once it went to verification. Otherwise it does not exist for them.
pub fn may_see(me: &Me, r: &RequestView) -> bool {
    if me.account.role.serves_office() {
        return r.office.as_deref() == Some(me.office());
    }
    matches!(r.verification.as_deref(), Some("to-verify" | "to-correct" | "awaiting-originals" | "completed"))
}

async fn visible(ra: &Ra, me: &Me, reference: &str) -> Option<RequestView> {
    ra.store.request_view(reference).await.ok().flatten().filter(|r| may_see(me, r))
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:02}/{:02}/{}", d.day(), d.month() as u8, d.year())
}

#[derive(serde::Deserialize, Default)]
pub struct Said {
    #[serde(default)]
    registered: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

async fn request_page(
    ra: &Ra,
    me: Me,
    r: RequestView,
    errors: FormErrors,
    code: Option<String>,
    notice: Option<String>,
    idv: Option<IdDocument>,
) -> Response {
    let document = r.id_document.as_deref().and_then(|j| serde_json::from_str::<IdDocument>(j).ok());
    let documents = ra.store.documents_of("request", &r.reference).await.unwrap_or_default();
    let certificates = ra.store.certificates_of(&r.reference).await.unwrap_or_default();
    let events = ra.store.audit_log(&r.reference, 200, "").await.unwrap_or_default();
    let office_role = me.account.role.serves_office();
    let may_decide =
        me.account.role == crate::accounts::Role::Verifier && !crate::paperwork::took_part(&me.actor(), &r);
    let personalised = ra.store.personalisation(&r.reference).await.ok().flatten().is_some();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    // Remote identification matches a tax code: not for a holder registered with a passport.
    let remote_offered = !ra.remote_anchors.is_empty() && r.passport_country.is_none();
    let page = RequestPage {
        idv: idv
            .or_else(|| document.clone())
            .unwrap_or_else(|| IdDocument { mode: "in-person".into(), ..Default::default() }),
        ui: me.ui,
        errors,
        r,
        document,
        documents,
        certificates,
        events,
        code,
        notice,
        office_role,
        may_decide,
        kinds: paper::DOCUMENT_KINDS,
        personalised,
        max_mb: ra.console.upload_max_bytes / (1024 * 1024),
        max_files: ra.console.uploads_per_step,
        remote_offered,
    };
    render_status(status, &page)
}

/// GET /console/requests/{reference}
pub async fn page(State(ra): State<Arc<Ra>>, me: Me, Path(reference): Path<String>, Query(q): Query<Said>) -> Response {
    let Some(r) = visible(&ra, &me, &reference).await else { return StatusCode::NOT_FOUND.into_response() };
    let notice = match (q.registered, q.done.as_deref()) {
        (Some(_), _) => Some(me.ui.t("console-request-registered")),
        (_, Some(what)) if DONE.contains(&what) => Some(me.ui.label("console-done", what)),
        _ => None,
    };
    request_page(&ra, me, r, FormErrors::default(), None, notice, None).await
}

/// GET /console/requests/{reference}/form.pdf: the request form to print and sign.
pub async fn form_pdf(State(ra): State<Arc<Ra>>, me: Me, Path(reference): Path<String>) -> Response {
    let Some(r) = visible(&ra, &me, &reference).await else { return StatusCode::NOT_FOUND.into_response() };
    let form = crate::forms::request_form(&r, &me.account.name, &today());
    let identifying =
        me.account.role.serves_office() && matches!(r.verification.as_deref(), Some("registered" | "to-correct"));
    if let Some(bytes) = form.as_ref().filter(|_| identifying) {
        // Kept by its digest: the holder may sign this very file remotely (only a form
        // the office makes while identifying is one to sign).
        let digest = crate::remote_identification::form_digest(bytes);
        if ra.store.record_request_form(&reference, &digest).await.is_err() {
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
        let _ = ra.store.audit_event(&me.event("request-form-printed", &reference, &format!("sha256 {digest}"))).await;
    }
    pdf(form, &format!("richiesta-{reference}.pdf"))
}

/// A PDF as a download.
pub fn pdf(bytes: Option<Vec<u8>>, name: &str) -> Response {
    match bytes {
        Some(b) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            ],
            b,
        )
            .into_response(),
        None => (StatusCode::INTERNAL_SERVER_ERROR, "the PDF could not be made").into_response(),
    }
}

/// POST /console/requests/{reference}/identify (multipart): the identity document, the
/// signed request form and the document's scans; the request goes to verification.
pub async fn identify(State(ra): State<Arc<Ra>>, Path(reference): Path<String>, form: SubmittedFiles) -> Response {
    let me = form.me;
    let Some(r) = visible(&ra, &me, &reference).await else { return StatusCode::NOT_FOUND.into_response() };
    if !me.account.role.serves_office() || !matches!(r.verification.as_deref(), Some("registered" | "to-correct")) {
        return StatusCode::CONFLICT.into_response();
    }
    let mut errors = FormErrors::default();
    let mut document = paper::id_document(&me.ui, &form.fields, &mut errors);
    let remote = document.mode == "remote";
    if remote && ra.remote_anchors.is_empty() {
        return StatusCode::CONFLICT.into_response();
    }
    // The files: each a PDF, JPEG or PNG by its content (the remote form: a .p7m), within
    // the limits; a correction keeps what was uploaded before unless replaced. In person:
    // the signed form and the document's scans; remote: the signed .p7m, the scans if any.
    let mut wanted =
        if remote { vec![kinds::SIGNED_FORM_P7M] } else { vec![kinds::SIGNED_FORM, kinds::ID_FRONT, kinds::ID_BACK] };
    if r.organization.is_some() {
        wanted.push(kinds::REPRESENTATION);
    }
    let kept: Vec<String> =
        ra.store.documents_of("request", &reference).await.unwrap_or_default().into_iter().map(|d| d.kind).collect();
    // A remote form is checked now, so it is never kept from before.
    let kept: Vec<String> = kept.into_iter().filter(|k| k != kinds::SIGNED_FORM_P7M).collect();
    let all: &[&str] = if remote {
        &[kinds::SIGNED_FORM_P7M, kinds::ID_FRONT, kinds::ID_BACK, kinds::REPRESENTATION]
    } else {
        &[kinds::SIGNED_FORM, kinds::ID_FRONT, kinds::ID_BACK, kinds::REPRESENTATION]
    };
    // A file in the other mode's field is said, not dropped.
    let other_mode = if remote { kinds::SIGNED_FORM } else { kinds::SIGNED_FORM_P7M };
    if form.files.iter().any(|f| f.field == other_mode) {
        errors.field(
            other_mode,
            me.ui.t("console-error-remote-wrong-mode"),
            me.ui.t("console-error-remote-wrong-mode-remedy"),
        );
    }
    let accepted = paper::accepted(&me.ui, &ra.console, &form.files, all, &wanted, &kept, &mut errors);
    if remote && errors.is_empty() {
        let signed: Vec<&[u8]> =
            accepted.iter().filter(|f| f.kind == kinds::SIGNED_FORM_P7M).map(|f| f.bytes).collect();
        let checked = match signed.as_slice() {
            [one] => crate::remote_identification::check(&ra, &r, one).await.map_err(Some),
            _ => Err(None),
        };
        match checked {
            Ok(signer) => document.signer = Some(signer.describe()),
            Err(refused) => {
                let id = match refused.as_ref().map(|r| &r.why) {
                    None => "one-file",
                    Some(NotIdentified::NotOffered) => return StatusCode::CONFLICT.into_response(),
                    Some(NotIdentified::Internal) => {
                        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
                    }
                    Some(why) => why.name(),
                };
                // A form signed by someone else is worth knowing about: logged with the
                // technical cause and the signer.
                if let Some(r) = &refused {
                    let detail = match &r.why {
                        NotIdentified::BadSignature(d) | NotIdentified::Untrusted(d) => format!("{id}: {d}"),
                        _ => id.to_owned(),
                    };
                    let signer = r.signer.as_ref().map(|s| format!(", signer {}", s.describe())).unwrap_or_default();
                    let detail = format!("{detail}{signer}");
                    let event = me.event("remote-identification-refused", &reference, &detail);
                    let _ = ra.store.audit_event(&event).await;
                }
                let (cause, remedy) =
                    (format!("console-error-remote-{id}"), format!("console-error-remote-{id}-remedy"));
                errors.field(kinds::SIGNED_FORM_P7M, me.ui.t(&cause), me.ui.t(&remedy));
            }
        }
    }
    if !errors.is_empty() {
        return request_page(&ra, me, r, errors, None, None, Some(document)).await;
    }
    let scans: Vec<NewDocument> = accepted
        .iter()
        .map(|f| NewDocument {
            owner_kind: "request",
            owner: &reference,
            office: r.office.as_deref(),
            kind: f.kind,
            media: f.media,
            bytes: f.bytes,
            keep_days: ra.console.retention_days,
        })
        .collect();
    match ra.store.identify(&reference, &document, &scans, &me.event("", "", "")).await {
        Ok(true) => Redirect::to(&format!("/console/requests/{reference}?done=identified")).into_response(),
        Ok(false) => {
            // Someone else identified it meanwhile: said, nothing kept.
            let r = visible(&ra, &me, &reference).await.unwrap_or(r);
            let mut errors = FormErrors::default();
            errors.set_general(me.ui.t("console-error-moved"), me.ui.t("console-error-moved-remedy"));
            request_page(&ra, me, r, errors, None, None, Some(document)).await
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}

/// POST /console/requests/{reference}/decision: the verifier's decision (verified, to
/// correct with a reason, originals received).
pub async fn decide(State(ra): State<Arc<Ra>>, Path(reference): Path<String>, form: Submitted) -> Response {
    let me = form.me;
    let Some(r) = visible(&ra, &me, &reference).await else { return StatusCode::NOT_FOUND.into_response() };
    if me.account.role != crate::accounts::Role::Verifier {
        return StatusCode::NOT_FOUND.into_response();
    }
    let actor = me.actor();
    let reason = form.fields.get("reason").cloned().unwrap_or_default();
    let (decision, done) = match form.fields.get("decision").map(String::as_str) {
        Some("verified") => (crate::paperwork::verified(&ra, &actor, &r).await, "verified"),
        Some("to-correct") => (crate::paperwork::to_correct(&ra, &actor, &r, &reason).await, "to-correct"),
        Some("originals") => (crate::paperwork::originals_received(&ra, &actor, &r).await, "originals"),
        _ => return StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    };
    let mut errors = FormErrors::default();
    match decision {
        Ok(()) => return Redirect::to(&format!("/console/requests/{reference}?done={done}")).into_response(),
        Err(NotDecided::OwnRequest) => {
            errors.set_general(me.ui.t("console-error-four-eyes"), me.ui.t("console-error-four-eyes-remedy"))
        }
        Err(NotDecided::NoReason) => {
            errors.field("reason", me.ui.t("console-error-reason"), me.ui.t("console-error-reason-remedy"))
        }
        Err(NotDecided::NotWaiting) => {
            errors.set_general(me.ui.t("console-error-moved"), me.ui.t("console-error-moved-remedy"))
        }
        Err(NotDecided::Internal) => return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
    request_page(&ra, me, r, errors, None, None, None).await
}

/// POST /console/requests/{reference}/code: the activation code, once identified: shown
/// this once, or e-mailed so that the operator never sees it.
pub async fn code(State(ra): State<Arc<Ra>>, Path(reference): Path<String>, form: Submitted) -> Response {
    let me = form.me;
    let Some(r) = visible(&ra, &me, &reference).await else { return StatusCode::NOT_FOUND.into_response() };
    if !me.account.role.serves_office() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut errors = FormErrors::default();
    if matches!(r.verification.as_deref(), Some("registered" | "to-correct")) {
        errors.set_general(me.ui.t("console-error-not-identified"), me.ui.t("console-error-not-identified-remedy"));
        return request_page(&ra, me, r, errors, None, None, None).await;
    }
    let Some(code) = crate::codes::activation_code() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no random numbers").into_response();
    };
    let by_email = form.fields.get("delivery").is_some_and(|d| d == "email");
    let email = if by_email {
        let holder = ra.store.holder_of(&reference).await.ok().flatten();
        match holder.and_then(|h| crate::registration::code_email(&h, &reference, &code)) {
            Some(m) => Some(m),
            None => {
                let (c, rem) = me.ui.error("no-email", &Default::default());
                errors.set_general(c, rem);
                return request_page(&ra, me, r, errors, None, None, None).await;
            }
        }
    } else {
        None
    };
    let action = if r.code_issued_at.is_some() { "activation-code-replaced" } else { "activation-code-issued" };
    match ra.store.new_code(&reference, &code, &me.event(action, "", ""), email.as_ref()).await {
        Ok(true) => {}
        Ok(false) => {
            let (c, rem) = me.ui.error("already-issued", &Default::default());
            errors.set_general(c, rem);
            return request_page(&ra, me, r, errors, None, None, None).await;
        }
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
    let r = ra.store.request_view(&reference).await.ok().flatten().unwrap_or(r);
    match email {
        Some(m) => {
            let to = crate::masked::email(&m.to);
            let sent = ra.gateway.deliver(m).await;
            let notice =
                if sent { me.ui.t1("console-code-emailed", "to", &to) } else { me.ui.t("console-error-email-failed") };
            request_page(&ra, me, r, errors, None, Some(notice), None).await
        }
        None => request_page(&ra, me, r, errors, Some(code.to_string()), None, None).await,
    }
}

/// GET /console/requests/{reference}/handover.pdf: the sheet with the first halves.
pub async fn handover_pdf(State(ra): State<Arc<Ra>>, me: Me, Path(reference): Path<String>) -> Response {
    let Some(r) = visible(&ra, &me, &reference).await else { return StatusCode::NOT_FOUND.into_response() };
    if !me.account.role.serves_office() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(Some(p)) = ra.store.personalisation(&reference).await else { return StatusCode::CONFLICT.into_response() };
    use crate::personalisation::half;
    let _ = ra.store.audit_event(&me.event("handover-printed", &reference, "")).await;
    pdf(
        crate::forms::handover_sheet(&r, half(&p.pin, false), half(&p.puk, false)),
        &format!("consegna-{reference}.pdf"),
    )
}

/// POST /console/requests/{reference}/halves: the halves again (`channel` sms or email).
pub async fn halves(State(ra): State<Arc<Ra>>, Path(reference): Path<String>, form: Submitted) -> Response {
    let me = form.me;
    let Some(r) = visible(&ra, &me, &reference).await else { return StatusCode::NOT_FOUND.into_response() };
    let Ok(Some(entry)) = ra.store.request(reference.as_bytes()).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !me.account.role.serves_office() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let channel = form.fields.get("channel").cloned().unwrap_or_default();
    match crate::registration::send_halves(&ra, &me.actor(), &entry, &channel).await {
        Ok(()) => Redirect::to(&format!("/console/requests/{reference}?done=halves-{channel}")).into_response(),
        Err(refusal) => {
            let mut errors = FormErrors::default();
            let (c, rem) = me.ui.error(refusal.code(), &refusal.params());
            errors.set_general(c, rem);
            request_page(&ra, me, r, errors, None, None, None).await
        }
    }
}
