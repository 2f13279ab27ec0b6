//! What every flow command does around its flow: the device engine with the modules the
//! user named, the settings with `--ra` / `--ra-ca` over the settings file, a runtime for
//! the network, and the result printed (`--json`) or its error reported.

use std::path::PathBuf;
use std::process::ExitCode;

use tessera_core::devices::{Devices, Options};
use tessera_core::messages::Messages;
use tessera_flows::settings::Settings;

/// The device engine, with `modules` added to those of the environment.
pub fn devices(modules: &[String]) -> Devices {
    let mut options = Options::from_env();
    options.modules.extend(modules.iter().cloned());
    Devices::new(options)
}

/// The settings file's, with the command line's RA and trust anchor over it.
pub fn settings(ra: Option<String>, ra_ca: Option<PathBuf>) -> tessera_flows::Result<Settings> {
    let mut settings = Settings::load()?;
    if let Some(ra) = ra {
        settings.ra = ra;
    }
    if let Some(ca) = ra_ca {
        settings.ra_ca = Some(ca);
    }
    Ok(settings)
}

/// Run a flow's future to its end on a runtime of its own.
pub fn block_on<T>(f: impl std::future::Future<Output = tessera_flows::Result<T>>) -> tessera_flows::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| tessera_flows::Error::Input { reason: e.to_string() })?
        .block_on(f)
}

/// Print the outcome (JSON, or `text`) or report the error; the exit status.
pub fn finish<T: serde::Serialize>(
    result: tessera_flows::Result<T>,
    json: bool,
    msg: &Messages,
    text: impl FnOnce(&T) -> String,
) -> ExitCode {
    match result {
        Ok(outcome) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&outcome).unwrap_or_default());
            } else {
                println!("{}", text(&outcome));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            crate::report(msg, &e.payload());
            ExitCode::FAILURE
        }
    }
}
