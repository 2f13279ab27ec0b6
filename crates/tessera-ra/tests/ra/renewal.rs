//! The renewal request (DOMAIN.md, Renewal): communicated, the form signed with the expiring
//! key as CAdES (by `openssl cms`, the independent peer), forwarded, then kur, completed.
//! kur without the signed form, a form signed by another key, another document, and a
//! changed contract are refused.

use std::process::Command;

use super::*;

pub(super) fn serial_of(ra: &Ra, cert: &str) -> String {
    x509(&ra.path(cert), &["-serial"]).trim().trim_start_matches("serial=").to_owned()
}

pub(super) fn openssl(ra: &Ra, args: &[&str]) {
    let o = Command::new("openssl").current_dir(ra.dir.path()).args(args).output().unwrap();
    assert!(o.status.success(), "openssl {args:?}: {}", text(&o));
}

/// The form, signed by `cert`/`key` with `openssl cms -sign -cades`, base64.
pub(super) fn signed_by(ra: &Ra, form: &str, cert: &str, key: &str) -> String {
    use base64::Engine;
    std::fs::write(ra.path("form.txt"), form).unwrap();
    openssl(
        ra,
        &[
            "cms",
            "-sign",
            "-cades",
            "-binary",
            "-nodetach",
            "-md",
            "sha256",
            "-outform",
            "DER",
            "-signer",
            cert,
            "-inkey",
            key,
            "-in",
            "form.txt",
            "-out",
            "form.p7m",
        ],
    );
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(ra.path("form.p7m")).unwrap())
}

pub(super) fn get(ra: &Ra, path: &str) -> (u16, serde_json::Value) {
    match ureq::get(&format!("http://{}{path}", ra.server)).call() {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or_default()),
        Err(e) => panic!("{path}: {e}"),
    }
}

/// An RA that wants the renewal form, with REQ-MAIL (a holder with an e-mail) issued a
/// 30-day certificate (old.pem, old.key; new.key made too): the RA and its serial.
pub(super) fn mail_request_issued() -> (Ra, String) {
    let ra = Ra::start_with_validity(30);
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    let config = config.replace("renewal.form = \"optional\"\n", "")
        + "\n[[request]]\nreference = \"REQ-MAIL\"\nactivation_code = \"MAIL-CODE-0007\"\nprofile = \"signature\"\n\
           holder = { given_name = \"MARIO\", surname = \"ROSSI\", cf = \"RSSMRA80A01H501U\", email = \"mario.rossi@example.it\" }\n";
    std::fs::write(ra.path("ra.toml"), config).unwrap();
    let ra = ra.restart();
    ra.key("old");
    ra.key("new");
    let ir = ra.cmp(&[
        "-cmd",
        "ir",
        "-ref",
        "REQ-MAIL",
        "-secret",
        "pass:MAIL-CODE-0007",
        "-newkey",
        "old.key",
        "-subject",
        "/CN=x",
        "-certout",
        "old.pem",
        "-unprotected_errors",
    ]);
    assert!(ir.status.success(), "{}", text(&ir));
    let serial = serial_of(&ra, "old.pem");
    (ra, serial)
}

#[test]
fn an_e_mail_registered_to_another_person_blocks_the_forms_signature_and_is_said_before_any_pin() {
    let (ra, serial) = mail_request_issued();
    let (_, state) = get(&ra, &format!("/api/v1/renewal/{serial}"));
    assert_eq!((state["renewable"].as_bool(), state["conflict"].is_null()), (Some(true), true), "{state}");
    // Another person registered with the same e-mail (the operator API checks only holders
    // it registered itself).
    let anna = serde_json::json!({"given_name": "ANNA", "surname": "VERDI", "cf": "VRDNNA90E50L219L",
        "email": "Mario.Rossi@example.it"});
    assert_eq!(operator_call(&ra, "POST", "/api/v1/operator/holders", Some(anna)).0, 201);
    let (_, state) = get(&ra, &format!("/api/v1/renewal/{serial}"));
    assert_eq!(state["conflict"].as_str(), Some("email"), "{state}");
    // The request opens, naming the conflict; the form cannot be signed while it stands.
    let (status, started) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert_eq!((status, started["contacts"]["conflict"].as_str()), (200, Some("email")), "{started}");
    assert_eq!(
        started["contacts"]["email_editable"], false,
        "the e-mail of a request without a record is the certificate's"
    );
    let form = started["form"].as_str().unwrap().to_owned();
    let body = serde_json::json!({ "id": started["id"], "contract_version": "2026-1",
        "signed_form": signed_by(&ra, &form, "old.pem", "old.key") });
    let (status, refused) = post(&ra, &format!("/api/v1/renewal/{serial}/form"), body);
    assert_eq!((status, refused["code"].as_str()), (409, Some("contact-data-conflict")), "{refused}");
    assert_eq!(refused["params"]["field"], "email");
    // Nor can this holder change it here: the registration authority must.
    let change = serde_json::json!({"renewal": started["id"], "email": "mario@nuovo.example"}).to_string();
    let body =
        serde_json::json!({ "id": started["id"], "signed_change": signed_by(&ra, &change, "old.pem", "old.key") });
    let (status, refused) = post(&ra, &format!("/api/v1/renewal/{serial}/contacts"), body);
    assert_eq!((status, refused["code"].as_str()), (409, Some("contact-in-certificate")), "{refused}");
}

/// A six-digit code that is not `code`.
pub(super) fn other_than(code: &str, i: u32) -> String {
    let wrong = format!("{i:06}");
    if wrong == code { format!("{:06}", 999_999 - i) } else { wrong }
}

/// A request taken at home (no holder record) whose mobile another person registered since:
/// the RA and the serial of its certificate.
fn mobile_conflict() -> (Ra, String) {
    let ra = Ra::start_with_validity(30);
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    let config = config.replace("renewal.form = \"optional\"\n", "")
        + "\n[[request]]\nreference = \"REQ-CELL\"\nactivation_code = \"CELL-CODE-0008\"\nprofile = \"signature\"\n\
           mobile = \"+393331112222\"\n\
           holder = { given_name = \"LUCA\", surname = \"BIANCHI\", cf = \"BNCLCU80A01H501X\" }\n";
    std::fs::write(ra.path("ra.toml"), config).unwrap();
    let ra = ra.restart();
    let csr = ra.csr("luca");
    let issued = ra.p10cr("REQ-CELL", "CELL-CODE-0008", &csr, &ra.path("luca.pem"));
    assert!(issued.status.success(), "{}", text(&issued));
    let anna = serde_json::json!({"given_name": "ANNA", "surname": "VERDI", "cf": "VRDNNA90E50L219L",
        "mobile": "+393331112222"});
    assert_eq!(operator_call(&ra, "POST", "/api/v1/operator/holders", Some(anna)).0, 201);
    let serial = serial_of(&ra, "luca.pem");
    (ra, serial)
}

#[test]
fn a_new_mobile_signed_with_the_expiring_key_and_confirmed_by_its_code_clears_the_conflict() {
    let (ra, serial) = mobile_conflict();
    let (_, started) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert_eq!(started["contacts"]["conflict"], "mobile", "{started}");
    assert_eq!(started["contacts"]["mobile"], "+39********22", "{started}");
    let id = started["id"].as_str().unwrap().to_owned();
    let contacts = format!("/api/v1/renewal/{serial}/contacts");
    let propose = |change: serde_json::Value, cert: &str, key: &str| {
        let body = serde_json::json!({ "id": id, "signed_change": signed_by(&ra, &change.to_string(), cert, key) });
        post(&ra, &contacts, body)
    };
    let new_mobile = serde_json::json!({"renewal": id, "mobile": "+393339998877"});
    // Signed by another key, for another request, a number of the wrong shape, the number
    // of the other person: refused, and nothing is sent.
    ra.key("other");
    openssl(
        &ra,
        &["req", "-x509", "-key", "other.key", "-subj", "/CN=BIANCHI LUCA", "-days", "1", "-out", "other.pem"],
    );
    let (status, refused) = propose(new_mobile.clone(), "other.pem", "other.key");
    assert_eq!((status, refused["code"].as_str()), (422, Some("contact-signature-refused")), "{refused}");
    let (status, refused) =
        propose(serde_json::json!({"renewal": "RIN-ALTRA", "mobile": "+393339998877"}), "luca.pem", "luca.key");
    assert_eq!((status, refused["code"].as_str()), (422, Some("contact-signature-refused")), "{refused}");
    let (status, refused) = propose(serde_json::json!({"renewal": id, "mobile": "333 999"}), "luca.pem", "luca.key");
    assert_eq!(
        (status, refused["code"].as_str(), refused["params"]["field"].as_str()),
        (400, Some("contact-invalid"), Some("mobile"))
    );
    let (status, refused) =
        propose(serde_json::json!({"renewal": id, "mobile": "+393331112222"}), "luca.pem", "luca.key");
    assert_eq!((status, refused["code"].as_str()), (409, Some("contact-taken")), "{refused}");
    let outbox = || std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap_or_default();
    assert!(!outbox().contains("+393339998877"), "nothing sent for a refused change");

    // The change, signed with the expiring key: a code to the new number.
    let (status, proposed) = propose(new_mobile, "luca.pem", "luca.key");
    assert_eq!((status, proposed["mobile"].as_str()), (200, Some("+39********77")), "{proposed}");
    let code = otp_for(&ra, "+393339998877");
    let confirm = format!("/api/v1/renewal/{serial}/contacts/confirm");
    let (status, wrong) = post(&ra, &confirm, serde_json::json!({ "id": id, "mobile_code": other_than(&code, 0) }));
    assert_eq!(
        (status, wrong["code"].as_str(), wrong["params"]["tries_left"].as_str()),
        (403, Some("contact-code-wrong"), Some("4")),
        "{wrong}"
    );
    // The code came back: the conflict is gone and the form names the new number.
    let (status, changed) = post(&ra, &confirm, serde_json::json!({ "id": id, "mobile_code": code }));
    assert_eq!(status, 200, "{changed}");
    assert!(changed["contacts"]["conflict"].is_null(), "{changed}");
    let form = changed["form"].as_str().unwrap().to_owned();
    assert!(form.contains("+39********77") && form != started["form"].as_str().unwrap(), "{form}");
    let (_, state) = get(&ra, &format!("/api/v1/renewal/{serial}"));
    assert!(state["conflict"].is_null(), "{state}");
    // The form shown before the change is not this request's form any more.
    let sign = |form: &str| {
        let body = serde_json::json!({ "id": id, "contract_version": "2026-1", "signed_form": signed_by(&ra, form, "luca.pem", "luca.key") });
        post(&ra, &format!("/api/v1/renewal/{serial}/form"), body)
    };
    let (status, _) = sign(started["form"].as_str().unwrap());
    assert_eq!(status, 422, "the old form");
    let (status, forwarded) = sign(&form);
    assert_eq!((status, forwarded["state"].as_str()), (200, Some("forwarded")), "{forwarded}");
    // Confirmed once: the same codes again have nothing to confirm.
    let (status, _) = post(&ra, &confirm, serde_json::json!({ "id": id, "mobile_code": code }));
    assert_eq!(status, 409);
}

#[test]
fn five_wrong_codes_under_concurrency_spend_the_contact_change() {
    let (ra, serial) = mobile_conflict();
    let (_, started) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    let id = started["id"].as_str().unwrap().to_owned();
    let change = serde_json::json!({"renewal": id, "mobile": "+393339998877"}).to_string();
    let body = serde_json::json!({ "id": id, "signed_change": signed_by(&ra, &change, "luca.pem", "luca.key") });
    assert_eq!(post(&ra, &format!("/api/v1/renewal/{serial}/contacts"), body).0, 200);
    let code = otp_for(&ra, "+393339998877");
    let confirm = format!("/api/v1/renewal/{serial}/contacts/confirm");
    // Twelve wrong codes at once: five are checked, the rest find no try left.
    let wrong: Vec<u16> = std::thread::scope(|s| {
        let calls: Vec<_> = (0..12)
            .map(|i| {
                let (ra, confirm, id) = (&ra, &confirm, &id);
                let wrong = other_than(&code, i);
                s.spawn(move || post(ra, confirm, serde_json::json!({ "id": id, "mobile_code": wrong })).0)
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(wrong.iter().filter(|s| **s == 403).count(), 5, "{wrong:?}");
    assert!(wrong.iter().all(|s| [403, 423, 429].contains(s)), "{wrong:?}");
    let (status, spent) = post(&ra, &confirm, serde_json::json!({ "id": id, "mobile_code": code }));
    assert_eq!((status, spent["code"].as_str()), (423, Some("contact-codes-spent")), "even the right code: {spent}");
    let (_, state) = get(&ra, &format!("/api/v1/renewal/{serial}"));
    assert_eq!(state["conflict"], "mobile", "nothing changed");
}

#[test]
fn kur_waits_for_the_renewal_form_signed_with_the_expiring_key_and_completes_the_request() {
    let (ra, serial) = mail_request_issued();

    // kur alone is refused: the form comes first.
    let early = ra.kur("old.pem", "old.key", "new.key", "new.pem");
    assert!(!early.status.success());
    assert!(text(&early).contains("renewal form is not signed yet"), "{}", text(&early));

    // Communicated: the contract and the form, which names the holder and certificate.
    let (status, started) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["state"], "communicated");
    assert_eq!(started["contract"]["version"], "2026-1");
    assert!(started["contract"]["text"].as_str().unwrap().contains("CONDIZIONI GENERALI"));
    let form = started["form"].as_str().unwrap().to_owned();
    assert!(form.contains("MARIO ROSSI") && form.contains("RSSMRA80A01H501U"), "{form}");
    assert!(form.contains("m***@example.it") && !form.contains("mario.rossi@"), "{form}");
    let id = started["id"].as_str().unwrap().to_owned();
    let (_, again) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert_eq!(again["id"], id, "one open renewal per certificate");

    let submit = |p7m: &str, version: &str| {
        post(
            &ra,
            &format!("/api/v1/renewal/{serial}/form"),
            serde_json::json!({ "id": id, "contract_version": version, "signed_form": p7m }),
        )
    };
    // Signed by another key (its own self-signed certificate): refused.
    openssl(&ra, &["req", "-x509", "-key", "new.key", "-subj", "/CN=ROSSI MARIO", "-days", "1", "-out", "self.pem"]);
    let (status, refused) = submit(&signed_by(&ra, &form, "self.pem", "new.key"), "2026-1");
    assert_eq!((status, refused["code"].as_str()), (422, Some("form-signature-refused")), "{refused}");
    // The right key over another document: refused.
    let (status, refused) = submit(&signed_by(&ra, "altro documento", "old.pem", "old.key"), "2026-1");
    assert_eq!(status, 422, "{refused}");
    assert!(refused["params"]["reason"].as_str().unwrap().contains("not this renewal's form"), "{refused}");
    // Another contract version than the one shown: refused.
    let p7m = signed_by(&ra, &form, "old.pem", "old.key");
    let (status, refused) = submit(&p7m, "2025-9");
    assert_eq!((status, refused["code"].as_str()), (409, Some("contract-changed")), "{refused}");
    // The form, signed with the expiring key: forwarded; the same again is answered again.
    let (status, forwarded) = submit(&p7m, "2026-1");
    assert_eq!((status, forwarded["state"].as_str()), (200, Some("forwarded")), "{forwarded}");
    let (status, repeated) = submit(&p7m, "2026-1");
    assert_eq!((status, repeated["state"].as_str()), (200, Some("forwarded")), "{repeated}");
    // The signed form went to the holder's e-mail, the .p7m with it.
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    let mail = outbox.lines().find(|l| l.contains("Modulo di rinnovo firmato")).expect("the form's e-mail");
    assert!(mail.contains("mario.rossi@example.it") && mail.contains(&format!("modulo-rinnovo-{id}.p7m")), "{mail}");
    assert_eq!(outbox.matches("Modulo di rinnovo firmato").count(), 1, "once, not again for the repeat");

    let (_, listed) = operator_call(&ra, "GET", "/api/v1/operator/renewals?state=forwarded", None);
    assert_eq!(listed["renewals"][0]["id"], id, "{listed}");
    assert!(listed["renewals"][0].get("signed_form").is_none(), "the .p7m is not listed");

    // Now kur renews; its confirmation completes the request.
    let kur = ra.kur("old.pem", "old.key", "new.key", "new.pem");
    assert!(kur.status.success(), "{}", text(&kur));
    let (_, listed) = operator_call(&ra, "GET", "/api/v1/operator/renewals", None);
    let renewal = &listed["renewals"][0];
    assert_eq!((renewal["id"].as_str(), renewal["state"].as_str()), (Some(id.as_str()), Some("completed")), "{listed}");
    assert_eq!(renewal["new_serial"].as_str().map(str::to_uppercase), Some(serial_of(&ra, "new.pem")));
    let (status, _) = operator_call(&ra, "POST", &format!("/api/v1/operator/renewals/{id}/cancel"), None);
    assert_eq!(status, 409, "a completed renewal cannot be cancelled");
    let (_, state) = get(&ra, &format!("/api/v1/renewal/{serial}"));
    assert_eq!(state["state"], "superseded");
    let (status, _) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert_eq!(status, 409, "a renewed certificate is not renewed again");
}

#[test]
fn an_operator_cancels_a_renewal_and_the_holder_can_start_again() {
    let ra = Ra::start_with_validity(30);
    ra.key("old");
    assert!(ra.ir_mario("old.key", "old.pem").status.success());
    let serial = serial_of(&ra, "old.pem");
    let (_, first) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    let id = first["id"].as_str().unwrap().to_owned();
    let (status, cancelled) = operator_call(&ra, "POST", &format!("/api/v1/operator/renewals/{id}/cancel"), None);
    assert_eq!((status, cancelled["state"].as_str()), (200, Some("cancelled")), "{cancelled}");
    let (status, _) = operator_call(&ra, "GET", "/api/v1/operator/renewals?state=bogus", None);
    assert_eq!(status, 400);
    let (_, listed) = operator_call(&ra, "GET", "/api/v1/operator/renewals?state=cancelled", None);
    assert_eq!(listed["renewals"][0]["cancelled_by"], "odr-test", "{listed}");
    let (_, second) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert_ne!(second["id"], first["id"], "a new request after the cancelled one");
    // A certificate this RA does not know, and a serial that is not hex.
    assert_eq!(post(&ra, "/api/v1/renewal/0BADC0DE", serde_json::json!({})).0, 404);
    assert_eq!(post(&ra, "/api/v1/renewal/xyz", serde_json::json!({})).0, 400);
}

#[test]
fn a_renewal_cannot_be_started_before_its_window() {
    let ra = Ra::start_with_validity(365);
    ra.key("old");
    assert!(ra.ir_mario("old.key", "old.pem").status.success());
    let serial = serial_of(&ra, "old.pem");
    let (status, refused) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert_eq!((status, refused["code"].as_str()), (409, Some("renewal-not-open")), "{refused}");
    assert!(refused["params"]["opens_in"].as_str().unwrap().parse::<i64>().unwrap() > 290, "{refused}");
}

#[test]
fn an_operator_approves_a_renewal_within_ninety_days_of_the_forms_signature() {
    let (ra, serial) = mail_request_issued();
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    std::fs::write(ra.path("ra.toml"), format!("renewal_policy = \"approval\"\n{config}")).unwrap();
    let ra = ra.restart();
    let (_, started) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    let form = started["form"].as_str().unwrap().to_owned();
    let body = serde_json::json!({ "id": started["id"], "contract_version": "2026-1",
        "signed_form": signed_by(&ra, &form, "old.pem", "old.key") });
    assert_eq!(post(&ra, &format!("/api/v1/renewal/{serial}/form"), body).0, 200);
    let kur = ra.kur("old.pem", "old.key", "new.key", "new.pem");
    assert!(kur.status.success(), "{}", text(&kur));
    let new_serial = serial_of(&ra, "new.pem");
    // The form signed 91 days ago (the database's clock moved back): too late to approve.
    let moved = |days: i64| {
        let db = format!("sqlite://{}", ra.path("tessera-ra/tessera-ra.sqlite").display());
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            use sqlx::ConnectOptions;
            let mut conn = db.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().connect().await.unwrap();
            sqlx::query("UPDATE renewals SET signed_at = $1")
                .bind(time::OffsetDateTime::now_utc().unix_timestamp() - days * 86_400)
                .execute(&mut conn)
                .await
                .unwrap();
        })
    };
    moved(91);
    let approve = format!("/api/v1/operator/certificates/{new_serial}/approve");
    let (status, refused) = operator_call(&ra, "POST", &approve, None);
    assert_eq!((status, refused["code"].as_str()), (409, Some("approval-too-late")), "{refused}");
    moved(89);
    let (status, approved) = operator_call(&ra, "POST", &approve, None);
    assert_eq!((status, approved["approval"].as_str()), (200, Some("approved")), "{approved}");
}

/// An RA that wants the form, and CARLA NERI registered at the counter (a holder record
/// with an e-mail) issued carla.pem: the RA and the request's reference.
fn counter_holder_issued() -> (Ra, String) {
    let ra = Ra::start_with_validity(30);
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    std::fs::write(ra.path("ra.toml"), config.replace("renewal.form = \"optional\"\n", "")).unwrap();
    let ra = ra.restart();
    // A holder registered at the counter, whose request has the card's secrets and user code.
    let holder = serde_json::json!({"given_name": "CARLA", "surname": "NERI", "cf": "NRECRL80A41H501U",
        "cf_forced": true, "email": "carla.neri@example.org"});
    let (status, h) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(holder));
    assert_eq!(status, 201, "{h}");
    let request = serde_json::json!({"holder_id": h["holder_id"], "profile": "signature"});
    let (_, r) = operator_call(&ra, "POST", "/api/v1/operator/requests", Some(request));
    let (reference, code) = (r["reference"].as_str().unwrap().to_owned(), r["activation_code"].as_str().unwrap());
    let arm = format!("/api/v1/operator/requests/{reference}/arm");
    assert_eq!(operator_call(&ra, "POST", &arm, Some(serde_json::json!({ "activation_code": code }))).0, 200);
    let csr = ra.csr("carla");
    assert!(ra.p10cr(&reference, code, &csr, &ra.path("carla.pem")).status.success());
    (ra, reference)
}

#[test]
fn a_registered_holder_changes_the_e_mail_with_the_code_sent_to_it() {
    let (ra, _) = counter_holder_issued();
    let serial = serial_of(&ra, "carla.pem");
    let (_, started) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert_eq!(started["contacts"]["email"], "c***@example.org", "{started}");
    assert_eq!(started["contacts"]["email_editable"], true, "{started}");
    let id = started["id"].as_str().unwrap().to_owned();
    let change = serde_json::json!({"renewal": id, "email": "Carla.Nuova@Example.NET"}).to_string();
    let body = serde_json::json!({ "id": id, "signed_change": signed_by(&ra, &change, "carla.pem", "carla.key") });
    let (status, proposed) = post(&ra, &format!("/api/v1/renewal/{serial}/contacts"), body);
    assert_eq!((status, proposed["email"].as_str()), (200, Some("c***@example.net")), "{proposed}");
    let code = otp_for(&ra, "carla.nuova@example.net");
    let confirm = format!("/api/v1/renewal/{serial}/contacts/confirm");
    // The code of the e-mail, not given: wrong.
    let (status, _) = post(&ra, &confirm, serde_json::json!({ "id": id }));
    assert_eq!(status, 403);
    let (status, changed) = post(&ra, &confirm, serde_json::json!({ "id": id, "email_code": code }));
    assert_eq!(status, 200, "{changed}");
    assert!(changed["form"].as_str().unwrap().contains("c***@example.net"), "{changed}");
    // The holder's record has it now: nobody else can register it.
    let anna = serde_json::json!({"given_name": "ANNA", "surname": "VERDI", "cf": "VRDNNA90E50L219L",
        "email": "carla.nuova@example.net"});
    assert_eq!(operator_call(&ra, "POST", "/api/v1/operator/holders", Some(anna)).0, 409);
}

#[test]
fn a_completed_renewal_e_mails_the_holder_the_user_code_again() {
    let (ra, _) = counter_holder_issued();
    let outbox = || std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    let user_code = outbox()
        .lines()
        .find_map(|l| l.split("· codice utente ").nth(1).map(|c| c.chars().take(8).collect::<String>()))
        .expect("the completion e-mail with the user code");

    // Renewed with the signed form: the user code again, to the holder's e-mail.
    let serial = serial_of(&ra, "carla.pem");
    let (_, started) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert!(started["form"].as_str().unwrap().contains("c***@example.org"), "{started}");
    let form = started["form"].as_str().unwrap().to_owned();
    let body = serde_json::json!({ "id": started["id"], "contract_version": "2026-1",
        "signed_form": signed_by(&ra, &form, "carla.pem", "carla.key") });
    assert_eq!(post(&ra, &format!("/api/v1/renewal/{serial}/form"), body).0, 200);
    ra.key("renewed");
    let kur = ra.kur("carla.pem", "carla.key", "renewed.key", "renewed.pem");
    assert!(kur.status.success(), "{}", text(&kur));
    let all = outbox();
    let mail = all.lines().find(|l| l.contains("rinnovo completato")).expect("the renewal e-mail");
    assert!(mail.contains("carla.neri@example.org") && mail.contains(&user_code), "{mail}");
    assert!(mail.contains(started["id"].as_str().unwrap()), "names the renewal: {mail}");
}

#[test]
fn new_terms_replace_a_form_not_yet_signed_and_a_cancel_after_kur_revokes_its_certificate() {
    let (ra, serial) = mail_request_issued();
    let (_, first) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert_eq!(first["contract"]["version"], "2026-1");
    // The centre publishes new terms: the unsigned request is made again under them.
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    let terms = "renewal.contract = { version = \"2027-1\", text = \"NUOVE CONDIZIONI\" }\n";
    std::fs::write(ra.path("ra.toml"), format!("{terms}{config}")).unwrap();
    let ra = ra.restart();
    let (status, second) = post(&ra, &format!("/api/v1/renewal/{serial}"), serde_json::json!({}));
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["id"], first["id"]);
    assert_eq!(
        (second["contract"]["version"].as_str(), second["contract"]["text"].as_str()),
        (Some("2027-1"), Some("NUOVE CONDIZIONI"))
    );
    assert!(second["form"].as_str().unwrap().contains("versione 2027-1"), "{second}");
    let (_, cancelled) = operator_call(&ra, "GET", "/api/v1/operator/renewals?state=cancelled", None);
    assert_eq!(cancelled["renewals"][0]["id"], first["id"], "{cancelled}");
    assert_eq!(cancelled["renewals"][0]["cancelled_by"], "contract-changed");

    // Signed and kur answered, but cancelled before the certConf: that certificate is revoked.
    let form = second["form"].as_str().unwrap().to_owned();
    let body = serde_json::json!({ "id": second["id"], "contract_version": "2027-1",
        "signed_form": signed_by(&ra, &form, "old.pem", "old.key") });
    assert_eq!(post(&ra, &format!("/api/v1/renewal/{serial}/form"), body).0, 200);
    let kur = ra.cmp(&[
        "-cmd",
        "kur",
        "-cert",
        "old.pem",
        "-key",
        "old.key",
        "-newkey",
        "new.key",
        "-certout",
        "new.pem",
        "-trusted",
        "ca.pem",
        "-disable_confirm",
    ]);
    assert!(kur.status.success(), "{}", text(&kur));
    let id = second["id"].as_str().unwrap();
    let (status, _) = operator_call(&ra, "POST", &format!("/api/v1/operator/renewals/{id}/cancel"), None);
    assert_eq!(status, 200);
    let revoked = serial_of(&ra, "new.pem").to_lowercase();
    assert!(crl_serials(&ra).contains(&revoked), "the unconfirmed certificate is on the CRL");
}
