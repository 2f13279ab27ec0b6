//! A holder's request through the console: registration (the tax code checked against
//! the data), identification with the printed form and the uploads, the verifier's
//! decisions, the activation code, the handover, and the second halves once verified.

use super::*;

/// A file of `size` bytes in the test's directory.
pub(super) fn file(ra: &Ra, name: &str, bytes: &[u8]) -> PathBuf {
    let path = ra.path(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The scans: the request form as PDF, the document as JPEG (front) and PNG (back),
/// made by pdftoppm from a real PDF.
fn scans(ra: &Ra, pdf: &[u8]) -> (PathBuf, PathBuf, PathBuf) {
    let form = file(ra, "modulo firmato.pdf", pdf);
    for (flag, name) in [("-jpeg", "fronte"), ("-png", "retro")] {
        let out = Command::new("pdftoppm")
            .args([flag, "-r", "30", "-singlefile"])
            .arg(&form)
            .arg(ra.path(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    (form, ra.path("fronte.jpg"), ra.path("retro.png"))
}

pub(super) const REGISTER: &str = "form[action=\"/console/holders\"]";

/// The reference of the request whose page the browser shows.
/// ANNA VERDI registered at the office with her mobile and e-mail (signature profile); the
/// request's reference.
pub(super) fn register_anna_verdi(b: &Browser) -> String {
    b.go("/console/holders/new");
    b.form(
        REGISTER,
        &[
            ("surname", "VERDI"),
            ("given_name", "ANNA"),
            ("cf", "VRDNNA90E50L219L"),
            ("mobile", "+393339876500"),
            ("email", "anna.verdi@example.org"),
            ("profile", "signature"),
        ],
    );
    reference_of(b)
}

pub(super) fn reference_of(b: &Browser) -> String {
    let path = b.path();
    let said = b.s.js("return [...document.querySelectorAll('.error, .problem')].map(e => e.textContent).join(' | ')");
    let reference = path.strip_prefix("/console/requests/").unwrap_or_else(|| panic!("not a request's page: {said}"));
    let reference = reference.split('?').next().unwrap();
    reference.to_owned()
}

#[test]
fn a_request_is_registered_identified_verified_and_its_halves_reach_the_holder() {
    let ra = Ra::start();
    let anna = account(&ra, "anna.odr", "RM01", "operator", Some("anna@example.org"));
    let vera = account(&ra, "vera.ca", "CA", "verifier", None);
    let b = Browser::signed_in(&ra, &anna, "it");

    // Looked up first: not known in the office.
    b.go("/console/holders/new");
    b.check_page();
    b.submit("form[action=\"/console/holders/new\"]", &[("identity", "dngncl85c12h501p")]);
    assert!(b.text(".notice").contains("Nessun titolare"), "{}", b.text(".notice"));
    assert_eq!(b.s.js("return document.querySelector('#f-cf').value"), "DNGNCL85C12H501P", "the form starts with it");

    // A wrong check letter: said next to the tax code, what was typed kept.
    let holder = [
        ("surname", "D'ANGELO"),
        ("given_name", "NICCOLÒ"),
        ("sex", "F"),
        ("birth_date", "1985-03-12"),
        ("birth_place", "Roma"),
        ("cf", "DNGNCL85C12H501A"),
        ("address", "Via Appia Nuova 12, 00183 Roma"),
        ("mobile", "+393331112233"),
        ("email", "niccolo.dangelo@example.org"),
        ("profile", "signature"),
    ];
    b.form(REGISTER, &holder);
    let error = b.text("#e-cf");
    assert!(error.contains("ultima lettera") && error.contains("dovrebbe essere P"), "{error}");
    assert_eq!(b.s.js("return document.querySelector('#f-given_name').value"), "NICCOLÒ");
    assert_eq!(b.s.js("return document.querySelector('#f-cf').getAttribute('aria-invalid')"), "true");
    b.check_page();
    b.shot("register-refused");

    // The right letter, but the sex does not match the code: the code the data make is
    // shown, and accepting it anyway is offered.
    b.form(REGISTER, &[("cf", "DNGNCL85C12H501P")]);
    let error = b.text("#e-cf");
    assert!(error.contains("DNGNCL85C52H501T"), "the code the data make: {error}");
    assert!(b.s.exists("#f-accept"), "accept anyway is offered");
    b.check_page();
    b.form(REGISTER, &[("accept_anyway", "on")]);
    let reference = reference_of(&b);
    assert!(b.text(".notice").contains("registrata"), "{}", b.text(".notice"));
    assert!(b.text(".state").contains("da identificare"));
    assert!(b.text("dl.facts").contains("accettato nonostante la differenza"));
    b.check_page();
    b.shot("request");

    // The request form: the holder's accented name and tax code, places to sign.
    let (status, kind, form_pdf) = b.fetch(&format!("/console/requests/{reference}/form.pdf"));
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    pdf_page(&form_pdf, "console-form-pdf");
    let words = pdf_text(&form_pdf);
    for expected in ["D'ANGELO", "NICCOLÒ", "DNGNCL85C12H501P", &reference, "Via Appia Nuova 12", "anna.odr"] {
        assert!(words.contains(expected), "the form lacks {expected}:\n{words}");
    }

    // Identification: a 5 MB scan and an executable named .pdf are refused, each said
    // next to its field; the document's data typed are kept.
    let (form_scan, front, back) = scans(&ra, &form_pdf);
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(5 * 1024 * 1024, b'0');
    big.extend_from_slice(b"\n%%EOF\n");
    let big = file(&ra, "scansione grande.pdf", &big);
    let elf = file(&ra, "modulo.pdf", &std::fs::read("/bin/true").unwrap());
    let identify = format!("form[action=\"/console/requests/{reference}/identify\"]");
    let document = [
        ("doc_kind", "identity-card"),
        ("doc_number", "ca12345ab"),
        ("doc_issuer", "Comune di Roma"),
        ("doc_issued", "2022-05-10"),
        ("doc_expires", "2032-05-10"),
    ];
    let mut fields = document.to_vec();
    let (elf_s, big_s, back_s) = (elf.display().to_string(), big.display().to_string(), back.display().to_string());
    fields.extend([("signed-form", elf_s.as_str()), ("id-front", big_s.as_str()), ("id-back", back_s.as_str())]);
    b.form(&identify, &fields);
    assert!(b.text("#e-signed-form").contains("non è un PDF"), "{}", b.text("#e-signed-form"));
    assert!(b.text("#e-id-front").contains("supera 4 MB"), "{}", b.text("#e-id-front"));
    assert_eq!(b.s.js("return document.querySelector('#f-doc_number').value"), "CA12345AB");
    assert!(b.text(".state").contains("da identificare"), "nothing moved");
    b.check_page();
    b.shot("identify-refused");
    // An expired document is refused too.
    let (form_s, front_s) = (form_scan.display().to_string(), front.display().to_string());
    let good_files = [("signed-form", form_s.as_str()), ("id-front", front_s.as_str()), ("id-back", back_s.as_str())];
    let mut fields = document.to_vec();
    fields[4] = ("doc_expires", "2024-01-31");
    fields.extend(good_files);
    b.form(&identify, &fields);
    assert!(b.text("#e-doc_expires").contains("scaduto"), "{}", b.text("#e-doc_expires"));
    let mut fields = document.to_vec();
    fields.extend(good_files);
    b.form(&identify, &fields);
    assert!(b.path().ends_with("?done=identified"), "{}", b.path());
    assert!(b.text(".state").contains("Da verificare"));
    assert_eq!(b.s.js("return document.querySelectorAll('a[href^=\"/console/documents/\"]').length"), 3);
    // The documents come back as they went, typed by their content.
    let link = b.s.js("return document.querySelector('a[href^=\"/console/documents/\"]').getAttribute('href')");
    let (status, kind, bytes) = b.fetch(link.as_str().unwrap());
    assert_eq!((status, kind.as_str(), bytes == form_pdf), (200, "application/pdf", true));
    // Never rendered in the console's origin: a download, sandboxed.
    let link = link.as_str().unwrap();
    assert!(b.header(link, "content-disposition").is_some_and(|d| d.starts_with("attachment;")));
    assert_eq!(b.header(link, "content-security-policy").as_deref(), Some("default-src 'none'; sandbox"));

    // The activation code: shown once.
    b.click_and_wait(&format!("form[action=\"/console/requests/{reference}/code\"] button"));
    let code_shown = b.text("#activation-code");
    assert_eq!(code_shown.len(), 14, "{code_shown}");
    b.check_page();
    b.shot("request-code");
    b.go(&format!("/console/requests/{reference}"));
    assert!(!b.s.source().contains(&code_shown), "never shown again");
    assert!(b.s.exists(&format!("a[href=\"tessera://counter?reference={reference}\"]")), "the counter link");
    // The handover sheet: the first halves, the name printed right.
    let (status, _, sheet) = b.fetch(&format!("/console/requests/{reference}/handover.pdf"));
    assert_eq!(status, 200);
    let sheet_words = pdf_text(&sheet);
    assert!(sheet_words.contains("NICCOLÒ") && sheet_words.contains(&reference), "{sheet_words}");
    pdf_page(&sheet, "console-handover-pdf");

    // The card is activated at the counter (the operator's API token arms it), and its
    // certificates are issued suspended until the paperwork is verified.
    let token = b.new_token(&anna, "sportello");
    let arm = ureq::post(&format!("http://{}/api/v1/operator/requests/{reference}/arm", ra.server))
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(serde_json::json!({"activation_code": code_shown}));
    assert!(arm.is_ok(), "{arm:?}");
    let (status, _, unlocked) = {
        let r = ureq::post(&format!("http://{}/api/v1/activation/{reference}/personalisation", ra.server))
            .send_json(serde_json::json!({"activation_code": code_shown}))
            .unwrap();
        (r.status(), (), r.into_json::<Value>().unwrap())
    };
    assert_eq!(status, 200);
    let (pin, puk) = (unlocked["pin"].as_str().unwrap().to_owned(), unlocked["puk"].as_str().unwrap().to_owned());
    assert!(sheet_words.contains(&pin[..4]) && !sheet_words.contains(&pin), "only the first half on paper");
    let out = ra.p10cr(&reference, &code_shown, &ra.csr("niccolo"), &ra.path("niccolo.pem"));
    assert!(out.status.success(), "{}", text(&out));
    b.go(&format!("/console/requests/{reference}"));
    assert!(b.text("section[aria-labelledby=certs]").contains("Sospeso"), "suspended until verified");
    // Held for the verification: the office cannot reinstate it, by API or on the page.
    let serial = {
        let r = ureq::get(&format!("http://{}/api/v1/operator/requests/{reference}", ra.server))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        r.into_json::<Value>().unwrap()["certificates"][0]["serial"].as_str().unwrap().to_owned()
    };
    let reinstated = ureq::post(&format!("http://{}/api/v1/operator/certificates/{serial}/reactivate", ra.server))
        .set("Authorization", &format!("Bearer {token}"))
        .call();
    let Err(ureq::Error::Status(409, refused)) = reinstated else { panic!("{reinstated:?}") };
    let refused: Value = refused.into_json().unwrap();
    assert_eq!(refused["code"], "certificate-held", "{refused}");
    assert_eq!(refused["params"]["why"], "verification", "{refused}");
    b.go(&format!("/console/certificates/{serial}"));
    assert!(b.text("main").contains("verifica"), "the reason it is held: {}", b.text("main"));
    assert!(!b.s.exists("input[name=action][value=reactivate]"), "no reactivation offered");
    let outbox = || std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap_or_default();
    assert!(!outbox().contains(&format!("seconda metà del PIN {}", &pin[4..])), "not before verification");

    // The verifier: the queue, then the request sent back with a reason.
    let v = b.another("it");
    v.first_sign_in(&vera);
    v.go("/console/verify");
    assert!(v.text("main table").contains(&reference));
    v.check_page();
    v.shot("verify");
    v.go(&format!("/console/requests/{reference}"));
    assert!(!v.s.exists(&identify), "a verifier does not identify");
    let decision = format!("form[action=\"/console/requests/{reference}/decision\"]");
    v.form(&format!("{decision}:has([name=reason])"), &[("reason", "")]);
    assert!(v.s.exists("#e-reason"), "a reason is needed");
    v.form(&format!("{decision}:has([name=reason])"), &[("reason", "Il retro del documento è illeggibile")]);
    assert!(v.text(".state").contains("Da correggere"));
    v.shot("request-decision");

    // The office sees why, uploads a new back only; the rest is kept.
    b.go(&format!("/console/requests/{reference}"));
    assert!(b.text(".problem").contains("illeggibile"), "{}", b.text(".problem"));
    let mut fields = document.to_vec();
    fields.push(("id-back", back_s.as_str()));
    b.form(&identify, &fields);
    assert!(b.text(".state").contains("Da verificare"), "{}", b.s.source());

    // Verified: the certificates are active, the second halves and the user code go out.
    v.go(&format!("/console/requests/{reference}"));
    v.click_and_wait(&format!("{decision} button.primary"));
    assert!(v.text(".state").contains("In attesa degli originali"), "{}", v.text(".state"));
    assert!(v.text("section[aria-labelledby=certs]").contains("Valido"));
    let mails = outbox();
    let mail = mails.lines().rev().find(|l| l.contains("niccolo.dangelo@example.org") && l.contains("codice utente"));
    let mail = mail.unwrap_or_else(|| panic!("the completion e-mail: {mails}"));
    assert!(mail.contains(&format!("seconda metà del PIN {}", &pin[4..])), "{mail}");
    assert!(mail.contains(&format!("seconda metà del PUK {}", &puk[4..])), "{mail}");
    v.click_and_wait(&format!("{decision} button.primary"));
    assert!(v.text(".state").contains("Completata"));

    // Found again by search, and in the CSV.
    b.go("/console/search?q=angelo");
    assert!(b.text("main table").contains(&reference));
    b.check_page();
    b.shot("search");
    let (status, kind, csv) = b.fetch("/console/search.csv?q=angelo");
    assert_eq!((status, kind.as_str()), (200, "text/csv"));
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains(&format!("\"{reference}\",\"D'ANGELO\",\"NICCOLÒ\"")), "{csv}");
    assert!(csv.contains("\"completed\""), "{csv}");
}

#[test]
fn html_typed_as_a_name_is_shown_as_text() {
    let ra = Ra::start();
    let piero = account(&ra, "piero.odr", "RM01", "operator", None);
    let b = Browser::signed_in(&ra, &piero, "en");
    b.go("/console/holders/new");
    let surname = "<img id=injected src=x>ROSSI";
    b.form(
        REGISTER,
        &[
            ("surname", surname),
            ("given_name", "MARIA<b id=bold>"),
            ("sex", "F"),
            ("birth_date", "1990-01-01"),
            ("birth_place", "Roma"),
            // The code these data make: the letters of the names, whatever surrounds them.
            ("cf", "MGDMBD90A41H501O"),
            ("mobile", "+393334445566"),
            ("email", "maria@example.org"),
            ("profile", "signature"),
        ],
    );
    let reference = reference_of(&b);
    assert!(b.text("dl.facts").contains(surname), "{}", b.text("dl.facts"));
    assert!(!b.s.exists("#injected") && !b.s.exists("#bold"), "no element made from the name");
    b.check_page();
    b.go(&format!("/console/search?q={reference}"));
    assert!(b.text("main table").contains(surname));
    assert!(!b.s.exists("#injected"));
    let words = pdf_text(&b.fetch(&format!("/console/requests/{reference}/form.pdf")).2);
    assert!(words.contains("<img id=injected src=x>ROSSI"), "printed as typed: {words}");
}

#[test]
fn a_request_verified_before_the_card_is_activated_gets_active_certificates() {
    let ra = Ra::start();
    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let vera = account(&ra, "vera.ca", "CA", "verifier", None);
    let b = Browser::signed_in(&ra, &anna, "it");
    let reference = register_anna_verdi(&b);
    assert!(!b.s.exists("input[name=mode][value=remote]"), "remote identification only where configured");
    let (_, _, pdf) = b.fetch(&format!("/console/requests/{reference}/form.pdf"));
    let scan = file(&ra, "scan.pdf", &pdf).display().to_string();
    b.form(
        &format!("form[action=\"/console/requests/{reference}/identify\"]"),
        &[
            ("doc_kind", "passport"),
            ("doc_number", "YA7654321"),
            ("doc_issuer", "Questura di Torino"),
            ("doc_issued", "2020-02-02"),
            ("doc_expires", "2030-02-02"),
            ("signed-form", &scan),
            ("id-front", &scan),
            ("id-back", &scan),
        ],
    );
    // Verified first (the paperwork was quick), the card activated afterwards.
    let v = b.another("it");
    v.first_sign_in(&vera);
    v.go(&format!("/console/requests/{reference}"));
    v.click_and_wait(&format!("form[action=\"/console/requests/{reference}/decision\"] button.primary"));
    assert!(v.text(".state").contains("In attesa degli originali"), "{}", v.text(".state"));
    b.go(&format!("/console/requests/{reference}"));
    b.click_and_wait(&format!("form[action=\"/console/requests/{reference}/code\"] button"));
    let code = b.text("#activation-code");
    let token = b.new_token(&anna, "sportello");
    let arm = ureq::post(&format!("http://{}/api/v1/operator/requests/{reference}/arm", ra.server))
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(serde_json::json!({"activation_code": code}));
    assert!(arm.is_ok(), "{arm:?}");
    let out = ra.p10cr(&reference, &code, &ra.csr("anna"), &ra.path("anna.pem"));
    assert!(out.status.success(), "{}", text(&out));
    b.go(&format!("/console/requests/{reference}"));
    assert!(b.text("section[aria-labelledby=certs]").contains("Valido"), "not held once verified");
}
