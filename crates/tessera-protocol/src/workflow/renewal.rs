//! Renewal, keyed by the expiring certificate's serial: `GET /api/v1/renewal/{serial}` (can
//! it be renewed here), `POST` (its renewal request: terms and form), `…/form` (the form
//! signed with the expiring key), `…/contacts` and `…/contacts/confirm` (a contact change
//! signed likewise, confirmed by codes), `…/overwrite` and `…/overwrite/resend` (a fixed
//! slot's overwrite, authorised first); operators list and cancel requests.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// What the RA says about renewing one of its certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalState {
    /// active, superseded (a confirmed renewal replaced it), suspended, revoked.
    pub state: String,
    pub renewable: bool,
    /// automatic, or approval (an operator approves the renewal afterwards).
    pub policy: String,
    /// The holder's mobile or e-mail ("mobile", "email") is registered to another person:
    /// renewal waits until it is changed.
    #[serde(default)]
    pub conflict: Option<String>,
}

/// The general terms a renewal accepts, versioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub version: String,
    pub text: String,
}

/// The holder's contacts on a request waiting for its form (masked), and which one another
/// person has (to be changed before the form can be signed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contacts {
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// False when the e-mail is the certificate's (no holder record): it cannot change here.
    #[serde(default)]
    pub email_editable: bool,
    #[serde(default)]
    pub conflict: Option<String>,
}

/// A renewal request as the holder's client sees it: communicated (the form waits for its
/// signature) or forwarded (signed: kur may go ahead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalRequest {
    pub id: String,
    pub state: String,
    /// The renewal form: the document signed, exactly as the RA made it.
    pub form: String,
    pub contract: Contract,
    pub policy: String,
    /// While it waits for the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Contacts>,
}

/// `POST …/form`: the form signed on the card.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedForm {
    /// The renewal request the form belongs to.
    pub id: String,
    /// The contract version the holder accepted (the one shown).
    pub contract_version: String,
    /// The .p7m, base64.
    pub signed_form: String,
}

/// `POST …/contacts`: a contact change signed on the card.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeContacts {
    pub id: String,
    /// The .p7m (base64) of a [`ContactChange`].
    pub signed_change: String,
}

/// The document the holder signs to change contacts.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactChange {
    pub renewal: String,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A contact change the RA accepted: where the codes went (masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsProposed {
    pub id: String,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub expires_in: i64,
}

/// `POST …/contacts/confirm`: the codes sent to the new contacts.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmContacts {
    pub id: String,
    #[serde(default)]
    pub mobile_code: Option<Zeroizing<String>>,
    #[serde(default)]
    pub email_code: Option<Zeroizing<String>>,
}

/// `POST …/overwrite`: authorise overwriting a fixed slot, with the authorisation signed by
/// the old key, or with the renewal code typed back once the old key is gone.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorise {
    pub id: String,
    /// The .p7m (base64) of an [`OverwriteAuthorisation`].
    #[serde(default)]
    pub signed_authorisation: Option<String>,
    #[serde(default)]
    pub code: Option<Zeroizing<String>>,
}

/// The document the holder signs to authorise the overwrite.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverwriteAuthorisation {
    pub renewal: String,
    pub overwrite: bool,
}

/// The overwrite authorised: the renewal code (the CMP secret that completes it without
/// the old key; never journaled), where it was sent, and the card's management key where
/// the RA holds one.
#[derive(Serialize, Deserialize)]
pub struct Overwrite {
    pub id: String,
    pub code: Zeroizing<String>,
    pub sent_to: String,
    #[serde(default)]
    pub management_key: Option<Zeroizing<String>>,
    pub resend_after: i64,
}

impl std::fmt::Debug for Overwrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overwrite").field("id", &self.id).field("sent_to", &self.sent_to).finish_non_exhaustive()
    }
}

/// `POST …/overwrite/resend` and operators' `…/cancel`: a renewal by its id.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalId {
    pub id: String,
}

/// The renewal code sent again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeResent {
    pub id: String,
    pub sent_to: String,
    pub resend_after: i64,
}

/// The renewal states operators filter by.
pub const STATES: [&str; 5] = ["communicated", "forwarded", "completed", "expired", "cancelled"];

/// `GET /api/v1/operator/renewals?state=`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RenewalFilter {
    #[serde(default)]
    pub state: Option<String>,
}

/// A renewal request as operators list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalRow {
    pub id: String,
    /// The expiring certificate's serial (hex).
    pub serial: String,
    pub reference: String,
    /// communicated, forwarded, completed, expired, cancelled.
    pub state: String,
    pub form: String,
    pub contract_version: String,
    pub created_at: i64,
    /// When the old certificate expires: an open renewal expires with it.
    pub expires_at: i64,
    pub signed_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub new_serial: Option<String>,
    pub cancelled_by: Option<String>,
    /// When the holder authorised overwriting the card's slot.
    pub overwrite_at: Option<i64>,
}

/// The operator's list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenewalList {
    pub renewals: Vec<RenewalRow>,
}

/// A renewal request cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancelled {
    pub id: String,
    pub state: String,
}
