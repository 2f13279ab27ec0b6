//! Remote identification: the holder signs the request form the RA made with a
//! qualified certificate they already have (CAdES .p7m, made here by `openssl cms
//! -cades`); the RA checks the signature, the signer's CA against the configured ones,
//! the signer's tax code against the holder's and the document against the forms it
//! made. Verified, the request completes at once (no paper originals).

use super::registration::{REGISTER, file, reference_of, register_anna_verdi};
use super::*;

/// Run openssl in the test's directory; its output checked.
fn openssl(ra: &Ra, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(ra.path("")).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", text(&out));
}

/// A CA (P-256) named `name`, in `<file>.pem` and `<file>.key`.
fn ca(ra: &Ra, file: &str, name: &str) {
    let (cert, key) = (format!("{file}.pem"), format!("{file}.key"));
    let subject = format!("/C=IT/O={name}/CN={name} Qualified CA");
    openssl(
        ra,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "30",
            "-keyout",
            &key,
            "-out",
            &cert,
            "-subj",
            &subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A signature certificate for `cf` issued by the CA in `<ca>.pem`, in `<file>.pem/.key`.
fn signer(ra: &Ra, ca: &str, file: &str, surname: &str, given: &str, cf: &str) {
    let (cert, key, csr) = (format!("{file}.pem"), format!("{file}.key"), format!("{file}.csr"));
    let subject = format!("/C=IT/SN={surname}/GN={given}/serialNumber=TINIT-{cf}/CN={surname} {given}");
    openssl(
        ra,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &subject,
        ],
    );
    std::fs::write(ra.path("signer.ext"), "keyUsage=critical,nonRepudiation\nbasicConstraints=CA:FALSE\n").unwrap();
    let (ca_cert, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        ra,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_cert,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            "signer.ext",
            "-out",
            &cert,
        ],
    );
}

/// `document` signed by `file`'s key as CAdES-BES, the document inside: the .p7m's path.
fn sign(ra: &Ra, document: &[u8], file: &str, out: &str) -> String {
    std::fs::write(ra.path("to-sign.pdf"), document).unwrap();
    let (cert, key) = (format!("{file}.pem"), format!("{file}.key"));
    openssl(
        ra,
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-cades",
            "-md",
            "sha256",
            "-in",
            "to-sign.pdf",
            "-signer",
            &cert,
            "-inkey",
            &key,
            "-outform",
            "DER",
            "-out",
            out,
        ],
    );
    ra.path(out).display().to_string()
}

#[test]
fn a_holder_identified_remotely_with_a_form_signed_by_their_own_certificate() {
    let ra = Ra::start();
    // The qualified providers the RA trusts, and one it does not.
    ca(&ra, "qca", "Certificatore di Prova");
    ca(&ra, "other-ca", "Sconosciuto");
    signer(&ra, "qca", "anna", "VERDI", "ANNA", "VRDNNA90E50L219L");
    signer(&ra, "qca", "mario", "ROSSI", "MARIO", "RSSMRA80A01H501U");
    signer(&ra, "other-ca", "anna-elsewhere", "VERDI", "ANNA", "VRDNNA90E50L219L");
    let mut config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    config.push_str("\n[console]\nremote_trust_anchors = \"qca.pem\"\n");
    std::fs::write(ra.path("ra.toml"), config).unwrap();
    let ra = ra.restart();

    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let vera = account(&ra, "vera.ca", "CA", "verifier", None);
    let b = Browser::signed_in(&ra, &anna, "it");
    let reference = register_anna_verdi(&b);
    let (status, _, form) = b.fetch(&format!("/console/requests/{reference}/form.pdf"));
    assert_eq!(status, 200);
    let identify = format!("form[action=\"/console/requests/{reference}/identify\"]");
    let document = [
        ("mode", "remote"),
        ("doc_kind", "identity-card"),
        ("doc_number", "CA55544DD"),
        ("doc_issuer", "Comune di Torino"),
        ("doc_issued", "2021-06-01"),
        ("doc_expires", "2031-06-01"),
    ];
    let attempt = |p7m: &str| {
        let mut fields = document.to_vec();
        fields.push(("signed-form-p7m", p7m));
        b.form(&identify, &fields);
        b.text("#e-signed-form-p7m")
    };
    // Each refusal said next to the file, nothing moved.
    let by_mario = sign(&ra, &form, "mario", "mario.p7m");
    assert!(attempt(&by_mario).contains("un'altra persona"), "{}", b.s.source());
    b.check_page();
    b.shot("identify-remote-refused");
    let untrusted = sign(&ra, &form, "anna-elsewhere", "elsewhere.p7m");
    assert!(attempt(&untrusted).contains("certificatore riconosciuto"), "{}", b.text("main"));
    let mut changed = form.clone();
    changed.extend_from_slice(b"\n% changed\n");
    let other_document = sign(&ra, &changed, "anna", "changed.p7m");
    assert!(attempt(&other_document).contains("non è il modulo di richiesta"), "{}", b.text("main"));
    let pdf = file(&ra, "modulo.p7m", &form).display().to_string();
    assert!(attempt(&pdf).contains("non è una firma digitale"), "{}", b.text("main"));
    let mut broken = std::fs::read(ra.path("mario.p7m")).unwrap();
    let last = broken.len() - 10;
    broken[last] ^= 0xFF;
    let broken = file(&ra, "broken.p7m", &broken).display().to_string();
    assert!(attempt(&broken).contains("non è una firma digitale"), "a signature that does not verify");
    assert!(b.text(".state").contains("da identificare"), "nothing moved");

    // A handwritten form's scan given in remote mode is said, not dropped.
    let scan = file(&ra, "scan.pdf", &form).display().to_string();
    let mut fields = document.to_vec();
    fields.extend([("signed-form", scan.as_str()), ("signed-form-p7m", by_mario.as_str())]);
    b.form(&identify, &fields);
    assert!(b.text("#e-signed-form").contains("altra modalità"), "{}", b.text("main"));
    let refused = sql_column(&ra, "SELECT detail FROM audit WHERE action = 'remote-identification-refused'");
    assert!(refused.iter().any(|d| d.starts_with("another-person") && d.contains("ROSSI")), "{refused:?}");
    assert!(refused.iter().any(|d| d.starts_with("untrusted: ")), "the technical cause kept: {refused:?}");

    // Signed by the holder, with the form the RA made (saved as Base64, as many signing
    // tools do): identified, the signer recorded.
    let der = std::fs::read(sign(&ra, &form, "anna", "anna.p7m")).unwrap();
    let good = {
        use base64::Engine;
        let text = base64::engine::general_purpose::STANDARD.encode(der);
        file(&ra, "anna-base64.p7m", text.as_bytes()).display().to_string()
    };
    let mut fields = document.to_vec();
    fields.push(("signed-form-p7m", &good));
    b.form(&identify, &fields);
    assert!(b.path().ends_with("?done=identified"), "{}", b.text("main"));
    let identified = b.text("section[aria-labelledby=identified]");
    assert!(identified.contains("Da remoto") && identified.contains("VERDI ANNA"), "{identified}");
    assert!(identified.contains("Certificatore di Prova"), "the signer's issuer: {identified}");
    b.check_page();
    b.shot("identified-remote");
    let link = b.s.js("return document.querySelector('a[href^=\"/console/documents/\"]').getAttribute('href')");
    let (status, kind, bytes) = b.fetch(link.as_str().unwrap());
    assert_eq!((status, kind.as_str()), (200, "application/pkcs7-mime"));
    assert_eq!(bytes, std::fs::read(&good).unwrap(), "kept as uploaded");

    // Verified: completed at once, no paper originals to wait for.
    let v = b.another("it");
    v.first_sign_in(&vera);
    v.go(&format!("/console/requests/{reference}"));
    v.click_and_wait(&format!("form[action=\"/console/requests/{reference}/decision\"] button.primary"));
    assert!(v.text(".state").contains("Completata"), "{}", v.text(".state"));
    let audit = sql_column(&ra, "SELECT detail FROM audit WHERE action = 'holder-identified'");
    assert!(
        audit.iter().any(|d| d.contains("remote") && d.contains("signed by") && d.contains("VERDI ANNA")),
        "{audit:?}"
    );
}

#[test]
fn a_certificate_this_ra_suspended_does_not_identify_its_holder() {
    let ra = Ra::start();
    // MARIO ROSSI's signature certificate, issued by this RA (a request of its
    // configuration), then suspended; the RA's own CAs trusted for remote signatures.
    let out = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.csr("mario"), &ra.path("mario.pem"));
    assert!(out.status.success(), "{}", text(&out));
    let serial = x509(&ra.path("mario.pem"), &["-serial"]).trim().trim_start_matches("serial=").to_lowercase();
    let path = |action: &str| format!("/api/v1/operator/certificates/{serial}/{action}");
    assert_eq!(operator_call(&ra, "POST", &path("suspend"), None).0, 200);
    let mut config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    config.push_str("\n[console]\nremote_trust_anchors = \"ca.pem\"\n");
    std::fs::write(ra.path("ra.toml"), config).unwrap();
    let ra = ra.restart();

    let anna = account(&ra, "anna.odr", "RM01", "operator", None);
    let b = Browser::signed_in(&ra, &anna, "it");
    b.go("/console/holders/new");
    b.form(
        REGISTER,
        &[
            ("surname", "ROSSI"),
            ("given_name", "MARIO"),
            ("cf", "RSSMRA80A01H501U"),
            ("mobile", "+393330001122"),
            ("email", "mario.rossi@example.org"),
            ("profile", "signature"),
        ],
    );
    let reference = reference_of(&b);
    let (_, _, form) = b.fetch(&format!("/console/requests/{reference}/form.pdf"));
    let identify = format!("form[action=\"/console/requests/{reference}/identify\"]");
    let p7m = sign(&ra, &form, "mario", "mario.p7m");
    let fields = [
        ("mode", "remote"),
        ("doc_kind", "passport"),
        ("doc_number", "YA1112223"),
        ("doc_issuer", "Questura di Roma"),
        ("doc_issued", "2022-01-10"),
        ("doc_expires", "2032-01-10"),
        ("signed-form-p7m", p7m.as_str()),
    ];
    b.form(&identify, &fields);
    assert!(b.text("#e-signed-form-p7m").contains("sospeso o revocato"), "{}", b.text("main"));
    // Reactivated, the same signature identifies him.
    assert_eq!(operator_call(&ra, "POST", &path("reactivate"), None).0, 200);
    b.form(&identify, &fields);
    assert!(b.path().ends_with("?done=identified"), "{}", b.text("main"));
}
