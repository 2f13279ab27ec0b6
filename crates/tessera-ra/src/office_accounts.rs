//! Operator accounts made, disabled and reset: from the command line by the machine's
//! administrator (any office, any role), and from the console by an office's supervisor
//! (their own office; operators and supervisors, not the CA's verifiers). The same checks
//! and the same credentials either way: a one-time password changed at the first sign-in
//! and a TOTP secret for an authenticator app, each handed out once.

use crate::accounts::{Credentials, Role};
use crate::store::Store;
use crate::store::accounts::NewAccount;
use crate::store::audit::Event;

/// Why an account is not made or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A name is 2 to 64 letters, digits, `.`, `-` or `_`.
    Name,
    /// An office code follows the same rule.
    Office,
    /// An account of this name exists.
    Exists,
    /// No such account (or, from the console, not of the supervisor's office).
    Unknown,
    /// No randomness, or the database failed.
    Internal,
}

/// An account name or office code: letters, digits, `.`, `-`, `_`, 2 to 64 of them.
pub fn valid_name(name: &str) -> bool {
    (2..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// New credentials for `name`, made off the async workers (argon2id).
async fn credentials(name: &str) -> Result<Credentials, Refused> {
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || crate::accounts::credentials(&name))
        .await
        .ok()
        .flatten()
        .ok_or(Refused::Internal)
}

fn internal(e: crate::error::Error) -> Refused {
    tracing::error!(error = %e, "operator accounts");
    Refused::Internal
}

/// Make the account `new`; its credentials, to hand out once.
pub async fn add(store: &Store, new: &NewAccount<'_>, by: &Event<'_>) -> Result<Credentials, Refused> {
    if !valid_name(new.name) {
        return Err(Refused::Name);
    }
    if !valid_name(new.office) {
        return Err(Refused::Office);
    }
    let c = credentials(new.name).await?;
    let sealed = store.seal_totp(new.name, &c.totp_secret).map_err(internal)?;
    match store.add_account(new, &c.password_hash, &sealed, by).await.map_err(internal)? {
        Some(_) => Ok(c),
        None => Err(Refused::Exists),
    }
}

/// A new one-time password for `name` (and, with `device`, a new TOTP secret); its
/// sessions end and its API tokens are revoked.
pub async fn reset(store: &Store, name: &str, device: bool, by: &Event<'_>) -> Result<Credentials, Refused> {
    let c = credentials(name).await?;
    let sealed = if device { Some(store.seal_totp(name, &c.totp_secret).map_err(internal)?) } else { None };
    if store.reset_account(name, &c.password_hash, sealed.as_deref(), by).await.map_err(internal)? {
        Ok(c)
    } else {
        Err(Refused::Unknown)
    }
}

/// The roles an office's supervisor gives.
pub const OFFICE_ROLES: [Role; 2] = [Role::Operator, Role::Supervisor];
