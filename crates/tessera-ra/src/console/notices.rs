//! The CA's notices to every office: its verifiers publish and withdraw them here; every
//! operator's home page shows the current ones.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::session::{Me, Submitted};
use super::ui::Ui;
use super::{FormErrors, render_status};
use crate::accounts::Role;
use crate::state::Ra;
use crate::store::ca_notices::CaNotice;

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    ui: Ui,
    errors: FormErrors,
    notices: Vec<CaNotice>,
    title: String,
    body: String,
    until: String,
}

fn verifier(me: &Me) -> bool {
    me.account.role == Role::Verifier
}

async fn page_of(ra: &Ra, me: Me, errors: FormErrors, title: String, body: String, until: String) -> Response {
    let notices = ra.store.ca_notices(false, 200).await.unwrap_or_default();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(status, &NoticesPage { ui: me.ui, errors, notices, title, body, until })
}

/// GET /console/notices
pub async fn list(State(ra): State<Arc<Ra>>, me: Me) -> Response {
    if !verifier(&me) {
        return StatusCode::NOT_FOUND.into_response();
    }
    page_of(&ra, me, FormErrors::default(), String::new(), String::new(), String::new()).await
}

/// POST /console/notices: publish one (a title, a text, optionally the last day).
pub async fn publish(State(ra): State<Arc<Ra>>, form: Submitted) -> Response {
    let me = form.me;
    if !verifier(&me) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let get = |k: &str| form.fields.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (title, body, until) = (get("title"), get("body"), get("until"));
    let mut errors = FormErrors::default();
    let bad = |t: &str, max: usize, lines: bool| {
        t.is_empty()
            || t.chars().count() > max
            || t.chars().any(|c| c.is_control() && !(lines && (c == '\n' || c == '\r')))
    };
    if bad(&title, 120, false) {
        errors.field("title", me.ui.t("console-error-notice-title"), me.ui.t("console-error-notice-title-remedy"));
    }
    if bad(&body, 2000, true) {
        errors.field("body", me.ui.t("console-error-notice-body"), me.ui.t("console-error-notice-body-remedy"));
    }
    let today = time::OffsetDateTime::now_utc().date();
    let last_day = if until.is_empty() {
        None
    } else {
        match crate::registration::parse_date(&until).filter(|d| *d >= today) {
            Some(d) => Some(d.next_day().unwrap_or(d).midnight().assume_utc().unix_timestamp()),
            None => {
                errors.field("until", me.ui.t("console-error-date"), me.ui.t("console-error-notice-until-remedy"));
                None
            }
        }
    };
    if !errors.is_empty() {
        return page_of(&ra, me, errors, title, body, until).await;
    }
    match ra.store.publish_notice(&title, &body, last_day, &me.event("", "", "")).await {
        Ok(_) => Redirect::to("/console/notices").into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}

/// POST /console/notices/{id}/withdraw
pub async fn withdraw(State(ra): State<Arc<Ra>>, Path(id): Path<i64>, form: Submitted) -> Response {
    let me = form.me;
    if !verifier(&me) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match ra.store.withdraw_notice(id, &me.event("", "", "")).await {
        Ok(true) => Redirect::to("/console/notices").into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}
