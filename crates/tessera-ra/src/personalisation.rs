//! What a blank card receives at activation, chosen by the RA for each request (DOMAIN.md,
//! Activation): its PIN and PUK, and for a PIV card a per-card management key in place of
//! the factory one; plus the holder's user code [codice utente]. All are sealed in the
//! database (AES-256-GCM, bound to the request and the purpose).
//!
//! The holder gets the first half of PIN and PUK from the operator with the card (a printed
//! sheet or an SMS) and the second halves with the user code by e-mail once the request is
//! complete; the card gets them whole from the tool, within an activation authenticated by
//! the activation code, and only until the request is confirmed.

use zeroize::Zeroizing;

/// A request's card secrets.
pub struct Personalisation {
    pub pin: Zeroizing<String>,
    pub puk: Zeroizing<String>,
    /// 24 bytes, hex: the PIV card management key (3DES).
    pub management_key: Zeroizing<String>,
    pub user_code: Zeroizing<String>,
}

fn digits(n: usize) -> Option<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::with_capacity(n));
    while out.len() < n {
        let mut b = [0u8; 1];
        getrandom::getrandom(&mut b).ok()?;
        // Rejection sampling keeps the digits uniform.
        if b[0] < 250 {
            out.push(char::from(b'0' + b[0] % 10));
        }
    }
    Some(out)
}

impl Personalisation {
    pub fn generate() -> Option<Personalisation> {
        let mut key = Zeroizing::new([0u8; 24]);
        getrandom::getrandom(key.as_mut()).ok()?;
        Some(Personalisation {
            // Eight digits: what every card Tessera knows accepts as PIN (OpenPGP 6+,
            // PIV 6-8) and as PUK / admin PIN (OpenPGP 8+, PIV 8).
            pin: digits(8)?,
            puk: digits(8)?,
            management_key: Zeroizing::new(key.iter().map(|b| format!("{b:02X}")).collect()),
            user_code: crate::codes::user_code()?,
        })
    }
}

/// The first or second half of a PIN or PUK, as handed over.
pub fn half(secret: &str, second: bool) -> &str {
    let mid = secret.len() / 2;
    if second { &secret[mid..] } else { &secret[..mid] }
}

/// The e-mail that completes a request: the second halves and the user code.
pub fn completion_email(to: &str, holder: &str, reference: &str, p: &Personalisation) -> crate::gateway::Message {
    let secret = format!(
        "seconda metà del PIN {} · seconda metà del PUK {} · codice utente {}",
        half(&p.pin, true),
        half(&p.puk, true),
        p.user_code.as_str()
    );
    let template = format!(
        "Gentile {holder},\n\nla pratica {reference} è completa: i certificati sono sulla tua carta.\n\n{{secret}}\n\n\
         Il PIN e il PUK sono la prima metà, ricevuta con la carta, seguita da questa. Il codice utente serve per \
         sospendere, riattivare o revocare i certificati. Non comunicarli a nessuno."
    );
    crate::gateway::Message::new(
        crate::gateway::Channel::Email,
        to,
        "Tessera: PIN, PUK e codice utente",
        &template,
        &secret,
    )
}

/// After a renewal: the user code again (DOMAIN.md), with the renewal request's id.
pub fn renewal_email(to: &str, holder: &str, renewal: &str, p: &Personalisation) -> crate::gateway::Message {
    let template = format!(
        "Gentile {holder},\n\nil rinnovo {renewal} è completo: il nuovo certificato è sulla tua carta.\n\n\
         Il tuo codice utente, per sospendere, riattivare o revocare i certificati: {{secret}}\n\n\
         Non comunicarlo a nessuno."
    );
    crate::gateway::Message::new(
        crate::gateway::Channel::Email,
        to,
        "Tessera: rinnovo completato, codice utente",
        &template,
        p.user_code.as_str(),
    )
}

/// The SMS with the first halves, for a holder who was not given the printed sheet.
pub fn first_halves_sms(to: &str, reference: &str, p: &Personalisation) -> crate::gateway::Message {
    let secret = format!("PIN {}… PUK {}…", half(&p.pin, false), half(&p.puk, false));
    let template = format!(
        "Tessera, pratica {reference}: prima metà di {{secret}} La seconda metà arriva per e-mail a pratica completata."
    );
    crate::gateway::Message::new(crate::gateway::Channel::Sms, to, "", &template, &secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_and_puks_are_eight_digits_and_split_in_two_halves() {
        let p = Personalisation::generate().unwrap();
        for s in [&p.pin, &p.puk] {
            assert_eq!(s.len(), 8);
            assert!(s.chars().all(|c| c.is_ascii_digit()));
            assert_eq!(format!("{}{}", half(s, false), half(s, true)), s.as_str());
        }
        assert_eq!(p.management_key.len(), 48);
        assert_eq!(p.user_code.len(), 8);
    }
}
