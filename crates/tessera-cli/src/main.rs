//! `tessera`: Tessera's engine from the command line.

mod devices;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "tessera", version, about = "Smart-card certificate enrollment and renewal")]
struct Cli {
    /// Language of messages: it (default) or en. Defaults from LANG.
    #[arg(long, global = true)]
    lang: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Readers, cards and tokens with their certificates.
    Devices(devices::Args),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("TESSERA_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let lang = tessera_core::messages::Lang::pick(cli.lang.as_deref());
    match cli.command {
        Command::Devices(args) => devices::run(args, lang),
    }
}
