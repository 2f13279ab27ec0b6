//! Renewal (DOMAIN.md, Renewal): the diagnostics that come before any PIN.

pub mod diagnostics;
