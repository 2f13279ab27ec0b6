//! `tessera-ra`: the reference registration authority and CA. This first cut serves
//! Lightweight CMP enrollment (p10cr + certConf, password-based MAC with the request's
//! reference and activation code) for requests registered in its configuration file.
//!
//!   tessera-ra --config ra.toml
//!
//! Plain HTTP is served on loopback only.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use serde::Deserialize;
use tessera_ra::{activation, ca, codes, gateway, limits, operator, registry, store};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "default_listen")]
    listen: SocketAddr,
    #[serde(default = "default_days")]
    validity_days: i64,
    /// Where to publish the CA certificates (PEM: issuing CA, then root), for clients.
    ca_certificate: Option<std::path::PathBuf>,
    /// Where the CA key (ca.key, owner-only) and certificate (ca.pem) and the database live;
    /// default: a `tessera-ra` directory beside the configuration.
    state_dir: Option<std::path::PathBuf>,
    /// The database: a SQLite file path (default `<state_dir>/tessera-ra.sqlite`) or a
    /// sqlx URL (`sqlite::memory:`).
    database: Option<String>,
    /// The RA's address as clients see it; the CRL URL in certificates is `<public_url>/crl`.
    /// Defaults to http://<listen address>.
    public_url: Option<String>,
    #[serde(default, rename = "request")]
    requests: Vec<registry::RegisteredRequest>,
    #[serde(default, rename = "operator")]
    operators: Vec<operator::Operator>,
    #[serde(default)]
    gateway: Gateway,
    /// Serve HTTPS (required on any address but loopback).
    tls: Option<Tls>,
    /// "automatic" (default) or "approval": renewals then need an operator's approval.
    #[serde(default)]
    renewal_policy: registry::RenewalPolicy,
    /// Renewal: `form = "required"` (default: kur waits for the renewal form signed with
    /// the expiring key) or `"optional"`, and the `contract` (`version`, `text`) it accepts.
    #[serde(default)]
    renewal: tessera_ra::renewal::Settings,
    /// The issuing CA's key (a PKCS#8 file or a `pkcs11:` URI for an HSM) and certificate.
    #[serde(default)]
    ca: ca::CaSource,
    /// How long an SMS code is good for, and how soon another may be sent (seconds;
    /// 300 and 30 by default: test beds shorten them).
    #[serde(default)]
    otp: activation::OtpTimes,
    /// CMP transactions.
    #[serde(default)]
    cmp: CmpTimes,
    /// Rate limits per client address.
    #[serde(default)]
    limits: Limits,
    /// The CA's own certificate policy (an OID, in every end-entity certificate besides
    /// QCP-n-qscd in qualified ones). None by default: a CA has to have one of its own.
    certificate_policy: Option<String>,
}

/// How long a certificate may wait for its certConf before it is revoked (seconds; 600
/// by default), and how long a reference's MAC checks wait after five wrong codes (60 by
/// default, doubling each five more).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CmpTimes {
    #[serde(default = "default_confirm_seconds")]
    confirm_seconds: i64,
    #[serde(default = "default_wrong_code_wait")]
    wrong_code_wait_seconds: i64,
}

impl Default for CmpTimes {
    fn default() -> Self {
        CmpTimes { confirm_seconds: default_confirm_seconds(), wrong_code_wait_seconds: default_wrong_code_wait() }
    }
}

fn default_wrong_code_wait() -> i64 {
    60
}

/// Per client address: holder API calls, and failures (wrong codes and sessions, refused
/// CMP messages), each at once and a minute (30 and 10 by default).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    #[serde(default = "default_calls")]
    calls_per_minute: u32,
    #[serde(default = "default_failures")]
    failures_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { calls_per_minute: default_calls(), failures_per_minute: default_failures() }
    }
}

fn default_calls() -> u32 {
    activation::CALLS_PER_MINUTE
}

fn default_failures() -> u32 {
    tessera_ra::state::FAILURES_PER_MINUTE
}

fn default_confirm_seconds() -> i64 {
    600
}

/// TLS: a certificate for these names from the RA's own issuing CA (clients trust its
/// root), or a certificate and key from files (PEM).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tls {
    #[serde(default)]
    names: Vec<String>,
    certificate: Option<std::path::PathBuf>,
    key: Option<std::path::PathBuf>,
}

/// Where SMS and e-mail go besides the outbox.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Gateway {
    /// An SMS provider's webhook (http(s) URL): POST {"channel", "to", "text"}.
    sms_webhook: Option<String>,
    /// An e-mail provider's webhook: POST {"channel", "to", "subject", "text"}.
    email_webhook: Option<String>,
}

fn default_listen() -> SocketAddr {
    "127.0.0.1:8080".parse().expect("literal address")
}

fn default_days() -> i64 {
    3 * 365
}

fn fail(message: String) -> ! {
    eprintln!("tessera-ra: {message}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("TESSERA_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let path = match (args.next().as_deref(), args.next()) {
        (Some("--config"), Some(p)) => p,
        _ => fail("usage: tessera-ra --config FILE".into()),
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| fail(format!("{path}: {e}")));
    let config: Config = toml::from_str(&text).unwrap_or_else(|e| fail(format!("{path}: {e}")));
    if !config.listen.ip().is_loopback() && config.tls.is_none() {
        fail(format!("{}: plain HTTP is served on loopback only: configure [tls]", config.listen));
    }
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.unwrap_or_else(|e| fail(format!("{}: {e}", config.listen)));
    let addr = listener.local_addr().unwrap_or(config.listen);
    // The CA key and certificate live beside the configuration (made on first start).
    let state_dir = config.state_dir.clone().unwrap_or_else(|| {
        std::path::Path::new(&path).parent().map(|p| p.to_path_buf()).unwrap_or_default().join("tessera-ra")
    });
    let mut ca = ca::Ca::load_or_create(&state_dir, "Tessera RA Issuing CA", &config.ca)
        .unwrap_or_else(|e| fail(format!("CA: {e}")));
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let public = config.public_url.clone().unwrap_or_else(|| format!("{scheme}://{addr}"));
    let base = public.trim_end_matches('/');
    ca.crl_url = Some(format!("{base}/crl"));
    ca.aia = Some(ca::Aia { ca_issuers: format!("{base}/ca.cer"), ocsp: format!("{base}/ocsp") });
    if let Some(policy) = &config.certificate_policy {
        ca.policy = Some(
            ca::oid_content(policy)
                .unwrap_or_else(|| fail(format!("{path}: certificate_policy {policy:?} is not an object identifier"))),
        );
    }
    if let Some(p) = &config.ca_certificate {
        // The chain: issuing CA, then the root (the trust anchor).
        let pem: String = ca.chain().into_iter().map(|c| pem::encode(&pem::Pem::new("CERTIFICATE", c))).collect();
        std::fs::write(p, pem).unwrap_or_else(|e| fail(format!("{}: {e}", p.display())));
    }
    let database = config.database.clone().unwrap_or_else(|| state_dir.join("tessera-ra.sqlite").display().to_string());
    let codes = codes::CodeKeys::load_or_create(&state_dir).unwrap_or_else(|e| fail(format!("activation codes: {e}")));
    let mut store =
        store::Store::open(&database, codes).await.unwrap_or_else(|e| fail(format!("database {database}: {e}")));
    store.confirm_retention = config.cmp.confirm_seconds;
    for r in &config.requests {
        if let Err(refused) = r.holder.check_subject() {
            fail(format!("{path}: request {}: holder {}: {}", r.reference, refused.field, refused.reason));
        }
        store.register(r).await.unwrap_or_else(|e| fail(format!("database {database}: {e}")));
    }
    let mut ra = tessera_ra::state::Ra::new(ca, store, config.validity_days);
    ra.gateway = gateway::Gateway::new(
        Some(state_dir.join("outbox.log")),
        config.gateway.sms_webhook.clone(),
        config.gateway.email_webhook.clone(),
    );
    ra.operators = config.operators.clone();
    ra.renewal_policy = config.renewal_policy;
    ra.renewal = config.renewal.clone();
    ra.otp = config.otp;
    ra.wrong_code_wait = config.cmp.wrong_code_wait_seconds;
    ra.calls = limits::Limiter::new(config.limits.calls_per_minute, config.limits.calls_per_minute);
    ra.failures = limits::Limiter::new(config.limits.failures_per_minute, config.limits.failures_per_minute);
    let ra = Arc::new(ra);
    tessera_ra::app::spawn_sweeper(ra.clone(), config.cmp.confirm_seconds);
    let app = tessera_ra::app::app(ra.clone());
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    if let Some(tls) = &config.tls {
        let (chain, key) = match (&tls.certificate, &tls.key) {
            (Some(c), Some(k)) => {
                let read = |p: &std::path::Path| {
                    std::fs::read_to_string(p).unwrap_or_else(|e| fail(format!("{}: {e}", p.display())))
                };
                let chain = pem::parse_many(read(c))
                    .unwrap_or_else(|e| fail(e.to_string()))
                    .into_iter()
                    .map(|p| p.into_contents())
                    .collect();
                let key = pem::parse(read(k)).unwrap_or_else(|e| fail(e.to_string())).into_contents();
                (chain, key)
            }
            _ => {
                let names = if tls.names.is_empty() { vec![addr.ip().to_string()] } else { tls.names.clone() };
                ra.ca.tls_server(&names).unwrap_or_else(|e| fail(format!("TLS certificate: {e}")))
            }
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = axum_server::tls_rustls::RustlsConfig::from_der(chain, key)
            .await
            .unwrap_or_else(|e| fail(format!("TLS: {e}")));
        let std_listener = listener.into_std().unwrap_or_else(|e| fail(e.to_string()));
        println!("tessera-ra listening on https://{addr}/.well-known/cmp");
        let _ = std::io::stdout().flush();
        axum_server::from_tcp_rustls(std_listener, config)
            .unwrap_or_else(|e| fail(e.to_string()))
            .serve(app)
            .await
            .unwrap_or_else(|e| fail(e.to_string()));
        return;
    }
    println!("tessera-ra listening on http://{addr}/.well-known/cmp");
    let _ = std::io::stdout().flush();
    // No Nagle delay on answers: a CMP exchange is small writes, each waited for.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .unwrap_or_else(|e| fail(e.to_string()));
}
