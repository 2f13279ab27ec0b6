//! PINs and logins. A PIN lives in a [`Pin`] (zeroized on drop, never printed), is only
//! sent to the token, and a try is spent only when the user chose to: on the final try
//! nothing is sent unless the caller confirms it.

use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::token::PinState;

/// A PIN or PUK. Debug shows nothing of it.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    pub fn new(value: impl Into<String>) -> Pin {
        Pin(Zeroizing::new(value.into()))
    }

    /// The PIN's characters, for card commands that carry it (never to log or print).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    fn auth(&self) -> AuthPin {
        AuthPin::new(self.0.as_str().into())
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(***)")
    }
}

/// Which PIN: the user's, or the security officer's (PUK / admin PIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    User,
    So,
}

/// Whether the caller accepts spending the last try before the PIN locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FinalTry {
    #[default]
    Refuse,
    Confirmed,
}

/// Refuse before sending anything when the PIN is locked, or on its final try unless
/// confirmed.
pub fn guard(state: PinState, final_try: FinalTry) -> Result<(), Error> {
    match (state, final_try) {
        (PinState::Locked, _) => Err(Error::PinLocked),
        (PinState::FinalTry, FinalTry::Refuse) => Err(Error::FinalTryNotConfirmed),
        _ => Ok(()),
    }
}

/// Log in; a wrong PIN reports the state the token is left in (`state_after`).
pub(crate) fn login(
    session: &Session,
    who: Who,
    pin: &Pin,
    state_after: impl FnOnce() -> PinState,
) -> Result<(), Error> {
    use cryptoki::error::{Error as C, RvError as R};
    let user = match who {
        Who::User => UserType::User,
        Who::So => UserType::So,
    };
    tracing::trace!(?who, "C_Login");
    match session.login(user, Some(&pin.auth())) {
        Ok(()) | Err(C::Pkcs11(R::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(C::Pkcs11(R::PinIncorrect, _)) if who == Who::User => Err(Error::WrongPin { state: state_after() }),
        Err(C::Pkcs11(R::PinIncorrect, _)) => Err(Error::WrongPuk),
        Err(C::Pkcs11(R::PinLocked, _)) => Err(Error::PinLocked),
        Err(e) => Err(Error::from_pkcs11(e, "login")),
    }
}

pub(crate) fn set_pin(session: &Session, old: &Pin, new: &Pin) -> Result<(), Error> {
    tracing::trace!("C_SetPIN");
    session.set_pin(&old.auth(), &new.auth()).map_err(|e| pin_error(e, "C_SetPIN"))
}

pub(crate) fn init_pin(session: &Session, new: &Pin) -> Result<(), Error> {
    tracing::trace!("C_InitPIN");
    session.init_pin(&new.auth()).map_err(|e| pin_error(e, "C_InitPIN"))
}

fn pin_error(e: cryptoki::error::Error, what: &str) -> Error {
    use cryptoki::error::{Error as C, RvError as R};
    match e {
        C::Pkcs11(R::PinLenRange | R::PinInvalid, _) => Error::PinRejected,
        other => Error::from_pkcs11(other, what),
    }
}

/// Change the user PIN (the old one is checked by the token).
pub fn change(token: &crate::token::OpenToken<'_>, old: &Pin, new: &Pin, final_try: FinalTry) -> Result<(), Error> {
    let session = token.session(true)?;
    token.login(&session, Who::User, old, final_try)?;
    let result = set_pin(&session, old, new);
    let _ = session.logout();
    result
}

/// Catalog quirk: the middleware cannot reset the user PIN; the card application's own
/// commands do (OpenPGP: VERIFY PW3 + RESET RETRY COUNTER; PIV: RESET RETRY COUNTER with
/// the PUK).
pub const QUIRK_UNBLOCK_BY_CARD: crate::catalog::QuirkId = crate::catalog::QuirkId::UnblockWithCardCommands;

/// Unblock (or reset) the user PIN with the PUK: security-officer login, then C_InitPIN;
/// or the card's own commands where its catalog entry says the middleware cannot.
pub fn unblock(token: &crate::token::OpenToken<'_>, puk: &Pin, new: &Pin) -> Result<(), Error> {
    if let (Some(model), Some(reader)) = (&token.model, &token.reader)
        && model.has_quirk(QUIRK_UNBLOCK_BY_CARD)
    {
        match model.application {
            Some(crate::catalog::Application::Openpgp) => {
                return crate::openpgp::OpenPgpCard::connect(reader)?.reset_user_pin(puk, new);
            }
            Some(crate::catalog::Application::Piv) => {
                return crate::piv::PivCard::connect(reader)?.unblock_pin(puk, new);
            }
            _ => {}
        }
    }
    let session = token.session(true)?;
    token.login(&session, Who::So, puk, FinalTry::Confirmed)?;
    let result = init_pin(&session, new);
    let _ = session.logout();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_never_show() {
        assert_eq!(format!("{:?}", Pin::new("123456")), "Pin(***)");
    }

    #[test]
    fn final_try_needs_confirmation_and_locked_sends_nothing() {
        assert!(guard(PinState::Ok, FinalTry::Refuse).is_ok());
        assert_eq!(guard(PinState::FinalTry, FinalTry::Refuse).unwrap_err().code(), "pin-final-try");
        assert!(guard(PinState::FinalTry, FinalTry::Confirmed).is_ok());
        assert_eq!(guard(PinState::Locked, FinalTry::Confirmed).unwrap_err().code(), "pin-locked");
    }
}
