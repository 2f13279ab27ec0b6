//! Certificate objects on a token: installed next to their key only when the
//! certificate's public key is the key's, deleted only when named precisely.

use cryptoki::object::{Attribute, AttributeType, CertificateType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use tessera_pki::KeyAlgorithm;
use tessera_pki::certificate::CertificateObject;

use crate::error::Error;
use crate::keys;
use crate::token::OpenToken;
use crate::uri::Pkcs11Uri;

/// Write `certificate` (PEM or DER) next to the key pair `key_id`; returns its URI.
/// Nothing is written unless the certificate's public key is the key's, and no certificate
/// already sits next to that key.
/// With `replace` (a fixed slot whose key a renewal replaced, authorised first) the old
/// key's certificate there is destroyed first.
pub fn install(
    token: &OpenToken<'_>,
    session: &Session,
    key_id: &[u8],
    label: &str,
    certificate: &[u8],
    replace: bool,
) -> Result<String, Error> {
    let (der, object) =
        CertificateObject::parse(certificate).map_err(|e| Error::CertificateInvalid { reason: e.to_string() })?;
    let key_uri = token.object_uri("", key_id, "private");
    let algorithm: KeyAlgorithm =
        keys::algorithm_of(session, key_id)?.ok_or_else(|| Error::KeyNotFound { uri: key_uri.clone() })?;
    let key = keys::public_key(session, key_id, algorithm)?;
    if key != object.public_key {
        return Err(Error::CertificateKeyMismatch { certificate: object.common_name, key: key_uri });
    }
    let existing = session
        .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Id(key_id.to_vec())])
        .map_err(|e| Error::from_pkcs11(e, "C_FindObjects"))?;
    if !existing.is_empty() && !replace {
        return Err(Error::CertificateExists { id: hex::encode(key_id) });
    }
    for h in existing {
        tracing::trace!("C_DestroyObject (the replaced key's certificate)");
        session.destroy_object(h).map_err(|e| Error::from_pkcs11(e, "C_DestroyObject"))?;
    }
    let template = vec![
        Attribute::Class(ObjectClass::CERTIFICATE),
        Attribute::CertificateType(CertificateType::X_509),
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Id(key_id.to_vec()),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Subject(object.subject),
        Attribute::Issuer(object.issuer),
        Attribute::SerialNumber(object.serial),
        Attribute::Value(der.clone()),
    ];
    tracing::trace!("C_CreateObject (certificate)");
    let handle = session.create_object(&template).map_err(|e| Error::from_pkcs11(e, "C_CreateObject"))?;
    // Read it back: what is on the token must be what we meant to write.
    let stored = value_of(session, handle)?;
    if stored != der {
        let _ = session.destroy_object(handle);
        return Err(Error::Pkcs11 {
            function: "C_CreateObject".into(),
            rv: "value read back differs".into(),
            token: token.label.clone(),
        });
    }
    Ok(token.object_uri(label, key_id, "cert"))
}

fn value_of(session: &Session, handle: ObjectHandle) -> Result<Vec<u8>, Error> {
    let attrs = session
        .get_attributes(handle, &[AttributeType::Value])
        .map_err(|e| Error::from_pkcs11(e, "C_GetAttributeValue"))?;
    Ok(attrs.into_iter().find_map(|a| if let Attribute::Value(v) = a { Some(v) } else { None }).unwrap_or_default())
}

/// Delete the objects a URI names by id and/or label (and type, if given). Returns how many.
pub fn delete(session: &Session, uri: &Pkcs11Uri, text: &str) -> Result<usize, Error> {
    if uri.id.is_none() && uri.object.is_none() {
        return Err(Error::SelectorTooBroad { uri: text.to_owned() });
    }
    let mut template = Vec::new();
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    match uri.object_type.as_deref() {
        Some("cert") => template.push(Attribute::Class(ObjectClass::CERTIFICATE)),
        Some("private") => template.push(Attribute::Class(ObjectClass::PRIVATE_KEY)),
        Some("public") => template.push(Attribute::Class(ObjectClass::PUBLIC_KEY)),
        Some("data") => template.push(Attribute::Class(ObjectClass::DATA)),
        _ => {}
    }
    let handles = session.find_objects(&template).map_err(|e| Error::from_pkcs11(e, "C_FindObjects"))?;
    if handles.is_empty() {
        return Err(Error::ObjectNotFound { uri: text.to_owned() });
    }
    for h in &handles {
        tracing::trace!("C_DestroyObject");
        session.destroy_object(*h).map_err(|e| Error::from_pkcs11(e, "C_DestroyObject"))?;
    }
    Ok(handles.len())
}

/// Write `certificate` into a PIV slot with the card's own commands (catalog login
/// `card-command`), after proving with the PIN that the slot's key is the certificate's:
/// the card signs a request that must verify under the certificate's public key.
pub fn install_with_card(
    token: &OpenToken<'_>,
    pin: &crate::pins::Pin,
    management_key: &crate::piv::ManagementKey,
    key_id: &[u8],
    certificate: &[u8],
) -> Result<String, Error> {
    let (der, object) =
        CertificateObject::parse(certificate).map_err(|e| Error::CertificateInvalid { reason: e.to_string() })?;
    let key_uri = token.object_uri("", key_id, "private");
    let (slot, container) =
        crate::piv::slot_for_id(key_id).ok_or_else(|| Error::KeyNotFound { uri: key_uri.clone() })?;
    let algorithm =
        algorithm_of_spki_key(&der).ok_or_else(|| Error::CertificateInvalid { reason: "unsupported key".into() })?;
    let reader = token.reader.clone().ok_or_else(|| Error::TokenNotFound { uri: token.uri() })?;
    let card = crate::piv::PivCard::connect(&reader)?;
    crate::login::guard(token.pin_state()?, crate::pins::FinalTry::Refuse)?;
    card.verify_pin(pin)?;
    let signer = crate::piv::PivSigner { card: &card, pin, slot, algorithm, public_key: object.public_key.clone() };
    if tessera_pki::csr::build(&signer, "proof of possession").is_err() {
        return Err(Error::CertificateKeyMismatch { certificate: object.common_name, key: key_uri });
    }
    card.put_certificate(management_key, container, &der)?;
    token.stale.set(true);
    Ok(token.object_uri("", key_id, "cert"))
}

fn algorithm_of_spki_key(der: &[u8]) -> Option<KeyAlgorithm> {
    let summary = tessera_pki::CertificateSummary::parse(der, time::OffsetDateTime::now_utc()).ok()?;
    match (summary.key.algorithm.as_str(), summary.key.bits, summary.key.curve.as_deref()) {
        ("RSA", 2048, _) => Some(KeyAlgorithm::Rsa2048),
        ("RSA", 3072, _) => Some(KeyAlgorithm::Rsa3072),
        ("EC", _, Some("P-256")) => Some(KeyAlgorithm::P256),
        ("EC", _, Some("P-384")) => Some(KeyAlgorithm::P384),
        _ => None,
    }
}
