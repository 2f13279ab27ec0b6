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
        ("MARIO\u{2028}X", "ROSSI", "given_name", "separator-character"),
        ("MARIO", "ROS\u{2029}SI", "surname", "separator-character"),
        ("MARIO\u{E0041}", "ROSSI", "given_name", "format-character"),
        ("MARIO\u{3164}", "ROSSI", "given_name", "invisible-character"),
        ("MARIO\u{FFFF}", "ROSSI", "given_name", "unassigned-character"),
        ("MARIO\u{F8FF}", "ROSSI", "given_name", "private-use-character"),
        (&format!("MARIO{}", "\u{0301}".repeat(50)), "ROSSI", "given_name", "combining-marks"),
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

/// The subject of a PEM certificate as openssl prints it, with each value's string type.
fn subject_with_types(cert: &Path) -> String {
    x509(cert, &["-subject", "-nameopt", "multiline,show_type,utf8,-esc_msb"])
}

#[test]
fn a_forced_tax_code_keeps_the_tax_codes_shape_and_names_are_stored_composed() {
    let ra = Ra::start();
    let holder = |cf: &str, given: &str| {
        let body = serde_json::json!({"given_name": given, "surname": "ROSSI", "cf": cf, "cf_forced": true});
        operator_call(&ra, "POST", "/api/v1/operator/holders", Some(body))
    };
    // Forcing accepts a code whose check letter or data do not match, not anything.
    for (cf, position) in [("RSSMRA80*01H501U", 8), ("<script>alert(1)</script>", 0), ("RSSMRA80A01H501\r\nX", 15)] {
        let (status, body) = holder(cf, "MARIO");
        assert_eq!(
            (status, body["code"].as_str(), body["params"]["position"].as_str()),
            (422, Some("cf-malformed"), Some(position.to_string().as_str())),
            "{cf:?}: {body}"
        );
    }
    // A forced code of the tax code's shape (a check letter the register got wrong), and a
    // name typed with a combining accent.
    let (status, body) = holder("rssmra80a01h501x", "NICCOLO\u{0300}");
    assert_eq!(status, 201, "{body}");
    let holder_id = body["holder_id"].as_i64().unwrap();
    let (status, body) = operator_call(
        &ra,
        "POST",
        "/api/v1/operator/requests",
        Some(serde_json::json!({"holder_id": holder_id, "profile": "signature"})),
    );
    assert_eq!(status, 201, "{body}");
    let (reference, code) = (body["reference"].as_str().unwrap(), body["activation_code"].as_str().unwrap());
    let arm = format!("/api/v1/operator/requests/{reference}/arm");
    assert_eq!(operator_call(&ra, "POST", &arm, Some(serde_json::json!({ "activation_code": code }))).0, 200);
    let cert = ra.path("forced.pem");
    let out = ra.p10cr(reference, code, &ra.csr("forced"), &cert);
    assert!(out.status.success(), "{}", text(&out));
    let subject = subject_with_types(&cert);
    assert!(subject.contains("serialNumber              = PRINTABLESTRING:TINIT-RSSMRA80A01H501X"), "{subject}");
    assert!(subject.contains("countryName               = PRINTABLESTRING:IT"), "{subject}");
    assert!(subject.contains("givenName                 = UTF8STRING:NICCOLÒ\n"), "composed: {subject:?}");
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

#[test]
fn a_configuration_is_checked_without_starting_and_its_problems_are_named() {
    let check = |config: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_tessera-ra")).arg("--check-config").arg(config).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A running RA's configuration: ok, with what it describes.
    let ra = Ra::start();
    let (code, out, err) = check(&ra.path("ra.toml"));
    assert_eq!(code, Some(0), "{err}");
    for said in ["ra.toml: ok", "issuing CA key", "4 requests", "remote identification: off", "deprecated"] {
        assert!(out.contains(said), "{said}: {out}");
    }
    // A new one: nothing is made (no state directory, no CA, no database).
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ra.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:8080\"\n").unwrap();
    let (code, out, err) = check(&config);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("made at first start"), "{out}");
    assert!(!dir.path().join("tessera-ra").exists(), "nothing written");
    // Each problem named, with the file.
    let leaf = dir.path().join("leaf.pem");
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=not a CA", "-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(dir.path().join("leaf.key"))
        .arg("-out")
        .arg(&leaf)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    for (bad, says) in [
        ("listen = \"0.0.0.0:8443\"\n", "loopback only"),
        ("[ca]\nkey = \"/nonexistent/ca.key\"\n", "[ca]"),
        ("[console]\nremote_trust_anchors = \"leaf.pem\"\n", "not a CA certificate"),
        ("[console]\nremote_trust_anchors = \"none.pem\"\n", "none.pem"),
        ("certificate_policy = \"1.2.x\"\n", "not an object identifier"),
        (&format!("[tls]\ncertificate = \"{}\"\n", leaf.display()), "go together"),
        ("[console]\nidle_minutes = \"fifteen\"\n", "idle_minutes"),
    ] {
        std::fs::write(&config, bad).unwrap();
        let (code, out, err) = check(&config);
        assert_eq!(code, Some(2), "{bad}: {out}");
        assert!(err.contains(config.to_str().unwrap()) && err.contains(says), "{bad}: {err}");
        assert!(!dir.path().join("tessera-ra").exists(), "{bad}: nothing written");
    }
}
