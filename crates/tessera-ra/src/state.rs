//! The RA's application state: the CA, the database, the gateway, the operators and the
//! policies and limits the configuration sets. Handlers get it as axum state
//! ([`crate::app::app`]); tests build one around an in-memory database.

use crate::ca::Ca;
use crate::config::{CALLS_PER_MINUTE, FAILURES_PER_MINUTE};
use crate::limits::Limiter;
use crate::store::Store;

/// The RA: what every handler works with.
pub struct Ra {
    pub ca: Ca,
    pub store: Store,
    pub validity_days: i64,
    /// Where SMS and e-mail to holders go.
    pub gateway: crate::gateway::Gateway,
    /// Operators allowed on the operator API.
    pub operators: Vec<crate::config::OperatorToken>,
    /// The centre's renewal policy.
    pub renewal_policy: crate::registry::RenewalPolicy,
    /// SMS codes' lifetime and resend delay.
    pub otp: crate::config::OtpTimes,
    /// Holder API calls per client address (30 at once, 30 a minute).
    pub calls: Limiter,
    /// Failures per client address: wrong codes and sessions, refused CMP messages (10 at
    /// once, 10 a minute). An address without any left is refused before it is heard.
    pub failures: Limiter,
    pub(crate) sender: Vec<u8>,
    /// The issuing CA's key identifier, senderKID of signed answers.
    pub(crate) key_id: Option<Vec<u8>>,
    /// The first wait after five wrong CMP MACs for a reference (seconds).
    pub wrong_code_wait: i64,
    /// Renewal: whether kur needs the signed form, and the contract.
    pub renewal: crate::config::RenewalSettings,
    /// The console's sessions and sign-in waits.
    pub console: crate::config::ConsoleSettings,
    /// Served over TLS: the console's cookies are Secure.
    pub tls: bool,
    /// The CAs whose certificates may sign a request form remotely (DER); none: remote
    /// identification is not offered.
    pub remote_anchors: Vec<Vec<u8>>,
}

impl Ra {
    pub fn new(ca: Ca, store: Store, validity_days: i64) -> Ra {
        let sender = ca.general_name();
        let key_id = ca.key_id();
        Ra {
            key_id,
            wrong_code_wait: 60,
            renewal: Default::default(),
            console: Default::default(),
            tls: false,
            remote_anchors: Vec::new(),
            ca,
            store,
            validity_days,
            gateway: Default::default(),
            operators: Vec::new(),
            renewal_policy: Default::default(),
            otp: Default::default(),
            calls: Limiter::new(CALLS_PER_MINUTE, CALLS_PER_MINUTE),
            failures: Limiter::new(FAILURES_PER_MINUTE, FAILURES_PER_MINUTE),
            sender,
        }
    }

    /// Count a holder API call from `ip`; the seconds to wait when over a limit (its calls,
    /// or its failures).
    pub fn over_rate(&self, ip: std::net::IpAddr) -> Option<u64> {
        self.failures.check(ip).and_then(|()| self.calls.take(ip)).err()
    }

    /// A failure from `ip` (a wrong code or session, a refused CMP message).
    pub fn failed_from(&self, ip: std::net::IpAddr) {
        let _ = self.failures.take(ip);
    }
}
