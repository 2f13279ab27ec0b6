//! The card's secrets during one flow: asked through the prompter (after showing the PIN's
//! state and tries left), kept in memory (zeroized) for the flow's next card visit, and
//! forgotten when the card refuses them.

use tessera_core::card::Secrets;
use tessera_core::pin::{Pin, Who};
use tessera_core::piv::ManagementKey;
use tessera_core::token::OpenToken;
use zeroize::Zeroizing;

use crate::prompter::{PinKind, Progress, Prompter, Question};
use crate::{Error, Result};

pub struct Asked<'p> {
    pub prompter: &'p mut dyn Prompter,
    user: Option<Pin>,
    so: Option<Pin>,
    management: Option<Zeroizing<String>>,
    /// The prompter's own failure (cancelled, input closed), which the device layer's
    /// error type cannot carry.
    failed: Option<Error>,
}

/// Wrong PINs a flow lets the holder correct before it stops (each shows tries left; the
/// final try is never spent without confirmation).
const PIN_ATTEMPTS: usize = 3;

impl<'p> Asked<'p> {
    pub fn new(prompter: &'p mut dyn Prompter) -> Asked<'p> {
        Asked { prompter, user: None, so: None, management: None, failed: None }
    }

    fn ask(&mut self, q: &Question) -> std::result::Result<Zeroizing<String>, tessera_core::Error> {
        self.prompter.ask(q).map_err(|e| {
            let reason = e.to_string();
            self.failed = Some(e);
            tessera_core::Error::Input { reason }
        })
    }

    /// What a blank card was just given: no need to ask for it.
    pub fn know(&mut self, pin: Pin, puk: Pin, management_key: Option<Zeroizing<String>>) {
        self.user = Some(pin);
        self.so = Some(puk);
        if management_key.is_some() {
            self.management = management_key;
        }
    }

    /// The card management key the RA released (a PIV card's renewal): not asked then.
    pub fn know_management_key(&mut self, management_key: Zeroizing<String>) {
        self.management = Some(management_key);
    }

    /// Run a card operation; a wrong PIN is reported and asked again.
    pub fn retry<T>(
        &mut self,
        mut op: impl FnMut(&mut Self) -> std::result::Result<T, tessera_core::Error>,
    ) -> Result<T> {
        for attempt in 1.. {
            match op(self) {
                Err(e @ (tessera_core::Error::WrongPin { .. } | tessera_core::Error::WrongPuk))
                    if attempt < PIN_ATTEMPTS =>
                {
                    let p = e.payload();
                    self.prompter.progress(&Progress::Notice { code: format!("error-{}", p.code), params: p.params });
                }
                Err(e) => return Err(self.failed.take().unwrap_or(Error::Device(e))),
                Ok(v) => return Ok(v),
            }
        }
        unreachable!("the loop returns")
    }
}

impl Secrets for Asked<'_> {
    fn pin(&mut self, token: &OpenToken<'_>, who: Who) -> std::result::Result<Pin, tessera_core::Error> {
        let cached = match who {
            Who::User => &self.user,
            Who::So => &self.so,
        };
        if let Some(p) = cached {
            return Ok(p.clone());
        }
        let question = match who {
            Who::User => Question::Pin {
                token: token.label.clone(),
                pin: PinKind::User,
                state: Some(token.pin_state()?),
                tries_left: token.pin_tries(),
            },
            Who::So => Question::Pin { token: token.label.clone(), pin: PinKind::So, state: None, tries_left: None },
        };
        let pin = Pin::new(self.ask(&question)?.as_str());
        match who {
            Who::User => self.user = Some(pin.clone()),
            Who::So => self.so = Some(pin.clone()),
        }
        Ok(pin)
    }

    fn management_key(&mut self, token: &OpenToken<'_>) -> std::result::Result<ManagementKey, tessera_core::Error> {
        if self.management.is_none() {
            self.management = Some(self.ask(&Question::ManagementKey { token: token.label.clone() })?);
        }
        let hex = self.management.as_deref().map(String::as_str).unwrap_or_default();
        ManagementKey::from_hex(hex).ok_or_else(|| {
            self.management = None;
            tessera_core::Error::ManagementKeyRejected
        })
    }

    fn confirm_final_try(&mut self, token: &OpenToken<'_>) -> std::result::Result<bool, tessera_core::Error> {
        let question = Question::ConfirmFinalTry { token: token.label.clone() };
        self.prompter.confirm(&question).map_err(|e| {
            let reason = e.to_string();
            self.failed = Some(e);
            tessera_core::Error::Input { reason }
        })
    }

    fn forget(&mut self, who: Who) {
        match who {
            Who::User => self.user = None,
            Who::So => self.so = None,
        }
    }
}
