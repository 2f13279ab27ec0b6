//! The card catalog: what Tessera knows about each card family, read from drivers/*.toml
//! (embedded at build time; `TESSERA_DRIVERS=<dir>` adds or overrides entries by id).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atr::{Atr, AtrPattern};
use crate::error::Error;

/// Where pcsc-tools keeps its list of known ATRs: used to name a card we have no entry for.
pub const SMARTCARD_LIST: &str = "/usr/share/pcsc/smartcard_list.txt";

/// Which login an operation needs on this card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Login {
    #[default]
    User,
    /// Security officer (OpenSC's OpenPGP driver wants the admin PIN for keygen and writes).
    So,
    /// Done with the card's own commands (e.g. the PIV management key), not PKCS#11.
    CardCommand,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Logins {
    #[serde(default)]
    pub keygen: Login,
    #[serde(default)]
    pub write: Login,
}

/// PKCS#11 module file names or paths per operating system; the first one found wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ModuleNames {
    #[serde(default)]
    pub linux: Vec<String>,
    #[serde(default)]
    pub windows: Vec<String>,
    #[serde(default)]
    pub macos: Vec<String>,
}

impl ModuleNames {
    /// The candidates for the operating system we run on.
    pub fn current(&self) -> &[String] {
        if cfg!(target_os = "windows") {
            &self.windows
        } else if cfg!(target_os = "macos") {
            &self.macos
        } else {
            &self.linux
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtrEntry {
    pub pattern: String,
    /// Where this ATR comes from (a public list, a datasheet, the test bed).
    pub source: String,
}

/// How to recognise this family's token in PKCS#11 when there is no ATR (software tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenMatch {
    pub manufacturer: String,
    #[serde(default)]
    pub model: Option<String>,
}

/// A card the middleware shows as several tokens: which one an activation starts on, and
/// whether their user PINs are one PIN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenLayout {
    /// The end of the label of the token an activation starts on; absent: the first.
    #[serde(default)]
    pub activate_suffix: Option<String>,
    /// The tokens' user PINs are one PIN on the card (one state is shown).
    #[serde(default)]
    pub shared_pin: bool,
}

/// An operating system, for per-OS card knowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Os {
    Linux,
    Windows,
    Macos,
}

impl Os {
    pub fn current() -> Os {
        if cfg!(target_os = "windows") {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::Macos
        } else {
            Os::Linux
        }
    }
}

/// What a PKCS#11 module can do with a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// List certificates and keys.
    Read,
    /// Sign with the card's keys (log in, authenticate, sign documents).
    Sign,
    /// Generate key pairs on the card.
    Generate,
    /// Write certificates and other objects.
    Write,
}

/// One middleware that serves a card family on one OS, with what it can do and where
/// that fact comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Middleware {
    /// As people know it ("OpenSC", "Bit4id PKI Manager").
    pub name: String,
    pub os: Os,
    /// The PKCS#11 library's file name or path.
    pub library: String,
    pub can: Vec<Capability>,
    /// Where each fact comes from (vendor guide, OpenSC source file, a public list).
    pub source: String,
    /// How to get it, shown to the holder when it is needed and missing.
    #[serde(default)]
    pub install: Option<String>,
}

impl Middleware {
    /// Whether it can put new keys and certificates on the card.
    pub fn can_activate(&self) -> bool {
        self.can.contains(&Capability::Generate) && self.can.contains(&Capability::Write)
    }

    /// Whether a loaded module file is this middleware's library.
    pub fn is_module(&self, module: &Path) -> bool {
        let library = Path::new(&self.library);
        module == library || (library.components().count() == 1 && module.file_name() == library.file_name())
    }
}

/// A blank card's factory secrets, which activation replaces with the RA's (catalog
/// `[factory]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Factory {
    #[serde(default)]
    pub user_pin: Option<String>,
    /// The PUK (PIV) or admin PIN (OpenPGP).
    #[serde(default)]
    pub so_pin: Option<String>,
    /// The PIV card management key (hex).
    #[serde(default)]
    pub management_key: Option<String>,
    /// Where these values come from.
    #[serde(default)]
    pub source: Option<String>,
}

/// The CKA_ID of each role's key on cards with fixed slots (PIV 9A / 9C, OpenPGP 03 / 01).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub authentication: Option<String>,
}

/// What kind of device a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Card,
    UsbToken,
    /// A software token (SoftHSM2): not a device the holder inserts.
    Software,
}

/// A card application Tessera also speaks to directly over PC/SC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Application {
    Openpgp,
    Piv,
}

/// The card behaviours code reacts to. Each is explained, next to its card, by the entry's
/// text; an id the code does not know is refused when the catalog loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuirkId {
    #[serde(rename = "always-authenticate-9c")]
    AlwaysAuthenticate9c,
    ExtendedApdus,
    FixedKeySlots,
    KeygenByCardCommands,
    KeysNotDeletable,
    PrivateObjectsHidden,
    PublicKeyHandle,
    RawEcdsaOnly,
    ReloadAfterKeygen,
    ReplaceByCardCommands,
    SensitiveStaleAfterKeygen,
    UnblockWithCardCommands,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quirk {
    pub id: QuirkId,
    pub text: String,
}

/// One card family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardModel {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub kind: Kind,
    #[serde(default)]
    pub obsolete: bool,
    #[serde(default = "yes")]
    pub renewable: bool,
    /// Key pairs the card can generate: "rsa2048", "rsa3072", "p256", "p384".
    #[serde(default)]
    pub algorithms: Vec<tessera_pki::KeyAlgorithm>,
    #[serde(default)]
    pub login: Logins,
    /// The card application Tessera can also speak to directly over PC/SC, for what the
    /// middleware lacks: "openpgp" or "piv".
    #[serde(default)]
    pub application: Option<Application>,
    /// Fixed key slots (CKA_ID, hex) when the card has them; empty: any id.
    #[serde(default)]
    pub key_ids: Vec<String>,
    /// Where the card's convention puts each role's key (CKA_ID, hex); absent: a fresh id.
    #[serde(default)]
    pub roles: Roles,
    /// A blank card's factory PINs and keys.
    #[serde(default)]
    pub factory: Factory,
    #[serde(default)]
    pub module: ModuleNames,
    /// The middleware known to serve this card, per OS, with what each can do.
    #[serde(default)]
    pub middleware: Vec<Middleware>,
    #[serde(default)]
    pub atr: Vec<AtrEntry>,
    #[serde(default)]
    pub token: Option<TokenMatch>,
    /// How the middleware shows the card when it shows it as several tokens.
    #[serde(default)]
    pub tokens: TokenLayout,
    #[serde(default)]
    pub quirks: Vec<Quirk>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(skip)]
    patterns: Vec<AtrPattern>,
}

impl CardModel {
    /// What the catalog knows of the loaded `module` for this card on this OS.
    pub fn middleware_of(&self, module: &Path) -> Option<&Middleware> {
        self.middleware.iter().find(|m| m.os == Os::current() && m.is_module(module))
    }

    /// The middleware that can activate this card on this OS.
    pub fn activating_middleware(&self) -> impl Iterator<Item = &Middleware> {
        self.middleware.iter().filter(|m| m.os == Os::current() && m.can_activate())
    }

    /// Whether the entry lists the quirk with this id (code reacts to ids, text explains).
    pub fn has_quirk(&self, id: QuirkId) -> bool {
        self.quirks.iter().any(|q| q.id == id)
    }
}

fn yes() -> bool {
    true
}

/// What the catalog says about an ATR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Identification {
    Known {
        model: ModelRef,
    },
    /// No entry matches; `known_as` is pcsc-tools' description of the ATR, if it has one.
    Unknown {
        known_as: Option<String>,
    },
    /// More than one entry matches: the catalog must be fixed.
    Conflict {
        candidates: Vec<ModelRef>,
    },
}

/// The part of a catalog entry that a device listing carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ModelRef {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub obsolete: bool,
    pub renewable: bool,
}

impl From<&CardModel> for ModelRef {
    fn from(m: &CardModel) -> Self {
        ModelRef {
            id: m.id.clone(),
            name: m.name.clone(),
            vendor: m.vendor.clone(),
            obsolete: m.obsolete,
            renewable: m.renewable,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub models: Vec<CardModel>,
}

impl Catalog {
    /// The embedded catalog plus, if `TESSERA_DRIVERS` is set, the entries of that directory.
    pub fn load() -> (Catalog, Vec<Error>) {
        let extra = std::env::var_os("TESSERA_DRIVERS");
        Self::load_with(extra.as_deref().map(Path::new))
    }

    pub fn load_with(extra_dir: Option<&Path>) -> (Catalog, Vec<Error>) {
        let mut sources: Vec<(String, String)> =
            crate::embedded::EMBEDDED_DRIVERS.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        let mut problems = Vec::new();
        if let Some(dir) = extra_dir {
            match std::fs::read_dir(dir) {
                Ok(entries) => {
                    let mut files: Vec<_> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                        .collect();
                    files.sort();
                    for f in files {
                        match std::fs::read_to_string(&f) {
                            Ok(text) => sources.push((f.display().to_string(), text)),
                            Err(e) => problems
                                .push(Error::CatalogInvalid { file: f.display().to_string(), reason: e.to_string() }),
                        }
                    }
                }
                Err(e) => {
                    problems.push(Error::CatalogInvalid { file: dir.display().to_string(), reason: e.to_string() })
                }
            }
        }
        let (catalog, mut more) = Self::from_sources(sources);
        problems.append(&mut more);
        (catalog, problems)
    }

    /// Parse entries; a later entry with the same id replaces an earlier one.
    pub fn from_sources(sources: impl IntoIterator<Item = (String, String)>) -> (Catalog, Vec<Error>) {
        let mut models: Vec<CardModel> = Vec::new();
        let mut problems = Vec::new();
        for (file, text) in sources {
            match parse_model(&text) {
                Ok(model) => {
                    models.retain(|m| m.id != model.id);
                    models.push(model);
                }
                Err(reason) => problems.push(Error::CatalogInvalid { file, reason }),
            }
        }
        (Catalog { models }, problems)
    }

    pub fn get(&self, id: &str) -> Option<&CardModel> {
        self.models.iter().find(|m| m.id == id)
    }

    pub fn identify(&self, atr: &Atr) -> Identification {
        let found: Vec<&CardModel> = self.models.iter().filter(|m| m.patterns.iter().any(|p| p.matches(atr))).collect();
        match found.as_slice() {
            [one] => Identification::Known { model: (*one).into() },
            [] => Identification::Unknown { known_as: known_elsewhere(atr, Path::new(SMARTCARD_LIST)) },
            many => Identification::Conflict { candidates: many.iter().map(|m| (*m).into()).collect() },
        }
    }

    /// The entry for a PKCS#11 token recognised by manufacturer (and model).
    pub fn for_token(&self, manufacturer: &str, model: &str) -> Option<&CardModel> {
        self.models.iter().find(|m| {
            m.token
                .as_ref()
                .is_some_and(|t| t.manufacturer == manufacturer && t.model.as_deref().is_none_or(|x| x == model))
        })
    }
}

/// One entry, typed: unknown keys and values (a misspelt quirk id or algorithm) are refused,
/// and so are ids and keys that are not the hex they should be, naming the entry.
fn parse_model(text: &str) -> Result<CardModel, String> {
    let mut model: CardModel = toml::from_str(text).map_err(|e| e.to_string())?;
    let entry = |what: String| format!("entry {:?}: {what}", model.id);
    model.patterns =
        model.atr.iter().map(|a| AtrPattern::parse(&a.pattern)).collect::<Result<_, _>>().map_err(entry)?;
    let hex = |v: &str| !v.is_empty() && v.len().is_multiple_of(2) && v.chars().all(|c| c.is_ascii_hexdigit());
    let ids = model.key_ids.iter().chain(model.roles.signature.iter()).chain(model.roles.authentication.iter());
    if let Some(bad) = ids.clone().find(|v| !hex(v)) {
        return Err(entry(format!("key id {bad:?} is not hex")));
    }
    if let Some(key) = &model.factory.management_key
        && !(hex(key) && key.len() == 48)
    {
        return Err(entry("factory management_key is not 24 bytes of hex".into()));
    }
    if model.id.is_empty() || !model.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(format!("entry id {:?}: lower case, digits and dashes only", model.id));
    }
    Ok(model)
}

/// pcsc-tools' description of an ATR: lines with an ATR pattern at column 0, followed by
/// tab-indented description lines.
pub fn known_elsewhere(atr: &Atr, list: &Path) -> Option<String> {
    let text = std::fs::read_to_string(list).ok()?;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() || line.starts_with('#') || line.starts_with('\t') {
            continue;
        }
        let matches = AtrPattern::parse(line.trim()).is_ok_and(|p| p.matches(atr));
        if matches {
            let mut description = Vec::new();
            while let Some(next) = lines.next_if(|l| l.starts_with('\t')) {
                let d = next.trim();
                if !d.starts_with("http") {
                    description.push(d.to_owned());
                }
            }
            return Some(description.join("; "));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atr(s: &str) -> Atr {
        Atr(s.split(' ').map(|b| u8::from_str_radix(b, 16).unwrap()).collect())
    }

    #[test]
    fn embedded_catalog_is_valid_and_without_conflicts() {
        let (catalog, problems) = Catalog::load_with(None);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(catalog.models.len() >= 5);
        for m in &catalog.models {
            for a in &m.atr {
                assert!(!a.source.trim().is_empty(), "{}: every ATR names its source", m.id);
                let sample = Atr(AtrPattern::parse(&a.pattern).unwrap().example());
                match catalog.identify(&sample) {
                    Identification::Known { model } => assert_eq!(model.id, m.id),
                    other => panic!("{}: {other:?}", m.id),
                }
            }
        }
    }

    #[test]
    fn misspelt_quirks_algorithms_kinds_and_bad_hex_are_refused_naming_the_file_and_entry() {
        let good =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../drivers/piv-card.toml")).unwrap();
        assert!(Catalog::from_sources([("piv-card.toml".into(), good.clone())]).1.is_empty());
        for (from, to, says) in [
            ("always-authenticate-9c", "always-authenticate-9C", "unknown variant"),
            ("\"p256\"", "\"p521\"", "unknown variant"),
            ("kind = \"card\"", "kind = \"smartcard\"", "unknown variant"),
            ("application = \"piv\"", "application = \"pvi\"", "unknown variant"),
            ("signature = \"02\"", "signature = \"9X\"", "entry \"piv-card\": key id \"9X\" is not hex"),
        ] {
            assert!(good.contains(from), "{from}");
            let (catalog, problems) =
                Catalog::from_sources([("drivers/piv-card.toml".into(), good.replacen(from, to, 1))]);
            assert!(catalog.models.is_empty(), "{to}: refused, not loaded without it");
            let [Error::CatalogInvalid { file, reason }] = problems.as_slice() else { panic!("{problems:?}") };
            assert_eq!(file, "drivers/piv-card.toml");
            assert!(reason.contains(says), "{to}: {reason}");
        }
    }

    #[test]
    fn italian_cns_cards_are_recognised() {
        let (catalog, _) = Catalog::load_with(None);
        // pcsc-tools' smartcard_list.txt: "Carta Nazionale dei Servizi - InfoCamere".
        let id = catalog.identify(&atr("3B FF 18 00 FF 81 31 FE 55 00 6B 02 09 02 00 01 01 01 43 4E 53 10 31 80 9F"));
        assert!(matches!(id, Identification::Known { ref model } if model.id == "it-cns-stincard"), "{id:?}");
    }

    #[test]
    fn duplicate_claims_are_a_conflict() {
        let entry = |id: &str| {
            (
                id.to_owned(),
                format!(
                    "id = {id:?}\nname = \"x\"\nvendor = \"v\"\nkind = \"card\"\n[[atr]]\npattern = \"3B 8. 01\"\nsource = \"test\"\n"
                ),
            )
        };
        let (catalog, problems) = Catalog::from_sources([entry("a"), entry("b")]);
        assert!(problems.is_empty());
        match catalog.identify(&atr("3B 81 01")) {
            Identification::Conflict { candidates } => assert_eq!(candidates.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn middleware_capabilities_are_typed_and_found_by_module_file() {
        let (catalog, _) = Catalog::load_with(None);
        let cns = catalog.get("it-cns-stincard").unwrap();
        if Os::current() == Os::Linux {
            let opensc = cns.middleware_of(Path::new("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so")).unwrap();
            assert!(!opensc.can_activate(), "OpenSC reads and signs CNS cards only");
            assert!(cns.activating_middleware().any(|m| m.library.ends_with("libbit4xpki.so")));
        }
        let entry = |can: &str| {
            format!(
                "id = \"x\"\nname = \"X\"\nvendor = \"V\"\nkind = \"card\"\n[[middleware]]\nname = \"M\"\nos = \"linux\"\nlibrary = \"m.so\"\ncan = [{can}]\nsource = \"s\"\n"
            )
        };
        let (_, problems) = Catalog::from_sources([("ok.toml".into(), entry("\"read\", \"sign\""))]);
        assert!(problems.is_empty(), "{problems:?}");
        let (_, problems) = Catalog::from_sources([("bad.toml".into(), entry("\"read\", \"fly\""))]);
        assert_eq!(problems.len(), 1, "an unknown capability is refused at load");
    }

    #[test]
    fn bad_entries_are_reported_with_their_file() {
        let (_, problems) = Catalog::from_sources([("bad.toml".into(), "id = 3".into())]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code(), "catalog-invalid");
        assert_eq!(problems[0].params()["file"], "bad.toml");
    }

    #[test]
    fn unknown_atr_is_named_from_pcsc_tools_list() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(
            &list,
            "# comment\n3B 04 00 04 00 00\n\tItalian healthcare card (TS)\n\thttp://x\n\n3B 8. 01\n\tOther\n",
        )
        .unwrap();
        assert_eq!(known_elsewhere(&atr("3B 04 00 04 00 00"), &list).as_deref(), Some("Italian healthcare card (TS)"));
        assert_eq!(known_elsewhere(&atr("3B 82 01"), &list).as_deref(), Some("Other"));
        assert_eq!(known_elsewhere(&atr("3B 00"), &list), None);
    }
}
