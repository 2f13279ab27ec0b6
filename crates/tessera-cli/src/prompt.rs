//! Reading PINs: without echo from the terminal, or one per line from standard input with
//! `--pin-stdin` (for scripts). Before each prompt the token's PIN state is shown, so no
//! try is spent blind.

use std::io::BufRead;

use tessera_core::messages::Messages;
use tessera_core::pin::Pin;
use tessera_core::token::PinState;

pub struct PinSource {
    stdin: bool,
}

impl PinSource {
    pub fn new(stdin: bool) -> Self {
        PinSource { stdin }
    }

    /// `what` is a message id ("prompt-user-pin", ...); `state` the PIN's state now.
    pub fn read(
        &self,
        msg: &Messages,
        what: &str,
        token: &str,
        state: Option<PinState>,
        tries: Option<u8>,
    ) -> std::io::Result<Pin> {
        Ok(Pin::new(ask(&pin_label(msg, what, token, state, tries), self.stdin)?.as_str()))
    }
}

/// A PIN question's text: `what` (a message id) for `token`, then the PIN's state and the
/// tries left, so no try is spent blind.
pub fn pin_label(msg: &Messages, what: &str, token: &str, state: Option<PinState>, tries: Option<u8>) -> String {
    let mut label = msg.text(what, &[("token", token.into())]);
    if let Some(state) = state {
        let key = serde_json::to_value(state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let mut note = msg.text(&format!("token-pin-{key}"), &[]);
        if let Some(n) = tries {
            note += &format!(" · {}", msg.text("token-pin-tries", &[("tries", fluent_bundle::FluentValue::from(n))]));
        }
        label += &format!(" [{note}]");
    }
    label
}

fn ask(label: &str, stdin: bool) -> std::io::Result<zeroize::Zeroizing<String>> {
    if stdin {
        eprintln!("{label}: (stdin)");
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned()))
    } else {
        Ok(zeroize::Zeroizing::new(rpassword::prompt_password(format!("{label}: "))?))
    }
}
