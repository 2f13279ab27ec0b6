//! The operator at the counter, signed in to the RA with their own account: name,
//! password and the one-time code of their authenticator, the same account as the
//! registration console's. The session is short-lived and the RA can end it; its token
//! is kept in memory only (never on disk, never logged) and ended at sign-out.

use reqwest::Method;
use serde::Serialize;
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::counter::{OperatorSession, SignIn};
use zeroize::Zeroizing;

use crate::prompter::{Progress, Prompter, Question};
use crate::ra::http::Http;
use crate::{Error, Result};

const SESSION: &str = "/api/v1/operator/session";

/// A signed-in operator's session: the bearer token and who it is.
#[derive(Clone)]
pub struct Session {
    token: Zeroizing<String>,
    pub who: SignedIn,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("who", &self.who).finish_non_exhaustive()
    }
}

/// Who is signed in, as the window and `--json` show it (never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct SignedIn {
    pub name: String,
    pub office: String,
    pub role: String,
    /// The RA ends the session after this many seconds unused.
    pub idle_seconds: i64,
    /// ... and in this many seconds in any case (from the sign-in).
    pub expires_in: i64,
}

impl From<OperatorSession> for SignedIn {
    fn from(s: OperatorSession) -> SignedIn {
        SignedIn {
            name: s.name,
            office: s.office,
            role: s.role,
            idle_seconds: s.idle_seconds,
            expires_in: s.expires_in,
        }
    }
}

impl Session {
    /// The bearer token for the operator API.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A session signed in by another process of this program (a batch's lanes get it
    /// over a pipe, never through a file).
    pub fn handed_over(token: Zeroizing<String>, who: SignedIn) -> Session {
        Session { token, who }
    }
}

/// Whether an error means the operator must sign in again (the session ended, or the RA
/// does not know the credential).
pub fn signed_out(e: &Error) -> bool {
    matches!(e, Error::RaRefused(Refusal::OperatorSessionEnded {} | Refusal::OperatorUnauthenticated {}))
}

/// Sign in with the account's name, password and one-time code.
pub async fn sign_in(http: &Http, name: &str, password: &str, code: &str) -> Result<Session> {
    let body = SignIn {
        name: name.trim().to_owned(),
        password: Zeroizing::new(password.to_owned()),
        code: Zeroizing::new(code.trim().to_owned()),
    };
    let mut s: OperatorSession = http.call(Method::POST, SESSION, None, Some(&body)).await?;
    let token = s.token.take().ok_or_else(|| Error::RaAnswerMalformed { reason: "a session without token".into() })?;
    Ok(Session { token, who: s.into() })
}

/// Sign in asking the person: name, password, code. A wrong one (not said which) or a
/// code already used is said and asked again, three times in all; a waiting account, an
/// account that must choose its password at the console first, or an RA that cannot be
/// reached ends it.
pub async fn sign_in_asking(http: &Http, prompter: &mut dyn Prompter) -> Result<Session> {
    let mut last = None;
    for _ in 0..3 {
        let name = prompter.ask(&Question::OperatorName)?;
        let password = prompter.ask(&Question::OperatorPassword { name: name.trim().to_owned() })?;
        let code = prompter.ask(&Question::OperatorCode)?;
        match sign_in(http, &name, &password, &code).await {
            Ok(session) => return Ok(session),
            Err(Error::RaRefused(r @ (Refusal::SignInRefused {} | Refusal::SignInCodeReused {}))) => {
                prompter.progress(&Progress::Notice { code: format!("error-{}", r.code()), params: r.params() });
                last = Some(r);
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::RaRefused(last.unwrap_or(Refusal::SignInRefused {})))
}

/// The session as the RA sees it now (its idle time starts again); an ended one is an
/// error [`signed_out`] recognises.
pub async fn check(http: &Http, session: &Session) -> Result<SignedIn> {
    let s: OperatorSession = http.call::<(), _>(Method::GET, SESSION, Some(session.token()), None).await?;
    Ok(s.into())
}

/// End the session at the RA. One that had ended already is as good as signed out.
pub async fn sign_out(http: &Http, session: &Session) -> Result<()> {
    match http.call::<(), ()>(Method::DELETE, SESSION, Some(session.token()), None).await {
        Err(e) if signed_out(&e) => Ok(()),
        other => other,
    }
}

/// The app's operator session, held in memory for the window's life: forgotten once it
/// has not been used for its idle time (the console's, which the RA enforces too) or has
/// reached its lifetime, so a counter left unattended locks itself.
#[derive(Clone, Default)]
pub struct Held(std::sync::Arc<std::sync::Mutex<Option<Kept>>>);

struct Kept {
    session: Session,
    used: std::time::Instant,
    ends: std::time::Instant,
}

impl Kept {
    fn alive(&self) -> bool {
        let idle = std::time::Duration::from_secs(self.session.who.idle_seconds.max(1) as u64);
        self.used.elapsed() < idle && std::time::Instant::now() < self.ends
    }
}

impl Held {
    /// The session held, a session that ended forgotten first.
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Kept>> {
        let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if held.as_ref().is_some_and(|k| !k.alive()) {
            *held = None;
        }
        held
    }

    pub fn keep(&self, session: Session) {
        let now = std::time::Instant::now();
        let ends = now + std::time::Duration::from_secs(session.who.expires_in.max(0) as u64);
        *self.lock() = Some(Kept { session, used: now, ends });
    }

    /// The session, if signed in and neither idle too long nor too old; using it restarts
    /// the idle time. One that ended is forgotten here.
    pub fn take_use(&self) -> Option<Session> {
        self.lock().as_mut().map(|k| {
            k.used = std::time::Instant::now();
            k.session.clone()
        })
    }

    /// Who is signed in (the idle time not restarted); a session that ended is forgotten.
    pub fn who(&self) -> Option<SignedIn> {
        self.lock().as_ref().map(|k| k.session.who.clone())
    }

    /// Forget the session (sign-out, or the RA ended it); the one forgotten.
    pub fn forget(&self) -> Option<Session> {
        self.lock().take().map(|k| k.session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(idle_seconds: i64, expires_in: i64) -> Session {
        let who =
            SignedIn { name: "anna".into(), office: "RM01".into(), role: "operator".into(), idle_seconds, expires_in };
        Session { token: Zeroizing::new("t".into()), who }
    }

    #[test]
    fn a_held_session_ends_when_idle_or_too_old_and_use_keeps_it_alive() {
        let held = Held::default();
        assert!(held.who().is_none() && held.take_use().is_none());
        held.keep(session(1, 3600));
        assert_eq!(held.take_use().map(|s| s.who.name), Some("anna".into()));
        std::thread::sleep(std::time::Duration::from_millis(600));
        assert!(held.take_use().is_some(), "used: the idle time starts again");
        std::thread::sleep(std::time::Duration::from_millis(600));
        assert!(held.who().is_some(), "600 ms after the last use");
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert!(held.who().is_none(), "idle for over a second: forgotten");
        assert!(held.take_use().is_none());
        held.keep(session(3600, 0));
        assert!(held.who().is_none(), "past its lifetime");
        held.keep(session(3600, 3600));
        assert!(held.forget().is_some() && held.who().is_none());
    }
}
