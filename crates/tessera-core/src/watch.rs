//! Live reader and card events from PC/SC: the PnP notification pseudo-reader plus
//! `SCardGetStatusChange` on every reader, blocking in pcscd (no polling loop of our own).
//! What each system does differently:
//! - macOS has no reader-change notification: the reader list is read again every second.
//! - A card swapped for another between two looks may show as a reset (macOS) or as the
//!   same ATR (two cards of one model): the reader's insertion count says it changed.
//! - Windows stops its Smart Card service with the last reader unplugged: the watcher's
//!   context fails, and [`crate::live::follow`] makes a new one when a reader comes back
//!   (the error then means no reader, not PC/SC missing: see [`Error::from_pcsc`]).

use std::collections::BTreeMap;
use std::time::Duration;

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

/// Whether the system notifies reader changes through the PnP pseudo-reader.
const PNP: bool = !cfg!(target_os = "macos");
/// Where it does not, how often the reader list is read again.
const RESCAN_EVERY: Option<Duration> = if PNP { None } else { Some(Duration::from_secs(1)) };
/// The first real reader in `states` (after the PnP pseudo-reader, where there is one).
const FIRST: usize = if PNP { 1 } else { 0 };

pub struct Watcher {
    ctx: Context,
    /// The PnP pseudo-reader first (where there is one), then each reader.
    states: Vec<ReaderState>,
    known: BTreeMap<String, Option<Atr>>,
    /// Each reader's card event count as last seen (the high word of its event state).
    counts: BTreeMap<String, u32>,
}

/// The events of one reader's change: the card before and after, and whether its card
/// event count moved (a card taken out and another put in between two looks, even with
/// the same ATR or reported as a reset).
fn card_events(reader: &str, before: Option<&Atr>, after: Option<&Atr>, counted: bool) -> Vec<DeviceEvent> {
    let removed = || DeviceEvent::CardRemoved { reader: reader.to_owned() };
    let inserted = |atr: &Atr| DeviceEvent::CardInserted { reader: reader.to_owned(), atr: atr.clone() };
    match (before, after) {
        (None, Some(atr)) => vec![inserted(atr)],
        (Some(_), None) => vec![removed()],
        (Some(a), Some(b)) if a != b || counted => vec![removed(), inserted(b)],
        _ => vec![],
    }
}

impl Watcher {
    /// Connect to pcscd and read the current state.
    pub fn new() -> Result<Watcher, Error> {
        let ctx = readers::establish()?;
        let states = if PNP { vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)] } else { Vec::new() };
        let mut w = Watcher { ctx, states, known: BTreeMap::new(), counts: BTreeMap::new() };
        w.rescan_readers(&mut Vec::new())?;
        w.wait(Some(Duration::ZERO))?;
        // The initial state is not an event: remember it quietly.
        for s in &w.states[FIRST..] {
            let st = readers::status_of(s);
            w.counts.insert(st.name.clone(), s.event_count());
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
            if !self.wait(RESCAN_EVERY)? {
                return Ok(None);
            }
            let mut events = Vec::new();
            if !PNP || self.states[0].event_state().contains(State::CHANGED) {
                self.rescan_readers(&mut events)?;
            }
            for s in &self.states[FIRST..] {
                if !s.event_state().contains(State::CHANGED) {
                    continue;
                }
                let status = readers::status_of(s);
                let before = self.known.get(&status.name).cloned().flatten();
                let count = s.event_count();
                let counted = self.counts.insert(status.name.clone(), count).is_some_and(|c| c != count);
                events.extend(card_events(&status.name, before.as_ref(), status.card.as_ref(), counted));
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
    fn wait(&mut self, timeout: Option<Duration>) -> Result<bool, Error> {
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
            self.counts.remove(&name);
            self.states.retain(|s| s.name().to_string_lossy() != name);
        }
        for name in names {
            if self.states[FIRST..].iter().any(|s| s.name().to_string_lossy() == name) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn atr(bytes: &[u8]) -> Atr {
        Atr(bytes.to_vec())
    }

    #[test]
    fn a_reader_s_change_becomes_card_events() {
        let (a, b) = (atr(&[0x3B, 0x8A, 0x80, 0x01]), atr(&[0x3B, 0x02, 0x14, 0x50]));
        let removed = DeviceEvent::CardRemoved { reader: "R".into() };
        let inserted = |atr: &Atr| DeviceEvent::CardInserted { reader: "R".into(), atr: atr.clone() };
        assert_eq!(card_events("R", None, Some(&a), true), vec![inserted(&a)]);
        assert_eq!(card_events("R", Some(&a), None, true), vec![removed.clone()]);
        assert_eq!(card_events("R", Some(&a), Some(&b), false), vec![removed.clone(), inserted(&b)]);
        // Another card of the same model, or a swap the system reports as a reset: only the
        // reader's card event count shows it.
        assert_eq!(card_events("R", Some(&a), Some(&a), true), vec![removed.clone(), inserted(&a)]);
        // The same card, its state changed (in use, reset by a program): nothing.
        assert_eq!(card_events("R", Some(&a), Some(&a), false), Vec::<DeviceEvent>::new());
        assert_eq!(card_events("R", None, None, true), Vec::<DeviceEvent>::new());
    }

    #[test]
    fn readers_are_listed_again_where_there_is_no_pnp_notification() {
        assert_eq!(RESCAN_EVERY.is_some(), cfg!(target_os = "macos"));
        assert_eq!(FIRST, usize::from(PNP));
    }
}
