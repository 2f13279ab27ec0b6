//! The OpenPGP card application spoken to directly over PC/SC, for what its PKCS#11
//! middleware cannot do (OpenSC's openpgp driver cannot reset the user PIN with the admin
//! PIN, nor generate into a slot that holds a key). Commands from the OpenPGP card
//! specification 3.4: SELECT, GET DATA (PW status), VERIFY, RESET RETRY COUNTER, PUT DATA,
//! GENERATE ASYMMETRIC KEY PAIR. APDUs are traced without their data: they carry PINs.

use crate::apdu::{CardLink, apdu, find_tlv};
use crate::error::Error;
use crate::pins::Pin;
use crate::pins::Who;
use tessera_pki::KeyAlgorithm;

const AID: [u8; 6] = [0xD2, 0x76, 0x00, 0x01, 0x24, 0x01];

pub struct OpenPgpCard {
    link: CardLink,
}

impl OpenPgpCard {
    /// Connect (shared, so the middleware keeps working) and select the application.
    pub fn connect(reader: &str) -> Result<OpenPgpCard, Error> {
        Ok(OpenPgpCard { link: CardLink::select(reader, &AID)? })
    }

    /// GET DATA of one data object, in a transaction of its own.
    fn get_data(&self, tag: u8, what: &str) -> Result<Vec<u8>, Error> {
        self.link.transaction(|x| x.expect_ok(x.transmit(&[0x00, 0xCA, 0x00, tag, 0x00], what)?))
    }

    /// Tries left for the user PIN (PW1), the resetting code and the admin PIN (PW3).
    pub fn retry_counters(&self) -> Result<[u8; 3], Error> {
        let status = self.get_data(0xC4, "GET DATA PW status")?;
        match status.get(4..7) {
            Some(c) => Ok([c[0], c[1], c[2]]),
            None => Err(Error::Pcsc { reason: "PW status bytes too short".into() }),
        }
    }

    /// The cardholder's name (DO 5B, inside the cardholder related data 65): empty on a
    /// blank card.
    pub fn cardholder_name(&self) -> Result<Vec<u8>, Error> {
        let data = self.get_data(0x65, "GET DATA cardholder")?;
        let inner = crate::apdu::find_tlv(&data, &[0x65]).unwrap_or(data);
        Ok(crate::apdu::find_tlv(&inner, &[0x5B]).unwrap_or_default())
    }

    /// Personalise a blank card: user PIN and admin PIN from their factory values to the
    /// given ones (CHANGE REFERENCE DATA), then the cardholder's name (PUT DATA 5B, after
    /// the new admin PIN), which marks the card as no longer blank.
    pub fn personalise(&self, factory: (&Pin, &Pin), pin: &Pin, admin: &Pin, name: &str) -> Result<(), Error> {
        self.link.transaction(|x| {
            for (p2, old, new, what) in [
                (0x81, factory.0, pin, "CHANGE REFERENCE DATA PW1"),
                (0x83, factory.1, admin, "CHANGE REFERENCE DATA PW3"),
            ] {
                let mut data = zeroize::Zeroizing::new(old.expose().as_bytes().to_vec());
                data.extend_from_slice(new.expose().as_bytes());
                let who = if p2 == 0x81 { Who::User } else { Who::So };
                x.send(&apdu(0x24, 0x00, p2, &data), what)?.1.pin_check(who, x)?;
            }
            x.send(&apdu(0x20, 0x00, 0x83, admin.expose().as_bytes()), "VERIFY PW3")?.1.pin_check(Who::So, x)?;
            x.expect_ok(x.transmit(&apdu(0xDA, 0x00, 0x5B, name.as_bytes()), "PUT DATA cardholder name")?).map(|_| ())
        })
    }

    /// Generate a key pair in key slot `slot` (1 signature, 2 decryption, 3 authentication),
    /// replacing the key there, in one transaction after the admin PIN: the slot's
    /// algorithm attributes, GENERATE ASYMMETRIC KEY PAIR, then what the specification
    /// leaves to the host (4.4.3.7, 7.2.14): the key's generation time and OpenPGP v4
    /// fingerprint. The new public key as subjectPublicKey content (RSAPublicKey DER, or
    /// the EC point).
    pub fn generate(&self, admin: &Pin, slot: u8, algorithm: KeyAlgorithm) -> Result<Vec<u8>, Error> {
        let (crt, attributes_do, fingerprint_do, time_do) = match slot {
            1 => (0xB6, 0xC1, 0xC7, 0xCE),
            2 => (0xB8, 0xC2, 0xC8, 0xCF),
            3 => (0xA4, 0xC3, 0xC9, 0xD0),
            _ => return Err(Error::IdInUse { id: format!("{slot:02x}") }),
        };
        let attributes = key_attributes(algorithm);
        let created = time::OffsetDateTime::now_utc().unix_timestamp() as u32;
        let bad = || Error::Pcsc { reason: "GENERATE ASYMMETRIC KEY PAIR: malformed public key".into() };
        self.link.transaction(|x| {
            x.send(&apdu(0x20, 0x00, 0x83, admin.expose().as_bytes()), "VERIFY PW3")?.1.pin_check(Who::So, x)?;
            x.expect_ok(x.transmit(&apdu(0xDA, 0x00, attributes_do, &attributes), "PUT DATA algorithm attributes")?)?;
            let mut generate = apdu(0x47, 0x80, 0x00, &[crt, 0x00]).to_vec();
            generate.push(0x00);
            let data = x.expect_ok(x.transmit(&generate, "GENERATE ASYMMETRIC KEY PAIR")?)?;
            let key = find_tlv(&data, &[0x7F, 0x49]).ok_or_else(bad)?;
            let (public_key, material) = if algorithm.is_rsa() {
                let n = find_tlv(&key, &[0x81]).ok_or_else(bad)?;
                let e = find_tlv(&key, &[0x82]).ok_or_else(bad)?;
                (tessera_pki::der::rsa_public_key(&n, &e), [mpi(&n), mpi(&e)].concat())
            } else {
                let point = find_tlv(&key, &[0x86]).ok_or_else(bad)?;
                let oid = &attributes[1..];
                let material = [&[oid.len() as u8][..], oid, &mpi(&point)].concat();
                (point, material)
            };
            let fingerprint = fingerprint_v4(created, attributes[0], &material);
            x.expect_ok(x.transmit(&apdu(0xDA, 0x00, time_do, &created.to_be_bytes()), "PUT DATA key time")?)?;
            x.expect_ok(x.transmit(&apdu(0xDA, 0x00, fingerprint_do, &fingerprint), "PUT DATA fingerprint")?)?;
            Ok(public_key)
        })
    }

    /// Verify the admin PIN, then set a new user PIN and reset its retry counter.
    pub fn reset_user_pin(&self, admin: &Pin, new: &Pin) -> Result<(), Error> {
        let verify = apdu(0x20, 0x00, 0x83, admin.expose().as_bytes());
        let reset = apdu(0x2C, 0x02, 0x81, new.expose().as_bytes());
        self.link.transaction(|x| {
            x.send(&verify, "VERIFY PW3")?.1.pin_check(Who::So, x)?;
            x.send(&reset, "RESET RETRY COUNTER")?.1.pin_check(Who::User, x)
        })
    }
}

/// A slot's algorithm attributes (OpenPGP card 3.4, 4.4.3.9): RSA with a 32-bit exponent
/// in standard import format, or ECDSA with the curve's OID.
fn key_attributes(algorithm: KeyAlgorithm) -> Vec<u8> {
    match algorithm {
        KeyAlgorithm::Rsa2048 => vec![0x01, 0x08, 0x00, 0x00, 0x20, 0x00],
        KeyAlgorithm::Rsa3072 => vec![0x01, 0x0C, 0x00, 0x00, 0x20, 0x00],
        KeyAlgorithm::P256 => vec![0x13, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07],
        KeyAlgorithm::P384 => vec![0x13, 0x2B, 0x81, 0x04, 0x00, 0x22],
    }
}

/// An OpenPGP multiprecision integer (RFC 4880 3.2): its bit count, then its bytes.
fn mpi(value: &[u8]) -> Vec<u8> {
    let start = value.iter().position(|b| *b != 0).unwrap_or(value.len());
    let bytes = &value[start..];
    let bits = bytes.first().map_or(0, |b| (bytes.len() - 1) * 8 + (8 - b.leading_zeros() as usize));
    [&(bits as u16).to_be_bytes()[..], bytes].concat()
}

/// The v4 fingerprint of a public key packet (RFC 4880 12.2): SHA-1 over 0x99, the
/// packet's length and body (version 4, creation time, algorithm, key material).
fn fingerprint_v4(created: u32, algorithm: u8, material: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    let body = [&[0x04][..], &created.to_be_bytes(), &[algorithm], material].concat();
    let mut hash = sha1::Sha1::new();
    hash.update([0x99]);
    hash.update((body.len() as u16).to_be_bytes());
    hash.update(&body);
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::{fingerprint_v4, mpi};

    #[test]
    fn mpis_count_bits_from_the_first_set_one() {
        assert_eq!(mpi(&[0x00, 0x01, 0x00, 0x01]), vec![0x00, 0x11, 0x01, 0x00, 0x01]);
        assert_eq!(mpi(&[0x80]), vec![0x00, 0x08, 0x80]);
        assert_eq!(mpi(&[]), vec![0x00, 0x00]);
    }

    #[test]
    fn a_v4_fingerprint_is_sha1_over_the_public_key_packet() {
        // RFC 4880 12.2 over a fixed packet: 0x99, length 12, version 4, time 0, RSA, n=1 e=3.
        let material = [mpi(&[0x01]), mpi(&[0x03])].concat();
        let expected: [u8; 20] = {
            use sha1::Digest;
            sha1::Sha1::digest([0x99, 0x00, 0x0C, 0x04, 0, 0, 0, 0, 0x01, 0x00, 0x01, 0x01, 0x00, 0x02, 0x03]).into()
        };
        assert_eq!(fingerprint_v4(0, 0x01, &material), expected);
    }
}
