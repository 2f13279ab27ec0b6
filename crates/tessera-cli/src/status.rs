//! `tessera status`: the renewal reminders for every certificate this computer has seen,
//! with its card inserted or not (for scripts and cron; `--json`). `--at` looks ahead to a
//! date.

use std::process::ExitCode;

use fluent_bundle::FluentValue;
use tessera_core::devices::{Devices, Options};
use tessera_core::messages::Messages;

#[derive(clap::Args)]
pub struct Args {
    /// The reminders as of this moment (RFC 3339, e.g. 2027-03-01T00:00:00Z) instead of now.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
}

pub fn run(args: Args, json: bool, modules: &[String], msg: &Messages) -> ExitCode {
    let now = match &args.at {
        None => time::OffsetDateTime::now_utc(),
        Some(at) => match time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("--at {at}: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut options = Options::from_env();
    options.modules.extend(modules.iter().cloned());
    let snapshot = Devices::new(options).snapshot();
    let _ = tessera_flows::seen::remember(&snapshot, time::OffsetDateTime::now_utc());
    let reminders = tessera_flows::seen::reminders(Some(&snapshot), now);
    if json {
        println!("{}", serde_json::to_string_pretty(&reminders).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    if reminders.is_empty() {
        println!("{}", msg.text("status-none", &[]));
    }
    for r in &reminders {
        let s = |v: &str| FluentValue::from(v.to_owned());
        let role = msg.text(&format!("role-{}", crate::terminal::pki_role_name(r.certificate.role)), &[]);
        let args = [
            ("role", s(&role)),
            ("holder", s(&r.certificate.holder)),
            ("token", s(&r.certificate.token)),
            ("not_after", s(&r.certificate.not_after)),
            ("days", FluentValue::from(r.days_left.to_string())),
            ("present", s(if r.present { "yes" } else { "no" })),
        ];
        let id = if r.notice == 0 { "status-expired" } else { "status-due" };
        println!("{}", msg.text(id, &args));
    }
    ExitCode::SUCCESS
}
