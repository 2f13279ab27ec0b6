//! `tessera activate`: the activation flow on the terminal. Questions are asked without
//! echo for secrets, or with `--stdin` read one line each from standard input in the order
//! asked (each question printed on stderr first); progress goes to stderr, the result to
//! stdout (`--json`: the flow's outcome).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use fluent_bundle::FluentValue;
use tessera_core::devices::{Devices, Options};
use tessera_core::messages::Messages;
use tessera_flows::activation::{Activation, Mode, Outcome};
use tessera_flows::prompter::{Progress, Prompter, Question, Step};
use tessera_flows::settings::Settings;
use zeroize::Zeroizing;

#[derive(clap::Args)]
pub struct Args {
    /// The card or token (PKCS#11 URI); by default the only one present.
    #[arg(long)]
    token: Option<String>,
    /// Counter mode: the operator (signed in to the RA) arms the request; no SMS OTP.
    #[arg(long)]
    operator: bool,
    /// A CMP CA without Tessera's workflow API: the request's reference (senderKID); the
    /// secret is asked as the activation code.
    #[arg(long, requires = "profile")]
    reference: Option<String>,
    /// With --reference: signature, cns-authentication or cns+signature.
    #[arg(long)]
    profile: Option<String>,
    /// The registration authority's URL (default: the settings file, else the test bed's).
    #[arg(long, value_name = "URL")]
    ra: Option<String>,
    /// PEM file with the RA's CA certificates, the only trust anchor for it.
    #[arg(long, value_name = "FILE")]
    ra_ca: Option<PathBuf>,
    /// Read every answer (code, tax code, OTP, PIN, PUK, management key, operator
    /// credential, confirmation) one per line from standard input.
    #[arg(long)]
    stdin: bool,
}

struct Terminal<'m> {
    msg: &'m Messages,
    stdin: bool,
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
        };
        let role = role.map(|r| self.msg.text(&format!("role-{}", role_name(*r)), &[])).unwrap_or_default();
        self.msg.text(id, &[("role", FluentValue::from(role))])
    }
}

fn role_name(role: tessera_core::card::Role) -> String {
    serde_json::to_value(role).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl Prompter for Terminal<'_> {
    fn ask(&mut self, q: &Question) -> tessera_flows::Result<Zeroizing<String>> {
        let label = self.text(q);
        if self.stdin {
            eprintln!("{label}: (stdin)");
            return read_line().map_err(input);
        }
        if q.secret() {
            return rpassword::prompt_password(format!("{label}: ")).map(Zeroizing::new).map_err(input);
        }
        eprint!("{label}: ");
        read_line().map_err(input)
    }

    fn confirm(&mut self, q: &Question) -> tessera_flows::Result<bool> {
        let answer = self.ask(q)?;
        Ok(matches!(answer.trim().to_lowercase().as_str(), "s" | "si" | "sì" | "y" | "yes"))
    }

    fn progress(&mut self, event: &Progress) {
        let line = match event {
            Progress::Started { step } => format!("→ {} {}", self.step(step), self.msg.text("progress-started", &[])),
            Progress::Done { step } => format!("✓ {}: {}", self.step(step), self.msg.text("progress-done", &[])),
            Progress::Resumed { step } => format!("✓ {}: {}", self.step(step), self.msg.text("progress-resumed", &[])),
            Progress::Failed { step, .. } => {
                format!("✗ {}: {}", self.step(step), self.msg.text("progress-failed", &[]))
            }
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
        };
        eprintln!("{line}");
    }
}

fn summary(msg: &Messages, o: &Outcome) -> String {
    let s = |v: &str| FluentValue::from(v.to_owned());
    let holder = o.holder.as_ref().map(|h| format!("{} {}", h.given_name, h.surname)).unwrap_or_default();
    let mut out = vec![msg.text("activation-done", &[("reference", s(&o.reference)), ("holder", s(&holder))])];
    for c in &o.certificates {
        let role = msg.text(&format!("role-{}", role_name(c.role)), &[]);
        out.push(msg.text(
            "activation-certificate",
            &[("role", s(&role)), ("subject", s(&c.subject)), ("not_after", s(&c.not_after))],
        ));
        out.push(format!("  {}", c.uri));
        if c.suspended {
            out.push(msg.text("activation-suspended", &[]));
        }
    }
    out.push(msg.text("activation-next", &[]));
    out.join("\n")
}

pub fn run(args: Args, json: bool, modules: &[String], msg: &Messages) -> ExitCode {
    let mut options = Options::from_env();
    options.modules.extend(modules.iter().cloned());
    let mut devices = Devices::new(options);
    let result = (|| {
        let mut settings = Settings::load()?;
        if let Some(ra) = args.ra {
            settings.ra = ra;
        }
        if let Some(ca) = args.ra_ca {
            settings.ra_ca = Some(ca);
        }
        let mode = match (args.reference, args.profile, args.operator) {
            (Some(reference), Some(profile), _) => Mode::Cmp { reference, profile },
            (_, _, true) => Mode::Operator,
            _ => Mode::Holder,
        };
        let flow = Activation { devices: &mut devices, settings, token: args.token, mode };
        let mut prompter = Terminal { msg, stdin: args.stdin };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| tessera_flows::Error::Input { reason: e.to_string() })?;
        runtime.block_on(flow.run(&mut prompter))
    })();
    match result {
        Ok(outcome) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&outcome).unwrap_or_default());
            } else {
                println!("{}", summary(msg, &outcome));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            crate::report(msg, &e.payload());
            ExitCode::FAILURE
        }
    }
}

/// `tessera support-bundle`: the error file, written to `out`; its path on stdout.
pub fn support_bundle(out: &std::path::Path, modules: &[String], msg: &Messages) -> ExitCode {
    let mut options = Options::from_env();
    options.modules.extend(modules.iter().cloned());
    let snapshot = Devices::new(options).snapshot();
    match tessera_flows::support::write(msg, None, &snapshot, out) {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            crate::report(msg, &e.payload());
            ExitCode::FAILURE
        }
    }
}
