//! Operator accounts: roles, passwords (argon2id, the OWASP parameters) and one-time codes
//! (TOTP, RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, so any authenticator app works).
//! The values and rules only; accounts are kept by the store, signed in by the console.

use zeroize::Zeroizing;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Registers, identifies, hands over, changes lifecycles: in their office.
    Operator,
    /// An operator who also approves renewals and manages the office's accounts.
    Supervisor,
    /// The CA's back office: verifies the paperwork of every office.
    Verifier,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Operator, Role::Supervisor, Role::Verifier];

    pub fn name(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Supervisor => "supervisor",
            Role::Verifier => "verifier",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Works on an office's holders, requests and certificates.
    pub fn serves_office(self) -> bool {
        matches!(self, Role::Operator | Role::Supervisor)
    }
}

/// Argon2id with the OWASP parameters (19 MiB, two passes, one lane).
fn argon2() -> argon2::Argon2<'static> {
    let params = argon2::Params::new(19_456, 2, 1, None).unwrap_or_default();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// How long an API token works, from its creation.
pub const TOKEN_DAYS: i64 = 180;

/// At most this many argon2id computations at once (each takes its memory, about 19
/// MiB): a flood of sign-ins queues instead of exhausting the machine's memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// [`hash_password`] off the async workers, within the limit of computations at once.
pub async fn hash_password_off(password: zeroize::Zeroizing<String>) -> Option<String> {
    let _turn = HASHING.acquire().await.ok()?;
    tokio::task::spawn_blocking(move || hash_password(&password)).await.ok().flatten()
}

/// [`password_matches`] off the async workers, within the limit of computations at once.
pub async fn password_matches_off(phc: String, password: zeroize::Zeroizing<String>) -> bool {
    let Ok(_turn) = HASHING.acquire().await else { return false };
    tokio::task::spawn_blocking(move || password_matches(&phc, &password)).await.unwrap_or(false)
}

/// A password's PHC string (`$argon2id$…`, its salt in it); None without randomness.
pub fn hash_password(password: &str) -> Option<String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).ok().map(|h| h.to_string())
}

/// Whether `password` is the one `phc` was made from (in constant time).
pub fn password_matches(phc: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A PHC string of a random password, for work that must look like a check when the
/// account does not exist (no one learns which names exist from the time taken).
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&new_password().unwrap_or_default()).unwrap_or_default())
}

/// What a new or reset account is handed once: a one-time password and the TOTP
/// enrolment (the secret, and its URI for an authenticator app). Kept only as a hash and
/// sealed.
pub struct Credentials {
    pub password: Zeroizing<String>,
    pub password_hash: String,
    pub totp_secret: Zeroizing<Vec<u8>>,
    pub otpauth: Zeroizing<String>,
}

/// The issuer authenticator apps show beside the account's name.
pub const ISSUER: &str = "Tessera RA";

/// New credentials for the account `name`; None without randomness.
pub fn credentials(name: &str) -> Option<Credentials> {
    let password = new_password()?;
    let password_hash = hash_password(&password)?;
    let totp_secret = totp::new_secret()?;
    let otpauth = Zeroizing::new(totp::uri(ISSUER, name, &totp_secret));
    Some(Credentials { password, password_hash, totp_secret, otpauth })
}

/// A one-time password to hand to a new or reset account: 16 characters without
/// look-alikes, changed at the first sign-in.
pub fn new_password() -> Option<Zeroizing<String>> {
    crate::codes::random_chars(16).map(Zeroizing::new)
}

/// Why a new password is refused, or None: at least 12 characters, not the account's
/// name, not all one character class.
pub fn password_refused(name: &str, password: &str) -> Option<&'static str> {
    let chars = password.chars().count();
    if chars < 12 {
        return Some("too-short");
    }
    if chars > 256 {
        return Some("too-long");
    }
    if password.to_lowercase().contains(&name.to_lowercase()) {
        return Some("contains-name");
    }
    let classes = [char::is_lowercase, char::is_uppercase, |c: char| c.is_ascii_digit()]
        .iter()
        .filter(|f| password.chars().any(f))
        .count()
        + usize::from(password.chars().any(|c| !c.is_alphanumeric()));
    if classes < 2 {
        return Some("too-simple");
    }
    None
}

/// TOTP (RFC 6238 over RFC 4226): 6 digits, 30-second steps, HMAC-SHA-1.
pub mod totp {
    /// Seconds per step.
    pub const STEP: i64 = 30;
    /// Steps either side of now (and of the device's drift) a code is accepted at.
    pub const WINDOW: i64 = 1;
    /// Steps either side searched when an operator resynchronises a drifted device.
    pub const RESYNC_WINDOW: i64 = 20;

    /// A new secret: 20 random bytes (RFC 4226's recommended 160 bits).
    pub fn new_secret() -> Option<zeroize::Zeroizing<Vec<u8>>> {
        let mut secret = zeroize::Zeroizing::new(vec![0u8; 20]);
        getrandom::getrandom(&mut secret).ok()?;
        Some(secret)
    }

    /// The step a Unix time falls in.
    pub fn step(unix: i64) -> i64 {
        unix.div_euclid(STEP)
    }

    /// The code at `step`.
    pub fn code(secret: &[u8], step: i64) -> u32 {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
        let mac = ring::hmac::sign(&key, &step.to_be_bytes());
        let h = mac.as_ref();
        let o = (h[19] & 0x0f) as usize;
        (u32::from_be_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]) & 0x7fff_ffff) % 1_000_000
    }

    /// The step within `around ± window` at which `typed` is the code, if any. The typed
    /// code is compared in constant time; each candidate step is computed whatever matched.
    pub fn matching_step(secret: &[u8], typed: &str, around: i64, window: i64) -> Option<i64> {
        let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut found = None;
        for s in (around - window)..=(around + window) {
            let expected = format!("{:06}", code(secret, s));
            if bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), typed.as_bytes())) && found.is_none() {
                found = Some(s);
            }
        }
        found
    }

    /// The enrolment URI an authenticator app reads (Key Uri Format): the issuer and the
    /// account's name, the secret in base32.
    pub fn uri(issuer: &str, account: &str, secret: &[u8]) -> String {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
            enc(issuer),
            enc(account),
            data_encoding::BASE32_NOPAD.encode(secret),
            enc(issuer)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_gives_the_rfc_6238_test_vectors() {
        // RFC 6238 appendix B, SHA-1, the 20-byte secret "12345678901234567890", 8 digits
        // there: their last six are ours.
        let secret = b"12345678901234567890";
        for (t, eight) in [(59, 94287082), (1111111109, 7081804), (1111111111, 14050471), (1234567890, 89005924)] {
            assert_eq!(totp::code(secret, totp::step(t)), eight % 1_000_000, "T = {t}");
        }
        let now = totp::step(1111111111);
        assert_eq!(totp::matching_step(secret, "050471", now, 1), Some(now));
        assert_eq!(totp::matching_step(secret, "081804", now, 1), Some(now - 1), "the step before");
        assert_eq!(totp::matching_step(secret, "000000", now, 1), None);
        assert_eq!(totp::matching_step(secret, "05047", now, 1), None);
        let uri = totp::uri("Tessera RA", "odr mario", secret);
        assert_eq!(
            uri,
            "otpauth://totp/Tessera%20RA:odr%20mario?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Tessera%20RA\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn passwords_are_argon2id_and_checked() {
        let phc = hash_password("Correct horse 42").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(password_matches(&phc, "Correct horse 42"));
        assert!(!password_matches(&phc, "correct horse 42"));
        assert!(!password_matches("not a hash", "x"));
        assert_eq!(password_refused("mario", "short"), Some("too-short"));
        assert_eq!(password_refused("mario", "xxMARIOxx12345"), Some("contains-name"));
        assert_eq!(password_refused("anna", "abcdefghijklm"), Some("too-simple"));
        assert_eq!(password_refused("anna", "Sole di marzo 2027"), None);
    }
}
