//! What a flow asks of the person in front of it, and what it tells them while it runs.
//! The CLI answers on the terminal (or one line per question on stdin), the window over
//! IPC: a flow never knows which.

use serde::Serialize;
use tessera_core::ErrorPayload;
use tessera_core::card::Role;
use tessera_core::token::PinState;
use zeroize::Zeroizing;

use crate::Result;

/// Which PIN a question is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum PinKind {
    /// The holder's PIN.
    User,
    /// The security officer's PIN: the PUK, or the OpenPGP admin PIN.
    So,
}

/// A question. Each front end renders it from locales/ by its `id()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Question {
    /// The activation code (a secret).
    ActivationCode,
    /// The holder's tax code, or passport number (a value).
    TaxCode,
    /// The OTP sent by SMS to `mobile` (masked). An empty answer asks for another SMS,
    /// allowed `resend_after` seconds after the last one.
    Otp { mobile: String, resend_after: i64 },
    /// A PIN, after showing its state and tries left.
    Pin { token: String, pin: PinKind, state: Option<PinState>, tries_left: Option<u8> },
    /// The PIV card management key (hex).
    ManagementKey { token: String },
    /// The operator's account name, to sign in to the RA (a value).
    OperatorName,
    /// The password of the operator account `name` (a secret).
    OperatorPassword { name: String },
    /// The one-time code the operator's authenticator shows now (a secret).
    OperatorCode,
    /// Go on with this request on this card? (shown before any key is made)
    ConfirmRequest { holder: String, profile: String, token: String },
    /// At the counter, the request a link or the operator named: the holder's, of
    /// `office`, with `profile`, on this card? (asked before the RA arms it)
    ConfirmCounterRequest { reference: String, holder: String, profile: String, office: String, token: String },
    /// One PIN try is left before it locks: spend it? (asked before the PIN)
    ConfirmFinalTry { token: String },
    /// Several cards or tokens are present: which one (its number in `tokens`, from 1, or
    /// its label).
    ChooseToken { tokens: Vec<String> },
    /// Renewal: accept the contract (its version and text) and sign the renewal form (shown
    /// whole) with the expiring certificate? `policy`: automatic, or approval (an operator
    /// approves the renewal afterwards).
    SignRenewalForm { form: String, contract_version: String, contract: String, policy: String },
    /// Renewal: the holder's contacts (masked) as registered, before the form. The answer
    /// is empty to keep them, or a JSON object with the new `mobile` (+CC…) and/or `email`;
    /// `email_editable` is false when the e-mail is the certificate's. `conflict`: the one
    /// another person has, which must change before the form can be signed.
    Contacts { mobile: Option<String>, email: Option<String>, email_editable: bool, conflict: Option<String> },
    /// The code sent to the new contact `to` (masked), `channel` mobile or email (a secret).
    ContactCode { channel: String, to: String },
    /// Renewal of a fixed-slot card: the new key must take the old key's slot on `token`,
    /// so the certificate `certificate` (its subject) stops working once the slot is
    /// overwritten, until the new one is installed. Go on? (asked before anything is signed)
    ConfirmOverwrite { token: String, certificate: String },
    /// The renewal code sent to `to` (masked) when the overwrite was authorised: an
    /// interrupted fixed-slot renewal completes with it (a secret). An empty answer asks
    /// for it again, allowed `resend_after` seconds after the last one.
    RenewalCode { to: String, resend_after: i64 },
}

impl Question {
    /// The Fluent id of the question's text.
    pub fn id(&self) -> &'static str {
        match self {
            Question::ActivationCode => "ask-activation-code",
            Question::TaxCode => "ask-tax-code",
            Question::Otp { .. } => "ask-otp",
            Question::Pin { pin: PinKind::User, .. } => "prompt-user-pin",
            Question::Pin { pin: PinKind::So, .. } => "prompt-so-pin",
            Question::ManagementKey { .. } => "prompt-management-key",
            Question::OperatorName => "ask-operator-name",
            Question::OperatorPassword { .. } => "ask-operator-password",
            Question::OperatorCode => "ask-operator-code",
            Question::ConfirmRequest { .. } => "ask-confirm-request",
            Question::ConfirmCounterRequest { .. } => "ask-confirm-counter-request",
            Question::ChooseToken { .. } => "ask-choose-token",
            Question::ConfirmFinalTry { .. } => "ask-confirm-final-try",
            Question::SignRenewalForm { .. } => "ask-sign-renewal-form",
            Question::Contacts { .. } => "ask-contacts",
            Question::ContactCode { .. } => "ask-contact-code",
            Question::ConfirmOverwrite { .. } => "ask-confirm-overwrite",
            Question::RenewalCode { .. } => "ask-renewal-code",
        }
    }

    /// Whether the answer is a secret (never echoed, never logged).
    pub fn secret(&self) -> bool {
        !matches!(
            self,
            Question::TaxCode
                | Question::OperatorName
                | Question::ConfirmRequest { .. }
                | Question::ConfirmCounterRequest { .. }
                | Question::ChooseToken { .. }
                | Question::ConfirmFinalTry { .. }
                | Question::SignRenewalForm { .. }
                | Question::Contacts { .. }
                | Question::ConfirmOverwrite { .. }
        )
    }
}

/// One step of a flow, as progress reports name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// The SMS OTP (holder mode), or the operator arming the request.
    Arm,
    /// The card's catalog entry against the profile.
    CheckCard,
    /// A blank card gets the PIN, PUK (and PIV management key) the RA chose.
    Personalise,
    Generate {
        role: Role,
    },
    /// CMP: request signed on the card, sent, answered.
    Issue {
        role: Role,
    },
    /// The returned certificate's key and chain.
    Verify {
        role: Role,
    },
    Install {
        role: Role,
    },
    /// certConf.
    Confirm {
        role: Role,
    },
    /// Renewal: the checks before any PIN.
    Diagnose,
    /// Renewal: the contract accepted and the renewal form signed with the expiring key.
    SignForm,
    /// Renewal of a fixed-slot card: overwriting the slot authorised with the expiring key.
    Authorise,
    /// Renewal: the old key and certificate removed, once the new ones are confirmed.
    Retire {
        role: Role,
    },
}

/// What a flow reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Progress {
    Started {
        step: Step,
    },
    Done {
        step: Step,
    },
    /// Skipped because an earlier run did it (resume).
    Resumed {
        step: Step,
    },
    Failed {
        step: Step,
        error: ErrorPayload,
    },
    /// Renewal: the diagnostics of the card and of the certificate chosen, before any PIN
    /// (each check's verdict and message).
    Diagnosed {
        checks: Vec<crate::checks::Check>,
    },
    /// Something to tell the person, as a message id and its arguments.
    Notice {
        code: String,
        params: std::collections::BTreeMap<String, String>,
    },
}

/// The front end's side of a flow.
pub trait Prompter {
    /// Ask for a value or a secret; `Err(Cancelled)` when the person stops.
    fn ask(&mut self, question: &Question) -> Result<Zeroizing<String>>;
    /// A yes / no question.
    fn confirm(&mut self, question: &Question) -> Result<bool>;
    fn progress(&mut self, event: &Progress);
}
