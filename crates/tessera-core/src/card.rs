//! What an enrollment does with a card, the same for every card: make a key pair for a
//! role, sign with it, write its certificate, and look at what is already there. One
//! backend per path, chosen from the card's catalog entry, so nothing above this module
//! branches on the card kind:
//!
//! - PKCS#11 only (SoftHSM2, OpenSC's OpenPGP driver): the login each operation needs
//!   (user PIN, or security officer: the OpenPGP admin PIN) comes from the catalog;
//! - PIV card commands (OpenSC cannot generate or write PIV objects): GENERATE and PUT DATA
//!   after the card management key, signatures by GENERAL AUTHENTICATE right after VERIFY
//!   (which is also what the 9C key's PIN-always policy asks for), each sequence in one
//!   PC/SC transaction.
//!
//! Secrets come through [`Secrets`], which the flows implement over their prompter.

use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use serde::{Deserialize, Serialize};
use tessera_pki::{KeyAlgorithm, Signer};

use crate::catalog::Login;
use crate::error::Error;
use crate::keys::{self, KeyPairInfo, TokenSigner};
use crate::pins::{Pin, Who};
use crate::piv::{ManagementKey, PivCard, PivSigner};
use crate::token::OpenToken;

/// What a key pair is for: where a card's convention puts it (catalog `[roles]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename = "KeyRole")]
pub enum Role {
    /// The qualified signature key (non-repudiation).
    Signature,
    /// The CNS authentication key.
    Authentication,
}

/// Where the PINs and keys an operation needs come from. Implementations show the PIN's
/// state before asking, and may keep an answer for the next operation of the same flow.
pub trait Secrets {
    /// The user PIN (`Who::User`) or the security officer's PIN / PUK (`Who::So`).
    fn pin(&mut self, token: &OpenToken<'_>, who: Who) -> Result<Pin, Error>;
    /// The PIV card management key.
    fn management_key(&mut self, token: &OpenToken<'_>) -> Result<ManagementKey, Error>;
    /// A PIN was refused: forget it, so the next operation asks again.
    fn forget(&mut self, who: Who);
    /// One try is left before the user PIN locks: spend it? Asked before the PIN is.
    fn confirm_final_try(&mut self, token: &OpenToken<'_>) -> Result<bool, Error>;
}

/// Whether a user-PIN operation may go ahead: refused on a locked PIN, and on the final try
/// unless the holder confirms spending it.
fn final_try(token: &OpenToken<'_>, secrets: &mut dyn Secrets) -> Result<crate::pins::FinalTry, Error> {
    match token.pin_state()? {
        crate::pins::PinState::Locked => Err(Error::PinLocked),
        crate::pins::PinState::FinalTry if secrets.confirm_final_try(token)? => Ok(crate::pins::FinalTry::Confirmed),
        crate::pins::PinState::FinalTry => Err(Error::FinalTryNotConfirmed),
        _ => Ok(crate::pins::FinalTry::Refuse),
    }
}

#[derive(Clone, Copy)]
enum Path {
    Pkcs11 { keygen: Who, write: Who },
    PivCommands,
}

/// One card (or token) for the length of one visit.
pub struct Card<'a, 'm> {
    pub token: &'a OpenToken<'m>,
    path: Path,
}

fn who(login: Login) -> Who {
    if login == Login::So { Who::So } else { Who::User }
}

impl<'a, 'm> Card<'a, 'm> {
    pub fn new(token: &'a OpenToken<'m>) -> Card<'a, 'm> {
        let login = token.model.as_ref().map(|m| m.login.clone()).unwrap_or_default();
        let path = if login.keygen == Login::CardCommand {
            Path::PivCommands
        } else {
            Path::Pkcs11 { keygen: who(login.keygen), write: who(login.write) }
        };
        Card { token, path }
    }

    /// The algorithms the catalog says this card makes (empty: not known, any).
    pub fn algorithms(&self) -> Vec<KeyAlgorithm> {
        match &self.token.model {
            Some(m) => m.algorithms.clone(),
            None => KeyAlgorithm::ALL.to_vec(),
        }
    }

    /// The CKA_ID a role's key goes to on this card, if its convention fixes one.
    pub fn role_id(&self, role: Role) -> Option<Vec<u8>> {
        let roles = &self.token.model.as_ref()?.roles;
        let id = match role {
            Role::Signature => roles.signature.as_deref(),
            Role::Authentication => roles.authentication.as_deref(),
        }?;
        hex::decode(id).ok()
    }

    /// Whether a key pair for `role` can be made without overwriting anything: the role's
    /// slot is free, or the card has no fixed slots.
    pub fn has_room(&self, role: Role) -> Result<bool, Error> {
        let Some(id) = self.role_id(role) else { return Ok(true) };
        Ok(self.public_key(&id)?.is_none() && self.certificate(&id)?.is_none())
    }

    fn logged_in<R>(
        &self,
        secrets: &mut dyn Secrets,
        who: Who,
        read_write: bool,
        f: impl FnOnce(&cryptoki::session::Session) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let session = self.token.session(read_write)?;
        let confirmed = if who == Who::User { final_try(self.token, secrets)? } else { crate::pins::FinalTry::Refuse };
        let pin = secrets.pin(self.token, who)?;
        let login = self.token.login(&session, who, &pin, confirmed);
        if matches!(login, Err(Error::WrongPin { .. } | Error::WrongPuk)) {
            secrets.forget(who);
        }
        login?;
        let out = f(&session);
        let _ = session.logout();
        out
    }

    /// Generate a key pair (sensitive, never extractable, checked) under `id`: the role's
    /// slot where the card fixes one ([`Card::role_id`]), else an id the caller chose and
    /// recorded first, so that an interrupted generation can be found again; None: the
    /// card's first free slot, or a fresh id from the token.
    pub fn generate(
        &self,
        secrets: &mut dyn Secrets,
        id: Option<Vec<u8>>,
        algorithm: KeyAlgorithm,
        label: &str,
    ) -> Result<KeyPairInfo, Error> {
        self.make_key(secrets, id, algorithm, label, false)
    }

    /// [`Card::generate`], or with `replace` in the fixed slot `id` replacing the key there:
    /// a fixed-slot card's renewal, once the RA authorised it (the old key cannot sign
    /// afterwards).
    pub fn make_key(
        &self,
        secrets: &mut dyn Secrets,
        id: Option<Vec<u8>>,
        algorithm: KeyAlgorithm,
        label: &str,
        replace: bool,
    ) -> Result<KeyPairInfo, Error> {
        let by_card =
            self.token.model.as_ref().is_some_and(|m| m.has_quirk(crate::catalog::QuirkId::ReplaceByCardCommands));
        match (self.path, id) {
            (Path::Pkcs11 { .. }, Some(id)) if replace && by_card => {
                self.replace_openpgp(secrets, id, algorithm, label)
            }
            (Path::Pkcs11 { keygen, .. }, id) => {
                self.logged_in(secrets, keygen, true, |s| keys::generate(self.token, s, algorithm, label, id, replace))
            }
            (Path::PivCommands, id) => {
                let session = self.token.session(false)?;
                let key = secrets.management_key(self.token)?;
                keys::generate_with_card(self.token, &session, &key, algorithm, id, replace)
            }
        }
    }

    /// An OpenPGP key replaced by the card's own commands (quirk replace-by-card-commands).
    fn replace_openpgp(
        &self,
        secrets: &mut dyn Secrets,
        id: Vec<u8>,
        algorithm: KeyAlgorithm,
        label: &str,
    ) -> Result<KeyPairInfo, Error> {
        let reader = self.token.reader.clone().ok_or_else(|| Error::TokenNotFound { uri: self.token.uri() })?;
        let [slot] = id.as_slice() else { return Err(Error::IdInUse { id: hex::encode(&id) }) };
        // PW3 locked would leave the user PIN unblockable for good: its last try is never
        // spent here (the counters cost no try to read).
        let card = crate::openpgp::OpenPgpCard::connect(&reader)?;
        let tries_left = card.retry_counters()?[2];
        if tries_left <= 1 {
            return Err(Error::PukLow { tries_left });
        }
        let admin = secrets.pin(self.token, Who::So)?;
        let made = card.generate(&admin, *slot, algorithm);
        if matches!(made, Err(Error::WrongPuk)) {
            secrets.forget(Who::So);
        }
        let public_key = made?;
        self.token.stale.set(true);
        Ok(KeyPairInfo {
            uri: self.token.object_uri("", &id, "private"),
            id: hex::encode(&id),
            label: label.to_owned(),
            algorithm,
            public_key,
        })
    }

    /// Whether the card is blank: still with its factory secrets (catalog `[factory]`), told
    /// without spending a PIN try. OpenPGP: no cardholder name and every PIN try left; PIV:
    /// the factory management key authenticates (it has no retry counter).
    pub fn is_blank(&self) -> Result<bool, Error> {
        let Some(model) = &self.token.model else { return Ok(false) };
        let Some(reader) = &self.token.reader else { return Ok(false) };
        match model.application {
            Some(crate::catalog::Application::Openpgp)
                if model.factory.user_pin.is_some() && model.factory.so_pin.is_some() =>
            {
                let card = crate::openpgp::OpenPgpCard::connect(reader)?;
                let tries = card.retry_counters()?;
                Ok(card.cardholder_name()?.is_empty() && tries[0] == 3 && tries[2] == 3)
            }
            Some(crate::catalog::Application::Piv) => {
                match model.factory.management_key.as_deref().and_then(ManagementKey::from_hex) {
                    Some(factory) => match PivCard::connect(reader)?.authenticate(&factory) {
                        Ok(()) => Ok(true),
                        Err(Error::ManagementKeyRejected) => Ok(false),
                        Err(e) => Err(e),
                    },
                    None => Ok(false),
                }
            }
            _ => Ok(false),
        }
    }

    /// Replace a blank card's factory secrets with the given PIN, PUK (OpenPGP: admin PIN)
    /// and, on a PIV card, management key; `holder` names the card's holder where the card
    /// keeps one.
    pub fn personalise(
        &self,
        pin: &Pin,
        puk: &Pin,
        management_key: Option<&ManagementKey>,
        holder: &str,
    ) -> Result<(), Error> {
        let model = self.token.model.as_ref().ok_or_else(|| Error::TokenNotFound { uri: self.token.uri() })?;
        let reader = self.token.reader.clone().ok_or_else(|| Error::TokenNotFound { uri: self.token.uri() })?;
        let factory = |v: &Option<String>| v.as_deref().map(Pin::new).ok_or(Error::PinRejected);
        let (user, so) = (factory(&model.factory.user_pin)?, factory(&model.factory.so_pin)?);
        match model.application {
            Some(crate::catalog::Application::Openpgp) => {
                // OpenPGP's name field: "SURNAME<<GIVEN NAME" (ISO 7501-1 style).
                let name = holder.replacen(' ', "<<", 1);
                crate::openpgp::OpenPgpCard::connect(&reader)?.personalise((&user, &so), pin, puk, &name)?
            }
            Some(crate::catalog::Application::Piv) => {
                let old = model
                    .factory
                    .management_key
                    .as_deref()
                    .and_then(ManagementKey::from_hex)
                    .ok_or(Error::ManagementKeyRejected)?;
                let new = management_key.ok_or(Error::ManagementKeyNeeded)?;
                PivCard::connect(&reader)?.personalise((&user, &so, &old), pin, puk, new)?
            }
            _ => return Err(Error::PinRejected),
        }
        self.token.stale.set(true);
        Ok(())
    }

    /// Run `f` with a signer for the key pair `key` (after the user PIN).
    pub fn sign_with<R>(
        &self,
        secrets: &mut dyn Secrets,
        key: &KeyPairInfo,
        f: impl FnOnce(&dyn Signer) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let id = hex::decode(&key.id).unwrap_or_default();
        match self.path {
            Path::Pkcs11 { .. } => self.logged_in(secrets, Who::User, false, |s| {
                let signer = TokenSigner::find(self.token, s, &id)?;
                if signer.info().public_key != key.public_key {
                    return Err(Error::KeyNotFound { uri: key.uri.clone() });
                }
                f(&signer)
            }),
            Path::PivCommands => {
                let reader = self.token.reader.clone().ok_or_else(|| Error::TokenNotFound { uri: self.token.uri() })?;
                let (slot, _) =
                    crate::piv::slot_for_id(&id).ok_or_else(|| Error::KeyNotFound { uri: key.uri.clone() })?;
                // Refuses a locked PIN, and the final try unless the holder confirms it.
                final_try(self.token, secrets)?;
                let card = PivCard::connect(&reader)?;
                let pin = secrets.pin(self.token, Who::User)?;
                if let Err(e) = card.verify_pin(&pin) {
                    if matches!(e, Error::WrongPin { .. }) {
                        secrets.forget(Who::User);
                    }
                    return Err(e);
                }
                f(&PivSigner {
                    card: &card,
                    pin: &pin,
                    slot,
                    algorithm: key.algorithm,
                    public_key: key.public_key.clone(),
                })
            }
        }
    }

    /// Write `certificate` (DER) next to the key pair `id`, after checking it is the key's;
    /// read back. With `replace` (a fixed slot whose key [`Card::make_key`] replaced) the
    /// old key's certificate there gives way.
    pub fn install(
        &self,
        secrets: &mut dyn Secrets,
        id: &[u8],
        certificate: &[u8],
        label: &str,
        replace: bool,
    ) -> Result<String, Error> {
        let id = id.to_vec();
        match self.path {
            Path::Pkcs11 { write, .. } => self.logged_in(secrets, write, true, |s| {
                crate::certs::install(self.token, s, &id, label, certificate, replace)
            }),
            Path::PivCommands => {
                let pin = secrets.pin(self.token, Who::User)?;
                let management = secrets.management_key(self.token)?;
                let uri = crate::certs::install_with_card(self.token, &pin, &management, &id, certificate);
                if matches!(uri, Err(Error::WrongPin { .. })) {
                    secrets.forget(Who::User);
                }
                let uri = uri?;
                // Read back through the card: PUT DATA wrote what we meant.
                match self.read_back_piv(&id)? {
                    Some(stored) if stored == certificate => Ok(uri),
                    _ => Err(Error::Pkcs11 {
                        function: "PUT DATA".into(),
                        rv: "certificate read back differs".into(),
                        token: self.token.label.clone(),
                    }),
                }
            }
        }
    }

    fn read_back_piv(&self, id: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let reader = self.token.reader.clone().ok_or_else(|| Error::TokenNotFound { uri: self.token.uri() })?;
        let (_, object) = crate::piv::slot_for_id(id).ok_or_else(|| Error::IdInUse { id: hex::encode(id) })?;
        PivCard::connect(&reader)?.certificate(object)
    }

    /// Remove the key pair and certificate with this id (renewal retiring the old ones,
    /// only after their replacement is installed and confirmed). PKCS#11 tokens only: on
    /// fixed-slot cards the new key takes the slot.
    pub fn remove(&self, secrets: &mut dyn Secrets, id: &[u8]) -> Result<usize, Error> {
        let Path::Pkcs11 { write, .. } = self.path else {
            return Err(Error::SelectorTooBroad { uri: self.token.object_uri("", id, "") });
        };
        self.logged_in(secrets, write, true, |s| {
            let found =
                s.find_objects(&[Attribute::Id(id.to_vec())]).map_err(|e| Error::from_pkcs11(e, "C_FindObjects"))?;
            for h in &found {
                tracing::trace!("C_DestroyObject");
                s.destroy_object(*h).map_err(|e| Error::from_pkcs11(e, "C_DestroyObject"))?;
            }
            self.token.stale.set(true);
            Ok(found.len())
        })
    }

    /// The certificate (DER) stored next to the key with this id, if any (no login).
    pub fn certificate(&self, id: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        if let Path::PivCommands = self.path {
            return self.read_back_piv(id);
        }
        let session = self.token.session(false)?;
        let found = session
            .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Id(id.to_vec())])
            .map_err(|e| Error::from_pkcs11(e, "C_FindObjects"))?;
        let Some(&handle) = found.first() else { return Ok(None) };
        let attrs = session
            .get_attributes(handle, &[AttributeType::Value])
            .map_err(|e| Error::from_pkcs11(e, "C_GetAttributeValue"))?;
        Ok(attrs.into_iter().find_map(|a| if let Attribute::Value(v) = a { Some(v) } else { None }))
    }

    /// The public key (subjectPublicKey content) of the key pair with this id, where the
    /// middleware shows it without login (PKCS#11 public key objects).
    pub fn public_key(&self, id: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        let session = self.token.session(false)?;
        match keys::algorithm_of(&session, id)? {
            Some(algorithm) => keys::public_key(&session, id, algorithm).map(Some),
            None => Ok(None),
        }
    }
}
