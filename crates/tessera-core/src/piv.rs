//! PIV (NIST SP 800-73-4) card commands for what OpenSC's PIV driver cannot do: generate
//! a key pair in a slot and store its certificate, both after authenticating with the card
//! management key (3DES, single-step challenge), and sign with a key before OpenSC shows
//! it. Each authenticated sequence runs in one PC/SC transaction ([`CardLink::transaction`]):
//! the management-key challenge and the GENERATE or PUT DATA it authorises, VERIFY and the
//! GENERAL AUTHENTICATE right after it (what the 9C key's PIN-always policy asks for).

use des::TdesEde3;
use des::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use tessera_pki::{KeyAlgorithm, der};
use zeroize::Zeroizing;

use crate::apdu::{CardLink, Exchange, Sw, apdu, ber_len, find_tlv};
use crate::error::Error;
use crate::pins::Who;

const AID: [u8; 11] = [0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00];

/// The card management key (24-byte 3DES key). Debug shows nothing of it.
pub struct ManagementKey(Zeroizing<Vec<u8>>);

impl ManagementKey {
    pub fn from_hex(hex: &str) -> Option<ManagementKey> {
        let clean: String = hex.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        let bytes: Option<Vec<u8>> =
            (0..clean.len()).step_by(2).map(|i| u8::from_str_radix(clean.get(i..i + 2)?, 16).ok()).collect();
        bytes.filter(|b| b.len() == 24).map(|b| ManagementKey(Zeroizing::new(b)))
    }
}

impl std::fmt::Debug for ManagementKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ManagementKey(***)")
    }
}

/// PIV key slot for an OpenSC CKA_ID (OpenSC numbers 9A, 9C, 9D, 9E as 01..04), and the
/// certificate object that goes with it.
pub fn slot_for_id(id: &[u8]) -> Option<(u8, [u8; 3])> {
    match id {
        [1] => Some((0x9A, [0x5F, 0xC1, 0x05])),
        [2] => Some((0x9C, [0x5F, 0xC1, 0x0A])),
        [3] => Some((0x9D, [0x5F, 0xC1, 0x0B])),
        [4] => Some((0x9E, [0x5F, 0xC1, 0x01])),
        _ => None,
    }
}

pub struct PivCard {
    link: CardLink,
}

impl PivCard {
    pub fn connect(reader: &str) -> Result<PivCard, Error> {
        Ok(PivCard { link: CardLink::select(reader, &AID)? })
    }

    /// Authenticate as card administrator (whether `key` is the card's management key).
    pub fn authenticate(&self, key: &ManagementKey) -> Result<(), Error> {
        self.link.transaction(|x| authenticate(x, key))
    }

    /// GENERATE ASYMMETRIC KEY PAIR in `slot`, after the management key; returns the
    /// subjectPublicKey content.
    pub fn generate(&self, key: &ManagementKey, slot: u8, algorithm: KeyAlgorithm) -> Result<Vec<u8>, Error> {
        let alg = match algorithm {
            KeyAlgorithm::Rsa2048 => 0x07,
            KeyAlgorithm::Rsa3072 => 0x05,
            KeyAlgorithm::P256 => 0x11,
            KeyAlgorithm::P384 => 0x14,
        };
        let data = self.link.transaction(|x| {
            authenticate(x, key)?;
            x.expect_ok(
                x.transmit(&apdu(0x47, 0x00, slot, &[0xAC, 0x03, 0x80, 0x01, alg]), "GENERATE ASYMMETRIC KEY PAIR")?,
            )
        })?;
        let bad = || Error::CardCommand { reader: "PIV".into(), sw: "malformed public key".into() };
        let key = find_tlv(&data, &[0x7F, 0x49]).ok_or_else(bad)?;
        if algorithm.is_rsa() {
            let n = find_tlv(&key, &[0x81]).ok_or_else(bad)?;
            let e = find_tlv(&key, &[0x82]).ok_or_else(bad)?;
            Ok(der::rsa_public_key(&n, &e))
        } else {
            find_tlv(&key, &[0x86]).ok_or_else(bad)
        }
    }

    /// PUT DATA, after the management key: the certificate object of a slot.
    pub fn put_certificate(&self, key: &ManagementKey, object: [u8; 3], certificate: &[u8]) -> Result<(), Error> {
        let mut inner = vec![0x70];
        ber_len(certificate.len(), &mut inner);
        inner.extend_from_slice(certificate);
        inner.extend_from_slice(&[0x71, 0x01, 0x00, 0xFE, 0x00]);
        let mut data = vec![0x5C, 0x03];
        data.extend_from_slice(&object);
        data.push(0x53);
        ber_len(inner.len(), &mut data);
        data.extend_from_slice(&inner);
        self.link.transaction(|x| {
            authenticate(x, key)?;
            x.expect_ok(x.transmit(&apdu(0xDB, 0x3F, 0xFF, &data), "PUT DATA (certificate)")?).map(|_| ())
        })
    }
}

impl PivCard {
    /// GET DATA for a certificate object: the certificate (DER), or None when the slot has
    /// none.
    pub fn certificate(&self, object: [u8; 3]) -> Result<Option<Vec<u8>>, Error> {
        let mut data = vec![0x5C, 0x03];
        data.extend_from_slice(&object);
        match self.link.send(&apdu(0xCB, 0x3F, 0xFF, &data), "GET DATA (certificate)")? {
            (_, Sw::NotFound) => Ok(None),
            (rsp, Sw::Ok) => {
                Ok(find_tlv(&rsp, &[0x53]).and_then(|inner| find_tlv(&inner, &[0x70])).filter(|c| !c.is_empty()))
            }
            (_, other) => Err(self.link.failed(other)),
        }
    }

    /// VERIFY the PIV PIN: whether it is right (each signature verifies it again).
    pub fn verify_pin(&self, pin: &crate::pins::Pin) -> Result<(), Error> {
        self.link.transaction(|x| verify(x, pin))
    }

    /// Tries left for the PIN: VERIFY without data asks, spending nothing.
    pub fn pin_tries(&self) -> Result<Option<u8>, Error> {
        Ok(match self.link.send(&[0x00, 0x20, 0x00, 0x80], "VERIFY (tries left)")?.1 {
            Sw::Wrong { tries_left } => tries_left,
            Sw::Blocked => Some(0),
            _ => None,
        })
    }

    /// Personalise a blank card: PIN and PUK from their factory values to the given ones
    /// (CHANGE REFERENCE DATA, each padded with FF to 8 bytes), then the management key
    /// (SET MANAGEMENT KEY, after authenticating with the current one).
    pub fn personalise(
        &self,
        factory: (&crate::pins::Pin, &crate::pins::Pin, &ManagementKey),
        pin: &crate::pins::Pin,
        puk: &crate::pins::Pin,
        key: &ManagementKey,
    ) -> Result<(), Error> {
        self.link.transaction(|x| {
            for (p2, old, new, what) in [
                (0x80, factory.0, pin, "CHANGE REFERENCE DATA PIN"),
                (0x81, factory.1, puk, "CHANGE REFERENCE DATA PUK"),
            ] {
                let data = two_pins(old, new)?;
                let who = if p2 == 0x80 { Who::User } else { Who::So };
                x.send(&apdu(0x24, 0x00, p2, &data), what)?.1.pin_check(who, x)?;
            }
            authenticate(x, factory.2)?;
            let mut data = Zeroizing::new(vec![0x03, 0x9B, 0x18]);
            data.extend_from_slice(&key.0);
            x.expect_ok(x.transmit(&apdu(0xFF, 0xFF, 0xFF, &data), "SET MANAGEMENT KEY")?).map(|_| ())
        })
    }

    /// RESET RETRY COUNTER: the PUK unblocks the PIN and sets a new one.
    pub fn unblock_pin(&self, puk: &crate::pins::Pin, new: &crate::pins::Pin) -> Result<(), Error> {
        let data = two_pins(puk, new)?;
        self.link
            .transaction(|x| x.send(&apdu(0x2C, 0x00, 0x80, &data), "RESET RETRY COUNTER")?.1.pin_check(Who::So, x))
    }

    /// VERIFY, then GENERAL AUTHENTICATE with the key in `slot`: the card signs `input` (a
    /// digest for ECDSA, a padded block for RSA) and returns the signature.
    fn sign_raw(
        &self,
        pin: &crate::pins::Pin,
        slot: u8,
        algorithm: KeyAlgorithm,
        input: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let alg = match algorithm {
            KeyAlgorithm::Rsa2048 => 0x07,
            KeyAlgorithm::Rsa3072 => 0x05,
            KeyAlgorithm::P256 => 0x11,
            KeyAlgorithm::P384 => 0x14,
        };
        let mut inner = vec![0x82, 0x00, 0x81];
        ber_len(input.len(), &mut inner);
        inner.extend_from_slice(input);
        let mut data = vec![0x7C];
        ber_len(inner.len(), &mut data);
        data.extend_from_slice(&inner);
        let rsp = self.link.transaction(|x| {
            verify(x, pin)?;
            x.expect_ok(x.transmit(&apdu(0x87, alg, slot, &data), "GENERAL AUTHENTICATE (sign)")?)
        })?;
        find_tlv(&rsp, &[0x7C])
            .and_then(|t| find_tlv(&t, &[0x82]))
            .ok_or_else(|| Error::CardCommand { reader: "PIV".into(), sw: "no signature".into() })
    }
}

/// Authenticate as card administrator: ask for a challenge, return it encrypted.
fn authenticate(x: &Exchange<'_>, key: &ManagementKey) -> Result<(), Error> {
    let data = x.expect_ok(
        x.transmit(&apdu(0x87, 0x03, 0x9B, &[0x7C, 0x02, 0x81, 0x00]), "GENERAL AUTHENTICATE (challenge)")?,
    )?;
    let challenge = find_tlv(&data, &[0x7C])
        .and_then(|t| find_tlv(&t, &[0x81]))
        .filter(|c| c.len() == 8)
        .ok_or_else(|| Error::CardCommand { reader: "PIV".into(), sw: "no challenge".into() })?;
    let cipher = TdesEde3::new_from_slice(&key.0).map_err(|_| Error::ManagementKeyRejected)?;
    let mut block = GenericArray::clone_from_slice(&challenge);
    cipher.encrypt_block(&mut block);
    let mut response = vec![0x7C, 0x0A, 0x82, 0x08];
    response.extend_from_slice(&block);
    match x.send(&apdu(0x87, 0x03, 0x9B, &response), "GENERAL AUTHENTICATE (response)")?.1 {
        Sw::Ok => Ok(()),
        Sw::BadData | Sw::NotAllowed | Sw::Wrong { .. } => Err(Error::ManagementKeyRejected),
        other => Err(x.failed(other)),
    }
}

/// VERIFY the PIV PIN (padded with FF to 8 bytes).
fn verify(x: &Exchange<'_>, pin: &crate::pins::Pin) -> Result<(), Error> {
    let mut data = Zeroizing::new(pin.expose().as_bytes().to_vec());
    if data.len() > 8 {
        return Err(Error::PinRejected);
    }
    data.resize(8, 0xFF);
    x.send(&apdu(0x20, 0x00, 0x80, &data), "VERIFY PIN")?.1.pin_check(Who::User, x)
}

/// The data of CHANGE REFERENCE DATA and RESET RETRY COUNTER: the current PIN (or PUK)
/// and the new one, each padded with FF to 8 bytes; a new PIN of 6 to 8 characters.
fn two_pins(old: &crate::pins::Pin, new: &crate::pins::Pin) -> Result<Zeroizing<Vec<u8>>, Error> {
    let (o, n) = (old.expose().as_bytes(), new.expose().as_bytes());
    if o.len() > 8 || n.len() > 8 || n.len() < 6 {
        return Err(Error::PinRejected);
    }
    let mut data = Zeroizing::new(Vec::with_capacity(16));
    data.extend_from_slice(o);
    data.resize(8, 0xFF);
    data.extend_from_slice(n);
    data.resize(16, 0xFF);
    Ok(data)
}

/// Signs with a PIV key through card commands: for the request made before the slot has
/// a certificate (OpenSC shows a PIV key only once its certificate is there), and to prove
/// that a certificate belongs to the key before it is written.
pub struct PivSigner<'c> {
    pub card: &'c PivCard,
    /// Verified again right before each signature, in the same transaction.
    pub pin: &'c crate::pins::Pin,
    pub slot: u8,
    pub algorithm: KeyAlgorithm,
    /// The public key the signature is checked against (the key's, or a certificate's).
    pub public_key: Vec<u8>,
}

/// DigestInfo prefix for SHA-256 (RFC 8017, 9.2).
const SHA256_DIGEST_INFO: [u8; 19] =
    [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];

impl tessera_pki::Signer for PivSigner<'_> {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        use sha2::Digest;
        let input = if self.algorithm.is_rsa() {
            // EMSA-PKCS1-v1_5: 00 01 FF.. 00 DigestInfo(SHA-256).
            let len = self.algorithm.rsa_bits() / 8;
            let mut t = SHA256_DIGEST_INFO.to_vec();
            t.extend_from_slice(&sha2::Sha256::digest(message));
            let mut block = vec![0x00, 0x01];
            block.resize(len - t.len() - 1, 0xFF);
            block.push(0x00);
            block.extend_from_slice(&t);
            block
        } else {
            self.algorithm.digest(message)
        };
        self.card.sign_raw(self.pin, self.slot, self.algorithm, &input).map_err(|e| e.to_string())
    }
}
