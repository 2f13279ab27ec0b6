//! Offices: an operator of office A asks for every page and API route with office B's
//! objects and gets 404 each time, as if they did not exist.

use super::*;

#[test]
fn another_office_s_objects_do_not_exist_for_an_operator() {
    let ra = Ra::start();
    let bruno = account(&ra, "bruno.odr", "MI02", "operator", None);
    let anna = account(&ra, "anna.odr", "RM01", "supervisor", None);
    // Office B registers and identifies a request.
    let b = Browser::signed_in(&ra, &bruno, "en");
    b.go("/console/holders/new");
    b.form(
        "form[action=\"/console/holders\"]",
        &[
            ("surname", "BRAMBILLA"),
            ("given_name", "GIULIA"),
            ("sex", "F"),
            ("birth_date", "1979-07-03"),
            ("birth_place", "F205"),
            ("cf", "BRMGLI79L43F205N"),
            ("cf_forced", "on"),
            ("mobile", "+393339990000"),
            ("email", "giulia@example.org"),
            ("profile", "signature"),
        ],
    );
    let reference = b.path().strip_prefix("/console/requests/").unwrap().split('?').next().unwrap().to_owned();
    let (_, _, pdf) = b.fetch(&format!("/console/requests/{reference}/form.pdf"));
    let scan = ra.path("scan.pdf");
    std::fs::write(&scan, &pdf).unwrap();
    let scan = scan.display().to_string();
    b.form(
        &format!("form[action=\"/console/requests/{reference}/identify\"]"),
        &[
            ("doc_kind", "passport"),
            ("doc_number", "YA1234567"),
            ("doc_issuer", "Questura di Milano"),
            ("doc_issued", "2020-02-02"),
            ("doc_expires", "2030-02-02"),
            ("signed-form", &scan),
            ("id-front", &scan),
            ("id-back", &scan),
        ],
    );
    let document = b.s.js("return document.querySelector('a[href^=\"/console/documents/\"]').getAttribute('href')");
    let document = document.as_str().expect("a document").to_owned();
    let holder_id = "1";

    // Office A's supervisor, in the console.
    let a = b.another("en");
    a.first_sign_in(&anna);
    for path in [
        format!("/console/requests/{reference}"),
        format!("/console/requests/{reference}/form.pdf"),
        format!("/console/requests/{reference}/handover.pdf"),
        document.clone(),
    ] {
        assert_eq!(a.fetch(&path).0, 404, "{path}");
    }
    for (path, fields) in [
        (format!("/console/requests/{reference}/decision"), vec![("decision", "verified")]),
        (format!("/console/requests/{reference}/code"), vec![("delivery", "operator")]),
        (format!("/console/requests/{reference}/halves"), vec![("channel", "sms")]),
    ] {
        assert_eq!(a.post_form(&path, &fields), 404, "{path}");
    }
    let identify = format!("/console/requests/{reference}/identify");
    assert_eq!(a.post_multipart(&identify, &[("doc_kind", "passport")]), 404);
    a.go(&format!("/console/search?q={reference}"));
    assert!(!a.s.exists("main table"), "not found by search");
    let (_, _, csv) = a.fetch("/console/search.csv?q=BRAMBILLA");
    assert!(!String::from_utf8(csv).unwrap().contains("BRAMBILLA"));
    assert_eq!(a.post_form("/console/holders", &[("holder_id", holder_id), ("profile", "signature")]), 404);
    a.go(&format!("/console/holders/new?holder={holder_id}"));
    assert!(!a.s.source().contains("BRAMBILLA"), "another office's holder is not offered");
    a.go("/console/holders/new?identity=BRMGLI79L43F205N");
    assert!(!a.s.source().contains("BRAMBILLA"));

    // And through the JSON API with office A's account token.
    let token = a.new_token(&anna, "script");
    let call = |method: &str, path: &str, body: Option<Value>| {
        let req = ureq::request(method, &format!("http://{}{path}", ra.server))
            .set("Authorization", &format!("Bearer {token}"));
        let sent = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        match sent {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("{path}: {e}"),
        }
    };
    let body = || Some(serde_json::json!({"activation_code": "ABCD-EFGH-JKLM", "channel": "sms"}));
    assert_eq!(call("GET", &format!("/api/v1/operator/requests/{reference}"), None), 404);
    assert_eq!(call("GET", &format!("/api/v1/operator/requests/{reference}/handover"), None), 404);
    for action in ["arm", "halves", "code"] {
        assert_eq!(call("POST", &format!("/api/v1/operator/requests/{reference}/{action}"), body()), 404, "{action}");
    }
    assert_eq!(
        call("POST", "/api/v1/operator/requests", Some(serde_json::json!({"holder_id": 1, "profile": "signature"}))),
        404,
        "a request for another office's holder"
    );
    // Office B's own operator sees it all.
    assert_eq!(b.fetch(&format!("/console/requests/{reference}")).0, 200);
    assert_eq!(b.fetch(&document).0, 200);
}

/// A JSON call with an account's token: the status and the body.
fn with_token(ra: &Ra, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let req =
        ureq::request(method, &format!("http://{}{path}", ra.server)).set("Authorization", &format!("Bearer {token}"));
    let sent = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    match sent {
        Ok(r) => (r.status(), r.into_json().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or_default()),
        Err(e) => panic!("{path}: {e}"),
    }
}

#[test]
fn an_account_s_token_does_what_its_role_does_and_its_requests_follow_the_workflow() {
    let ra = Ra::start();
    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let vera = account(&ra, "vera.ca", "CA", "verifier", None);
    let b = Browser::signed_in(&ra, &anna, "en");
    let operator = b.new_token(&anna, "script");
    let v = b.another("en");
    v.first_sign_in(&vera);
    let verifier = v.new_token(&vera, "script");

    // A verifier's token registers nothing.
    let holder = serde_json::json!({"given_name": "LIA", "surname": "NERI", "cf": "NRELIA80A41H501Q",
        "mobile": "+393330004455"});
    let (status, refused) = with_token(&ra, &verifier, "POST", "/api/v1/operator/holders", Some(holder.clone()));
    assert_eq!(
        (status, refused["code"].as_str(), refused["params"]["role"].as_str()),
        (403, Some("role-refused"), Some("verifier"))
    );
    // An operator's: the request is registered, its code made only once identified.
    let (status, h) = with_token(&ra, &operator, "POST", "/api/v1/operator/holders", Some(holder));
    assert_eq!(status, 201, "{h}");
    let body = serde_json::json!({"holder_id": h["holder_id"], "profile": "signature"});
    let (status, r) = with_token(&ra, &operator, "POST", "/api/v1/operator/requests", Some(body));
    assert_eq!(status, 201, "{r}");
    assert!(r["activation_code"].is_null(), "{r}");
    let reference = r["reference"].as_str().unwrap().to_owned();
    let (status, refused) =
        with_token(&ra, &operator, "POST", &format!("/api/v1/operator/requests/{reference}/code"), None);
    assert_eq!((status, refused["code"].as_str()), (409, Some("not-identified")), "{refused}");
    b.go(&format!("/console/requests/{reference}"));
    assert!(b.text(".state").contains("Registered, to identify"), "{}", b.text(".state"));
    // Deciding a renewal is a supervisor's.
    let (status, refused) = with_token(&ra, &operator, "POST", "/api/v1/operator/certificates/0a0b/approve", None);
    assert_eq!((status, refused["code"].as_str()), (403, Some("role-refused")), "{refused}");
    let (status, _) = with_token(&ra, &operator, "POST", "/api/v1/operator/renewals/RNW-X/cancel", None);
    assert_eq!(status, 403);
}
