//! The wire contract shared by the client and the registration authority.
//!
//! `cmp`: Lightweight CMP (RFC 9483) messages as the RA handles them: requests parsed
//! from the bytes as received (so their protection is checked over exactly those bytes),
//! password-based MAC protection (RFC 4210 5.1.3.1), and the answers built as DER.
//!
//! `activation`: the activation code's canonical form, the MAC secret on both sides.
//!
//! `workflow` and `refusal`: the RA's JSON API, every body and answer and every refusal,
//! defined once for the RA and the client.
#![forbid(unsafe_code)]

pub mod activation;
pub mod asn1;
pub mod cades;
pub mod cmp;
pub mod crmf;
pub mod mac;
pub mod refusal;
pub mod signature;
pub mod workflow;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Not a well-formed CMP message.
    #[error("malformed CMP message: {reason}")]
    Malformed { reason: String },
    /// The protection algorithm is not one we accept.
    #[error("unsupported protection: {algorithm}")]
    UnsupportedProtection { algorithm: String },
    /// The password-based MAC does not verify (wrong secret, or altered message).
    #[error("message protection does not verify")]
    BadMac,
    /// A signature (proof of possession, or message protection) does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The message carries no protection where one is required.
    #[error("message is not protected")]
    Unprotected,
}
