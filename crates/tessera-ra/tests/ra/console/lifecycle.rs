//! Suspension, reinstatement and revocation from the console, with the requester's
//! document and the signed form; the CRL (read by openssl, linted by pkilint) and
//! `openssl ocsp` show each change at once.

use super::*;

/// A certificate of office RM01: the holder and request made through the operator API
/// (the configuration's token, so that the code comes at once), given to the office, the
/// card's key by openssl, issued over CMP.
fn issued(ra: &Ra) -> (String, String) {
    let (status, h) = operator_call(
        ra,
        "POST",
        "/api/v1/operator/holders",
        Some(serde_json::json!({"given_name": "ELENA", "surname": "FABBRÌ", "cf": "FBBLNE70A41H501N",
            "mobile": "+393330001122", "email": "elena@example.org"})),
    );
    assert_eq!(status, 201, "{h}");
    let body = serde_json::json!({"holder_id": h["holder_id"], "profile": "signature"});
    let (status, r) = operator_call(ra, "POST", "/api/v1/operator/requests", Some(body));
    assert_eq!(status, 201, "{r}");
    let (reference, code) =
        (r["reference"].as_str().unwrap().to_owned(), r["activation_code"].as_str().unwrap().to_owned());
    sql(ra, &format!("UPDATE requests SET office = 'RM01' WHERE reference = '{reference}'"));
    sql(ra, "UPDATE holders SET office = 'RM01'");
    let arm = format!("/api/v1/operator/requests/{reference}/arm");
    assert_eq!(operator_call(ra, "POST", &arm, Some(serde_json::json!({"activation_code": code}))).0, 200);
    let out = ra.p10cr(&reference, &code, &ra.csr("elena"), &ra.path("elena.pem"));
    assert!(out.status.success(), "{}", text(&out));
    let (_, detail) = operator_call(ra, "GET", &format!("/api/v1/operator/requests/{reference}"), None);
    (reference, detail["certificates"][0]["serial"].as_str().expect("its certificate").to_owned())
}

/// What `openssl ocsp` says of the certificate.
fn ocsp(ra: &Ra) -> String {
    let url = x509(&ra.path("elena.pem"), &["-ocsp_uri"]).trim().to_owned();
    let out = Command::new("openssl")
        .current_dir(ra.dir.path())
        .args(["ocsp", "-issuer", "issuing.pem", "-CAfile", "ca.pem", "-url", &url, "-cert", "elena.pem"])
        .args(["-resp_text", "-respout", "ocsp.der"])
        .output()
        .unwrap();
    text(&out)
}

#[test]
fn a_certificate_is_suspended_then_revoked_with_the_requester_s_document_and_the_crl_and_ocsp_say_so() {
    let ra = Ra::start();
    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let bruno = account(&ra, "bruno.odr", "MI02", "operator", None);
    let b = Browser::signed_in(&ra, &anna, "it");
    let (reference, serial) = issued(&ra);
    // As openssl prints it (the CRL's text).
    let printed = x509(&ra.path("elena.pem"), &["-serial"]).trim().trim_start_matches("serial=").to_lowercase();
    let [issuing, _] = crate::certificates::split_chain(&ra);
    std::fs::write(ra.path("issuing.pem"), pem::encode(&pem::Pem::new("CERTIFICATE", issuing))).unwrap();
    assert!(ocsp(&ra).contains("elena.pem: good"));

    // Found by part of the name, the tax code or the serial.
    for q in ["fabbr", "FBBLNE70", &serial[..8]] {
        b.go(&format!("/console/certificates?q={q}"));
        assert!(b.text("main table").contains(&reference), "{q}");
    }
    b.check_page();
    b.shot("certificates");
    b.click_and_wait(&format!("a[href=\"/console/certificates/{serial}\"]"));
    assert!(b.text(".state").contains("Valido"));
    b.check_page();

    // Asked without the paper: each missing piece said next to its field.
    let change = format!("form[action=\"/console/certificates/{serial}/change\"]");
    b.form(&change, &[("action", "suspend")]);
    for field in ["doc_kind", "doc_number", "doc_issued", "lifecycle-form", "requester-id"] {
        assert!(b.s.exists(&format!("#e-{field}")), "{field}: {}", b.s.source());
    }
    b.check_page();
    b.shot("certificate-refused");

    // The form for the change, filled in with what was typed.
    let document = [
        ("doc_kind", "identity-card"),
        ("doc_number", "CA99887TT"),
        ("doc_issuer", "Comune di Bologna"),
        ("doc_issued", "2021-09-01"),
        ("doc_expires", "2031-09-01"),
    ];
    let mut asked = vec![("action", "suspend"), ("requester", "holder")];
    asked.extend(document);
    let (status, pdf) = b.post_multipart_bytes(&format!("/console/certificates/{serial}/form.pdf"), &asked);
    assert_eq!(status, 200);
    let words = pdf_text(&pdf);
    for expected in ["Sospensione", "FABBRÌ ELENA", "FBBLNE70A41H501N", "CA99887TT", &serial] {
        assert!(words.contains(expected), "{expected} in {words}");
    }
    pdf_page(&pdf, "console-lifecycle-pdf");
    std::fs::write(ra.path("sospensione firmata.pdf"), &pdf).unwrap();
    let signed = ra.path("sospensione firmata.pdf").display().to_string();

    // Suspended: the CRL lists it on hold, OCSP says so.
    let mut fields = asked.clone();
    fields.extend([("lifecycle-form", signed.as_str()), ("requester-id", signed.as_str())]);
    b.form(&change, &fields);
    assert!(b.text(".notice").contains("sospeso"), "{}", b.s.source());
    assert!(b.text(".state").contains("Sospeso"));
    assert_eq!(b.s.js("return document.querySelectorAll('a[href^=\"/console/documents/\"]').length"), 2);
    assert!(b.text("section[aria-labelledby=events]").contains("CA99887TT"), "the requester's document in the events");
    let crl = crl_serials(&ra);
    assert!(crl.contains(&printed) && crl.contains("certificate hold"), "{crl}");
    let held = ocsp(&ra);
    assert!(held.contains("elena.pem: revoked") && held.contains("Reason: certificateHold"), "{held}");

    // Revoked for a key compromise since a day in the future: refused; since today: the
    // CRL carries the reason and the invalidity date, OCSP too.
    let today = time::OffsetDateTime::now_utc().date();
    let tomorrow = (today + time::Duration::days(1)).to_string();
    let mut fields =
        vec![("action", "revoke"), ("reason", "1"), ("invalidity_date", tomorrow.as_str()), ("requester", "holder")];
    fields.extend(document);
    fields.extend([("lifecycle-form", signed.as_str()), ("requester-id", signed.as_str())]);
    b.form(&change, &fields);
    assert!(b.s.exists("#e-invalidity_date"), "a compromise in the future");
    let today = today.to_string();
    fields[2] = ("invalidity_date", today.as_str());
    b.form(&change, &fields);
    assert!(b.text(".notice").contains("revocato"), "{}", b.s.source());
    assert!(!b.s.exists(&change), "revoked is final: no change offered");
    b.check_page();
    b.shot("certificate");
    let crl = crl_serials(&ra);
    assert!(crl.contains(&printed) && crl.contains("key compromise") && crl.contains("invalidity date"), "{crl}");
    let findings = crate::certificates::lint(&["lint_crl", "-t", "CRL", "-p", "PKIX"], &ra.path("crl.der"));
    assert!(findings.iter().all(|(s, _)| s != "FATAL" && s != "ERROR"), "{findings:?}");
    let revoked = ocsp(&ra);
    assert!(revoked.contains("Reason: keyCompromise") && revoked.contains("Invalidity Date"), "{revoked}");
    let findings = crate::certificates::lint(&["lint_ocsp_response"], &ra.path("ocsp.der"));
    assert!(findings.iter().all(|(s, _)| s != "FATAL" && s != "ERROR"), "{findings:?}");

    // Another office: it does not exist.
    let other = b.another("it");
    other.first_sign_in(&bruno);
    assert_eq!(other.fetch(&format!("/console/certificates/{serial}")).0, 404);
    assert_eq!(
        other.post_multipart(&format!("/console/certificates/{serial}/change"), &[("action", "reactivate")]),
        404
    );
    assert_eq!(other.post_multipart(&format!("/console/certificates/{serial}/form.pdf"), &[("action", "revoke")]), 404);
    other.go("/console/certificates?q=FABBR");
    assert!(!other.s.exists("main table"));
}
