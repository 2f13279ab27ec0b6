//! Logging in and setting PINs on a PKCS#11 session, with the final-try guard: a try is
//! spent only when the user chose to, and nothing is sent to a locked PIN.

use cryptoki::session::{Session, UserType};

use crate::error::Error;
use crate::pins::{FinalTry, Pin, PinState, Who};

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
