//! The fuzzers' corpora (fuzz/corpus, kept from coverage-guided runs of at least ten
//! minutes each) replayed on every test run: each input parses or is refused, never a
//! panic, and what parses goes through every check the RA makes.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn the_cmp_corpus_parses_or_is_refused_and_the_captured_openssl_messages_parse() {
    let inputs = corpus("cmp_parse");
    assert!(inputs.len() > 10, "{} inputs", inputs.len());
    let mut parsed = 0;
    for (path, data) in &inputs {
        if let Ok(request) = tessera_protocol::cmp::parse(data) {
            parsed += 1;
            let _ = request.verify(b"ABCD-EFGH-JKLM");
            if let tessera_protocol::cmp::Body::Ir { request: cr } | tessera_protocol::cmp::Body::Kur { request: cr } =
                &request.body
            {
                let _ = cr.verify_pop();
            }
        } else if path.extension().is_some_and(|e| e == "der") {
            panic!("{}: a captured openssl cmp message must parse", path.display());
        }
    }
    assert!(parsed > 0);
}

#[test]
fn the_crmf_corpus_parses_or_is_refused() {
    for (_, data) in corpus("crmf_parse") {
        if let Ok(request) = tessera_protocol::crmf::parse(&data) {
            let _ = request.verify_pop();
        }
    }
}
