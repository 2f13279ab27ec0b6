//! The requests [pratiche] the RA knows, where each one's issuance stands, and the
//! lifecycle of the certificates issued for them (kept by [`crate::store`]).
//!
//! Requests come from operators (the operator API) or, for test beds, from the
//! configuration file.

use serde::Deserialize;
use zeroize::Zeroizing;

/// Certificate profiles: part of the wire contract.
pub use tessera_protocol::workflow::operator::Profile;

/// The holder as registered by the operator: the certificate's subject comes from here,
/// never from the CSR.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    pub given_name: String,
    pub surname: String,
    /// The codice fiscale (serialNumber `TINIT-<CF>`), or for a holder without one the
    /// passport number (serialNumber `PAS<country>-<number>`).
    pub cf: String,
    /// Set when `cf` is a passport number: the country that issued it (ISO 3166 alpha-2).
    #[serde(default)]
    pub passport_country: Option<String>,
    /// Optional subject data of the signature certificate (DOMAIN.md): a professional
    /// title or role in the organization (X.520 title),
    #[serde(default)]
    pub title: Option<String>,
    /// the organization (O),
    #[serde(default)]
    pub organization: Option<String>,
    /// its identifier, `VATIT-<partita IVA>` or `CF:IT-<codice fiscale>`
    /// (organizationIdentifier),
    #[serde(default)]
    pub organization_identifier: Option<String>,
    /// and the holder's e-mail, never a certified-mail address (subjectAltName).
    #[serde(default)]
    pub email: Option<String>,
}

impl Holder {
    pub fn new(given_name: &str, surname: &str, cf: &str) -> Holder {
        Holder {
            given_name: given_name.to_owned(),
            surname: surname.to_owned(),
            cf: cf.to_owned(),
            passport_country: None,
            title: None,
            organization: None,
            organization_identifier: None,
            email: None,
        }
    }

    /// The subject's serialNumber (ETSI EN 319 412-1).
    pub fn serial_number(&self) -> String {
        match &self.passport_country {
            Some(country) => format!("PAS{country}-{}", self.cf),
            None => format!("TINIT-{}", self.cf),
        }
    }

    /// Whether the tax code (or passport number) a holder typed is theirs.
    pub fn identity_matches(&self, typed: &str) -> bool {
        !typed.trim().is_empty() && normalize_code(typed) == normalize_code(&self.cf)
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisteredRequest {
    /// The CMP reference (senderKID) of this request.
    pub reference: String,
    /// The activation code as issued (the CMP shared secret). The database keeps only its
    /// keyed hash, and a sealed copy while armed (see [`crate::codes`]): requests read
    /// back from it have this empty.
    pub activation_code: Zeroizing<String>,
    pub holder: Holder,
    pub profile: Profile,
    /// Where the holder's OTP goes (holder mode).
    #[serde(default)]
    pub mobile: Option<String>,
    /// Armed for CMP at once (operator mode: the operator has identified the holder).
    /// When false, the holder arms it with activation code, tax code and the SMS OTP.
    #[serde(default = "yes")]
    pub armed: bool,
    /// Its certificates are issued suspended, until the registration office has validated
    /// the paperwork and an operator reactivates them (DOMAIN.md, activation step 5).
    #[serde(default)]
    pub issued_suspended: bool,
    /// The registration office it belongs to (configuration only: a request registered by
    /// an operator is their office's), so that the office's accounts see it.
    #[serde(default, skip_serializing)]
    pub office: Option<String>,
}

fn yes() -> bool {
    true
}

impl std::fmt::Debug for RegisteredRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredRequest")
            .field("reference", &self.reference)
            .field("holder", &self.holder)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

/// Where a request's issuance stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issuance {
    Waiting,
    /// Issued in transaction `transaction_id`, waiting for certConf with this hash.
    Issued {
        transaction_id: Vec<u8>,
        cert_hash: Vec<u8>,
    },
    Confirmed,
}

/// A certificate's lifecycle (DOMAIN.md): active, suspended (reversible), revoked (final).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Active,
    Suspended { since: time::OffsetDateTime },
    Revoked { at: time::OffsetDateTime, reason: u8 },
}

/// An operator approves a renewal within this many days of its form's signature.
pub const APPROVAL_DAYS: i64 = 90;

/// A suspension that lasts longer than this ends in revocation.
pub const SUSPENSION_LIMIT_DAYS: i64 = 120;

/// How a registration centre renews (DOMAIN.md, Rinnovo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RenewalPolicy {
    /// The new certificate is final when installed.
    #[default]
    Automatic,
    /// It works at once, but needs an operator's approval by the old certificate's expiry.
    Approval,
}

impl Lifecycle {
    /// As the API and the console say it: active, suspended, revoked.
    pub fn name(self) -> &'static str {
        match self {
            Lifecycle::Active => "active",
            Lifecycle::Suspended { .. } => "suspended",
            Lifecycle::Revoked { .. } => "revoked",
        }
    }

    /// A renewal waiting for approval: active until `due`, then suspended (and, by the
    /// usual limit, revoked 120 days later).
    pub fn pending_approval(self, due: time::OffsetDateTime, now: time::OffsetDateTime) -> Lifecycle {
        match self {
            Lifecycle::Active if now >= due => Lifecycle::Suspended { since: due }.now(now),
            other => other.now(now),
        }
    }

    /// The state now: a suspension past its limit has become a revocation.
    pub fn now(self, now: time::OffsetDateTime) -> Lifecycle {
        match self {
            Lifecycle::Suspended { since } if now - since > time::Duration::days(SUSPENSION_LIMIT_DAYS) => {
                Lifecycle::Revoked { at: since + time::Duration::days(SUSPENSION_LIMIT_DAYS), reason: 0 }
            }
            other => other,
        }
    }
}

/// A registered request as stored, with where its issuance stands.
pub struct Entry {
    pub request: RegisteredRequest,
    /// The activation code in canonical form, while the request is armed: the CMP secret.
    pub secret: Option<Zeroizing<Vec<u8>>>,
    /// The secret of an arming at the counter by reference, beside the holder's: the CMP
    /// secret of that activation; and the operator who armed it.
    pub counter_secret: Option<Zeroizing<Vec<u8>>>,
    pub counter_by: Option<String>,
    pub issuance: Issuance,
    /// Certificate profiles already issued and confirmed (two-certificate requests).
    pub confirmed: Vec<Profile>,
    /// Wrong codes or OTPs so far; at [`MAX_FAILURES`] the request is locked.
    pub failures: i64,
    /// The office that registered it (None: the configuration, or a token of no office).
    pub office: Option<String>,
    /// Its path through verification (None: registered through the JSON API).
    pub verification: Option<String>,
}

/// Wrong activation codes or OTPs that lock a request.
pub const MAX_FAILURES: i64 = 5;

impl Entry {
    pub fn locked(&self) -> bool {
        self.failures >= MAX_FAILURES
    }

    /// The certificate profile to issue next: the one the client named (certProfile), or
    /// the first not yet confirmed.
    pub fn next_certificate(&self, wanted: Option<&str>) -> Result<Profile, &'static str> {
        let mut left = self.request.profile.certificates().iter().copied().filter(|p| !self.confirmed.contains(p));
        match wanted {
            None => left.next().ok_or("this request was already issued"),
            Some(name) => match Profile::from_name(name) {
                Some(p) if left.any(|l| l == p) => Ok(p),
                Some(p) if self.request.profile.certificates().contains(&p) => {
                    Err("this certificate was already issued")
                }
                _ => Err("this request has no such certificate profile"),
            },
        }
    }
}

/// Why a subject field cannot go into a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRefused {
    pub field: &'static str,
    /// empty, too-long, control-character (C0/C1 controls, NUL, CR/LF) or
    /// format-character (bidi overrides such as U+202E, zero-width characters).
    pub reason: &'static str,
}

/// A subject field as it is checked and stored: trimmed, in Unicode normalisation form C
/// (an accented letter typed as a letter and a combining accent becomes one character).
/// Every space separator (no-break, figure, ideographic, ...) becomes a plain space, and
/// runs of them one, so that two names that look alike are stored alike.
pub fn normalise(value: &str) -> String {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    let composed: String = unicode_normalization::UnicodeNormalization::nfc(value.trim()).collect();
    let mut out = String::with_capacity(composed.len());
    for c in composed.chars() {
        let c = if c.general_category() == GeneralCategory::SpaceSeparator { ' ' } else { c };
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

/// Code points that show nothing and are not format characters (Default_Ignorable_Code_Point
/// outside category Cf): fillers and variation selectors, which make two different
/// subjects look the same.
fn invisible(c: char) -> bool {
    matches!(c as u32,
        0x034F | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F | 0x2800 | 0x3164 | 0xFE00..=0xFE0F | 0xFFA0
        | 0xE0000..=0xE0FFF)
}

/// Combining marks in a row past which a field is refused (after NFC an accented Latin
/// letter has none; some scripts stack two or three).
const MAX_COMBINING_RUN: usize = 4;

/// Check one subject field (already [`normalise`]d): not empty, at most `max` characters
/// (the X.520 / RFC 5280 upper bound of its attribute), and nothing that would make the
/// certificate show something other than what it says: control, format (bidi, tags),
/// line and paragraph separators, invisible fillers, private-use, unassigned and
/// noncharacter code points, and long runs of combining marks.
pub fn check_field(field: &'static str, value: &str, max: usize) -> Result<(), SubjectRefused> {
    use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};
    let refused = |reason| Err(SubjectRefused { field, reason });
    if value.trim().is_empty() {
        return refused("empty");
    }
    if value.chars().count() > max {
        return refused("too-long");
    }
    let mut run = 0;
    let mut after_letter = false;
    for c in value.chars() {
        let category = c.general_category();
        let reason = match category {
            GeneralCategory::Control => Some("control-character"),
            GeneralCategory::Format => Some("format-character"),
            GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => Some("separator-character"),
            GeneralCategory::PrivateUse => Some("private-use-character"),
            // Unassigned, noncharacters (U+FFFF, U+FDD0..) among them.
            GeneralCategory::Unassigned | GeneralCategory::Surrogate => Some("unassigned-character"),
            _ if invisible(c) => Some("invisible-character"),
            _ => None,
        };
        if let Some(reason) = reason {
            return refused(reason);
        }
        let mark = c.general_category_group() == GeneralCategoryGroup::Mark;
        // A mark belongs to the letter before it: not at the start, not after a space.
        if mark && run == 0 && !after_letter {
            return refused("combining-marks");
        }
        run = if mark { run + 1 } else { 0 };
        if run > MAX_COMBINING_RUN {
            return refused("combining-marks");
        }
        after_letter = mark || !c.is_whitespace();
    }
    Ok(())
}

impl Holder {
    /// Every field that goes into the certificate's subject, checked when it is
    /// registered (RFC 5280 appendix A upper bounds: commonName 64, and the names it is
    /// made of; title, organization 64; serialNumber 64; e-mail 128, RFC 5321's path).
    pub fn check_subject(&self) -> Result<(), SubjectRefused> {
        check_field("given_name", &self.given_name, 64)?;
        check_field("surname", &self.surname, 64)?;
        check_field("common_name", &format!("{} {}", self.surname, self.given_name), 64)?;
        check_field("cf", &self.cf, 56)?;
        // serialNumber is a PrintableString in every certificate (RFC 5280, X.520).
        let printable = |c: char| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c);
        if !self.serial_number().chars().all(printable) {
            return Err(SubjectRefused { field: "cf", reason: "not-printable" });
        }
        for (field, value, max) in [
            ("title", &self.title, 64),
            ("organization", &self.organization, 64),
            ("organization_identifier", &self.organization_identifier, 64),
            ("email", &self.email, 128),
        ] {
            if let Some(v) = value {
                check_field(field, v, max)?;
            }
        }
        Ok(())
    }
}

/// The activation code as typed: upper case, without spaces or dashes.
pub fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_fields_with_controls_bidi_overrides_or_over_their_bound_are_refused() {
        let ok = Holder::new("MARIO", "ROSSI", "RSSMRA80A01H501U");
        assert_eq!(ok.check_subject(), Ok(()));
        assert_eq!(Holder::new("NICCOLÒ", "D'ARCO-FABBRÌ", "X").check_subject(), Ok(()), "accents, apostrophes");
        let refused = |h: Holder| h.check_subject().map_err(|r| (r.field, r.reason));
        assert_eq!(refused(Holder::new("MA\0RIO", "ROSSI", "X")), Err(("given_name", "control-character")));
        assert_eq!(refused(Holder::new("MARIO", "ROSSI\r\nCN=ADMIN", "X")), Err(("surname", "control-character")));
        assert_eq!(refused(Holder::new("MARIO", "\u{202E}ISSOR", "X")), Err(("surname", "format-character")));
        assert_eq!(refused(Holder::new("MA\u{200B}RIO", "ROSSI", "X")), Err(("given_name", "format-character")));
        assert_eq!(refused(Holder::new(&"A".repeat(100_000), "ROSSI", "X")), Err(("given_name", "too-long")));
        assert_eq!(refused(Holder::new(&"A".repeat(40), &"B".repeat(40), "X")), Err(("common_name", "too-long")));
        assert_eq!(refused(Holder::new(" ", "ROSSI", "X")), Err(("given_name", "empty")));
        let titled = Holder { title: Some("AVV\u{0085}".into()), ..ok };
        assert_eq!(refused(titled), Err(("title", "control-character")));
        for (given, reason) in [
            ("MARIO\u{2028}ROSSI", "separator-character"),
            ("MARIO\u{2029}", "separator-character"),
            ("MARIO\u{E0041}\u{E007F}", "format-character"),
            ("MARIO\u{3164}", "invisible-character"),
            ("MARIO\u{FE0F}", "invisible-character"),
            ("MARIO\u{FFFF}", "unassigned-character"),
            ("MARIO\u{FDD0}", "unassigned-character"),
            ("MARIO\u{E000}", "private-use-character"),
            ("MARIO\u{10FFFD}", "private-use-character"),
        ] {
            assert_eq!(refused(Holder::new(given, "ROSSI", "X")), Err(("given_name", reason)), "{given:?}");
        }
        let zalgo = format!("MARIO{}", "\u{0301}".repeat(50));
        assert_eq!(refused(Holder::new(&zalgo, "ROSSI", "X")), Err(("given_name", "combining-marks")));
        // Decomposed accents become one character each: accepted, and stored composed.
        let decomposed = "NICCOLO\u{0300}";
        assert_eq!(normalise(decomposed), "NICCOLÒ");
        assert_eq!(Holder::new(&normalise(decomposed), "ROSSI", "X").check_subject(), Ok(()));
        assert_eq!(Holder::new("DEVANĀGARĪ क्षि", "ROSSI", "X").check_subject(), Ok(()), "marks of other scripts");
        assert_eq!(refused(Holder::new("\u{0301}MARIO", "ROSSI", "X")), Err(("given_name", "combining-marks")));
        assert_eq!(refused(Holder::new("MARIO \u{0301}", "ROSSI", "X")), Err(("given_name", "combining-marks")));
        assert_eq!(refused(Holder::new("MARIO\u{2800}", "ROSSI", "X")), Err(("given_name", "invisible-character")));
        // Look-alike spaces become one plain space.
        assert_eq!(normalise(" MARIA\u{00A0}\u{3000} LUISA\u{202F}"), "MARIA LUISA");
        assert_eq!(refused(Holder::new("MARIO", "ROSSI", "RSSMRA80*01H501U")), Err(("cf", "not-printable")));
        for name in ["D'ARCO", "O’NEILL", "STRAẞE", "ŁUKASZ", "ŘEHÁK", "ŐRSÉG", "ΣΩΚΡΆΤΗΣ"] {
            assert_eq!(Holder::new(name, "ROSSI", "X").check_subject(), Ok(()), "{name}");
        }
    }

    #[test]
    fn an_unapproved_renewal_is_suspended_at_the_old_expiry_then_revoked() {
        let due = time::OffsetDateTime::now_utc();
        let day = time::Duration::days(1);
        assert_eq!(Lifecycle::Active.pending_approval(due, due - day), Lifecycle::Active);
        assert_eq!(Lifecycle::Active.pending_approval(due, due + day), Lifecycle::Suspended { since: due });
        assert!(matches!(Lifecycle::Active.pending_approval(due, due + 121 * day), Lifecycle::Revoked { .. }));
    }

    #[test]
    fn a_suspension_over_120_days_is_a_revocation() {
        let t0 = time::OffsetDateTime::now_utc() - time::Duration::days(200);
        let suspended = Lifecycle::Suspended { since: t0 };
        assert_eq!(suspended.now(t0 + time::Duration::days(119)), suspended);
        assert!(matches!(suspended.now(t0 + time::Duration::days(121)), Lifecycle::Revoked { .. }));
        assert_eq!(Lifecycle::Active.now(t0), Lifecycle::Active);
    }
}
