//! The RA's configuration file (`ra.toml`): every section's type, read strictly (a
//! misspelt key or value stops the RA, naming the file). Handlers and the store never read
//! it: the binary builds the application state from it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::registry::{RegisteredRequest, RenewalPolicy};

/// Holder API calls allowed per client address at once and a minute (guessing codes is
/// slow; wrong guesses are also failures).
pub const CALLS_PER_MINUTE: u32 = 30;
/// Failures allowed per client address at once, and a minute.
pub const FAILURES_PER_MINUTE: u32 = 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default = "default_days")]
    pub validity_days: i64,
    /// Where to publish the CA certificates (PEM: issuing CA, then root), for clients.
    pub ca_certificate: Option<PathBuf>,
    /// Where the CA key (ca.key, owner-only) and certificate (ca.pem) and the database live;
    /// default: a `tessera-ra` directory beside the configuration.
    pub state_dir: Option<PathBuf>,
    /// The database: a SQLite file path (default `<state_dir>/tessera-ra.sqlite`) or a
    /// sqlx URL (`sqlite::memory:`, `postgres://…`).
    pub database: Option<String>,
    /// The RA's address as clients see it; the CRL URL in certificates is `<public_url>/crl`.
    /// Defaults to http://<listen address>.
    pub public_url: Option<String>,
    #[serde(default, rename = "request")]
    pub requests: Vec<RegisteredRequest>,
    /// Operator API bearer tokens (deprecated: accounts with their own tokens replace them).
    #[serde(default, rename = "operator")]
    pub operators: Vec<OperatorToken>,
    #[serde(default)]
    pub gateway: Gateway,
    /// Serve HTTPS (required on any address but loopback).
    pub tls: Option<Tls>,
    /// "automatic" (default) or "approval": renewals then need an operator's approval.
    #[serde(default)]
    pub renewal_policy: RenewalPolicy,
    /// Renewal: `form = "required"` (default: kur waits for the renewal form signed with
    /// the expiring key) or `"optional"`, and the `contract` (`version`, `text`) it accepts.
    #[serde(default)]
    pub renewal: RenewalSettings,
    /// The issuing CA's key (a PKCS#8 file or a `pkcs11:` URI for an HSM) and certificate.
    #[serde(default)]
    pub ca: crate::ca::CaSource,
    /// How long an SMS code is good for, and how soon another may be sent.
    #[serde(default)]
    pub otp: OtpTimes,
    /// CMP transactions.
    #[serde(default)]
    pub cmp: CmpTimes,
    /// Rate limits per client address.
    #[serde(default)]
    pub limits: Limits,
    /// The CA's own certificate policy (an OID, in every end-entity certificate besides
    /// QCP-n-qscd in qualified ones). None by default: a CA has to have one of its own.
    pub certificate_policy: Option<String>,
    /// The registration office's console.
    #[serde(default)]
    pub console: ConsoleSettings,
}

/// `[console]`: how long a session lasts idle and at most, how long a signed-in operator
/// waits after five wrong sign-ins (doubling each five more, at most an hour).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: i64,
    #[serde(default = "default_session_hours")]
    pub session_hours: i64,
    #[serde(default = "default_wrong_code_wait")]
    pub wrong_sign_in_wait_seconds: i64,
    /// Domains of certified-mail [PEC] providers, refused as a holder's e-mail (besides
    /// any domain with a `pec`, `legalmail`, `postacert`, `cert` label).
    #[serde(default)]
    pub pec_domains: Vec<String>,
    /// Uploads: PDF, JPEG or PNG, at most this many bytes each and this many files per
    /// document asked (a scan of several pages).
    #[serde(default = "default_upload_bytes")]
    pub upload_max_bytes: usize,
    #[serde(default = "default_uploads")]
    pub uploads_per_step: usize,
    /// How long documents are kept (days).
    #[serde(default = "default_retention")]
    pub retention_days: i64,
    /// The paper originals reach the CA within this many days of verification, or the
    /// certificates are suspended; a reminder goes this many days before.
    #[serde(default = "default_originals")]
    pub originals_days: i64,
    #[serde(default = "default_originals_reminder")]
    pub originals_reminder_days: i64,
    /// Contact changes without the card the public page starts per hour, from everyone
    /// (each sends an e-mail and an SMS): past it the page asks to come back later.
    #[serde(default = "default_contact_changes_per_hour")]
    pub contact_changes_per_hour: i64,
    /// Remote identification: the CAs (PEM, one file) whose certificates may sign a
    /// request form in the holder's stead (qualified signature or CNS cards); without it
    /// only in-person identification is offered. Relative to this file.
    #[serde(default)]
    pub remote_trust_anchors: Option<PathBuf>,
    /// Where holders download the desktop app (an https:// or http:// page): linked from
    /// the console's home page for the office to hand on.
    #[serde(default)]
    pub app_download_url: Option<String>,
}

fn default_contact_changes_per_hour() -> i64 {
    60
}

fn default_upload_bytes() -> usize {
    4 * 1024 * 1024
}

fn default_uploads() -> usize {
    3
}

fn default_retention() -> i64 {
    20 * 365
}

fn default_originals() -> i64 {
    30
}

fn default_originals_reminder() -> i64 {
    7
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            idle_minutes: default_idle_minutes(),
            session_hours: default_session_hours(),
            wrong_sign_in_wait_seconds: default_wrong_code_wait(),
            pec_domains: Vec::new(),
            upload_max_bytes: default_upload_bytes(),
            uploads_per_step: default_uploads(),
            retention_days: default_retention(),
            originals_days: default_originals(),
            originals_reminder_days: default_originals_reminder(),
            contact_changes_per_hour: default_contact_changes_per_hour(),
            remote_trust_anchors: None,
            app_download_url: None,
        }
    }
}

fn default_idle_minutes() -> i64 {
    15
}

fn default_session_hours() -> i64 {
    10
}

impl Config {
    /// Read `path`; the error names the file.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The state directory: as configured, else `tessera-ra` beside the configuration.
    pub fn state_dir(&self, path: &Path) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default().join("tessera-ra"))
    }

    /// The database URL: as configured, else the SQLite file in the state directory.
    pub fn database(&self, path: &Path) -> String {
        self.database.clone().unwrap_or_else(|| self.state_dir(path).join("tessera-ra.sqlite").display().to_string())
    }
}

/// How long an OTP is good for, and how soon another may be sent (`[otp]`; 300 and 30
/// seconds by default: test beds shorten them).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpTimes {
    #[serde(default = "default_ttl")]
    pub ttl_seconds: i64,
    #[serde(default = "default_resend")]
    pub resend_after_seconds: i64,
}

impl Default for OtpTimes {
    fn default() -> Self {
        OtpTimes { ttl_seconds: default_ttl(), resend_after_seconds: default_resend() }
    }
}

/// How long a certificate may wait for its certConf before it is revoked (seconds; 600
/// by default), and how long a reference's MAC checks wait after five wrong codes (60 by
/// default, doubling each five more).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmpTimes {
    #[serde(default = "default_confirm_seconds")]
    pub confirm_seconds: i64,
    #[serde(default = "default_wrong_code_wait")]
    pub wrong_code_wait_seconds: i64,
}

impl Default for CmpTimes {
    fn default() -> Self {
        CmpTimes { confirm_seconds: default_confirm_seconds(), wrong_code_wait_seconds: default_wrong_code_wait() }
    }
}

/// Per client address: holder API calls, and failures (wrong codes and sessions, refused
/// CMP messages), each at once and a minute (30 and 10 by default).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default = "default_calls")]
    pub calls_per_minute: u32,
    #[serde(default = "default_failures")]
    pub failures_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { calls_per_minute: CALLS_PER_MINUTE, failures_per_minute: FAILURES_PER_MINUTE }
    }
}

/// TLS: a certificate for these names from the RA's own issuing CA (clients trust its
/// root), or a certificate and key from files (PEM).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    #[serde(default)]
    pub names: Vec<String>,
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Where SMS and e-mail go besides the outbox.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// An SMS provider's webhook (http(s) URL): POST {"channel", "to", "text"}.
    pub sms_webhook: Option<String>,
    /// An e-mail provider's webhook: POST {"channel", "to", "subject", "text"}.
    pub email_webhook: Option<String>,
}

/// An operator API user of the configuration file: the bearer token is kept as its
/// SHA-256 only.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorToken {
    pub name: String,
    pub token_sha256: String,
    /// The office the token works for: it sees and registers that office's holders and
    /// requests only. Without it, every office's (as before offices).
    #[serde(default)]
    pub office: Option<String>,
}

/// Whether kur needs a signed renewal form first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FormPolicy {
    /// The holder signs the form with the expiring key before kur is served.
    #[default]
    Required,
    /// kur alone renews (a client without the workflow API, such as `openssl cmp`).
    Optional,
}

/// The `[renewal]` settings: the form policy and the contract.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalSettings {
    #[serde(default)]
    pub form: FormPolicy,
    #[serde(default)]
    pub contract: Contract,
}

/// The contract a renewal accepts: versioned text (the version accepted is recorded with
/// the signed form).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub version: String,
    pub text: String,
}

impl Default for Contract {
    fn default() -> Self {
        Contract { version: "2026-1".into(), text: include_str!("contract-2026-1.txt").into() }
    }
}

fn default_ttl() -> i64 {
    300
}

fn default_resend() -> i64 {
    30
}

fn default_wrong_code_wait() -> i64 {
    60
}

fn default_calls() -> u32 {
    CALLS_PER_MINUTE
}

fn default_failures() -> u32 {
    FAILURES_PER_MINUTE
}

fn default_confirm_seconds() -> i64 {
    600
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_days() -> i64 {
    3 * 365
}
