//! The values a PIN is handled as: the PIN itself (zeroized on drop, never printed),
//! which PIN, whether the final try may be spent, and the state the token reports. No
//! behaviour here: logging in is [`crate::login`], changing and unblocking [`crate::pin`].

use cryptoki::types::AuthPin;
use serde::Serialize;
use zeroize::Zeroizing;

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

    pub(crate) fn auth(&self) -> AuthPin {
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

/// The user PIN's state, from the token flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum PinState {
    Ok,
    /// A wrong PIN was entered since the last good one.
    CountLow,
    /// One more wrong PIN locks it.
    FinalTry,
    /// Locked: unblock with the PUK.
    Locked,
    /// Still the transport PIN, or expired: must be changed before use.
    ToBeChanged,
    /// The user PIN was never set.
    NotInitialized,
}
