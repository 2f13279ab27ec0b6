//! The issuing CA's key in a PKCS#11 token (an HSM), named by a PKCS#11 URI (RFC 7512):
//!
//!   pkcs11:token=Tessera%20CA;object=issuing?module-path=/usr/lib/…/libsofthsm2.so&pin-source=file:/etc/tessera-ra/ca.pin
//!
//! `token` (or `serial`) selects the token, `object` and/or `id` the key pair; the user
//! PIN is read from the `pin-source` file (a `pin-value` in the URI is refused: the
//! configuration file is no place for it). The key never leaves the token: certificates,
//! CRLs and CMP answers are signed with C_Sign (RSA PKCS#1 v1.5 with SHA-256, or raw
//! ECDSA over a digest computed here).

use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use tessera_pki::KeyAlgorithm;
use tessera_pki::uri::Pkcs11Uri;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

pub struct TokenKey {
    /// One session, logged in, used by one signature at a time.
    session: Mutex<Session>,
    key: ObjectHandle,
    algorithm: KeyAlgorithm,
    /// The subjectPublicKey content: DER RSAPublicKey, or the uncompressed EC point.
    public_key: Vec<u8>,
}

fn attribute<T>(
    session: &Session,
    handle: ObjectHandle,
    kind: AttributeType,
    pick: fn(Attribute) -> Option<T>,
) -> Option<T> {
    session.get_attributes(handle, &[kind]).ok()?.into_iter().find_map(pick)
}

impl TokenKey {
    /// Load the module, find the token and the key pair, and log in.
    pub fn open(text: &str) -> Result<TokenKey> {
        let refused = |reason: &str| Error::KeyUri { reason: reason.to_owned() };
        let uri = Pkcs11Uri::parse(text).map_err(|reason| Error::KeyUri { reason })?;
        if uri.has_pin_value {
            return Err(refused(
                "pin-value is not accepted: put the PIN in an owner-only file and name it with pin-source=file:…",
            ));
        }
        let module =
            uri.module_path.as_deref().ok_or_else(|| refused("module-path=… (the HSM's module) is missing"))?;
        let pin_file =
            uri.pin_source.as_deref().ok_or_else(|| refused("pin-source=file:… (the user PIN) is missing"))?;
        let pin_file = std::path::Path::new(pin_file.strip_prefix("file:").unwrap_or(pin_file));
        let pin = Zeroizing::new(
            std::fs::read_to_string(pin_file)
                .map_err(|e| Error::KeyUri { reason: format!("pin-source {}: {e}", pin_file.display()) })?,
        );
        let ctx = Pkcs11::new(module).map_err(Error::token("loading the module"))?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(Error::token("C_Initialize")(e)),
        }
        let slots = ctx.get_slots_with_token().map_err(Error::token("C_GetSlotList"))?;
        let slot = slots
            .into_iter()
            .find(|s| {
                ctx.get_token_info(*s)
                    .is_ok_and(|t| uri.matches_token(t.label(), t.manufacturer_id(), t.serial_number(), t.model()))
            })
            .ok_or_else(|| refused("no token matches it"))?;
        let session = ctx.open_ro_session(slot).map_err(Error::token("C_OpenSession"))?;
        let auth = AuthPin::new(pin.trim_end_matches(['\r', '\n']).into());
        match session.login(UserType::User, Some(&auth)) {
            Ok(()) | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(Error::token("login")(e)),
        }
        let find = |class: ObjectClass| -> Result<Vec<ObjectHandle>> {
            let mut template = vec![Attribute::Class(class)];
            if let Some(label) = &uri.object {
                template.push(Attribute::Label(label.as_bytes().to_vec()));
            }
            if let Some(id) = &uri.id {
                template.push(Attribute::Id(id.clone()));
            }
            session.find_objects(&template).map_err(Error::token("C_FindObjects"))
        };
        let key = match find(ObjectClass::PRIVATE_KEY)?.as_slice() {
            [one] => *one,
            [] => return Err(refused("no private key on the token matches its object=/id=")),
            _ => return Err(refused("several private keys match it: name the key with object= and id=")),
        };
        let kind = attribute(&session, key, AttributeType::KeyType, |a| match a {
            Attribute::KeyType(k) => Some(k),
            _ => None,
        });
        // The public half: from the public key object with the same id.
        let id = attribute(&session, key, AttributeType::Id, |a| match a {
            Attribute::Id(id) => Some(id),
            _ => None,
        })
        .unwrap_or_default();
        let public = *session
            .find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY), Attribute::Id(id)])
            .map_err(Error::token("C_FindObjects"))?
            .first()
            .ok_or_else(|| refused("the key has no public key object with its id on the token"))?;
        let (algorithm, public_key) = match kind {
            Some(KeyType::EC) => {
                let params = attribute(&session, public, AttributeType::EcParams, |a| match a {
                    Attribute::EcParams(p) => Some(p),
                    _ => None,
                })
                .unwrap_or_default();
                let algorithm = [KeyAlgorithm::P256, KeyAlgorithm::P384]
                    .into_iter()
                    .find(|a| a.ec_params() == params.as_slice())
                    .ok_or_else(|| refused("the key is on a curve other than P-256 or P-384"))?;
                let point = attribute(&session, public, AttributeType::EcPoint, |a| match a {
                    Attribute::EcPoint(p) => Some(p),
                    _ => None,
                })
                .ok_or_else(|| refused("the key's public point cannot be read"))?;
                (algorithm, tessera_pki::der::ec_point(&point, algorithm.ec_point_len()).to_vec())
            }
            Some(KeyType::RSA) => {
                let unreadable = || refused("the key's RSA public key cannot be read");
                let n = attribute(&session, public, AttributeType::Modulus, |a| match a {
                    Attribute::Modulus(v) => Some(v),
                    _ => None,
                })
                .ok_or_else(unreadable)?;
                let e = attribute(&session, public, AttributeType::PublicExponent, |a| match a {
                    Attribute::PublicExponent(v) => Some(v),
                    _ => None,
                })
                .ok_or_else(unreadable)?;
                let algorithm = if n.len() * 8 >= 3072 { KeyAlgorithm::Rsa3072 } else { KeyAlgorithm::Rsa2048 };
                (algorithm, tessera_pki::der::rsa_public_key(&n, &e))
            }
            _ => return Err(refused("the key is neither EC nor RSA")),
        };
        tracing::info!(algorithm = algorithm.name(), "issuing CA key on a PKCS#11 token");
        Ok(TokenKey { session: Mutex::new(session), key, algorithm, public_key })
    }
}

impl tessera_pki::Signer for TokenKey {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let session = self.session.lock().map_err(|_| "the CA token's session is unusable".to_owned())?;
        tracing::trace!(algorithm = self.algorithm.name(), "C_Sign");
        if self.algorithm.is_rsa() {
            session.sign(&Mechanism::Sha256RsaPkcs, self.key, message).map_err(|e| format!("C_Sign: {e}"))
        } else {
            let digest = self.algorithm.digest(message);
            let raw = session.sign(&Mechanism::Ecdsa, self.key, &digest).map_err(|e| format!("C_Sign: {e}"))?;
            Ok(tessera_pki::der::ecdsa_signature(&raw))
        }
    }
}
