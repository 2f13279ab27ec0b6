//! `tessera-ra`: the reference registration authority and CA.
//!
//!   tessera-ra --config ra.toml
//!   tessera-ra --check-config ra.toml
//!   tessera-ra operator add|list|disable|reset --config ra.toml …
//!   tessera-ra audit verify --config ra.toml
//!
//! Plain HTTP is served on loopback only; anywhere else `[tls]` is required.
#![forbid(unsafe_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tessera_ra::config::{Config, Tls};

fn fail(message: String) -> ! {
    eprintln!("tessera-ra: {message}");
    std::process::exit(2)
}

#[derive(clap::Parser)]
#[command(name = "tessera-ra", version, about = "Tessera's reference registration authority and CA")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    /// Serve with this configuration.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Check this configuration without starting (nothing made, written or listened on):
    /// exit status 0 when it would start, 2 with the problem otherwise.
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    check_config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Operator accounts of the console and the API.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(clap::Subcommand)]
enum OperatorCommand {
    /// Create an account: prints its one-time password and its one-time-code enrolment URI.
    Add {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long)]
        name: String,
        /// The registration office's code (made when new).
        #[arg(long, value_name = "CODE")]
        office: String,
        /// operator, supervisor or verifier.
        #[arg(long, value_parser = ["operator", "supervisor", "verifier"])]
        role: String,
        #[arg(long, value_name = "ADDR")]
        email: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the accounts.
    List {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Disable an account (its sessions end; `--enable` undoes it).
    Disable {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        enable: bool,
    },
    /// A new one-time password, and with `--otp` a new one-time-code device.
    Reset {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        otp: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Subcommand)]
enum AuditCommand {
    /// Check the audit log's hash chain: exit status 1 when an entry was changed, removed
    /// or inserted.
    Verify {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("TESSERA_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = <Cli as clap::Parser>::parse();
    if let Some(path) = cli.check_config {
        let config = Config::load(&path).unwrap_or_else(|e| fail(e));
        let said = tessera_ra::startup::check(&path, &config).unwrap_or_else(|e| fail(e));
        println!("{}: ok", path.display());
        for line in said {
            println!("  {line}");
        }
        return;
    }
    match (cli.command, cli.config) {
        (Some(Command::Operator(c)), _) => tessera_ra::admin::operator(c.into()).await.unwrap_or_else(|e| fail(e)),
        (Some(Command::Audit(AuditCommand::Verify { config })), _) => {
            let ok = tessera_ra::admin::verify_audit(&config).await.unwrap_or_else(|e| fail(e));
            std::process::exit(if ok { 0 } else { 1 });
        }
        (None, Some(path)) => {
            let config = Config::load(&path).unwrap_or_else(|e| fail(e));
            serve(&path, &config).await;
        }
        (None, None) => fail("usage: tessera-ra --config FILE, --check-config FILE (or a command: --help)".into()),
    }
}

impl From<OperatorCommand> for tessera_ra::admin::Operator {
    fn from(c: OperatorCommand) -> Self {
        use tessera_ra::admin::Operator as O;
        match c {
            OperatorCommand::Add { config, name, office, role, email, json } => {
                O::Add { config, name, office, role, email, json }
            }
            OperatorCommand::List { config, json } => O::List { config, json },
            OperatorCommand::Disable { config, name, enable } => O::Disable { config, name, enable },
            OperatorCommand::Reset { config, name, otp, json } => O::Reset { config, name, otp, json },
        }
    }
}

async fn serve(path: &std::path::Path, config: &Config) {
    if !config.listen.ip().is_loopback() && config.tls.is_none() {
        fail(format!("{}: plain HTTP is served on loopback only: configure [tls]", config.listen));
    }
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.unwrap_or_else(|e| fail(format!("{}: {e}", config.listen)));
    let addr = listener.local_addr().unwrap_or(config.listen);
    let ra = Arc::new(tessera_ra::startup::open(path, config, addr).await.unwrap_or_else(|e| fail(e)));
    tessera_ra::app::spawn_sweeper(ra.clone(), config.cmp.confirm_seconds);
    let app = tessera_ra::app::app(ra.clone()).into_make_service_with_connect_info::<SocketAddr>();
    if let Some(tls) = &config.tls {
        let (chain, key) = tls_material(tls, &ra, addr);
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

/// The TLS certificate chain and key (DER): from the configured files, or made by the RA's
/// own issuing CA for the configured names.
fn tls_material(tls: &Tls, ra: &tessera_ra::state::Ra, addr: SocketAddr) -> (Vec<Vec<u8>>, Vec<u8>) {
    match (&tls.certificate, &tls.key) {
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
    }
}
