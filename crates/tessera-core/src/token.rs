//! PKCS#11 tokens through cryptoki: modules, slots, PIN state, certificates and whether
//! their private keys are on the token. Listing never logs in and never spends a PIN try.

use std::collections::HashSet;
use std::path::PathBuf;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
pub use cryptoki::session::Session;
use cryptoki::slot::Slot;
use serde::Serialize;
use tessera_pki::CertificateSummary;
use time::OffsetDateTime;

use crate::catalog::{Catalog, ModelRef};
use crate::error::Error;
use crate::modules::ModuleSpec;
use crate::uri::UriBuilder;

pub use crate::pins::PinState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PinStatus {
    pub state: PinState,
    pub login_required: bool,
    /// PIN entered on the reader's own keypad.
    pub pin_pad: bool,
}

/// Whether a certificate's private key is on the token, matched by CKA_ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum KeyPresence {
    /// A private key object with the certificate's CKA_ID is visible.
    Present,
    /// Only the public key with that CKA_ID is visible: the token hides private objects
    /// until login, so the private key is there as far as can be told without a PIN.
    NotVisible,
    /// No key with that CKA_ID: the certificate cannot be used from this token.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CertificateView {
    pub uri: String,
    /// CKA_ID in lower-case hex.
    pub id: String,
    pub label: String,
    pub private_key: KeyPresence,
    #[serde(flatten)]
    pub summary: CertificateSummary,
    /// Renewal lineage on this card, which the listing alone cannot know: the flows layer
    /// fills it from its journals. `renewed`: this certificate's successor is on the card;
    /// `renews`: this certificate is the successor of one that is.
    #[serde(default)]
    pub renewed: bool,
    #[serde(default)]
    pub renews: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct TokenView {
    pub uri: String,
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub module: String,
    pub slot_id: u64,
    pub slot_description: String,
    /// The PC/SC reader this token's card sits in, when the slot names it.
    pub reader: Option<String>,
    /// The catalog entry for this token, when it is recognised.
    pub catalog: Option<ModelRef>,
    pub initialized: bool,
    pub pin: PinStatus,
    pub certificates: Vec<CertificateView>,
}

/// A reader and the catalog entry of the card in it: tokens are matched to their card by
/// the slot description, which names the reader.
#[derive(Debug, Clone)]
pub struct ReaderCard {
    pub reader: String,
    pub model: Option<String>,
}

fn model_of<'c>(
    catalog: &'c Catalog,
    info: &cryptoki::slot::TokenInfo,
    reader: Option<&ReaderCard>,
) -> Option<&'c crate::catalog::CardModel> {
    catalog
        .for_token(info.manufacturer_id(), info.model())
        .or_else(|| reader.and_then(|r| r.model.as_deref()).and_then(|id| catalog.get(id)))
}

/// A loaded and initialised PKCS#11 module.
pub struct LoadedModule {
    pub spec: ModuleSpec,
    pub path: PathBuf,
    pub info: ModuleInfo,
    ctx: Pkcs11,
}

/// What a module says about itself (C_GetInfo), and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ModuleInfo {
    pub path: String,
    pub source: crate::modules::ModuleSource,
    pub description: String,
    pub manufacturer: String,
    pub version: String,
}

impl LoadedModule {
    pub fn load(spec: ModuleSpec) -> Result<LoadedModule, Error> {
        let Some(path) = spec.path.clone() else {
            let card = match &spec.source {
                crate::modules::ModuleSource::Catalog { model } => Some(model.clone()),
                _ => None,
            };
            return Err(Error::ModuleMissing { module: spec.requested.clone(), card });
        };
        let module = path.display().to_string();
        tracing::debug!(%module, "loading PKCS#11 module");
        let ctx = Pkcs11::new(&path)
            .map_err(|e| Error::ModuleLoadFailed { module: module.clone(), reason: e.to_string() })?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) => {}
            Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(Error::ModuleLoadFailed { module, reason: e.to_string() }),
        }
        let lib = ctx
            .get_library_info()
            .map_err(|e| Error::ModuleLoadFailed { module: module.clone(), reason: e.to_string() })?;
        let info = ModuleInfo {
            path: module,
            source: spec.source.clone(),
            description: lib.library_description().trim_end().to_owned(),
            manufacturer: lib.manufacturer_id().trim_end().to_owned(),
            version: format!("{}.{}", lib.library_version().major(), lib.library_version().minor()),
        };
        Ok(LoadedModule { spec, path, info, ctx })
    }

    /// Every token of this module. A token that fails is reported and skipped; the others
    /// are still listed.
    pub fn tokens(
        &self,
        catalog: &Catalog,
        readers: &[ReaderCard],
        now: OffsetDateTime,
    ) -> (Vec<TokenView>, Vec<Error>) {
        let mut tokens = Vec::new();
        let mut problems = Vec::new();
        let slots = match self.ctx.get_slots_with_token() {
            Ok(s) => s,
            Err(e) => return (tokens, vec![Error::from_pkcs11(e, &self.path.display().to_string())]),
        };
        for slot in slots {
            match self.token(slot, catalog, readers, now, &mut problems) {
                Ok(Some(t)) => tokens.push(t),
                Ok(None) => {}
                Err(e) => problems.push(e),
            }
        }
        (tokens, problems)
    }

    fn token(
        &self,
        slot: Slot,
        catalog: &Catalog,
        readers: &[ReaderCard],
        now: OffsetDateTime,
        problems: &mut Vec<Error>,
    ) -> Result<Option<TokenView>, Error> {
        tracing::trace!(slot = slot.id(), "C_GetSlotInfo / C_GetTokenInfo");
        let slot_label = format!("slot {}", slot.id());
        let slot_info = self.ctx.get_slot_info(slot).map_err(|e| Error::from_pkcs11(e, &slot_label))?;
        let info = self.ctx.get_token_info(slot).map_err(|e| Error::from_pkcs11(e, &slot_label))?;
        if !info.token_initialized() {
            // SoftHSM always offers one empty slot for a new token: not a device.
            if catalog
                .for_token(info.manufacturer_id(), info.model())
                .is_some_and(|m| m.kind == crate::catalog::Kind::Software)
            {
                return Ok(None);
            }
        }
        let label = info.label().trim_end().to_owned();
        let token_uri = UriBuilder::new()
            .attr("token", &label)
            .attr("manufacturer", info.manufacturer_id())
            .attr("serial", info.serial_number())
            .attr("model", info.model());
        let pin = PinStatus {
            state: pin_state(&info),
            login_required: info.login_required(),
            pin_pad: info.protected_authentication_path(),
        };
        let slot_description = slot_info.slot_description().trim_end().to_owned();
        let reader_card = readers.iter().find(|r| slot_description.starts_with(r.reader.as_str()));
        let reader = reader_card.map(|r| r.reader.clone());
        let certificates = if info.token_initialized() {
            tracing::trace!(slot = slot.id(), "C_OpenSession (read-only)");
            let session = self.ctx.open_ro_session(slot).map_err(|e| Error::from_pkcs11(e, &label))?;
            certificates(&session, &token_uri, &label, now, problems)?
        } else {
            Vec::new()
        };
        Ok(Some(TokenView {
            uri: token_uri.build(),
            manufacturer: info.manufacturer_id().trim_end().to_owned(),
            model: info.model().trim_end().to_owned(),
            serial: info.serial_number().trim_end().to_owned(),
            module: self.path.display().to_string(),
            slot_id: slot.id(),
            slot_description,
            reader,
            catalog: model_of(catalog, &info, reader_card).map(Into::into),
            initialized: info.token_initialized(),
            pin,
            certificates,
            label,
        }))
    }
}

fn ids_of(session: &Session, class: ObjectClass, token: &str) -> Result<HashSet<Vec<u8>>, Error> {
    tracing::trace!(?class, "C_FindObjects");
    let handles = session.find_objects(&[Attribute::Class(class)]).map_err(|e| Error::from_pkcs11(e, token))?;
    let mut ids = HashSet::new();
    for h in handles {
        let attrs = session.get_attributes(h, &[AttributeType::Id]).map_err(|e| Error::from_pkcs11(e, token))?;
        for a in attrs {
            if let Attribute::Id(id) = a {
                ids.insert(id);
            }
        }
    }
    Ok(ids)
}

fn certificates(
    session: &Session,
    token_uri: &UriBuilder,
    token: &str,
    now: OffsetDateTime,
    problems: &mut Vec<Error>,
) -> Result<Vec<CertificateView>, Error> {
    let private = ids_of(session, ObjectClass::PRIVATE_KEY, token)?;
    let public = ids_of(session, ObjectClass::PUBLIC_KEY, token)?;
    tracing::trace!("C_FindObjects (certificates)");
    let handles = session
        .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])
        .map_err(|e| Error::from_pkcs11(e, token))?;
    let mut out = Vec::new();
    for h in handles {
        let attrs = session
            .get_attributes(h, &[AttributeType::Value, AttributeType::Id, AttributeType::Label])
            .map_err(|e| Error::from_pkcs11(e, token))?;
        let (mut value, mut id, mut label) = (Vec::new(), Vec::new(), String::new());
        for a in attrs {
            match a {
                Attribute::Value(v) => value = v,
                Attribute::Id(v) => id = v,
                Attribute::Label(v) => label = String::from_utf8_lossy(&v).into_owned(),
                _ => {}
            }
        }
        let uri = token_uri.clone().attr("object", &label).id(&id).attr("type", "cert").build();
        let summary = match CertificateSummary::parse(&value, now) {
            Ok(s) => s,
            Err(e) => {
                problems.push(Error::CertificateUnreadable {
                    token: token.to_owned(),
                    object: uri,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let private_key = if private.contains(&id) {
            KeyPresence::Present
        } else if public.contains(&id) {
            KeyPresence::NotVisible
        } else {
            KeyPresence::Missing
        };
        out.push(CertificateView {
            uri,
            id: hex::encode(&id),
            label,
            private_key,
            summary,
            renewed: false,
            renews: false,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id).then(a.label.cmp(&b.label)));
    Ok(out)
}

/// A token picked by URI, ready for sessions.
pub struct OpenToken<'m> {
    module: &'m LoadedModule,
    pub slot: Slot,
    pub label: String,
    /// Catalog entry: which login keygen and writes need, which algorithms.
    pub model: Option<crate::catalog::CardModel>,
    /// The PC/SC reader of a card's token.
    pub reader: Option<String>,
    /// The token's serial number (CK_TOKEN_INFO), trimmed.
    pub serial: String,
    /// Set when the module's view of this token went stale (see keys::generate).
    pub(crate) stale: std::cell::Cell<bool>,
    uri: UriBuilder,
}

impl LoadedModule {
    /// The tokens of this module that `uri` names.
    pub fn open<'m>(
        &'m self,
        uri: &crate::uri::Pkcs11Uri,
        catalog: &Catalog,
        readers: &[ReaderCard],
    ) -> Result<Vec<OpenToken<'m>>, Error> {
        let slots =
            self.ctx.get_slots_with_token().map_err(|e| Error::from_pkcs11(e, &self.path.display().to_string()))?;
        let mut found = Vec::new();
        for slot in slots {
            let Ok(info) = self.ctx.get_token_info(slot) else { continue };
            if !info.token_initialized()
                || !uri.matches_token(info.label(), info.manufacturer_id(), info.serial_number(), info.model())
            {
                continue;
            }
            let label = info.label().trim_end().to_owned();
            let description = self.ctx.get_slot_info(slot).map(|i| i.slot_description().to_owned()).unwrap_or_default();
            let reader = readers.iter().find(|r| description.starts_with(r.reader.as_str()));
            found.push(OpenToken {
                module: self,
                slot,
                uri: UriBuilder::new()
                    .attr("token", &label)
                    .attr("manufacturer", info.manufacturer_id())
                    .attr("serial", info.serial_number())
                    .attr("model", info.model()),
                model: model_of(catalog, &info, reader).cloned(),
                reader: reader.map(|r| r.reader.clone()),
                serial: info.serial_number().trim_end().to_owned(),
                stale: Default::default(),
                label,
            });
        }
        Ok(found)
    }
}

impl OpenToken<'_> {
    /// The user PIN's state now (read before every PIN prompt).
    pub fn pin_state(&self) -> Result<PinState, Error> {
        let info = self.module.ctx.get_token_info(self.slot).map_err(|e| Error::from_pkcs11(e, &self.label))?;
        // The card's own retry counter, where Tessera can read it, is exact; PKCS#11's
        // flags are not always set by the middleware.
        Ok(match (pin_state(&info), self.pin_tries()) {
            (PinState::Ok | PinState::CountLow, Some(0)) => PinState::Locked,
            (PinState::Ok | PinState::CountLow, Some(1)) => PinState::FinalTry,
            (state, _) => state,
        })
    }

    /// Tries left for the user PIN, from the card's own retry counter where its catalog
    /// entry says Tessera can read it (PKCS#11 only has the count-low / final-try flags).
    pub fn pin_tries(&self) -> Option<u8> {
        let (model, reader) = (self.model.as_ref()?, self.reader.as_deref()?);
        match model.application? {
            crate::catalog::Application::Openpgp => {
                crate::openpgp::OpenPgpCard::connect(reader).and_then(|c| c.retry_counters()).ok().map(|c| c[0])
            }
            crate::catalog::Application::Piv => {
                crate::piv::PivCard::connect(reader).and_then(|c| c.pin_tries()).ok().flatten()
            }
        }
    }

    pub fn session(&self, read_write: bool) -> Result<Session, Error> {
        tracing::trace!(read_write, "C_OpenSession");
        let s = if read_write {
            self.module.ctx.open_rw_session(self.slot)
        } else {
            self.module.ctx.open_ro_session(self.slot)
        };
        s.map_err(|e| Error::from_pkcs11(e, &self.label))
    }

    /// Log in after checking the PIN state: nothing is sent when the PIN is locked, or on
    /// its final try unless `final_try` is confirmed.
    pub fn login(
        &self,
        session: &Session,
        who: crate::pins::Who,
        pin: &crate::pins::Pin,
        final_try: crate::pins::FinalTry,
    ) -> Result<(), Error> {
        if who == crate::pins::Who::User {
            crate::login::guard(self.pin_state()?, final_try)?;
        }
        crate::login::login(session, who, pin, || self.pin_state().unwrap_or(PinState::Ok))
    }

    /// The PKCS#11 module serving this token.
    pub fn module_path(&self) -> &std::path::Path {
        &self.module.path
    }

    /// A URI for an object of this token.
    pub fn object_uri(&self, label: &str, id: &[u8], kind: &str) -> String {
        self.uri.clone().attr("object", label).id(id).attr("type", kind).build()
    }

    pub fn uri(&self) -> String {
        self.uri.build()
    }

    pub(crate) fn generate_random(&self, session: &Session, len: usize) -> Result<Vec<u8>, Error> {
        let _ = self;
        session.generate_random_vec(len as u32).map_err(|e| Error::from_pkcs11(e, "C_GenerateRandom"))
    }
}

fn pin_state(info: &cryptoki::slot::TokenInfo) -> PinState {
    if info.user_pin_locked() {
        PinState::Locked
    } else if info.user_pin_final_try() {
        PinState::FinalTry
    } else if info.user_pin_count_low() {
        PinState::CountLow
    } else if info.user_pin_to_be_changed() {
        PinState::ToBeChanged
    } else if !info.user_pin_initialized() {
        PinState::NotInitialized
    } else {
        PinState::Ok
    }
}
