//! The office's operators, managed by its supervisor: accounts listed with their state
//! and last sign-in; a new operator or supervisor of the office, its one-time password
//! and its authenticator enrolment (the otpauth URI and its QR code) shown once;
//! disabling and enabling; a new one-time password, or a new device too.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::session::{Me, Submitted};
use super::ui::Ui;
use super::{FormErrors, render_status};
use crate::accounts::{Credentials, Role};
use crate::office_accounts::{OFFICE_ROLES, Refused};
use crate::state::Ra;
use crate::store::accounts::{Account, NewAccount};

/// Credentials handed out once, on the page that made them.
pub struct HandedOut {
    pub name: String,
    pub password: String,
    /// With a new device: its enrolment URI and QR code (SVG).
    pub otpauth: Option<String>,
    pub qr: Option<String>,
}

impl HandedOut {
    fn of(name: &str, c: &Credentials, device: bool) -> HandedOut {
        let qr = device.then(|| qr_svg(&c.otpauth)).flatten();
        HandedOut {
            name: name.to_owned(),
            password: c.password.to_string(),
            otpauth: device.then(|| c.otpauth.to_string()),
            qr,
        }
    }
}

/// The QR code of an otpauth URI, as SVG markup (made here, nothing of the user's in it
/// but the account's name, which is letters, digits and `._-`).
fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build())
}

#[derive(Template)]
#[template(path = "operators.html")]
struct OperatorsPage {
    ui: Ui,
    errors: FormErrors,
    accounts: Vec<Account>,
    handed: Option<HandedOut>,
    notice: Option<String>,
    roles: [Role; 2],
    /// The form's values, as typed.
    name: String,
    email: String,
}

async fn page_of(ra: &Ra, me: Me, errors: FormErrors, handed: Option<HandedOut>, notice: Option<String>) -> Response {
    let accounts = ra.store.accounts(Some(me.office())).await.unwrap_or_default();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = OperatorsPage {
        ui: me.ui,
        errors,
        accounts,
        handed,
        notice,
        roles: OFFICE_ROLES,
        name: String::new(),
        email: String::new(),
    };
    render_status(status, &page)
}

fn supervisor(me: &Me) -> bool {
    me.account.role == Role::Supervisor
}

/// GET /console/operators
pub async fn list(State(ra): State<Arc<Ra>>, me: Me) -> Response {
    if !supervisor(&me) {
        return StatusCode::NOT_FOUND.into_response();
    }
    page_of(&ra, me, FormErrors::default(), None, None).await
}

/// POST /console/operators: a new account of the office.
pub async fn add(State(ra): State<Arc<Ra>>, form: Submitted) -> Response {
    let me = form.me;
    if !supervisor(&me) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let get = |k: &str| form.fields.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (name, email) = (get("name"), get("email"));
    let role = Role::from_name(&get("role")).filter(|r| OFFICE_ROLES.contains(r));
    let mut errors = FormErrors::default();
    if role.is_none() {
        errors.field("role", me.ui.t("console-error-required"), me.ui.t("console-error-operator-role-remedy"));
    }
    let valid_email =
        email.is_empty() || (email.len() <= 254 && email.contains('@') && !email.chars().any(char::is_whitespace));
    if !valid_email {
        errors.field("email", me.ui.t("console-error-operator-email"), me.ui.t("console-error-operator-email-remedy"));
    }
    if let (Some(role), true) = (role, errors.is_empty()) {
        let office = me.office().to_owned();
        let new =
            NewAccount { name: &name, office: &office, role, email: (!email.is_empty()).then_some(email.as_str()) };
        match crate::office_accounts::add(&ra.store, &new, &me.event("", "", "")).await {
            Ok(c) => {
                let handed = HandedOut::of(&name, &c, true);
                return page_of(&ra, me, errors, Some(handed), None).await;
            }
            Err(Refused::Name | Refused::Office) => errors.field(
                "name",
                me.ui.t("console-error-operator-name"),
                me.ui.t("console-error-operator-name-remedy"),
            ),
            Err(Refused::Exists) => errors.field(
                "name",
                me.ui.t("console-error-operator-exists"),
                me.ui.t("console-error-operator-exists-remedy"),
            ),
            Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
        }
    }
    let accounts = ra.store.accounts(Some(me.office())).await.unwrap_or_default();
    let page =
        OperatorsPage { ui: me.ui, errors, accounts, handed: None, notice: None, roles: OFFICE_ROLES, name, email };
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// The account `name` if the supervisor manages it: an operator of their office (another
/// supervisor, a verifier or another office's account does not exist for them: nobody takes
/// over an account of equal or higher rights).
async fn of_office(ra: &Ra, me: &Me, name: &str) -> Option<Account> {
    ra.store.account(name).await.ok().flatten().filter(|a| a.office == me.account.office && a.role == Role::Operator)
}

/// POST /console/operators/{name}/state: `disabled` on or off.
pub async fn set_state(State(ra): State<Arc<Ra>>, Path(name): Path<String>, form: Submitted) -> Response {
    let me = form.me;
    if !supervisor(&me) || of_office(&ra, &me, &name).await.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let disable = form.fields.get("disabled").is_some_and(|v| v == "on");
    let errors = FormErrors::default();
    match ra.store.set_disabled(&name, disable, &me.event("", "", "")).await {
        Ok(_) => {
            let id = if disable { "console-operator-disabled" } else { "console-operator-enabled" };
            let notice = me.ui.t1(id, "name", &name);
            page_of(&ra, me, errors, None, Some(notice)).await
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}

/// POST /console/operators/{name}/reset: a new one-time password (`device` on: and a new
/// authenticator enrolment), shown once.
pub async fn reset(State(ra): State<Arc<Ra>>, Path(name): Path<String>, form: Submitted) -> Response {
    let me = form.me;
    if !supervisor(&me) || of_office(&ra, &me, &name).await.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let device = form.fields.get("device").is_some_and(|v| v == "on");
    match crate::office_accounts::reset(&ra.store, &name, device, &me.event("", "", "")).await {
        Ok(c) => {
            let handed = HandedOut::of(&name, &c, device);
            page_of(&ra, me, FormErrors::default(), Some(handed), None).await
        }
        Err(Refused::Unknown) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}
