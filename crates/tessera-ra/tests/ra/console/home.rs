//! The home page: the office's counts, and the CA's notices its verifiers publish to
//! every office (shown as text, withdrawn at will).

use super::*;

#[test]
fn the_ca_s_notices_reach_every_office_s_home_page_until_withdrawn() {
    let ra = Ra::start();
    let vera = account(&ra, "vera.ca", "CA", "verifier", None);
    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let v = Browser::signed_in(&ra, &vera, "it");
    v.go("/console/notices");
    v.check_page();
    v.form("form[action=\"/console/notices\"]", &[("title", ""), ("body", "testo")]);
    assert!(v.s.exists("#e-title"));
    let title = "Manutenzione <b>sabato</b>";
    v.form(
        "form[action=\"/console/notices\"]",
        &[("title", title), ("body", "Il servizio sarà sospeso dalle 8 alle 12.\nGrazie."), ("until", "")],
    );
    assert!(v.text("main table").contains(title));
    v.shot("notices");
    // An operator of any office sees it on the home page, as text.
    let a = v.another("it");
    a.first_sign_in(&anna);
    assert!(a.text("section.notices").contains(title), "{}", a.s.source());
    assert!(!a.s.exists("section.notices b"), "no markup from the notice");
    assert!(a.text("ul.counts").contains("pratiche da verificare"));
    a.check_page();
    a.shot("home-notices");
    // An operator does not publish; the verifier withdraws it.
    assert_eq!(a.fetch("/console/notices").0, 404);
    assert_eq!(a.post_form("/console/notices", &[("title", "x"), ("body", "y")]), 404);
    v.click_and_wait("form[action$=\"/withdraw\"] button");
    a.go("/console/");
    assert!(!a.s.exists("section.notices"));
}

#[test]
fn the_home_page_links_the_app_s_download_when_configured() {
    let ra = Ra::start();
    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let b = Browser::signed_in(&ra, &anna, "it");
    assert!(!b.s.exists("section[aria-labelledby=app]"), "no link without an address");
    let mut config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    config.push_str("\n[console]\napp_download_url = \"https://tessera.example.org/scarica\"\n");
    std::fs::write(ra.path("ra.toml"), &config).unwrap();
    let ra = ra.restart();
    let b = Browser::open(&ra, "it");
    assert_eq!(b.sign_in(&anna, PASSWORD, &code(&anna, 1)), "/console/");
    let link = b.s.js("return document.querySelector('section[aria-labelledby=app] a').getAttribute('href')");
    assert_eq!(link, "https://tessera.example.org/scarica");
    b.check_page();
    // Anything but a web address stops the RA, named.
    std::fs::write(ra.path("ra.toml"), config.replace("https://tessera.example.org/scarica", "javascript:alert(1)"))
        .unwrap();
    let out =
        Command::new(env!("CARGO_BIN_EXE_tessera-ra")).arg("--check-config").arg(ra.path("ra.toml")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("app_download_url"), "{}", text(&out));
}
