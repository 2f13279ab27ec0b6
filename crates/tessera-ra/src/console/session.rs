//! Console sessions. The cookie holds a random session id (HttpOnly, SameSite=Strict,
//! Secure under TLS); the database holds only its SHA-256, with the operator, the stage,
//! the CSRF token and when it was last used, so a session holds across RA instances on one
//! PostgreSQL and ends after `idle_minutes` of inactivity or `session_hours` in all. A new
//! id is made at every sign-in. Every state-changing request carries the session's CSRF
//! token (a form field, or the `X-CSRF-Token` header htmx sends); before sign-in, a
//! double-submitted token in its own cookie stands for it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::ui::{MeView, Ui, lang_of};
use crate::state::Ra;
use crate::store::accounts::Account;
use crate::store::audit::Event;

pub const SESSION_COOKIE: &str = "tessera_console";
pub const PRE_COOKIE: &str = "tessera_console_pre";
pub const LANG_COOKIE: &str = "tessera_lang";
/// The header htmx sends the token in (body hx-headers).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A cookie's value from the request's Cookie headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A Set-Cookie value: HttpOnly, SameSite=Strict, scoped to the console, Secure under TLS;
/// `max_age` 0 removes it, None lasts the browser session.
pub fn set_cookie(ra: &Ra, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if ra.tls {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or(HeaderValue::from_static(""))
}

pub use crate::codes::{random_token, token_digest as digest};

/// Whether two tokens are the same, in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The client's address (for the audit log and the rate limits).
pub fn address(parts: &Parts) -> Option<std::net::IpAddr> {
    parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip())
}

/// The signed-in operator of a full session.
pub struct Me {
    pub account: Account,
    pub session: String,
    pub csrf: String,
    pub ui: Ui,
    pub address: Option<String>,
    /// Signed in with a one-time password: only a new password may be chosen.
    pub forced: bool,
}

impl Me {
    /// The audit entry's who, office and where for an action of this operator.
    pub fn event<'a>(&'a self, action: &'a str, subject: &'a str, detail: &'a str) -> Event<'a> {
        Event {
            actor: &self.account.name,
            office: Some(&self.account.office),
            action,
            subject,
            detail,
            address: self.address.as_deref(),
        }
    }

    /// This operator as the one who acts, in their office and role.
    pub fn actor(&self) -> crate::actor::Actor {
        crate::actor::Actor::of_account(&self.account, self.address.clone())
    }

    /// The office whose objects this operator sees: their own (verifiers see every office's
    /// requests waiting for verification, through their own pages).
    pub fn office(&self) -> &str {
        &self.account.office
    }
}

/// Why there is no signed-in operator: the page goes to the sign-in (htmx: the whole
/// window does), saying so when a session timed out.
pub struct SignInFirst {
    expired: bool,
    htmx: bool,
    /// Signed in with a one-time password: the new password comes first.
    password_first: bool,
}

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let to = match (self.password_first, self.expired) {
            (true, _) => "/console/password",
            (_, true) => "/console/sign-in?expired=1",
            _ => "/console/sign-in",
        };
        if self.htmx {
            return ([("hx-redirect", to)], "").into_response();
        }
        Redirect::to(to).into_response()
    }
}

/// A session from the request's cookie, and its account, when it is alive: not idle too
/// long, not too old, the account enabled. `stage`: the one required.
async fn live(
    ra: &Ra,
    parts: &Parts,
    stages: &[&str],
) -> Result<(Account, crate::store::accounts::Session, String), SignInFirst> {
    let htmx = parts.headers.contains_key("hx-request");
    let none = SignInFirst { expired: false, htmx, password_first: false };
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(none) };
    let id = digest(&token);
    let Ok(Some(session)) = ra.store.session(&id).await else { return Err(none) };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let idle = ra.console.idle_minutes * 60;
    if session.last_seen + idle < now || session.created_at + ra.console.session_hours * 3600 < now {
        let _ = ra.store.close_session(&id, None).await;
        return Err(SignInFirst { expired: true, htmx, password_first: false });
    }
    if !stages.contains(&session.stage.as_str()) {
        return Err(SignInFirst { password_first: session.stage == "change-password", ..none });
    }
    let Ok(Some(account)) = ra.store.account_by_id(session.operator_id).await else { return Err(none) };
    if account.disabled {
        let _ = ra.store.close_session(&id, None).await;
        return Err(none);
    }
    // The idle clock restarts; written at most every ten seconds.
    if now - session.last_seen >= 10 {
        let _ = ra.store.touch_session(&id).await;
    }
    Ok((account, session, id))
}

fn me(parts: &Parts, account: Account, session: crate::store::accounts::Session, id: String) -> Me {
    let ui = Ui {
        lang: lang_of(&parts.headers),
        csrf: session.csrf.clone(),
        me: Some(MeView { name: account.name.clone(), office: account.office.clone(), role: account.role }),
        path: parts.uri.path().to_owned(),
    };
    let forced = session.stage != "full";
    Me { account, session: id, csrf: session.csrf, ui, address: address(parts).map(|a| a.to_string()), forced }
}

impl FromRequestParts<Arc<Ra>> for Me {
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, ra: &Arc<Ra>) -> Result<Me, SignInFirst> {
        let (account, session, id) = live(ra, parts, &["full"]).await?;
        Ok(me(parts, account, session, id))
    }
}

/// A signed-in operator, also one signed in with a one-time password (`forced`), who may
/// only choose a password of their own.
pub struct AnyStage(pub Me);

impl FromRequestParts<Arc<Ra>> for AnyStage {
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, ra: &Arc<Ra>) -> Result<AnyStage, SignInFirst> {
        let (account, session, id) = live(ra, parts, &["full", "change-password"]).await?;
        Ok(AnyStage(me(parts, account, session, id)))
    }
}

/// Refused for its CSRF token: nothing was done.
pub struct Forbidden;

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        (axum::http::StatusCode::FORBIDDEN, "The form's security token is missing or wrong: reload the page.")
            .into_response()
    }
}

/// The fields of a urlencoded form body.
async fn form_fields(req: Request) -> Result<(Parts, HashMap<String, String>), Forbidden> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.map_err(|_| Forbidden)?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| Forbidden)?;
    Ok((parts, fields.into_iter().collect()))
}

/// A form posted by the signed-in operator, its CSRF token checked (the `csrf` field or
/// the header htmx sends) before anything else: its fields, and who sent it.
pub struct Submitted {
    pub me: Me,
    pub fields: HashMap<String, String>,
}

/// Why a posted form is not taken: no session, or a wrong token.
pub enum NotTaken {
    SignIn(SignInFirst),
    Forbidden,
    /// The body broke off or was not a form (a dropped connection, a malformed part).
    Unreadable,
    /// Larger than the route takes in all.
    TooLarge,
}

impl IntoResponse for NotTaken {
    fn into_response(self) -> Response {
        match self {
            NotTaken::SignIn(s) => s.into_response(),
            NotTaken::Forbidden => Forbidden.into_response(),
            NotTaken::Unreadable => {
                (axum::http::StatusCode::BAD_REQUEST, "the form arrived incomplete: send it again").into_response()
            }
            NotTaken::TooLarge => {
                (axum::http::StatusCode::PAYLOAD_TOO_LARGE, "the files together are too large: send fewer at a time")
                    .into_response()
            }
        }
    }
}

/// Check the token a request carries against `expected`.
fn carries(parts: &Parts, fields: &HashMap<String, String>, expected: &str) -> bool {
    let given = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| fields.get("csrf").cloned())
        .unwrap_or_default();
    !expected.is_empty() && same(&given, expected)
}

impl FromRequest<Arc<Ra>> for Submitted {
    type Rejection = NotTaken;

    async fn from_request(req: Request, ra: &Arc<Ra>) -> Result<Submitted, NotTaken> {
        let (mut parts, fields) = form_fields(req).await.map_err(|_| NotTaken::Forbidden)?;
        let me = Me::from_request_parts(&mut parts, ra).await.map_err(NotTaken::SignIn)?;
        if !carries(&parts, &fields, &me.csrf) {
            return Err(NotTaken::Forbidden);
        }
        Ok(Submitted { me, fields })
    }
}

/// The same, also from an operator who must first choose a password (`me.forced`).
pub struct SubmittedAnyStage {
    pub me: Me,
    pub fields: HashMap<String, String>,
}

impl FromRequest<Arc<Ra>> for SubmittedAnyStage {
    type Rejection = NotTaken;

    async fn from_request(req: Request, ra: &Arc<Ra>) -> Result<SubmittedAnyStage, NotTaken> {
        let (mut parts, fields) = form_fields(req).await.map_err(|_| NotTaken::Forbidden)?;
        let AnyStage(me) = AnyStage::from_request_parts(&mut parts, ra).await.map_err(NotTaken::SignIn)?;
        if !carries(&parts, &fields, &me.csrf) {
            return Err(NotTaken::Forbidden);
        }
        Ok(SubmittedAnyStage { me, fields })
    }
}

/// A form posted before sign-in (sign-in, password recovery, device resynchronisation):
/// its token must be the one in the pre-session cookie the form's page set.
pub struct Anonymous {
    pub ui: Ui,
    pub fields: HashMap<String, String>,
    pub address: Option<std::net::IpAddr>,
}

impl FromRequest<Arc<Ra>> for Anonymous {
    type Rejection = NotTaken;

    async fn from_request(req: Request, _: &Arc<Ra>) -> Result<Anonymous, NotTaken> {
        let (parts, fields) = form_fields(req).await.map_err(|_| NotTaken::Forbidden)?;
        let expected = cookie(&parts.headers, PRE_COOKIE).unwrap_or_default();
        if !carries(&parts, &fields, &expected) {
            return Err(NotTaken::Forbidden);
        }
        let ui = Ui { lang: lang_of(&parts.headers), csrf: expected, me: None, path: parts.uri.path().to_owned() };
        Ok(Anonymous { ui, fields, address: address(&parts) })
    }
}

/// The page context before sign-in, and the pre-session token its forms carry (kept in
/// the request's cookie, else new: the caller sets it).
pub fn anonymous(headers: &HeaderMap, path: &str) -> (Ui, Option<String>) {
    let (csrf, new) = match cookie(headers, PRE_COOKIE) {
        Some(c) if c.len() >= 40 => (c, None),
        _ => {
            let t = random_token().unwrap_or_default();
            (t.clone(), Some(t))
        }
    };
    (Ui { lang: lang_of(headers), csrf, me: None, path: path.to_owned() }, new)
}

/// A file posted with a form: its field, its bytes, or that it was over the size limit.
pub struct Upload {
    pub field: String,
    pub bytes: Vec<u8>,
    pub too_large: bool,
}

/// A multipart form (with files) posted by the signed-in operator, its CSRF token (a form
/// field, before the files, or the header) checked: the text fields and the files, each
/// file read up to the configured limit and no further.
pub struct SubmittedFiles {
    pub me: Me,
    pub fields: HashMap<String, String>,
    pub files: Vec<Upload>,
}

impl FromRequest<Arc<Ra>> for SubmittedFiles {
    type Rejection = NotTaken;

    async fn from_request(req: Request, ra: &Arc<Ra>) -> Result<SubmittedFiles, NotTaken> {
        let (mut parts, body) = req.into_parts();
        let me = Me::from_request_parts(&mut parts, ra).await.map_err(NotTaken::SignIn)?;
        let expected = me.csrf.clone();
        let (fields, files) = multipart(Request::from_parts(parts, body), ra, &expected, None).await?;
        Ok(SubmittedFiles { me, fields, files })
    }
}

/// A multipart form posted before sign-in (the public contact change): its token must be
/// the one in the pre-session cookie the form's page set.
pub struct AnonymousFiles {
    pub ui: Ui,
    pub fields: HashMap<String, String>,
    pub files: Vec<Upload>,
    pub address: Option<std::net::IpAddr>,
}

impl FromRequest<Arc<Ra>> for AnonymousFiles {
    type Rejection = NotTaken;

    async fn from_request(req: Request, ra: &Arc<Ra>) -> Result<AnonymousFiles, NotTaken> {
        let expected = cookie(req.headers(), PRE_COOKIE).unwrap_or_default();
        if expected.len() < 40 {
            return Err(NotTaken::Forbidden);
        }
        let ui =
            Ui { lang: lang_of(req.headers()), csrf: expected.clone(), me: None, path: req.uri().path().to_owned() };
        let address = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        // A public form: what anyone may make the RA hold in memory is bounded by the
        // files that form asks (front and back, each as many pages as allowed).
        let most = 2 * ra.console.uploads_per_step * ra.console.upload_max_bytes + 256 * 1024;
        let (fields, files) = multipart(req, ra, &expected, Some(most)).await?;
        Ok(AnonymousFiles { ui, fields, files, address })
    }
}

/// The text fields and the files of a multipart form whose token (a form field, or the
/// header) must be `expected`; each file read up to the configured limit and no further.
/// A body that breaks off is refused whole: a file cut short must not be kept; so is one
/// longer than `most` bytes in all, when given.
async fn multipart(
    req: Request,
    ra: &Arc<Ra>,
    expected: &str,
    most: Option<usize>,
) -> Result<(HashMap<String, String>, Vec<Upload>), NotTaken> {
    let header_ok = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).is_some_and(|t| same(t, expected));
    let mut multipart = axum::extract::Multipart::from_request(req, ra).await.map_err(|_| NotTaken::Forbidden)?;
    let (mut fields, mut files, mut read) = (HashMap::new(), Vec::new(), 0usize);
    let max = ra.console.upload_max_bytes;
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE { NotTaken::TooLarge } else { NotTaken::Unreadable }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_owned();
        if field.file_name().is_none() {
            let text = field.text().await.map_err(broken)?;
            read += text.len();
            if most.is_some_and(|m| read > m) {
                return Err(NotTaken::TooLarge);
            }
            fields.insert(name, text);
            continue;
        }
        // Not a file at all (an empty file input).
        if field.file_name().is_some_and(str::is_empty) {
            continue;
        }
        let (mut bytes, mut too_large) = (Vec::new(), false);
        while let Some(chunk) = field.chunk().await.map_err(broken)? {
            read += chunk.len();
            if most.is_some_and(|m| read > m) {
                return Err(NotTaken::TooLarge);
            }
            if too_large {
                continue;
            }
            if bytes.len() + chunk.len() > max {
                too_large = true;
                bytes.clear();
            } else {
                bytes.extend_from_slice(&chunk);
            }
        }
        files.push(Upload { field: name, bytes, too_large });
    }
    let field_ok = fields.get("csrf").is_some_and(|t| same(t, expected));
    if !(header_ok || field_ok) {
        return Err(NotTaken::Forbidden);
    }
    Ok((fields, files))
}
