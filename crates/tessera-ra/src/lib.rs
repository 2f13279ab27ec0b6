//! tessera-ra, the reference registration authority and CA: Lightweight CMP (RFC 9483),
//! the operator and holder APIs, CRL and OCSP. The binary (`main.rs`) reads the
//! configuration and serves [`app::app`].

pub mod activation;
pub mod app;
pub mod ca;
pub mod codes;
pub mod endpoint;
pub mod error;
pub mod gateway;
pub mod hsm;
pub mod limits;
pub mod notices;
pub mod ocsp;
pub mod operator;
pub mod personalisation;
pub mod problem;
pub mod registry;
pub mod renewal;
pub mod state;
pub mod store;
