//! The audit view: an office's entries (its operators' and those on its objects, never
//! another office's), filters, the CSV, and the hash chain checked from the console and by
//! `tessera-ra audit verify` after a row is altered in the database.

use super::*;

#[test]
fn the_audit_view_shows_the_office_s_actions_exports_them_and_finds_an_altered_row() {
    let ra = Ra::start();
    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let luca = account(&ra, "luca.odr", "RM01", "supervisor", None);
    let bruno = account(&ra, "bruno.odr", "MI02", "supervisor", None);
    // Anna works: a token, a holder and a request through the API.
    let a = Browser::signed_in(&ra, &anna, "en");
    let token = a.new_token(&anna, "script");
    let call = |path: &str, body: Value| -> Value {
        ureq::post(&format!("http://{}{path}", ra.server))
            .set("Authorization", &format!("Bearer {token}"))
            .send_json(body)
            .unwrap()
            .into_json()
            .unwrap()
    };
    let h = call(
        "/api/v1/operator/holders",
        serde_json::json!({"given_name": "GIULIO", "surname": "CESARI",
        "cf": "CSRGLI70A01H501J", "mobile": "+393330009988"}),
    );
    let r = call("/api/v1/operator/requests", serde_json::json!({"holder_id": h["holder_id"], "profile": "signature"}));
    let reference = r["reference"].as_str().unwrap().to_owned();

    // The supervisor sees it all, filtered by operator, by action, by request.
    let s = a.another("en");
    s.first_sign_in(&luca);
    s.go("/console/audit");
    let table = s.text("main table");
    for seen in ["anna.odr", "Signed in", "API token created", "Holder registered", "Request registered", &reference] {
        assert!(table.contains(seen), "{seen} in {table}");
    }
    s.check_page();
    s.shot("audit");
    s.submit("form[action=\"/console/audit\"]", &[("actor", "anna.odr"), ("action", "request-")]);
    let rows = s.s.js("return [...document.querySelectorAll('main tbody tr')].map(r => r.textContent)");
    let rows: Vec<String> = serde_json::from_value(rows).unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r.contains("anna.odr") && r.contains("Request")), "{rows:?}");
    let (status, _, csv) = s.fetch(&format!("/console/audit.csv?q={reference}"));
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(status, 200);
    assert!(csv.starts_with("seq,at,actor,office,action,subject,detail,address\r\n"), "{csv}");
    assert!(csv.contains(&format!("\"anna.odr\",\"RM01\",\"request-created\",\"{reference}\"")), "{csv}");
    // Nothing secret in the log: not the token, not the code.
    let (_, _, all) = s.fetch("/console/audit.csv");
    let all = String::from_utf8(all).unwrap();
    assert!(!all.contains(&token), "{all}");
    assert!(r["activation_code"].is_null(), "an account's request gets its code at the console: {r}");

    // Another office sees none of it.
    let o = a.another("en");
    o.first_sign_in(&bruno);
    o.go(&format!("/console/audit?q={reference}"));
    assert!(!o.s.exists("main table"), "{}", o.s.source());
    o.go("/console/audit?actor=anna.odr");
    assert!(!o.s.exists("main table"));

    // The chain holds; a row altered in the database is found, here and by the command.
    s.go("/console/audit");
    s.click_and_wait("form[action=\"/console/audit/verify\"] button");
    assert!(s.text(".notice").contains("The log holds"), "{}", s.s.source());
    sql(&ra, "UPDATE audit SET detail = 'cns+signature' WHERE action = 'request-created'");
    s.go("/console/audit");
    s.click_and_wait("form[action=\"/console/audit/verify\"] button");
    assert!(s.text(".problem").contains("was altered at entry"), "{}", s.s.source());
    s.check_page();
    s.shot("audit-broken");
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-ra"))
        .args(["audit", "verify", "--config"])
        .arg(ra.path("ra.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success() && text(&out).contains("altered"), "{}", text(&out));
    // An operator does not check the chain.
    assert!(!a.s.exists("form[action=\"/console/audit/verify\"]"));
    assert_eq!(a.post_form("/console/audit/verify", &[]), 403);
}
