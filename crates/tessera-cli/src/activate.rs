//! `tessera activate`: the activation flow on the terminal. Questions are asked without
//! echo for secrets, or with `--stdin` read one line each from standard input in the order
//! asked (each question printed on stderr first); progress goes to stderr, the result to
//! stdout (`--json`: the flow's outcome).

use std::path::PathBuf;
use std::process::ExitCode;

use fluent_bundle::FluentValue;
use tessera_core::devices::{Devices, Options};
use tessera_core::messages::{Lang, Messages};
use tessera_flows::activation::{Activation, Mode, Outcome};
use tessera_flows::operator;
use tessera_flows::ra::http::Http;
use tessera_pki::KeyAlgorithm;

use crate::terminal::{Terminal, role_name};

#[derive(clap::Args)]
pub struct Args {
    /// The card or token (PKCS#11 URI); by default the only one present.
    #[arg(long)]
    token: Option<String>,
    /// Counter mode: the operator signs in to the RA with their account (name, password,
    /// one-time code) and arms the request, with the holder's activation code or, with
    /// --reference, by the request's reference; no SMS OTP.
    #[arg(long)]
    operator: bool,
    /// With --operator: the request to activate at the counter (no activation code).
    /// With --profile, for a CMP CA without Tessera's workflow API: the request's
    /// reference (senderKID), the secret asked as the activation code.
    #[arg(long)]
    reference: Option<String>,
    /// With --reference, for a CMP CA: signature, cns-authentication or cns+signature.
    #[arg(long, requires = "reference", conflicts_with = "operator")]
    profile: Option<String>,
    /// With --operator: several cards at once. FILE names the requests, one reference per
    /// line; every card present without certificates takes the next one, each in a lane
    /// of its own. One JSON line per card on stdout.
    #[arg(long, value_name = "FILE", requires = "operator", conflicts_with_all = ["token", "reference"])]
    batch: Option<PathBuf>,
    /// The key algorithm to make (the card must make it); by default the first the card
    /// makes of rsa2048, p256, p384, rsa3072.
    #[arg(long, value_parser = ["rsa2048", "rsa3072", "p256", "p384"])]
    algorithm: Option<String>,
    /// One card of a batch, run by the batch (JSON lines on stdin and stdout).
    #[arg(long, hide = true, requires_all = ["operator", "reference"])]
    lane: bool,
    /// The registration authority's URL (default: the settings file, else the test bed's).
    #[arg(long, value_name = "URL")]
    ra: Option<String>,
    /// PEM file with the RA's CA certificates, the only trust anchor for it.
    #[arg(long, value_name = "FILE")]
    ra_ca: Option<PathBuf>,
    /// Read every answer (code, tax code, OTP, PIN, PUK, management key, the operator's
    /// name, password and one-time code, confirmation) one per line from standard input.
    #[arg(long)]
    stdin: bool,
}

fn summary(msg: &Messages, o: &Outcome) -> String {
    let s = |v: &str| FluentValue::from(v.to_owned());
    let holder = o.holder.as_ref().map(|h| format!("{} {}", h.given_name, h.surname)).unwrap_or_default();
    let mut out = vec![msg.text("activation-done", &[("reference", s(&o.reference)), ("holder", s(&holder))])];
    for c in &o.certificates {
        let role = msg.text(&format!("role-{}", role_name(c.role)), &[]);
        // The holder as people read it: the name and the tax code, not the raw subject.
        let holder = match &c.holder_cf {
            Some(cf) => format!("{} ({cf})", c.common_name),
            None => c.common_name.clone(),
        };
        out.push(msg.text(
            "activation-certificate",
            &[("role", s(&role)), ("holder", s(&holder)), ("not_after", s(&c.not_after))],
        ));
        out.push(format!("  {}", c.uri));
        if c.suspended {
            out.push(msg.text("activation-suspended", &[]));
        }
    }
    out.push(msg.text("activation-next", &[]));
    out.join("\n")
}

pub fn run(args: Args, json: bool, modules: &[String], msg: &Messages, lang: Lang) -> ExitCode {
    // One of the names clap allows: always a key algorithm.
    let algorithm: Option<KeyAlgorithm> =
        args.algorithm.as_deref().and_then(|a| serde_json::from_value(serde_json::Value::from(a)).ok());
    if args.batch.is_some() || args.lane {
        let settings = match crate::flow_run::settings(args.ra, args.ra_ca) {
            Ok(s) => s,
            Err(e) => {
                crate::report(msg, &e.payload());
                return ExitCode::FAILURE;
            }
        };
        return match (args.batch, args.reference) {
            (Some(file), _) => {
                crate::batch::run(&file, settings, modules, msg, lang, args.stdin, args.algorithm.as_deref())
            }
            (None, Some(reference)) => crate::batch::lane(&reference, args.token, settings, modules, msg, algorithm),
            (None, None) => ExitCode::FAILURE,
        };
    }
    let mut devices = crate::flow_run::devices(modules);
    let result = (|| {
        let settings = crate::flow_run::settings(args.ra, args.ra_ca)?;
        let mut prompter = Terminal::new(msg, args.stdin);
        let (reference, profile) = (args.reference, args.profile);
        if !args.operator {
            let mode = match (reference, profile) {
                (Some(reference), Some(profile)) => Mode::Cmp { reference, profile },
                (None, _) => Mode::Holder,
                (Some(_), None) => {
                    let reason = "--reference goes with --operator (the counter) or --profile (a CMP CA)".into();
                    return Err(tessera_flows::Error::Input { reason });
                }
            };
            let flow = Activation { algorithm, ..Activation::new(&mut devices, settings, args.token, mode) };
            return crate::flow_run::block_on(flow.run(&mut prompter));
        }
        crate::flow_run::block_on(async {
            let http = Http::new(&settings.ra, &settings.anchors()?)?;
            let session = operator::sign_in_asking(&http, &mut prompter).await?;
            let mode = Mode::Operator(session.clone());
            let flow = Activation { algorithm, ..Activation::new(&mut devices, settings, args.token, mode) };
            let outcome = flow.run_for(&mut prompter, reference.as_deref()).await;
            // The session ends with the command: nothing of it outlives the process.
            let _ = operator::sign_out(&http, &session).await;
            outcome
        })
    })();
    crate::flow_run::finish(result, json, msg, |o| summary(msg, o))
}

/// `tessera support-bundle`: the error file, written to `out`; its path on stdout.
pub fn support_bundle(out: &std::path::Path, modules: &[String], msg: &Messages) -> ExitCode {
    let mut options = Options::from_env();
    options.modules.extend(modules.iter().cloned());
    let snapshot = Devices::new(options).snapshot();
    match tessera_flows::support::write(msg, None, &snapshot, out) {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            crate::report(msg, &e.payload());
            ExitCode::FAILURE
        }
    }
}
