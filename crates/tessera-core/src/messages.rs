//! Fluent messages from locales/ (Italian first, English second), shared with the UI.

use std::borrow::Cow;

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use serde::Serialize;
use unic_langid::{LanguageIdentifier, langid};

use crate::error::ErrorPayload;

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

    fn source(self) -> (&'static str, LanguageIdentifier) {
        match self {
            Lang::It => (crate::embedded::FTL_IT, langid!("it")),
            Lang::En => (crate::embedded::FTL_EN, langid!("en")),
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

impl Messages {
    pub fn new(lang: Lang) -> Messages {
        let (source, id) = lang.source();
        let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, _)| r);
        let mut bundle = FluentBundle::new(vec![id]);
        bundle.set_use_isolating(false);
        // Ids are unique in our own catalogs (checked by a test), so this cannot fail.
        let _ = bundle.add_resource(resource);
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
    use crate::error::Error;

    fn ids(source: &str) -> Vec<String> {
        source
            .lines()
            .filter(|l| !l.starts_with([' ', '#', '*', '[']) && l.contains(" ="))
            .map(|l| l.split(" =").next().unwrap().trim().to_owned())
            .collect()
    }

    #[test]
    fn both_catalogs_parse_without_a_single_error() {
        for source in [crate::embedded::FTL_IT, crate::embedded::FTL_EN] {
            if let Err((_, errors)) = FluentResource::try_new(source.to_owned()) {
                panic!("{errors:?}");
            }
        }
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let (it, en) = (ids(crate::embedded::FTL_IT), ids(crate::embedded::FTL_EN));
        assert_eq!(it, en);
        let mut unique = it.clone();
        unique.dedup();
        assert_eq!(unique.len(), it.len(), "duplicate ids");
    }

    #[test]
    fn every_error_code_has_a_cause_and_a_remedy_in_both_languages() {
        let samples = [
            Error::PcscNotRunning,
            Error::Pcsc { reason: "r".into() },
            Error::NoReaders,
            Error::CardRemoved { reader: "R".into() },
            Error::ModuleMissing { module: "m.so".into(), card: None },
            Error::ModuleMissing { module: "m.so".into(), card: Some("C".into()) },
            Error::ModuleLoadFailed { module: "m.so".into(), reason: "r".into() },
            Error::TokenRemoved { token: "T".into() },
            Error::Pkcs11 { function: "F".into(), rv: "R".into(), token: "T".into() },
            Error::CatalogInvalid { file: "f".into(), reason: "r".into() },
            Error::CatalogConflict { atr: "3B".into(), candidates: "a, b".into() },
            Error::CertificateUnreadable { token: "T".into(), object: "o".into(), reason: "r".into() },
            Error::InvalidUri { uri: "u".into(), reason: "r".into() },
            Error::TokenNotFound { uri: "pkcs11:token=X".into() },
            Error::TokenAmbiguous { uri: "pkcs11:".into(), count: 2 },
            Error::PinLocked,
            Error::WrongPuk,
            Error::CardCommand { reader: "R".into(), sw: "6A82".into() },
            Error::ManagementKeyRejected,
            Error::ManagementKeyNeeded,
            Error::FinalTryNotConfirmed,
            Error::PinRejected,
            Error::KeyNotProtected { reason: "r".into(), deleted: true },
            Error::IdInUse { id: "0a".into() },
            Error::KeyNotFound { uri: "pkcs11:id=%01".into() },
            Error::CertificateKeyMismatch { certificate: "CN".into(), key: "pkcs11:id=%01".into() },
            Error::CertificateExists { id: "01".into() },
            Error::ObjectNotFound { uri: "pkcs11:id=%02".into() },
            Error::SelectorTooBroad { uri: "pkcs11:token=A".into() },
            Error::AlgorithmUnsupported { algorithm: "p384".into(), card: "C".into() },
            Error::CsrFailed { reason: "r".into() },
            Error::CertificateInvalid { reason: "r".into() },
            Error::Input { reason: "r".into() },
            Error::CardReset,
        ];
        let wrong = [
            crate::token::PinState::Ok,
            crate::token::PinState::CountLow,
            crate::token::PinState::FinalTry,
            crate::token::PinState::Locked,
        ];
        for lang in [Lang::It, Lang::En] {
            let m = Messages::new(lang);
            for e in &samples {
                let r = m.error(&e.payload());
                assert!(
                    !r.cause.contains("error-unknown")
                        && !r.cause.starts_with("Errore imprevisto")
                        && !r.cause.starts_with("Unexpected"),
                    "{lang:?} {}",
                    e.code()
                );
                assert!(!r.remedy.is_empty(), "{lang:?} {}", e.code());
                for (k, v) in e.params() {
                    if k == "deleted" {
                        continue;
                    }
                    assert!(r.cause.contains(v.as_str()), "{lang:?} {}: {} lacks {v}", e.code(), r.cause);
                }
            }
            let texts: Vec<String> =
                wrong.iter().map(|s| m.error(&Error::WrongPin { state: *s }.payload()).cause).collect();
            let mut unique = texts.clone();
            unique.dedup();
            assert_eq!(unique.len(), texts.len(), "each PIN state says its own thing: {texts:?}");
        }
    }

    #[test]
    fn italian_is_the_default() {
        assert_eq!(Lang::pick(Some("it_IT.UTF-8")), Lang::It);
        assert_eq!(Lang::pick(Some("en_GB")), Lang::En);
        assert_eq!(Lang::pick(Some("de_DE")), Lang::It);
        let m = Messages::new(Lang::It);
        assert_eq!(m.error(&Error::NoReaders.payload()).cause, "Nessun lettore di smart card collegato.");
    }
}
