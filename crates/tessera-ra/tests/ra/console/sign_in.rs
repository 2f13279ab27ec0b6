//! Sign-in, the first password, sessions, and the account's self-care.

use super::*;

/// The headers every console page carries.
fn strict_headers(ra: &Ra, path: &str) {
    let r = ureq::get(&format!("http://{}{path}", ra.server)).call().unwrap();
    let csp = r.header("content-security-policy").unwrap_or_default().to_owned();
    for part in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"] {
        assert!(csp.contains(part), "{path}: {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[test]
fn an_operator_signs_in_with_a_one_time_code_chooses_a_password_and_the_session_ends_when_idle() {
    let ra = Ra::start();
    let anna = account(&ra, "anna.odr", "RM01", "operator", Some("anna@example.org"));
    strict_headers(&ra, "/console/sign-in");
    let b = Browser::open(&ra, "it");
    // Nothing without signing in.
    b.go("/console/");
    assert_eq!(b.path(), "/console/sign-in");
    b.check_page();
    b.shot("sign-in");
    // A wrong code: refused, not said which part was wrong, the fields kept.
    b.sign_in(&anna, &anna.password, "000000");
    assert!(b.text(".problem").contains("non corretti"), "{}", b.text(".problem"));
    assert_eq!(b.s.js("return document.querySelector('#f-name').value"), "anna.odr");
    b.check_page();
    b.shot("sign-in-refused");
    // The one-time password: a new password comes before anything else.
    let first = code(&anna, 0);
    assert_eq!(b.sign_in(&anna, &anna.password, &first), "/console/password");
    b.go("/console/");
    assert_eq!(b.path(), "/console/password", "nothing else until the password is chosen");
    b.check_page();
    let form = "form[action=\"/console/password\"]";
    b.submit(form, &[("old", &anna.password), ("new", "short"), ("again", "short")]);
    assert!(b.text("#e-new").contains("troppo corta"), "{}", b.text("#e-new"));
    b.shot("password-refused");
    let chosen = "Sole di marzo 2027";
    b.submit(form, &[("old", &anna.password), ("new", chosen), ("again", chosen)]);
    assert_eq!(b.path(), "/console/");
    assert!(b.text("header .me").starts_with("anna.odr · RM01"));
    b.check_page();
    b.shot("home");
    let cookie = b.s.cookies().into_iter().find(|c| c["name"] == "tessera_console").expect("the session cookie");
    assert_eq!((cookie["httpOnly"].as_bool(), cookie["sameSite"].as_str()), (Some(true), Some("Strict")), "{cookie}");
    // The account page, and testing the device.
    b.go("/console/account");
    b.check_page();
    b.submit("form[action=\"/console/account/otp-test\"]", &[("code", "123")]);
    assert!(b.exists_error("code"));
    b.shot("account");
    // Signing out ends the session.
    let before = cookie["value"].as_str().unwrap().to_owned();
    b.click_and_wait("form[action=\"/console/sign-out\"] button");
    assert!(b.path().starts_with("/console/sign-in"));
    assert!(b.text(".notice").contains("Sei uscito"));
    b.go("/console/");
    assert_eq!(b.path(), "/console/sign-in");
    // The code used once is refused again; the next one signs in, with a new session id.
    b.sign_in(&anna, chosen, &first);
    assert!(b.text(".problem").contains("già stato usato"), "{}", b.text(".problem"));
    assert_eq!(b.sign_in(&anna, chosen, &code(&anna, 1)), "/console/");
    let after = b.s.cookies().into_iter().find(|c| c["name"] == "tessera_console").unwrap();
    assert_ne!(after["value"].as_str().unwrap(), before, "a new session id at every sign-in");
    // Idle for 16 minutes (the session's clock moved back): signed out, and told so.
    sql(&ra, &format!("UPDATE console_sessions SET last_seen = last_seen - {}", 16 * 60));
    b.go("/console/account");
    assert_eq!(b.path(), "/console/sign-in?expired=1");
    assert!(b.text(".notice").contains("inattività"));
    // The home page lists the sign-ins, the refused one among them.
    let audit = ra.path("tessera-ra/tessera-ra.sqlite");
    assert!(audit.exists());
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-ra"))
        .args(["audit", "verify", "--config"])
        .arg(ra.path("ra.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_form_without_its_token_is_refused_and_changes_nothing() {
    let ra = Ra::start();
    let piero = account(&ra, "piero.odr", "RM01", "operator", None);
    let base = format!("http://{}", ra.server);
    // Before sign-in: the pre-session token must match its cookie.
    let r = ureq::post(&format!("{base}/console/sign-in")).send_form(&[
        ("name", "piero.odr"),
        ("password", &piero.password),
        ("code", &code(&piero, 0)),
        ("csrf", "guess"),
    ]);
    assert!(matches!(r, Err(ureq::Error::Status(403, _))), "{r:?}");
    // Signed in (in a browser), a forged post with the session's cookie but not its token.
    let b = Browser::open(&ra, "en");
    b.sign_in(&piero, &piero.password, &code(&piero, 0));
    let session = b.s.cookies().into_iter().find(|c| c["name"] == "tessera_console").unwrap();
    let cookie = format!("tessera_console={}", session["value"].as_str().unwrap());
    for (path, form) in [
        (
            "/console/password",
            vec![("old", piero.password.as_str()), ("new", "Another good one 9"), ("again", "Another good one 9")],
        ),
        ("/console/sign-out", vec![]),
    ] {
        let r = ureq::post(&format!("{base}{path}")).set("Cookie", &cookie).send_form(&form);
        assert!(matches!(r, Err(ureq::Error::Status(403, _))), "{path}: {r:?}");
        let r = ureq::post(&format!("{base}{path}"))
            .set("Cookie", &cookie)
            .set("X-CSRF-Token", "not-the-token")
            .send_form(&form);
        assert!(matches!(r, Err(ureq::Error::Status(403, _))), "{path}: {r:?}");
    }
    // Nothing changed: the one-time password is still the one to replace.
    b.go("/console/");
    assert_eq!(b.path(), "/console/password");
    b.check_page();
}

#[test]
fn wrong_sign_ins_make_the_account_wait_and_a_drifted_device_is_resynchronised() {
    let ra = Ra::start();
    let luca = account(&ra, "luca.odr", "MI02", "supervisor", None);
    let b = Browser::open(&ra, "en");
    for _ in 0..5 {
        b.sign_in(&luca, "wrong password", &code(&luca, 0));
        assert!(b.text(".problem").contains("Wrong user name, password or one-time code"));
    }
    // The sixth: the name waits from this address, even with everything right.
    b.sign_in(&luca, &luca.password, &code(&luca, 0));
    let waits = b.text(".problem");
    assert!(waits.contains("Too many wrong sign-ins with this user name from this computer"), "{waits}");
    b.shot("sign-in-waits");
    // The wait is per name and address: the stranger's tries from elsewhere do not keep
    // the operator out (another address's count, moved here as if made there).
    sql(&ra, "UPDATE sign_in_waits SET address = '192.0.2.7' WHERE name = 'luca.odr' AND address <> '*'");
    // Not locked for good: and a device whose clock runs three minutes ahead is
    // resynchronised with two consecutive codes.
    b.sign_in(&luca, &luca.password, &code(&luca, 6));
    assert!(b.text(".problem").contains("Wrong"), "a drifted device's code is refused");
    b.go("/console/otp/resync");
    b.check_page();
    b.submit(
        "form[action=\"/console/otp/resync\"]",
        &[("name", "luca.odr"), ("password", &luca.password), ("code", &code(&luca, 6)), ("next", &code(&luca, 7))],
    );
    assert!(b.text(".notice").contains("resynchronised"), "{}", b.s.source());
    b.shot("otp-resync");
    assert_eq!(b.sign_in(&luca, &luca.password, &code(&luca, 8)), "/console/password");
}

#[test]
fn a_name_that_does_not_exist_waits_exactly_like_one_that_does() {
    let ra = Ra::start();
    let luca = account(&ra, "luca.odr", "MI02", "supervisor", None);
    let nobody = Account { name: "nessuno.odr".into(), password: "x".into(), secret: luca.secret.clone() };
    let said = |ra: &Ra, a: &Account| {
        let b = Browser::open(ra, "it");
        let mut each = Vec::new();
        for _ in 0..6 {
            b.sign_in(a, "password sbagliata", &code(&luca, 0));
            each.push(b.text(".problem"));
        }
        each
    };
    let known = said(&ra, &luca);
    // A fresh RA process on the same database: the address's own limit starts again.
    let ra = ra.restart();
    let unknown = said(&ra, &nobody);
    assert_eq!(known, unknown, "the same answers, the wait among them");
    assert!(known[5].contains("Troppi accessi errati"), "{known:?}");
    // What was typed as a name that no account has is not written down (it may be a
    // password typed in the wrong field): a keyed digest stands for it.
    let logged = sql_column(&ra, "SELECT actor || ' ' || subject || ' ' || detail FROM audit");
    assert!(!logged.iter().any(|l| l.contains("nessuno")), "{logged:?}");
    assert!(logged.iter().filter(|l| l.contains("unknown name #")).count() >= 5, "{logged:?}");
}

#[test]
fn a_session_left_open_does_not_give_unlimited_guesses_of_the_code() {
    let ra = Ra::start();
    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let b = Browser::open(&ra, "en");
    b.first_sign_in(&anna);
    b.go("/console/account");
    let test = "form[action=\"/console/account/otp-test\"]";
    for guess in ["111111", "222222", "333333", "444444", "555555"] {
        b.submit(test, &[("code", guess)]);
        assert!(b.exists_error("code"));
    }
    // The sixth, right this time: refused while the name waits.
    b.submit(test, &[("code", &code(&anna, 1))]);
    assert!(b.exists_error("code"), "the right code refused while waiting");
    let refused = sql_column(&ra, "SELECT detail FROM audit WHERE action = 'sign-in-refused'");
    assert!(refused.iter().any(|d| d.contains("5 in a row")), "{refused:?}");
    // The wait over, the right code passes.
    sql(&ra, "UPDATE sign_in_waits SET retry_at = 0");
    b.submit(test, &[("code", &code(&anna, 1))]);
    assert!(!b.exists_error("code"), "{}", b.s.source());
}

#[test]
fn a_forgotten_password_is_replaced_by_a_temporary_one_sent_by_e_mail() {
    let ra = Ra::start();
    let sara = account(&ra, "sara.odr", "RM01", "operator", Some("sara@example.org"));
    let b = Browser::open(&ra, "it");
    b.go("/console/recover");
    b.check_page();
    let form = "form[action=\"/console/recover\"]";
    b.submit(form, &[("name", "sara.odr"), ("code", "111111")]);
    assert!(b.exists_error_general());
    b.submit(form, &[("name", "sara.odr"), ("code", &code(&sara, 0))]);
    assert!(b.text(".notice").contains("inviata"), "{}", b.s.source());
    b.shot("recover");
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    let line = outbox.lines().rev().find(|l| l.contains("sara@example.org")).expect("the e-mail");
    let temporary =
        line.split("password temporanea dell'account sara.odr è ").nth(1).unwrap().split('.').next().unwrap();
    assert_ne!(temporary, sara.password);
    assert_eq!(b.sign_in(&sara, temporary, &code(&sara, 1)), "/console/password", "changed at the next sign-in");
    // The old one-time password no longer signs in.
    assert!(!outbox.contains(&sara.password));
}

impl Browser {
    fn exists_error(&self, field: &str) -> bool {
        self.s.exists(&format!("#e-{field}"))
    }

    fn exists_error_general(&self) -> bool {
        self.s.exists(".problem")
    }
}
