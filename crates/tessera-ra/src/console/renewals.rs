//! Renewals [gestione rinnovi]: the office's renewal requests by state; under the
//! approval policy a supervisor approves a renewed certificate (within 90 days of the
//! form's signature) or refuses it, and closes an open request without approving it; the
//! signed form (.p7m) is downloadable.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tessera_protocol::refusal::Refusal;

use super::session::{Me, Submitted};
use super::ui::Ui;
use super::{FormErrors, render_status};
use crate::accounts::Role;
use crate::state::Ra;
use crate::store::RenewalView;

/// The states a list may ask for: the renewal's own, and `waiting` (for approval).
pub const STATES: [&str; 6] = ["waiting", "communicated", "forwarded", "completed", "expired", "cancelled"];

/// What a decision just did, said once.
pub const DONE: [&str; 3] = ["approved", "refused", "closed"];

#[derive(Template)]
#[template(path = "renewals.html")]
struct RenewalsPage {
    ui: Ui,
    errors: FormErrors,
    state: String,
    rows: Vec<RenewalView>,
    states: [&'static str; 6],
    notice: Option<String>,
    /// A supervisor decides.
    decides: bool,
}

impl RenewalsPage {
    /// The approval's last day: 90 days after the form's signature.
    fn approve_by(&self, r: &RenewalView) -> Option<i64> {
        r.renewal.signed_at.map(|s| s + crate::registry::APPROVAL_DAYS * 86_400)
    }

    fn open(&self, r: &RenewalView) -> bool {
        matches!(r.renewal.state.as_str(), "communicated" | "forwarded")
    }
}

#[derive(serde::Deserialize, Default)]
pub struct Listed {
    #[serde(default)]
    state: String,
    #[serde(default)]
    done: Option<String>,
}

async fn page_of(ra: &Ra, me: Me, state: String, errors: FormErrors, notice: Option<String>) -> Response {
    let wanted = if STATES.contains(&state.as_str()) { state.as_str() } else { "" };
    let rows = ra.store.renewal_views(wanted, me.office(), 500).await.unwrap_or_default();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let decides = me.account.role == Role::Supervisor;
    let page = RenewalsPage { ui: me.ui, errors, state: wanted.to_owned(), rows, states: STATES, notice, decides };
    render_status(status, &page)
}

/// GET /console/renewals[?state=]
pub async fn list(State(ra): State<Arc<Ra>>, me: Me, Query(q): Query<Listed>) -> Response {
    if !me.account.role.serves_office() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let notice = q.done.as_deref().filter(|d| DONE.contains(d)).map(|d| me.ui.label("console-renewal-done", d));
    page_of(&ra, me, q.state, FormErrors::default(), notice).await
}

/// POST /console/renewals/{id}/decision: `decision` approve, refuse (the renewed
/// certificate) or close (the request); supervisors only.
pub async fn decide(State(ra): State<Arc<Ra>>, Path(id): Path<String>, form: Submitted) -> Response {
    let me = form.me;
    if !me.account.role.serves_office() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let actor = me.actor();
    let renewal = match crate::renewal_decisions::visible(&ra, &actor, &id).await {
        Ok(r) => r,
        Err(_) => return StatusCode::NOT_FOUND.into_response(),
    };
    if me.account.role != Role::Supervisor {
        return StatusCode::FORBIDDEN.into_response();
    }
    let back = form.fields.get("state").cloned().unwrap_or_default();
    let new_serial = renewal.new_serial.as_deref().and_then(crate::api::serial_from_hex);
    let (outcome, done) = match (form.fields.get("decision").map(String::as_str), new_serial) {
        (Some("approve"), Some(serial)) => {
            (crate::renewal_decisions::decide(&ra, &actor, &serial, true).await, "approved")
        }
        (Some("refuse"), Some(serial)) => {
            (crate::renewal_decisions::decide(&ra, &actor, &serial, false).await, "refused")
        }
        (Some("close"), _) => (crate::renewal_decisions::close(&ra, &actor, &id).await, "closed"),
        (Some("approve" | "refuse"), None) => (Err(Refusal::NothingToApprove {}), ""),
        _ => return StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    };
    match outcome {
        Ok(()) => {
            let state = if STATES.contains(&back.as_str()) { back.as_str() } else { "" };
            Redirect::to(&format!("/console/renewals?state={state}&done={done}")).into_response()
        }
        Err(r) => {
            let mut errors = FormErrors::default();
            let (cause, remedy) = me.ui.error(r.code(), &r.params());
            errors.set_general(cause, remedy);
            page_of(&ra, me, back, errors, None).await
        }
    }
}

/// GET /console/renewals/{id}/form.p7m: the form the holder signed (CAdES).
pub async fn signed_form(State(ra): State<Arc<Ra>>, me: Me, Path(id): Path<String>) -> Response {
    if !me.account.role.serves_office() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(renewal) = crate::renewal_decisions::visible(&ra, &me.actor(), &id).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(p7m) = renewal.signed_form.as_deref().map(crate::store::unhex).filter(|b| !b.is_empty()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let _ = ra.store.audit_event(&me.event("renewal-form-downloaded", &id, "")).await;
    let name: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    (
        [
            (header::CONTENT_TYPE, "application/pkcs7-mime".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"modulo-rinnovo-{name}.p7m\"")),
        ],
        p7m,
    )
        .into_response()
}
