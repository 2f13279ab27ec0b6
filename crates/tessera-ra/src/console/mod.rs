//! The registration office's console, served under `/console/`: server-rendered pages
//! (askama, escaping by default) with htmx for partial updates, vendored and served here.
//! Every page goes out with a strict Content-Security-Policy (no inline script, no frames),
//! `Referrer-Policy: no-referrer` and no caching; every form and state-changing request
//! carries a CSRF token ([`session`]).
//!
//! - [`sign_in`]: sign-in with name, password and one-time code; the first password;
//!   recovery by e-mail; resynchronising a drifted device; signing out.
//! - [`account`]: the operator's own account: password, testing the device, API tokens.
//! - [`home`]: the office's counts, the CA's notices, the last sign-ins.
//! - [`register`]: a holder looked up, registered (tax code checked against their
//!   data) and their request made.
//! - [`requests`]: a request's page: identification and uploads, the verifier's
//!   decision, the activation code, the handover, the PDFs.
//! - [`documents`]: uploaded documents served back to who may see them.
//! - [`search`]: requests found by holder, code, state and dates; CSV.
//! - [`verify`]: the verifiers' queue.
//! - [`certificates`]: certificates found; suspension, reactivation and revocation with
//!   the requester's document and the signed form.
//! - [`contact_change`]: the public page where a holder asks to change their contacts
//!   without the card; [`contact_changes`]: the office's queue that decides them.
//! - [`notices`]: the CA's notices, published by its verifiers.
//! - [`operators`]: the office's accounts, managed by its supervisor.
//! - [`audit`]: the audit log searched, exported, its chain checked.
//! - [`renewals`]: the office's renewal requests; approving, refusing, closing.
//! - [`paper`]: the identity document and the uploads, checked the same everywhere.

pub mod account;
pub mod audit;
pub mod certificates;
pub mod contact_change;
pub mod contact_changes;
pub mod documents;
pub mod home;
pub mod notices;
pub mod operators;
pub mod pages;
pub mod paper;
pub mod register;
pub mod renewals;
pub mod requests;
pub mod search;
pub mod session;
pub mod sign_in;
pub mod ui;
pub mod verify;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::state::Ra;

/// Every console route.
pub fn router() -> Router<Arc<Ra>> {
    Router::new()
        .route("/console/", get(home::page))
        .route("/console", get(|| async { Redirect::permanent("/console/") }))
        .route("/console/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/password", get(sign_in::password_page).post(sign_in::password_submit))
        .route("/console/recover", get(sign_in::recover_page).post(sign_in::recover_submit))
        .route("/console/otp/resync", get(sign_in::resync_page).post(sign_in::resync_submit))
        .route("/console/account", get(account::page))
        .route("/console/account/otp-test", post(account::otp_test))
        .route("/console/account/tokens", post(account::token_new))
        .route("/console/account/tokens/{id}/revoke", post(account::token_revoke))
        .route("/console/holders/new", get(register::page))
        .route("/console/holders", post(register::submit))
        .route("/console/requests/{reference}", get(requests::page))
        .route("/console/requests/{reference}/form.pdf", get(requests::form_pdf))
        .route(
            "/console/requests/{reference}/identify",
            post(requests::identify).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route("/console/requests/{reference}/decision", post(requests::decide))
        .route("/console/requests/{reference}/code", post(requests::code))
        .route("/console/requests/{reference}/handover.pdf", get(requests::handover_pdf))
        .route("/console/requests/{reference}/halves", post(requests::halves))
        .route("/console/documents/{id}", get(documents::download))
        .route("/console/contact-change", get(contact_change::start_page).post(contact_change::start))
        .route(
            "/console/contact-change/{id}",
            get(contact_change::confirm_page)
                .post(contact_change::confirm)
                .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route("/console/contact-changes", get(contact_changes::queue))
        .route("/console/contact-changes/{id}", get(contact_changes::page))
        .route("/console/contact-changes/{id}/decision", post(contact_changes::decide))
        .route("/console/notices", get(notices::list).post(notices::publish))
        .route("/console/notices/{id}/withdraw", post(notices::withdraw))
        .route("/console/operators", get(operators::list).post(operators::add))
        .route("/console/operators/{name}/state", post(operators::set_state))
        .route("/console/operators/{name}/reset", post(operators::reset))
        .route("/console/audit", get(audit::page))
        .route("/console/audit.csv", get(audit::csv))
        .route("/console/audit/verify", post(audit::verify))
        .route("/console/renewals", get(renewals::list))
        .route("/console/renewals/{id}/decision", post(renewals::decide))
        .route("/console/renewals/{id}/form.p7m", get(renewals::signed_form))
        .route("/console/certificates", get(certificates::list))
        .route("/console/certificates/{serial}", get(certificates::page))
        .route(
            "/console/certificates/{serial}/form.pdf",
            post(certificates::form_pdf).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route(
            "/console/certificates/{serial}/change",
            post(certificates::change).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route("/console/search", get(search::page))
        .route("/console/search.csv", get(search::csv))
        .route("/console/verify", get(verify::page))
        .route("/console/lang/{lang}", get(language))
        .route("/console/static/{file}", get(asset))
        .layer(axum::middleware::map_response(security_headers))
}

/// The headers of every console answer.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    // A download keeps the stricter policy it set (sandbox).
    if !h.contains_key("content-security-policy") {
        set(
            h,
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        );
    }
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-opener-policy", "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    r
}

/// The vendored and own assets.
async fn asset(Path(file): Path<String>) -> Response {
    let (kind, body): (&str, &'static [u8]) = match file.as_str() {
        "htmx.min.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/htmx.min.js")),
        "console.js" => ("text/javascript; charset=utf-8", include_bytes!("../../assets/console.js")),
        "console.css" => ("text/css; charset=utf-8", include_bytes!("../../assets/console.css")),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

#[derive(serde::Deserialize)]
struct Back {
    #[serde(default)]
    back: String,
}

/// The language switch: a cookie, then back to the page (a console page only).
async fn language(
    axum::extract::State(ra): axum::extract::State<Arc<Ra>>,
    Path(lang): Path<String>,
    Query(q): Query<Back>,
) -> Response {
    let lang = if lang == "en" { "en" } else { "it" };
    let back = if q.back.starts_with("/console/") && !q.back.contains("//") && !q.back.contains('\\') {
        q.back
    } else {
        "/console/".to_owned()
    };
    let cookie = session::set_cookie(&ra, session::LANG_COOKIE, lang, Some(365 * 86_400));
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

/// `s` for a URL's query (RFC 3986 unreserved characters kept).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What went wrong with a form: per field and in general, each a cause and a remedy.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    fields: BTreeMap<String, (String, String)>,
    general: Option<(String, String)>,
}

impl FormErrors {
    pub fn field(&mut self, name: &str, cause: String, remedy: String) {
        self.fields.insert(name.to_owned(), (cause, remedy));
    }

    pub fn set_general(&mut self, cause: String, remedy: String) {
        self.general = Some((cause, remedy));
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    pub fn get(&self, name: &str) -> Option<&(String, String)> {
        self.fields.get(name)
    }

    pub fn general(&self) -> Option<&(String, String)> {
        self.general.as_ref()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_none()
    }
}

/// A page rendered, or a refusal page when rendering failed.
pub fn render<T: askama::Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// `status` with a page.
pub fn render_status<T: askama::Template>(status: StatusCode, page: &T) -> Response {
    let mut r = render(page);
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests {
    use tessera_locales::{Lang, Messages};

    /// The families of messages pages name by a value (`ui.label(family, value)`), and
    /// every value they can take.
    fn families() -> Vec<(&'static str, Vec<String>)> {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut states = names(&super::search::STATES);
        states.push("api".into());
        vec![
            ("console-state", states),
            ("console-cert", names(&["active", "suspended", "revoked"])),
            (
                "console-profile",
                tessera_protocol::workflow::operator::Profile::ALL.iter().map(|p| p.name().replace('+', "-")).collect(),
            ),
            ("console-role", crate::accounts::Role::ALL.iter().map(|r| r.name().to_owned()).collect()),
            ("console-id", names(&super::paper::DOCUMENT_KINDS)),
            ("console-doc", names(&crate::documents::kinds::ALL)),
            ("console-done", names(&super::requests::DONE)),
            ("console-renewal-state", names(&super::renewals::STATES)),
            ("console-contact-state", names(&["submitted", "applied", "refused"])),
            ("console-contact-done", names(&["applied", "refused"])),
            ("console-renewal-done", names(&super::renewals::DONE)),
            ("console-held", names(&["verification", "originals"])),
            ("console-certkind", names(&["signature", "cns-authentication"])),
            ("console-lifecycle", names(&["suspend", "reactivate", "revoke"])),
            ("console-lifecycle-done", names(&["suspend", "reactivate", "revoke"])),
            (
                "console-error-remote",
                super::requests::REMOTE_REFUSALS.iter().flat_map(|r| [r.to_string(), format!("{r}-remedy")]).collect(),
            ),
            ("console-reason", crate::lifecycle::REASONS.iter().chain(&[2, 6]).map(|r| r.to_string()).collect()),
        ]
    }

    /// Every message the console's pages and code name, and every member of each family,
    /// exists in both catalogs.
    #[test]
    fn every_console_message_exists_in_both_languages() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["templates", "src", "src/console"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "html" || x == "rs") {
                    files.push(p);
                }
            }
        }
        let families = families();
        let mut wanted = std::collections::BTreeSet::new();
        for p in files {
            let text = std::fs::read_to_string(&p).unwrap();
            for piece in text.split("\"console-").skip(1) {
                let id: String = piece.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
                let id = format!("console-{id}");
                let whole = piece[id.len() - "console-".len()..].starts_with('"');
                if whole && !id.ends_with('-') && !families.iter().any(|(f, _)| *f == id) {
                    wanted.insert(id);
                }
            }
        }
        for (family, values) in &families {
            for v in values {
                wanted.insert(format!("{family}-{v}"));
            }
        }
        assert!(wanted.len() > 200, "the scan found the pages' messages ({})", wanted.len());
        for lang in [Lang::It, Lang::En] {
            let m = Messages::new(lang);
            let missing: Vec<_> = wanted.iter().filter(|id| !m.has(id)).collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        }
    }
}
