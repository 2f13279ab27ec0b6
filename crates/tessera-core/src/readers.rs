//! PC/SC readers and the cards in them, read without connecting to any card.

use std::ffi::CString;
use std::time::Duration;

use pcsc::{Context, ReaderState, Scope, State};
use serde::Serialize;

use crate::atr::Atr;
use crate::error::Error;

/// A reader and, if a card is in it, the card's ATR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReaderStatus {
    pub name: String,
    /// Present card's ATR; empty when the card is mute (inserted but not answering).
    pub card: Option<Atr>,
}

pub(crate) fn establish() -> Result<Context, Error> {
    Context::establish(Scope::User).map_err(|e| Error::from_pcsc(e, None))
}

/// All readers with their cards. No reader is not an error here: the list is empty.
pub fn list() -> Result<Vec<ReaderStatus>, Error> {
    list_with(&establish()?)
}

pub(crate) fn list_with(ctx: &Context) -> Result<Vec<ReaderStatus>, Error> {
    let names = reader_names(ctx)?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut states: Vec<ReaderState> = names.into_iter().map(|n| ReaderState::new(n, State::UNAWARE)).collect();
    match ctx.get_status_change(Duration::ZERO, &mut states) {
        Ok(()) | Err(pcsc::Error::Timeout) => {}
        Err(e) => return Err(Error::from_pcsc(e, None)),
    }
    Ok(states.iter().map(status_of).collect())
}

pub(crate) fn reader_names(ctx: &Context) -> Result<Vec<CString>, Error> {
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(Error::from_pcsc(e, None)),
    }
}

pub(crate) fn status_of(state: &ReaderState) -> ReaderStatus {
    let event = state.event_state();
    let card = event
        .contains(State::PRESENT)
        .then(|| if event.contains(State::MUTE) { Atr(Vec::new()) } else { Atr(state.atr().to_vec()) });
    ReaderStatus { name: state.name().to_string_lossy().into_owned(), card }
}

/// Whether another program holds the card in `reader` exclusively (PC/SC sharing
/// violation), so that neither the middleware nor Tessera can use it now. pcsc-lite does
/// not say which program.
pub fn in_use_by_another(reader: &str) -> Result<bool, Error> {
    let ctx = establish()?;
    let name = CString::new(reader).map_err(|e| Error::Pcsc { reason: e.to_string() })?;
    match ctx.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY) {
        Ok(card) => {
            let _ = card.disconnect(pcsc::Disposition::LeaveCard);
            Ok(false)
        }
        Err(pcsc::Error::SharingViolation) => Ok(true),
        Err(e) => Err(Error::from_pcsc(e, Some(reader))),
    }
}
