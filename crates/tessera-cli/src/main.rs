//! `tessera`: Tessera's engine from the command line.
#![forbid(unsafe_code)]

mod activate;
mod batch;
mod check_lines;
mod devices;
mod diagnose;
mod flow_run;
mod lane;
mod prompt;
mod renew;
mod status;
mod terminal;
mod token_ops;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tessera_core::ErrorPayload;
use tessera_core::messages::Messages;

#[derive(Parser)]
#[command(name = "tessera", version, about = "Smart-card certificate enrollment and renewal")]
struct Cli {
    /// Language of messages: it (default) or en. Defaults from LANG.
    #[arg(long, global = true)]
    lang: Option<String>,
    #[command(flatten)]
    common: token_ops::Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Readers, cards and tokens with their certificates.
    Devices(devices::Args),
    /// New activation: key pairs on the card, certificates from the RA, installed.
    Activate(activate::Args),
    /// Renewal diagnostics for a card, before any PIN: what can be renewed, and if not, why.
    Diagnose(diagnose::Args),
    /// Renewal: diagnostics, then new key pairs next to the old, CMP kur, installed and
    /// confirmed; only then the old key and certificate go.
    Renew(renew::Args),
    /// Renewal reminders for every certificate this computer has seen, card inserted or not.
    Status(status::Args),
    /// Write the error file for a support request (no PIN, code or key is ever in it).
    SupportBundle {
        /// The folder to write it in (default: the current folder).
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
    },
    /// Key pairs on a token.
    #[command(subcommand)]
    Key(token_ops::KeyCommand),
    /// Build a certification request signed on the token by the key a URI names.
    Csr {
        /// The key: pkcs11:token=...;id=%..
        #[arg(long)]
        key: String,
        /// Subject common name (the registration authority sets the real subject).
        #[arg(long = "cn")]
        common_name: Option<String>,
        /// Also write the PEM request to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Certificates on a token.
    #[command(subcommand)]
    Cert(token_ops::CertCommand),
    /// The user PIN: status, change, unblock with the PUK.
    #[command(subcommand)]
    Pin(token_ops::PinCommand),
}

/// Print an error as cause and remedy, in the user's language, on stderr.
pub(crate) fn report(msg: &Messages, e: &ErrorPayload) {
    let r = msg.error(e);
    eprintln!("{}: {} [{}]\n  → {}", msg.text("error-title", &[]), r.cause, e.code, r.remedy);
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("TESSERA_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let lang = tessera_core::messages::Lang::pick(cli.lang.as_deref());
    let msg = Messages::new(lang);
    let ctx = token_ops::Ctx { msg: &msg, common: cli.common };
    match cli.command {
        Command::Devices(args) => devices::run(args, ctx.common.json, &ctx.common.modules, lang),
        Command::Activate(args) => activate::run(args, ctx.common.json, &ctx.common.modules, &msg, lang),
        Command::Diagnose(args) => diagnose::run(args, ctx.common.json, &ctx.common.modules, &msg),
        Command::Renew(args) => renew::run(args, ctx.common.json, &ctx.common.modules, &msg),
        Command::Status(args) => status::run(args, ctx.common.json, &ctx.common.modules, &msg),
        Command::SupportBundle { out } => activate::support_bundle(&out, &ctx.common.modules, &msg),
        Command::Key(cmd) => token_ops::key(&ctx, cmd),
        Command::Csr { key, common_name, out } => token_ops::csr(&ctx, key, common_name, out),
        Command::Cert(cmd) => token_ops::cert(&ctx, cmd),
        Command::Pin(cmd) => token_ops::pin(&ctx, cmd),
    }
}
