//! The console on PostgreSQL (a private Debian server): every page's queries run there as
//! they do on SQLite (registration, identification with uploads, the code, search and CSV,
//! certificates, renewals, the audit view and its chain, wrong sign-ins counted).

use super::*;

#[test]
fn the_console_works_on_postgresql() {
    let pg = Postgres::start();
    let ra = Ra::start_with(1095, Some(&pg.url()));
    let anna = account(&ra, "anna.odr", "RM01", "supervisor", None);
    let b = Browser::signed_in(&ra, &anna, "en");
    b.go("/console/holders/new");
    b.form(
        "form[action=\"/console/holders\"]",
        &[
            ("surname", "D'ANGELO"),
            ("given_name", "NICCOLÒ"),
            ("sex", "M"),
            ("birth_date", "1985-03-12"),
            ("birth_place", "Roma"),
            ("cf", "DNGNCL85C12H501P"),
            ("mobile", "+393331112299"),
            ("email", "niccolo@example.org"),
            ("profile", "signature"),
        ],
    );
    let path = b.path();
    let reference = path.strip_prefix("/console/requests/").expect("registered").split('?').next().unwrap().to_owned();
    let (_, _, pdf) = b.fetch(&format!("/console/requests/{reference}/form.pdf"));
    std::fs::write(ra.path("scan.pdf"), &pdf).unwrap();
    let scan = ra.path("scan.pdf").display().to_string();
    b.form(
        &format!("form[action=\"/console/requests/{reference}/identify\"]"),
        &[
            ("doc_kind", "identity-card"),
            ("doc_number", "CA1"),
            ("doc_issuer", "Comune di Roma"),
            ("doc_issued", "2022-05-10"),
            ("doc_expires", "2032-05-10"),
            ("signed-form", &scan),
            ("id-front", &scan),
            ("id-back", &scan),
        ],
    );
    assert!(b.text(".state").contains("To verify"), "{}", b.s.source());
    b.click_and_wait(&format!("form[action=\"/console/requests/{reference}/code\"] button"));
    assert_eq!(b.text("#activation-code").len(), 14);
    for (page, expected) in [
        ("/console/search?q=d%27angelo&state=to-verify", reference.as_str()),
        ("/console/search?q=50%25_", "0 requests found"),
        ("/console/certificates?q=angelo", "0 certificates found"),
        ("/console/renewals?state=waiting", "0 renewal requests"),
        ("/console/audit?action=holder-&actor=anna.odr", "Holder identified"),
        ("/console/", "The office's work"),
    ] {
        b.go(page);
        assert!(b.text("main").contains(expected), "{page}: {}", b.text("main"));
    }
    let (status, _, csv) = b.fetch("/console/search.csv?q=NICCOL");
    assert_eq!(status, 200);
    assert!(String::from_utf8(csv).unwrap().contains(&reference));
    b.go("/console/audit");
    b.click_and_wait("form[action=\"/console/audit/verify\"] button");
    assert!(b.text(".notice").contains("The log holds"), "{}", b.s.source());
    let token = b.new_token(&anna, "script");
    assert!(token.starts_with("tra_"));
    // Wrong sign-ins are counted (an upsert) and make the name wait from here.
    let other = b.another("en");
    for _ in 0..5 {
        other.sign_in(&anna, "wrong password", "000000");
    }
    other.sign_in(&anna, "wrong password", "000000");
    assert!(other.text(".problem").contains("Too many wrong sign-ins"), "{}", other.text(".problem"));
}
