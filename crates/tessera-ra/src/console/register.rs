//! Registration [Registrazione richiesta]: a holder is looked up by tax code or passport
//! first (a known holder's data are reused), else registered with their full data; the
//! tax code is checked against them (the code the data make is shown; the operator may
//! correct the data or accept it anyway, recorded). The request follows: its profile, the
//! optional subject data of the signature certificate, how the code will reach the
//! holder. It then goes through identification before its activation code is made.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::operator::{CodeDelivery, NewHolder, NewRequest, Profile, SubjectExtras};

use super::session::{Me, Submitted};
use super::ui::Ui;
use super::{FormErrors, render, render_status};
use crate::state::Ra;
use crate::store::holders::HolderRecord;

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    ui: Ui,
    errors: FormErrors,
    identity: String,
    /// Searched: the holders found (of this office).
    searched: bool,
    found: Vec<HolderRecord>,
    /// The form's values, as typed.
    v: HashMap<String, String>,
    /// A holder already registered the request is for.
    holder_id: Option<i64>,
    /// The tax code does not match the data: the accept-anyway choice is offered.
    offer_accept: bool,
}

impl RegisterPage {
    fn val(&self, name: &str) -> String {
        self.v.get(name).cloned().unwrap_or_default()
    }

    fn checked(&self, name: &str, value: &str) -> bool {
        self.v.get(name).is_some_and(|v| v == value)
    }
}

#[derive(serde::Deserialize, Default)]
pub struct Lookup {
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    holder: Option<i64>,
}

/// GET /console/holders/new[?identity=][&holder=]
pub async fn page(State(ra): State<Arc<Ra>>, me: Me, Query(q): Query<Lookup>) -> Response {
    if !me.account.role.serves_office() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let identity = q.identity.unwrap_or_default().trim().to_uppercase();
    let found = if identity.is_empty() {
        Vec::new()
    } else {
        ra.store.holders_by_identity(&identity, me.office()).await.unwrap_or_default()
    };
    let mut v = HashMap::new();
    let mut holder_id = None;
    if let Some(id) = q.holder
        && let Ok(Some(h)) = ra.store.holder_record(id).await
        && h.office.as_deref() == Some(me.office())
    {
        holder_id = Some(id);
        v = values_of(&h);
    } else if !identity.is_empty() {
        // Not known: the form starts with what was searched.
        let key = if tessera_pki::codice_fiscale::forced_shape(&identity).is_ok() { "cf" } else { "passport" };
        v.insert(key.to_owned(), identity.clone());
    }
    v.entry("profile".into()).or_insert_with(|| "cns+signature".into());
    v.entry("delivery".into()).or_insert_with(|| "operator".into());
    let page = RegisterPage {
        ui: me.ui,
        errors: FormErrors::default(),
        searched: !identity.is_empty(),
        identity,
        found,
        v,
        holder_id,
        offer_accept: false,
    };
    render(&page)
}

fn values_of(h: &HolderRecord) -> HashMap<String, String> {
    let d = &h.data;
    let mut v = HashMap::new();
    let mut put = |k: &str, val: &Option<String>| {
        if let Some(x) = val {
            v.insert(k.to_owned(), x.clone());
        }
    };
    put("cf", &d.cf);
    put("passport", &d.passport);
    put("passport_country", &d.passport_country);
    put("sex", &d.sex);
    put("birth_date", &d.birth_date);
    put("birth_place", &d.birth_place);
    put("address", &d.address);
    put("mobile", &d.mobile);
    put("email", &d.email);
    v.insert("surname".into(), d.surname.clone());
    v.insert("given_name".into(), d.given_name.clone());
    v
}

/// The form field a refusal is about, if one.
fn field_of(r: &Refusal) -> Option<String> {
    Some(match r {
        Refusal::CfCheckLetter { .. } | Refusal::CfMalformed { .. } | Refusal::CfDataMismatch { .. } => "cf".into(),
        Refusal::HolderNeedsCfOrPassport {} => "cf".into(),
        Refusal::PassportNeedsCountry {} => "passport_country".into(),
        Refusal::SubjectFieldRefused { field, .. } => match field.as_str() {
            "common_name" => "surname".into(),
            "organization_identifier" => "organization".into(),
            f => f.into(),
        },
        Refusal::ContactOfAnotherHolder { contact } => contact.clone(),
        Refusal::EmailIsPec {} | Refusal::NoEmail {} => "email".into(),
        Refusal::HolderDataInvalid { field } => field.clone(),
        Refusal::ProfileNeedsCf {} | Refusal::SubjectExtrasSignatureOnly {} => "profile".into(),
        Refusal::OrganizationOneIdentifier {}
        | Refusal::OrganizationVatInvalid {}
        | Refusal::OrganizationNeedsIdentifier {} => "organization".into(),
        _ => return None,
    })
}

/// A refusal said next to its field (or above the form).
pub fn show_refusal(ui: &Ui, errors: &mut FormErrors, r: &Refusal) {
    let (cause, remedy) = ui.error(r.code(), &r.params());
    match field_of(r) {
        Some(field) => errors.field(&field, cause, remedy),
        None => errors.set_general(cause, remedy),
    }
}

fn opt(v: &HashMap<String, String>, k: &str) -> Option<String> {
    v.get(k).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// POST /console/holders: register the holder (unless known) and their request.
pub async fn submit(State(ra): State<Arc<Ra>>, form: Submitted) -> Response {
    let me = form.me;
    if !me.account.role.serves_office() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let v = form.fields;
    let actor = me.actor();
    let mut errors = FormErrors::default();
    let known: Option<i64> = opt(&v, "holder_id").and_then(|h| h.parse().ok());
    // Another office's holder does not exist for this operator.
    if let Some(id) = known
        && ra.store.holder_record(id).await.ok().flatten().is_none_or(|h| h.office.as_deref() != Some(me.office()))
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let profile = opt(&v, "profile").and_then(|p| Profile::from_name(&p));
    if profile.is_none() {
        errors.field("profile", me.ui.t("console-error-required"), me.ui.t("console-error-required-remedy"));
    }
    let mut offer_accept = false;
    let holder_id = match (known, errors.is_empty()) {
        (_, false) => None,
        (Some(id), true) => Some(id),
        (None, true) => {
            let h = NewHolder {
                given_name: v.get("given_name").cloned().unwrap_or_default(),
                surname: v.get("surname").cloned().unwrap_or_default(),
                cf: opt(&v, "cf"),
                passport: opt(&v, "passport"),
                passport_country: opt(&v, "passport_country"),
                mobile: opt(&v, "mobile"),
                email: opt(&v, "email"),
                cf_forced: v.get("cf_forced").is_some_and(|x| x == "on"),
                sex: opt(&v, "sex"),
                birth_date: opt(&v, "birth_date"),
                birth_place: opt(&v, "birth_place"),
                address: opt(&v, "address"),
                cf_accepted_anyway: v.get("accept_anyway").is_some_and(|x| x == "on"),
            };
            match crate::registration::register_holder(&ra, &actor, h).await {
                Ok(id) => Some(id),
                Err(r) => {
                    offer_accept = matches!(r, Refusal::CfDataMismatch { .. });
                    show_refusal(&me.ui, &mut errors, &r);
                    None
                }
            }
        }
    };
    if let (Some(holder_id), Some(profile)) = (holder_id, profile) {
        let body = NewRequest {
            holder_id,
            profile,
            code_delivery: if v.get("delivery").is_some_and(|d| d == "email") {
                CodeDelivery::Email
            } else {
                CodeDelivery::Operator
            },
            subject: SubjectExtras {
                title: opt(&v, "title"),
                organization: opt(&v, "organization"),
                organization_vat: opt(&v, "organization_vat"),
                organization_cf: opt(&v, "organization_cf"),
                include_email: v.get("include_email").is_some_and(|x| x == "on"),
            },
            issued_suspended: true,
        };
        match crate::registration::create_request(&ra, &actor, body, true).await {
            Ok(created) => {
                return Redirect::to(&format!("/console/requests/{}?registered=1", created.reference)).into_response();
            }
            Err(r) => show_refusal(&me.ui, &mut errors, &r),
        }
        // The holder is registered: the request is made for them on the next try.
        let page = RegisterPage {
            ui: me.ui,
            errors,
            identity: String::new(),
            searched: false,
            found: Vec::new(),
            v,
            holder_id: Some(holder_id),
            offer_accept,
        };
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let page = RegisterPage {
        ui: me.ui,
        errors,
        identity: String::new(),
        searched: false,
        found: Vec::new(),
        v,
        holder_id: None,
        offer_accept,
    };
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}
