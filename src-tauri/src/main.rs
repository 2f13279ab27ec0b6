//! Tessera's window. Every command is a one-line async adapter into tessera-core and
//! tessera-flows; the live thread turns PC/SC events into a fresh snapshot for the UI.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod activation;
mod counter;
mod flow_thread;
mod reminders;
mod renewal;
mod window_prompter;

use std::ops::ControlFlow;

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use tauri::{Emitter, Manager};
use tessera_core::ErrorPayload;
use tessera_core::devices::{Devices, Options, Snapshot};
use tessera_core::live::{self, LiveEvent, SharedDevices};
use tessera_core::messages::Lang;
use tessera_flows::activation::Outcome;
use tessera_flows::link::{self, Opened};
use tessera_flows::operator::{Held, SignedIn};
use tessera_pki::codice_fiscale::CfCheck;
use window_prompter::Pending;

/// What the UI receives on "devices-changed": why, and the devices now.
#[derive(Clone, Serialize)]
struct Changed {
    cause: LiveEvent,
    snapshot: Snapshot,
}

#[tauri::command]
async fn devices_snapshot(devices: tauri::State<'_, SharedDevices>) -> Result<Snapshot, ()> {
    blocking(devices.inner().clone(), |d| seen(d.snapshot())).await
}

/// Remember the certificates of a snapshot for the renewal reminders (card absent later).
fn seen(mut snapshot: Snapshot) -> Snapshot {
    let _ = tessera_flows::seen::remember(&snapshot, time::OffsetDateTime::now_utc());
    tessera_flows::renewal::lineage::annotate(&mut snapshot);
    snapshot
}

#[tauri::command]
async fn renewal_reminders(devices: tauri::State<'_, SharedDevices>) -> Result<Vec<tessera_flows::seen::Reminder>, ()> {
    blocking(devices.inner().clone(), |d| {
        tessera_flows::seen::reminders(Some(&d.snapshot()), time::OffsetDateTime::now_utc())
    })
    .await
}

#[tauri::command]
async fn default_language() -> Lang {
    Lang::pick(None)
}

#[tauri::command]
async fn check_tax_code(code: String) -> CfCheck {
    tessera_pki::codice_fiscale::check(&code)
}

#[tauri::command]
async fn activation_start(
    app: tauri::AppHandle,
    devices: tauri::State<'_, SharedDevices>,
    pending: tauri::State<'_, Pending>,
    held: tauri::State<'_, Held>,
    start: activation::Start,
) -> Result<Outcome, ErrorPayload> {
    activation::run(app, devices.inner().clone(), pending.inner().clone(), held.inner().clone(), start).await
}

#[tauri::command]
async fn renewal_start(
    app: tauri::AppHandle,
    devices: tauri::State<'_, SharedDevices>,
    pending: tauri::State<'_, Pending>,
    start: renewal::Start,
) -> Result<tessera_flows::renewal::Outcome, ErrorPayload> {
    renewal::run(app, devices.inner().clone(), pending.inner().clone(), start).await
}

#[tauri::command]
async fn support_bundle(
    devices: tauri::State<'_, SharedDevices>,
    lang: Lang,
    shown: Option<ErrorPayload>,
) -> Result<String, ErrorPayload> {
    activation::support_bundle(devices.inner().clone(), lang, shown).await
}

#[tauri::command]
async fn operator_sign_in(
    held: tauri::State<'_, Held>,
    name: String,
    password: String,
    code: String,
) -> Result<SignedIn, ErrorPayload> {
    counter::sign_in(held.inner().clone(), name, password, code).await
}

#[tauri::command]
async fn operator_sign_out(held: tauri::State<'_, Held>) -> Result<(), ErrorPayload> {
    counter::sign_out(held.inner().clone()).await
}

#[tauri::command]
async fn operator_signed_in(held: tauri::State<'_, Held>) -> Result<Option<SignedIn>, ()> {
    Ok(held.who())
}

#[tauri::command]
async fn flow_answer(pending: tauri::State<'_, Pending>, id: u64, answer: Option<String>) -> Result<bool, ()> {
    Ok(pending.answer(id, answer))
}

/// The `tessera://` links not yet opened, oldest first: the one the app was started with
/// (the desktop entry passes it) and those handed over by second starts, kept until the
/// window takes them (a link that comes while the window loads is not lost).
#[derive(Default)]
struct Links(Mutex<VecDeque<String>>);

impl Links {
    fn push(&self, link: String) {
        if let Ok(mut queue) = self.0.lock() {
            queue.push_back(link);
        }
    }
}

#[tauri::command]
async fn take_links(links: tauri::State<'_, Links>) -> Result<Vec<Opened>, ()> {
    Ok(links.0.lock().map_err(|_| ())?.drain(..).map(|l| Opened::of(&l)).collect())
}

/// The first `tessera://` argument, if any (an argument that is not text is no link).
fn link_in(args: impl IntoIterator<Item = std::ffi::OsString>) -> Option<String> {
    args.into_iter().skip(1).filter_map(|a| a.into_string().ok()).find(|a| link::is_link(a))
}

/// A second start (a link clicked while the app runs): its link is queued for this window,
/// which comes to the front and is told; the second process exits.
fn second_start(app: &tauri::AppHandle, argv: Vec<String>, _cwd: String) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
    if let Some(l) = link_in(argv.into_iter().map(Into::into)) {
        app.state::<Links>().push(l);
        let _ = app.emit("links-waiting", ());
    }
}

/// Run a device call off the main thread (a slow module must not freeze the window).
async fn blocking<R: Send + 'static>(
    devices: SharedDevices,
    f: impl FnOnce(&SharedDevices) -> R + Send + 'static,
) -> Result<R, ()> {
    tauri::async_runtime::spawn_blocking(move || f(&devices)).await.map_err(|_| ())
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("TESSERA_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let devices = SharedDevices::new(Devices::new(Options::from_env()));
    let links = Links::default();
    if let Some(l) = link_in(std::env::args_os()) {
        links.push(l);
    }
    tauri::Builder::default()
        // First, so that a second start hands over its link before it opens anything.
        .plugin(tauri_plugin_single_instance::init(second_start))
        .plugin(tauri_plugin_notification::init())
        .manage(links)
        .manage(devices.clone())
        .manage(Pending::default())
        .manage(Held::default())
        .invoke_handler(tauri::generate_handler![
            devices_snapshot,
            default_language,
            check_tax_code,
            activation_start,
            flow_answer,
            operator_sign_in,
            operator_sign_out,
            operator_signed_in,
            support_bundle,
            renewal_reminders,
            renewal_start,
            take_links
        ])
        .setup(move |app| {
            reminders::spawn(app.handle().clone(), devices.clone())?;
            let handle = app.handle().clone();
            std::thread::Builder::new().name("devices-live".into()).spawn(move || {
                live::follow(|cause| {
                    let snapshot = seen(devices.snapshot());
                    match handle.emit("devices-changed", Changed { cause, snapshot }) {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(_) => ControlFlow::Break(()),
                    }
                })
            })?;
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running Tessera");
}
