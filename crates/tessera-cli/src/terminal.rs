//! The terminal's side of a flow: the CLI's [`Prompter`].

use std::io::BufRead;

use fluent_bundle::FluentValue;
use tessera_core::messages::Messages;
use tessera_flows::prompter::{Progress, Prompter, Question, Step};
use zeroize::Zeroizing;

/// The flows' questions on the terminal: secrets without echo, or with `stdin` one line
/// each from standard input (each question printed on stderr first); progress on stderr.
pub struct Terminal<'m> {
    msg: &'m Messages,
    stdin: bool,
    /// The management key from standard input even when the rest is asked on the terminal.
    pub management_key_stdin: bool,
    /// The answer to "spend the final PIN try?" given on the command line (`--final-try`);
    /// None: ask.
    pub final_try: Option<bool>,
    /// The contract version accepted on the command line (`--accept-contract`); None: ask.
    pub accept_contract: Option<String>,
    /// The answer to the renewal's contacts question (`--mobile`, `--email`): never read
    /// from standard input, so scripts answer the same questions as before. Empty: keep.
    pub new_contacts: String,
    /// The answer to "overwrite the card's slot?" given on the command line (`--overwrite`);
    /// None: ask.
    pub overwrite: Option<bool>,
}

impl<'m> Terminal<'m> {
    pub fn new(msg: &'m Messages, stdin: bool) -> Self {
        Terminal {
            msg,
            stdin,
            management_key_stdin: false,
            final_try: None,
            accept_contract: None,
            new_contacts: String::new(),
            overwrite: None,
        }
    }
}

fn read_line() -> std::io::Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "standard input closed"));
    }
    Ok(Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned()))
}

fn input(e: std::io::Error) -> tessera_flows::Error {
    tessera_flows::Error::Input { reason: e.to_string() }
}

impl Terminal<'_> {
    /// Ask with `label` as it is (a batch's lane asks in words already): from standard
    /// input with `--stdin`, else on the terminal, without echo for a secret.
    pub fn ask_as(&mut self, label: &str, secret: bool) -> tessera_flows::Result<Zeroizing<String>> {
        if self.stdin {
            eprintln!("{label}: (stdin)");
            return read_line().map_err(input);
        }
        if secret {
            return rpassword::prompt_password(format!("{label}: ")).map(Zeroizing::new).map_err(input);
        }
        eprint!("{label}: ");
        read_line().map_err(input)
    }

    /// A question as the terminal asks it.
    pub fn question_text(&self, q: &Question) -> String {
        self.text(q)
    }

    fn text(&self, q: &Question) -> String {
        let s = |v: &str| FluentValue::from(v.to_owned());
        let args: Vec<(&str, FluentValue<'_>)> = match q {
            Question::Otp { mobile, resend_after } => {
                vec![("mobile", s(mobile)), ("resend_after", FluentValue::from(*resend_after))]
            }
            Question::Pin { token, .. } | Question::ManagementKey { token } | Question::ConfirmFinalTry { token } => {
                vec![("token", s(token))]
            }
            Question::ChooseToken { tokens } => {
                let list =
                    tokens.iter().enumerate().map(|(i, t)| format!("{}) {t}", i + 1)).collect::<Vec<_>>().join("  ");
                vec![("tokens", FluentValue::from(list))]
            }
            Question::ConfirmRequest { holder, profile, token } => {
                vec![
                    ("holder", s(holder)),
                    ("profile", s(&self.msg.text(&format!("profile-{}", profile.replace('+', "-")), &[]))),
                    ("token", s(token)),
                ]
            }
            Question::ConfirmCounterRequest { reference, holder, profile, office, token } => {
                vec![
                    ("reference", s(reference)),
                    ("holder", s(holder)),
                    ("profile", s(&self.msg.text(&format!("profile-{}", profile.replace('+', "-")), &[]))),
                    ("office", s(office)),
                    ("token", s(token)),
                ]
            }
            Question::OperatorPassword { name } => vec![("name", s(name))],
            Question::SignRenewalForm { contract_version, .. } => vec![("contract_version", s(contract_version))],
            Question::ContactCode { channel, to } => vec![("channel", s(channel)), ("to", s(to))],
            Question::ConfirmOverwrite { token, certificate } => {
                vec![("token", s(token)), ("certificate", s(certificate))]
            }
            Question::RenewalCode { to, resend_after } => {
                vec![("to", s(to)), ("resend_after", FluentValue::from(*resend_after))]
            }
            _ => vec![],
        };
        if let Question::Pin { token, state, tries_left, .. } = q {
            return crate::prompt::pin_label(self.msg, q.id(), token, *state, *tries_left);
        }
        self.msg.text(q.id(), &args)
    }

    fn step(&self, step: &Step) -> String {
        let (id, role) = match step {
            Step::Arm => ("step-arm", None),
            Step::CheckCard => ("step-check-card", None),
            Step::Personalise => ("step-personalise", None),
            Step::Generate { role } => ("step-generate", Some(role)),
            Step::Issue { role } => ("step-issue", Some(role)),
            Step::Verify { role } => ("step-verify", Some(role)),
            Step::Install { role } => ("step-install", Some(role)),
            Step::Confirm { role } => ("step-confirm", Some(role)),
            Step::Diagnose => ("step-diagnose", None),
            Step::SignForm => ("step-sign-form", None),
            Step::Authorise => ("step-authorise", None),
            Step::Retire { role } => ("step-retire", Some(role)),
        };
        let role = role.map(|r| self.msg.text(&format!("role-{}", role_name(*r)), &[])).unwrap_or_default();
        self.msg.text(id, &[("role", FluentValue::from(role))])
    }
}

/// Crash tests: with `TESSERA_TEST_CRASH_AT=<step>` (a step's kebab-case name, or
/// `<name>:<role>` for one certificate's), the process aborts the moment that step starts:
/// an interruption at an exact step boundary, never in the middle of a card or token write
/// (SoftHSM2's own files do not survive a kill inside one). Debug builds only: a
/// released CLI has no such hook.
#[cfg(debug_assertions)]
fn crash_if_asked(step: &Step) {
    let Ok(at) = std::env::var("TESSERA_TEST_CRASH_AT") else { return };
    let v = serde_json::to_value(step).unwrap_or_default();
    let name = v["step"].as_str().unwrap_or_default();
    let key = v["role"].as_str().map(|r| format!("{name}:{r}")).unwrap_or_else(|| name.to_owned());
    if at == key || at == name {
        std::process::abort();
    }
}

#[cfg(not(debug_assertions))]
fn crash_if_asked(_: &Step) {}

pub fn role_name(role: tessera_core::card::Role) -> String {
    serde_json::to_value(role).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The locale key part of a certificate's role (`role-<name>`).
pub fn pki_role_name(role: tessera_pki::Role) -> &'static str {
    match role {
        tessera_pki::Role::Signature => "signature",
        tessera_pki::Role::Authentication => "authentication",
        _ => "other",
    }
}

impl Prompter for Terminal<'_> {
    fn ask(&mut self, q: &Question) -> tessera_flows::Result<Zeroizing<String>> {
        if let Question::Contacts { mobile, email, .. } = q {
            // Shown, and answered from the command line.
            let none = || self.msg.text("renewal-contact-none", &[]);
            let args = [
                ("mobile", FluentValue::from(mobile.clone().unwrap_or_else(none))),
                ("email", FluentValue::from(email.clone().unwrap_or_else(none))),
            ];
            eprintln!("{}", self.msg.text("renewal-contacts", &args));
            return Ok(Zeroizing::new(self.new_contacts.clone()));
        }
        let label = self.text(q);
        if self.management_key_stdin && matches!(q, Question::ManagementKey { .. }) {
            eprintln!("{label}: (stdin)");
            return read_line().map_err(input);
        }
        self.ask_as(&label, q.secret())
    }

    fn confirm(&mut self, q: &Question) -> tessera_flows::Result<bool> {
        if let (Question::ConfirmFinalTry { .. }, Some(given)) = (q, self.final_try) {
            return Ok(given);
        }
        if let (Question::ConfirmOverwrite { .. }, Some(given)) = (q, self.overwrite) {
            // Said anyway: what the choice means.
            eprintln!("! {}", self.text(q));
            return Ok(given);
        }
        if let Question::SignRenewalForm { form, contract_version, contract, policy } = q {
            // What is signed is always shown, whoever answers.
            let heading = |id: &str| self.msg.text(id, &[("version", FluentValue::from(contract_version.clone()))]);
            eprintln!(
                "\n{}\n{contract}\n\n{}\n{form}",
                heading("renewal-contract-heading"),
                heading("renewal-form-heading")
            );
            if policy == "approval" {
                eprintln!("{}\n", self.msg.text("renewal-policy-approval", &[]));
            }
            if let Some(accepted) = &self.accept_contract {
                if accepted != contract_version {
                    let args = [
                        ("accepted", FluentValue::from(accepted.clone())),
                        ("version", FluentValue::from(contract_version.clone())),
                    ];
                    eprintln!("! {}", self.msg.text("renewal-contract-other-version", &args));
                }
                return Ok(accepted == contract_version);
            }
        }
        let answer = self.ask(q)?;
        Ok(matches!(answer.trim().to_lowercase().as_str(), "s" | "si" | "sì" | "y" | "yes"))
    }

    fn progress(&mut self, event: &Progress) {
        let line = self.progress_line(event);
        if !line.is_empty() {
            eprintln!("{line}");
        }
        if let Progress::Started { step } = event {
            crash_if_asked(step);
        }
    }
}

impl Terminal<'_> {
    /// What a progress event says on the terminal (empty: nothing).
    pub fn progress_line(&self, event: &Progress) -> String {
        match event {
            Progress::Started { step } => format!("→ {} {}", self.step(step), self.msg.text("progress-started", &[])),
            Progress::Done { step } => format!("✓ {}: {}", self.step(step), self.msg.text("progress-done", &[])),
            Progress::Resumed { step } => format!("✓ {}: {}", self.step(step), self.msg.text("progress-resumed", &[])),
            Progress::Failed { step, .. } => {
                format!("✗ {}: {}", self.step(step), self.msg.text("progress-failed", &[]))
            }
            // The passes are for `tessera diagnose`; a renewal says what needs attention.
            Progress::Diagnosed { checks } => checks
                .iter()
                .filter(|c| c.verdict != tessera_flows::renewal::diagnostics::Verdict::Pass)
                .map(|c| format!("{} {}", crate::check_lines::mark(c.verdict), crate::check_lines::text(self.msg, c)))
                .collect::<Vec<_>>()
                .join("\n"),
            Progress::Notice { code, params } => {
                if let Some(error) = code.strip_prefix("error-") {
                    let payload = tessera_core::ErrorPayload { code: error.to_owned(), params: params.clone() };
                    let r = self.msg.error(&payload);
                    format!("! {} → {}", r.cause, r.remedy)
                } else {
                    let args: Vec<(&str, FluentValue<'_>)> =
                        params.iter().map(|(k, v)| (k.as_str(), FluentValue::from(v.clone()))).collect();
                    format!("! {}", self.msg.text(code, &args))
                }
            }
        }
    }
}
