//! Key pairs generated on the token, and signing with them. Private keys are created
//! sensitive and never extractable, and read back to prove it; a key that is not is
//! destroyed at once.

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use serde::Serialize;
use tessera_pki::{KeyAlgorithm, Signer, der};

use crate::error::Error;
use crate::token::OpenToken;

/// A key pair on a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyPairInfo {
    /// The private key's URI (type=private).
    pub uri: String,
    /// CKA_ID shared by the private key, public key, certificate and request, hex.
    pub id: String,
    pub label: String,
    pub algorithm: KeyAlgorithm,
    /// subjectPublicKey content (DER RSAPublicKey or EC point).
    #[serde(skip)]
    pub public_key: Vec<u8>,
}

fn pkcs11(e: cryptoki::error::Error, what: &str) -> Error {
    Error::from_pkcs11(e, what)
}

fn objects_with_id(session: &Session, id: &[u8], class: Option<ObjectClass>) -> Result<Vec<ObjectHandle>, Error> {
    let mut template = vec![Attribute::Id(id.to_vec())];
    if let Some(c) = class {
        template.push(Attribute::Class(c));
    }
    tracing::trace!(?class, "C_FindObjects by CKA_ID");
    session.find_objects(&template).map_err(|e| pkcs11(e, "C_FindObjects"))
}

/// Generate a key pair on the token (logged in as the card requires). `id` defaults to 8
/// random bytes from the token; an id already in use is refused unless `replace` (a fixed
/// slot whose key is being renewed in place, authorised first).
pub fn generate(
    token: &OpenToken<'_>,
    session: &Session,
    algorithm: KeyAlgorithm,
    label: &str,
    id: Option<Vec<u8>>,
    replace: bool,
) -> Result<KeyPairInfo, Error> {
    check_algorithm(token, algorithm)?;
    let slots: Vec<Vec<u8>> = token
        .model
        .as_ref()
        .map(|m| m.key_ids.iter().filter_map(|h| hex::decode(h).ok()).collect())
        .unwrap_or_default();
    let id = match (id, slots.is_empty()) {
        (Some(id), true) => id,
        (None, true) => token.generate_random(session, 8)?,
        // Cards with fixed key slots: the one asked for, or the first free one.
        (Some(id), false) if slots.contains(&id) => id,
        (Some(id), false) => return Err(Error::IdInUse { id: hex::encode(&id) }),
        (None, false) => {
            let mut free = None;
            for slot in &slots {
                if objects_with_id(session, slot, Some(ObjectClass::PRIVATE_KEY))?.is_empty() {
                    free = Some(slot.clone());
                    break;
                }
            }
            free.ok_or_else(|| Error::IdInUse { id: slots.iter().map(hex::encode).collect::<Vec<_>>().join(", ") })?
        }
    };
    if !replace
        && (!objects_with_id(session, &id, Some(ObjectClass::PRIVATE_KEY))?.is_empty()
            || !objects_with_id(session, &id, Some(ObjectClass::CERTIFICATE))?.is_empty())
    {
        return Err(Error::IdInUse { id: hex::encode(&id) });
    }
    let common = |extra: Vec<Attribute>| {
        let mut v =
            vec![Attribute::Token(true), Attribute::Id(id.clone()), Attribute::Label(label.as_bytes().to_vec())];
        v.extend(extra);
        v
    };
    let private = common(vec![
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
    ]);
    let (mechanism, public) = if algorithm.is_rsa() {
        (
            Mechanism::RsaPkcsKeyPairGen,
            common(vec![
                Attribute::Private(false),
                Attribute::Verify(true),
                // CK_ULONG is the platform's C unsigned long: 64 bits on Linux and macOS,
                // 32 on Windows.
                Attribute::ModulusBits((algorithm.rsa_bits() as std::os::raw::c_ulong).into()),
                Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
            ]),
        )
    } else {
        (
            Mechanism::EccKeyPairGen,
            common(vec![
                Attribute::Private(false),
                Attribute::Verify(true),
                Attribute::EcParams(algorithm.ec_params().to_vec()),
            ]),
        )
    };
    tracing::trace!(algorithm = algorithm.name(), "C_GenerateKeyPair");
    let (pub_handle, priv_handle) =
        session.generate_key_pair(&mechanism, &public, &private).map_err(|e| pkcs11(e, "C_GenerateKeyPair"))?;
    // Middleware may hand back handles with stale attributes (OpenSC's openpgp driver
    // reports CKA_SENSITIVE false on the fresh handle): judge the key as found by CKA_ID.
    let found = objects_with_id(session, &id, Some(ObjectClass::PRIVATE_KEY))?;
    let checked = found.first().copied().unwrap_or(priv_handle);
    let stale_sensitive = token.model.as_ref().is_some_and(|m| m.has_quirk(QUIRK_STALE_SENSITIVE));
    if let Err(reason) = check_protected(session, checked, stale_sensitive) {
        let deleted = session.destroy_object(checked).is_ok();
        let _ = session.destroy_object(pub_handle);
        return Err(Error::KeyNotProtected { reason, deleted });
    }
    if token.model.as_ref().is_some_and(|m| m.has_quirk(QUIRK_RELOAD_AFTER_KEYGEN)) {
        token.stale.set(true);
    }
    // Some middleware returns a public-key handle with stale attributes (OpenSC): read the
    // key back by its CKA_ID instead.
    let public_key = public_key(session, &id, algorithm)?;
    Ok(KeyPairInfo {
        uri: token.object_uri(label, &id, "private"),
        id: hex::encode(&id),
        label: label.to_owned(),
        algorithm,
        public_key,
    })
}

/// Catalog quirk: the middleware reports CKA_SENSITIVE false on a key it has just
/// generated (a fresh process reads true). CKA_EXTRACTABLE false is still required.
pub const QUIRK_STALE_SENSITIVE: crate::catalog::QuirkId = crate::catalog::QuirkId::SensitiveStaleAfterKeygen;
/// Catalog quirk: the module must be initialised afresh before the new key can be used.
pub const QUIRK_RELOAD_AFTER_KEYGEN: crate::catalog::QuirkId = crate::catalog::QuirkId::ReloadAfterKeygen;

fn check_algorithm(token: &OpenToken<'_>, algorithm: KeyAlgorithm) -> Result<(), Error> {
    match &token.model {
        Some(model) if !model.algorithms.contains(&algorithm) => {
            Err(Error::AlgorithmUnsupported { algorithm: algorithm.name().into(), card: model.name.clone() })
        }
        _ => Ok(()),
    }
}

/// Generate with the card's own commands, for cards whose middleware cannot (catalog login
/// `card-command`: PIV, authenticated with the card management key). The key is
/// generated in the card, so it is never extractable by construction; `replace` as for
/// [`generate`].
pub fn generate_with_card(
    token: &OpenToken<'_>,
    session: &Session,
    management_key: &crate::piv::ManagementKey,
    algorithm: KeyAlgorithm,
    id: Option<Vec<u8>>,
    replace: bool,
) -> Result<KeyPairInfo, Error> {
    check_algorithm(token, algorithm)?;
    let reader = token.reader.clone().ok_or_else(|| Error::TokenNotFound { uri: token.uri() })?;
    let slots: Vec<Vec<u8>> = token
        .model
        .as_ref()
        .map(|m| m.key_ids.iter().filter_map(|h| hex::decode(h).ok()).collect())
        .unwrap_or_default();
    let id = match id {
        Some(id) => id,
        None => slots.first().cloned().ok_or_else(|| Error::IdInUse { id: String::new() })?,
    };
    let (slot, _) = crate::piv::slot_for_id(&id).ok_or_else(|| Error::IdInUse { id: hex::encode(&id) })?;
    if !replace && !objects_with_id(session, &id, Some(ObjectClass::PRIVATE_KEY))?.is_empty() {
        return Err(Error::IdInUse { id: hex::encode(&id) });
    }
    let card = crate::piv::PivCard::connect(&reader)?;
    tracing::trace!(slot = format_args!("{slot:02X}"), "PIV GENERATE ASYMMETRIC KEY PAIR");
    let public_key = card.generate(management_key, slot, algorithm)?;
    token.stale.set(true);
    Ok(KeyPairInfo {
        uri: token.object_uri("", &id, "private"),
        id: hex::encode(&id),
        label: String::new(),
        algorithm,
        public_key,
    })
}

fn check_protected(session: &Session, key: ObjectHandle, stale_sensitive: bool) -> Result<(), String> {
    let attrs = session
        .get_attributes(key, &[AttributeType::Sensitive, AttributeType::Extractable, AttributeType::Token])
        .map_err(|e| e.to_string())?;
    tracing::debug!(?attrs, "private key protection attributes");
    for a in attrs {
        match a {
            Attribute::Sensitive(false) if !stale_sensitive => return Err("CKA_SENSITIVE is false".into()),
            Attribute::Extractable(true) => return Err("CKA_EXTRACTABLE is true".into()),
            Attribute::Token(false) => return Err("CKA_TOKEN is false".into()),
            _ => {}
        }
    }
    Ok(())
}

/// The subjectPublicKey content of the key pair with this id, from its public key object.
pub fn public_key(session: &Session, id: &[u8], algorithm: KeyAlgorithm) -> Result<Vec<u8>, Error> {
    let not_found = || Error::KeyNotFound {
        uri: format!("pkcs11:id={}", id.iter().map(|b| format!("%{b:02X}")).collect::<String>()),
    };
    let handle = *objects_with_id(session, id, Some(ObjectClass::PUBLIC_KEY))?.first().ok_or_else(not_found)?;
    if algorithm.is_rsa() {
        let attrs = session
            .get_attributes(handle, &[AttributeType::Modulus, AttributeType::PublicExponent])
            .map_err(|e| pkcs11(e, "C_GetAttributeValue"))?;
        let (mut n, mut e) = (Vec::new(), Vec::new());
        for a in attrs {
            match a {
                Attribute::Modulus(v) => n = v,
                Attribute::PublicExponent(v) => e = v,
                _ => {}
            }
        }
        Ok(der::rsa_public_key(&n, &e))
    } else {
        let attrs =
            session.get_attributes(handle, &[AttributeType::EcPoint]).map_err(|e| pkcs11(e, "C_GetAttributeValue"))?;
        let point = attrs
            .into_iter()
            .find_map(|a| if let Attribute::EcPoint(v) = a { Some(v) } else { None })
            .ok_or_else(not_found)?;
        Ok(der::ec_point(&point, algorithm.ec_point_len()).to_vec())
    }
}

/// The algorithm of the key pair with this id, from its public key object.
pub fn algorithm_of(session: &Session, id: &[u8]) -> Result<Option<KeyAlgorithm>, Error> {
    let Some(&handle) = objects_with_id(session, id, Some(ObjectClass::PUBLIC_KEY))?.first() else {
        return Ok(None);
    };
    let attrs = session
        .get_attributes(handle, &[AttributeType::KeyType, AttributeType::ModulusBits, AttributeType::EcParams])
        .map_err(|e| pkcs11(e, "C_GetAttributeValue"))?;
    let (mut kind, mut bits, mut params) = (None, 0u64, Vec::new());
    for a in attrs {
        match a {
            Attribute::KeyType(k) => kind = Some(k),
            Attribute::ModulusBits(b) => bits = ulong(*b),
            Attribute::EcParams(p) => params = p,
            _ => {}
        }
    }
    Ok(match kind {
        Some(KeyType::RSA) if bits == 2048 => Some(KeyAlgorithm::Rsa2048),
        Some(KeyType::RSA) if bits == 3072 => Some(KeyAlgorithm::Rsa3072),
        Some(KeyType::EC) => KeyAlgorithm::ALL.into_iter().find(|a| !a.is_rsa() && a.ec_params() == params.as_slice()),
        _ => None,
    })
}

/// Signs with a private key on the token (the session must be logged in).
pub struct TokenSigner<'s> {
    session: &'s Session,
    key: ObjectHandle,
    info: KeyPairInfo,
}

impl<'s> TokenSigner<'s> {
    /// The signer for the key pair with this id.
    pub fn find(token: &OpenToken<'_>, session: &'s Session, id: &[u8]) -> Result<TokenSigner<'s>, Error> {
        let uri = token.object_uri("", id, "private");
        let algorithm = algorithm_of(session, id)?.ok_or_else(|| Error::KeyNotFound { uri: uri.clone() })?;
        let key = *objects_with_id(session, id, Some(ObjectClass::PRIVATE_KEY))?
            .first()
            .ok_or_else(|| Error::KeyNotFound { uri: uri.clone() })?;
        let label = session
            .get_attributes(key, &[AttributeType::Label])
            .ok()
            .and_then(|v| v.into_iter().find_map(|a| if let Attribute::Label(l) = a { Some(l) } else { None }))
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default();
        let public_key = public_key(session, id, algorithm)?;
        Ok(TokenSigner {
            session,
            key,
            info: KeyPairInfo {
                uri: token.object_uri(&label, id, "private"),
                id: hex::encode(id),
                label,
                algorithm,
                public_key,
            },
        })
    }

    pub fn info(&self) -> &KeyPairInfo {
        &self.info
    }
}

impl Signer for TokenSigner<'_> {
    fn algorithm(&self) -> KeyAlgorithm {
        self.info.algorithm
    }

    fn public_key(&self) -> &[u8] {
        &self.info.public_key
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        tracing::trace!(algorithm = self.info.algorithm.name(), "C_Sign");
        if self.info.algorithm.is_rsa() {
            self.session.sign(&Mechanism::Sha256RsaPkcs, self.key, message).map_err(|e| e.to_string())
        } else {
            // Raw ECDSA over a host-computed digest: every token has it (SoftHSM 2.6 has
            // nothing else); PKCS#11 returns r||s, X.509 wants DER.
            let digest = self.info.algorithm.digest(message);
            let raw = self.session.sign(&Mechanism::Ecdsa, self.key, &digest).map_err(|e| e.to_string())?;
            Ok(der::ecdsa_signature(&raw))
        }
    }
}

/// A certification request signed by a key just generated with card commands (PIV),
/// before its middleware can see it: the card signs after the PIN is verified.
pub fn csr_with_card(
    token: &OpenToken<'_>,
    pin: &crate::pins::Pin,
    key: &KeyPairInfo,
    common_name: &str,
) -> Result<Vec<u8>, Error> {
    let reader = token.reader.clone().ok_or_else(|| Error::TokenNotFound { uri: token.uri() })?;
    let id = hex::decode(&key.id).ok().unwrap_or_default();
    let (slot, _) = crate::piv::slot_for_id(&id).ok_or_else(|| Error::KeyNotFound { uri: key.uri.clone() })?;
    let card = crate::piv::PivCard::connect(&reader)?;
    crate::login::guard(token.pin_state()?, crate::pins::FinalTry::Refuse)?;
    card.verify_pin(pin)?;
    let signer =
        crate::piv::PivSigner { card: &card, pin, slot, algorithm: key.algorithm, public_key: key.public_key.clone() };
    tessera_pki::csr::build(&signer, common_name).map_err(|e| Error::CsrFailed { reason: e.to_string() })
}

/// PKCS#11's CK_ULONG as a u64: C's unsigned long, 64 bits on Linux and macOS (where the
/// conversion is the identity), 32 on Windows.
#[allow(clippy::useless_conversion)]
fn ulong(v: std::os::raw::c_ulong) -> u64 {
    u64::from(v)
}
