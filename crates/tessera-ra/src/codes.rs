//! Activation codes at rest. The RA never stores a code as issued:
//!
//! - a keyed hash (HMAC-SHA-256) finds the request from the code a holder types; a stolen
//!   database alone does not let anyone test guesses offline;
//! - only while a request is armed for CMP, the code is kept sealed (AES-256-GCM, bound to
//!   the request's reference), because the password-based MAC needs the code itself. It
//!   is sealed when the code is presented (holder API, operator arming) and wiped when the
//!   certificate is confirmed.
//!
//! Both keys derive from one 32-byte secret, `codes.key` in the state directory
//! (owner-only), made on first start. RA instances sharing a database share that file.
//!
//! The codes themselves are made here too: activation codes, user codes, OTPs, references
//! and session ids, from the system's random numbers.

use std::path::Path;

use ring::{aead, hmac};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::registry::normalize_code;

/// Random characters from an alphabet without look-alikes (no 0/O, 1/I).
pub fn random_chars(n: usize) -> Option<String> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| ALPHABET[(b & 31) as usize] as char).collect())
}

/// A new activation code: 12 characters without look-alikes, in groups of four.
pub fn activation_code() -> Option<Zeroizing<String>> {
    random_chars(12).map(|c| tessera_protocol::activation::canonical_code(&c))
}

/// 32 random bytes as URL-safe text: session ids (console and app), CSRF tokens.
pub fn random_token() -> Option<String> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).ok()?;
    Some(data_encoding::BASE64URL_NOPAD.encode(&b))
}

/// How a session id or token is kept: its SHA-256, in hexadecimal.
pub fn token_digest(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// A holder's user code [codice utente], for suspending or revoking later: 8 characters
/// without look-alikes.
pub fn user_code() -> Option<Zeroizing<String>> {
    random_chars(8).map(Zeroizing::new)
}

/// A six-digit one-time code (SMS, new contacts), uniform by rejection sampling.
pub fn otp() -> Option<Zeroizing<String>> {
    loop {
        let mut b = [0u8; 4];
        getrandom::getrandom(&mut b).ok()?;
        let n = u32::from_be_bytes(b);
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return Some(Zeroizing::new(format!("{:06}", n % 1_000_000)));
        }
    }
}

pub struct CodeKeys {
    index: hmac::Key,
    seal: aead::LessSafeKey,
    /// Keys the audit log's hash chain: without it nobody rewrites the chain unseen.
    audit: hmac::Key,
}

impl CodeKeys {
    /// Load `codes.key` from `dir`, or make it.
    pub fn load_or_create(dir: &Path) -> Result<CodeKeys> {
        let path = dir.join("codes.key");
        let secret = match std::fs::read(&path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = Self::random_secret()?;
                std::fs::create_dir_all(dir).map_err(Error::file(dir))?;
                crate::ca::write_private(&path, &hex::encode(&secret))?;
                return Ok(Self::from_secret(&secret));
            }
            Err(e) => return Err(Error::file(&path)(e)),
        };
        let not_hex = || Error::content(&path, "expected 32 bytes in hex (64 digits)");
        let text = std::str::from_utf8(&secret).map_err(|_| not_hex())?;
        let secret = Zeroizing::new(hex::decode(text.trim()).ok().ok_or_else(not_hex)?);
        if secret.len() != 32 {
            return Err(not_hex());
        }
        Ok(Self::from_secret(&secret))
    }

    /// Keys that live as long as the process (tests).
    #[cfg(test)]
    pub fn ephemeral() -> Result<CodeKeys> {
        Ok(Self::from_secret(&Self::random_secret()?))
    }

    fn random_secret() -> Result<Zeroizing<Vec<u8>>> {
        let mut secret = Zeroizing::new(vec![0u8; 32]);
        getrandom::getrandom(&mut secret).map_err(|e| Error::Random { reason: e.to_string() })?;
        Ok(secret)
    }

    fn from_secret(secret: &[u8]) -> CodeKeys {
        let master = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derive = |label: &[u8]| Zeroizing::new(hmac::sign(&master, label).as_ref().to_vec());
        let index = hmac::Key::new(hmac::HMAC_SHA256, &derive(b"tessera-ra activation code index"));
        // HMAC-SHA-256 gives 32 bytes, the key length of AES-256: this cannot fail.
        let seal = aead::UnboundKey::new(&aead::AES_256_GCM, &derive(b"tessera-ra activation code seal"))
            .expect("a 32-byte AES-256 key");
        let audit = hmac::Key::new(hmac::HMAC_SHA256, &derive(b"tessera-ra audit chain"));
        CodeKeys { index, seal: aead::LessSafeKey::new(seal), audit }
    }

    /// An audit entry's link in the chain: HMAC-SHA-256 over `data`, hex.
    pub fn audit_link(&self, data: &[u8]) -> String {
        hex::encode(hmac::sign(&self.audit, data).as_ref())
    }

    /// The keyed hash of a code as typed (case, spaces and dashes do not matter).
    pub fn index(&self, code: &str) -> String {
        hex::encode(hmac::sign(&self.index, normalize_code(code).as_bytes()).as_ref())
    }

    /// An SMS code as the database keeps it: keyed like the activation codes, for its
    /// request (so neither a copy of the database nor its WAL gives it away).
    pub fn otp_index(&self, reference: &str, otp: &str) -> String {
        hex::encode(hmac::sign(&self.index, format!("otp\0{reference}\0{otp}").as_bytes()).as_ref())
    }

    /// Whether `otp` is the code kept as `stored` for `reference` (in constant time).
    pub fn otp_matches(&self, reference: &str, otp: &str, stored: &str) -> bool {
        hex::decode(stored)
            .ok()
            .is_some_and(|tag| hmac::verify(&self.index, format!("otp\0{reference}\0{otp}").as_bytes(), &tag).is_ok())
    }

    /// The code's canonical form sealed for `reference`: hex of nonce, ciphertext and tag.
    pub fn seal(&self, reference: &str, code: &str) -> Option<String> {
        self.seal_bytes(reference, tessera_protocol::activation::canonical_code(code).as_bytes())
    }

    /// Another secret of a request (its PIN, PUK, card management key or user code),
    /// sealed for that request and purpose: it opens only as what it was sealed for.
    pub fn seal_secret(&self, reference: &str, purpose: &str, value: &str) -> Option<String> {
        self.seal_bytes(&format!("{reference}/{purpose}"), value.as_bytes())
    }

    pub fn open_secret(&self, reference: &str, purpose: &str, sealed: &str) -> Option<Zeroizing<String>> {
        let plain = self.open(&format!("{reference}/{purpose}"), sealed)?;
        String::from_utf8(plain.to_vec()).ok().map(Zeroizing::new)
    }

    fn seal_bytes(&self, aad: &str, value: &[u8]) -> Option<String> {
        let mut nonce = [0u8; aead::NONCE_LEN];
        getrandom::getrandom(&mut nonce).ok()?;
        let mut data = value.to_vec();
        self.seal
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad.as_bytes()),
                &mut data,
            )
            .ok()?;
        Some(hex::encode([&nonce[..], &data].concat()))
    }

    /// A document sealed (AES-256-GCM, bound to `aad`), as base64 text.
    pub fn seal_document(&self, aad: &str, value: &[u8]) -> Option<String> {
        let mut nonce = [0u8; aead::NONCE_LEN];
        getrandom::getrandom(&mut nonce).ok()?;
        let mut data = Vec::with_capacity(aead::NONCE_LEN + value.len() + 16);
        data.extend_from_slice(value);
        self.seal
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(aad.as_bytes()),
                &mut data,
            )
            .ok()?;
        Some(data_encoding::BASE64.encode(&[&nonce[..], &data].concat()))
    }

    /// A sealed document opened; None when it does not (another key or binding, altered).
    pub fn open_document(&self, aad: &str, sealed: &str) -> Option<Vec<u8>> {
        let bytes = data_encoding::BASE64.decode(sealed.as_bytes()).ok()?;
        if bytes.len() < aead::NONCE_LEN {
            return None;
        }
        let (nonce, data) = bytes.split_at(aead::NONCE_LEN);
        let mut data = data.to_vec();
        let nonce = aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
        self.seal.open_in_place(nonce, aead::Aad::from(aad.as_bytes()), &mut data).ok().map(|p| p.to_vec())
    }

    /// The sealed code of `reference` (the CMP secret); None when it does not open (another
    /// key, another request's value, or altered).
    pub fn open(&self, reference: &str, sealed: &str) -> Option<Zeroizing<Vec<u8>>> {
        let bytes = hex::decode(sealed).ok()?;
        if bytes.len() < aead::NONCE_LEN {
            return None;
        }
        let (nonce, data) = bytes.split_at(aead::NONCE_LEN);
        let mut data = Zeroizing::new(data.to_vec());
        let nonce = aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self.seal.open_in_place(nonce, aead::Aad::from(reference.as_bytes()), &mut data).ok()?;
        Some(Zeroizing::new(plain.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otps_are_six_digits_and_codes_have_no_look_alikes() {
        for _ in 0..100 {
            let otp = super::otp().unwrap();
            assert!(otp.len() == 6 && otp.chars().all(|c| c.is_ascii_digit()), "{}", *otp);
        }
        let code = super::activation_code().unwrap();
        assert_eq!(code.len(), 14);
        assert!(code.chars().all(|c| c == '-' || "ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(c)));
    }

    #[test]
    fn codes_are_found_by_keyed_hash_and_open_only_for_their_request() {
        let keys = CodeKeys::ephemeral().unwrap();
        assert_eq!(keys.index("k7qm 2xwd 9pht"), keys.index("K7QM-2XWD-9PHT"));
        assert_ne!(keys.index("K7QM-2XWD-9PHT"), keys.index("K7QM-2XWD-9PHV"));
        let other = CodeKeys::ephemeral().unwrap();
        assert_ne!(keys.index("K7QM-2XWD-9PHT"), other.index("K7QM-2XWD-9PHT"), "keyed, not a plain hash");

        let sealed = keys.seal("REQ-1", "k7qm2xwd9pht").unwrap();
        assert!(!sealed.to_uppercase().contains("K7QM"));
        assert_eq!(keys.open("REQ-1", &sealed).unwrap().as_slice(), b"K7QM-2XWD-9PHT");
        assert!(keys.open("REQ-2", &sealed).is_none(), "bound to its request");
        assert!(other.open("REQ-1", &sealed).is_none(), "another RA's key");
        assert_ne!(sealed, keys.seal("REQ-1", "k7qm2xwd9pht").unwrap(), "a fresh nonce each time");
        assert!(keys.open("REQ-1", "00").is_none());
    }

    #[test]
    fn the_key_file_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = CodeKeys::load_or_create(dir.path()).unwrap().seal("REQ-1", "CODE").unwrap();
        let again = CodeKeys::load_or_create(dir.path()).unwrap();
        assert_eq!(again.open("REQ-1", &sealed).unwrap().as_slice(), b"CODE");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("codes.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner-only");
        }
        std::fs::write(dir.path().join("codes.key"), "abcd").unwrap();
        assert!(CodeKeys::load_or_create(dir.path()).is_err());
    }
}
