//! One picture of every reader, card and token: what `tessera devices` prints and the
//! Devices screen shows. See docs/json.md for the JSON shape.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;

use crate::atr::Atr;
use crate::catalog::{Catalog, Identification};
use crate::error::{Error, ErrorPayload};
use crate::modules::{self, ModuleSource, ModuleSpec};
use crate::readers;
use crate::token::{LoadedModule, ModuleInfo, TokenView};

/// Bumped on any incompatible change of the JSON shape.
pub const SNAPSHOT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CardView {
    pub atr: Atr,
    pub identification: Identification,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ReaderView {
    pub name: String,
    pub card: Option<CardView>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Snapshot {
    pub version: u32,
    /// RFC 3339 UTC.
    pub taken_at: String,
    /// None when PC/SC itself is unavailable (see problems).
    pub readers: Option<Vec<ReaderView>>,
    pub tokens: Vec<TokenView>,
    /// The tokens as cards: a card the middleware shows as several tokens is one entry.
    pub cards: Vec<crate::cards::CardEntry>,
    /// The PKCS#11 modules this listing used.
    pub modules: Vec<ModuleInfo>,
    /// Things that went wrong; the rest of the snapshot is still valid.
    pub problems: Vec<ErrorPayload>,
    /// Facts worth telling that are not failures (no reader connected).
    pub notices: Vec<ErrorPayload>,
}

/// Whether the card is still in `reader`, giving pcscd up to a second to notice a removal
/// (it polls some readers); only asked after a failure.
fn card_present(reader: &str) -> bool {
    for _ in 0..10 {
        if !readers::list().is_ok_and(|l| l.iter().any(|r| r.name == reader && r.card.is_some())) {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    true
}

fn reader_cards(views: &[ReaderView]) -> Vec<crate::token::ReaderCard> {
    views
        .iter()
        .map(|r| crate::token::ReaderCard {
            reader: r.name.clone(),
            model: r.card.as_ref().and_then(|c| match &c.identification {
                Identification::Known { model } => Some(model.id.clone()),
                _ => None,
            }),
        })
        .collect()
}

/// Where to look for tokens.
#[derive(Debug, Clone)]
pub struct Options {
    /// Module file names or paths given explicitly.
    pub modules: Vec<String>,
    /// Also load p11-kit's registered modules (Linux).
    pub p11kit: bool,
    /// Also load the module the catalog names for each recognised card.
    pub catalog_modules: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { modules: Vec::new(), p11kit: cfg!(target_os = "linux"), catalog_modules: true }
    }
}

impl Options {
    /// Defaults plus TESSERA_MODULES (module paths separated by ':').
    pub fn from_env() -> Options {
        let mut o = Options::default();
        if let Some(v) = std::env::var_os("TESSERA_MODULES") {
            o.modules.extend(std::env::split_paths(&v).map(|p| p.display().to_string()));
        }
        o
    }
}

/// The device engine: keeps PKCS#11 modules loaded between snapshots (initialising a
/// module is the slow part) and the catalog.
pub struct Devices {
    options: Options,
    catalog: Catalog,
    catalog_problems: Vec<ErrorPayload>,
    loaded: BTreeMap<PathBuf, LoadedModule>,
}

impl Devices {
    pub fn new(options: Options) -> Devices {
        let (catalog, problems) = Catalog::load();
        Devices::with_catalog(options, catalog, problems)
    }

    pub fn with_catalog(options: Options, catalog: Catalog, problems: Vec<Error>) -> Devices {
        Devices {
            options,
            catalog,
            catalog_problems: problems.iter().map(Error::payload).collect(),
            loaded: BTreeMap::new(),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn snapshot(&mut self) -> Snapshot {
        let now = OffsetDateTime::now_utc();
        let mut problems: Vec<Error> = Vec::new();
        let mut notices = Vec::new();
        let readers = match readers::list() {
            Ok(list) => {
                if list.is_empty() {
                    notices.push(Error::NoReaders.payload());
                }
                Some(list)
            }
            Err(e) => {
                problems.push(e);
                None
            }
        };
        let reader_views: Option<Vec<ReaderView>> = readers.as_deref().map(|list| self.reader_views(list));
        for card in reader_views.iter().flatten().filter_map(|r| r.card.as_ref()) {
            if let Identification::Conflict { candidates } = &card.identification {
                let ids: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
                problems.push(Error::CatalogConflict { atr: card.atr.to_string(), candidates: ids.join(", ") });
            }
        }

        let specs = self.module_specs(reader_views.as_deref().unwrap_or_default());
        let reader_cards = reader_cards(reader_views.as_deref().unwrap_or_default());
        let mut tokens = Vec::new();
        let mut used = Vec::new();
        for spec in specs {
            let key = spec.path.clone();
            let module = match key.as_ref().and_then(|k| self.loaded.get(k)) {
                Some(m) => m,
                None => match LoadedModule::load(spec) {
                    Ok(m) => {
                        let k = m.path.clone();
                        self.loaded.entry(k).or_insert(m)
                    }
                    Err(e) => {
                        problems.push(e);
                        continue;
                    }
                },
            };
            used.push(module.info.clone());
            let (mut t, mut p) = module.tokens(&self.catalog, &reader_cards, now);
            tokens.append(&mut t);
            problems.append(&mut p);
        }
        // Cards in readers first, then software tokens; by name within each.
        tokens.sort_by(|a, b| (a.reader.is_none(), &a.label).cmp(&(b.reader.is_none(), &b.label)));
        let mut all: Vec<ErrorPayload> = self.catalog_problems.clone();
        for p in problems.iter().map(Error::payload) {
            if !all.contains(&p) {
                all.push(p);
            }
        }
        Snapshot {
            version: SNAPSHOT_VERSION,
            taken_at: now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            readers: reader_views,
            cards: crate::cards::group(&tokens, &self.catalog),
            tokens,
            modules: used,
            problems: all,
            notices,
        }
    }

    fn is_card_middleware(&self, spec: &ModuleSpec) -> bool {
        let file = |p: &str| Path::new(p).file_name().map(|f| f.to_owned());
        let name = file(&spec.requested);
        self.catalog
            .models
            .iter()
            .filter(|m| m.kind != crate::catalog::Kind::Software)
            .flat_map(|m| m.module.current())
            .any(|m| file(m) == name)
    }

    /// Readers with their cards identified from the catalog.
    fn reader_views(&self, list: &[readers::ReaderStatus]) -> Vec<ReaderView> {
        list.iter()
            .map(|r| ReaderView {
                name: r.name.clone(),
                card: r
                    .card
                    .as_ref()
                    .map(|atr| CardView { atr: atr.clone(), identification: self.catalog.identify(atr) }),
            })
            .collect()
    }

    /// Run `f` on the one token `uri` names, among the modules a listing would use (or
    /// the URI's `module-path`).
    pub fn with_token<R>(
        &mut self,
        uri: &str,
        f: impl FnOnce(&crate::token::OpenToken<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let parsed =
            crate::uri::Pkcs11Uri::parse(uri).map_err(|reason| Error::InvalidUri { uri: uri.to_owned(), reason })?;
        let views = self.reader_views(&readers::list().unwrap_or_default());
        let cards = reader_cards(&views);
        let specs = match &parsed.module_path {
            Some(path) => vec![modules::explicit(path)],
            None => self.module_specs(&views),
        };
        let mut paths = Vec::new();
        let mut first_error = None;
        for spec in specs {
            if let Some(p) = spec.path.as_ref().filter(|p| self.loaded.contains_key(*p)) {
                paths.push(p.clone());
                continue;
            }
            match LoadedModule::load(spec) {
                Ok(m) => {
                    paths.push(m.path.clone());
                    self.loaded.insert(m.path.clone(), m);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let mut found = Vec::new();
        for p in &paths {
            if let Some(m) = self.loaded.get(p) {
                found.extend(m.open(&parsed, &self.catalog, &cards)?);
            }
        }
        match found.len() {
            1 => {
                let token = &found[0];
                let result = f(token);
                let stale = token.stale.get();
                let reader = token.reader.clone();
                drop(found);
                if stale {
                    // The middleware keeps a stale view of what was just generated: start
                    // it afresh next time (quirk reload-after-keygen).
                    for p in &paths {
                        self.loaded.remove(p);
                    }
                }
                match (result, reader) {
                    // A card that left its reader mid-operation makes middleware answer
                    // anything (OpenSC: CKR_GENERAL_ERROR): say what happened.
                    (Err(e @ Error::Pkcs11 { .. }), Some(reader)) if !card_present(&reader) => {
                        tracing::debug!(?e, "card gone");
                        Err(Error::TokenRemoved { token: uri.to_owned() })
                    }
                    (result, _) => result,
                }
            }
            0 => Err(match (parsed.module_path.is_some(), first_error) {
                (true, Some(e)) => e,
                _ => Error::TokenNotFound { uri: uri.to_owned() },
            }),
            n => Err(Error::TokenAmbiguous { uri: uri.to_owned(), count: n }),
        }
    }

    /// Modules to load, each file once: explicit first, then p11-kit's, then the catalog's
    /// for the cards present.
    fn module_specs(&self, readers: &[ReaderView]) -> Vec<ModuleSpec> {
        let mut specs: Vec<ModuleSpec> = self.options.modules.iter().map(|m| modules::explicit(m)).collect();
        if self.options.p11kit {
            let unknown_card = readers
                .iter()
                .filter_map(|r| r.card.as_ref())
                .any(|c| !matches!(&c.identification, Identification::Known { .. }));
            // Card middleware (a module some card entry names, e.g. OpenSC) probes every card
            // in every reader when it starts: load it through p11-kit only when a card may
            // need it (an unrecognised card); recognised cards get theirs from the catalog.
            specs.extend(modules::p11kit().into_iter().filter(|s| unknown_card || !self.is_card_middleware(s)));
        }
        if self.options.catalog_modules {
            for card in readers.iter().filter_map(|r| r.card.as_ref()) {
                let Identification::Known { model } = &card.identification else { continue };
                let Some(entry) = self.catalog.get(&model.id) else { continue };
                let names = entry.module.current();
                if names.is_empty() {
                    continue;
                }
                let found = names.iter().find_map(|n| modules::resolve(n).map(|p| (n, p)));
                specs.push(match found {
                    Some((n, p)) => ModuleSpec {
                        requested: n.clone(),
                        path: Some(p),
                        source: ModuleSource::Catalog { model: model.name.clone() },
                    },
                    None => ModuleSpec {
                        requested: names.join(", "),
                        path: None,
                        source: ModuleSource::Catalog { model: model.name.clone() },
                    },
                });
            }
        }
        let mut seen: Vec<PathBuf> = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        specs.retain(|s| match &s.path {
            Some(p) => {
                let canonical = p.canonicalize().unwrap_or_else(|_| p.clone());
                if seen.contains(&canonical) {
                    false
                } else {
                    seen.push(canonical);
                    true
                }
            }
            None => {
                if missing.contains(&s.requested) {
                    false
                } else {
                    missing.push(s.requested.clone());
                    true
                }
            }
        });
        specs
    }
}
