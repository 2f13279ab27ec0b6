//! API hygiene: refusals are `{code, params}` JSON, authentication comes before the body
//! is read, and CMP is application/pkixcmp only.

use super::exactly_once::post_cmp;
use super::*;

/// POST raw bytes to a JSON API path; the status and the JSON answer.
fn post_raw(ra: &Ra, path: &str, token: Option<&str>, content_type: &str, body: &str) -> (u16, serde_json::Value) {
    let mut req = ureq::post(&format!("http://{}{path}", ra.server)).set("Content-Type", content_type);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.send_string(body) {
        Ok(r) => (r.status(), r.into_json().expect("a JSON answer")),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().expect("a JSON refusal")),
        Err(e) => panic!("{path}: {e}"),
    }
}

#[test]
fn malformed_bodies_get_json_refusals_and_a_bad_token_is_refused_before_the_body_is_read() {
    let ra = Ra::start();
    let holders = "/api/v1/operator/holders";
    let json = "application/json";
    // A wrong token with a broken body: 401, not a parse error.
    let (status, body) = post_raw(&ra, holders, Some("not-a-token"), json, "{");
    assert_eq!((status, body["code"].as_str()), (401, Some("operator-unauthenticated")), "{body}");
    let (status, body) = post_raw(&ra, holders, None, json, "{");
    assert_eq!(status, 401, "{body}");
    // Signed in: the body's fault, as {code, params}.
    let (status, body) = post_raw(&ra, holders, Some(OPERATOR_TOKEN), json, "{");
    assert_eq!((status, body["code"].as_str()), (400, Some("malformed-json")), "{body}");
    assert!(body["params"]["reason"].as_str().is_some_and(|r| !r.is_empty()), "{body}");
    let (status, body) = post_raw(&ra, holders, Some(OPERATOR_TOKEN), json, r#"{"given_name": 7}"#);
    assert_eq!((status, body["code"].as_str()), (422, Some("json-fields")), "{body}");
    let (status, body) = post_raw(&ra, holders, Some(OPERATOR_TOKEN), "text/plain", "{}");
    assert_eq!((status, body["code"].as_str()), (415, Some("json-content-type")), "{body}");
    // The holder API too.
    let (status, body) = post_raw(&ra, "/api/v1/activation", None, json, "{\"activation_code\": ");
    assert_eq!((status, body["code"].as_str()), (400, Some("malformed-json")), "{body}");
}

#[test]
fn cmp_messages_are_application_pkixcmp_only() {
    let ra = Ra::start();
    ra.csr("mario");
    // A valid p10cr, captured without reaching the RA.
    let out = Command::new("openssl")
        .current_dir(ra.dir.path())
        .args(["cmp", "-cmd", "p10cr", "-server", "127.0.0.1:1", "-path", "/.well-known/cmp", "-ref", "REQ-0001"])
        .args(["-secret", "pass:ABCD-EFGH-JKLM", "-csr", "mario.csr", "-reqout", "p10cr.der"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let p10cr = std::fs::read(ra.path("p10cr.der")).unwrap();
    for media in ["text/plain", "application/octet-stream", ""] {
        let (status, _) = post_cmp(&ra, &p10cr, media);
        assert_eq!(status, 415, "{media}");
    }
    let (status, body) = operator_call(&ra, "GET", "/api/v1/operator/requests/REQ-0001", None);
    assert_eq!((status, body["certificates"].as_array().map(|c| c.len())), (200, Some(0)), "nothing issued");
    let (status, _) = post_cmp(&ra, &p10cr, "application/pkixcmp; charset=binary");
    assert_eq!(status, 200);
}

#[test]
fn subject_fields_are_checked_when_a_holder_is_registered() {
    let ra = Ra::start();
    let register = |given: &str, surname: &str| {
        let body = serde_json::json!({"given_name": given, "surname": surname, "cf": "RSSMRA80A01H501U"});
        operator_call(&ra, "POST", "/api/v1/operator/holders", Some(body))
    };
    for (given, surname, field, reason) in [
        ("MARIO\u{0}", "ROSSI", "given_name", "control-character"),
        ("MARIO", "ROSSI\r\nCN=ADMIN", "surname", "control-character"),
        ("MARIO", "\u{202E}ISSOR", "surname", "format-character"),
        (&"M".repeat(100_000), "ROSSI", "given_name", "too-long"),
    ] {
        let (status, body) = register(given, surname);
        assert_eq!(status, 422, "{body}");
        assert_eq!(
            (body["code"].as_str(), body["params"]["field"].as_str(), body["params"]["reason"].as_str()),
            (Some("subject-field-refused"), Some(field), Some(reason))
        );
    }
    assert_eq!(register("MARIO", "ROSSI").0, 201);
}

#[test]
fn a_misspelt_key_or_value_in_the_configuration_stops_the_ra_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, says) in [
        ("profile = \"signatur\"", "unknown variant `signatur`"),
        ("profiel = \"signature\"", "unknown field `profiel`"),
        (
            "profile = \"signature\"\nholder = { given_name = \"MA\\u0000RIO\", surname = \"ROSSI\", cf = \"X\" }",
            "control-character",
        ),
    ] {
        let holder = if bad.contains("holder") {
            ""
        } else {
            "holder = { given_name = \"MARIO\", surname = \"ROSSI\", cf = \"RSSMRA80A01H501U\" }\n"
        };
        let config = dir.path().join("ra.toml");
        std::fs::write(
            &config,
            format!("listen = \"127.0.0.1:0\"\n[[request]]\nreference = \"REQ-1\"\nactivation_code = \"ABCD-EFGH-JKLM\"\n{bad}\n{holder}"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_tessera-ra")).arg("--config").arg(&config).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(config.to_str().unwrap()) && err.contains(says), "{bad}: {err}");
    }
}
