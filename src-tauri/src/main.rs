//! Tessera's window. Every command is a one-line adapter into tessera-core; the live
//! thread turns PC/SC events into a fresh snapshot for the UI.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::ops::ControlFlow;

use serde::Serialize;
use tauri::Emitter;
use tessera_core::devices::{Devices, Options, Snapshot};
use tessera_core::live::{self, LiveEvent, SharedDevices};
use tessera_core::messages::Lang;

/// What the UI receives on "devices-changed": why, and the devices now.
#[derive(Clone, Serialize)]
struct Changed {
    cause: LiveEvent,
    snapshot: Snapshot,
}

#[tauri::command]
fn devices_snapshot(devices: tauri::State<'_, SharedDevices>) -> Snapshot {
    devices.snapshot()
}

#[tauri::command]
fn default_language() -> Lang {
    Lang::pick(None)
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("TESSERA_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let devices = SharedDevices::new(Devices::new(Options::from_env()));
    tauri::Builder::default()
        .manage(devices.clone())
        .invoke_handler(tauri::generate_handler![devices_snapshot, default_language])
        .setup(move |app| {
            let handle = app.handle().clone();
            std::thread::Builder::new().name("devices-live".into()).spawn(move || {
                live::follow(|cause| {
                    let snapshot = devices.snapshot();
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
