//! The forms the office prints, as PDF: the request form the holder and the operator sign
//! (in person), the card's handover sheet with the first halves of PIN and PUK, and a
//! lifecycle change's form the requester signs. Filled from the registered data; labels
//! in Italian and English.

use crate::pdf::{Block, document};
use crate::store::verification::{IdDocument, RequestView};

fn row(label: &str, value: &str) -> Block {
    Block::Row(label.to_owned(), if value.is_empty() { "—".to_owned() } else { value.to_owned() })
}

fn profile_label(profile: &str) -> &'static str {
    match profile {
        "signature" => "Firma qualificata / Qualified signature",
        "cns-authentication" => "Autenticazione CNS / CNS authentication",
        _ => "CNS + firma qualificata / CNS + qualified signature",
    }
}

fn holder_rows(r: &RequestView) -> Vec<Block> {
    let identity_label =
        if r.passport_country.is_some() { "Passaporto / Passport" } else { "Codice fiscale / Tax code" };
    vec![
        row("Cognome / Surname", &r.surname),
        row("Nome / Given names", &r.given_name),
        row(identity_label, &r.identity),
        row("Sesso / Sex", r.sex.as_deref().unwrap_or("")),
        row("Nato il / Born on", r.birth_date.as_deref().unwrap_or("")),
        row("Nato a / Born in", r.birth_place.as_deref().unwrap_or("")),
        row("Residenza / Residence", r.address.as_deref().unwrap_or("")),
        row("Cellulare / Mobile", r.mobile.as_deref().unwrap_or("")),
        row("E-mail", r.email.as_deref().unwrap_or("")),
    ]
}

/// The request form, to print, sign (holder and operator) and upload.
pub fn request_form(r: &RequestView, operator: &str, today: &str) -> Option<Vec<u8>> {
    let mut blocks = vec![
        Block::Title("Richiesta di certificati / Certificate request".into()),
        Block::Text(format!(
            "Pratica / Request {} · Ufficio / Office {}",
            r.reference,
            r.office.clone().unwrap_or_default()
        )),
        Block::Space(3.0),
        Block::Heading("Titolare / Holder".into()),
    ];
    blocks.extend(holder_rows(r));
    blocks.push(Block::Space(3.0));
    blocks.push(Block::Heading("Certificati richiesti / Certificates requested".into()));
    blocks.push(row("Profilo / Profile", profile_label(&r.profile)));
    if let Some(t) = &r.title {
        blocks.push(row("Titolo / Title", t));
    }
    if let Some(o) = &r.organization {
        blocks.push(row(
            "Organizzazione / Organisation",
            &format!("{o} ({})", r.organization_identifier.clone().unwrap_or_default()),
        ));
    }
    if let Some(e) = &r.subject_email {
        blocks.push(row("E-mail nel certificato / E-mail in the certificate", e));
    }
    if let Some(d) = r.id_document.as_deref().and_then(|j| serde_json::from_str::<IdDocument>(j).ok()) {
        blocks.push(Block::Space(3.0));
        blocks.push(Block::Heading("Documento di riconoscimento / Identity document".into()));
        blocks.push(row("Tipo e numero / Kind and number", &format!("{} {}", d.kind, d.number)));
        blocks.push(row("Rilasciato da / Issued by", &d.issuer));
        blocks.push(row("Validità / Valid", &format!("{} – {}", d.issued, d.expires)));
    }
    blocks.push(Block::Space(4.0));
    blocks.push(Block::Text(
        "Il titolare chiede l'emissione dei certificati indicati, dichiara che i dati sono veritieri, accetta le \
         condizioni generali del servizio e acconsente al trattamento dei dati personali per l'emissione e la \
         gestione dei certificati. / The holder asks for the certificates above, declares the data true, accepts \
         the service's general terms and consents to the processing of personal data to issue and manage them."
            .into(),
    ));
    blocks.push(Block::Space(4.0));
    blocks.push(Block::Text(format!("Luogo e data / Place and date: ______________________, {today}")));
    blocks.push(Block::Space(4.0));
    blocks.push(Block::Signatures(vec![
        "Firma del titolare / Holder's signature".into(),
        format!("Firma dell'operatore / Operator's signature ({operator})"),
    ]));
    document("Richiesta di certificati", "it", &format!("Tessera · {}", r.reference), &blocks)
}

/// The handover sheet: the first halves of the card's PIN and PUK, handed with the card.
pub fn handover_sheet(r: &RequestView, pin_half: &str, puk_half: &str) -> Option<Vec<u8>> {
    let blocks = vec![
        Block::Title("Consegna della carta / Card handover".into()),
        row("Pratica / Request", &r.reference),
        row("Titolare / Holder", &format!("{} {}", r.surname, r.given_name)),
        row("Codice fiscale / Tax code", &r.identity),
        Block::Space(4.0),
        row("Prima metà del PIN / First half of the PIN", pin_half),
        row("Prima metà del PUK / First half of the PUK", puk_half),
        Block::Space(4.0),
        Block::Text(
            "La seconda metà di PIN e PUK e il codice utente arrivano per e-mail quando la pratica è verificata. Non \
             comunicarli a nessuno: l'ufficio non li chiederà mai. / The second halves and the user code come by \
             e-mail once the request is verified. Tell them to nobody: the office will never ask for them."
                .into(),
        ),
        Block::Space(4.0),
        Block::Signatures(vec!["Ricevuto dal titolare / Received by the holder".into()]),
    ];
    document("Consegna della carta", "it", &format!("Tessera · {}", r.reference), &blocks)
}

/// What a lifecycle change's form states.
pub struct LifecycleForm<'a> {
    pub serial: &'a str,
    pub holder: &'a str,
    pub identity: &'a str,
    /// suspend, reactivate, revoke.
    pub action: &'a str,
    pub reason: &'a str,
    pub requester: &'a str,
    pub requester_document: &'a str,
    pub office: &'a str,
    pub today: &'a str,
}

/// The form a lifecycle change's requester signs.
pub fn lifecycle_form(f: &LifecycleForm<'_>) -> Option<Vec<u8>> {
    let action = match f.action {
        "suspend" => "Sospensione / Suspension",
        "reactivate" => "Riattivazione / Reactivation",
        _ => "Revoca / Revocation",
    };
    let blocks = vec![
        Block::Title(format!("Richiesta di {}", action.split(" / ").next().unwrap_or(action).to_lowercase())),
        Block::Text(format!("{action} · Ufficio / Office {}", f.office)),
        Block::Space(3.0),
        row("Certificato (seriale) / Certificate (serial)", f.serial),
        row("Titolare / Holder", f.holder),
        row("Codice fiscale / Tax code", f.identity),
        row("Motivo / Reason", f.reason),
        Block::Space(3.0),
        row("Richiedente / Requester", f.requester),
        row("Documento / Document", f.requester_document),
        Block::Space(4.0),
        Block::Text(format!(
            "Il richiedente chiede la {} del certificato indicato. / The requester asks for the {} of the \
             certificate above.",
            action.split(" / ").next().unwrap_or(action).to_lowercase(),
            action.split(" / ").nth(1).unwrap_or(action).to_lowercase()
        )),
        Block::Space(4.0),
        Block::Text(format!("Luogo e data / Place and date: ______________________, {}", f.today)),
        Block::Space(4.0),
        Block::Signatures(vec![
            "Firma del richiedente / Requester's signature".into(),
            "Firma dell'operatore / Operator's signature".into(),
        ]),
    ];
    document("Richiesta di variazione", "it", &format!("Tessera · {}", f.serial), &blocks)
}
