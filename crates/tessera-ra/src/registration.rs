//! Registering holders and their requests, the same for the JSON API and the console: the
//! tax code checked (its check letter, and against the holder's data when given; forcing
//! and accepting anyway are explicit and recorded), the subject fields checked before any
//! certificate carries them, the contacts not another person's, a certified-mail [PEC]
//! address never in a certificate.

use tessera_pki::codice_fiscale::{self, CfCheck, PersonData};
use tessera_protocol::refusal::Refusal;
use tessera_protocol::workflow::operator::{CodeDelivery, NewHolder, NewRequest, SubjectExtras};
use zeroize::Zeroizing;

use crate::actor::Actor;
use crate::gateway::{Channel, Message};
use crate::registry::{Holder, Profile, RegisteredRequest};
use crate::state::Ra;

/// The database failed: logged, refused as internal.
fn internal(e: crate::error::Error) -> Refusal {
    tracing::error!(error = %e, "registration");
    Refusal::RaInternal {}
}

/// The tax code as registered: checked, or forced (the check letter or the data may be
/// off, the shape may not).
pub fn checked_cf(cf: &str, forced: bool) -> Result<String, Refusal> {
    match codice_fiscale::check(cf) {
        CfCheck::Valid { code } => Ok(code),
        CfCheck::WrongCheckLetter { expected, .. } if !forced => Err(Refusal::CfCheckLetter { expected }),
        CfCheck::Malformed { position } if !forced => Err(Refusal::CfMalformed { position }),
        _ => codice_fiscale::forced_shape(cf).map_err(|position| Refusal::CfMalformed { position }),
    }
}

/// The holder's birth data, when all three are given (none: nothing to check against).
fn person_data(h: &NewHolder) -> Result<Option<(time::Date, char)>, Refusal> {
    let given = [&h.sex, &h.birth_date, &h.birth_place]
        .iter()
        .filter(|f| f.as_deref().is_some_and(|v| !v.trim().is_empty()))
        .count();
    if given == 0 {
        return Ok(None);
    }
    let invalid = |field: &str| Refusal::HolderDataInvalid { field: field.into() };
    let sex = match h.sex.as_deref().map(str::trim) {
        Some("M") | Some("m") => 'M',
        Some("F") | Some("f") => 'F',
        _ => return Err(invalid("sex")),
    };
    let date = h
        .birth_date
        .as_deref()
        .and_then(parse_date)
        .filter(|d| *d <= time::OffsetDateTime::now_utc().date() && d.year() > 1900)
        .ok_or_else(|| invalid("birth_date"))?;
    if h.birth_place.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(invalid("birth_place"));
    }
    Ok(Some((date, sex)))
}

/// A date as `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<time::Date> {
    let mut parts = text.trim().splitn(3, '-').map(|p| p.parse::<i32>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    time::Date::from_calendar_date(y, time::Month::try_from(u8::try_from(m).ok()?).ok()?, u8::try_from(d).ok()?).ok()
}

/// The PEC domains: any with a `pec`, `legalmail`, `postacert`, `cert` or `certmail`
/// label, and those configured.
pub fn is_pec(address: &str, configured: &[String]) -> bool {
    let domain = address.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    domain.split('.').any(|label| ["pec", "legalmail", "postacert", "cert", "certmail"].contains(&label))
        || configured.iter().any(|c| {
            let c = c.trim().trim_start_matches('@').to_ascii_lowercase();
            !c.is_empty() && (domain == c || domain.ends_with(&format!(".{c}")))
        })
}

/// Register a holder in the actor's office: the checks, then the record; its id.
pub async fn register_holder(ra: &Ra, actor: &Actor, mut h: NewHolder) -> Result<i64, Refusal> {
    match (&h.cf, &h.passport) {
        (None, None) => return Err(Refusal::HolderNeedsCfOrPassport {}),
        (None, Some(_))
            if !h
                .passport_country
                .as_deref()
                .is_some_and(|c| c.len() == 2 && c.chars().all(|c| c.is_ascii_alphabetic())) =>
        {
            return Err(Refusal::PassportNeedsCountry {});
        }
        (Some(cf), _) => h.cf = Some(checked_cf(cf, h.cf_forced)?),
        (None, Some(_)) => {}
    }
    // Names in NFC, as they are stored; what goes into certificate subjects is checked
    // when it is registered, not when a certificate nobody accepts is already issued.
    h.given_name = crate::registry::normalise(&h.given_name);
    h.surname = crate::registry::normalise(&h.surname);
    let id = h.cf.clone().or_else(|| h.passport.clone()).unwrap_or_default();
    let mut subject = Holder::new(&h.given_name, &h.surname, &id);
    subject.email = h.email.clone();
    subject
        .check_subject()
        .map_err(|r| Refusal::SubjectFieldRefused { field: r.field.into(), reason: r.reason.into() })?;
    // The tax code against the holder's data (DOMAIN: not only its check letter).
    let mut accepted = None;
    if let (Some(cf), Some((date, sex))) = (&h.cf, person_data(&h)?) {
        let place = h.birth_place.clone().unwrap_or_default();
        let data =
            PersonData { surname: &h.surname, given_names: &h.given_name, birth_date: date, sex, birth_place: &place };
        let wrong = codice_fiscale::mismatches(cf, &data);
        if !wrong.is_empty() {
            let parts = wrong.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ");
            if !h.cf_accepted_anyway {
                let expected = codice_fiscale::from_data(&data).unwrap_or_default();
                return Err(Refusal::CfDataMismatch { parts, expected });
            }
            accepted = Some(parts);
        }
        h.sex = Some(sex.to_string());
        h.birth_date = Some(date.to_string());
        h.birth_place = Some(crate::registry::normalise(&place));
    }
    h.address = h.address.map(|a| crate::registry::normalise(&a)).filter(|a| !a.is_empty());
    if let Some(a) = &h.address {
        crate::registry::check_field("address", a, 256)
            .map_err(|r| Refusal::SubjectFieldRefused { field: r.field.into(), reason: r.reason.into() })?;
    }
    h.passport = h.passport.map(|p| p.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase());
    h.passport_country = h.passport_country.map(|c| c.to_ascii_uppercase());
    h.mobile = h
        .mobile
        .map(|m| m.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect())
        .filter(|m: &String| !m.is_empty());
    h.email = h.email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    if h.email.as_deref().is_some_and(|e| is_pec(e, &ra.console.pec_domains)) {
        return Err(Refusal::EmailIsPec {});
    }
    // OTPs and codes go to these: another person's mobile or e-mail would let them
    // activate this holder's requests (renewal checks the same).
    if let Some(which) = ra.store.contact_of_another(&h).await.map_err(internal)? {
        return Err(Refusal::ContactOfAnotherHolder { contact: which.into() });
    }
    let by = actor.event("holder-registered", "", "");
    ra.store.insert_holder(&h, actor.office.as_deref(), accepted.as_deref(), &by).await.map_err(internal)
}

/// Check the subject extras against the holder and profile; fill them into `subject`.
fn add_extras(
    extras: SubjectExtras,
    holder: &NewHolder,
    profile: Profile,
    subject: &mut Holder,
    pec: &[String],
) -> Result<(), Refusal> {
    let clean = |v: Option<String>| v.map(|s| crate::registry::normalise(&s)).filter(|s| !s.is_empty());
    let (title, organization) = (clean(extras.title), clean(extras.organization));
    let (vat, org_cf) = (clean(extras.organization_vat), clean(extras.organization_cf));
    let any = title.is_some() || organization.is_some() || vat.is_some() || org_cf.is_some() || extras.include_email;
    if any && !profile.has_signature() {
        return Err(Refusal::SubjectExtrasSignatureOnly {});
    }
    let identifier = match (&vat, &org_cf) {
        (Some(_), Some(_)) => return Err(Refusal::OrganizationOneIdentifier {}),
        (Some(vat), None) if codice_fiscale::valid_partita_iva(vat) => Some(format!("VATIT-{vat}")),
        (Some(_), None) => return Err(Refusal::OrganizationVatInvalid {}),
        (None, Some(cf)) if codice_fiscale::valid_partita_iva(cf) => Some(format!("CF:IT-{cf}")),
        (None, Some(cf)) => Some(format!("CF:IT-{}", checked_cf(cf, false)?)),
        (None, None) => None,
    };
    if organization.is_some() != identifier.is_some() {
        return Err(Refusal::OrganizationNeedsIdentifier {});
    }
    subject.email = match (extras.include_email, &holder.email) {
        (false, _) => None,
        (true, None) => return Err(Refusal::NoEmail {}),
        (true, Some(address)) if is_pec(address, pec) => return Err(Refusal::EmailIsPec {}),
        (true, Some(address)) => Some(address.clone()),
    };
    subject.title = title;
    subject.organization = organization;
    subject.organization_identifier = identifier;
    Ok(())
}

/// The e-mail that takes a request's activation code to its holder.
pub fn code_email(holder: &NewHolder, reference: &str, code: &str) -> Option<Message> {
    let to = holder.email.as_deref()?;
    let template = format!(
        "Gentile {} {},\n\nil codice di attivazione della pratica {reference} è {{secret}}.\n\n\
         Avvia Tessera, inserisci la carta, scegli Nuova attivazione e digita il codice e il tuo codice \
         fiscale: riceverai un SMS con il codice di conferma. Puoi anche aprire il collegamento \
         tessera://activate?reference={reference} per iniziare. Il codice serve una sola volta; non \
         comunicarlo a nessuno: l'ufficio di registrazione non te lo chiederà mai.",
        holder.given_name, holder.surname
    );
    Some(Message::new(Channel::Email, to, "Tessera: il tuo codice di attivazione", &template, code))
}

/// A request made: its reference, its activation code (shown once, unless it was e-mailed
/// or the request goes through identification first), the e-mail that carries it.
pub struct Created {
    pub reference: String,
    pub code: Zeroizing<String>,
    pub email: Option<Message>,
}

/// Create a request for a holder of the actor's office. `workflow`: registered at the
/// console, it is identified and verified before its code is made (its certificates are
/// issued suspended until verification passes).
pub async fn create_request(ra: &Ra, actor: &Actor, body: NewRequest, workflow: bool) -> Result<Created, Refusal> {
    let record = ra.store.holder_record(body.holder_id).await.map_err(internal)?;
    let record = record.filter(|h| actor.sees(h.office.as_deref())).ok_or(Refusal::UnknownHolder {})?;
    let holder = record.data;
    // Without a tax code only the signature certificate can be issued; its serialNumber
    // is then the passport's.
    let mut subject = match (&holder.cf, &holder.passport, body.profile) {
        (Some(cf), _, _) => Holder::new(&holder.given_name, &holder.surname, cf),
        (None, Some(passport), Profile::Signature) => Holder {
            passport_country: holder.passport_country.clone(),
            ..Holder::new(&holder.given_name, &holder.surname, passport)
        },
        _ => return Err(Refusal::ProfileNeedsCf {}),
    };
    add_extras(body.subject, &holder, body.profile, &mut subject, &ra.console.pec_domains)?;
    subject
        .check_subject()
        .map_err(|r| Refusal::SubjectFieldRefused { field: r.field.into(), reason: r.reason.into() })?;
    if body.code_delivery == CodeDelivery::Email && holder.email.is_none() {
        return Err(Refusal::NoEmail {});
    }
    let reference = format!("REQ-{}", crate::codes::random_chars(8).ok_or(Refusal::RaInternal {})?);
    let code = crate::codes::activation_code().ok_or(Refusal::RaInternal {})?;
    let email = match (workflow, body.code_delivery) {
        (false, CodeDelivery::Email) => code_email(&holder, &reference, &code),
        _ => None,
    };
    let request = RegisteredRequest {
        reference,
        activation_code: code,
        holder: subject,
        profile: body.profile,
        mobile: holder.mobile.clone(),
        armed: false,
        // Before verification the certificates are issued suspended.
        issued_suspended: body.issued_suspended || workflow,
        office: record.office.clone(),
    };
    let by = actor.event("request-created", "", "");
    ra.store
        .create_request(&request, body.holder_id, record.office.as_deref(), workflow, &by, email.as_ref())
        .await
        .map_err(internal)?;
    Ok(Created { reference: request.reference, code: request.activation_code, email })
}

/// Send the card's PIN and PUK halves again: `sms`, the first halves to the holder's
/// mobile; `email`, the second halves and the user code, only once the request is issued
/// (and, for a console request, verified).
pub async fn send_halves(ra: &Ra, actor: &Actor, entry: &crate::registry::Entry, channel: &str) -> Result<(), Refusal> {
    let reference = &entry.request.reference;
    let contact = ra.store.holder_of(reference).await.map_err(internal)?;
    let p = ra.store.personalisation(reference).await.map_err(internal)?.ok_or(Refusal::NoPersonalisation {})?;
    let early = matches!(entry.verification.as_deref(), Some("registered" | "to-verify" | "to-correct"));
    let message = match channel {
        "sms" => {
            let mobile = entry.request.mobile.as_deref().or(contact.as_ref().and_then(|c| c.mobile.as_deref()));
            crate::personalisation::first_halves_sms(mobile.ok_or(Refusal::NoMobile {})?, reference, &p)
        }
        "email" if entry.issuance != crate::registry::Issuance::Confirmed || early => {
            return Err(Refusal::HalvesNotYet {});
        }
        "email" => {
            let to = contact.as_ref().and_then(|c| c.email.as_deref()).ok_or(Refusal::NoEmail {})?;
            let holder = format!("{} {}", entry.request.holder.given_name, entry.request.holder.surname);
            crate::personalisation::completion_email(to, &holder, reference, &p)
        }
        _ => return Err(Refusal::UnknownChannel {}),
    };
    ra.store.audit_event(&actor.event("halves-sent", reference, channel)).await.map_err(internal)?;
    if !ra.gateway.deliver(message).await {
        return Err(Refusal::SmsGatewayFailed {});
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn pec_domains_are_known_by_their_labels_and_by_configuration() {
        let none: Vec<String> = vec![];
        assert!(super::is_pec("mario@pec.it", &none));
        assert!(super::is_pec("mario@studio.legalmail.it", &none));
        assert!(!super::is_pec("mario@example.org", &none));
        let configured = vec!["arubapec.it".to_owned()];
        assert!(super::is_pec("mario@arubapec.it", &configured));
        assert!(super::is_pec("mario@x.arubapec.it", &configured));
        assert!(!super::is_pec("mario@notarubapec.it", &configured));
    }
}
