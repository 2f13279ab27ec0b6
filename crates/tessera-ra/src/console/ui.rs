//! What every console page shares: the language and its messages (locales/console.ftl,
//! rendered with Fluent; askama escapes the result), the CSRF token forms carry, and who
//! is signed in.

use tessera_locales::{Lang, with};

use crate::accounts::Role;

/// The signed-in operator, as pages show them.
#[derive(Debug, Clone)]
pub struct MeView {
    pub name: String,
    pub office: String,
    pub role: Role,
}

/// The context of one page.
#[derive(Debug, Clone)]
pub struct Ui {
    pub lang: Lang,
    /// The token every form and htmx request sends back.
    pub csrf: String,
    pub me: Option<MeView>,
    /// Where the page is (for the language switch to come back to), a console path.
    pub path: String,
}

impl Ui {
    /// Message `id`.
    pub fn t(&self, id: &str) -> String {
        with(self.lang, |m| m.text(id, &[]))
    }

    /// Message `id` with one argument.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        with(self.lang, |m| m.text(id, &[(name, value.into())]))
    }

    /// Message `id` with a count (Fluent picks the plural form by it).
    pub fn tn(&self, id: &str, name: &str, n: impl std::borrow::Borrow<usize>) -> String {
        let n = *n.borrow() as i64;
        with(self.lang, |m| m.text(id, &[(name, n.into())]))
    }

    /// Message `id` with two arguments.
    pub fn t2(&self, id: &str, a: &str, a_value: &str, b: &str, b_value: &str) -> String {
        with(self.lang, |m| m.text(id, &[(a, a_value.into()), (b, b_value.into())]))
    }

    /// The label of `value` among `family`'s (message `family-value`, a `+` read as `-`:
    /// Fluent names have none), such as a state's.
    pub fn label(&self, family: &str, value: &str) -> String {
        self.t(&format!("{family}-{}", value.replace('+', "-")))
    }

    /// A refusal or error code's cause and remedy (the catalogs' `error-<code>`).
    pub fn error(&self, code: &str, params: &std::collections::BTreeMap<String, String>) -> (String, String) {
        let payload = tessera_locales::ErrorPayload { code: code.to_owned(), params: params.clone() };
        let r = with(self.lang, |m| m.error(&payload));
        (r.cause, r.remedy)
    }

    /// An audited action as people read it (`console-action-<action>`), or as recorded
    /// when the catalog has no words for it.
    pub fn action(&self, action: &str) -> String {
        let id = format!("console-action-{action}");
        with(self.lang, |m| if m.has(&id) { m.text(&id, &[]) } else { action.to_owned() })
    }

    /// A Unix time's day, as people write it (dd/mm/yyyy, UTC).
    pub fn day(&self, unix: &i64) -> String {
        time::OffsetDateTime::from_unix_timestamp(*unix)
            .map(|t| format!("{:02}/{:02}/{}", t.day(), t.month() as u8, t.year()))
            .unwrap_or_default()
    }

    /// A `YYYY-MM-DD` date as people write it (dd/mm/yyyy); as it is otherwise.
    pub fn date(&self, iso: &str) -> String {
        match crate::registration::parse_date(iso) {
            Some(d) => format!("{:02}/{:02}/{}", d.day(), d.month() as u8, d.year()),
            None => iso.to_owned(),
        }
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    /// The other language, for the switch.
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::It => "en",
            Lang::En => "it",
        }
    }

    /// The signed-in operator's office.
    pub fn office(&self) -> String {
        self.me.as_ref().map(|m| m.office.clone()).unwrap_or_default()
    }

    pub fn role_label(&self) -> String {
        self.me.as_ref().map(|m| self.t(&format!("console-role-{}", m.role.name()))).unwrap_or_default()
    }

    pub fn is(&self, role: &str) -> bool {
        self.me.as_ref().is_some_and(|m| m.role.name() == role)
    }

    /// Serves an office's holders (operators and supervisors), not only verifies.
    pub fn serves_office(&self) -> bool {
        self.me.as_ref().is_some_and(|m| m.role.serves_office())
    }

    /// A Unix time as people read it, in the page's language (UTC).
    pub fn when(&self, unix: &i64) -> String {
        let unix = *unix;
        time::OffsetDateTime::from_unix_timestamp(unix)
            .map(|t| {
                format!("{:02}/{:02}/{} {:02}:{:02} UTC", t.day(), t.month() as u8, t.year(), t.hour(), t.minute())
            })
            .unwrap_or_default()
    }
}

/// The page's language: the `tessera_lang` cookie, else the browser's Accept-Language,
/// else Italian.
pub fn lang_of(headers: &axum::http::HeaderMap) -> Lang {
    if let Some(l) = super::session::cookie(headers, super::session::LANG_COOKIE) {
        return if l == "en" { Lang::En } else { Lang::It };
    }
    let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    match accept.split(',').next().map(|l| l.trim().to_ascii_lowercase()) {
        Some(l) if l.starts_with("en") => Lang::En,
        _ => Lang::It,
    }
}
