//! Checking an operator's credentials, the same for the console and the app: the name,
//! the password and a one-time code at once, a wrong one of them not said which. Wrong
//! tries make the account wait (a minute after five, doubling, at most an hour) and count
//! against the client's address, so guessing is slow and nobody is locked out for good. A
//! code is accepted once.

use crate::accounts::totp;
use crate::state::Ra;
use crate::store::accounts::Account;
use crate::store::audit::Event;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Why credentials were refused.
pub enum Refused {
    /// A name, password or code is wrong (not said which).
    Wrong,
    /// The account waits these many seconds after wrong sign-ins.
    Waiting(i64),
    /// The code was right but already used.
    Reused,
    /// The client's address is out of tries for now.
    Address(u64),
}

/// The password checked off the async workers (argon2id takes tens of milliseconds).
pub async fn password_right(phc: String, password: String) -> bool {
    crate::accounts::password_matches_off(phc, zeroize::Zeroizing::new(password)).await
}

/// How the audit log names a name no enabled account has: a keyed digest, never the
/// text (a password typed into the name field is not written down), the same for the
/// same name so that repeated tries are seen.
pub fn unknown_name(ra: &Ra, name: &str) -> String {
    let digest = ra.store.codes().index(&format!("sign-in name\0{}", name.trim().to_lowercase()));
    format!("unknown name #{}", &digest[..12])
}

/// A wrong try: counted for the name from this address, and for the address.
pub async fn failed(ra: &Ra, name: &str, address: Option<std::net::IpAddr>, by: &Event<'_>) {
    counted(ra, name, address, by).await;
    if let Some(ip) = address {
        ra.failed_from(ip);
    }
}

/// A wrong try counted for the name from this address (the address's own count was
/// taken before the try).
async fn counted(ra: &Ra, name: &str, address: Option<std::net::IpAddr>, by: &Event<'_>) {
    let from = address.map(|a| a.to_string()).unwrap_or_default();
    let _ = ra.store.sign_in_failed(name, &from, ra.console.wrong_sign_in_wait_seconds, by).await;
}

/// The account `name`, enabled and not waiting, whose password is `password` (when
/// given) and whose device shows `code` now: the step the code belongs to, taken (a code
/// is accepted once). A wrong try counts against the account and the address.
pub async fn check(
    ra: &Ra,
    address: Option<std::net::IpAddr>,
    name: &str,
    password: Option<&str>,
    code: &str,
) -> Result<(Account, i64), Refused> {
    // The address's try is taken before anything is checked (and given back when right),
    // so that tries sent at once count as many as sent one after another.
    if let Some(ip) = address
        && let Err(wait) = ra.failures.take(ip)
    {
        return Err(Refused::Address(wait));
    }
    let result = checked(ra, address, name, password, code).await;
    // Right, or refused before any check (the account waits): not a wrong try.
    if let (Ok(_) | Err(Refused::Waiting(_)), Some(ip)) = (&result, address) {
        ra.failures.give_back(ip);
    }
    result
}

async fn checked(
    ra: &Ra,
    address: Option<std::net::IpAddr>,
    name: &str,
    password: Option<&str>,
    code: &str,
) -> Result<(Account, i64), Refused> {
    let from = address.map(|a| a.to_string()).unwrap_or_default();
    let wait = ra.store.sign_in_wait(name, &from).await.unwrap_or(0);
    if wait > 0 {
        return Err(Refused::Waiting(wait));
    }
    let typed = unknown_name(ra, name);
    let account = ra.store.account(name).await.ok().flatten().filter(|a| !a.disabled);
    let Some(account) = account else {
        // The same work as for an account, so that no one learns which names exist.
        if let Some(p) = password {
            password_right(crate::accounts::decoy_hash().to_owned(), p.to_owned()).await;
        }
        let by = Event { actor: &typed, subject: &typed, address: Some(&from), ..Default::default() };
        counted(ra, name, address, &by).await;
        return Err(Refused::Wrong);
    };
    let password_ok = match password {
        Some(p) => password_right(account.password_hash.clone(), p.to_owned()).await,
        None => true,
    };
    let step = ra
        .store
        .totp_secret(&account)
        .and_then(|secret| totp::matching_step(&secret, code, totp::step(now()) + account.totp_drift, totp::WINDOW));
    let by = account.self_event(Some(&from));
    // A code already used is said so whatever the password: whoever saw it used learns
    // nothing about the password by trying it again.
    if step.is_some_and(|s| s <= account.totp_step) {
        counted(ra, name, address, &by).await;
        return Err(Refused::Reused);
    }
    let Some(step) = step.filter(|_| password_ok) else {
        counted(ra, name, address, &by).await;
        return Err(Refused::Wrong);
    };
    if !ra.store.take_totp_step(account.id, step).await.unwrap_or(false) {
        counted(ra, name, address, &by).await;
        return Err(Refused::Reused);
    }
    let _ = ra.store.sign_in_cleared(name, &from).await;
    Ok((account, step))
}
