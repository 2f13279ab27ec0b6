//! tessera-ra, the reference registration authority and CA: Lightweight CMP (RFC 9483),
//! the JSON API for holders and operators, CRL and OCSP. The binary (`main.rs`) reads the
//! configuration and serves [`app::app`].
//!
//! Layers, each using only those below it:
//! - values and rules: `registry` (requests, holders, lifecycle), `accounts` (operators'
//!   roles, passwords, one-time codes), `actor` (who acts, in which office), `codes` (activation codes
//!   and other secrets made and sealed), `personalisation` (the card's PIN and PUK),
//!   `masked` (contacts as shown), `renewal_form`;
//! - parts: `ca` (and `hsm`), `gateway` (SMS and e-mail), `limits`, `config`, `store`;
//! - the application state, `state`, and how it starts, `startup`;
//! - what operators do, the same through the API and the console: `credentials` (signing
//!   in), `registration`,
//!   `paperwork` (verification), `forms` (printable PDFs, `pdf`);
//! - what answers clients: `endpoint` (CMP), `ocsp`, `api` (JSON), `notices` (e-mails due);
//! - `app`, the router; `admin`, the administrator's commands.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod actor;
pub mod admin;
pub mod api;
pub mod app;
pub mod ca;
pub mod cardless_change;
pub mod codes;
pub mod config;
pub mod console;
pub mod credentials;
pub mod documents;
pub mod endpoint;
pub mod error;
pub mod forms;
pub mod gateway;
pub mod hsm;
pub mod lifecycle;
pub mod limits;
pub mod masked;
pub mod notices;
pub mod ocsp;
pub mod office_accounts;
pub mod paperwork;
pub mod pdf;
pub mod personalisation;
pub mod registration;
pub mod registry;
pub mod remote_identification;
pub mod renewal_decisions;
pub mod renewal_form;
pub mod startup;
pub mod state;
pub mod store;
