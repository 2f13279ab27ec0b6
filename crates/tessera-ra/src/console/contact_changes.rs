//! The office's queue of contact changes asked without the card: each one's holder, their
//! contacts now and the new ones, the identity document's scans; applied or refused with
//! a reason (the holder is told by e-mail).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::session::{Me, Submitted};
use super::ui::Ui;
use super::{FormErrors, render, render_status};
use crate::state::Ra;
use crate::store::cardless_changes::CardlessChange;
use crate::store::documents::DocumentInfo;

#[derive(Template)]
#[template(path = "contact_changes.html")]
struct QueuePage {
    ui: Ui,
    waiting: Vec<CardlessChange>,
    notice: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct Said {
    #[serde(default)]
    done: Option<String>,
}

/// GET /console/contact-changes
pub async fn queue(State(ra): State<Arc<Ra>>, me: Me, Query(q): Query<Said>) -> Response {
    if !me.account.role.serves_office() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let waiting = ra.store.cardless_changes(me.office(), "submitted").await.unwrap_or_default();
    let notice = q
        .done
        .as_deref()
        .filter(|d| ["applied", "refused"].contains(d))
        .map(|d| me.ui.label("console-contact-done", d));
    render(&QueuePage { ui: me.ui, waiting, notice })
}

#[derive(Template)]
#[template(path = "contact_change_review.html")]
struct ReviewPage {
    ui: Ui,
    errors: FormErrors,
    c: CardlessChange,
    documents: Vec<DocumentInfo>,
}

/// The change, if it is of the operator's office and reached it (else it does not exist).
async fn visible(ra: &Ra, me: &Me, id: &str) -> Option<CardlessChange> {
    if !me.account.role.serves_office() {
        return None;
    }
    ra.store
        .cardless_change(id)
        .await
        .ok()
        .flatten()
        .filter(|c| c.holder_id.is_some() && c.office.as_deref() == Some(me.office()) && c.state != "confirming")
}

async fn review(ra: &Ra, me: Me, c: CardlessChange, errors: FormErrors) -> Response {
    let documents = ra.store.documents_of("contact-change", &c.id).await.unwrap_or_default();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(status, &ReviewPage { ui: me.ui, errors, c, documents })
}

/// GET /console/contact-changes/{id}
pub async fn page(State(ra): State<Arc<Ra>>, me: Me, Path(id): Path<String>) -> Response {
    let Some(c) = visible(&ra, &me, &id).await else { return StatusCode::NOT_FOUND.into_response() };
    review(&ra, me, c, FormErrors::default()).await
}

/// POST /console/contact-changes/{id}/decision: `decision` apply or refuse (with a reason).
pub async fn decide(State(ra): State<Arc<Ra>>, Path(id): Path<String>, form: Submitted) -> Response {
    let me = form.me;
    let Some(c) = visible(&ra, &me, &id).await else { return StatusCode::NOT_FOUND.into_response() };
    let apply = match form.fields.get("decision").map(String::as_str) {
        Some("apply") => true,
        Some("refuse") => false,
        _ => return StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    };
    let reason = form.fields.get("reason").map(|r| r.trim().to_owned()).unwrap_or_default();
    let mut errors = FormErrors::default();
    if !apply && (reason.is_empty() || reason.chars().count() > 500) {
        errors.field("reason", me.ui.t("console-error-reason"), me.ui.t("console-error-contact-reason-remedy"));
        return review(&ra, me, c, errors).await;
    }
    match crate::cardless_change::decide(&ra, &me.actor(), &c, apply, &reason).await {
        Ok(()) => {
            let done = if apply { "applied" } else { "refused" };
            Redirect::to(&format!("/console/contact-changes?done={done}")).into_response()
        }
        Err(r) => {
            let (cause, remedy) = me.ui.error(r.code(), &r.params());
            errors.set_general(cause, remedy);
            let c = ra.store.cardless_change(&id).await.ok().flatten().unwrap_or(c);
            review(&ra, me, c, errors).await
        }
    }
}
