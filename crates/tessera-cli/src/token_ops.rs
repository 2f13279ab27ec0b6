//! `tessera key|csr|cert|pin`: what a card does, one command each, by PKCS#11 URI.

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use tessera_core::card::Card;
use tessera_core::catalog::Login;
use tessera_core::devices::{Devices, Options};
use tessera_core::keys::{self, TokenSigner};
use tessera_core::messages::Messages;
use tessera_core::pin::{self, FinalTry, Who};
use tessera_core::token::OpenToken;
use tessera_core::uri::Pkcs11Uri;
use tessera_core::{Error, certs};
use tessera_pki::KeyAlgorithm;

use crate::prompt::PinSource;

#[derive(clap::Args)]
pub struct Common {
    /// Print the result as JSON (docs/json.md).
    #[arg(long, global = true)]
    pub json: bool,
    /// Read PINs from standard input, one per line, instead of the terminal.
    #[arg(long, global = true)]
    pin_stdin: bool,
    /// Spend the user PIN's final try (otherwise refused before anything is sent).
    #[arg(long, global = true)]
    final_try: bool,
    /// Also load this PKCS#11 module (path or file name); repeatable.
    #[arg(long = "module", value_name = "PATH", global = true)]
    pub modules: Vec<String>,
    /// Read the card management key (PIV: 24-byte 3DES, hex) from standard input, for
    /// cards whose keys are made with their own commands; asked on the terminal otherwise.
    #[arg(long, global = true)]
    management_key_stdin: bool,
}

#[derive(clap::Subcommand)]
pub enum KeyCommand {
    /// Generate a key pair on the token (private key sensitive, never extractable).
    Generate {
        /// The token: pkcs11:token=...;serial=...
        #[arg(long)]
        token: String,
        /// rsa2048, rsa3072, p256 or p384.
        #[arg(long)]
        algorithm: String,
        #[arg(long, default_value = "Tessera")]
        label: String,
        /// CKA_ID in hex; by default 8 random bytes from the token (or the card's first
        /// free key slot).
        #[arg(long)]
        id: Option<String>,
        /// Also write a certification request signed by the new key (PEM) to this file
        /// (the only way on cards whose middleware sees a key only once it has a
        /// certificate, such as PIV).
        #[arg(long, value_name = "FILE")]
        csr: Option<PathBuf>,
        /// Common name of that request.
        #[arg(long = "cn", default_value = "Tessera")]
        common_name: String,
    },
}

#[derive(clap::Subcommand)]
pub enum CertCommand {
    /// Write a certificate (PEM or DER file) next to its key, after checking they match.
    Install {
        /// The key: pkcs11:token=...;id=%..
        #[arg(long)]
        key: String,
        #[arg(long, default_value = "Tessera")]
        label: String,
        file: PathBuf,
    },
    /// Delete the objects a URI names (by id= and/or object=, optionally type=).
    Delete { uri: String },
}

#[derive(clap::Subcommand)]
pub enum PinCommand {
    /// The user PIN's state (tries left as the token reports them).
    Status {
        #[arg(long)]
        token: String,
    },
    /// Change the user PIN.
    Change {
        #[arg(long)]
        token: String,
    },
    /// Unblock the user PIN with the PUK and set a new one.
    Unblock {
        #[arg(long)]
        token: String,
    },
}

pub struct Ctx<'a> {
    pub common: Common,
    pub msg: &'a Messages,
}

impl Ctx<'_> {
    fn devices(&self) -> Devices {
        let mut options = Options::from_env();
        options.modules.extend(self.common.modules.iter().cloned());
        Devices::new(options)
    }

    fn pins(&self) -> PinSource {
        PinSource::new(self.common.pin_stdin)
    }

    /// The flows' secrets (PINs after their state, the management key) asked on the
    /// terminal or stdin, as this command's flags say.
    fn terminal(&self) -> crate::terminal::Terminal<'_> {
        let mut t = crate::terminal::Terminal::new(self.msg, self.common.pin_stdin);
        t.management_key_stdin = self.common.management_key_stdin;
        t.final_try = Some(self.common.final_try);
        t
    }

    fn final_try(&self) -> FinalTry {
        if self.common.final_try { FinalTry::Confirmed } else { FinalTry::Refuse }
    }

    /// Log in as `who`, asking for the PIN after showing its state.
    fn login(&self, token: &OpenToken<'_>, session: &tessera_core::token::Session, who: Who) -> Result<(), Error> {
        let (prompt, state) = match who {
            Who::User => ("prompt-user-pin", Some(token.pin_state()?)),
            Who::So => ("prompt-so-pin", None),
        };
        if who == Who::User {
            pin::guard(state.unwrap_or(tessera_core::token::PinState::Ok), self.final_try())?;
        }
        let tries = if who == Who::User { token.pin_tries() } else { None };
        let p = self.pins().read(self.msg, prompt, &token.label, state, tries).map_err(io)?;
        token.login(session, who, &p, self.final_try())
    }

    fn done<T: Serialize>(&self, value: &T, text: impl FnOnce(&T) -> String) -> ExitCode {
        if self.common.json {
            println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
        } else {
            println!("{}", text(value));
        }
        ExitCode::SUCCESS
    }

    pub fn fail(&self, e: &Error) -> ExitCode {
        crate::report(self.msg, &e.payload());
        ExitCode::FAILURE
    }
}

fn io(e: std::io::Error) -> Error {
    Error::Input { reason: e.to_string() }
}

fn login_for(token: &OpenToken<'_>, need: impl Fn(&tessera_core::catalog::Logins) -> Login) -> Who {
    match token.model.as_ref().map(|m| need(&m.login)) {
        Some(Login::So) => Who::So,
        _ => Who::User,
    }
}

fn parse_hex(s: &str) -> Result<Vec<u8>, Error> {
    let clean: String = s.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
    if !clean.len().is_multiple_of(2) {
        return Err(Error::InvalidUri { uri: s.into(), reason: "odd number of hex digits".into() });
    }
    (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|e| Error::InvalidUri { uri: s.into(), reason: e.to_string() })
}

fn key_id(uri: &str) -> Result<Vec<u8>, Error> {
    let parsed = Pkcs11Uri::parse(uri).map_err(|reason| Error::InvalidUri { uri: uri.into(), reason })?;
    parsed.id.ok_or_else(|| Error::SelectorTooBroad { uri: uri.into() })
}

pub fn key(ctx: &Ctx<'_>, cmd: KeyCommand) -> ExitCode {
    let KeyCommand::Generate { token, algorithm, label, id, csr, common_name } = cmd;
    let result = (|| {
        let algorithm = KeyAlgorithm::parse(&algorithm)
            .ok_or_else(|| Error::AlgorithmUnsupported { algorithm: algorithm.clone(), card: "Tessera".into() })?;
        let id = id.as_deref().map(parse_hex).transpose()?;
        let mut devices = ctx.devices();
        let mut terminal = ctx.terminal();
        let mut secrets = tessera_flows::secrets::Asked::new(&mut terminal);
        let info =
            devices.with_token(&token, |t| Card::new(t).generate(&mut secrets, id.clone(), algorithm, &label))?;
        if let Some(path) = &csr {
            // A second visit: middleware that needed reloading after key generation is
            // fresh, and shows the key as it is on the card.
            let der = devices.with_token(&token, |t| {
                let card = Card::new(t);
                let fresh = card.public_key(&parse_hex(&info.id)?)?;
                let key =
                    keys::KeyPairInfo { public_key: fresh.unwrap_or_else(|| info.public_key.clone()), ..info.clone() };
                card.sign_with(&mut secrets, &key, |signer| {
                    tessera_pki::csr::build(signer, &common_name)
                        .map_err(|e| Error::CsrFailed { reason: e.to_string() })
                })
            })?;
            std::fs::write(path, tessera_pki::csr::to_pem(&der)).map_err(io)?;
        }
        Ok(info)
    })();
    match result {
        Ok(info) => ctx.done(&info, |i| format!("{}\n{} {}", i.uri, i.algorithm.name(), i.id)),
        Err(e) => ctx.fail(&e),
    }
}

#[derive(Serialize)]
struct CsrOut {
    key: String,
    pem: String,
}

pub fn csr(ctx: &Ctx<'_>, key: String, common_name: Option<String>, out: Option<PathBuf>) -> ExitCode {
    let result = (|| {
        let id = key_id(&key)?;
        ctx.devices().with_token(&key, |t| {
            let session = t.session(false)?;
            ctx.login(t, &session, Who::User)?;
            let signer = TokenSigner::find(t, &session, &id)?;
            let cn = common_name.clone().unwrap_or_else(|| signer.info().label.clone());
            let der = tessera_pki::csr::build(&signer, &cn).map_err(|e| Error::CsrFailed { reason: e.to_string() })?;
            let _ = session.logout();
            Ok(CsrOut { key: signer.info().uri.clone(), pem: tessera_pki::csr::to_pem(&der) })
        })
    })();
    match result {
        Ok(csr) => {
            if let Some(path) = out
                && let Err(e) = std::fs::write(&path, &csr.pem)
            {
                return ctx.fail(&io(e));
            }
            ctx.done(&csr, |c| c.pem.trim_end().to_owned())
        }
        Err(e) => ctx.fail(&e),
    }
}

#[derive(Serialize)]
struct Installed {
    uri: String,
}

#[derive(Serialize)]
struct Deleted {
    deleted: usize,
}

pub fn cert(ctx: &Ctx<'_>, cmd: CertCommand) -> ExitCode {
    match cmd {
        CertCommand::Install { key, label, file } => {
            let result = (|| {
                let id = key_id(&key)?;
                let bytes = std::fs::read(&file).map_err(io)?;
                let (der, _) = tessera_pki::certificate::CertificateObject::parse(&bytes)
                    .map_err(|e| Error::CertificateInvalid { reason: e.to_string() })?;
                let mut terminal = ctx.terminal();
                let mut secrets = tessera_flows::secrets::Asked::new(&mut terminal);
                ctx.devices().with_token(&key, |t| Card::new(t).install(&mut secrets, &id, &der, &label, false))
            })();
            match result {
                Ok(uri) => ctx.done(&Installed { uri }, |i| i.uri.clone()),
                Err(e) => ctx.fail(&e),
            }
        }
        CertCommand::Delete { uri } => {
            let result = (|| {
                let parsed = Pkcs11Uri::parse(&uri).map_err(|reason| Error::InvalidUri { uri: uri.clone(), reason })?;
                ctx.devices().with_token(&uri, |t| {
                    let session = t.session(true)?;
                    ctx.login(t, &session, login_for(t, |l| l.write))?;
                    let n = certs::delete(&session, &parsed, &uri);
                    let _ = session.logout();
                    n
                })
            })();
            match result {
                Ok(deleted) => ctx.done(&Deleted { deleted }, |d| d.deleted.to_string()),
                Err(e) => ctx.fail(&e),
            }
        }
    }
}

#[derive(Serialize)]
struct PinStatusOut {
    token: String,
    state: tessera_core::token::PinState,
    /// From the card's retry counter, where it can be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    tries_left: Option<u8>,
}

pub fn pin(ctx: &Ctx<'_>, cmd: PinCommand) -> ExitCode {
    let result = match cmd {
        PinCommand::Status { token } => ctx.devices().with_token(&token, |t| {
            Ok(PinStatusOut { token: t.uri(), state: t.pin_state()?, tries_left: t.pin_tries() })
        }),
        PinCommand::Change { token } => ctx.devices().with_token(&token, |t| {
            let state = t.pin_state()?;
            pin::guard(state, ctx.final_try())?;
            let old = ctx.pins().read(ctx.msg, "prompt-user-pin", &t.label, Some(state), t.pin_tries()).map_err(io)?;
            let new = ctx.pins().read(ctx.msg, "prompt-new-pin", &t.label, None, None).map_err(io)?;
            pin::change(t, &old, &new, ctx.final_try())?;
            Ok(PinStatusOut { token: t.uri(), state: t.pin_state()?, tries_left: t.pin_tries() })
        }),
        PinCommand::Unblock { token } => ctx.devices().with_token(&token, |t| {
            let puk = ctx.pins().read(ctx.msg, "prompt-so-pin", &t.label, None, None).map_err(io)?;
            let new = ctx.pins().read(ctx.msg, "prompt-new-pin", &t.label, None, None).map_err(io)?;
            pin::unblock(t, &puk, &new)?;
            Ok(PinStatusOut { token: t.uri(), state: t.pin_state()?, tries_left: t.pin_tries() })
        }),
    };
    match result {
        Ok(s) => ctx.done(&s, |s| {
            let key =
                serde_json::to_value(s.state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            ctx.msg.text(&format!("token-pin-{key}"), &[])
        }),
        Err(e) => ctx.fail(&e),
    }
}
