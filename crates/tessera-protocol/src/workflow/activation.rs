//! Arming a request for CMP: by the holder (`POST /api/v1/activation` with the activation
//! code and tax code, then `…/{reference}/otp` with the SMS code in the session it opened),
//! or by an operator at the counter (`POST /api/v1/operator/activation`, no OTP).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::HolderName;

/// `POST /api/v1/activation`: the holder's activation code and tax code.
#[derive(Debug, Serialize, Deserialize)]
pub struct Start {
    pub activation_code: Zeroizing<String>,
    pub tax_code: String,
    /// The request a `tessera://` link named: a code of another request is refused as a
    /// wrong code, before any SMS is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The activation code alone: another SMS (`…/resend`), the card's secrets
/// (`…/personalisation`), or arming at the counter.
#[derive(Debug, Serialize, Deserialize)]
pub struct WithCode {
    pub activation_code: Zeroizing<String>,
    /// At the counter, the request a `tessera://` link named: a code of another request
    /// is refused as a wrong code, before anything is armed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Whose request a code belongs to, so the tool can show it before any key is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// The CMP reference (senderKID).
    pub reference: String,
    pub holder: HolderName,
    /// signature, cns-authentication or cns+signature.
    pub profile: String,
    /// Armed for CMP: no OTP is needed (operator mode, or armed earlier).
    pub armed: bool,
    /// The mobile number the SMS went to, masked but for its last digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_expires_in: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_after: Option<i64>,
    /// The session the SMS opened: the OTP is tried only with it, so that someone who
    /// knows just the reference cannot spend the holder's tries. Not logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// `POST /api/v1/activation/{reference}/otp`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Verify {
    pub otp: Zeroizing<String>,
    /// The session the SMS opened (from the answer that sent it).
    #[serde(default)]
    pub session: Zeroizing<String>,
}

/// A request armed for CMP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Armed {
    pub reference: String,
    pub armed: bool,
}

/// A blank card's secrets, chosen by the RA for the request (`…/personalisation`).
#[derive(Serialize, Deserialize)]
pub struct CardSecrets {
    pub pin: Zeroizing<String>,
    pub puk: Zeroizing<String>,
    pub management_key: Zeroizing<String>,
}

impl std::fmt::Debug for CardSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardSecrets { .. }")
    }
}
