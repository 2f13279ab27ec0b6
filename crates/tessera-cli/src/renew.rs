//! `tessera renew`: the renewal flow on the terminal. Diagnostics first (nothing is asked
//! when they fail), then the PIN, then the re-key; progress on stderr, the result on stdout
//! (`--json`: the flow's outcome). `--stdin` reads the PIN from standard input. The
//! contract and the renewal form are printed before they are signed; `--accept-contract
//! VERSION` accepts them for scripts, and only that version. The holder's contacts are
//! printed; `--mobile` / `--email` change them (the codes sent are then asked).

use std::path::PathBuf;
use std::process::ExitCode;

use fluent_bundle::FluentValue;
use tessera_core::messages::Messages;
use tessera_flows::renewal::{Outcome, Renewal};

use crate::terminal::Terminal;

#[derive(clap::Args)]
pub struct Args {
    /// The card or token (PKCS#11 URI).
    #[arg(long)]
    token: String,
    /// The certificate to renew (PKCS#11 URI), when the card holds several renewable ones.
    #[arg(long)]
    certificate: Option<String>,
    /// Remove the old key and certificate once the new ones are confirmed (by default they
    /// stay: the new certificate starts where the old one ends).
    #[arg(long)]
    retire_old: bool,
    /// The registration authority's URL (default: the settings file, else the test bed's).
    #[arg(long, value_name = "URL")]
    ra: Option<String>,
    /// PEM file with the RA's CA certificates, the only trust anchor for it.
    #[arg(long, value_name = "FILE")]
    ra_ca: Option<PathBuf>,
    /// Read the PIN (and the answer to "sign the form?") from standard input.
    #[arg(long)]
    stdin: bool,
    /// Accept the RA's contract of this version and sign the renewal form without asking
    /// (both are still printed). Another version than this one is not accepted.
    #[arg(long, value_name = "VERSION")]
    accept_contract: Option<String>,
    /// A new mobile number for the renewal (a number without +CC is Italian): the change
    /// is signed with the expiring key and confirmed by the code sent to it (asked next).
    #[arg(long, value_name = "NUMBER")]
    mobile: Option<String>,
    /// A new e-mail address, as for --mobile (where the e-mail is not the certificate's).
    #[arg(long, value_name = "ADDRESS")]
    email: Option<String>,
    /// On a card whose key slots are fixed (PIV, OpenPGP), let the new key take the old
    /// key's slot without asking (the old certificate stops working until the new one is
    /// installed; the renewal is authorised first, so it always completes).
    #[arg(long)]
    overwrite: bool,
}

fn summary(msg: &Messages, o: &Outcome) -> String {
    let s = |v: &str| FluentValue::from(v.to_owned());
    let mut out = vec![msg.text(
        "renewal-done",
        &[("subject", s(&o.subject)), ("not_before", s(&o.not_before)), ("not_after", s(&o.not_after))],
    )];
    out.push(format!("  {}", o.uri));
    let kept = if o.retired { "renewal-retired" } else { "renewal-kept" };
    out.push(msg.text(kept, &[("serial", s(&o.replaced))]));
    out.join("\n")
}

pub fn run(args: Args, json: bool, modules: &[String], msg: &Messages) -> ExitCode {
    let mut devices = crate::flow_run::devices(modules);
    let result = (|| {
        let settings = crate::flow_run::settings(args.ra, args.ra_ca)?;
        let flow = Renewal {
            devices: &mut devices,
            settings,
            token: args.token,
            certificate: args.certificate,
            retire_old: args.retire_old,
        };
        let mut prompter = Terminal::new(msg, args.stdin);
        prompter.accept_contract = args.accept_contract;
        prompter.overwrite = args.overwrite.then_some(true);
        if args.mobile.is_some() || args.email.is_some() {
            prompter.new_contacts = serde_json::json!({ "mobile": args.mobile, "email": args.email }).to_string();
        }
        crate::flow_run::block_on(flow.run(&mut prompter))
    })();
    crate::flow_run::finish(result, json, msg, |o| summary(msg, o))
}
