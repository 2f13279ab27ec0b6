//! The holder API: activation code, tax code and SMS OTP; tries, locks and rate limits;
//! SMS and e-mail delivery; the card's PIN and PUK.

use super::*;

#[test]
fn a_holder_arms_the_request_with_code_tax_code_and_sms_otp_then_enrolls() {
    let ra = Ra::start();
    let csr = ra.csr("home");
    let early = ra.p10cr("REQ-0003", "HOME-CODE-0003", &csr, &ra.path("early.pem"));
    assert!(!early.status.success() && text(&early).contains("not armed"), "{}", text(&early));

    let (status, body) = start_activation(&ra, "home-code-0003", "RSSMRA80A01H501U");
    assert_eq!((status, body["code"].as_str()), (403, Some("activation-refused")), "{body}");
    assert_eq!(body["params"]["tries_left"], "4");
    let (status, body) = start_activation(&ra, "HOME-CODE-0003", "bnclcu75c15f205o");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reference"], "REQ-0003");
    assert_eq!(body["mobile"], "+39********67");
    assert_eq!(body["resend_after"], 30);
    let (status, body) =
        post(&ra, "/api/v1/activation/REQ-0003/resend", serde_json::json!({"activation_code": "HOME-CODE-0003"}));
    assert_eq!((status, body["code"].as_str()), (429, Some("otp-resend-too-soon")), "{body}");
    let (status, body) = post(&ra, "/api/v1/activation/REQ-0003/otp", serde_json::json!({"otp": "000000"}));
    assert_eq!(
        (status, body["code"].as_str(), body["params"]["tries_left"].as_str()),
        (403, Some("otp-wrong"), Some("3")),
        "{body}"
    );
    let otp = otp_for(&ra, "+393331234567");
    let (status, body) = post(&ra, "/api/v1/activation/REQ-0003/otp", serde_json::json!({ "otp": otp }));
    assert_eq!((status, &body["armed"]), (200, &serde_json::json!(true)), "{body}");

    let out = ra.p10cr("REQ-0003", "HOME-CODE-0003", &csr, &ra.path("home.pem"));
    assert!(out.status.success(), "{}", text(&out));
    assert!(x509(&ra.path("home.pem"), &["-subject"]).contains("serialNumber=TINIT-BNCLCU75C15F205O"));
}

#[test]
fn sms_codes_are_kept_keyed_and_the_database_files_are_owner_only() {
    use sha2::Digest;
    use std::os::unix::fs::PermissionsExt;
    let ra = Ra::start();
    let (status, _) = start_activation(&ra, "home code 0003", "BNCLCU75C15F205O");
    assert_eq!(status, 200);
    let otp = otp_for(&ra, "+393331234567");
    // Recovered from the database or its WAL, neither the code nor its unkeyed hash.
    let unkeyed: String =
        sha2::Sha256::digest(format!("REQ-0003:{otp}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let (status, body) = post(&ra, "/api/v1/activation/REQ-0003/otp", serde_json::json!({ "otp": otp }));
    assert_eq!(status, 200, "{body}");
    let files = state_files(&ra);
    let database: Vec<_> = files.iter().filter(|(p, _)| p.to_string_lossy().contains("tessera-ra.sqlite")).collect();
    assert!(database.len() >= 2, "the database and its WAL: {files:?}");
    for (path, bytes) in &database {
        assert!(!bytes.windows(unkeyed.len()).any(|w| w == unkeyed.as_bytes()), "{}", path.display());
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    // An older set-up's readable files are tightened at the next start.
    for (path, _) in &database {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let ra = ra.restart();
    let db = ra.path("tessera-ra").join("tessera-ra.sqlite");
    assert_eq!(std::fs::metadata(db).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn activation_codes_are_kept_only_as_keyed_hashes_and_sealed_while_armed() {
    let ra = Ra::start();
    // REQ-0001 is armed, REQ-0003 gets an OTP pending: both keep their code sealed.
    let (status, _) = start_activation(&ra, "home code 0003", "BNCLCU75C15F205O");
    assert_eq!(status, 200);
    let out = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.csr("m"), &ra.path("m.pem"));
    assert!(out.status.success(), "{}", text(&out));
    let files = state_files(&ra);
    assert!(files.iter().any(|(p, _)| p.ends_with("tessera-ra.sqlite")), "{files:?}");
    for (path, bytes) in &files {
        for code in ["ABCD-EFGH-JKLM", "ABCDEFGHJKLM", "HOME-CODE-0003", "HOMECODE0003", "NPQRSTUVWXYZ"] {
            assert!(!bytes.windows(code.len()).any(|w| w == code.as_bytes()), "{code} in {}", path.display());
        }
    }
    // Issued: the code is spent.
    let again = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.csr("m2"), &ra.path("m2.pem"));
    assert!(text(&again).contains("already issued"), "{}", text(&again));
    // The keys that hash and seal them survive a restart (so does the armed request).
    let ra = ra.restart();
    let out = ra.p10cr("REQ-0002", "npqr stuv wxyz", &ra.csr("n"), &ra.path("n.pem"));
    assert!(!out.status.success(), "the MAC secret is the canonical form, as openssl was given it");
    let out = ra.p10cr("REQ-0002", "NPQR-STUV-WXYZ", &ra.csr("n"), &ra.path("n.pem"));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn wrong_codes_over_cmp_make_the_reference_wait_without_locking_the_holder_out() {
    let ra = exactly_once::reconfigured(Ra::start(), "\n[cmp]\nwrong_code_wait_seconds = 2\n");
    let csr = ra.csr("x");
    // Anyone who knows the reference: five wrong codes are checked, then the reference waits.
    for _ in 0..5 {
        let out = ra.p10cr("REQ-0001", "WRONG-CODE-XXXX", &csr, &ra.path("x.pem"));
        assert!(text(&out).contains("badMessageCheck"), "{}", text(&out));
    }
    for code in ["WRONG-CODE-XXXX", "ABCD-EFGH-JKLM"] {
        let out = ra.p10cr("REQ-0001", code, &csr, &ra.path("x.pem"));
        assert!(!out.status.success() && text(&out).contains("systemUnavail"), "{}", text(&out));
    }
    // Not locked for good: the holder's tries are untouched, and once the wait is over the
    // right code enrolls.
    let (_, rows) = operator_call(&ra, "GET", "/api/v1/operator/requests?q=REQ-0001", None);
    assert_eq!(rows[0]["locked"], false, "{rows}");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let out = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &csr, &ra.path("x.pem"));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn five_wrong_codes_or_otps_lock_the_request() {
    let ra = Ra::start();
    let (status, _) = start_activation(&ra, "HOME-CODE-0004", "VRDNNA90E50L219L");
    assert_eq!(status, 200);
    for _ in 0..2 {
        start_activation(&ra, "HOME-CODE-0004", "XXXXXX00X00X000X");
    }
    for expected in ["otp-wrong", "otp-wrong", "request-locked"] {
        let (_, body) = post(&ra, "/api/v1/activation/REQ-0004/otp", serde_json::json!({"otp": "999999"}));
        assert_eq!(body["code"], expected, "{body}");
    }
    // Locked: even the right OTP and the right tax code are refused now.
    let otp = otp_for(&ra, "+393339876543");
    let (status, body) = post(&ra, "/api/v1/activation/REQ-0004/otp", serde_json::json!({ "otp": otp }));
    assert_eq!((status, body["code"].as_str()), (423, Some("request-locked")));
    let (status, _) = start_activation(&ra, "HOME-CODE-0004", "VRDNNA90E50L219L");
    assert_eq!(status, 423);
    // An unknown code says nothing about which part was wrong.
    let (status, body) = start_activation(&ra, "NOPE", "VRDNNA90E50L219L");
    assert_eq!(
        (status, body["code"].as_str(), body["params"].as_object().map(|p| p.len())),
        (403, Some("activation-refused"), Some(0))
    );
}

#[test]
fn the_holder_api_is_rate_limited_per_client_address() {
    let ra = Ra::start();
    // Wrong guesses are failures of their address: ten at once, then one each six seconds
    // (a bucket that refills continuously: no window edge to straddle).
    let mut statuses = Vec::new();
    for _ in 0..14 {
        let (status, body) = start_activation(&ra, "GUESS", "X");
        statuses.push((status, body["code"].as_str().unwrap_or_default().to_owned()));
    }
    assert!(statuses[..10].iter().all(|(s, c)| *s == 403 && c == "activation-refused"), "{statuses:?}");
    assert!(statuses[10..].iter().all(|(s, c)| *s == 429 && c == "rate-limited"), "{statuses:?}");
    let (_, body) = start_activation(&ra, "GUESS", "X");
    let wait: u64 = body["params"]["retry_after"].as_str().unwrap().parse().unwrap();
    assert!((1..=6).contains(&wait), "{body}");
    std::thread::sleep(std::time::Duration::from_secs(wait));
    assert_eq!(start_activation(&ra, "GUESS", "X").0, 403, "one guess back");
    assert_eq!(start_activation(&ra, "GUESS", "X").0, 429);
}

#[test]
fn sms_go_to_the_providers_webhook_too() {
    let (port, provider) = one_shot_provider();
    let ra = with_gateway(Ra::start(), &format!("sms_webhook = \"http://127.0.0.1:{port}/sms\""));
    let (status, body) = start_activation(&ra, "HOME-CODE-0003", "BNCLCU75C15F205O");
    assert_eq!(status, 200, "{body}");
    let request = provider.join().unwrap();
    assert!(request.starts_with("POST /sms"), "{request}");
    assert!(request.contains("\"to\":\"+393331234567\""), "{request}");
    assert!(request.contains(&otp_for(&ra, "+393331234567")), "the same OTP as in the outbox");
}

#[test]
fn the_card_pin_and_puk_are_chosen_by_the_ra_first_halves_on_paper_second_halves_by_email() {
    let ra = Ra::start();
    let (status, h) = operator_call(
        &ra,
        "POST",
        "/api/v1/operator/holders",
        Some(serde_json::json!({
        "given_name": "CARLA", "surname": "NERI", "cf": "NRECRL80A41H501U", "cf_forced": true,
        "mobile": "+393330000077", "email": "carla.neri@example.org"})),
    );
    assert_eq!(status, 201, "{h}");
    let (status, r) = operator_call(
        &ra,
        "POST",
        "/api/v1/operator/requests",
        Some(serde_json::json!({
        "holder_id": h["holder_id"], "profile": "signature"})),
    );
    assert_eq!(status, 201, "{r}");
    let (reference, code) =
        (r["reference"].as_str().unwrap().to_owned(), r["activation_code"].as_str().unwrap().to_owned());

    // The sheet handed over with the card: first halves only.
    let (status, sheet) = operator_call(&ra, "GET", &format!("/api/v1/operator/requests/{reference}/handover"), None);
    assert_eq!(status, 200, "{sheet}");
    let (pin1, puk1) =
        (sheet["pin_first_half"].as_str().unwrap().to_owned(), sheet["puk_first_half"].as_str().unwrap().to_owned());
    assert_eq!((pin1.len(), puk1.len()), (4, 4));
    assert!(sheet["sheet"].as_str().unwrap().contains(&format!("PIN / First half of the PIN: {pin1}")));
    // Or by SMS to the holder's mobile.
    let (status, _) = operator_call(
        &ra,
        "POST",
        &format!("/api/v1/operator/requests/{reference}/halves"),
        Some(serde_json::json!({"channel": "sms"})),
    );
    assert_eq!(status, 200);
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    assert!(outbox.lines().any(|l| l.contains("+393330000077") && l.contains(&format!("PIN {pin1}"))), "{outbox}");
    // The second halves wait for the request to complete.
    let (status, body) = operator_call(
        &ra,
        "POST",
        &format!("/api/v1/operator/requests/{reference}/halves"),
        Some(serde_json::json!({"channel": "email"})),
    );
    assert_eq!((status, body["code"].as_str()), (409, Some("halves-not-yet")));

    // The tool gets them whole only with the code, and only once the request is armed.
    let unlock = |code: &str| {
        post(
            &ra,
            &format!("/api/v1/activation/{reference}/personalisation"),
            serde_json::json!({"activation_code": code}),
        )
    };
    assert_eq!(unlock(&code).1["code"], "personalisation-closed");
    let (status, _) = operator_call(
        &ra,
        "POST",
        &format!("/api/v1/operator/requests/{reference}/arm"),
        Some(serde_json::json!({"activation_code": code})),
    );
    assert_eq!(status, 200);
    assert_eq!(unlock("WRNG-CODE-0000").0, 403);
    let (status, secrets) = unlock(&code);
    assert_eq!(status, 200, "{secrets}");
    let (pin, puk) = (secrets["pin"].as_str().unwrap(), secrets["puk"].as_str().unwrap());
    assert!(pin.starts_with(&pin1) && puk.starts_with(&puk1) && pin.len() == 8 && puk.len() == 8);
    assert_eq!(secrets["management_key"].as_str().unwrap().len(), 48);

    // Issued and confirmed: the second halves and the user code reach the holder's mailbox.
    let csr = ra.csr("carla");
    let out = ra.p10cr(&reference, &code, &csr, &ra.path("carla.pem"));
    assert!(out.status.success(), "{}", text(&out));
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    let mail = outbox
        .lines()
        .rev()
        .find(|l| l.contains("carla.neri@example.org") && l.contains("codice utente"))
        .expect("the completion e-mail");
    assert!(
        mail.contains(&format!("seconda metà del PIN {}", &pin[4..]))
            && mail.contains(&format!("seconda metà del PUK {}", &puk[4..])),
        "{mail}"
    );
    // No PIN, PUK or key in the database or the audit log.
    for (path, bytes) in state_files(&ra) {
        if path.ends_with("outbox.log") {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(pin) && !text.contains(puk), "{} holds a card secret", path.display());
    }
    let (status, _) = unlock(&code);
    assert_eq!(status, 409, "closed once issued");
}

/// An RA issuing 30-day certificates (inside the renewal notices' window) with MARIO
/// ROSSI's certificate issued for the request `reference`.
fn with_expiring_certificate(reference: &str) -> Ra {
    let ra = exactly_once::reconfigured(
        Ra::start_with_validity(30),
        &format!(
            r#"
[cmp]
confirm_seconds = 2

[[request]]
reference = "{reference}"
activation_code = "NOTE-CODE-0001"
profile = "signature"
holder = {{ given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U", email = "mario.rossi@example.org" }}
"#
        ),
    );
    let out = ra.p10cr(reference, "NOTE-CODE-0001", &ra.csr("notice"), &ra.path("notice.pem"));
    assert!(out.status.success(), "{}", text(&out));
    ra
}

/// How many renewal notices the RA's outbox holds, once it holds `n` or 15 s have passed.
fn renewal_notices(ra: &Ra, n: usize) -> usize {
    let outbox = ra.path("tessera-ra").join("outbox.log");
    let count =
        || std::fs::read_to_string(&outbox).unwrap_or_default().matches("il tuo certificato va rinnovato").count();
    tessera_testbed::wait_until(std::time::Duration::from_secs(15), || count() >= n);
    count()
}

#[test]
fn renewal_notices_go_to_the_holder_by_email_once_each_from_60_days() {
    let ra = with_expiring_certificate("REQ-NOTICE");
    assert_eq!(renewal_notices(&ra, 1), 1);
    let text = std::fs::read_to_string(ra.path("tessera-ra").join("outbox.log")).unwrap();
    assert!(text.contains("mario.rossi@example.org") && text.contains("scade il"), "{text}");
    // The link into the app's renewal of this certificate (its serial, nothing secret).
    let serial = text.split("tessera://renew?serial=").nth(1).map(|r| r.split_whitespace().next().unwrap_or(""));
    let serial = serial.unwrap_or_else(|| panic!("no renewal link: {text}"));
    assert!(!serial.is_empty() && serial.chars().all(|c| c.is_ascii_hexdigit()), "{serial}");
    // Once: the next sweeps send nothing more for the same threshold.
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert_eq!(renewal_notices(&ra, 0), 1);
    let (_, audit) = operator_call(&ra, "GET", "/api/v1/operator/audit?subject=", None);
    assert!(audit.to_string().contains("renewal-30"), "{audit}");
}

/// A certificate stored before its end of validity was kept with it (an RA upgraded from
/// an older schema): the sweeper still finds it for its notice, and stores the date so
/// that later sweeps read only the certificates near expiry.
#[test]
fn a_certificate_stored_without_its_end_of_validity_still_gets_its_notice() {
    use crate::console::{sql, sql_column};
    let ra = with_expiring_certificate("REQ-OLDROW");
    assert_eq!(renewal_notices(&ra, 1), 1);
    let stored = sql_column(&ra, "SELECT CAST(not_after AS TEXT) FROM certificates");
    assert!(stored.len() == 1 && stored[0].parse::<i64>().is_ok_and(|t| t > 0), "{stored:?}");
    // As an older row: no end of validity, its notice not yet sent.
    sql(&ra, "UPDATE certificates SET not_after = NULL");
    sql(&ra, "DELETE FROM notices");
    assert_eq!(renewal_notices(&ra, 2), 2, "the notice goes for the older row too");
    assert_eq!(sql_column(&ra, "SELECT CAST(not_after AS TEXT) FROM certificates"), stored, "and its date is stored");
}
