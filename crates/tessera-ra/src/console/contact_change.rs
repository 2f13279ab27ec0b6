//! The public page of a contact change without the card: the holder's tax code, the new
//! e-mail and mobile and the residence; then both codes and the identity document's front
//! and back; then the office decides (see [`super::contact_changes`]).

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::session::{Anonymous, AnonymousFiles, anonymous};
use super::sign_in::anonymous_page;
use super::ui::Ui;
use super::{FormErrors, paper, render_status};
use crate::cardless_change::{NotConfirmed, NotStarted};
use crate::documents::kinds;
use crate::state::Ra;
use crate::store::cardless_changes::CardlessChange;
use crate::store::documents::NewDocument;

#[derive(Template)]
#[template(path = "contact_change.html")]
struct PublicPage {
    ui: Ui,
    errors: FormErrors,
    /// The first step's values, as typed.
    v: HashMap<String, String>,
    /// The change being confirmed (second step), or its outcome.
    change: Option<CardlessChange>,
    max_mb: usize,
    max_files: usize,
}

impl PublicPage {
    fn val(&self, name: &str) -> String {
        self.v.get(name).cloned().unwrap_or_default()
    }

    fn masked_email(&self) -> String {
        self.change.as_ref().map(|c| crate::masked::email(&c.new_email)).unwrap_or_default()
    }

    fn masked_mobile(&self) -> String {
        self.change.as_ref().map(|c| crate::masked::mobile(&c.new_mobile)).unwrap_or_default()
    }
}

fn page(ra: &Ra, ui: Ui, errors: FormErrors, v: HashMap<String, String>, change: Option<CardlessChange>) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let p = PublicPage {
        ui,
        errors,
        v,
        change,
        max_mb: ra.console.upload_max_bytes / (1024 * 1024),
        max_files: ra.console.uploads_per_step,
    };
    render_status(status, &p)
}

/// GET /console/contact-change
pub async fn start_page(State(ra): State<Arc<Ra>>, headers: HeaderMap) -> Response {
    let (ui, new) = anonymous(&headers, "/console/contact-change");
    anonymous_page(new, &ra, page(&ra, ui, FormErrors::default(), HashMap::new(), None))
}

/// POST /console/contact-change: the codes go to the new contacts.
pub async fn start(State(ra): State<Arc<Ra>>, form: Anonymous) -> Response {
    let ui = form.ui;
    let mut errors = FormErrors::default();
    // A public page that sends messages: each address may start a few a minute.
    if let Some(ip) = form.address
        && let Err(wait) = ra.failures.check(ip)
    {
        errors.set_general(
            ui.t1("console-error-address-waits", "seconds", &wait.to_string()),
            ui.t("console-error-address-waits-remedy"),
        );
        return page(&ra, ui, errors, form.fields, None);
    }
    let get = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
    let asked = match crate::cardless_change::check(&ra, &get("cf"), &get("email"), &get("mobile"), &get("address")) {
        Ok(a) => a,
        Err(problems) => {
            for (field, r) in problems {
                let (cause, remedy) = ui.error(r.code(), &r.params());
                errors.field(field, cause, remedy);
            }
            return page(&ra, ui, errors, form.fields, None);
        }
    };
    if let Some(ip) = form.address {
        ra.failed_from(ip);
    }
    let from = form.address.map(|a| a.to_string());
    match crate::cardless_change::start(&ra, &asked, from.as_deref()).await {
        Ok(id) => Redirect::to(&format!("/console/contact-change/{id}")).into_response(),
        Err(NotStarted::TooManyForThese) => {
            errors.set_general(ui.t("console-error-contact-too-many"), ui.t("console-error-contact-too-many-remedy"));
            page(&ra, ui, errors, form.fields, None)
        }
        Err(NotStarted::Busy) => {
            errors.set_general(ui.t("console-error-contact-busy"), ui.t("console-error-contact-busy-remedy"));
            page(&ra, ui, errors, form.fields, None)
        }
        Err(NotStarted::Refused(r)) => {
            let (cause, remedy) = ui.error(r.code(), &r.params());
            errors.set_general(cause, remedy);
            page(&ra, ui, errors, form.fields, None)
        }
    }
}

/// GET /console/contact-change/{id}: the second step, or what became of the change.
pub async fn confirm_page(State(ra): State<Arc<Ra>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Ok(Some(change)) = ra.store.cardless_change(&id).await else { return StatusCode::NOT_FOUND.into_response() };
    let (ui, new) = anonymous(&headers, &format!("/console/contact-change/{id}"));
    anonymous_page(new, &ra, page(&ra, ui, FormErrors::default(), HashMap::new(), Some(change)))
}

/// POST /console/contact-change/{id}: both codes and the document's scans.
pub async fn confirm(State(ra): State<Arc<Ra>>, Path(id): Path<String>, form: AnonymousFiles) -> Response {
    let Ok(Some(change)) = ra.store.cardless_change(&id).await else { return StatusCode::NOT_FOUND.into_response() };
    let ui = form.ui;
    let mut errors = FormErrors::default();
    if let Some(ip) = form.address
        && let Err(wait) = ra.failures.check(ip)
    {
        errors.set_general(
            ui.t1("console-error-address-waits", "seconds", &wait.to_string()),
            ui.t("console-error-address-waits-remedy"),
        );
        return page(&ra, ui, errors, form.fields, Some(change));
    }
    let get = |k: &str| form.fields.get(k).cloned().unwrap_or_default();
    for field in ["email_code", "sms_code"] {
        if get(field).trim().is_empty() {
            errors.field(field, ui.t("console-error-required"), ui.t("console-error-required-remedy"));
        }
    }
    let wanted = [kinds::ID_FRONT, kinds::ID_BACK];
    let files = paper::accepted(&ui, &ra.console, &form.files, &wanted, &wanted, &[], &mut errors);
    if !errors.is_empty() {
        return page(&ra, ui, errors, form.fields, Some(change));
    }
    let scans: Vec<NewDocument> = files
        .iter()
        .map(|f| NewDocument {
            owner_kind: "contact-change",
            owner: &change.id,
            office: change.office.as_deref(),
            kind: f.kind,
            media: f.media,
            bytes: f.bytes,
            keep_days: ra.console.retention_days,
        })
        .collect();
    let from = form.address.map(|a| a.to_string());
    match crate::cardless_change::confirm(&ra, &change, &get("email_code"), &get("sms_code"), &scans, from.as_deref())
        .await
    {
        Ok(()) => Redirect::to(&format!("/console/contact-change/{id}")).into_response(),
        Err(NotConfirmed::WrongCode(left)) => {
            if let Some(ip) = form.address {
                ra.failed_from(ip);
            }
            errors.set_general(
                ui.t1("console-error-contact-codes", "left", &left.to_string()),
                ui.t("console-error-contact-codes-remedy"),
            );
            page(&ra, ui, errors, form.fields, Some(change))
        }
        Err(NotConfirmed::Spent) => {
            errors.set_general(ui.t("console-error-contact-spent"), ui.t("console-error-contact-spent-remedy"));
            let change = ra.store.cardless_change(&id).await.ok().flatten().unwrap_or(change);
            page(&ra, ui, errors, form.fields, Some(change))
        }
        Err(NotConfirmed::Internal) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}
