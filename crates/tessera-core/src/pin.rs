//! PINs and logins. A PIN lives in a [`Pin`] (zeroized on drop, never printed), is only
//! sent to the token, and a try is spent only when the user chose to: on the final try
//! nothing is sent unless the caller confirms it. Here: changing and unblocking the user
//! PIN; the values are in [`crate::pins`], logging in in [`crate::login`].

use crate::error::Error;
pub use crate::login::guard;
use crate::login::{init_pin, set_pin};
pub use crate::pins::{FinalTry, Pin, Who};

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
    use crate::pins::PinState;

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
