//! The RA's JSON workflow API (`/api/v1`): every request body and answer, defined once
//! here and used by both the RA and the client, for what CMP does not carry. Refusals are
//! [`crate::refusal::Refusal`].
//!
//! - [`activation`]: the holder arms a request (activation code + tax code, then the SMS
//!   OTP), or an operator does at the counter; the card's PIN and PUK for a blank card.
//! - [`renewal`]: whether a certificate can be renewed, its renewal request, the form and
//!   contact changes signed with the expiring key, a fixed slot's overwrite.
//! - [`operator`]: registration, requests, codes, handover, lifecycle, audit.
//! - [`counter`]: the operator's session in the app, and arming a request by reference.

pub mod activation;
pub mod counter;
pub mod operator;
pub mod renewal;

/// Whose request it is, as the RA registered it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HolderName {
    pub given_name: String,
    pub surname: String,
}
