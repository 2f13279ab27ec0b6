//! The operator's own account: who they are, a new password, testing the one-time-code
//! device, and API tokens for scripts (shown once, kept as their SHA-256, revocable; a
//! token acts as its account, in its office and role).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::session::{Me, Submitted, digest, random_token};
use super::ui::Ui;
use super::{FormErrors, render_status};
use crate::state::Ra;
use crate::store::accounts::Token;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ui: Ui,
    errors: FormErrors,
    email: String,
    last_sign_in: String,
    tokens: Vec<Token>,
    /// A token just made: shown this once.
    new_token: Option<String>,
    /// The device's code was right.
    code_ok: bool,
    password_changed: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct Shown {
    #[serde(default)]
    password: Option<String>,
}

async fn account_page(
    ra: &Ra,
    me: Me,
    errors: FormErrors,
    new_token: Option<String>,
    code_ok: bool,
    password_changed: bool,
) -> Response {
    let tokens = ra.store.tokens_of(me.account.id).await.unwrap_or_default();
    let last_sign_in = me
        .account
        .last_sign_in
        .map(|t| format!("{} · {}", me.ui.when(&t), me.account.last_sign_in_from.clone().unwrap_or_default()))
        .unwrap_or_default();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = AccountPage {
        email: me.account.email.clone().unwrap_or_default(),
        ui: me.ui,
        errors,
        last_sign_in,
        tokens,
        new_token,
        code_ok,
        password_changed,
    };
    render_status(status, &page)
}

/// GET /console/account
pub async fn page(State(ra): State<Arc<Ra>>, me: Me, Query(q): Query<Shown>) -> Response {
    account_page(&ra, me, FormErrors::default(), None, false, q.password.is_some()).await
}

/// POST /console/account/otp-test: a code from the device, checked.
pub async fn otp_test(State(ra): State<Arc<Ra>>, form: Submitted) -> Response {
    let code = super::sign_in::posted(&form, "code");
    let me = form.me;
    let mut errors = FormErrors::default();
    let ok = super::sign_in::code_right(&ra, &me, &code).await.is_some();
    if !ok {
        errors.field("code", me.ui.t("console-error-code-test"), me.ui.t("console-error-code-test-remedy"));
    } else {
        let event = me.event("otp-tested", &me.account.name, "");
        let _ = ra.store.audit_event(&event).await;
    }
    account_page(&ra, me, errors, None, ok, false).await
}

/// POST /console/account/tokens: a new API token, shown once.
pub async fn token_new(State(ra): State<Arc<Ra>>, form: Submitted) -> Response {
    let label = super::sign_in::posted(&form, "label");
    let code = super::sign_in::posted(&form, "token_code");
    let me = form.me;
    let mut errors = FormErrors::default();
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        errors.field("label", me.ui.t("console-error-token-label"), me.ui.t("console-error-token-label-remedy"));
    }
    // A token outlives the session: made only with a fresh one-time code, so that a
    // session left open is not enough to make one.
    if errors.is_empty() && super::sign_in::code_right(&ra, &me, &code).await.is_none() {
        errors.field("token_code", me.ui.t("console-error-code-test"), me.ui.t("console-error-code-test-remedy"));
    }
    if !errors.is_empty() {
        return account_page(&ra, me, errors, None, false, false).await;
    }
    let Some(token) = random_token().map(|t| format!("tra_{t}")) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no random numbers").into_response();
    };
    let event = me.event("api-token-created", &me.account.name, &label);
    if ra.store.add_token(me.account.id, &label, &digest(&token), crate::accounts::TOKEN_DAYS, &event).await.is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    }
    account_page(&ra, me, errors, Some(token), false, false).await
}

/// POST /console/account/tokens/{id}/revoke
pub async fn token_revoke(State(ra): State<Arc<Ra>>, Path(id): Path<i64>, form: Submitted) -> Response {
    let me = form.me;
    let event = me.event("api-token-revoked", &me.account.name, "");
    match ra.store.revoke_token(me.account.id, id, &event).await {
        Ok(true) => Redirect::to("/console/account").into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}
