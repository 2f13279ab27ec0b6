//! The operator API (`/api/v1/operator/…`): holders, requests and their codes, the card's
//! handover, certificates' lifecycle, renewals' approval, the audit log.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Certificate profiles: what one activation puts on a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// The qualified signature certificate.
    Signature,
    /// The CNS authentication certificate.
    CnsAuthentication,
    /// Both on one card, with one reference and one activation code: the client names the
    /// one it asks for in each CMP request (RFC 9483 id-it-certProfile).
    #[serde(rename = "cns+signature")]
    CnsSignature,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Signature, Profile::CnsAuthentication, Profile::CnsSignature];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Signature => "signature",
            Profile::CnsAuthentication => "cns-authentication",
            Profile::CnsSignature => "cns+signature",
        }
    }

    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The certificate profiles a request of this profile gets, in the order issued.
    pub fn certificates(self) -> &'static [Profile] {
        match self {
            Profile::Signature => &[Profile::Signature],
            Profile::CnsAuthentication => &[Profile::CnsAuthentication],
            Profile::CnsSignature => &[Profile::CnsAuthentication, Profile::Signature],
        }
    }

    /// Whether the request's certificates include the signature certificate (the only one
    /// that carries the optional subject data).
    pub fn has_signature(self) -> bool {
        self.certificates().contains(&Profile::Signature)
    }
}

/// `POST /api/v1/operator/holders`: a holder as an operator registers them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewHolder {
    pub given_name: String,
    pub surname: String,
    #[serde(default)]
    pub cf: Option<String>,
    /// For holders without a tax code (signature profile only): the passport number and
    /// the issuing country (ISO 3166 alpha-2), as the certificate's serialNumber carries
    /// them (`PASIT-YA1234567`).
    #[serde(default)]
    pub passport: Option<String>,
    #[serde(default)]
    pub passport_country: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// The operator confirmed a tax code that does not pass the check.
    #[serde(default)]
    pub cf_forced: bool,
    /// The holder's data the tax code is checked against (all three given, or none):
    /// sex `M` or `F`, birth date `YYYY-MM-DD`, birth place (a municipality's or foreign
    /// state's name, or its cadastral code).
    #[serde(default)]
    pub sex: Option<String>,
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub birth_place: Option<String>,
    /// The residence address, as the holder gives it.
    #[serde(default)]
    pub address: Option<String>,
    /// The operator accepts a tax code that does not match these data (recorded).
    #[serde(default)]
    pub cf_accepted_anyway: bool,
}

/// A holder registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderCreated {
    pub holder_id: i64,
}

/// How the activation code reaches the holder.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodeDelivery {
    /// In the answer, for the operator to hand over (printout, or at the counter).
    #[default]
    Operator,
    /// By e-mail to the holder's registered address; the operator never sees it.
    Email,
}

/// What a holder may add to the signature certificate's subject.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectExtras {
    /// Professional title or role in the organization.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub organization: Option<String>,
    /// The organization's VAT number [partita IVA] (checked), or
    #[serde(default)]
    pub organization_vat: Option<String>,
    /// its tax code (11 digits, or a person's 16 characters; checked).
    #[serde(default)]
    pub organization_cf: Option<String>,
    /// Put the holder's registered e-mail in the certificate (never a certified-mail one).
    #[serde(default)]
    pub include_email: bool,
}

/// `POST /api/v1/operator/requests`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewRequest {
    pub holder_id: i64,
    pub profile: Profile,
    #[serde(default)]
    pub code_delivery: CodeDelivery,
    /// Optional subject data (signature profile only).
    #[serde(default)]
    pub subject: SubjectExtras,
    /// Issue the certificates suspended until the paperwork is validated (then
    /// `reactivate`).
    #[serde(default)]
    pub issued_suspended: bool,
}

/// `POST …/requests/{reference}/code`: a new activation code.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewCode {
    #[serde(default)]
    pub code_delivery: CodeDelivery,
}

/// A code made: in this answer only, or where it was e-mailed.
#[derive(Serialize, Deserialize)]
pub struct CodeHandedOver {
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_code: Option<Zeroizing<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
}

impl std::fmt::Debug for CodeHandedOver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeHandedOver").field("reference", &self.reference).field("sent_to", &self.sent_to).finish()
    }
}

/// `GET /api/v1/operator/requests?q=&limit=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Search {
    #[serde(default)]
    pub q: String,
    /// At most this many rows (default 200, at most 10000).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// A request as operators list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRow {
    pub reference: String,
    pub holder: String,
    pub cf: String,
    pub profile: String,
    pub issuance: String,
    pub armed: bool,
    pub locked: bool,
    pub certificates: i64,
}

/// A certificate as operators see it: serial (hex, what the lifecycle calls take),
/// validity (RFC 3339), state now, and the renewal approval when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRow {
    pub serial: String,
    pub issued_at: i64,
    pub not_before: String,
    pub not_after: String,
    pub state: String,
    pub state_since: Option<i64>,
    pub reason: Option<u8>,
    pub approval: Option<String>,
    pub approval_due: Option<i64>,
    /// Whether the client confirmed it (certConf); one never confirmed is revoked.
    pub confirmed: bool,
    /// The serial of the certificate this one renews.
    pub replaces: Option<String>,
}

/// `GET …/requests/{reference}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestDetail {
    pub request: RequestRow,
    pub certificates: Vec<CertificateRow>,
}

/// `POST …/certificates/{serial}/{action}`: the RFC 5280 reason of a revocation, and for
/// a key compromise the time the key is known or suspected to have been compromised
/// (RFC 3339).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LifecycleChange {
    #[serde(default)]
    pub reason: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidity_date: Option<String>,
}

/// A lifecycle change or a renewal's decision made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleChanged {
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
}

/// `GET …/requests/{reference}/handover`: the printable sheet handed over with the card.
#[derive(Serialize, Deserialize)]
pub struct Handover {
    pub reference: String,
    pub holder: String,
    pub pin_first_half: Zeroizing<String>,
    pub puk_first_half: Zeroizing<String>,
    pub sheet: Zeroizing<String>,
}

/// `POST …/requests/{reference}/halves`: "sms" (the first halves to the holder's mobile) or
/// "email" (the second halves and the user code, once the request is complete).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Halves {
    pub channel: String,
}

/// The halves sent again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HalvesSent {
    pub reference: String,
    pub sent: String,
}

/// `GET /api/v1/operator/audit?subject=&limit=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}
