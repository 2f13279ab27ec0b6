//! The operator API and the OpenAPI document.

use super::*;

#[test]
fn operators_register_holders_create_requests_arm_them_and_manage_certificates() {
    let ra = Ra::start();
    // Without a token: nothing.
    let (status, body) = post(&ra, "/api/v1/operator/holders", serde_json::json!({"given_name": "X", "surname": "Y"}));
    assert_eq!((status, body["code"].as_str()), (401, Some("operator-unauthenticated")));
    // The scheme is case-insensitive; the token is not, and another scheme is not a token.
    let url = format!("http://{}/api/v1/operator/requests", ra.server);
    for (header, status) in [
        (format!("bearer {OPERATOR_TOKEN}"), 200),
        (format!("BEARER {OPERATOR_TOKEN}"), 200),
        (format!("Bearer {}", OPERATOR_TOKEN.to_uppercase()), 401),
        (format!("Basic {OPERATOR_TOKEN}"), 401),
        (format!("Bearer{OPERATOR_TOKEN}"), 401),
    ] {
        let got = match ureq::get(&url).set("Authorization", &header).call() {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(got, status, "{header}");
    }
    // Tax code with a wrong check letter: the right one is suggested; forcing is explicit.
    let wrong = serde_json::json!({"given_name": "MARIO", "surname": "ROSSI", "cf": "RSSMRA80A01H501X", "mobile": "+393330000001"});
    let (status, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(wrong.clone()));
    assert_eq!(
        (status, body["code"].as_str(), body["params"]["expected"].as_str()),
        (422, Some("cf-check-letter"), Some("U"))
    );
    let mut forced = wrong.clone();
    forced["cf_forced"] = serde_json::json!(true);
    forced["mobile"] = serde_json::json!("+39 333 000 0002");
    let (status, _) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(forced));
    assert_eq!(status, 201);
    let right = serde_json::json!({"given_name": "MARIO", "surname": "ROSSI", "cf": "rssmra80a01h501u", "mobile": "+393330000001"});
    let (status, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(right.clone()));
    assert_eq!(status, 201);
    let holder = body["holder_id"].as_i64().unwrap();
    // OTPs go to the mobile: one registered to another person is refused (however it is
    // written); the same person registered again is not.
    let other = serde_json::json!({"given_name": "LUCA", "surname": "BIANCHI", "cf": "BNCLCU75C15F205O", "mobile": "+39 3330000001"});
    let (status, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(other));
    assert_eq!(
        (status, body["code"].as_str(), body["params"]["contact"].as_str()),
        (409, Some("contact-of-another-holder"), Some("mobile"))
    );
    assert_eq!(operator_call(&ra, "POST", "/api/v1/operator/holders", Some(right)).0, 201);
    // A passport holder gets the signature profile only.
    let passport = serde_json::json!({"given_name": "JOHN", "surname": "SMITH", "passport": "YA1234567", "passport_country": "US"});
    let (_, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(passport));
    let foreign = body["holder_id"].as_i64().unwrap();
    let (status, body) = operator_call(
        &ra,
        "POST",
        "/api/v1/operator/requests",
        Some(serde_json::json!({"holder_id": foreign, "profile": "cns-authentication"})),
    );
    assert_eq!((status, body["code"].as_str()), (422, Some("profile-needs-cf")));

    // A request: its activation code is shown once, in a readable form.
    let (status, body) = operator_call(
        &ra,
        "POST",
        "/api/v1/operator/requests",
        Some(serde_json::json!({"holder_id": holder, "profile": "signature"})),
    );
    assert_eq!(status, 201, "{body}");
    let reference = body["reference"].as_str().unwrap().to_owned();
    let code = body["activation_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 14);
    assert!(code.chars().all(|c| c == '-' || "ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(c)), "{code}");
    let (_, rows) = operator_call(&ra, "GET", "/api/v1/operator/requests?q=rossi", None);
    let row = rows.as_array().unwrap().iter().find(|r| r["reference"] == reference.as_str()).expect("listed");
    assert_eq!((row["armed"].as_bool(), row["issuance"].as_str()), (Some(false), Some("waiting")));
    assert!(!rows.to_string().contains(&code), "the activation code is not listed");

    // At the counter: the operator types the code the holder brought (as the holder reads
    // it out), no OTP; then CMP enrolls with the code in its canonical form.
    let arm = format!("/api/v1/operator/requests/{reference}/arm");
    let (status, body) =
        operator_call(&ra, "POST", &arm, Some(serde_json::json!({"activation_code": "AAAA-BBBB-CCCC"})));
    assert_eq!((status, body["code"].as_str()), (403, Some("activation-refused")), "{body}");
    let typed = code.replace('-', " ").to_lowercase();
    let (status, body) = operator_call(&ra, "POST", &arm, Some(serde_json::json!({ "activation_code": typed })));
    assert_eq!(status, 200, "{body}");
    let cert = ra.path("counter.pem");
    let out = ra.p10cr(&reference, &code, &ra.csr("counter"), &cert);
    assert!(out.status.success(), "{}", text(&out));
    let serial = x509(&cert, &["-serial"]).trim().trim_start_matches("serial=").to_lowercase();

    // Suspend, reactivate, revoke; revoked is final.
    let path = |action: &str| format!("/api/v1/operator/certificates/{serial}/{action}");
    assert_eq!(operator_call(&ra, "POST", &path("reactivate"), None).1["code"], "lifecycle-not-allowed");
    assert_eq!(operator_call(&ra, "POST", &path("suspend"), None).0, 200);
    assert_eq!(operator_call(&ra, "POST", &path("reactivate"), None).0, 200);
    // A reason an office may not give, an invalidity date without a key compromise or
    // in the future: refused, nothing changed.
    let refused = |body: serde_json::Value| operator_call(&ra, "POST", &path("revoke"), Some(body));
    let (status, body) = refused(serde_json::json!({"reason": 2}));
    assert_eq!(
        (status, body["code"].as_str(), body["params"]["reason"].as_str()),
        (422, Some("revocation-reason-refused"), Some("2"))
    );
    let (status, body) = refused(serde_json::json!({"reason": 4, "invalidity_date": "2026-01-01T00:00:00Z"}));
    assert_eq!((status, body["code"].as_str()), (422, Some("invalidity-date-refused")));
    let (status, body) = refused(serde_json::json!({"reason": 1, "invalidity_date": "2099-01-01T00:00:00Z"}));
    assert_eq!((status, body["code"].as_str()), (422, Some("invalidity-date-refused")));
    assert_eq!(operator_call(&ra, "POST", &path("suspend"), None).0, 200, "still active");
    assert_eq!(operator_call(&ra, "POST", &path("revoke"), Some(serde_json::json!({"reason": 4}))).0, 200);
    assert_eq!(operator_call(&ra, "POST", &path("reactivate"), None).1["code"], "certificate-revoked");
}

#[test]
fn the_openapi_document_describes_every_route_served() {
    let ra = Ra::start();
    let doc: serde_json::Value =
        ureq::get(&format!("http://{}/openapi.json", ra.server)).call().unwrap().into_json().unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    let documented: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    let main = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/app.rs")).unwrap();
    let served: Vec<&str> = main.match_indices(".route(").map(|(i, _)| main[i..].split('"').nth(1).unwrap()).collect();
    assert!(!served.is_empty());
    for route in served {
        // A catch-all segment ({*name}, slashes included) is a path parameter in OpenAPI.
        let route = route.replace("{*", "{");
        assert!(documented.contains(&route.as_str()), "{route} is served but not documented");
    }
}

#[test]
fn activation_codes_go_to_the_holder_by_email_and_operators_replace_lost_or_locked_ones() {
    let (port, provider) = one_shot_provider();
    let ra = with_gateway(Ra::start(), &format!("email_webhook = \"http://127.0.0.1:{port}/mail\""));
    let holder = |body: serde_json::Value| {
        let (status, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(body));
        assert_eq!(status, 201, "{body}");
        body["holder_id"].as_i64().unwrap()
    };
    let anna = holder(serde_json::json!({"given_name": "ANNA", "surname": "VERDI", "cf": "VRDNNA90E50L219L",
        "mobile": "+393330000009", "email": "anna.verdi@example.org"}));
    let luca = holder(serde_json::json!({"given_name": "LUCA", "surname": "BIANCHI", "cf": "BNCLCU75C15F205O"}));
    let create = |holder: i64| {
        operator_call(
            &ra,
            "POST",
            "/api/v1/operator/requests",
            Some(serde_json::json!({"holder_id": holder, "profile": "signature", "code_delivery": "email"})),
        )
    };
    let (status, body) = create(luca);
    assert_eq!((status, body["code"].as_str()), (409, Some("no-email")), "{body}");

    // By e-mail: the operator never sees the code.
    let (status, body) = create(anna);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["sent_to"], "a***@example.org");
    assert!(body.get("activation_code").is_none(), "{body}");
    let reference = body["reference"].as_str().unwrap().to_owned();
    let mail = provider.join().unwrap();
    assert!(mail.starts_with("POST /mail"), "{mail}");
    assert!(mail.contains("\"to\":\"anna.verdi@example.org\"") && mail.contains("\"subject\""), "{mail}");
    assert!(mail.contains(&reference), "{mail}");
    let code = code_in(&mail).expect("the code in the e-mail");
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    assert!(outbox.lines().any(|l| l.contains("\temail\tanna.verdi@example.org\t") && l.contains(&code)));
    for (path, bytes) in state_files(&ra).iter().filter(|(p, _)| !p.ends_with("outbox.log")) {
        assert!(!bytes.windows(code.len()).any(|w| w == code.as_bytes()), "the code in {}", path.display());
    }

    // The holder gets the tax code wrong five times: locked.
    let start = |code: &str, cf: &str| start_activation(&ra, code, cf);
    for _ in 0..5 {
        start(&code, "XXXXXX00X00X000X");
    }
    assert_eq!(start(&code, "VRDNNA90E50L219L").0, 423);
    // The operator replaces the code (handed over this time): unlocked, the old code dead.
    let (status, body) = operator_call(&ra, "POST", &format!("/api/v1/operator/requests/{reference}/code"), None);
    assert_eq!(status, 200, "{body}");
    let new_code = body["activation_code"].as_str().unwrap().to_owned();
    assert_ne!(new_code, code);
    assert_eq!(start(&code, "VRDNNA90E50L219L").1["code"], "activation-refused");
    let (status, body) = start(&new_code, "VRDNNA90E50L219L");
    assert_eq!(status, 200, "{body}");
    let otp = otp_for(&ra, "+393330000009");
    let (status, body) = post(&ra, &format!("/api/v1/activation/{reference}/otp"), serde_json::json!({ "otp": otp }));
    assert_eq!(status, 200, "{body}");
    let out = ra.p10cr(&reference, &new_code, &ra.csr("anna"), &ra.path("anna.pem"));
    assert!(out.status.success(), "{}", text(&out));
    // Issued: no more codes for this request.
    let (status, body) = operator_call(&ra, "POST", &format!("/api/v1/operator/requests/{reference}/code"), None);
    assert_eq!((status, body["code"].as_str()), (409, Some("already-issued")), "{body}");
    // The audit log tells who did what, newest first, and holds no code or OTP.
    let (status, log) = operator_call(&ra, "GET", &format!("/api/v1/operator/audit?subject={reference}"), None);
    assert_eq!(status, 200);
    let seen: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    for step in [
        ("odr-test", "request-created"),
        ("odr-test", "activation-code-emailed"),
        ("holder", "activation-refused"),
        ("odr-test", "activation-code-replaced"),
        ("holder", "otp-sent"),
        ("holder", "request-armed"),
        ("cmp", "certificate-issued"),
        ("cmp", "certificate-confirmed"),
    ] {
        assert!(seen.contains(&step), "{step:?} not in {seen:?}");
    }
    let text = log.to_string();
    assert!(!text.contains(&code) && !text.contains(&new_code) && !text.contains(&otp), "{text}");
}

/// openapi.json is written by hand: this checks it against the typed contract. Every
/// refusal a route documents has the status the contract gives it, every refusal is
/// documented somewhere, and each schema has exactly the fields of its wire type.
#[test]
fn the_openapi_document_matches_the_typed_contract() {
    use tessera_protocol::refusal::Refusal;
    use tessera_protocol::workflow::{activation, operator as op};
    let doc: serde_json::Value =
        serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"))).unwrap();
    let codes: std::collections::BTreeMap<&str, u16> = Refusal::CODES.iter().copied().collect();
    let mut documented = std::collections::BTreeSet::new();
    let problem = doc["components"]["schemas"]["Problem"]["description"].as_str().unwrap_or_default().to_owned();
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            .filter(|w| codes.contains_key(w))
            .map(str::to_owned)
            .collect()
    };
    documented.extend(words(&problem));
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for (status, answer) in op["responses"].as_object().unwrap() {
                for code in words(answer["description"].as_str().unwrap_or_default()) {
                    assert_eq!(status, &codes[code.as_str()].to_string(), "{method} {path}: {code}");
                    documented.insert(code);
                }
            }
        }
    }
    let undocumented: Vec<_> = codes.keys().filter(|c| !documented.contains(**c)).collect();
    assert!(undocumented.is_empty(), "refusals openapi.json does not name: {undocumented:?}");
    // Each schema's fields are its wire type's, as it serialises with every field present.
    let fields = |v: serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let schema = |name: &str| -> Vec<String> {
        let mut f: Vec<String> =
            doc["components"]["schemas"][name]["properties"].as_object().unwrap().keys().cloned().collect();
        f.sort();
        f
    };
    let name = || tessera_protocol::workflow::HolderName { given_name: "A".into(), surname: "B".into() };
    let samples = [
        (
            "Found",
            serde_json::to_value(activation::Found {
                reference: "R".into(),
                holder: name(),
                profile: "signature".into(),
                armed: false,
                mobile: Some("m".into()),
                otp_expires_in: Some(1),
                resend_after: Some(1),
                session: Some("s".into()),
            }),
        ),
        ("Holder", serde_json::to_value(op::NewHolder::default())),
        ("SubjectExtras", serde_json::to_value(op::SubjectExtras::default())),
        (
            "CodeHandedOver",
            serde_json::to_value(op::CodeHandedOver {
                reference: "R".into(),
                activation_code: Some(zeroize::Zeroizing::new("C".into())),
                sent_to: Some("t".into()),
            }),
        ),
        (
            "AuditEntry",
            serde_json::to_value(op::AuditEntry {
                at: 0,
                actor: "a".into(),
                action: "a".into(),
                subject: "s".into(),
                detail: "d".into(),
            }),
        ),
        (
            "RequestRow",
            serde_json::to_value(op::RequestRow {
                reference: "R".into(),
                holder: "H".into(),
                cf: "C".into(),
                profile: "signature".into(),
                issuance: "waiting".into(),
                armed: false,
                locked: false,
                certificates: 0,
            }),
        ),
        (
            "CertificateRow",
            serde_json::to_value(op::CertificateRow {
                serial: "0A".into(),
                issued_at: 0,
                not_before: "t".into(),
                not_after: "t".into(),
                state: "active".into(),
                state_since: None,
                reason: None,
                approval: None,
                approval_due: None,
                confirmed: true,
                replaces: None,
            }),
        ),
        (
            "OperatorSession",
            serde_json::to_value(tessera_protocol::workflow::counter::OperatorSession {
                token: Some(zeroize::Zeroizing::new("T".into())),
                name: "n".into(),
                office: "o".into(),
                role: "operator".into(),
                idle_seconds: 1,
                expires_in: 1,
            }),
        ),
        (
            "CounterRequest",
            serde_json::to_value(tessera_protocol::workflow::counter::CounterRequest {
                reference: "R".into(),
                holder: name(),
                profile: "signature".into(),
                office: "o".into(),
                secret: Some(zeroize::Zeroizing::new("S".into())),
            }),
        ),
        ("Problem", serde_json::to_value(Refusal::RateLimited { retry_after: 1 }.problem())),
    ];
    for (schema_name, value) in samples {
        let mut f = fields(value.unwrap());
        f.sort();
        assert_eq!(f, schema(schema_name), "{schema_name}");
    }
    // And the enumerations.
    let variants = |name: &str| doc["components"]["schemas"][name]["enum"].clone();
    let profiles: Vec<_> = op::Profile::ALL.iter().map(|p| serde_json::to_value(p).unwrap()).collect();
    assert_eq!(variants("Profile"), serde_json::Value::from(profiles));
    let deliveries: Vec<_> = [op::CodeDelivery::Operator, op::CodeDelivery::Email]
        .iter()
        .map(|d| serde_json::to_value(d).unwrap())
        .collect();
    assert_eq!(variants("CodeDelivery"), serde_json::Value::from(deliveries));
}
