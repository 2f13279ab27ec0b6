//! Live reader and card events from PC/SC: the PnP notification pseudo-reader plus
//! `SCardGetStatusChange` on every reader, blocking in pcscd (no polling loop of our own).

use std::collections::BTreeMap;

use pcsc::{Context, PNP_NOTIFICATION, ReaderState, State};
use serde::Serialize;

use crate::atr::Atr;
use crate::error::Error;
use crate::readers::{self, ReaderStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum DeviceEvent {
    ReaderAttached { reader: String },
    ReaderDetached { reader: String },
    CardInserted { reader: String, atr: Atr },
    CardRemoved { reader: String },
}

/// Stops a [`Watcher`] blocked in another thread.
#[derive(Clone)]
pub struct Canceller(Context);

impl Canceller {
    pub fn cancel(&self) {
        let _ = self.0.cancel();
    }
}

pub struct Watcher {
    ctx: Context,
    /// states[0] is the PnP pseudo-reader.
    states: Vec<ReaderState>,
    known: BTreeMap<String, Option<Atr>>,
}

impl Watcher {
    /// Connect to pcscd and read the current state.
    pub fn new() -> Result<Watcher, Error> {
        let ctx = readers::establish()?;
        let mut w =
            Watcher { ctx, states: vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)], known: BTreeMap::new() };
        w.rescan_readers(&mut Vec::new())?;
        w.wait(Some(std::time::Duration::ZERO))?;
        // The initial state is not an event: remember it quietly.
        for s in &w.states[1..] {
            let st = readers::status_of(s);
            w.known.insert(st.name, st.card);
        }
        Ok(w)
    }

    pub fn canceller(&self) -> Canceller {
        Canceller(self.ctx.clone())
    }

    /// Readers and cards as of the last event.
    pub fn current(&self) -> Vec<ReaderStatus> {
        self.known.iter().map(|(name, card)| ReaderStatus { name: name.clone(), card: card.clone() }).collect()
    }

    /// Block until something changes; `Ok(None)` once cancelled.
    pub fn next_events(&mut self) -> Result<Option<Vec<DeviceEvent>>, Error> {
        loop {
            if !self.wait(None)? {
                return Ok(None);
            }
            let mut events = Vec::new();
            if self.states[0].event_state().contains(State::CHANGED) {
                self.rescan_readers(&mut events)?;
            }
            for s in &self.states[1..] {
                if !s.event_state().contains(State::CHANGED) {
                    continue;
                }
                let status = readers::status_of(s);
                let before = self.known.get(&status.name).cloned().flatten();
                match (&before, &status.card) {
                    (None, Some(atr)) => {
                        events.push(DeviceEvent::CardInserted { reader: status.name.clone(), atr: atr.clone() })
                    }
                    (Some(_), None) => events.push(DeviceEvent::CardRemoved { reader: status.name.clone() }),
                    (Some(a), Some(b)) if a != b => {
                        events.push(DeviceEvent::CardRemoved { reader: status.name.clone() });
                        events.push(DeviceEvent::CardInserted { reader: status.name.clone(), atr: b.clone() });
                    }
                    _ => {}
                }
                self.known.insert(status.name, status.card);
            }
            for s in &mut self.states {
                s.sync_current_state();
            }
            if !events.is_empty() {
                return Ok(Some(events));
            }
        }
    }

    /// One SCardGetStatusChange; false when cancelled.
    fn wait(&mut self, timeout: Option<std::time::Duration>) -> Result<bool, Error> {
        match self.ctx.get_status_change(timeout, &mut self.states) {
            Ok(()) | Err(pcsc::Error::Timeout) => Ok(true),
            Err(pcsc::Error::Cancelled) => Ok(false),
            Err(e) => Err(Error::from_pcsc(e, None)),
        }
    }

    fn rescan_readers(&mut self, events: &mut Vec<DeviceEvent>) -> Result<(), Error> {
        let names: Vec<String> =
            readers::reader_names(&self.ctx)?.into_iter().map(|n| n.to_string_lossy().into_owned()).collect();
        let gone: Vec<String> = self.known.keys().filter(|k| !names.contains(k)).cloned().collect();
        for name in gone {
            if let Some(Some(_)) = self.known.remove(&name) {
                events.push(DeviceEvent::CardRemoved { reader: name.clone() });
            }
            events.push(DeviceEvent::ReaderDetached { reader: name.clone() });
            self.states.retain(|s| s.name().to_string_lossy() != name);
        }
        for name in names {
            if self.states[1..].iter().any(|s| s.name().to_string_lossy() == name) {
                continue;
            }
            events.push(DeviceEvent::ReaderAttached { reader: name.clone() });
            self.known.entry(name.clone()).or_insert(None);
            let cname = std::ffi::CString::new(name).unwrap_or_default();
            self.states.push(ReaderState::new(cname, State::UNAWARE));
        }
        Ok(())
    }
}
