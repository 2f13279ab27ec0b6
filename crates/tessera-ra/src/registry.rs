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
        Registry { by_reference }
    }

    pub fn get_mut(&mut self, reference: &[u8]) -> Option<&mut Entry> {
        self.by_reference.get_mut(reference)
    }

    /// The request a certificate was issued for.
    pub fn by_certificate(&mut self, certificate: &[u8]) -> Option<&mut Entry> {
        self.by_reference.values_mut().find(|e| e.certificates.iter().any(|c| c == certificate))
    }
}
