//! The requests [pratiche] the RA knows, and where each one's issuance stands.
//!
//! This first cut reads registered requests from the configuration file and keeps state in
//! memory; the database, the operator API and the holder OTP flow come with the rest of
//! the RA (see the README).

use std::collections::HashMap;

use serde::Deserialize;
use zeroize::Zeroizing;

/// Certificate profiles from DOMAIN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// The qualified signature certificate.
    Signature,
    /// The CNS authentication certificate.
    CnsAuthentication,
}

/// The holder as registered by the operator: the certificate's subject comes from here,
/// never from the CSR.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    pub given_name: String,
    pub surname: String,
    /// Codice fiscale (serialNumber TINIT-<CF>).
    pub cf: String,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisteredRequest {
    /// The CMP reference (senderKID) of this request.
    pub reference: String,
    /// The activation code: the CMP shared secret. Test configurations only: the RA's
    /// database will keep it as issued to the holder, never in a file.
    pub activation_code: String,
    pub holder: Holder,
    pub profile: Profile,
}

impl std::fmt::Debug for RegisteredRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredRequest")
            .field("reference", &self.reference)
            .field("holder", &self.holder)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

/// Where a request's issuance stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issuance {
    Waiting,
    /// Issued in transaction `transaction_id`, waiting for certConf with this hash.
    Issued {
        transaction_id: Vec<u8>,
        cert_hash: Vec<u8>,
    },
    Confirmed,
}

/// A certificate's lifecycle (DOMAIN.md): active, suspended (reversible), revoked (final).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Active,
    Suspended { since: time::OffsetDateTime },
    Revoked { at: time::OffsetDateTime, reason: u8 },
}

/// A suspension that lasts longer than this ends in revocation.
pub const SUSPENSION_LIMIT_DAYS: i64 = 120;

impl Lifecycle {
    /// The state now: a suspension past its limit has become a revocation.
    pub fn now(self, now: time::OffsetDateTime) -> Lifecycle {
        match self {
            Lifecycle::Suspended { since } if now - since > time::Duration::days(SUSPENSION_LIMIT_DAYS) => {
                Lifecycle::Revoked { at: since + time::Duration::days(SUSPENSION_LIMIT_DAYS), reason: 0 }
            }
            other => other,
        }
    }
}

pub struct Entry {
    pub request: RegisteredRequest,
    pub secret: Zeroizing<Vec<u8>>,
    pub issuance: Issuance,
    /// Every certificate issued for this request (DER), oldest first.
    pub certificates: Vec<Vec<u8>>,
}

#[derive(Default)]
pub struct Registry {
    by_reference: HashMap<Vec<u8>, Entry>,
    /// Lifecycle of every issued certificate, by serial number (INTEGER content).
    pub lifecycle: HashMap<Vec<u8>, Lifecycle>,
}

impl Registry {
    pub fn new(requests: Vec<RegisteredRequest>) -> Registry {
        let by_reference = requests
            .into_iter()
            .map(|r| {
                let secret = Zeroizing::new(r.activation_code.as_bytes().to_vec());
                (
                    r.reference.as_bytes().to_vec(),
                    Entry { request: r, secret, issuance: Issuance::Waiting, certificates: Vec::new() },
                )
            })
            .collect();
        Registry { by_reference, lifecycle: HashMap::new() }
    }

    pub fn get_mut(&mut self, reference: &[u8]) -> Option<&mut Entry> {
        self.by_reference.get_mut(reference)
    }

    /// The request a certificate was issued for.
    pub fn by_certificate(&mut self, certificate: &[u8]) -> Option<&mut Entry> {
        self.by_reference.values_mut().find(|e| e.certificates.iter().any(|c| c == certificate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspension_over_120_days_is_a_revocation() {
        let t0 = time::OffsetDateTime::now_utc() - time::Duration::days(200);
        let suspended = Lifecycle::Suspended { since: t0 };
        assert_eq!(suspended.now(t0 + time::Duration::days(119)), suspended);
        assert!(matches!(suspended.now(t0 + time::Duration::days(121)), Lifecycle::Revoked { .. }));
        assert_eq!(Lifecycle::Active.now(t0), Lifecycle::Active);
    }
}
