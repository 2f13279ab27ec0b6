//! A contact change without the card: the public page (codes to the new contacts, the
//! identity document's scans), the same answers for a tax code nobody has, and the
//! office's decision with the holder told by e-mail.

use super::*;

/// The scans a holder uploads (made by pdftoppm from a PDF the RA printed).
fn scans(ra: &Ra, b: &Browser) -> (String, String) {
    let pdf = ra.path("any.pdf");
    std::fs::write(&pdf, crate::console::registration_form_pdf(b)).unwrap();
    for (flag, name) in [("-jpeg", "fronte"), ("-png", "retro")] {
        let out = Command::new("pdftoppm")
            .args([flag, "-r", "20", "-singlefile"])
            .arg(&pdf)
            .arg(ra.path(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    (ra.path("fronte.jpg").display().to_string(), ra.path("retro.png").display().to_string())
}

#[test]
fn a_holder_changes_contacts_without_the_card_and_the_office_applies_it() {
    let ra = Ra::start();
    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let bruno = account(&ra, "bruno.odr", "MI02", "operator", None);
    let a = Browser::signed_in(&ra, &anna, "it");
    let token = a.new_token(&anna, "script");
    let h = ureq::post(&format!("http://{}/api/v1/operator/holders", ra.server))
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(serde_json::json!({"given_name": "LIA", "surname": "NERI", "cf": "NRELIA80A41H501Q",
            "mobile": "+393330004455", "email": "lia.vecchia@example.org"}));
    assert!(h.is_ok(), "{h:?}");
    let (front, back) = scans(&ra, &a);

    // The holder, on the public page, with no account.
    let p = a.another("it");
    p.go("/console/contact-change");
    p.check_page();
    p.shot("contact-change");
    let start = "form[action=\"/console/contact-change\"]";
    let asked = [
        ("cf", "NRELIA80A41H501Q"),
        ("email", "lia@pec.example.it"),
        ("mobile", "+44 7700 900123"),
        ("address", "Via Nuova 3, 00100 Roma"),
    ];
    p.form(start, &asked);
    assert!(p.text("#e-email").contains("PEC"), "{}", p.text("#e-email"));
    // The page sends an SMS: only to an Italian mobile.
    assert!(p.s.exists("#e-mobile"), "a foreign number: {}", p.s.source());
    let mut asked = asked.to_vec();
    asked[1] = ("email", "lia.nuova@example.org");
    asked[2] = ("mobile", "+39 333 999 0011");
    p.form(start, &asked);
    assert!(p.path().starts_with("/console/contact-change/"), "{}", p.s.source());
    assert!(p.text("main").contains("l***@example.org"), "the codes' destinations, masked");
    let outbox = || std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    let code_to = |to: &str| {
        let all = outbox();
        let line =
            all.lines().rev().find(|l| l.contains(to)).unwrap_or_else(|| panic!("a message to {to}: {all}")).to_owned();
        line.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a code").to_owned()
    };
    let (email_code, sms_code) = (code_to("lia.nuova@example.org"), code_to("+393339990011"));
    let confirm = "form[action^=\"/console/contact-change/\"]";
    p.form(confirm, &[("email_code", &email_code), ("sms_code", "000000"), ("id-front", &front), ("id-back", &back)]);
    assert!(p.text(".problem").contains("ancora 4 tentativi"), "{}", p.s.source());
    p.check_page();
    p.form(confirm, &[("email_code", &email_code), ("sms_code", &sms_code), ("id-front", &front), ("id-back", &back)]);
    let received = p.text(".notice");
    assert!(received.contains("Richiesta ricevuta"), "{}", p.s.source());
    // Told at the address the holder has now, in case it was not them.
    assert!(outbox().lines().any(|l| l.contains("lia.vecchia@example.org") && l.contains("non sei stato tu")));

    // A tax code nobody has: the same pages, the same answers.
    let q = a.another("it");
    q.go("/console/contact-change");
    let mut stranger = asked.clone();
    stranger[0] = ("cf", "RSSMRA80A01H501U");
    stranger[1] = ("email", "altro@example.org");
    stranger[2] = ("mobile", "+393338887766");
    q.form(start, &stranger);
    let (e, s) = (code_to("altro@example.org"), code_to("+393338887766"));
    q.form(confirm, &[("email_code", &e), ("sms_code", &s), ("id-front", &front), ("id-back", &back)]);
    assert_eq!(q.text(".notice"), received);
    // Nobody's document is kept for a tax code no holder has.
    let kept = sql_column(&ra, "SELECT CAST(COUNT(*) AS TEXT) FROM documents WHERE owner_kind = 'contact-change'");
    assert_eq!(kept, ["2"], "only the holder's front and back");
    // Three a day for one tax code, e-mail or mobile (each sends an e-mail and an SMS).
    for n in 0..2 {
        q.go("/console/contact-change");
        let mut again = stranger.clone();
        let (email, mobile) = (format!("altro{n}@example.org"), format!("+39333888770{n}"));
        again[1] = ("email", &email);
        again[2] = ("mobile", &mobile);
        q.form(start, &again);
        assert!(q.path().starts_with("/console/contact-change/"), "{}", q.s.source());
    }
    q.go("/console/contact-change");
    let mut fourth = stranger.clone();
    fourth[1] = ("email", "altro9@example.org");
    fourth[2] = ("mobile", "+393338887709");
    q.form(start, &fourth);
    assert!(q.text(".problem").contains("tre cambi"), "{}", q.s.source());
    assert!(!outbox().contains("altro9@example.org"), "nothing sent");
    q.check_page();

    // The office: the request, the scans; a refusal needs a reason; applied.
    a.go("/console/contact-changes");
    a.check_page();
    let rows = a.text("main table");
    assert!(rows.contains("NERI LIA") && !rows.contains("RSSMRA80A01H501U"), "{rows}");
    a.click_and_wait("main table a");
    let review = a.path();
    assert!(a.text("main").contains("lia.nuova@example.org") && a.text("main").contains("lia.vecchia@example.org"));
    assert_eq!(a.s.js("return document.querySelectorAll('a[href^=\"/console/documents/\"]').length"), 2);
    a.check_page();
    a.shot("contact-change-review");
    a.form("form[action$=\"/decision\"]:has([value=refuse])", &[("reason", "")]);
    assert!(a.s.exists("#e-reason"));
    a.click_and_wait("form[action$=\"/decision\"]:has([value=apply]) button");
    assert!(a.text(".notice").contains("Cambio applicato"), "{}", a.s.source());
    let all = outbox();
    for to in ["lia.nuova@example.org", "lia.vecchia@example.org"] {
        assert!(all.lines().any(|l| l.contains(to) && l.contains("è stato applicato")), "{to} told: {all}");
    }
    // The public page says only that it was received, whatever the office decided.
    p.go(&format!("/console/contact-change/{}", p.path().rsplit('/').next().unwrap()));
    assert_eq!(p.text(".notice"), received);
    // The holder's contacts are the new ones.
    a.go("/console/holders/new?identity=NRELIA80A41H501Q");
    a.click_and_wait("ul.found a");
    assert!(a.s.source().contains("lia.nuova@example.org") || a.text("main").contains("NERI"));
    // Another office: nothing.
    let o = a.another("it");
    o.first_sign_in(&bruno);
    assert_eq!(o.fetch(&review).0, 404);
    o.go("/console/contact-changes");
    assert!(!o.s.exists("main table"));
}
