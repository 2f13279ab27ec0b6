//! The administrator's commands beside serving: operator accounts (`tessera-ra operator
//! add|list|disable|reset`) and the audit chain's check (`tessera-ra audit verify`). They
//! open the configured database directly, so they work with the RA stopped or running.

use std::path::{Path, PathBuf};

use crate::accounts::Role;
use crate::config::Config;
use crate::store::Store;
use crate::store::accounts::NewAccount;
use crate::store::audit::Event;

/// `tessera-ra operator …`.
pub enum Operator {
    Add { config: PathBuf, name: String, office: String, role: String, email: Option<String>, json: bool },
    List { config: PathBuf, json: bool },
    Disable { config: PathBuf, name: String, enable: bool },
    Reset { config: PathBuf, name: String, otp: bool, json: bool },
}

async fn open(path: &Path) -> Result<Store, String> {
    let config = Config::load(path)?;
    crate::startup::store(path, &config).await
}

/// Who acts from the command line: the administrator of the machine.
fn admin() -> Event<'static> {
    Event { actor: "admin (command line)", ..Default::default() }
}

/// Print what a new or reset account is handed, once.
fn hand_out(name: &str, c: &crate::accounts::Credentials, json: bool, what: &str) {
    if json {
        let v = serde_json::json!({
            "name": name,
            "password": c.password.as_str(),
            "otpauth": c.otpauth.as_str(),
        });
        println!("{v}");
    } else {
        println!("{what}");
        println!("One-time password (changed at the first sign-in): {}", c.password.as_str());
        println!("One-time codes: add this to an authenticator app (RFC 6238, 6 digits, 30 s):");
        println!("  {}", c.otpauth.as_str());
    }
}

pub async fn operator(command: Operator) -> Result<(), String> {
    let db = |e: crate::error::Error| e.to_string();
    match command {
        Operator::Add { config, name, office, role, email, json } => {
            use crate::office_accounts::{Refused, add};
            let role = Role::from_name(&role).ok_or_else(|| format!("{role:?}: operator, supervisor or verifier"))?;
            let store = open(&config).await?;
            let account = NewAccount { name: &name, office: &office, role, email: email.as_deref() };
            match add(&store, &account, &admin()).await {
                Ok(c) => hand_out(
                    &name,
                    &c,
                    json,
                    &format!("Account {name} created: office {office}, role {}.", role.name()),
                ),
                Err(Refused::Name) => {
                    return Err(format!("{name:?}: a name is 2 to 64 letters, digits, '.', '-' or '_'"));
                }
                Err(Refused::Office) => {
                    return Err(format!("{office:?}: an office code is 2 to 64 letters, digits, '.', '-' or '_'"));
                }
                Err(Refused::Exists) => return Err(format!("{name}: an account of this name exists")),
                Err(_) => return Err("the account could not be made: see the log".into()),
            }
        }
        Operator::List { config, json } => {
            let store = open(&config).await?;
            let accounts = store.accounts(None).await.map_err(db)?;
            if json {
                let rows: Vec<_> = accounts
                    .iter()
                    .map(|a| {
                        serde_json::json!({
                            "name": a.name, "office": a.office, "role": a.role.name(), "email": a.email,
                            "disabled": a.disabled, "must_change": a.must_change, "last_sign_in": a.last_sign_in,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::from(rows));
            } else {
                for a in accounts {
                    let state = if a.disabled {
                        "disabled"
                    } else if a.must_change {
                        "new password due"
                    } else {
                        "active"
                    };
                    println!("{:<24} {:<12} {:<10} {}", a.name, a.office, a.role.name(), state);
                }
            }
        }
        Operator::Disable { config, name, enable } => {
            let store = open(&config).await?;
            if !store.set_disabled(&name, !enable, &admin()).await.map_err(db)? {
                return Err(format!("{name}: no such account"));
            }
            println!("Account {name} {}.", if enable { "enabled" } else { "disabled: its sessions ended" });
        }
        Operator::Reset { config, name, otp, json } => {
            let store = open(&config).await?;
            let c = match crate::office_accounts::reset(&store, &name, otp, &admin()).await {
                Ok(c) => c,
                Err(crate::office_accounts::Refused::Unknown) => return Err(format!("{name}: no such account")),
                Err(_) => return Err("the account could not be reset: see the log".into()),
            };
            if otp {
                hand_out(
                    &name,
                    &c,
                    json,
                    &format!("Account {name} reset: a new password and a new one-time-code device."),
                );
            } else if json {
                println!("{}", serde_json::json!({ "name": name, "password": c.password.as_str() }));
            } else {
                println!("Account {name} reset: one-time password {}", c.password.as_str());
            }
        }
    }
    Ok(())
}

/// `tessera-ra audit verify`: true when the chain holds; what it found is printed.
pub async fn verify_audit(config: &Path) -> Result<bool, String> {
    let store = open(config).await?;
    let report = store.verify_audit().await.map_err(|e| e.to_string())?;
    match report.broken {
        None => {
            println!("Audit log intact: {} entries, each chained to the one before.", report.entries);
            Ok(true)
        }
        Some((seq, why)) => {
            println!("Audit log broken at entry {seq}: {why} ({} entries read).", report.entries);
            Ok(false)
        }
    }
}
