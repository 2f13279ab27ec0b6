//! Following devices as they come and go: reader/card events from [`Watcher`], with
//! reconnection when pcscd goes away and comes back (only then do we retry on a timer).

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::devices::{Devices, Snapshot};
use crate::error::ErrorPayload;
use crate::watch::{DeviceEvent, Watcher};

/// How often to try pcscd again while it is unavailable.
pub const RECONNECT_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LiveEvent {
    /// Connected to pcscd (at start, or again after losing it).
    Connected,
    Devices {
        events: Vec<DeviceEvent>,
    },
    /// pcscd is unavailable; retrying.
    Lost {
        error: ErrorPayload,
    },
}

/// Run until `on_event` breaks. Blocking: give it a thread.
pub fn follow(mut on_event: impl FnMut(LiveEvent) -> ControlFlow<()>) {
    let mut lost = false;
    loop {
        let mut watcher = match Watcher::new() {
            Ok(w) => w,
            Err(e) => {
                if !lost && on_event(LiveEvent::Lost { error: e.payload() }).is_break() {
                    return;
                }
                lost = true;
                std::thread::sleep(RECONNECT_EVERY);
                continue;
            }
        };
        if on_event(LiveEvent::Connected).is_break() {
            return;
        }
        loop {
            match watcher.next_events() {
                Ok(Some(events)) => {
                    if on_event(LiveEvent::Devices { events }).is_break() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    lost = true;
                    if on_event(LiveEvent::Lost { error: e.payload() }).is_break() {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

/// A [`Devices`] engine shared between the window's commands and its live thread.
#[derive(Clone)]
pub struct SharedDevices(Arc<Mutex<Devices>>);

impl SharedDevices {
    pub fn new(devices: Devices) -> Self {
        SharedDevices(Arc::new(Mutex::new(devices)))
    }

    pub fn snapshot(&self) -> Snapshot {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).snapshot()
    }

    /// Run `f` with the engine to itself (a flow on the card): snapshots wait meanwhile.
    pub fn with<R>(&self, f: impl FnOnce(&mut Devices) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
