//! The counter's API: operators sign in to the app with their console account, their
//! session ends as a console session does, and they arm their office's requests by
//! reference without the holder's code. openssl cmp, an independent client, then gets the
//! certificate with the secret of that arming.

use super::*;
use serde_json::{Value, json};
use tessera_testbed::ra::{Operator, RaServer};

const REQUESTS: &str = r#"
[[request]]
reference = "REQ-RM01"
activation_code = "RMRM-CODE-0001"
profile = "signature"
armed = false
mobile = "+393330001111"
office = "RM01"
holder = { given_name = "ANNA", surname = "VERDI", cf = "VRDNNA90E50L219L" }

[[request]]
reference = "REQ-MI02"
activation_code = "MIMI-CODE-0002"
profile = "signature"
office = "MI02"
holder = { given_name = "LUCA", surname = "BIANCHI", cf = "BNCLCU75C15F205O" }
"#;

fn call(ra: &RaServer, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    json_call(&format!("{}{path}", ra.url()), method, token, body)
}

fn sign_in(ra: &RaServer, name: &str, password: &str, code: &str) -> (u16, Value) {
    call(ra, "POST", "/api/v1/operator/session", None, Some(json!({"name": name, "password": password, "code": code})))
}

fn signed_in(ra: &RaServer, op: &Operator) -> String {
    let (status, body) = sign_in(ra, &op.name, &op.password, &op.code());
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

#[test]
fn operators_sign_in_to_the_app_and_their_session_ends_like_the_console_s() {
    let ra = RaServer::start(REQUESTS);
    // A new account has a one-time password: its own is chosen in the console first.
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-ra"))
        .args(["operator", "add", "--config"])
        .arg(ra.path("ra.toml"))
        .args(["--name", "nuovo.odr", "--office", "RM01", "--role", "operator", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = v["otpauth"].as_str().unwrap().split("secret=").nth(1).unwrap().split('&').next().unwrap();
    let new = console::Account {
        name: "nuovo.odr".into(),
        password: v["password"].as_str().unwrap().into(),
        secret: secret.into(),
    };
    let (status, body) = sign_in(&ra, &new.name, &new.password, &console::code(&new, 0));
    assert_eq!((status, body["code"].as_str()), (403, Some("password-change-required")), "{body}");

    let anna = ra.operator("anna.odr", "RM01");
    // Wrong password, wrong code: the same answer, not said which.
    for (password, code) in [("not her password", anna.unused_code()), (anna.password.as_str(), "000000".into())] {
        let (status, body) = sign_in(&ra, &anna.name, password, &code);
        assert_eq!((status, body["code"].as_str()), (401, Some("sign-in-refused")), "{body}");
    }
    let code = anna.code();
    let (status, session) = sign_in(&ra, &anna.name, &anna.password, &code);
    assert_eq!(status, 201, "{session}");
    assert_eq!((session["name"].as_str(), session["office"].as_str()), (Some("anna.odr"), Some("RM01")));
    assert_eq!(session["idle_seconds"], 15 * 60);
    let token = session["token"].as_str().unwrap().to_owned();
    // The same code again: refused, however right the password.
    let (status, body) = sign_in(&ra, &anna.name, &anna.password, &code);
    assert_eq!((status, body["code"].as_str()), (401, Some("sign-in-code-reused")), "{body}");

    let (status, body) = call(&ra, "GET", "/api/v1/operator/session", Some(&token), None);
    assert_eq!((status, body["name"].as_str()), (200, Some("anna.odr")), "{body}");
    assert!(body.get("token").is_none(), "the token is shown once: {body}");

    // Idle longer than the console allows: ended, and said so.
    let idle = |token: &str| {
        let digest = tessera_ra::store::hex(&<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()));
        console::sql_in(
            ra.state_dir(),
            &format!("UPDATE console_sessions SET last_seen = last_seen - 16 * 60 WHERE id_hash = '{digest}'"),
        );
    };
    idle(&token);
    let (status, body) = call(&ra, "GET", "/api/v1/operator/requests/REQ-RM01/counter", Some(&token), None);
    assert_eq!((status, body["code"].as_str()), (401, Some("operator-session-ended")), "{body}");
    let (status, body) = call(&ra, "GET", "/api/v1/operator/session", Some(&token), None);
    assert_eq!((status, body["code"].as_str()), (401, Some("operator-unauthenticated")), "{body}");

    // Signed out: the token is worth nothing.
    let bruno = ra.operator("bruno.odr", "RM01");
    let token = signed_in(&ra, &bruno);
    assert_eq!(call(&ra, "DELETE", "/api/v1/operator/session", Some(&token), None).0, 204);
    let (status, body) = call(&ra, "GET", "/api/v1/operator/requests/REQ-RM01/counter", Some(&token), None);
    assert_eq!((status, body["code"].as_str()), (401, Some("operator-unauthenticated")), "{body}");

    // The account disabled: its open sessions end at once.
    let carla = ra.operator("carla.odr", "RM01");
    let token = signed_in(&ra, &carla);
    assert_eq!(call(&ra, "GET", "/api/v1/operator/session", Some(&token), None).0, 200);
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-ra"))
        .args(["operator", "disable", "--config"])
        .arg(ra.path("ra.toml"))
        .args(["--name", "carla.odr"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let (status, body) = call(&ra, "GET", "/api/v1/operator/requests/REQ-RM01/counter", Some(&token), None);
    assert_eq!((status, body["code"].as_str()), (401, Some("operator-unauthenticated")), "{body}");
    let (status, body) = sign_in(&ra, &carla.name, &carla.password, &carla.unused_code());
    assert_eq!((status, body["code"].as_str()), (401, Some("sign-in-refused")), "{body}");
}

#[test]
fn the_counter_arms_the_office_s_request_by_reference_and_openssl_gets_its_certificate() {
    let ra = RaServer::start(REQUESTS);
    let anna = ra.operator("anna.odr", "RM01");
    let token = signed_in(&ra, &anna);
    // Another office's request does not exist for her; nor does a made-up one.
    for reference in ["REQ-MI02", "REQ-NONE"] {
        for method in ["GET", "POST"] {
            let path = format!("/api/v1/operator/requests/{reference}/counter");
            let (status, body) = call(&ra, method, &path, Some(&token), None);
            assert_eq!((status, body["code"].as_str()), (404, Some("unknown-request")), "{method} {reference}: {body}");
        }
    }
    // Whose request it is, before anything is armed.
    let (status, shown) = call(&ra, "GET", "/api/v1/operator/requests/REQ-RM01/counter", Some(&token), None);
    assert_eq!(status, 200, "{shown}");
    assert_eq!((shown["holder"]["surname"].as_str(), shown["office"].as_str()), (Some("VERDI"), Some("RM01")));
    assert!(shown.get("secret").is_none(), "{shown}");
    let (status, armed) = call(&ra, "POST", "/api/v1/operator/requests/REQ-RM01/counter", Some(&token), None);
    assert_eq!(status, 200, "{armed}");
    let secret = armed["secret"].as_str().unwrap().to_owned();
    assert_ne!(secret, "RMRM-CODE-0001");
    // The holder is told on their registered mobile, at once, by which office.
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    let told = outbox.lines().find(|l| l.contains("\tsms\t+393330001111\t")).expect("an SMS to the holder");
    assert!(told.contains("REQ-RM01") && told.contains("sportello dell'ufficio RM01"), "{told}");
    assert!(!outbox.contains(&secret), "never the counter's secret");
    // The blank card's PIN and PUK, to the operator who armed it, and to nobody else of
    // the office (they get the first halves on the handover sheet).
    let path = "/api/v1/operator/requests/REQ-RM01/personalisation";
    let (status, card) = call(&ra, "POST", path, Some(&token), None);
    assert_eq!(status, 200, "{card}");
    assert_eq!(card["pin"].as_str().map(str::len), Some(8), "{card}");
    let bruno = ra.operator("bruno.odr", "RM01");
    let bruno_token = signed_in(&ra, &bruno);
    let (status, body) = call(&ra, "POST", path, Some(&bruno_token), None);
    assert_eq!((status, body["code"].as_str()), (409, Some("personalisation-closed")), "{body}");

    // The holder's own code stays theirs: armed at home meanwhile (code, tax code, SMS),
    // the counter's secret still works, and so would theirs.
    let (status, found) = call(
        &ra,
        "POST",
        "/api/v1/activation",
        None,
        Some(json!({"activation_code": "RMRM-CODE-0001", "tax_code": "VRDNNA90E50L219L"})),
    );
    assert_eq!((status, found["armed"].as_bool()), (200, Some(false)), "an SMS, as for any holder: {found}");
    let otp = ra.otp("+393330001111").expect("the SMS");
    let body = json!({"otp": otp, "session": found["session"]});
    let (status, armed_home) = call(&ra, "POST", "/api/v1/activation/REQ-RM01/otp", None, Some(body));
    assert_eq!(status, 200, "{armed_home}");
    let (status, body) = call(&ra, "POST", path, Some(&bruno_token), None);
    assert_eq!((status, body["code"].as_str()), (409, Some("personalisation-closed")), "{body}");

    // openssl cmp with the reference and the counter's secret.
    let (key, cert) = (p256_key(ra.path("verdi.key")), ra.path("verdi.pem"));
    let o = Command::new("openssl")
        .args(["cmp", "-cmd", "ir", "-server", &ra.server, "-path", "/.well-known/cmp", "-ref", "REQ-RM01"])
        .arg("-secret")
        .arg(format!("pass:{secret}"))
        .arg("-newkey")
        .arg(&key)
        .args(["-subject", "/CN=x", "-unprotected_errors", "-certout"])
        .arg(&cert)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(x509(&cert, &["-subject"]).contains("VERDI"));
    // Issued: nothing more to arm, and no more card secrets.
    for (method, path) in [("POST", "/api/v1/operator/requests/REQ-RM01/counter"), ("POST", path)] {
        let (status, body) = call(&ra, method, path, Some(&token), None);
        assert_eq!((status, body["code"].as_str()), (409, Some("already-issued")), "{path}: {body}");
    }
    // The arming is in the audit log under her name, and no secret is.
    let (status, log) = call(&ra, "GET", "/api/v1/operator/audit?subject=REQ-RM01", Some(&token), None);
    assert_eq!(status, 200, "{log}");
    let entries = log.as_array().unwrap();
    let armed_by = entries
        .iter()
        .find(|e| e["action"] == "request-armed" && e["actor"] == "anna.odr")
        .expect("armed at the counter")
        .clone();
    assert!(armed_by["detail"].as_str().unwrap().contains("counter"), "{armed_by}");
    assert!(
        log.as_array().unwrap().iter().any(|e| e["action"] == "personalisation-released" && e["actor"] == "anna.odr")
    );
    assert!(!log.to_string().contains(&secret));
}

/// Wrong sign-ins sent at once count as many as sent one after another: an address gets
/// its ten tries (the failures' budget), the rest are refused before any password is
/// hashed, however they are timed.
#[test]
fn wrong_sign_ins_sent_at_once_are_held_to_the_address_s_budget() {
    let server = RaServer::start(REQUESTS);
    let ra = &server;
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let tries: Vec<_> =
            (0..16).map(|i| s.spawn(move || sign_in(ra, &format!("nobody{i}"), "not a password", "123456"))).collect();
        tries.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let refused = answers.iter().filter(|(_, b)| b["code"] == "sign-in-refused").count();
    let limited = answers.iter().filter(|(status, b)| *status == 429 && b["code"] == "rate-limited").count();
    assert_eq!(refused + limited, 16, "{answers:?}");
    assert!(refused <= 10, "{refused} tries evaluated: {answers:?}");
    let (status, body) = sign_in(ra, "nobody", "not a password", "123456");
    assert_eq!((status, body["code"].as_str()), (429, Some("rate-limited")), "{body}");
}
