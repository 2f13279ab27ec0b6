//! A contact change without the card [cambio recapiti senza carta] (DOMAIN: the
//! certified-mail guide's procedure): on a public page the holder gives their tax code,
//! the new e-mail and mobile and their residence; a code goes to each new contact; with
//! both codes and the identity document's front and back the change reaches the holder's
//! office, where an operator applies or refuses it (with a reason) and the holder is told
//! by e-mail, at the old address and the new one. A tax code no holder has is handled the
//! same way on the page, so the page says nothing about who is registered.

use tessera_protocol::refusal::Refusal;

use crate::actor::Actor;
use crate::gateway::{Channel, Message};
use crate::state::Ra;
use crate::store::audit::Event;
use crate::store::cardless_changes::{Added, CardlessChange, NewCardlessChange};
use crate::store::documents::NewDocument;

/// What the holder typed, checked.
pub struct Asked {
    pub cf: String,
    pub email: String,
    pub mobile: String,
    pub address: String,
}

/// Why a field is refused: the field and the refusal to show next to it.
pub type FieldRefusal = (&'static str, Refusal);

fn internal(e: crate::error::Error) -> Refusal {
    tracing::error!(error = %e, "contact change");
    Refusal::RaInternal {}
}

/// Check what was typed: the tax code's form, an e-mail (not a PEC), a mobile, a
/// residence. Every problem, each with its field.
pub fn check(ra: &Ra, cf: &str, email: &str, mobile: &str, address: &str) -> Result<Asked, Vec<FieldRefusal>> {
    let mut problems = Vec::new();
    let cf = match crate::registration::checked_cf(cf.trim(), false) {
        Ok(c) => c,
        Err(r) => {
            problems.push(("cf", r));
            String::new()
        }
    };
    let email = email.trim().to_owned();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        problems.push(("email", Refusal::HolderDataInvalid { field: "email".into() }));
    } else if crate::registration::is_pec(&email, &ra.console.pec_domains) {
        problems.push(("email", Refusal::EmailIsPec {}));
    }
    let mobile = italian_mobile(mobile).unwrap_or_else(|| {
        problems.push(("mobile", Refusal::HolderDataInvalid { field: "mobile".into() }));
        String::new()
    });
    let address = crate::registry::normalise(address.trim());
    if crate::registry::check_field("address", &address, 256).is_err() {
        problems.push(("address", Refusal::HolderDataInvalid { field: "address".into() }));
    }
    if problems.is_empty() { Ok(Asked { cf, email, mobile, address }) } else { Err(problems) }
}

/// An Italian mobile number as typed (spaces, dots, dashes, brackets, with or without
/// +39 or 0039), as +39 and its 9 or 10 digits starting with 3. The public page sends an
/// SMS to it, so it takes nothing else (a foreign number is changed at the office).
pub fn italian_mobile(typed: &str) -> Option<String> {
    let kept: String = typed.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '/' | '(' | ')')).collect();
    let national = kept.strip_prefix("+39").or_else(|| kept.strip_prefix("0039")).unwrap_or(&kept);
    let ok =
        (9..=10).contains(&national.len()) && national.starts_with('3') && national.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("+39{national}"))
}

/// Why a change was not started.
pub enum NotStarted {
    /// Already three for this tax code, e-mail or mobile today.
    TooManyForThese,
    /// The page's hourly allowance is used up.
    Busy,
    Refused(Refusal),
}

impl From<Refusal> for NotStarted {
    fn from(r: Refusal) -> Self {
        NotStarted::Refused(r)
    }
}

/// Start a change: the codes sent to the new contacts; its id (the link to go on with).
pub async fn start(ra: &Ra, asked: &Asked, address: Option<&str>) -> Result<String, NotStarted> {
    let holder = ra.store.holders_by_identity(&asked.cf, "").await.map_err(internal)?.into_iter().next();
    let id = crate::codes::random_chars(24).ok_or(Refusal::RaInternal {})?;
    let (Some(email_code), Some(sms_code)) = (crate::codes::otp(), crate::codes::otp()) else {
        return Err(Refusal::RaInternal {}.into());
    };
    let codes = ra.store.codes();
    let change = NewCardlessChange {
        id: &id,
        cf: &asked.cf,
        holder_id: holder.as_ref().map(|h| h.id),
        office: holder.as_ref().and_then(|h| h.office.as_deref()),
        new_email: &asked.email,
        new_mobile: &asked.mobile,
        address: &asked.address,
        email_code: &codes.otp_index(&id, &format!("email:{}", *email_code)),
        sms_code: &codes.otp_index(&id, &format!("sms:{}", *sms_code)),
    };
    let by = Event { actor: "holder", address, ..Default::default() };
    match ra.store.add_cardless_change(&change, ra.console.contact_changes_per_hour, &by).await.map_err(internal)? {
        Added::Added => {}
        Added::TooManyForThese => return Err(NotStarted::TooManyForThese),
        Added::Busy => return Err(NotStarted::Busy),
    }
    let mail = Message::new(
        Channel::Email,
        &asked.email,
        "Tessera: codice per il cambio dei recapiti",
        "Il codice per confermare questo indirizzo e-mail nel cambio dei recapiti è {secret}. \
         Se non hai chiesto tu il cambio, ignora questo messaggio. / The code confirming this e-mail address \
         for the contact change is {secret}. If you did not ask for it, ignore this message.",
        &email_code,
    );
    let sms = Message::new(
        Channel::Sms,
        &asked.mobile,
        "",
        "Tessera: codice per il cambio dei recapiti {secret}. Non comunicarlo a nessuno.",
        &sms_code,
    );
    if !ra.gateway.deliver(mail).await || !ra.gateway.deliver(sms).await {
        return Err(Refusal::EmailGatewayFailed { reference: id }.into());
    }
    Ok(id)
}

/// Why a confirmation is refused.
pub enum NotConfirmed {
    /// A code is wrong: the tries left.
    WrongCode(i64),
    /// Out of tries or time, or already confirmed: start again.
    Spent,
    Internal,
}

/// Confirm with both codes and the scans: the change reaches the holder's office.
pub async fn confirm(
    ra: &Ra,
    change: &CardlessChange,
    email_code: &str,
    sms_code: &str,
    scans: &[NewDocument<'_>],
    address: Option<&str>,
) -> Result<(), NotConfirmed> {
    let codes = ra.store.codes();
    let right = codes.otp_matches(&change.id, &format!("email:{}", email_code.trim()), &change.email_code)
        & codes.otp_matches(&change.id, &format!("sms:{}", sms_code.trim()), &change.sms_code);
    if change.state != "confirming" {
        return Err(NotConfirmed::Spent);
    }
    if !right {
        let left = ra.store.cardless_change_failed(&change.id).await.map_err(|_| NotConfirmed::Internal)?;
        return Err(if left == 0 { NotConfirmed::Spent } else { NotConfirmed::WrongCode(left) });
    }
    let by = Event { actor: "holder", address, ..Default::default() };
    // A tax code no holder has: the page goes on alike, but nobody's document is kept.
    let scans = if change.holder_id.is_some() { scans } else { &[] };
    match ra.store.submit_cardless_change(&change.id, scans, &by).await {
        Ok(true) => {}
        Ok(false) => return Err(NotConfirmed::Spent),
        Err(_) => return Err(NotConfirmed::Internal),
    }
    // The holder hears of it at the address they have now: if it was not them, they can
    // stop it at the office before it is applied.
    if let Some(old) = change.old_email.as_deref().filter(|o| !o.eq_ignore_ascii_case(&change.new_email)) {
        let text = "È stato chiesto, senza la carta, di cambiare l'e-mail e il cellulare del tuo certificato. Se \
                    non sei stato tu, rivolgiti subito al tuo ufficio di registrazione: il cambio non è ancora \
                    applicato. / A change of your certificate's e-mail and mobile was asked without the card. If \
                    it was not you, contact your registration office at once: it is not applied yet.";
        if !ra
            .gateway
            .deliver(Message::new(Channel::Email, old, "Tessera: cambio dei recapiti chiesto", text, ""))
            .await
        {
            tracing::warn!("the contact change's notice could not be e-mailed");
        }
    }
    Ok(())
}

/// An operator of the holder's office applies or refuses a submitted change; the holder is
/// told at the old e-mail and the new one. Applying checks, as registration does, that
/// the new contacts are not another holder's.
pub async fn decide(ra: &Ra, actor: &Actor, change: &CardlessChange, apply: bool, reason: &str) -> Result<(), Refusal> {
    if apply {
        let mut probe = ra
            .store
            .holder(change.holder_id.unwrap_or_default())
            .await
            .map_err(internal)?
            .ok_or(Refusal::UnknownHolder {})?;
        probe.email = Some(change.new_email.clone());
        probe.mobile = Some(change.new_mobile.clone());
        if let Some(contact) = ra.store.contact_of_another(&probe).await.map_err(internal)? {
            return Err(Refusal::ContactOfAnotherHolder { contact: contact.into() });
        }
    }
    if !ra.store.decide_cardless_change(&change.id, apply, reason, &actor.event("", "", "")).await.map_err(internal)? {
        return Err(Refusal::ContactChangeDecided {});
    }
    // Applied: both addresses are told. Refused: the reason goes to the address the
    // holder has now; the new one (perhaps not the holder's) learns only that it was not.
    let (to_old, to_new) = if apply {
        let text = "Il cambio dei recapiti che hai chiesto senza la carta è stato applicato: da ora usiamo il nuovo \
                    indirizzo e-mail e il nuovo cellulare. / The contact change you asked for without the card has \
                    been applied: the new e-mail and mobile are used from now on.";
        (text.to_owned(), text.to_owned())
    } else {
        let with_reason = format!(
            "Il cambio dei recapiti chiesto senza la carta non è stato applicato. Motivo: {reason}. Puoi chiederlo \
             di nuovo o rivolgerti al tuo ufficio di registrazione. / The contact change asked for without the card \
             was not applied. Reason: {reason}."
        );
        let without = "Il cambio dei recapiti chiesto senza la carta non è stato applicato. Per sapere perché, \
                       rivolgiti al tuo ufficio di registrazione con un documento d'identità. / The contact change \
                       asked for without the card was not applied. Your registration office tells you why: bring \
                       an identity document.";
        (with_reason, without.to_owned())
    };
    let mut to = vec![(change.new_email.clone(), to_new)];
    if let Some(old) = change.old_email.clone().filter(|o| !o.eq_ignore_ascii_case(&change.new_email)) {
        to.push((old, to_old));
    }
    for (address, text) in to {
        let m = Message::new(Channel::Email, &address, "Tessera: cambio dei recapiti", &text, "");
        if !ra.gateway.deliver(m).await {
            tracing::warn!("the contact change's outcome could not be e-mailed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::italian_mobile;

    #[test]
    fn only_italian_mobiles_are_taken() {
        for (typed, kept) in [
            ("333 999 0011", "+393339990011"),
            ("+39 (333) 999-0011", "+393339990011"),
            ("0039 333.999.001", "+39333999001"),
        ] {
            assert_eq!(italian_mobile(typed).as_deref(), Some(kept), "{typed}");
        }
        for typed in ["+44 7700 900123", "06 1234 5678", "+39 333", "33399900112233", "+39 333 999 00x1", ""] {
            assert_eq!(italian_mobile(typed), None, "{typed}");
        }
    }
}
