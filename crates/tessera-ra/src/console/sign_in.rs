//! Signing in and the account's self-care before sign-in. A sign-in needs the name, the
//! password and a one-time code at once; a wrong one of them is not said which. Wrong
//! sign-ins make the account wait (a minute after five, doubling, at most an hour) and
//! count against the client's address, so guessing is slow and nobody is locked out for
//! good. A code is accepted once. The first sign-in (and one after a reset or a recovery)
//! leads to a new password before anything else.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::session::{
    Anonymous, AnyStage, Me, Submitted, SubmittedAnyStage, anonymous, digest, random_token, set_cookie,
};
use super::ui::Ui;
use super::{FormErrors, render, render_status};
use crate::accounts::{password_refused, totp};
use crate::credentials::{Refused, check, failed, password_right, unknown_name};
use crate::state::Ra;
use crate::store::accounts::Account;
use crate::store::audit::Event;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    ui: Ui,
    errors: FormErrors,
    name: String,
    expired: bool,
    signed_out: bool,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    ui: Ui,
    errors: FormErrors,
    forced: bool,
    done: bool,
}

#[derive(Template)]
#[template(path = "recover.html")]
struct RecoverPage {
    ui: Ui,
    errors: FormErrors,
    name: String,
    done: bool,
}

#[derive(Template)]
#[template(path = "otp_resync.html")]
struct ResyncPage {
    ui: Ui,
    errors: FormErrors,
    name: String,
    done: bool,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A page before sign-in, setting the pre-session token its form carries when new.
pub fn anonymous_page(new_token: Option<String>, ra: &Ra, page: Response) -> Response {
    match new_token {
        Some(t) => {
            let mut page = page;
            page.headers_mut().append(header::SET_COOKIE, set_cookie(ra, super::session::PRE_COOKIE, &t, None));
            page
        }
        None => page,
    }
}

#[derive(serde::Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    out: Option<String>,
}

/// GET /console/sign-in
pub async fn page(State(ra): State<Arc<Ra>>, headers: HeaderMap, Query(q): Query<SignInQuery>) -> Response {
    let (ui, new) = anonymous(&headers, "/console/sign-in");
    let page = SignInPage {
        ui,
        errors: FormErrors::default(),
        name: String::new(),
        expired: q.expired.is_some(),
        signed_out: q.out.is_some(),
    };
    anonymous_page(new, &ra, render(&page))
}

fn field(fields: &std::collections::HashMap<String, String>, name: &str) -> String {
    fields.get(name).map(|v| v.trim().to_owned()).unwrap_or_default()
}

/// The refusal as a form error.
fn refused(ui: &Ui, errors: &mut FormErrors, r: Refused) {
    let minutes = |s: i64| ((s + 59) / 60).to_string();
    match r {
        Refused::Wrong => errors.set_general(ui.t("console-error-sign-in"), ui.t("console-error-sign-in-remedy")),
        Refused::Waiting(s) => errors.set_general(
            ui.t1("console-error-account-waits", "minutes", &minutes(s)),
            ui.t("console-error-account-waits-remedy"),
        ),
        Refused::Reused => {
            errors.set_general(ui.t("console-error-code-reused"), ui.t("console-error-code-reused-remedy"))
        }
        Refused::Address(s) => errors.set_general(
            ui.t1("console-error-address-waits", "seconds", &s.to_string()),
            ui.t("console-error-address-waits-remedy"),
        ),
    }
}

/// Required fields left empty, each said next to itself.
fn required(ui: &Ui, errors: &mut FormErrors, fields: &std::collections::HashMap<String, String>, names: &[&str]) {
    for name in names {
        if field(fields, name).is_empty() {
            errors.field(name, ui.t("console-error-required"), ui.t("console-error-required-remedy"));
        }
    }
}

/// A new session for `account`; the answer goes to `to` with its cookie.
async fn open_session(ra: &Ra, account: &Account, address: Option<String>, forced: bool, to: &str) -> Response {
    let (Some(token), Some(csrf)) = (random_token(), random_token()) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no random numbers").into_response();
    };
    let stage = if forced { "change-password" } else { "full" };
    let by = account.self_event(address.as_deref());
    if let Err(e) = ra.store.open_session(account, &digest(&token), stage, &csrf, &by).await {
        tracing::error!(error = %e, "opening a console session");
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    }
    let mut r = Redirect::to(to).into_response();
    let h = r.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(ra, super::session::SESSION_COOKIE, &token, None));
    h.append(header::SET_COOKIE, set_cookie(ra, super::session::PRE_COOKIE, "", Some(0)));
    r
}

/// POST /console/sign-in
pub async fn submit(State(ra): State<Arc<Ra>>, form: Anonymous) -> Response {
    let (name, password, code) = (
        field(&form.fields, "name"),
        form.fields.get("password").cloned().unwrap_or_default(),
        field(&form.fields, "code"),
    );
    let mut errors = FormErrors::default();
    required(&form.ui, &mut errors, &form.fields, &["name", "password", "code"]);
    if errors.is_empty() {
        match check(&ra, form.address, &name, Some(&password), &code).await {
            Ok((account, _)) => {
                let forced = account.must_change;
                let to = if forced { "/console/password" } else { "/console/" };
                return open_session(&ra, &account, form.address.map(|a| a.to_string()), forced, to).await;
            }
            Err(r) => refused(&form.ui, &mut errors, r),
        }
    }
    let page = SignInPage { ui: form.ui, errors, name, expired: false, signed_out: false };
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// POST /console/sign-out
pub async fn sign_out(State(ra): State<Arc<Ra>>, form: SubmittedAnyStage) -> Response {
    let me = &form.me;
    let event = me.event("signed-out", &me.account.name, "");
    let _ = ra.store.close_session(&me.session, Some(&event)).await;
    let mut r = Redirect::to("/console/sign-in?out=1").into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&ra, super::session::SESSION_COOKIE, "", Some(0)));
    r
}

/// GET /console/password: a new password (required after a one-time one).
pub async fn password_page(AnyStage(me): AnyStage) -> Response {
    let forced = me.forced;
    render(&PasswordPage { ui: me.ui, errors: FormErrors::default(), forced, done: false })
}

/// POST /console/password: the old password, the new one twice, and (unless it follows
/// a one-time password's sign-in, which just took a code) a one-time code.
pub async fn password_submit(State(ra): State<Arc<Ra>>, form: SubmittedAnyStage) -> Response {
    let me = form.me;
    let ui = me.ui.clone();
    let f = &form.fields;
    let mut errors = FormErrors::default();
    let mut names = vec!["old", "new", "again"];
    if !me.forced {
        names.push("code");
    }
    required(&ui, &mut errors, f, &names);
    let (old, new, again) = (
        f.get("old").cloned().unwrap_or_default(),
        f.get("new").cloned().unwrap_or_default(),
        f.get("again").cloned().unwrap_or_default(),
    );
    if errors.is_empty() {
        if let Some(why) = password_refused(&me.account.name, &new) {
            errors.field("new", ui.t(&format!("console-error-password-{why}")), ui.t("console-hint-new-password"));
        } else if new != again {
            errors.field(
                "again",
                ui.t("console-error-password-mismatch"),
                ui.t("console-error-password-mismatch-remedy"),
            );
        } else if new == old {
            errors.field("new", ui.t("console-error-password-same"), ui.t("console-hint-new-password"));
        }
    }
    if errors.is_empty() {
        let address = me.address.as_deref().and_then(|a| a.parse().ok());
        let checked = if me.forced {
            if password_right(me.account.password_hash.clone(), old.clone()).await {
                Ok(())
            } else {
                Err(Refused::Wrong)
            }
        } else {
            check(&ra, address, &me.account.name, Some(&old), &field(f, "code")).await.map(|_| ())
        };
        match checked {
            Ok(()) => {
                let Some(hash) = crate::accounts::hash_password_off(zeroize::Zeroizing::new(new.to_string())).await
                else {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
                };
                let event = me.event("password-changed", &me.account.name, "");
                if ra.store.set_password(me.account.id, &hash, &me.session, &event).await.is_err() {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
                }
                // A new session id with the new password; a forced change leads in.
                let _ = ra.store.close_session(&me.session, None).await;
                let to = if me.forced { "/console/" } else { "/console/account?password=1" };
                return open_session(&ra, &me.account, me.address.clone(), false, to).await;
            }
            Err(r) => {
                if matches!(r, Refused::Wrong) && me.forced {
                    errors.field("old", ui.t("console-error-old-password"), ui.t("console-error-old-password-remedy"));
                } else {
                    refused(&ui, &mut errors, r);
                }
            }
        }
    }
    let page = PasswordPage { ui, errors, forced: me.forced, done: false };
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// GET /console/recover
pub async fn recover_page(State(ra): State<Arc<Ra>>, headers: HeaderMap) -> Response {
    let (ui, new) = anonymous(&headers, "/console/recover");
    anonymous_page(
        new,
        &ra,
        render(&RecoverPage { ui, errors: FormErrors::default(), name: String::new(), done: false }),
    )
}

/// POST /console/recover: name and a one-time code; a temporary password goes to the
/// account's e-mail, to be changed at the next sign-in.
pub async fn recover_submit(State(ra): State<Arc<Ra>>, form: Anonymous) -> Response {
    let name = field(&form.fields, "name");
    let mut errors = FormErrors::default();
    required(&form.ui, &mut errors, &form.fields, &["name", "code"]);
    let mut done = false;
    if errors.is_empty() {
        match check(&ra, form.address, &name, None, &field(&form.fields, "code")).await {
            Ok((account, _)) => match account.email.clone() {
                None => {
                    errors.set_general(form.ui.t("console-error-no-email"), form.ui.t("console-error-no-email-remedy"))
                }
                Some(to) => {
                    let Some(password) = crate::accounts::new_password() else {
                        return (StatusCode::INTERNAL_SERVER_ERROR, "no random numbers").into_response();
                    };
                    let hash = crate::accounts::hash_password_off(zeroize::Zeroizing::new(password.to_string())).await;
                    let Some(hash) = hash else {
                        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
                    };
                    let address = form.address.map(|a| a.to_string());
                    let by = account.self_event(address.as_deref());
                    if ra.store.set_temporary_password(account.id, &hash, &by).await.is_err() {
                        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
                    }
                    let text = format!(
                        "Tessera: la password temporanea dell'account {} è {{secret}}. Cambiala al primo accesso.\n\
                         Tessera: the temporary password of account {} is {{secret}}. Change it at your next sign-in.",
                        account.name, account.name
                    );
                    let message = crate::gateway::Message::new(
                        crate::gateway::Channel::Email,
                        &to,
                        "Tessera: password temporanea / temporary password",
                        &text,
                        &password,
                    );
                    if ra.gateway.deliver(message).await {
                        done = true;
                    } else {
                        errors.set_general(
                            form.ui.t("console-error-email-failed"),
                            form.ui.t("console-error-email-failed-remedy"),
                        );
                    }
                }
            },
            Err(r) => refused(&form.ui, &mut errors, r),
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(status, &RecoverPage { ui: form.ui, errors, name, done })
}

/// GET /console/otp/resync
pub async fn resync_page(State(ra): State<Arc<Ra>>, headers: HeaderMap) -> Response {
    let (ui, new) = anonymous(&headers, "/console/otp/resync");
    anonymous_page(
        new,
        &ra,
        render(&ResyncPage { ui, errors: FormErrors::default(), name: String::new(), done: false }),
    )
}

/// POST /console/otp/resync: name, password and two consecutive codes of a device whose
/// clock drifted; the drift found is kept, so that its codes are accepted again.
pub async fn resync_submit(State(ra): State<Arc<Ra>>, form: Anonymous) -> Response {
    let ui = form.ui;
    let f = &form.fields;
    let name = field(f, "name");
    let mut errors = FormErrors::default();
    required(&ui, &mut errors, f, &["name", "password", "code", "next"]);
    let mut done = false;
    if errors.is_empty() {
        let wrong = |errors: &mut FormErrors| {
            errors.set_general(ui.t("console-error-resync"), ui.t("console-error-resync-remedy"))
        };
        match resync(&ra, form.address, &name, f).await {
            Ok(true) => done = true,
            Ok(false) => wrong(&mut errors),
            Err(r) => refused(&ui, &mut errors, r),
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(status, &ResyncPage { ui, errors, name, done })
}

/// The drift at which two consecutive codes match, kept; false when none does (counted
/// as a wrong sign-in).
async fn resync(
    ra: &Ra,
    address: Option<std::net::IpAddr>,
    name: &str,
    f: &std::collections::HashMap<String, String>,
) -> Result<bool, Refused> {
    if let Some(ip) = address
        && let Err(wait) = ra.failures.check(ip)
    {
        return Err(Refused::Address(wait));
    }
    let from = address.map(|a| a.to_string()).unwrap_or_default();
    let wait = ra.store.sign_in_wait(name, &from).await.unwrap_or(0);
    if wait > 0 {
        return Err(Refused::Waiting(wait));
    }
    let account = ra.store.account(name).await.ok().flatten().filter(|a| !a.disabled);
    let password = f.get("password").cloned().unwrap_or_default();
    let Some(account) = account else {
        password_right(crate::accounts::decoy_hash().to_owned(), password).await;
        let typed = unknown_name(ra, name);
        failed(
            ra,
            name,
            address,
            &Event { actor: &typed, subject: &typed, address: Some(&from), ..Default::default() },
        )
        .await;
        return Ok(false);
    };
    let by = account.self_event(Some(&from));
    let right = password_right(account.password_hash.clone(), password).await;
    let here = totp::step(now());
    let found = ra.store.totp_secret(&account).filter(|_| right).and_then(|secret| {
        let first = totp::matching_step(&secret, &field(f, "code"), here, totp::RESYNC_WINDOW)?;
        totp::matching_step(&secret, &field(f, "next"), first + 1, 0)
    });
    match found {
        Some(step) if step > account.totp_step && ra.store.take_totp_step(account.id, step).await.unwrap_or(false) => {
            let _ = ra.store.set_totp_drift(account.id, step - here, &by).await;
            Ok(true)
        }
        _ => {
            failed(ra, name, address, &by).await;
            Ok(false)
        }
    }
}

/// A one-time code checked for a signed-in operator (testing the device): its step is
/// taken, so the same code does not sign anyone in afterwards.
pub async fn code_right(ra: &Ra, me: &Me, code: &str) -> Option<i64> {
    // Counted as sign-ins are: a session left open does not give unlimited guesses.
    let from = me.address.clone().unwrap_or_default();
    if ra.store.sign_in_wait(&me.account.name, &from).await.unwrap_or(0) > 0 {
        return None;
    }
    let secret = ra.store.totp_secret(&me.account)?;
    let step = totp::matching_step(&secret, code, totp::step(now()) + me.account.totp_drift, totp::WINDOW)
        .filter(|s| *s > me.account.totp_step);
    let taken = match step {
        Some(s) => ra.store.take_totp_step(me.account.id, s).await.unwrap_or(false),
        None => false,
    };
    if !taken {
        let address = me.address.as_deref().and_then(|a| a.parse().ok());
        failed(ra, &me.account.name, address, &me.event("", &me.account.name, "one-time code")).await;
        return None;
    }
    step
}

/// Whether the form was posted with its fields (for handlers that only need the check).
pub fn posted(form: &Submitted, name: &str) -> String {
    field(&form.fields, name)
}
