//! The checks before a renewal as the front ends see them: each a verdict with a message
//! id and its parameters (`diag-<check>-<outcome>` in locales/), and the report that
//! gathers them for a card. Value types only: the checks are made in
//! [`crate::renewal::diagnostics`].

use std::collections::BTreeMap;

use serde::Serialize;
use tessera_pki::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

/// One check: what was looked at, the verdict, and the message that says why and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(rename = "DiagnosticCheck")]
pub struct Check {
    /// card-model, middleware, pin, card-in-use, middleware-cache, ra, decryption-key;
    /// per certificate: renewal-window, key-algorithm, private-key, room, ra-renewal.
    #[ts(type = "string")]
    pub check: &'static str,
    pub verdict: Verdict,
    /// The message id (locales/): `diag-<check>-<outcome>`.
    pub code: String,
    pub params: BTreeMap<String, String>,
}

pub(crate) fn check(check: &'static str, verdict: Verdict, outcome: &str, params: &[(&str, String)]) -> Check {
    Check {
        check,
        verdict,
        code: format!("diag-{check}-{outcome}"),
        params: params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    }
}

/// The checks of one certificate that renewal would replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateReport {
    pub uri: String,
    pub subject: String,
    pub serial: String,
    pub role: Role,
    pub not_after: String,
    pub days_left: i64,
    pub checks: Vec<Check>,
}

impl CertificateReport {
    /// The worst verdict of the card's and this certificate's checks.
    pub fn verdict(&self, card: &[Check]) -> Verdict {
        card.iter().chain(&self.checks).map(|c| c.verdict).max().unwrap_or(Verdict::Pass)
    }
}

/// The whole report: the card's checks, then each renewable certificate's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub token: String,
    pub label: String,
    /// The catalog's name for the card, when it knows it.
    pub card: Option<String>,
    pub checks: Vec<Check>,
    pub certificates: Vec<CertificateReport>,
}

impl Report {
    /// Whether some certificate can be renewed (no check of the card or of it fails).
    pub fn renewable(&self) -> bool {
        self.certificates.iter().any(|c| c.verdict(&self.checks) != Verdict::Fail)
    }
}
