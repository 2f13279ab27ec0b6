//! The counter: an operator signs in to the app with their account (name, password,
//! one-time code; `POST /api/v1/operator/session`) and gets a short-lived session the RA
//! can end; with it the app arms a request of the operator's office by its reference,
//! without the holder's activation code (`…/requests/{reference}/counter`), and fetches a
//! blank card's secrets (`…/requests/{reference}/personalisation`).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::HolderName;

/// `POST /api/v1/operator/session`: the operator's credentials.
#[derive(Serialize, Deserialize)]
pub struct SignIn {
    pub name: String,
    pub password: Zeroizing<String>,
    /// The one-time code the operator's authenticator shows now.
    pub code: Zeroizing<String>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn").field("name", &self.name).finish_non_exhaustive()
    }
}

/// An operator's session in the app: who, in which office and role, and how long it
/// lasts. The bearer `token` is in the sign-in's answer only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSession {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Zeroizing<String>>,
    pub name: String,
    pub office: String,
    /// operator or supervisor.
    pub role: String,
    /// The session ends after this many seconds unused.
    pub idle_seconds: i64,
    /// ... and in this many seconds in any case.
    pub expires_in: i64,
}

impl std::fmt::Debug for OperatorSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorSession")
            .field("name", &self.name)
            .field("office", &self.office)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// `GET …/requests/{reference}/counter`: a request of the operator's office ready to be
/// activated at the counter, shown before anything is armed. `POST` arms it and adds
/// `secret`, the one-time CMP secret of this arming (the holder's activation code stays
/// theirs, for activating at home).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterRequest {
    pub reference: String,
    pub holder: HolderName,
    /// signature, cns-authentication or cns+signature.
    pub profile: String,
    pub office: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for CounterRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CounterRequest")
            .field("reference", &self.reference)
            .field("profile", &self.profile)
            .field("office", &self.office)
            .finish_non_exhaustive()
    }
}
