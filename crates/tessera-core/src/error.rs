//! The one error type of tessera-core. Each variant has a stable code and parameters; the
//! UI and CLI render them from locales/ (message = cause, `.remedy` = what to do).

use std::collections::BTreeMap;

/// An error as it crosses the UI boundary: a stable code and its parameters.
pub use tessera_locales::ErrorPayload;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No PC/SC service: pcscd is not running (or its socket is unreachable).
    #[error("the PC/SC service (pcscd) is not running")]
    PcscNotRunning,
    /// The PC/SC service answered with an unexpected error.
    #[error("PC/SC error: {reason}")]
    Pcsc { reason: String },
    /// PC/SC works but no reader is connected.
    #[error("no smart-card reader is connected")]
    NoReaders,
    /// Another program reset the card since we connected (handled inside `apdu`).
    #[error("the card was reset by another program")]
    CardReset,
    /// The card left the reader while it was being read.
    #[error("the card was removed from {reader}")]
    CardRemoved { reader: String },
    /// A PKCS#11 module file does not exist.
    #[error("PKCS#11 module {module} not found")]
    ModuleMissing { module: String, card: Option<String> },
    /// The module exists but could not be loaded or initialised.
    #[error("PKCS#11 module {module} failed to load: {reason}")]
    ModuleLoadFailed { module: String, reason: String },
    /// The token disappeared while it was being listed.
    #[error("token {token} was removed while it was being read")]
    TokenRemoved { token: String },
    /// Any other PKCS#11 failure, with the function and return value.
    #[error("PKCS#11 {function} failed: {rv}")]
    Pkcs11 { function: String, rv: String, token: String },
    /// A drivers/*.toml file could not be read.
    #[error("card catalog file {file} is invalid: {reason}")]
    CatalogInvalid { file: String, reason: String },
    /// Two catalog entries claim the same ATR.
    #[error("ATR {atr} matches several catalog entries: {candidates}")]
    CatalogConflict { atr: String, candidates: String },
    /// A certificate on a token could not be parsed.
    #[error("certificate {object} on {token} is unreadable: {reason}")]
    CertificateUnreadable { token: String, object: String, reason: String },
    /// Not a PKCS#11 URI.
    #[error("invalid PKCS#11 URI {uri}: {reason}")]
    InvalidUri { uri: String, reason: String },
    /// No token matches the URI.
    #[error("no token matches {uri}")]
    TokenNotFound { uri: String },
    /// Several tokens match the URI.
    #[error("{count} tokens match {uri}")]
    TokenAmbiguous { uri: String, count: usize },
    /// Wrong PIN; `state` is what the token reports now (tries left).
    #[error("wrong PIN (now {state:?})")]
    WrongPin { state: crate::pins::PinState },
    /// A card command (sent by Tessera over PC/SC) failed with this status word.
    #[error("card in {reader} answered {sw}")]
    CardCommand { reader: String, sw: String },
    /// The card management key was refused (or is not a 24-byte 3DES key).
    #[error("management key refused")]
    ManagementKeyRejected,
    /// This card's keys are made with its own commands and need its management key.
    #[error("management key needed")]
    ManagementKeyNeeded,
    /// Wrong PUK (security-officer PIN).
    #[error("wrong PUK")]
    WrongPuk,
    /// The PIN is locked: unblock it with the PUK.
    #[error("the PIN is locked")]
    PinLocked,
    /// One try is left and the caller did not confirm spending it.
    #[error("final PIN try not confirmed")]
    FinalTryNotConfirmed,
    /// The PUK (OpenPGP: admin PIN) has this many tries left: Tessera does not spend the
    /// last one (locked, the user PIN could never be unblocked again).
    #[error("the PUK has {tries_left} tries left")]
    PukLow { tries_left: u8 },
    /// The token refused the new PIN (length or characters).
    #[error("the new PIN was refused by the token")]
    PinRejected,
    /// The token made a key it lets out, or not sensitive: it was deleted.
    #[error("the generated key is not protected by the token: {reason}")]
    KeyNotProtected { reason: String, deleted: bool },
    /// Objects with this CKA_ID already exist.
    #[error("objects with id {id} already exist")]
    IdInUse { id: String },
    /// No key pair with this id.
    #[error("no key matches {uri}")]
    KeyNotFound { uri: String },
    /// The certificate's public key is not the token's key: nothing was written.
    #[error("certificate {certificate} does not belong to key {key}")]
    CertificateKeyMismatch { certificate: String, key: String },
    /// A certificate is already stored next to this key.
    #[error("a certificate with id {id} is already on the token")]
    CertificateExists { id: String },
    /// The URI selects no object.
    #[error("no object matches {uri}")]
    ObjectNotFound { uri: String },
    /// The URI would select too much (no id and no object label).
    #[error("{uri} names no id or object")]
    SelectorTooBroad { uri: String },
    /// The card cannot make this kind of key.
    #[error("{card} cannot generate {algorithm} keys")]
    AlgorithmUnsupported { algorithm: String, card: String },
    /// A CSR could not be built or did not verify.
    #[error("certification request failed: {reason}")]
    CsrFailed { reason: String },
    /// Reading or writing what the user named (a file, a PIN at the terminal) failed.
    #[error("input or output failed: {reason}")]
    Input { reason: String },
    /// A certificate file could not be read.
    #[error("certificate unreadable: {reason}")]
    CertificateInvalid { reason: String },
}

impl Error {
    /// The stable code, also the Fluent message id (`error-<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::PcscNotRunning => "pcsc-not-running",
            Error::Pcsc { .. } => "pcsc-failed",
            Error::NoReaders => "no-readers",
            Error::CardRemoved { .. } => "card-removed",
            Error::CardReset => "card-reset",
            Error::ModuleMissing { card: None, .. } => "module-missing",
            Error::ModuleMissing { card: Some(_), .. } => "card-module-missing",
            Error::ModuleLoadFailed { .. } => "module-load-failed",
            Error::TokenRemoved { .. } => "token-removed",
            Error::Pkcs11 { .. } => "pkcs11-failed",
            Error::CatalogInvalid { .. } => "catalog-invalid",
            Error::CatalogConflict { .. } => "catalog-conflict",
            Error::CertificateUnreadable { .. } => "certificate-unreadable",
            Error::InvalidUri { .. } => "invalid-uri",
            Error::TokenNotFound { .. } => "token-not-found",
            Error::TokenAmbiguous { .. } => "token-ambiguous",
            Error::WrongPin { .. } => "wrong-pin",
            Error::PinLocked => "pin-locked",
            Error::CardCommand { .. } => "card-command-failed",
            Error::ManagementKeyRejected => "management-key-rejected",
            Error::ManagementKeyNeeded => "management-key-needed",
            Error::WrongPuk => "wrong-puk",
            Error::FinalTryNotConfirmed => "pin-final-try",
            Error::PukLow { .. } => "puk-low",
            Error::PinRejected => "pin-rejected",
            Error::KeyNotProtected { .. } => "key-not-protected",
            Error::IdInUse { .. } => "id-in-use",
            Error::KeyNotFound { .. } => "key-not-found",
            Error::CertificateKeyMismatch { .. } => "certificate-key-mismatch",
            Error::CertificateExists { .. } => "certificate-exists",
            Error::ObjectNotFound { .. } => "object-not-found",
            Error::SelectorTooBroad { .. } => "selector-too-broad",
            Error::AlgorithmUnsupported { .. } => "algorithm-unsupported",
            Error::CsrFailed { .. } => "csr-failed",
            Error::CertificateInvalid { .. } => "certificate-invalid",
            Error::Input { .. } => "input-failed",
        }
    }

    /// The parameters the message needs.
    pub fn params(&self) -> BTreeMap<String, String> {
        let count;
        let state;
        let pairs: Vec<(&str, &str)> = match self {
            Error::PcscNotRunning
            | Error::CardReset
            | Error::NoReaders
            | Error::PinLocked
            | Error::ManagementKeyRejected
            | Error::ManagementKeyNeeded
            | Error::WrongPuk
            | Error::FinalTryNotConfirmed
            | Error::PinRejected => vec![],
            Error::InvalidUri { uri, reason } => vec![("uri", uri), ("reason", reason)],
            Error::TokenNotFound { uri }
            | Error::KeyNotFound { uri }
            | Error::ObjectNotFound { uri }
            | Error::SelectorTooBroad { uri } => vec![("uri", uri)],
            Error::TokenAmbiguous { uri, count: n } => {
                count = n.to_string();
                vec![("uri", uri), ("count", &count)]
            }
            Error::PukLow { tries_left } => {
                count = tries_left.to_string();
                vec![("tries_left", &count)]
            }
            Error::WrongPin { state: s } => {
                state = serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                vec![("state", &state)]
            }
            Error::KeyNotProtected { reason, deleted } => {
                vec![("reason", reason), ("deleted", if *deleted { "yes" } else { "no" })]
            }
            Error::CsrFailed { reason } | Error::CertificateInvalid { reason } | Error::Input { reason } => {
                vec![("reason", reason)]
            }
            Error::IdInUse { id } | Error::CertificateExists { id } => vec![("id", id)],
            Error::CardCommand { reader, sw } => vec![("reader", reader), ("sw", sw)],
            Error::CertificateKeyMismatch { certificate, key } => vec![("certificate", certificate), ("key", key)],
            Error::AlgorithmUnsupported { algorithm, card } => vec![("algorithm", algorithm), ("card", card)],
            Error::Pcsc { reason } => vec![("reason", reason)],
            Error::CardRemoved { reader } => vec![("reader", reader)],
            Error::ModuleMissing { module, card } => {
                let mut v = vec![("module", module.as_str())];
                if let Some(card) = card {
                    v.push(("card", card));
                }
                v
            }
            Error::ModuleLoadFailed { module, reason } => vec![("module", module), ("reason", reason)],
            Error::TokenRemoved { token } => vec![("token", token)],
            Error::Pkcs11 { function, rv, token } => {
                vec![("function", function), ("rv", rv), ("token", token)]
            }
            Error::CatalogInvalid { file, reason } => vec![("file", file), ("reason", reason)],
            Error::CatalogConflict { atr, candidates } => vec![("atr", atr), ("candidates", candidates)],
            Error::CertificateUnreadable { token, object, reason } => {
                vec![("token", token), ("object", object), ("reason", reason)]
            }
        };
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }

    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload { code: self.code().to_owned(), params: self.params() }
    }

    /// Map a PC/SC error; `reader` names the reader involved, if any.
    pub(crate) fn from_pcsc(e: pcsc::Error, reader: Option<&str>) -> Error {
        use pcsc::Error as P;
        match (e, reader) {
            // Windows stops its Smart Card service when the last reader is unplugged (and
            // starts it with the next): there, no service means no reader.
            (P::NoService | P::ServiceStopped, _) if cfg!(windows) => Error::NoReaders,
            // CommError: the daemon went away in the middle of a call.
            (P::NoService | P::ServiceStopped | P::CommError, _) => Error::PcscNotRunning,
            (P::NoReadersAvailable, _) => Error::NoReaders,
            (P::RemovedCard | P::NoSmartcard | P::ReaderUnavailable | P::UnknownReader, Some(r)) => {
                Error::CardRemoved { reader: r.to_owned() }
            }
            (other, _) => Error::Pcsc { reason: other.to_string() },
        }
    }

    /// Map a PKCS#11 error met while reading `token`.
    pub(crate) fn from_pkcs11(e: cryptoki::error::Error, token: &str) -> Error {
        use cryptoki::error::{Error as C, RvError as R};
        match e {
            C::Pkcs11(R::DeviceRemoved | R::TokenNotPresent | R::SessionHandleInvalid | R::SessionClosed, _) => {
                Error::TokenRemoved { token: token.to_owned() }
            }
            C::Pkcs11(rv, function) => {
                Error::Pkcs11 { function: format!("{function:?}"), rv: format!("{rv:?}"), token: token.to_owned() }
            }
            other => Error::Pkcs11 { function: "-".into(), rv: other.to_string(), token: token.to_owned() },
        }
    }
}

impl From<&Error> for ErrorPayload {
    fn from(e: &Error) -> Self {
        e.payload()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_codes_map_to_token_removed() {
        use cryptoki::context::Function;
        use cryptoki::error::{Error as C, RvError as R};
        for rv in [R::DeviceRemoved, R::TokenNotPresent, R::SessionHandleInvalid] {
            let e = Error::from_pkcs11(C::Pkcs11(rv, Function::FindObjects), "T");
            assert_eq!(e.code(), "token-removed");
            assert_eq!(e.params()["token"], "T");
        }
        let e = Error::from_pkcs11(C::Pkcs11(R::GeneralError, Function::GetAttributeValue), "T");
        assert_eq!(e.code(), "pkcs11-failed");
    }

    #[test]
    fn pcsc_codes() {
        let no_service = if cfg!(windows) { "no-readers" } else { "pcsc-not-running" };
        assert_eq!(Error::from_pcsc(pcsc::Error::NoService, None).code(), no_service);
        assert_eq!(Error::from_pcsc(pcsc::Error::ServiceStopped, None).code(), no_service);
        assert_eq!(Error::from_pcsc(pcsc::Error::CommError, None).code(), "pcsc-not-running");
        assert_eq!(Error::from_pcsc(pcsc::Error::NoReadersAvailable, None).code(), "no-readers");
        assert_eq!(Error::from_pcsc(pcsc::Error::RemovedCard, Some("R")).code(), "card-removed");
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
            crate::pins::PinState::Ok,
            crate::pins::PinState::CountLow,
            crate::pins::PinState::FinalTry,
            crate::pins::PinState::Locked,
        ];
        for lang in [crate::messages::Lang::It, crate::messages::Lang::En] {
            let m = crate::messages::Messages::new(lang);
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
}
