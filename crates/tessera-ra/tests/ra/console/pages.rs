//! Long result lists (the search, the audit view) come in pages of 50, with links to the
//! previous and next; the CSV export has every row.

use super::*;

#[test]
fn search_results_come_in_pages_and_the_export_has_them_all() {
    let ra = Ra::start();
    let anna = account(&ra, "anna.pages", "RM01", "supervisor", None);
    let b = Browser::signed_in(&ra, &anna, "en");
    // Sixty of the office's requests and five of another office's, as the RA stores them.
    let values: Vec<String> = (0..65)
        .map(|i| {
            let office = if i < 60 { "RM01" } else { "MI01" };
            format!(
                "('PAG-{i:03}', 'MARIO', 'PAGINATO', 'PGNMRA80A01H501{}', 'signature', '{office}', 'to-verify', {})",
                (b'A' + (i % 26) as u8) as char,
                1_700_000_000 + i
            )
        })
        .collect();
    sql(
        &ra,
        &format!(
            "INSERT INTO requests (reference, given_name, surname, cf, profile, office, verification, registered_at) \
             VALUES {}",
            values.join(", ")
        ),
    );
    let words = |css: &str| b.text(css).split_whitespace().collect::<Vec<_>>().join(" ");
    b.go("/console/search?q=paginato");
    assert_eq!(words("main [role=status]"), "50 requests on this page · Export as CSV");
    assert_eq!(b.s.js("return document.querySelectorAll('main tbody tr').length"), 50);
    // Newest first: PAG-059 down to PAG-010 here.
    assert_eq!(b.text("main tbody tr:first-child td a"), "PAG-059");
    assert_eq!(words("nav.pages"), "Page 1 Next →");
    b.check_page();
    b.click_and_wait("nav.pages a[rel=next]");
    assert!(b.path().ends_with("&page=2"), "{}", b.path());
    assert_eq!(words("main [role=status]"), "10 requests on this page · Export as CSV");
    assert_eq!(b.text("main tbody tr:first-child td a"), "PAG-009");
    assert_eq!(words("nav.pages"), "← Previous Page 2");
    b.shot("search-pages");
    assert!(!b.text("main").contains("MI01") && !b.text("main").contains("PAG-06"), "another office's requests");
    b.click_and_wait("nav.pages a[rel=prev]");
    assert_eq!(b.text("main tbody tr:first-child td a"), "PAG-059");
    // A page past the end is empty, not an error; the export has all sixty.
    b.go("/console/search?q=paginato&page=9");
    assert_eq!(words("main [role=status]"), "0 requests on this page");
    let (status, _, csv) = b.fetch("/console/search.csv?q=paginato");
    assert_eq!(status, 200);
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 61, "a header and sixty rows");

    // The audit view too: each export is an entry.
    for _ in 0..54 {
        assert_eq!(b.fetch("/console/search.csv?q=paginato").0, 200);
    }
    b.go("/console/audit?action=search-exported");
    assert_eq!(words("main [role=status]"), "50 entries on this page · Export as CSV");
    assert_eq!(words("nav.pages"), "Page 1 Next →");
    b.check_page();
    b.click_and_wait("nav.pages a[rel=next]");
    assert_eq!(words("main [role=status]"), "5 entries on this page · Export as CSV");
    assert_eq!(words("nav.pages"), "← Previous Page 2");
    let (_, _, csv) = b.fetch("/console/audit.csv?action=search-exported");
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 56, "a header and 55 entries");
}
