//! Renewals in the console: the office's requests by state, the signed form downloaded,
//! a renewed certificate approved within 90 days of the form's signature by a supervisor
//! (an operator only sees), refused too late; another office's renewals do not exist.

use super::*;
use crate::renewal::{mail_request_issued, serial_of, signed_by};

#[test]
fn a_supervisor_approves_a_renewal_within_ninety_days_and_downloads_its_signed_form() {
    let (ra, serial) = mail_request_issued();
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    std::fs::write(ra.path("ra.toml"), format!("renewal_policy = \"approval\"\n{config}")).unwrap();
    let ra = ra.restart();
    sql(&ra, "UPDATE requests SET office = 'RM01' WHERE reference = 'REQ-MAIL'");
    let (_, started) = crate::post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    let (id, form) = (started["id"].as_str().unwrap().to_owned(), started["form"].as_str().unwrap().to_owned());
    let body = serde_json::json!({ "id": id, "contract_version": "2026-1",
        "signed_form": signed_by(&ra, &form, "old.pem", "old.key") });
    assert_eq!(crate::post(&ra, &format!("/api/v1/renewal/{serial}/form"), body).0, 200);
    let kur = ra.kur("old.pem", "old.key", "new.key", "new.pem");
    assert!(kur.status.success(), "{}", text(&kur));
    let new_serial = serial_of(&ra, "new.pem").to_lowercase();

    // An operator sees it waiting, and the form; deciding is the supervisor's.
    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let luca = account(&ra, "luca.odr", "RM01", "supervisor", None);
    let a = Browser::signed_in(&ra, &anna, "it");
    a.go("/console/renewals?state=waiting");
    assert!(a.text("main table").contains("ROSSI MARIO"), "{}", a.s.source());
    assert!(!a.s.exists("form[action$=\"/decision\"]"), "no decision for an operator");
    assert_eq!(a.post_form(&format!("/console/renewals/{id}/decision"), &[("decision", "approve")]), 403);
    let (status, kind, p7m) = a.fetch(&format!("/console/renewals/{id}/form.p7m"));
    assert_eq!((status, kind.as_str()), (200, "application/pkcs7-mime"));
    assert_eq!(p7m, std::fs::read(ra.path("form.p7m")).unwrap(), "the form as the holder signed it");
    a.check_page();

    // The supervisor: 91 days after the signature it is too late; at 89 it is approved.
    let s = a.another("it");
    s.first_sign_in(&luca);
    sql(
        &ra,
        &format!("UPDATE renewals SET signed_at = {}", time::OffsetDateTime::now_utc().unix_timestamp() - 91 * 86_400),
    );
    s.go("/console/renewals?state=waiting");
    s.check_page();
    s.shot("renewals");
    s.click_and_wait("form[action$=\"/decision\"]:has([value=approve]) button");
    assert!(s.text(".problem").contains("90 giorni"), "{}", s.text(".problem"));
    sql(
        &ra,
        &format!("UPDATE renewals SET signed_at = {}", time::OffsetDateTime::now_utc().unix_timestamp() - 89 * 86_400),
    );
    s.go("/console/renewals?state=waiting");
    s.click_and_wait("form[action$=\"/decision\"]:has([value=approve]) button");
    assert!(s.text(".notice").contains("approvato"), "{}", s.s.source());
    assert!(!s.s.exists("main table"), "nothing waits any more");
    s.go("/console/renewals?state=completed");
    assert!(s.text("main table").contains(&new_serial), "{}", s.text("main table"));
    // The approval is in the new certificate's events.
    s.go(&format!("/console/certificates/{new_serial}"));
    assert!(s.text("section[aria-labelledby=events]").contains("Rinnovo approvato"));

    // Another office's supervisor: it does not exist.
    let bruno = account(&ra, "bruno.odr", "MI02", "supervisor", None);
    let o = a.another("it");
    o.first_sign_in(&bruno);
    o.go("/console/renewals");
    assert!(!o.s.exists("main table"));
    assert_eq!(o.post_form(&format!("/console/renewals/{id}/decision"), &[("decision", "close")]), 404);
    assert_eq!(o.fetch(&format!("/console/renewals/{id}/form.p7m")).0, 404);
}
