//! The operator's sign-in for the window: the session is held in memory (never on disk)
//! by [`Held`], which forgets it after its idle time; counter activations take it from
//! there, and the RA ending it signs the window out.

use tessera_core::ErrorPayload;
use tessera_flows::operator::{self, Held, SignedIn};
use tessera_flows::ra::http::Http;
use tessera_flows::settings::Settings;

fn http() -> tessera_flows::Result<Http> {
    let settings = Settings::load()?;
    Http::new(&settings.ra, &settings.anchors()?)
}

/// Sign in; who is signed in.
pub async fn sign_in(held: Held, name: String, password: String, code: String) -> Result<SignedIn, ErrorPayload> {
    let password = zeroize::Zeroizing::new(password);
    let session =
        async { operator::sign_in(&http()?, &name, &password, &code).await }.await.map_err(|e| e.payload())?;
    let who = session.who.clone();
    held.keep(session);
    Ok(who)
}

/// Sign out, at the RA too (an RA that cannot be reached ends it by itself later).
pub async fn sign_out(held: Held) -> Result<(), ErrorPayload> {
    if let Some(session) = held.forget() {
        let _ = async { operator::sign_out(&http()?, &session).await }.await;
    }
    Ok(())
}
