//! `tessera diagnose`: the renewal diagnostics of a card, before any PIN: each check with
//! its verdict, cause and remedy in the user's language; `--json` for scripts (each check
//! with its message id, parameters and text). Exit status 0 when a certificate can be
//! renewed, 1 when none can. `--pin` then asks the PIN (once) and has each certificate's
//! key sign a random challenge, checked against the certificate.

use std::path::PathBuf;
use std::process::ExitCode;

use fluent_bundle::FluentValue;
use tessera_core::messages::Messages;
use tessera_flows::renewal::diagnostics::{self, Check, Report, Verdict};

use crate::check_lines::{mark, text};

#[derive(clap::Args)]
pub struct Args {
    /// The card or token (PKCS#11 URI).
    #[arg(long)]
    token: String,
    /// After the checks that need no PIN: ask the PIN and make a test signature with each
    /// certificate's key, verified against the certificate.
    #[arg(long)]
    pin: bool,
    /// Read the PIN from standard input.
    #[arg(long)]
    stdin: bool,
    /// The registration authority's URL (default: the settings file, else the test bed's).
    #[arg(long, value_name = "URL")]
    ra: Option<String>,
    /// PEM file with the RA's CA certificates, the only trust anchor for it.
    #[arg(long, value_name = "FILE")]
    ra_ca: Option<PathBuf>,
}

fn render(msg: &Messages, report: &Report) -> String {
    let mut out = vec![msg.text(
        "diag-title",
        &[
            ("token", FluentValue::from(report.label.clone())),
            ("card", FluentValue::from(report.card.clone().unwrap_or_default())),
        ],
    )];
    for c in &report.checks {
        out.push(format!("  {} {}", mark(c.verdict), text(msg, c)));
    }
    for cert in &report.certificates {
        let role = msg.text(&format!("role-{}", crate::terminal::pki_role_name(cert.role)), &[]);
        out.push(String::new());
        out.push(msg.text(
            "diag-certificate",
            &[
                ("role", FluentValue::from(role)),
                ("subject", FluentValue::from(cert.subject.clone())),
                ("not_after", FluentValue::from(cert.not_after.clone())),
            ],
        ));
        for c in &cert.checks {
            out.push(format!("  {} {}", mark(c.verdict), text(msg, c)));
        }
        let verdict = cert.verdict(&report.checks);
        out.push(format!("  → {}", msg.text(&format!("diag-verdict-{}", serde_plain(verdict)), &[])));
    }
    if report.certificates.is_empty() {
        out.push(msg.text("diag-no-certificate", &[]));
    }
    out.join("\n")
}

fn serde_plain(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Fail => "fail",
    }
}

pub fn run(args: Args, json: bool, modules: &[String], msg: &Messages) -> ExitCode {
    let mut devices = crate::flow_run::devices(modules);
    let result = (|| {
        let settings = crate::flow_run::settings(args.ra, args.ra_ca)?;
        let mut report = crate::flow_run::block_on(diagnostics::diagnose(&mut devices, &settings, &args.token))?;
        if args.pin {
            let mut prompter = crate::terminal::Terminal::new(msg, args.stdin);
            diagnostics::test_signatures(&mut devices, &mut report, &mut prompter)?;
        }
        Ok::<_, tessera_flows::Error>(report)
    })();
    match result {
        Ok(report) => {
            if json {
                let mut value = serde_json::to_value(&report).unwrap_or_default();
                // Each check with its text in the chosen language too.
                let add = |checks: &mut serde_json::Value, source: &[Check]| {
                    if let Some(list) = checks.as_array_mut() {
                        for (v, c) in list.iter_mut().zip(source) {
                            v["text"] = text(msg, c).into();
                        }
                    }
                };
                add(&mut value["checks"], &report.checks);
                for (i, cert) in report.certificates.iter().enumerate() {
                    add(&mut value["certificates"][i]["checks"], &cert.checks);
                    value["certificates"][i]["verdict"] = serde_plain(cert.verdict(&report.checks)).into();
                }
                value["renewable"] = report.renewable().into();
                println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            } else {
                println!("{}", render(msg, &report));
            }
            if report.renewable() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            crate::report(msg, &e.payload());
            ExitCode::from(2)
        }
    }
}
