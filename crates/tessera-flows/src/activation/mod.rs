//! New activation [Nuova attivazione] (DOMAIN.md): the request is armed (holder: code +
//! tax code + SMS OTP; operator, signed in: code or reference at the counter; a third-party CA: reference +
//! secret), then for each certificate of the profile: key pair on the card -> request
//! signed on the card -> CMP ir -> the certificate is for that key and chains to the RA's
//! CA -> written next to its key and read back -> certConf. A certificate that fails a
//! check is rejected in certConf and never written.
//!
//! Every step is journaled; a run for a request whose journal is unfinished resumes: it
//! reuses the key pair already made, the certificate already received, the certificate
//! already written.

use serde::Serialize;
use tessera_core::card::{Card, Role};
use tessera_core::devices::Devices;
use tessera_core::pin::Pin;
use tessera_pki::KeyAlgorithm;
use zeroize::Zeroizing;

use crate::journal::Journal;
use crate::prompter::{Progress, Prompter, Question, Step};
use crate::ra::cmp::Exchange;
use crate::ra::http::Http;
use crate::ra::workflow::{self, Holder};
use crate::secrets::Asked;
use crate::settings::Settings;
use crate::{Error, Result};
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::HolderName;
use tessera_protocol::workflow::activation::Found;

mod certificate;

/// How the request gets armed.
#[derive(Debug, Clone)]
pub enum Mode {
    /// At home: activation code + tax code, then the SMS OTP.
    Holder,
    /// At the counter: the operator, signed in to the RA with their account, arms it with
    /// the holder's code, or by the request's reference (a `tessera://counter` link, or
    /// named on the command line) without it.
    Operator(crate::operator::Session),
    /// A CMP CA without Tessera's workflow API: the reference and profile are given, the
    /// secret is asked as the activation code.
    Cmp { reference: String, profile: String },
}

/// The certificates a profile puts on a card, in order, with the CMP certProfile name.
pub fn certificates_of(profile: &str) -> Result<Vec<(Role, &'static str)>> {
    Ok(match profile {
        "signature" => vec![(Role::Signature, "signature")],
        "cns-authentication" => vec![(Role::Authentication, "cns-authentication")],
        "cns+signature" => vec![(Role::Authentication, "cns-authentication"), (Role::Signature, "signature")],
        other => return Err(Error::ProfileUnknown { profile: other.to_owned() }),
    })
}

/// Key algorithms in the order Tessera prefers them for qualified certificates (what CAs
/// accept most widely first); the first one the card makes is used.
const PREFERRED: [KeyAlgorithm; 4] =
    [KeyAlgorithm::Rsa2048, KeyAlgorithm::P256, KeyAlgorithm::P384, KeyAlgorithm::Rsa3072];

fn label(role: Role) -> &'static str {
    match role {
        Role::Signature => "Firma qualificata",
        Role::Authentication => "Autenticazione CNS",
    }
}

/// One installed certificate, as the result screen and `--json` show it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Installed {
    pub role: Role,
    /// PKCS#11 URI of the certificate on the card.
    pub uri: String,
    /// The whole subject (for `--json` and the error file); what people read is below.
    pub subject: String,
    /// The holder's name (the subject's common name) and tax code, as the Devices screen
    /// shows them.
    pub common_name: String,
    pub holder_cf: Option<String>,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    /// Issued suspended: the registration office activates it once the paperwork is
    /// validated.
    pub suspended: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Done by an earlier, interrupted run.
    pub resumed: bool,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Outcome {
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<Holder>,
    pub profile: String,
    pub token: String,
    pub certificates: Vec<Installed>,
}

/// What the flow needs besides the prompter.
pub struct Activation<'d> {
    pub devices: &'d mut Devices,
    pub settings: Settings,
    /// The token (PKCS#11 URI); None: the one present, or a question.
    pub token: Option<String>,
    pub mode: Mode,
    /// The key algorithm to make, when the card makes it; None: the first of
    /// [`PREFERRED`] the card makes.
    pub algorithm: Option<KeyAlgorithm>,
}

fn step<T>(prompter: &mut dyn Prompter, journal: Option<&mut Journal>, s: Step, r: Result<T>) -> Result<T> {
    match &r {
        Ok(_) => {
            prompter.progress(&Progress::Done { step: s });
            if let Some(j) = journal {
                j.event(s, "done", None)?;
            }
        }
        Err(e) => {
            prompter.progress(&Progress::Failed { step: s, error: e.payload() });
            if let Some(j) = journal {
                let _ = j.event(s, "failed", Some(e.payload()));
            }
        }
    }
    r
}

/// The catalog's word on the middleware serving `t`: an error when it is known not to be
/// able to generate keys or write certificates, naming what can.
pub(crate) fn middleware_verdict(t: &tessera_core::token::OpenToken<'_>, card: &str) -> Option<Error> {
    let model = t.model.as_ref()?;
    // Where Tessera makes the keys and writes with the card's own commands (PIV), what
    // the middleware lacks does not matter.
    let by_card = tessera_core::catalog::Login::CardCommand;
    if model.login.keygen == by_card && model.login.write == by_card {
        return None;
    }
    let serving = model.middleware_of(t.module_path())?;
    if serving.can_activate() {
        return None;
    }
    let can = serving
        .can
        .iter()
        .map(|c| serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(", ");
    let install = model
        .activating_middleware()
        .map(|m| match &m.install {
            Some(how) => format!("{} ({}): {how}", m.name, m.library),
            None => format!("{} ({})", m.name, m.library),
        })
        .collect::<Vec<_>>()
        .join("; ");
    Some(Error::MiddlewareCannotActivate {
        card: card.to_owned(),
        middleware: format!("{} ({})", serving.name, serving.library),
        can,
        install: if install.is_empty() { "none".into() } else { install },
    })
}

/// At the counter, the request `reference` of the operator's office: shown (holder,
/// office, profile) and confirmed before the RA arms it and answers this arming's secret.
async fn by_reference(
    http: &Http,
    session: &crate::operator::Session,
    reference: &str,
    token_label: &str,
    prompter: &mut dyn Prompter,
) -> Result<(Found, Zeroizing<String>)> {
    let reference = crate::link::reference(reference)?;
    let shown = workflow::counter_request(http, session.token(), &reference).await?;
    let go = prompter.confirm(&Question::ConfirmCounterRequest {
        reference: shown.reference.clone(),
        holder: format!("{} {}", shown.holder.given_name, shown.holder.surname),
        profile: shown.profile.clone(),
        office: shown.office.clone(),
        token: token_label.to_owned(),
    })?;
    if !go {
        return Err(Error::Cancelled);
    }
    workflow::counter_arm(http, session.token(), &reference).await
}

/// The tax code, checked as typed: a wrong check letter is pointed out with the right one
/// and asked again (a passport number, not of the tax code's form, goes as it is).
fn ask_tax_code(prompter: &mut dyn Prompter) -> Result<Zeroizing<String>> {
    use tessera_pki::codice_fiscale::{CfCheck, check};
    for _ in 0..3 {
        let typed = prompter.ask(&Question::TaxCode)?;
        if let CfCheck::WrongCheckLetter { code, expected } = check(&typed) {
            let params = [("code".to_owned(), code), ("expected".to_owned(), expected.to_string())];
            prompter.progress(&Progress::Notice { code: "notice-cf-check-letter".into(), params: params.into() });
            continue;
        }
        return Ok(typed);
    }
    Err(Error::RaRefused(Refusal::ActivationRefused { tries_left: None }))
}

impl<'d> Activation<'d> {
    /// An activation on `token` (None: the only card present, or the holder's choice),
    /// armed as `mode` says, making the first key algorithm of [`PREFERRED`] the card
    /// makes.
    pub fn new(devices: &'d mut Devices, settings: Settings, token: Option<String>, mode: Mode) -> Activation<'d> {
        Activation { devices, settings, token, mode, algorithm: None }
    }
}

impl Activation<'_> {
    /// A URI for the token that survives its label changing during the flow (OpenSC names a
    /// PIV token after its first certificate): by serial number when that is unique among
    /// the tokens present, else as given (an OpenPGP card's two tokens share one).
    fn stable(&mut self, uri: &str) -> Result<String> {
        let serial = self.devices.with_token(uri, |t| Ok(t.serial.clone()))?;
        if serial.is_empty() {
            return Ok(uri.to_owned());
        }
        let same = self.devices.snapshot().tokens.iter().filter(|t| t.serial == serial).count();
        Ok(if same == 1 {
            tessera_core::uri::UriBuilder::new().attr("serial", &serial).build()
        } else {
            uri.to_owned()
        })
    }

    /// Pick the token: the one asked for, else the only card present, else the holder's
    /// choice among the cards present (a card shown as several tokens is one choice).
    fn token(&mut self, prompter: &mut dyn Prompter) -> Result<String> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        // One choice per card: the token its activation starts on, named as the card.
        let snapshot = self.devices.snapshot();
        let tokens: Vec<(String, String)> = snapshot
            .cards
            .iter()
            .filter_map(|c| {
                let t = snapshot.tokens.iter().find(|t| t.uri == c.activate && t.initialized)?;
                Some((t.uri.clone(), if c.tokens.len() > 1 { c.name.clone() } else { t.label.clone() }))
            })
            .collect();
        match tokens.len() {
            0 => Err(Error::NoToken),
            1 => Ok(tokens[0].0.clone()),
            _ => {
                let labels: Vec<String> = tokens.iter().map(|(_, l)| l.clone()).collect();
                let question = Question::ChooseToken { tokens: labels };
                for _ in 0..3 {
                    let answer = prompter.ask(&question)?;
                    let answer = answer.trim();
                    let by_number =
                        answer.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| tokens.get(i));
                    if let Some((uri, _)) = by_number.or_else(|| tokens.iter().find(|(_, l)| l == answer)) {
                        return Ok(uri.clone());
                    }
                }
                Err(Error::Device(tessera_core::Error::TokenAmbiguous { uri: "pkcs11:".into(), count: tokens.len() }))
            }
        }
    }

    /// Arm the request at the RA (or, for a plain CMP CA, take what was given).
    async fn arm(&self, http: &Http, code: &str, link: Option<&str>, prompter: &mut dyn Prompter) -> Result<Found> {
        // A link named the request: the RA refuses a code of another request as a wrong code
        // before sending an SMS or arming anything; an RA that does not know the field is
        // checked here, afterwards.
        let same = |found: &Found| match link {
            Some(expected) if found.reference != expected => {
                Err(Error::LinkReferenceMismatch { expected: expected.to_owned(), found: found.reference.clone() })
            }
            _ => Ok(()),
        };
        match &self.mode {
            Mode::Cmp { reference, .. } if link.is_some_and(|l| l != reference) => Err(Error::LinkReferenceMismatch {
                expected: link.unwrap_or_default().to_owned(),
                found: reference.clone(),
            }),
            Mode::Cmp { reference, profile } => Ok(Found {
                reference: reference.clone(),
                holder: HolderName { given_name: String::new(), surname: String::new() },
                profile: profile.clone(),
                armed: true,
                mobile: None,
                otp_expires_in: None,
                resend_after: None,
                session: None,
            }),
            Mode::Operator(session) => workflow::arm_at_counter(http, session.token(), code).await,
            Mode::Holder => {
                let tax_code = ask_tax_code(prompter)?;
                let mut found = workflow::start(http, code, tax_code.trim(), link).await?;
                same(&found)?;
                while !found.armed {
                    let question = Question::Otp {
                        mobile: found.mobile.clone().unwrap_or_default(),
                        resend_after: found.resend_after.unwrap_or(30),
                    };
                    let otp = prompter.ask(&question)?;
                    let otp = otp.trim();
                    let result = if otp.is_empty() {
                        workflow::resend(http, &found.reference, code).await.map(|again| {
                            found.mobile = again.mobile.or(found.mobile.take());
                            found.resend_after = again.resend_after;
                            found.session = again.session.or(found.session.take());
                        })
                    } else {
                        let session = found.session.clone().unwrap_or_default();
                        workflow::verify_otp(http, &found.reference, &session, otp).await.map(|()| found.armed = true)
                    };
                    match result {
                        Ok(()) => {}
                        // The holder can try again: a wrong or expired OTP, another SMS too soon.
                        Err(Error::RaRefused(
                            r @ (Refusal::OtpWrong { .. } | Refusal::OtpExpired {} | Refusal::OtpResendTooSoon { .. }),
                        )) => {
                            prompter.progress(&Progress::Notice {
                                code: format!("error-{}", r.code()),
                                params: r.params(),
                            });
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(found)
            }
        }
    }

    pub async fn run(self, prompter: &mut dyn Prompter) -> Result<Outcome> {
        self.run_for(prompter, None).await
    }

    /// Run for the request a `tessera://` link named: a code typed for another request is
    /// refused before any key is made (at home, before the SMS code is sent).
    pub async fn run_for(mut self, prompter: &mut dyn Prompter, link: Option<&str>) -> Result<Outcome> {
        let chosen = self.token(prompter)?;
        let token_uri = self.stable(&chosen)?;
        let anchors = self.settings.anchors()?;
        let http = Http::new(&self.settings.ra, &anchors)?;

        let label = self.devices.with_token(&token_uri, |t| Ok(t.label.clone()))?;
        let (found, secret) = match (&self.mode, link) {
            // At the counter with a reference: confirmed before the RA arms it.
            (Mode::Operator(session), Some(reference)) => {
                prompter.progress(&Progress::Started { step: Step::Arm });
                let armed = by_reference(&http, session, reference, &label, prompter).await;
                step(prompter, None, Step::Arm, armed)?
            }
            _ => {
                let typed = prompter.ask(&Question::ActivationCode)?;
                // Both sides MAC with the code's canonical form (upper case, groups of
                // four); a plain CMP CA's secret is taken as typed.
                let secret: Zeroizing<String> = match self.mode {
                    Mode::Cmp { .. } => Zeroizing::new(typed.trim().to_owned()),
                    _ => tessera_protocol::activation::canonical_code(&typed),
                };
                prompter.progress(&Progress::Started { step: Step::Arm });
                let armed = self.arm(&http, &secret, link, prompter).await;
                let found = step(prompter, None, Step::Arm, armed)?;
                let holder = format!("{} {}", found.holder.given_name, found.holder.surname).trim().to_owned();
                let go = prompter.confirm(&Question::ConfirmRequest {
                    holder: if holder.is_empty() { found.reference.clone() } else { holder },
                    profile: found.profile.clone(),
                    token: label.clone(),
                })?;
                if !go {
                    return Err(Error::Cancelled);
                }
                (found, secret)
            }
        };
        let certificates = certificates_of(&found.profile)?;

        let mut journal = Journal::open(&found.reference, &token_uri, &self.settings.ra, &found.profile)?;
        if journal.record.completed {
            return Err(Error::AlreadyActivated { reference: found.reference.clone() });
        }
        // An interrupted activation resumes on its own card only: elsewhere its key is not
        // there, and its certificate would land beside no key.
        let serial = self.devices.with_token(&token_uri, |t| Ok(t.serial.clone()))?;
        if journal.record.card_serial().is_some_and(|s| !serial.is_empty() && s != serial) {
            return Err(Error::BegunOnAnotherCard { reference: found.reference.clone() });
        }
        journal.save()?;

        // The card must make a key the profile accepts, and have room for each key.
        prompter.progress(&Progress::Started { step: Step::CheckCard });
        let check = self.devices.with_token(&token_uri, |t| {
            let card = Card::new(t);
            let algorithms = card.algorithms();
            // The algorithm asked for, if the card makes it; else the first preferred one.
            let algorithm = match self.algorithm {
                Some(a) => algorithms.contains(&a).then_some(a),
                None => PREFERRED.into_iter().find(|a| algorithms.contains(a)),
            };
            let mut full = Vec::new();
            for (role, _) in &certificates {
                if journal.record.certificates.get(role).is_none_or(|c| c.key_id.is_none()) && !card.has_room(*role)? {
                    full.push(*role);
                }
            }
            let card = t.model.as_ref().map(|m| m.name.clone()).unwrap_or_else(|| t.label.clone());
            Ok((algorithm, full, card.clone(), middleware_verdict(t, &card)))
        });
        let check = check.map_err(Error::from).and_then(|(algorithm, full, card, middleware)| {
            if let Some(e) = middleware {
                return Err(e);
            }
            let unsuitable =
                |reason: String| Error::CardUnsuitable { card: card.clone(), profile: found.profile.clone(), reason };
            let algorithm = algorithm.ok_or_else(|| unsuitable("no key algorithm in common".into()))?;
            if !full.is_empty() {
                return Err(unsuitable(format!("no free slot for {full:?}")));
            }
            Ok(algorithm)
        });
        let algorithm = step(prompter, Some(&mut journal), Step::CheckCard, check)?;
        let mut secrets = Asked::new(prompter);

        // A blank card gets the PIN and PUK the RA chose (and, PIV, its management key),
        // never shown: the holder learns them as two halves, from the operator and by e-mail.
        let blank = self.devices.with_token(&token_uri, |t| Card::new(t).is_blank())?;
        if blank && !matches!(self.mode, Mode::Cmp { .. }) {
            secrets.prompter.progress(&Progress::Started { step: Step::Personalise });
            // Armed by reference: to the operator who armed it; otherwise with the code.
            let got = match (&self.mode, link) {
                (Mode::Operator(session), Some(_)) => {
                    workflow::counter_card_secrets(&http, session.token(), &found.reference).await
                }
                _ => workflow::card_secrets(&http, &found.reference, &secret).await,
            };
            let holder_name = format!("{} {}", found.holder.surname, found.holder.given_name);
            let done = match got {
                Ok(Some(s)) => {
                    let (pin, puk) = (Pin::new(s.pin.as_str()), Pin::new(s.puk.as_str()));
                    let key = tessera_core::piv::ManagementKey::from_hex(&s.management_key);
                    let set = self
                        .devices
                        .with_token(&token_uri, |t| Card::new(t).personalise(&pin, &puk, key.as_ref(), &holder_name));
                    set.map(|()| secrets.know(pin, puk, Some(s.management_key))).map_err(Error::from)
                }
                // An RA that does not choose the card's PINs: the card keeps its own.
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            step(secrets.prompter, Some(&mut journal), Step::Personalise, done)?;
        }

        let exchange_profile = (certificates.len() > 1).then_some(());
        // The template's subject; the RA puts the registered holder's in the certificate.
        let subject_cn = match format!("{} {}", found.holder.surname, found.holder.given_name).trim() {
            "" => found.reference.clone(),
            name => name.to_owned(),
        };
        let mut installed = Vec::new();
        for (role, cmp_profile) in &certificates {
            let exchange = Exchange {
                http: &http,
                reference: &found.reference,
                secret: secret.as_bytes(),
                profile: exchange_profile.map(|()| *cmp_profile),
            };
            installed.push(
                self.enroll(&mut secrets, &mut journal, &token_uri, *role, algorithm, &exchange, &anchors, &subject_cn)
                    .await?,
            );
        }
        journal.record.completed = true;
        journal.save()?;
        Ok(Outcome {
            reference: found.reference,
            holder: (!found.holder.surname.is_empty()).then(|| found.holder.into()),
            profile: found.profile,
            token: token_uri,
            certificates: installed,
        })
    }
}
