//! The renewal form the holder reads and signs, made from the registered data (the
//! contract it names is configured: `crate::config::Contract`). Contact data not in the
//! certificate appear masked: the form is shown before the holder has proved anything, to
//! whoever names the certificate.

/// What the form states.
pub struct FormData<'a> {
    pub id: &'a str,
    pub given_name: &'a str,
    pub surname: &'a str,
    /// The tax code or passport number, as in the certificate.
    pub identity: &'a str,
    pub profile: &'a str,
    pub serial: &'a str,
    pub not_after: &'a str,
    pub mobile: Option<&'a str>,
    pub email: Option<&'a str>,
    pub contract_version: &'a str,
    pub date: time::Date,
}

/// The renewal form (UTF-8 text, the document the .p7m carries).
pub fn text(d: &FormData<'_>) -> String {
    let profile = match d.profile {
        "signature" => "firma qualificata",
        "cns-authentication" => "autenticazione CNS",
        other => other,
    };
    let mobile = d.mobile.map(crate::masked::mobile).unwrap_or_else(|| "non registrato".into());
    let email = d.email.map(crate::masked::email).unwrap_or_else(|| "non registrata".into());
    format!(
        "MODULO DI RICHIESTA DI RINNOVO DEL CERTIFICATO\n\
         Richiesta di rinnovo: {id}\n\
         Titolare: {given} {surname}\n\
         Codice fiscale o documento: {identity}\n\
         Certificato in scadenza: {profile}, numero di serie {serial}, valido fino al {not_after}\n\
         Cellulare registrato: {mobile}\n\
         E-mail registrata: {email}\n\
         Condizioni generali accettate: versione {version}\n\
         \n\
         Il titolare chiede il rinnovo del certificato indicato, dichiara che i dati riportati \
         sono corretti e accetta le condizioni generali nella versione indicata. Firmando questo \
         modulo con la chiave del certificato in scadenza ne conferma la richiesta.\n\
         Data: {date}\n",
        id = d.id,
        given = d.given_name,
        surname = d.surname,
        identity = d.identity,
        serial = d.serial,
        not_after = d.not_after.replace('T', " ").replace('Z', " UTC"),
        version = d.contract_version,
        date = d.date,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_states_the_registered_data_with_contacts_masked() {
        let form = text(&FormData {
            id: "RIN-1",
            given_name: "LUCA",
            surname: "BIANCHI",
            identity: "BNCLCU80A01H501X",
            profile: "signature",
            serial: "0A:1B",
            not_after: "2027-01-31T00:00:00Z",
            mobile: Some("+393331234567"),
            email: Some("luca@example.it"),
            contract_version: "2026-1",
            date: time::Date::from_calendar_date(2026, time::Month::December, 1).unwrap(),
        });
        for part in ["LUCA BIANCHI", "BNCLCU80A01H501X", "firma qualificata", "0A:1B", "versione 2026-1", "2026-12-01"]
        {
            assert!(form.contains(part), "{part} in {form}");
        }
        assert!(!form.contains("1234567") && !form.contains("luca@"), "{form}");
        assert!(form.contains("l***@example.it"));
    }
}
