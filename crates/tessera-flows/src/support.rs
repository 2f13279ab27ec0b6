//! The error file [file di errore]: one readable text file a holder attaches to a support
//! request. It holds the app and OS versions, the readers with their ATRs and catalog
//! matches, the PKCS#11 modules and their versions, the tokens (public facts only), every
//! journal's step timeline, and each error code with its message in the user's language.
//!
//! It is built from data that never holds a secret (the device snapshot and the journal),
//! never from logs or answers: no PIN, PUK, OTP, activation code, management key or key
//! material can be in it. A test fills a run with distinctive secrets and searches it.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tessera_core::ErrorPayload;
use tessera_core::devices::Snapshot;
use tessera_core::messages::Messages;

use crate::journal::{Journal, Record};
use crate::{Error, Result};

/// What the file says about one token: no certificate bodies, no key material.
#[derive(Serialize)]
struct TokenFacts<'a> {
    label: &'a str,
    manufacturer: &'a str,
    model: &'a str,
    serial: &'a str,
    module: &'a str,
    reader: Option<&'a str>,
    catalog: Option<&'a str>,
    initialized: bool,
    pin: String,
    certificates: Vec<CertificateFacts<'a>>,
}

#[derive(Serialize)]
struct CertificateFacts<'a> {
    id: &'a str,
    subject: &'a str,
    issuer: &'a str,
    serial: &'a str,
    not_after: &'a str,
    private_key: String,
}

fn os_name() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release").ok().and_then(|text| {
        text.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=")).map(|v| v.trim_matches('"').to_owned())
    });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|k| k.trim().to_owned());
    [Some(format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)), pretty, kernel]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn rendered(msg: &Messages, e: &ErrorPayload, out: &mut String) {
    let r = msg.error(e);
    let _ = writeln!(out, "- [{}] {}\n  → {}", e.code, r.cause, r.remedy);
}

/// The error file's text, from a device snapshot and the journals.
pub fn render(msg: &Messages, shown: Option<&ErrorPayload>, snapshot: &Snapshot, journals: &[Record]) -> String {
    let mut out = String::new();
    let now =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let _ = writeln!(out, "# Tessera: file di errore / error file\n");
    let _ = writeln!(out, "Tessera {} · {} · {now}\n", env!("CARGO_PKG_VERSION"), os_name());

    if let Some(e) = shown {
        let _ = writeln!(out, "## The error shown");
        rendered(msg, e, &mut out);
        let _ = writeln!(out, "params: {}\n", serde_json::to_string(&e.params).unwrap_or_default());
    }
    let _ = writeln!(out, "## Readers and cards");
    match &snapshot.readers {
        None => {
            let _ = writeln!(out, "(PC/SC unavailable)");
        }
        Some(readers) => {
            for r in readers {
                match &r.card {
                    None => {
                        let _ = writeln!(out, "- {}: no card", r.name);
                    }
                    Some(card) => {
                        let _ = writeln!(
                            out,
                            "- {}: ATR {} · {}",
                            r.name,
                            card.atr,
                            json(&card.identification).replace('\n', " ")
                        );
                    }
                }
            }
        }
    }

    let _ = writeln!(out, "\n## PKCS#11 modules");
    for m in &snapshot.modules {
        let _ = writeln!(out, "- {} · {} {} · {}", m.path, m.manufacturer, m.version, m.description);
    }

    let _ = writeln!(out, "\n## Tokens");
    let tokens: Vec<TokenFacts<'_>> = snapshot
        .tokens
        .iter()
        .map(|t| TokenFacts {
            label: &t.label,
            manufacturer: &t.manufacturer,
            model: &t.model,
            serial: &t.serial,
            module: &t.module,
            reader: t.reader.as_deref(),
            catalog: t.catalog.as_ref().map(|c| c.id.as_str()),
            initialized: t.initialized,
            pin: format!("{:?}", t.pin.state),
            certificates: t
                .certificates
                .iter()
                .map(|c| CertificateFacts {
                    id: &c.id,
                    subject: &c.summary.subject,
                    issuer: &c.summary.issuer,
                    serial: &c.summary.serial,
                    not_after: &c.summary.not_after,
                    private_key: format!("{:?}", c.private_key),
                })
                .collect(),
        })
        .collect();
    let _ = writeln!(out, "```json\n{}\n```", json(&tokens));

    let _ = writeln!(out, "\n## Problems now");
    if snapshot.problems.is_empty() && snapshot.notices.is_empty() {
        let _ = writeln!(out, "(none)");
    }
    for p in snapshot.problems.iter().chain(&snapshot.notices) {
        rendered(msg, p, &mut out);
    }

    let _ = writeln!(out, "\n## Activations (journal)");
    if journals.is_empty() {
        let _ = writeln!(out, "(none)");
    }
    for j in journals {
        let state = if j.completed { "completed" } else { "not completed" };
        let _ = writeln!(
            out,
            "\n### {} · {} · {state}\nRA {} · token {} · started {}",
            j.reference, j.profile, j.ra, j.token, j.started_at
        );
        for (role, c) in &j.certificates {
            let _ = writeln!(
                out,
                "- {role:?}: key {} {} · certificate {} · installed {} · confirmed {}{}",
                c.key_id.as_deref().unwrap_or("-"),
                c.algorithm.map(|a| a.name()).unwrap_or("-"),
                if c.certificate.is_some() { "received" } else { "-" },
                c.installed,
                c.confirmed,
                c.note.as_deref().map(|n| format!(" · {n}")).unwrap_or_default(),
            );
        }
        for e in &j.events {
            let _ = writeln!(out, "  {} {} {}", e.at, json(&e.step).replace('\n', "").replace("  ", ""), e.state);
            if let Some(error) = &e.error {
                let mut line = String::new();
                rendered(msg, error, &mut line);
                let _ = write!(out, "  {}", line.replace('\n', "\n  "));
                out.push('\n');
            }
        }
    }
    out
}

/// Where the last diagnostics report is kept, for the error file.
fn diagnostics_file() -> PathBuf {
    crate::settings::data_dir().join("diagnostics.json")
}

/// Keep the report of the last diagnostics (no secret is in it), for the error file.
pub fn remember_diagnostics(report: &crate::checks::Report) {
    let path = diagnostics_file();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(json) = serde_json::to_string_pretty(report) {
        let _ = std::fs::write(&path, json);
    }
}

/// Write the error file into `dir` (created if needed); its path.
pub fn write(msg: &Messages, shown: Option<&ErrorPayload>, snapshot: &Snapshot, dir: &Path) -> Result<PathBuf> {
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let path = dir.join(format!("tessera-error-file-{stamp}.txt"));
    let storage = |e: std::io::Error| Error::Storage { path: path.display().to_string(), reason: e.to_string() };
    std::fs::create_dir_all(dir).map_err(storage)?;
    let mut text = render(msg, shown, snapshot, &Journal::all());
    if let Ok(diagnostics) = std::fs::read_to_string(diagnostics_file()) {
        text.push_str("\n## The last renewal diagnostics\n\n```json\n");
        text.push_str(&diagnostics);
        text.push_str("\n```\n");
    }
    std::fs::write(&path, text).map_err(storage)?;
    Ok(path)
}

/// Where the window saves it: the user's downloads folder, else the data directory.
pub fn default_dir() -> PathBuf {
    dirs::download_dir().unwrap_or_else(crate::settings::data_dir)
}
