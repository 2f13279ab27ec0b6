//! Tessera's messages: the Fluent catalogs of locales/ (Italian first, English second),
//! embedded so that an installed binary needs no data files. `tessera.ftl` holds what the
//! app, the CLI and the RA's refusals say; `console.ftl` the registration office's console.
//! Depends on nothing of Tessera's: the app, the CLI and the RA all use it.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::collections::BTreeMap;

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use serde::Serialize;
use unic_langid::{LanguageIdentifier, langid};

/// The catalogs, per language: the app's and the console's.
const FTL_IT: [&str; 2] =
    [include_str!("../../../locales/it/tessera.ftl"), include_str!("../../../locales/it/console.ftl")];
const FTL_EN: [&str; 2] =
    [include_str!("../../../locales/en/tessera.ftl"), include_str!("../../../locales/en/console.ftl")];

/// A coded message as it crosses a boundary (UI, error file, a refusal): a stable code and
/// its parameters, never a pre-rendered text. Secrets never go into params.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct ErrorPayload {
    pub code: String,
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    It,
    En,
}

impl Lang {
    /// `it` unless asked otherwise: an explicit choice, else LC_ALL / LC_MESSAGES / LANG.
    pub fn pick(explicit: Option<&str>) -> Lang {
        let env =
            || ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        match explicit.map(str::to_owned).or_else(env) {
            Some(v) if v.starts_with("en") => Lang::En,
            _ => Lang::It,
        }
    }

    fn sources(self) -> ([&'static str; 2], LanguageIdentifier) {
        match self {
            Lang::It => (FTL_IT, langid!("it")),
            Lang::En => (FTL_EN, langid!("en")),
        }
    }

    /// The language's code, as HTML's lang attribute and Accept-Language say it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }
}

/// A rendered error: what happened, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub cause: String,
    pub remedy: String,
}

pub struct Messages {
    bundle: FluentBundle<FluentResource>,
}

thread_local! {
    static CACHED: [Messages; 2] = [Messages::new(Lang::It), Messages::new(Lang::En)];
}

/// Run `f` with this thread's catalog of `lang`, parsed once per thread (a server renders
/// many pages; a bundle is not shared between threads).
pub fn with<R>(lang: Lang, f: impl FnOnce(&Messages) -> R) -> R {
    CACHED.with(|m| f(&m[lang as usize]))
}

impl Messages {
    pub fn new(lang: Lang) -> Messages {
        let (sources, id) = lang.sources();
        let mut bundle = FluentBundle::new(vec![id]);
        bundle.set_use_isolating(false);
        for source in sources {
            let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, _)| r);
            // Ids are unique in our own catalogs (checked by a test), so this cannot fail.
            let _ = bundle.add_resource(resource);
        }
        Messages { bundle }
    }

    /// Whether the catalog has message `id`.
    pub fn has(&self, id: &str) -> bool {
        self.bundle.has_message(id)
    }

    /// Render message `id` with string arguments; the id itself when it is missing.
    pub fn text(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        self.render(id, None, args).unwrap_or_else(|| id.to_owned())
    }

    pub fn error(&self, e: &ErrorPayload) -> Rendered {
        let args: Vec<(&str, FluentValue<'_>)> =
            e.params.iter().map(|(k, v)| (k.as_str(), FluentValue::from(v.as_str()))).collect();
        let id = format!("error-{}", e.code);
        match (self.render(&id, None, &args), self.render(&id, Some("remedy"), &args)) {
            (Some(cause), Some(remedy)) => Rendered { cause, remedy },
            _ => {
                let code = [("code", FluentValue::from(e.code.as_str()))];
                Rendered {
                    cause: self.text("error-unknown", &code),
                    remedy: self.render("error-unknown", Some("remedy"), &code).unwrap_or_default(),
                }
            }
        }
    }

    fn render(&self, id: &str, attribute: Option<&str>, args: &[(&str, FluentValue<'_>)]) -> Option<String> {
        let message = self.bundle.get_message(id)?;
        let pattern = match attribute {
            None => message.value()?,
            Some(a) => message.get_attribute(a)?.value(),
        };
        let mut fluent_args = FluentArgs::new();
        for (k, v) in args {
            fluent_args.set(Cow::Borrowed(*k), v.clone());
        }
        let mut errors = Vec::new();
        Some(self.bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(sources: &[&str]) -> Vec<String> {
        sources
            .iter()
            .flat_map(|s| s.lines())
            .filter(|l| !l.starts_with([' ', '#', '*', '[']) && l.contains(" ="))
            .map(|l| l.split(" =").next().unwrap().trim().to_owned())
            .collect()
    }

    #[test]
    fn every_catalog_parses_without_a_single_error() {
        for source in FTL_IT.iter().chain(&FTL_EN) {
            if let Err((_, errors)) = FluentResource::try_new(source.to_string()) {
                panic!("{errors:?}");
            }
        }
    }

    #[test]
    fn both_languages_have_the_same_messages_each_once() {
        let (it, en) = (ids(&FTL_IT), ids(&FTL_EN));
        assert_eq!(it, en);
        let mut unique = it.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), it.len(), "duplicate ids");
    }

    #[test]
    fn italian_is_the_default() {
        assert_eq!(Lang::pick(Some("it_IT.UTF-8")), Lang::It);
        assert_eq!(Lang::pick(Some("en_GB")), Lang::En);
        assert_eq!(Lang::pick(Some("de_DE")), Lang::It);
        let m = Messages::new(Lang::It);
        assert_eq!(
            m.error(&ErrorPayload { code: "no-readers".into(), params: BTreeMap::new() }).cause,
            "Nessun lettore di smart card collegato."
        );
    }
}
