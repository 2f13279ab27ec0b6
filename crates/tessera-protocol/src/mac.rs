//! Password-based MAC protection (RFC 9481 6.1): PasswordBasedMac (RFC 4210 5.1.3.1) and
//! PBMAC1 (RFC 8018, with PBKDF2), with the hashes and HMACs RFC 9481 lists. Derived keys
//! are zeroized; MACs are compared in constant time (the hmac crate's verify).

use hmac::{Hmac, Mac};
use sha2::Digest;
use zeroize::Zeroizing;

use crate::Error;
use crate::asn1::{self, Tlv};

/// id-PasswordBasedMac, 1.2.840.113533.7.66.13.
pub const OID_PBM: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF6, 0x7D, 0x07, 0x42, 0x0D];
/// id-PBMAC1, 1.2.840.113549.1.5.14, and id-PBKDF2, 1.2.840.113549.1.5.12.
const OID_PBMAC1: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0E];
const OID_PBKDF2: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C];
pub const OID_SHA1: &[u8] = &[0x2B, 0x0E, 0x03, 0x02, 0x1A];
pub const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const OID_SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
/// hmac-sha1 (RFC 3370: 1.3.6.1.5.5.8.1.2; what `openssl cmp` uses by default) and
/// hmacWithSHA1/224/256/384/512 (RFC 8018: 1.2.840.113549.2.7 ..).
const OID_HMAC_SHA1_IPSEC: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x08, 0x01, 0x02];
const OID_HMAC_SHA1: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x07];
pub const OID_HMAC_SHA256: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09];
const OID_HMAC_SHA384: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x0A];
const OID_HMAC_SHA512: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x0B];

/// Iteration counts past this are not supported (each check would cost the RA tens of
/// milliseconds of CPU for anyone who sends one): such a message is answered with badAlg.
/// The secret is a random activation code, not a password a person chose, so a large
/// count buys nothing against guessing it; openssl cmp uses 500.
pub const MAX_ITERATIONS: i64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, data: &[u8]) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        })
    }

    fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    fn of_digest(oid: &[u8]) -> Option<Hash> {
        match oid {
            OID_SHA1 => Some(Hash::Sha1),
            OID_SHA256 => Some(Hash::Sha256),
            OID_SHA384 => Some(Hash::Sha384),
            OID_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn of_hmac(oid: &[u8]) -> Option<Hash> {
        match oid {
            OID_HMAC_SHA1 | OID_HMAC_SHA1_IPSEC => Some(Hash::Sha1),
            OID_HMAC_SHA256 => Some(Hash::Sha256),
            OID_HMAC_SHA384 => Some(Hash::Sha384),
            OID_HMAC_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        match self {
            Hash::Sha1 => run::<Hmac<sha1::Sha1>>(key, data),
            Hash::Sha256 => run::<Hmac<sha2::Sha256>>(key, data),
            Hash::Sha384 => run::<Hmac<sha2::Sha384>>(key, data),
            Hash::Sha512 => run::<Hmac<sha2::Sha512>>(key, data),
        }
    }

    fn hmac_verify(self, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
            let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
            m.update(data);
            m.verify_slice(tag).is_ok()
        }
        match self {
            Hash::Sha1 => run::<Hmac<sha1::Sha1>>(key, data, tag),
            Hash::Sha256 => run::<Hmac<sha2::Sha256>>(key, data, tag),
            Hash::Sha384 => run::<Hmac<sha2::Sha384>>(key, data, tag),
            Hash::Sha512 => run::<Hmac<sha2::Sha512>>(key, data, tag),
        }
    }

    fn pbkdf2(self, secret: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
        let algorithm = match self {
            Hash::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
            Hash::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
            Hash::Sha384 => ring::pbkdf2::PBKDF2_HMAC_SHA384,
            Hash::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        };
        let iterations = std::num::NonZeroU32::new(iterations.max(1)).expect("at least one");
        ring::pbkdf2::derive(algorithm, iterations, salt, secret, out);
    }
}

/// How the MAC key comes from the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kdf {
    /// PasswordBasedMac: BASEKEY = OWF^iterations(secret || salt).
    Pbm { owf: Hash, iterations: u32 },
    /// PBMAC1: PBKDF2 with this PRF.
    Pbkdf2 { prf: Hash, iterations: u32, key_length: usize },
}

/// The password-based MAC parameters of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pbm {
    pub salt: Vec<u8>,
    pub kdf: Kdf,
    pub mac: Hash,
    /// The AlgorithmIdentifier as received, reused to protect the answer.
    pub algorithm: Vec<u8>,
}

fn malformed(reason: &str) -> Error {
    Error::Malformed { reason: reason.to_owned() }
}

fn unsupported(what: &str) -> Error {
    Error::UnsupportedProtection { algorithm: what.to_owned() }
}

/// The OID (content) of an AlgorithmIdentifier's TLV, and its parameters if any.
fn algorithm<'a>(t: &Tlv<'a>) -> Result<(&'a [u8], Option<Tlv<'a>>), Error> {
    if t.tag != 0x30 {
        return Err(malformed("AlgorithmIdentifier is not a SEQUENCE"));
    }
    let fields = asn1::children(t.content)?;
    let mut it = fields.iter();
    let oid = asn1::expect(&mut it, 0x06, "algorithm")?;
    let params = it.next().copied();
    asn1::end(&mut it, "AlgorithmIdentifier")?;
    Ok((oid.content, params))
}

/// An iteration count: at least one (else malformed), at most [`MAX_ITERATIONS`] (else
/// unsupported, answered with badAlg).
fn iterations(t: &Tlv<'_>) -> Result<u32, Error> {
    match asn1::integer_value(t.content) {
        Some(n) if (1..=MAX_ITERATIONS).contains(&n) => Ok(n as u32),
        Some(n) if n > MAX_ITERATIONS => Err(unsupported("iteration count above 100000")),
        // An INTEGER too long for i64 is above the cap too.
        None if t.content.first().is_some_and(|b| b & 0x80 == 0) && t.content.len() > 8 => {
            Err(unsupported("iteration count above 100000"))
        }
        _ => Err(malformed("iteration count out of range")),
    }
}

/// Whether a protectionAlg is password-based (Ok(Some)), something else (Ok(None): a
/// signature, or unknown), or a password-based MAC with parameters this RA does not
/// accept (Err(UnsupportedProtection), answered with badAlg).
pub fn parse(alg_der: &[u8]) -> Result<Option<Pbm>, Error> {
    let alg = asn1::read_one(alg_der)?;
    let (oid, params) = algorithm(&alg)?;
    let params = || params.filter(|p| p.tag == 0x30).ok_or_else(|| malformed("MAC parameters"));
    match oid {
        OID_PBM => {
            let fields = asn1::children(params()?.content)?;
            let mut it = fields.iter();
            let salt = asn1::expect(&mut it, 0x04, "PBM salt")?;
            let (owf, _) = algorithm(&asn1::expect(&mut it, 0x30, "PBM owf")?)?;
            let count = iterations(&asn1::expect(&mut it, 0x02, "PBM iterationCount")?)?;
            let (mac, _) = algorithm(&asn1::expect(&mut it, 0x30, "PBM mac")?)?;
            asn1::end(&mut it, "PBMParameter")?;
            let owf = Hash::of_digest(owf).ok_or_else(|| unsupported("PBM one-way function"))?;
            let mac = Hash::of_hmac(mac).ok_or_else(|| unsupported("PBM MAC"))?;
            Ok(Some(Pbm {
                salt: salt.content.to_vec(),
                kdf: Kdf::Pbm { owf, iterations: count },
                mac,
                algorithm: alg.raw.to_vec(),
            }))
        }
        OID_PBMAC1 => {
            let fields = asn1::children(params()?.content)?;
            let mut it = fields.iter();
            let (kdf, kdf_params) = algorithm(&asn1::expect(&mut it, 0x30, "PBMAC1 keyDerivationFunc")?)?;
            let (scheme, _) = algorithm(&asn1::expect(&mut it, 0x30, "PBMAC1 messageAuthScheme")?)?;
            asn1::end(&mut it, "PBMAC1-params")?;
            if kdf != OID_PBKDF2 {
                return Err(unsupported("PBMAC1 key derivation"));
            }
            let mac = Hash::of_hmac(scheme).ok_or_else(|| unsupported("PBMAC1 MAC"))?;
            let kdf_params = kdf_params.filter(|p| p.tag == 0x30).ok_or_else(|| malformed("PBKDF2-params"))?;
            let fields = asn1::children(kdf_params.content)?;
            let mut it = fields.iter().peekable();
            let salt = it.next().filter(|t| t.tag == 0x04).ok_or_else(|| malformed("PBKDF2 salt"))?;
            let count = iterations(it.next().filter(|t| t.tag == 0x02).ok_or_else(|| malformed("PBKDF2 count"))?)?;
            let key_length = match asn1::optional(&mut it, 0x02) {
                Some(l) => asn1::integer_value(l.content)
                    .filter(|n| (16..=64).contains(n))
                    .ok_or_else(|| malformed("PBKDF2 keyLength"))? as usize,
                None => mac.len(),
            };
            // prf DEFAULT hmacWithSHA1.
            let prf = match asn1::optional(&mut it, 0x30) {
                Some(p) => Hash::of_hmac(algorithm(&p)?.0).ok_or_else(|| unsupported("PBKDF2 PRF"))?,
                None => Hash::Sha1,
            };
            asn1::end(&mut it, "PBKDF2-params")?;
            Ok(Some(Pbm {
                salt: salt.content.to_vec(),
                kdf: Kdf::Pbkdf2 { prf, iterations: count, key_length },
                mac,
                algorithm: alg.raw.to_vec(),
            }))
        }
        _ => Ok(None),
    }
}

impl Pbm {
    fn key(&self, secret: &[u8]) -> Zeroizing<Vec<u8>> {
        match self.kdf {
            Kdf::Pbm { owf, iterations } => {
                let mut key = Zeroizing::new([secret, &self.salt].concat());
                for _ in 0..iterations {
                    key = owf.digest(&key);
                }
                key
            }
            Kdf::Pbkdf2 { prf, iterations, key_length } => {
                let mut key = Zeroizing::new(vec![0u8; key_length]);
                prf.pbkdf2(secret, &self.salt, iterations, &mut key);
                key
            }
        }
    }

    /// The MAC over `data` with the secret.
    pub fn mac(&self, secret: &[u8], data: &[u8]) -> Vec<u8> {
        self.mac.hmac(&self.key(secret), data)
    }

    /// Whether `tag` is the MAC over `data` with the secret (constant time).
    pub fn verify(&self, secret: &[u8], data: &[u8], tag: &[u8]) -> bool {
        self.mac.hmac_verify(&self.key(secret), data, tag)
    }

    /// PasswordBasedMac with SHA-256 and HMAC-SHA256 (RFC 9481's mandatory choice).
    pub fn sha256(salt: &[u8], iterations: u32) -> Pbm {
        use crate::asn1::{integer, octet_string, sequence, tlv};
        let params = sequence(&[
            octet_string(salt),
            sequence(&[tlv(0x06, OID_SHA256)]),
            integer(iterations as i64),
            sequence(&[tlv(0x06, OID_HMAC_SHA256)]),
        ]);
        Pbm {
            salt: salt.to_vec(),
            kdf: Kdf::Pbm { owf: Hash::Sha256, iterations },
            mac: Hash::Sha256,
            algorithm: sequence(&[tlv(0x06, OID_PBM), params]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asn1::{integer, octet_string, sequence, tlv};

    #[test]
    fn pbm_and_pbmac1_derive_their_keys_and_verify() {
        let pbm = Pbm::sha256(b"0123456789abcdef", 500);
        let parsed = parse(&pbm.algorithm).unwrap().unwrap();
        assert_eq!(parsed, pbm);
        let tag = pbm.mac(b"secret", b"data");
        assert!(pbm.verify(b"secret", b"data", &tag));
        assert!(!pbm.verify(b"secreT", b"data", &tag));
        assert!(!pbm.verify(b"secret", b"data", &tag[..31]));

        // PBMAC1 with PBKDF2-HMAC-SHA256 and HMAC-SHA256 (RFC 9481 6.1.2).
        let kdf = sequence(&[
            tlv(0x06, OID_PBKDF2),
            sequence(&[
                octet_string(b"salt"),
                integer(1000),
                integer(32),
                sequence(&[tlv(0x06, OID_HMAC_SHA256), vec![0x05, 0x00]]),
            ]),
        ]);
        let alg = sequence(&[
            tlv(0x06, OID_PBMAC1),
            sequence(&[kdf, sequence(&[tlv(0x06, OID_HMAC_SHA256), vec![0x05, 0x00]])]),
        ]);
        let p = parse(&alg).unwrap().unwrap();
        assert_eq!(p.kdf, Kdf::Pbkdf2 { prf: Hash::Sha256, iterations: 1000, key_length: 32 });
        // The key is PBKDF2's (RFC 7914 test vector shape: checked against ring's own).
        let mut key = [0u8; 32];
        Hash::Sha256.pbkdf2(b"secret", b"salt", 1000, &mut key);
        assert_eq!(p.mac(b"secret", b"m"), Hash::Sha256.hmac(&key, b"m"));
    }

    #[test]
    fn unknown_owfs_and_macs_are_unsupported_not_signatures() {
        let md5 = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x05];
        let params = sequence(&[
            octet_string(b"s"),
            sequence(&[tlv(0x06, &md5)]),
            integer(10),
            sequence(&[tlv(0x06, OID_HMAC_SHA256)]),
        ]);
        let alg = sequence(&[tlv(0x06, OID_PBM), params]);
        assert!(matches!(parse(&alg), Err(Error::UnsupportedProtection { .. })));
        // Not password-based at all: for the signature checks to decide.
        let ecdsa = sequence(&[tlv(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02])]);
        assert_eq!(parse(&ecdsa), Ok(None));
        // Parameters out of order: malformed.
        let swapped = sequence(&[
            tlv(0x06, OID_PBM),
            sequence(&[integer(10), octet_string(b"s"), sequence(&[tlv(0x06, OID_SHA256)])]),
        ]);
        assert!(matches!(parse(&swapped), Err(Error::Malformed { .. })));
    }
}
