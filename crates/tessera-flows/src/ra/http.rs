//! HTTP(S) to the RA: reqwest over rustls, trusting only the RA's own CA (never the system
//! store, never "accept any"). Plain HTTP only to a loopback address.

use std::sync::Arc;
use std::time::Duration;

use crate::{Error, Result};

pub struct Http {
    pub base: String,
    /// The CMP endpoint: `<base>/.well-known/cmp` (RFC 9483 3.4), or the URL as given when
    /// it names a path (a CA's own CMP alias).
    cmp_url: String,
    client: reqwest::Client,
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

impl Http {
    /// A client for the RA at `base`, trusting the DER certificates `anchors` for TLS.
    pub fn new(url: &str, anchors: &[Vec<u8>]) -> Result<Http> {
        let base = url.trim_end_matches('/').to_owned();
        let unreachable = |reason: String| Error::RaUnreachable { url: base.clone(), reason };
        let parsed = reqwest::Url::parse(url).map_err(|e| unreachable(e.to_string()))?;
        // reqwest wants a process-wide provider even for plain HTTP: ring, as for TLS below
        // (already installed by an earlier client is fine).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")));
        match parsed.scheme() {
            "https" => {
                if anchors.is_empty() {
                    return Err(unreachable("HTTPS needs the RA's CA certificate (--ra-ca or ra_ca)".into()));
                }
                let mut roots = rustls::RootCertStore::empty();
                for der in anchors {
                    roots
                        .add(rustls::pki_types::CertificateDer::from(der.clone()))
                        .map_err(|e| unreachable(format!("trust anchor: {e}")))?;
                }
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| unreachable(e.to_string()))?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                builder = builder.tls_backend_preconfigured(config);
            }
            "http" if is_loopback(&parsed) => {}
            "http" => return Err(unreachable("plain HTTP is allowed to a loopback address only".into())),
            other => return Err(unreachable(format!("unsupported scheme {other}"))),
        }
        let client = builder.build().map_err(|e| unreachable(e.to_string()))?;
        let cmp_url =
            if matches!(parsed.path(), "" | "/") { format!("{base}/.well-known/cmp") } else { parsed.to_string() };
        Ok(Http { base, cmp_url, client })
    }

    /// Whether the RA answers at all over HTTP(S) with the configured trust: any HTTP
    /// status will do (the TLS handshake, with only the RA's CA trusted, is what counts).
    pub async fn reachable(&self) -> Result<()> {
        self.client.get(format!("{}/", self.base)).send().await.map(|_| ()).map_err(|e| self.unreachable(e))
    }

    fn unreachable(&self, e: reqwest::Error) -> Error {
        // reqwest's Display for a connect error hides the cause: walk the chain.
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            reason = format!("{reason}: {s}");
            source = s.source();
        }
        Error::RaUnreachable { url: self.base.clone(), reason }
    }

    /// POST a CMP message (application/pkixcmp); the answer's bytes.
    pub async fn cmp(&self, der: Vec<u8>) -> Result<Vec<u8>> {
        let started = std::time::Instant::now();
        let response = self
            .client
            .post(&self.cmp_url)
            .header("Content-Type", "application/pkixcmp")
            // One transaction on one connection: servers that keep a transaction's state per
            // connection (openssl's) close it after each answer unless asked to keep it.
            .header("Connection", "keep-alive")
            .body(der)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
        tracing::debug!(elapsed_us = started.elapsed().as_micros() as u64, %status, "RA round trip: CMP");
        if !status.is_success() && bytes.first() != Some(&0x30) {
            return Err(Error::RaAnswerMalformed { reason: format!("HTTP {status} to a CMP message") });
        }
        Ok(bytes.to_vec())
    }

    /// A JSON call to the workflow API: `body` as JSON, the answer read as `A`; the RA's
    /// `{code, params}` refusals become [`Error::RaRefused`].
    pub async fn call<B: serde::Serialize, A: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&B>,
    ) -> Result<A> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let started = std::time::Instant::now();
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
        tracing::debug!(elapsed_us = started.elapsed().as_micros() as u64, %status, path, "RA round trip: workflow API");
        let malformed = |e: serde_json::Error| Error::RaAnswerMalformed { reason: format!("HTTP {status}: {e}") };
        if status == reqwest::StatusCode::NO_CONTENT {
            return serde_json::from_slice(b"null").map_err(malformed);
        }
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(malformed);
        }
        let problem: tessera_protocol::refusal::Problem = serde_json::from_slice(&bytes).map_err(malformed)?;
        Err(Error::RaRefused(tessera_protocol::refusal::Refusal::from_wire(status.as_u16(), problem)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback_and_https_needs_an_anchor() {
        assert!(Http::new("http://127.0.0.1:8080", &[]).is_ok());
        assert!(Http::new("http://localhost:8080/", &[]).is_ok());
        assert_eq!(
            Http::new("http://ra.example.org", &[]).err().map(|e| e.code().to_owned()).as_deref(),
            Some("ra-unreachable")
        );
        assert!(Http::new("https://ra.example.org", &[]).is_err());
        assert!(Http::new("ftp://127.0.0.1", &[]).is_err());
    }
}
