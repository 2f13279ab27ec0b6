//! The refusals of the RA's JSON API: one typed list that the RA answers with and the
//! client matches on. On the wire a refusal is `{code, params}` with an HTTP status; the
//! parameters are strings. Clients render the code from their own locales
//! (`error-<code>`, with a cause and a remedy), never a text the RA sent.

use std::collections::BTreeMap;

/// A refusal as it travels: its code and parameters (the HTTP status goes beside it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    pub code: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// A value a refusal carries as one of its parameters.
pub trait Param: Sized {
    fn put(&self, name: &str, out: &mut BTreeMap<String, String>);
    /// None when it is required and missing or unreadable.
    fn take(params: &BTreeMap<String, String>, name: &str) -> Option<Self>;
}

macro_rules! params {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn put(&self, name: &str, out: &mut BTreeMap<String, String>) {
                out.insert(name.to_owned(), self.to_string());
            }
            fn take(params: &BTreeMap<String, String>, name: &str) -> Option<Self> {
                params.get(name)?.parse().ok()
            }
        }
        impl Param for Option<$t> {
            fn put(&self, name: &str, out: &mut BTreeMap<String, String>) {
                if let Some(v) = self {
                    v.put(name, out);
                }
            }
            fn take(params: &BTreeMap<String, String>, name: &str) -> Option<Self> {
                match params.get(name) {
                    None => Some(None),
                    Some(v) => v.parse().ok().map(Some),
                }
            }
        }
    )*};
}
params!(String, i64, u64, usize, char);

macro_rules! refusals {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident = ($status:literal, $code:literal) { $($field:ident: $ty:ty),* $(,)? }
    ),* $(,)?) => {
        /// Every refusal of the JSON API, with its parameters.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Refusal {
            $( $(#[doc = $doc])* $name { $($field: $ty),* }, )*
            /// A refusal this side does not know (from a newer RA): as it came.
            Other { code: String, status: u16, params: BTreeMap<String, String> },
        }

        impl Refusal {
            /// Every code this side knows, with its HTTP status.
            pub const CODES: &'static [(&'static str, u16)] = &[$(($code, $status)),*];

            /// The stable code (Fluent id `error-<code>`).
            pub fn code(&self) -> &str {
                match self {
                    $(Refusal::$name { .. } => $code,)*
                    Refusal::Other { code, .. } => code,
                }
            }

            /// The HTTP status it is answered with.
            pub fn status(&self) -> u16 {
                match self {
                    $(Refusal::$name { .. } => $status,)*
                    Refusal::Other { status, .. } => *status,
                }
            }

            /// Its parameters, as strings.
            #[allow(unused_variables, unused_mut)]
            pub fn params(&self) -> BTreeMap<String, String> {
                let mut out = BTreeMap::new();
                match self {
                    $(Refusal::$name { $($field),* } => { $(Param::put($field, stringify!($field), &mut out);)* })*
                    Refusal::Other { params, .. } => return params.clone(),
                }
                out
            }

            /// The refusal a `{code, params}` answer with `status` stands for: one this side
            /// knows when its code and parameters read as such, else [`Refusal::Other`].
            pub fn from_wire(status: u16, problem: Problem) -> Refusal {
                Self::known(&problem.code, &problem.params)
                    .unwrap_or(Refusal::Other { code: problem.code, status, params: problem.params })
            }

            #[allow(unused_variables)]
            fn known(code: &str, params: &BTreeMap<String, String>) -> Option<Refusal> {
                match code {
                    $($code => Some(Refusal::$name { $($field: Param::take(params, stringify!($field))?),* }),)*
                    _ => None,
                }
            }

            /// As it goes on the wire.
            pub fn problem(&self) -> Problem {
                Problem { code: self.code().to_owned(), params: self.params() }
            }
        }
    };
}

refusals! {
    // ---- Any call: the body, the rate, the RA itself ----
    /// The body is not JSON.
    MalformedJson = (400, "malformed-json") { reason: String },
    /// The body is not `application/json`.
    JsonContentType = (415, "json-content-type") { reason: String },
    /// The body lacks a field or has one of the wrong type.
    JsonFields = (422, "json-fields") { reason: String },
    /// Too many calls or failures from this address: wait `retry_after` seconds.
    RateLimited = (429, "rate-limited") { retry_after: u64 },
    /// The RA could not do it (its database, its randomness): logged there.
    RaInternal = (500, "ra-internal") {},

    // ---- The holder's activation ----
    /// The activation code and the tax code do not belong to one request (which one is
    /// wrong is not said).
    ActivationRefused = (403, "activation-refused") { tries_left: Option<i64> },
    /// The OTP was sent with another session, or none.
    ActivationSessionInvalid = (403, "activation-session-invalid") {},
    /// Locked after five wrong codes or OTPs.
    RequestLocked = (423, "request-locked") {},
    /// Its certificates were issued already.
    AlreadyIssued = (409, "already-issued") { reference: Option<String> },
    /// No mobile is registered for the request.
    NoMobile = (409, "no-mobile") {},
    /// No e-mail address is registered for the holder.
    NoEmail = (409, "no-email") {},
    /// No OTP was sent for the request.
    NoOtp = (409, "no-otp") {},
    /// The OTP's five minutes are over.
    OtpExpired = (410, "otp-expired") {},
    /// A wrong OTP.
    OtpWrong = (403, "otp-wrong") { tries_left: i64 },
    /// Another SMS only after `wait` seconds.
    OtpResendTooSoon = (429, "otp-resend-too-soon") { wait: i64 },
    /// The SMS provider did not take the message.
    SmsGatewayFailed = (502, "sms-gateway-failed") {},
    /// The e-mail provider did not take the message (the request stands).
    EmailGatewayFailed = (502, "email-gateway-failed") { reference: String },
    /// The card's PIN and PUK are released only while armed and not yet issued.
    PersonalisationClosed = (409, "personalisation-closed") {},
    /// The request has no PIN and PUK of the RA's (registered before they were kept).
    NoPersonalisation = (409, "no-personalisation") {},
    /// No such request (or not this office's).
    UnknownRequest = (404, "unknown-request") {},

    // ---- Operators ----
    /// No valid operator credential.
    OperatorUnauthenticated = (401, "operator-unauthenticated") {},
    /// The operator's session was found idle too long or too old: sign in again. (A
    /// session ended otherwise, or cleared since, is no credential at all:
    /// `operator-unauthenticated`.)
    OperatorSessionEnded = (401, "operator-session-ended") {},
    /// The name, the password or the one-time code is wrong (not said which).
    SignInRefused = (401, "sign-in-refused") {},
    /// The one-time code was right but already used: wait for the next one.
    SignInCodeReused = (401, "sign-in-code-reused") {},
    /// The account waits `minutes` after wrong sign-ins.
    SignInWaits = (429, "sign-in-waits") { minutes: i64 },
    /// The account has a one-time password: its own password is chosen in the console
    /// first.
    PasswordChangeRequired = (403, "password-change-required") {},
    /// A holder needs a tax code or a passport number.
    HolderNeedsCfOrPassport = (422, "holder-needs-cf-or-passport") {},
    /// A passport number needs its issuing country (two letters).
    PassportNeedsCountry = (422, "passport-needs-country") {},
    /// The tax code's check letter should be `expected`.
    CfCheckLetter = (422, "cf-check-letter") { expected: char },
    /// The tax code is not of its form from `position` (0-based).
    CfMalformed = (422, "cf-malformed") { position: usize },
    /// The tax code does not match the holder's data in `parts` (comma-separated:
    /// surname, given-names, birth-date, sex, birth-place); the data make `expected`.
    CfDataMismatch = (422, "cf-data-mismatch") { parts: String, expected: String },
    /// The holder's data are incomplete or unreadable (`field`).
    HolderDataInvalid = (422, "holder-data-invalid") { field: String },
    /// A field that goes into certificates was refused, and why.
    SubjectFieldRefused = (422, "subject-field-refused") { field: String, reason: String },
    /// The mobile or e-mail is registered to another person.
    ContactOfAnotherHolder = (409, "contact-of-another-holder") { contact: String },
    /// No such holder (or not this office's).
    UnknownHolder = (404, "unknown-holder") {},
    /// Without a tax code only the signature profile.
    ProfileNeedsCf = (422, "profile-needs-cf") {},
    /// Optional subject data go in the signature certificate only.
    SubjectExtrasSignatureOnly = (422, "subject-extras-signature-only") {},
    /// An organisation has its VAT number or its tax code, not both.
    OrganizationOneIdentifier = (422, "organization-one-identifier") {},
    /// The organisation's VAT number is not valid.
    OrganizationVatInvalid = (422, "organization-vat-invalid") {},
    /// An organisation needs its identifier, and an identifier its organisation.
    OrganizationNeedsIdentifier = (422, "organization-needs-identifier") {},
    /// A certified-mail [PEC] address never goes into a certificate.
    EmailIsPec = (422, "email-is-pec") {},
    /// No such certificate (or not this office's).
    UnknownCertificate = (404, "unknown-certificate") {},
    /// Revoked is final.
    CertificateRevoked = (409, "certificate-revoked") {},
    /// An approval must come within 90 days of the renewal form's signature.
    ApprovalTooLate = (409, "approval-too-late") { signed_at: String },
    /// No renewal waits for an approval.
    NothingToApprove = (409, "nothing-to-approve") {},
    /// This lifecycle change is not allowed from the certificate's state.
    LifecycleNotAllowed = (409, "lifecycle-not-allowed") { action: String },
    /// Not a lifecycle action.
    UnknownAction = (404, "unknown-action") {},
    /// The account's role does not do this (an operator approving a renewal, a verifier
    /// registering a holder).
    RoleRefused = (403, "role-refused") { role: String },
    /// The CA holds the certificate suspended for the request's paperwork (verification,
    /// originals): only that step reactivates it.
    CertificateHeld = (409, "certificate-held") { why: String },
    /// A contact change asked without the card was decided already (by someone else).
    ContactChangeDecided = (409, "contact-change-decided") {},
    /// The holder is not identified yet: the activation code comes after identification
    /// (at the console).
    NotIdentified = (409, "not-identified") { reference: String },
    /// Not a revocation reason an office may give (RFC 5280: 0 unspecified, 1 key
    /// compromise, 3 affiliation changed, 4 superseded, 5 cessation of operation, 9
    /// privilege withdrawn).
    RevocationReasonRefused = (422, "revocation-reason-refused") { reason: String },
    /// An invalidity date goes only with a key compromise, not in the future and not
    /// before the certificate's start.
    InvalidityDateRefused = (422, "invalidity-date-refused") {},
    /// The second halves go only once the request is complete.
    HalvesNotYet = (409, "halves-not-yet") {},
    /// Not a channel for the halves (sms, email).
    UnknownChannel = (422, "unknown-channel") {},

    // ---- Renewal ----
    /// The serial is not hexadecimal.
    BadSerial = (400, "bad-serial") {},
    /// No such renewal request for this certificate.
    UnknownRenewal = (404, "unknown-renewal") {},
    /// The renewal request is not waiting for this (its `state`).
    RenewalNotWaiting = (409, "renewal-not-waiting") { state: String },
    /// The renewal form is not signed yet (its `state`).
    RenewalNotForwarded = (409, "renewal-not-forwarded") { state: String },
    /// The certificate cannot be renewed (its `state`).
    NotRenewable = (409, "not-renewable") { state: String },
    /// Expired: a new card is needed.
    CertificateExpired = (409, "certificate-expired") {},
    /// Renewal opens 60 days before expiry: in `opens_in` days.
    RenewalNotOpen = (409, "renewal-not-open") { opens_in: i64 },
    /// The holder's mobile or e-mail is registered to another person.
    ContactDataConflict = (409, "contact-data-conflict") { field: String },
    /// The terms changed since they were shown: now `version`.
    ContractChanged = (409, "contract-changed") { version: String },
    /// The signed renewal form does not check, and why.
    FormSignatureRefused = (422, "form-signature-refused") { reason: String },
    /// The signed contact change does not check, and why.
    ContactSignatureRefused = (422, "contact-signature-refused") { reason: String },
    /// The signed overwrite authorisation does not check, and why.
    OverwriteSignatureRefused = (422, "overwrite-signature-refused") { reason: String },
    /// A new contact is not a mobile number or an e-mail address.
    ContactInvalid = (400, "contact-invalid") { field: String },
    /// The e-mail in the certificate cannot change.
    ContactInCertificate = (409, "contact-in-certificate") { field: String },
    /// The new contact is registered to another person.
    ContactTaken = (409, "contact-taken") { field: String },
    /// No contact change waits for codes.
    NoContactChange = (409, "no-contact-change") {},
    /// All `tries` were used: ask for the change again.
    ContactCodesSpent = (423, "contact-codes-spent") { tries: i64 },
    /// A wrong code for a new contact.
    ContactCodeWrong = (403, "contact-code-wrong") { tries_left: i64 },
    /// Not a renewal state.
    UnknownState = (400, "unknown-state") { state: String },
    /// Overwriting was authorised: only completing the renewal gives the card a working key.
    RenewalOverwriteAuthorised = (409, "renewal-overwrite-authorised") {},
    /// The renewal request is closed (its `state`).
    RenewalClosed = (409, "renewal-closed") { state: String },
    /// Overwriting the slot was not authorised.
    OverwriteNotAuthorised = (409, "overwrite-not-authorised") {},
    /// The authorisation needs a signed proof (`field`).
    OverwriteProof = (400, "overwrite-proof") { field: String },
    /// After wrong renewal codes: wait `wait` seconds.
    RenewalCodeWait = (429, "renewal-code-wait") { wait: i64 },
    /// A wrong renewal code.
    RenewalCodeWrong = (403, "renewal-code-wrong") {},
    /// Another code only after `wait` seconds.
    CodeResendTooSoon = (429, "code-resend-too-soon") { wait: i64 },
    /// Neither a mobile nor an e-mail to send the renewal code to.
    NoContactForCode = (409, "no-contact-for-code") {},
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code())?;
        for (k, v) in self.params() {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_back_from_the_wire_as_itself_and_an_unknown_one_stays_as_it_came() {
        let samples = [
            Refusal::ActivationRefused { tries_left: Some(3) },
            Refusal::ActivationRefused { tries_left: None },
            Refusal::CfCheckLetter { expected: 'U' },
            Refusal::SubjectFieldRefused { field: "surname".into(), reason: "control-character".into() },
            Refusal::RateLimited { retry_after: 12 },
            Refusal::UnknownCertificate {},
        ];
        for r in samples {
            assert_eq!(Refusal::from_wire(r.status(), r.problem()), r);
        }
        let newer = Problem { code: "from-the-future".into(), params: [("x".into(), "1".into())].into() };
        assert_eq!(
            Refusal::from_wire(418, newer.clone()),
            Refusal::Other { code: newer.code, status: 418, params: newer.params }
        );
        // A known code without its required parameter is not mistaken for it.
        let bare = Problem { code: "otp-wrong".into(), params: BTreeMap::new() };
        assert!(matches!(Refusal::from_wire(403, bare), Refusal::Other { .. }));
        assert_eq!(Refusal::OtpWrong { tries_left: 2 }.params()["tries_left"], "2");
    }

    #[test]
    fn every_code_is_listed_once() {
        let mut codes: Vec<&str> = Refusal::CODES.iter().map(|(c, _)| *c).collect();
        codes.sort();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n);
    }
}
