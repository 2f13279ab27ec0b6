//! The renewal flow run for the window, as `activation.rs` runs activation: on a thread of
//! its own, with the shared device engine, asking through the UI (the PIN only).

use serde::Deserialize;
use tauri::AppHandle;
use tessera_core::ErrorPayload;
use tessera_core::live::SharedDevices;
use tessera_flows::renewal::{Outcome, Renewal};
use tessera_flows::settings::Settings;

use crate::window_prompter::{Pending, WindowPrompter};

/// What the renewal wizard starts the flow with: the card, and the certificate to renew.
#[derive(Debug, Clone, Deserialize)]
pub struct Start {
    pub token: String,
    pub certificate: Option<String>,
}

pub async fn run(
    app: AppHandle,
    devices: SharedDevices,
    pending: Pending,
    start: Start,
) -> Result<Outcome, ErrorPayload> {
    let flow = move || {
        let settings = Settings::load()?;
        let runtime = crate::flow_thread::runtime()?;
        let mut prompter = WindowPrompter { app, pending };
        devices.with(|devices| {
            let flow =
                Renewal { devices, settings, token: start.token, certificate: start.certificate, retire_old: false };
            runtime.block_on(flow.run(&mut prompter))
        })
    };
    crate::flow_thread::run(flow).await
}
