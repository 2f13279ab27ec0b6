//! The office's accounts managed by its supervisor: a new operator enrolled from the page
//! (one-time password, otpauth URI and QR code shown once), signing in with them; an
//! account disabled (its session ends) and reset; nobody else manages them.

use super::*;

#[test]
fn a_supervisor_enrols_disables_and_resets_the_office_s_operators() {
    let ra = Ra::start();
    let luca = account(&ra, "luca.odr", "RM01", "supervisor", None);
    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let bruno = account(&ra, "bruno.odr", "MI02", "operator", None);
    account(&ra, "sara.odr", "RM01", "supervisor", None);
    account(&ra, "vera.ca", "RM01", "verifier", None);
    let s = Browser::signed_in(&ra, &luca, "it");
    s.go("/console/operators");
    s.check_page();
    // A name that is not one, then the new operator.
    s.form("form[action=\"/console/operators\"]", &[("name", "marco rossi"), ("role", "operator")]);
    assert!(s.s.exists("#e-name"), "{}", s.s.source());
    s.form(
        "form[action=\"/console/operators\"]",
        &[("name", "marco.odr"), ("email", "marco@example.org"), ("role", "operator")],
    );
    let password = s.text("#one-time-password");
    let uri = s.text("#otpauth");
    assert!(uri.starts_with("otpauth://totp/") && uri.contains("marco.odr"), "{uri}");
    assert!(s.s.exists("figure.qr svg"), "the QR code");
    s.check_page();
    s.shot("operators");
    s.go("/console/operators");
    assert!(!s.s.source().contains(&password), "shown once");
    assert!(s.text("main table").contains("marco.odr"));

    // Marco signs in with what he was handed.
    let secret = uri.split("secret=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let marco = Account { name: "marco.odr".into(), password, secret };
    let m = s.another("it");
    m.first_sign_in(&marco);
    // Disabled: his session ends at once.
    s.click_and_wait("form[action=\"/console/operators/marco.odr/state\"] button");
    assert!(s.text(".notice").contains("disattivato"), "{}", s.s.source());
    m.go("/console/");
    assert!(m.path().starts_with("/console/sign-in"), "{}", m.path());
    // A supervisor manages operators only: not themselves, not another supervisor, not the
    // CA's verifier who happens to be registered in the office (no takeover).
    assert!(!s.s.exists("form[action=\"/console/operators/luca.odr/state\"]"));
    for name in ["luca.odr", "sara.odr", "vera.ca"] {
        assert_eq!(s.post_form(&format!("/console/operators/{name}/reset"), &[("device", "on")]), 404, "{name}");
        assert_eq!(s.post_form(&format!("/console/operators/{name}/state"), &[("disabled", "on")]), 404, "{name}");
    }
    // A reset hands out a new password (and a new device).
    s.click_and_wait("form[action=\"/console/operators/anna.odr/reset\"]:has([name=device]) button");
    let new_uri = s.text("#otpauth");
    assert!(new_uri.contains("anna.odr") && !new_uri.contains(&anna.secret), "a new device");
    // Another office's account, and an operator: nothing to manage.
    assert_eq!(s.post_form("/console/operators/bruno.odr/reset", &[]), 404);
    assert_eq!(s.post_form("/console/operators/bruno.odr/state", &[("disabled", "on")]), 404);
    let b = s.another("it");
    b.first_sign_in(&bruno);
    assert_eq!(b.fetch("/console/operators").0, 404);
    assert_eq!(b.post_form("/console/operators", &[("name", "x.odr"), ("role", "supervisor")]), 404);
}
