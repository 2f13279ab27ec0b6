//! Tessera's use cases, written once for the CLI and the window: a flow asks through a
//! [`prompter::Prompter`], reports [`prompter::Progress`], works on the card through
//! `tessera_core::card` (which hides the card kind) and on the network through [`ra`]
//! (Lightweight CMP and the RA's workflow API, reqwest over rustls), and journals each
//! step so that an interrupted run resumes.
#![cfg_attr(not(test), forbid(unsafe_code))]

pub mod activation;
pub mod chain;
pub mod checks;
pub mod error;
pub mod journal;
pub mod link;
pub mod operator;
pub mod prompter;
pub mod ra;
pub mod renewal;
pub mod secrets;
pub mod seen;
pub mod settings;
pub mod support;

pub use error::{Error, Result};
/// The refusals of the RA's workflow API, as the shared contract types them.
pub use tessera_protocol::refusal::Refusal;
