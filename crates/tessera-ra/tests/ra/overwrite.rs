//! A fixed-slot card's renewal (renewal/overwrite.rs): authorised with the expiring key
//! once the form is signed, before the slot is overwritten; then completed without the old
//! key, by `openssl cmp` ir MAC-protected with the renewal's id and its renewal code.

use super::renewal::{get, other_than, serial_of, signed_by};
use super::*;

/// A request taken at home with a mobile, issued luca.pem (30 days), its renewal started
/// and the form signed: the RA, the old serial and the renewal's id.
fn forwarded() -> (Ra, String, String) {
    let ra = Ra::start_with_validity(30);
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    let config = config.replace("renewal.form = \"optional\"\n", "")
        + "\n[[request]]\nreference = \"REQ-SLOT\"\nactivation_code = \"SLOT-CODE-0009\"\nprofile = \"signature\"\n\
           mobile = \"+393331112222\"\n\
           holder = { given_name = \"LUCA\", surname = \"BIANCHI\", cf = \"BNCLCU80A01H501X\" }\n";
    std::fs::write(ra.path("ra.toml"), config).unwrap();
    let ra = ra.restart();
    let csr = ra.csr("luca");
    let issued = ra.p10cr("REQ-SLOT", "SLOT-CODE-0009", &csr, &ra.path("luca.pem"));
    assert!(issued.status.success(), "{}", text(&issued));
    let serial = serial_of(&ra, "luca.pem");
    let (_, started) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    let id = started["id"].as_str().unwrap().to_owned();
    let authorise = |ra: &Ra| {
        let doc = serde_json::json!({"renewal": id, "overwrite": true}).to_string();
        let body = serde_json::json!({ "id": id, "signed_authorisation": signed_by(ra, &doc, "luca.pem", "luca.key") });
        post(ra, &format!("/api/v1/renewal/{serial}/overwrite"), body)
    };
    // Not before the form is signed.
    let (status, early) = authorise(&ra);
    assert_eq!((status, early["code"].as_str()), (409, Some("renewal-not-forwarded")), "{early}");
    let form = started["form"].as_str().unwrap();
    let body = serde_json::json!({ "id": id, "contract_version": "2026-1",
        "signed_form": signed_by(&ra, form, "luca.pem", "luca.key") });
    assert_eq!(post(&ra, &format!("/api/v1/renewal/{serial}/form"), body).0, 200);
    (ra, serial, id)
}

fn ir_with_code(ra: &Ra, id: &str, code: &str, key: &str, out: &str) -> std::process::Output {
    ra.cmp(&[
        "-cmd",
        "ir",
        "-ref",
        id,
        "-secret",
        &format!("pass:{code}"),
        "-newkey",
        key,
        "-subject",
        "/CN=x",
        "-certout",
        out,
        "-unprotected_errors",
    ])
}

#[test]
fn an_overwrite_authorised_with_the_expiring_key_is_completed_with_the_renewal_code_alone() {
    let (ra, serial, id) = forwarded();
    let overwrite = format!("/api/v1/renewal/{serial}/overwrite");
    // Signed by another key, or for another renewal: refused.
    ra.key("other");
    super::renewal::openssl(
        &ra,
        &["req", "-x509", "-key", "other.key", "-subj", "/CN=BIANCHI LUCA", "-days", "1", "-out", "other.pem"],
    );
    let doc = serde_json::json!({"renewal": id, "overwrite": true}).to_string();
    let body = serde_json::json!({ "id": id, "signed_authorisation": signed_by(&ra, &doc, "other.pem", "other.key") });
    let (status, refused) = post(&ra, &overwrite, body);
    assert_eq!((status, refused["code"].as_str()), (422, Some("overwrite-signature-refused")), "{refused}");
    let other = serde_json::json!({"renewal": "RIN-ALTRA", "overwrite": true}).to_string();
    let body = serde_json::json!({ "id": id, "signed_authorisation": signed_by(&ra, &other, "luca.pem", "luca.key") });
    assert_eq!(post(&ra, &overwrite, body).0, 422);

    // Authorised: the renewal code, answered and sent to the holder's mobile.
    let body = serde_json::json!({ "id": id, "signed_authorisation": signed_by(&ra, &doc, "luca.pem", "luca.key") });
    let (status, authorised) = post(&ra, &overwrite, body.clone());
    assert_eq!((status, authorised["sent_to"].as_str()), (200, Some("+39********22")), "{authorised}");
    let code = authorised["code"].as_str().unwrap().to_owned();
    let outbox = || std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    assert!(outbox().lines().any(|l| l.contains("+393331112222") && l.contains(&code)), "the SMS with the code");
    // Asked again (a run that stopped before overwriting): the same code, not sent again.
    let (_, again) = post(&ra, &overwrite, body);
    assert_eq!(again["code"].as_str(), Some(code.as_str()));
    assert_eq!(outbox().matches("codice di rinnovo").count(), 1);
    // Sent again on request, not sooner than 30 s.
    let (status, soon) = post(&ra, &format!("{overwrite}/resend"), serde_json::json!({ "id": id }));
    assert_eq!((status, soon["code"].as_str()), (429, Some("code-resend-too-soon")), "{soon}");
    // The code typed back stands for the old key: wrong, then right.
    let (status, wrong) = post(&ra, &overwrite, serde_json::json!({ "id": id, "code": other_than(&code, 1) }));
    assert_eq!((status, wrong["code"].as_str()), (403, Some("renewal-code-wrong")), "{wrong}");
    let (status, typed) = post(&ra, &overwrite, serde_json::json!({ "id": id, "code": code.to_lowercase() }));
    assert_eq!((status, typed["code"].as_str()), (200, Some(code.as_str())), "{typed}");
    // From now on only the renewal gives the card a working key: operators cannot cancel it.
    let (status, _) = operator_call(&ra, "POST", &format!("/api/v1/operator/renewals/{id}/cancel"), None);
    assert_eq!(status, 409);

    // The old key is gone: ir with the renewal's id and code renews the old certificate.
    ra.key("new");
    let wrong = ir_with_code(&ra, &id, "AAAA-BBBB-CCCC-DDDD", "new.key", "wrong.pem");
    assert!(!wrong.status.success() && text(&wrong).contains("does not verify"), "{}", text(&wrong));
    let ir = ir_with_code(&ra, &id, &code, "new.key", "new.pem");
    assert!(ir.status.success(), "{}", text(&ir));
    assert_eq!(
        x509(&ra.path("new.pem"), &["-startdate"]).replace("notBefore=", ""),
        x509(&ra.path("luca.pem"), &["-enddate"]).replace("notAfter=", ""),
        "the new validity continues from the old end"
    );
    assert_eq!(x509(&ra.path("new.pem"), &["-subject"]), x509(&ra.path("luca.pem"), &["-subject"]));
    let (_, listed) = operator_call(&ra, "GET", "/api/v1/operator/renewals", None);
    assert_eq!(listed["renewals"][0]["state"], "completed", "{listed}");
    assert!(listed["renewals"][0]["overwrite_at"].is_i64(), "{listed}");
    let (_, state) = get(&ra, &format!("/api/v1/renewal/{serial}"));
    assert_eq!(state["state"], "superseded");
    // Done: the code renews nothing more, but still opens the management key and a repeated
    // certConf for a run whose answer was lost.
    let again = ir_with_code(&ra, &id, &code, "new.key", "again.pem");
    assert!(!again.status.success() && text(&again).contains("this renewal is complete"), "{}", text(&again));
    let (status, after) = post(&ra, &overwrite, serde_json::json!({ "id": id, "code": code }));
    assert_eq!(status, 200, "{after}");
}

#[test]
fn wrong_renewal_codes_make_the_request_wait_and_never_lock_it() {
    let (ra, serial, id) = forwarded();
    let overwrite = format!("/api/v1/renewal/{serial}/overwrite");
    let doc = serde_json::json!({"renewal": id, "overwrite": true}).to_string();
    let body = serde_json::json!({ "id": id, "signed_authorisation": signed_by(&ra, &doc, "luca.pem", "luca.key") });
    let (_, authorised) = post(&ra, &overwrite, body);
    let code = authorised["code"].as_str().unwrap().to_owned();
    // A right code spends nothing: the holder's own reruns are never counted.
    for _ in 0..6 {
        assert_eq!(post(&ra, &overwrite, serde_json::json!({ "id": id, "code": code })).0, 200);
    }
    // Five wrong ones (anyone who knows the renewal's id may send them), then a wait, not a lock.
    let statuses: Vec<u16> = (0..6)
        .map(|i| post(&ra, &overwrite, serde_json::json!({ "id": id, "code": other_than(&code, i) })).0)
        .collect();
    assert_eq!(statuses, [403, 403, 403, 403, 403, 429], "{statuses:?}");
    let (status, waiting) = post(&ra, &overwrite, serde_json::json!({ "id": id, "code": code }));
    assert_eq!((status, waiting["code"].as_str()), (429, Some("renewal-code-wait")), "{waiting}");
    let wait: i64 = waiting["params"]["wait"].as_str().and_then(|w| w.parse().ok()).unwrap_or(0);
    assert!(wait > 0 && wait <= 60, "{waiting}");
}
