//! The fuzzers' corpora (fuzz/corpus) replayed on every test run: certificate summaries
//! and PKCS#11 URIs parse or are refused, never a panic.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect()
}

#[test]
fn the_certificate_corpus_is_summarised_or_refused() {
    let inputs = corpus("certificate_summary");
    assert!(!inputs.is_empty());
    for data in inputs {
        let _ = tessera_pki::CertificateSummary::parse(&data, time::OffsetDateTime::UNIX_EPOCH);
    }
}

#[test]
fn the_uri_corpus_parses_or_is_refused() {
    for data in corpus("pkcs11_uri") {
        if let Ok(text) = std::str::from_utf8(&data)
            && let Ok(uri) = tessera_pki::uri::Pkcs11Uri::parse(text)
        {
            let _ = uri.matches_token("label", "manufacturer", "serial", "model");
        }
    }
}
