//! Starting the RA from its configuration file: the CA (made on first start), the
//! database (migrated), the requests the file registers, and the application state.

use std::path::Path;

use crate::config::Config;
use crate::state::Ra;

/// The state a configuration describes, ready to serve: its CA with the URLs it puts in
/// certificates, its store with the configured requests registered, its policies and
/// limits. `addr`: the address actually listened on (the default public URL). The error
/// names what failed.
pub async fn open(path: &Path, config: &Config, addr: std::net::SocketAddr) -> Result<Ra, String> {
    let state_dir = config.state_dir(path);
    let mut ca = crate::ca::Ca::load_or_create(&state_dir, "Tessera RA Issuing CA", &config.ca)
        .map_err(|e| format!("CA: {e}"))?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let public = config.public_url.clone().unwrap_or_else(|| format!("{scheme}://{addr}"));
    let base = public.trim_end_matches('/');
    ca.crl_url = Some(format!("{base}/crl"));
    ca.aia = Some(crate::ca::Aia { ca_issuers: format!("{base}/ca.cer"), ocsp: format!("{base}/ocsp") });
    if let Some(policy) = &config.certificate_policy {
        ca.policy =
            Some(crate::ca::oid_content(policy).ok_or_else(|| {
                format!("{}: certificate_policy {policy:?} is not an object identifier", path.display())
            })?);
    }
    if let Some(p) = &config.ca_certificate {
        // The chain: issuing CA, then the root (the trust anchor).
        let pem: String = ca.chain().into_iter().map(|c| pem::encode(&pem::Pem::new("CERTIFICATE", c))).collect();
        std::fs::write(p, pem).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let mut store = store(path, config).await?;
    store.confirm_retention = config.cmp.confirm_seconds;
    let database = config.database(path);
    for r in &config.requests {
        let mut r = r.clone();
        r.holder.given_name = crate::registry::normalise(&r.holder.given_name);
        r.holder.surname = crate::registry::normalise(&r.holder.surname);
        if let Err(refused) = r.holder.check_subject() {
            return Err(format!(
                "{}: request {}: holder {}: {}",
                path.display(),
                r.reference,
                refused.field,
                refused.reason
            ));
        }
        store.register(&r).await.map_err(|e| format!("database {database}: {e}"))?;
    }
    let mut ra = Ra::new(ca, store, config.validity_days);
    ra.gateway = crate::gateway::Gateway::new(
        Some(state_dir.join("outbox.log")),
        config.gateway.sms_webhook.clone(),
        config.gateway.email_webhook.clone(),
    );
    ra.operators = config.operators.clone();
    ra.renewal_policy = config.renewal_policy;
    ra.renewal = config.renewal.clone();
    ra.console = config.console.clone();
    app_download_url(config).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(anchors) = &config.console.remote_trust_anchors {
        ra.remote_anchors = remote_anchors(&path.parent().unwrap_or(Path::new(".")).join(anchors))
            .map_err(|e| format!("{}: [console] {e}", path.display()))?;
    }
    ra.tls = config.tls.is_some();
    ra.otp = config.otp;
    ra.wrong_code_wait = config.cmp.wrong_code_wait_seconds;
    ra.calls = crate::limits::Limiter::new(config.limits.calls_per_minute, config.limits.calls_per_minute);
    ra.failures = crate::limits::Limiter::new(config.limits.failures_per_minute, config.limits.failures_per_minute);
    Ok(ra)
}

/// Check a configuration without starting: everything `open` would read is read and
/// checked (the CA's key opened, TLS files, trust anchors, the requests the file
/// registers), nothing is made, written or listened on. What it describes, a line each;
/// the error names the file and what is wrong.
pub fn check(path: &Path, config: &Config) -> Result<Vec<String>, String> {
    let file = path.display();
    let mut said = Vec::new();
    if !config.listen.ip().is_loopback() && config.tls.is_none() {
        return Err(format!(
            "{file}: listen = {}: plain HTTP is served on loopback only: configure [tls]",
            config.listen
        ));
    }
    said.push(format!("listen {} ({})", config.listen, if config.tls.is_some() { "HTTPS" } else { "HTTP" }));
    if let Some(tls) = &config.tls {
        for (what, p) in [("certificate", &tls.certificate), ("key", &tls.key)] {
            if let Some(p) = p {
                let text = std::fs::read(p).map_err(|e| format!("{file}: [tls] {what} {}: {e}", p.display()))?;
                pem::parse_many(&text)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| format!("{file}: [tls] {what} {}: no PEM in it", p.display()))?;
            }
        }
        if tls.certificate.is_some() != tls.key.is_some() {
            return Err(format!("{file}: [tls] certificate and key go together"));
        }
    }
    let state_dir = config.state_dir(path);
    said.push(crate::ca::Ca::check_source(&state_dir, &config.ca).map_err(|e| format!("{file}: [ca]: {e}"))?);
    if let Some(policy) = &config.certificate_policy
        && crate::ca::oid_content(policy).is_none()
    {
        return Err(format!("{file}: certificate_policy {policy:?} is not an object identifier"));
    }
    app_download_url(config).map_err(|e| format!("{file}: {e}"))?;
    for r in &config.requests {
        let mut holder = r.holder.clone();
        holder.given_name = crate::registry::normalise(&holder.given_name);
        holder.surname = crate::registry::normalise(&holder.surname);
        if let Err(refused) = holder.check_subject() {
            return Err(format!("{file}: request {}: holder {}: {}", r.reference, refused.field, refused.reason));
        }
    }
    said.push(format!("{} requests registered from the file", config.requests.len()));
    said.push(format!("database {}", config.database(path)));
    match &config.console.remote_trust_anchors {
        Some(anchors) => {
            let n = remote_anchors(&path.parent().unwrap_or(Path::new(".")).join(anchors))
                .map_err(|e| format!("{file}: [console] {e}"))?
                .len();
            said.push(format!("remote identification: {n} trusted CAs"));
        }
        None => said.push("remote identification: off".into()),
    }
    if !config.operators.is_empty() {
        said.push(format!("{} [[operator]] tokens (deprecated: use accounts)", config.operators.len()));
    }
    Ok(said)
}

/// The app's download page must be a web address (it is a link on the console's pages).
fn app_download_url(config: &Config) -> Result<(), String> {
    match &config.console.app_download_url {
        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) || u.chars().any(char::is_whitespace) => {
            Err(format!("[console] app_download_url {u:?} is not an http(s) address"))
        }
        _ => Ok(()),
    }
}

/// The CA certificates of a PEM file, each read as X.509; the error names the file.
fn remote_anchors(file: &Path) -> Result<Vec<Vec<u8>>, String> {
    let text = std::fs::read(file).map_err(|e| format!("remote_trust_anchors {}: {e}", file.display()))?;
    let pems = pem::parse_many(&text).map_err(|e| format!("remote_trust_anchors {}: {e}", file.display()))?;
    let anchors: Vec<Vec<u8>> =
        pems.into_iter().filter(|p| p.tag() == "CERTIFICATE").map(|p| p.into_contents()).collect();
    for der in &anchors {
        let summary = tessera_pki::CertificateSummary::parse(der, time::OffsetDateTime::now_utc())
            .map_err(|e| format!("remote_trust_anchors {}: {e}", file.display()))?;
        if !tessera_pki::chain::anchor_usable(der).unwrap_or(false) {
            return Err(format!(
                "remote_trust_anchors {}: {} is not a CA certificate that signs certificates",
                file.display(),
                summary.subject
            ));
        }
    }
    if anchors.is_empty() {
        return Err(format!("remote_trust_anchors {}: no certificate in it", file.display()));
    }
    Ok(anchors)
}

/// The configured database alone (for the commands that manage it without serving).
pub async fn store(path: &Path, config: &Config) -> Result<crate::store::Store, String> {
    let state_dir = config.state_dir(path);
    let database = config.database(path);
    let codes = crate::codes::CodeKeys::load_or_create(&state_dir).map_err(|e| format!("activation codes: {e}"))?;
    crate::store::Store::open(&database, codes).await.map_err(|e| format!("database {database}: {e}"))
}
