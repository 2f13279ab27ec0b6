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

mod cades {
    //! The renewal form's CAdES signature against OpenSSL as the independent peer: what we
    //! build `openssl cms -verify -cades` accepts, and what `openssl cms -sign -cades` makes
    //! we accept; a changed document, another signer and a missing attribute are refused.

    use std::path::Path;
    use std::process::Command;

    use tessera_protocol::cades::{Signing, verify};

    fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// A key and a self-signed certificate (DER) of `kind`, in `dir`.
    fn signer(dir: &Path, name: &str, kind: &[&str]) -> Vec<u8> {
        let key = format!("{name}.key");
        openssl(dir, &[&["genpkey"], kind, &["-out", &key]].concat());
        let cert = format!("{name}.pem");
        let subject = format!("/CN={name}");
        openssl(dir, &["req", "-x509", "-key", &key, "-out", &cert, "-subj", &subject, "-days", "2"]);
        let der = format!("{name}.der");
        openssl(dir, &["x509", "-in", &cert, "-outform", "DER", "-out", &der]);
        std::fs::read(dir.join(der)).unwrap()
    }

    /// `openssl cms -sign` of form.txt by `name` (name.pem, name.key) with `flags`, the
    /// document inside; the .p7m's bytes.
    fn openssl_signed(dir: &Path, name: &str, flags: &[&str], out: &str) -> Vec<u8> {
        let (pem, key) = (format!("{name}.pem"), format!("{name}.key"));
        let common = ["cms", "-sign", "-binary", "-nodetach", "-md", "sha256", "-outform", "DER", "-signer", &pem];
        let rest = ["-inkey", &key, "-in", "form.txt", "-out", out];
        openssl(dir, &[&common[..], flags, &rest].concat());
        std::fs::read(dir.join(out)).unwrap()
    }

    const FORM: &[u8] = "MODULO DI RINNOVO\nTitolare: LUCA BIANCHI\nCodice fiscale: BNCLCU80A01H501X\n".as_bytes();
    const RSA_SHA256: &[u8] =
        &[0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05, 0x00];
    const ECDSA_SHA256: &[u8] = &[0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02];

    fn ours(dir: &Path, name: &str, cert: &[u8], algorithm: &[u8]) -> Vec<u8> {
        let signing = Signing::new(FORM, cert, algorithm, time::OffsetDateTime::now_utc()).unwrap();
        std::fs::write(dir.join("tbs"), signing.to_be_signed().unwrap()).unwrap();
        let key = format!("{name}.key");
        openssl(dir, &["dgst", "-sha256", "-sign", &key, "-out", "sig", "tbs"]);
        signing.finish(&std::fs::read(dir.join("sig")).unwrap()).unwrap()
    }

    #[test]
    fn our_cades_verifies_with_openssl_and_openssls_with_ours_and_changes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (name, kind, algorithm) in [
            ("rsa", &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..], RSA_SHA256),
            ("ec", &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"][..], ECDSA_SHA256),
        ] {
            let cert = signer(d, name, kind);
            let p7m = ours(d, name, &cert, algorithm);
            let verified = verify(&p7m, &cert).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(verified.content, FORM);
            assert!(verified.signed_at.is_some());
            std::fs::write(d.join("ours.p7m"), &p7m).unwrap();
            let pem = format!("{name}.pem");
            let out = openssl(
                d,
                &["cms", "-verify", "-cades", "-inform", "DER", "-in", "ours.p7m", "-CAfile", &pem, "-purpose", "any"],
            );
            assert_eq!(out.stdout, FORM, "{name}: openssl gives back the form");

            // OpenSSL's own CAdES-BES, with the document inside.
            std::fs::write(d.join("form.txt"), FORM).unwrap();
            let theirs = openssl_signed(d, name, &["-cades"], "theirs.p7m");
            assert_eq!(verify(&theirs, &cert).unwrap_or_else(|e| panic!("{name} (openssl's): {e}")).content, FORM);

            // Another document in the same envelope: the digest no longer matches.
            let mut changed = p7m.clone();
            let at = changed.windows(7).position(|w| w == b"BIANCHI").unwrap();
            changed[at] = b'V';
            assert!(verify(&changed, &cert).is_err(), "{name}: a changed document");
            // A signature of the right shape but not by this key.
            let other = signer(d, "other", kind);
            assert!(verify(&p7m, &other).is_err(), "{name}: another signer");
        }
        // Without signed attributes it is plain CMS, not CAdES.
        let cert = std::fs::read(d.join("rsa.der")).unwrap();
        let plain = openssl_signed(d, "rsa", &["-noattr"], "plain.p7m");
        assert!(verify(&plain, &cert).unwrap_err().to_string().contains("signed attributes"));
        // Without the signing-certificate attribute (plain -sign, no -cades).
        let bes = openssl_signed(d, "rsa", &[], "bes.p7m");
        assert!(verify(&bes, &cert).unwrap_err().to_string().contains("1.2.840.113549.1.9.16.2.47"));
    }

    /// A SignedData whose sets hold `certificates` certificates, `signers` signers and
    /// optionally a CRL: only its shape matters (the bound is checked before it is read).
    fn shaped(certificates: usize, signers: usize, crl: bool) -> Vec<u8> {
        let tlv = |tag: u8, content: &[u8]| {
            let mut out = vec![tag];
            let n = content.len();
            if n < 128 {
                out.push(n as u8);
            } else {
                let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
                out.push(0x80 | bytes.len() as u8);
                out.extend(bytes);
            }
            out.extend_from_slice(content);
            out
        };
        let cert = tlv(0x30, &tlv(0x30, &[0x02, 0x01, 0x01]));
        let mut body = tlv(0x02, &[1]);
        body.extend(tlv(0x31, &tlv(0x30, &tlv(0x06, &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]))));
        body.extend(tlv(0x30, &tlv(0x06, &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01])));
        body.extend(tlv(0xA0, &cert.repeat(certificates)));
        if crl {
            body.extend(tlv(0xA1, &tlv(0x30, &[])));
        }
        body.extend(tlv(0x31, &tlv(0x30, &[]).repeat(signers)));
        let signed_data = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];
        let mut info = tlv(0x06, &signed_data);
        info.extend(tlv(0xA0, &tlv(0x30, &body)));
        tlv(0x30, &info)
    }

    #[test]
    fn a_p7m_larger_than_a_signature_needs_is_refused_before_it_is_read() {
        use tessera_protocol::cades::{MOST_CERTIFICATES, certificates};
        // Thousands of certificates in reverse order would take minutes to read: refused
        // by their count, which is all that is read of them.
        let many = shaped(5000, 1, false);
        let refused = certificates(&many).unwrap_err().to_string();
        assert!(refused.contains("5000 certificates"), "{refused}");
        assert!(verify(&many, b"").unwrap_err().to_string().contains("5000 certificates"));
        // Within the bound the shape passes to the real reader (which finds no signer's
        // certificate in these stand-ins).
        let few = certificates(&shaped(MOST_CERTIFICATES, 1, false)).unwrap_err().to_string();
        assert!(!few.contains("certificates, at most"), "{few}");
        assert!(certificates(&shaped(1, 2, false)).unwrap_err().to_string().contains("one signer"));
        assert!(certificates(&shaped(1, 1, true)).unwrap_err().to_string().contains("CRL"));
    }

    #[test]
    fn a_p7m_saved_as_base64_or_pem_is_read_as_its_der() {
        use base64::Engine;
        use tessera_protocol::cades::from_transport;
        let der = shaped(1, 1, false);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        assert_eq!(from_transport(&der), Some(der.clone()));
        assert_eq!(from_transport(b64.as_bytes()), Some(der.clone()));
        let pem = format!("-----BEGIN PKCS7-----\r\n{}\r\n{}\r\n-----END PKCS7-----\r\n", &b64[..40], &b64[40..]);
        assert_eq!(from_transport(pem.as_bytes()), Some(der));
        assert_eq!(from_transport(b"%PDF-1.7 not a signature"), None);
        assert_eq!(from_transport(&[0xFF, 0xFE, 0x00]), None);
    }
}
