//! The activation flow run for the window: on a thread of its own (the card and the
//! network block), with the shared device engine to itself, answering through the UI.

use serde::Deserialize;
use tauri::AppHandle;
use tessera_core::ErrorPayload;
use tessera_core::live::SharedDevices;
use tessera_flows::Refusal;
use tessera_flows::activation::{Activation, Mode, Outcome};
use tessera_flows::operator::Held;
use tessera_flows::settings::Settings;

use crate::window_prompter::{Pending, WindowPrompter};

/// What the wizard starts the flow with.
#[derive(Debug, Clone, Deserialize)]
pub struct Start {
    /// The card or token (PKCS#11 URI); None: the only one present.
    pub token: Option<String>,
    /// "holder" or "operator".
    pub mode: String,
    /// The request a `tessera://` link named: at home, the code typed must be for it; at
    /// the counter, it is armed by this reference, without a code.
    #[serde(default)]
    pub reference: Option<String>,
}

pub async fn run(
    app: AppHandle,
    devices: SharedDevices,
    pending: Pending,
    held: Held,
    start: Start,
) -> Result<Outcome, ErrorPayload> {
    let flow = move || {
        let settings = Settings::load()?;
        let mode = match start.mode.as_str() {
            // Signed in first, in the wizard; a session gone idle is signed out.
            "operator" => Mode::Operator(
                held.take_use().ok_or(tessera_flows::Error::RaRefused(Refusal::OperatorSessionEnded {}))?,
            ),
            _ => Mode::Holder,
        };
        let runtime = crate::flow_thread::runtime()?;
        let mut prompter = WindowPrompter { app, pending: pending.clone() };
        let result = devices.with(|devices| {
            let flow = Activation::new(devices, settings, start.token, mode);
            runtime.block_on(flow.run_for(&mut prompter, start.reference.as_deref()))
        });
        if result.as_ref().is_err_and(tessera_flows::operator::signed_out) {
            held.forget();
        }
        result
    };
    crate::flow_thread::run(flow).await
}

/// The error file, saved in the downloads folder; its path.
pub async fn support_bundle(
    devices: SharedDevices,
    lang: tessera_core::messages::Lang,
    shown: Option<ErrorPayload>,
) -> Result<String, ErrorPayload> {
    let write = move || {
        let msg = tessera_core::messages::Messages::new(lang);
        let snapshot = devices.snapshot();
        tessera_flows::support::write(&msg, shown.as_ref(), &snapshot, &tessera_flows::support::default_dir())
            .map(|p| p.display().to_string())
    };
    crate::flow_thread::run(write).await
}
