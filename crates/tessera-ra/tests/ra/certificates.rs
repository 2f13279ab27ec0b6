//! Certificates that linters accept (pkilint: RFC 5280, and ETSI EN 319 412 for the
//! qualified signature certificate), and the OCSP responder they name, with `openssl ocsp`
//! as the independent client.

use super::*;

/// A test bed's own policy OID (2.25: an OID from a UUID, needing no registration; the
/// UUID here is the integer 1, which no real CA uses). A CA in production sets its own.
const TEST_POLICY: &str = "certificate_policy = \"2.25.1.1\"\n";

fn pkilint(tool: &str) -> PathBuf {
    let dir = std::env::var_os("PKILINT_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
        cache.join("tessera/pkilint")
    });
    let bin = dir.join("bin").join(tool);
    assert!(bin.exists(), "{} missing: testbed/tools.sh installs pkilint", bin.display());
    bin
}

/// pkilint's findings on a certificate: (severity, finding) lines, except the test bed's
/// loopback URLs (an internal name, by design of the test bed).
pub(crate) fn lint(args: &[&str], file: &Path) -> Vec<(String, String)> {
    let (tool, rest) = args.split_first().unwrap();
    let out = Command::new(pkilint(tool)).arg("lint").args(rest).arg(file).output().unwrap();
    let text = text(&out);
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let (name, severity) = l.split_once(" (")?;
            let severity = severity.split(')').next()?;
            matches!(severity, "FATAL" | "ERROR" | "WARNING" | "NOTICE").then(|| (severity.to_owned(), name.to_owned()))
        })
        .filter(|(_, name)| name != "etsi.internal_domain_name")
        .collect()
}

#[test]
fn every_kind_of_certificate_the_ra_issues_passes_pkilint() {
    let ra = Ra::start_with_validity(30);
    // A top-level key: before the configuration's tables.
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    std::fs::write(ra.path("ra.toml"), format!("{TEST_POLICY}{config}")).unwrap();
    let ra = ra.restart();
    ra.key("sig");
    ra.key("cns");
    ra.key("renewed");
    let ir = ra.ir_mario("sig.key", "sig.pem");
    assert!(ir.status.success(), "{}", text(&ir));
    let cns = ra.cmp(&[
        "-cmd",
        "ir",
        "-ref",
        "REQ-0002",
        "-secret",
        "pass:NPQR-STUV-WXYZ",
        "-newkey",
        "cns.key",
        "-subject",
        "/CN=x",
        "-certout",
        "cns.pem",
    ]);
    assert!(cns.status.success(), "{}", text(&cns));
    let kur = ra.kur("sig.pem", "sig.key", "renewed.key", "renewed.pem");
    assert!(kur.status.success(), "{}", text(&kur));
    // ca.pem: the issuing CA, then the root.
    let [issuing, root] = split_chain(&ra);
    std::fs::write(ra.path("issuing.pem"), pem::encode(&pem::Pem::new("CERTIFICATE", issuing.clone()))).unwrap();
    std::fs::write(ra.path("root.pem"), pem::encode(&pem::Pem::new("CERTIFICATE", root))).unwrap();

    let mut warnings = Vec::new();
    for (file, etsi) in
        [("root.pem", false), ("issuing.pem", false), ("cns.pem", false), ("sig.pem", true), ("renewed.pem", true)]
    {
        let mut findings = lint(&["lint_pkix_cert"], &ra.path(file));
        if etsi {
            findings.extend(lint(&["lint_etsi_cert", "-t", "QCP-N-QSCD-EIDAS-FINAL-CERTIFICATE"], &ra.path(file)));
        }
        let bad: Vec<_> = findings.iter().filter(|(s, _)| s == "FATAL" || s == "ERROR").collect();
        assert!(bad.is_empty(), "{file}: {bad:?}");
        warnings.extend(findings.into_iter().filter(|(s, _)| s == "WARNING").map(|(_, n)| format!("{file}: {n}")));
    }
    // The CRL and an OCSP response too.
    let mut crl = Vec::new();
    std::io::Read::read_to_end(
        &mut ureq::get(&format!("http://{}/crl", ra.server)).call().unwrap().into_reader(),
        &mut crl,
    )
    .unwrap();
    std::fs::write(ra.path("crl.der"), crl).unwrap();
    let crl_findings = lint(&["lint_crl", "-t", "CRL", "-p", "PKIX"], &ra.path("crl.der"));
    let url = x509(&ra.path("sig.pem"), &["-ocsp_uri"]).trim().to_owned();
    let o = Command::new("openssl")
        .current_dir(ra.dir.path())
        .args(["ocsp", "-issuer", "issuing.pem", "-cert", "sig.pem", "-CAfile", "ca.pem", "-url", &url])
        .args(["-respout", "ocsp.der"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let ocsp_findings = lint(&["lint_ocsp_response"], &ra.path("ocsp.der"));
    for (what, findings) in [("CRL", crl_findings), ("OCSP response", ocsp_findings)] {
        assert!(findings.iter().all(|(s, _)| s != "FATAL" && s != "ERROR"), "{what}: {findings:?}");
        warnings.extend(findings.into_iter().filter(|(s, _)| s == "WARNING").map(|(_, n)| format!("{what}: {n}")));
    }
    // The warnings docs/ra.md lists: none today.
    assert!(warnings.is_empty(), "{warnings:?}");
    // What the ETSI profile asks for is there.
    let text = x509(&ra.path("sig.pem"), &["-text"]);
    for wanted in
        ["0.4.0.194112.1.2", "2.25.1.1", "CA Issuers - URI:http://", "OCSP - URI:http://", "Subject Key Identifier"]
    {
        assert!(text.contains(wanted), "{wanted} in {text}");
    }
    // The caIssuers URL serves the issuing CA's certificate.
    let url = text.lines().find_map(|l| l.trim().strip_prefix("CA Issuers - URI:")).unwrap().to_owned();
    let mut der = Vec::new();
    std::io::Read::read_to_end(&mut ureq::get(&url).call().unwrap().into_reader(), &mut der).unwrap();
    assert_eq!(der, issuing);
}

/// The RA's published chain (ca.pem): the issuing CA, then the root (DER).
pub(crate) fn split_chain(ra: &Ra) -> [Vec<u8>; 2] {
    let pems = pem::parse_many(std::fs::read_to_string(ra.path("ca.pem")).unwrap()).unwrap();
    let ders: Vec<Vec<u8>> = pems.into_iter().map(|p| p.into_contents()).collect();
    ders.try_into().expect("issuing CA and root")
}

/// `openssl ocsp` for one certificate; its output.
fn ocsp(ra: &Ra, args: &[&str]) -> String {
    let url = x509(&ra.path("mario.pem"), &["-ocsp_uri"]).trim().to_owned();
    let out = Command::new("openssl")
        .current_dir(ra.dir.path())
        .args(["ocsp", "-issuer", "issuing.pem", "-CAfile", "ca.pem", "-url", &url])
        .args(args)
        .output()
        .unwrap();
    text(&out)
}

#[test]
fn the_ocsp_responder_says_good_revoked_on_hold_and_unknown_to_openssl() {
    let ra = Ra::start();
    let out = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.csr("mario"), &ra.path("mario.pem"));
    assert!(out.status.success(), "{}", text(&out));
    let [issuing, _] = split_chain(&ra);
    std::fs::write(ra.path("issuing.pem"), pem::encode(&pem::Pem::new("CERTIFICATE", issuing))).unwrap();
    let serial = x509(&ra.path("mario.pem"), &["-serial"]).trim().trim_start_matches("serial=").to_lowercase();

    let good = ocsp(&ra, &["-cert", "mario.pem"]);
    assert!(good.contains("Response verify OK") && good.contains("mario.pem: good"), "{good}");
    let path = |action: &str| format!("/api/v1/operator/certificates/{serial}/{action}");
    assert_eq!(operator_call(&ra, "POST", &path("suspend"), None).0, 200);
    let held = ocsp(&ra, &["-cert", "mario.pem"]);
    assert!(held.contains("mario.pem: revoked") && held.contains("Reason: certificateHold"), "{held}");
    assert_eq!(operator_call(&ra, "POST", &path("revoke"), Some(serde_json::json!({"reason": 1}))).0, 200);
    let revoked = ocsp(&ra, &["-cert", "mario.pem"]);
    assert!(revoked.contains("mario.pem: revoked") && revoked.contains("Reason: keyCompromise"), "{revoked}");
    // A serial this CA never issued; and the nonce comes back (openssl checks it).
    let unknown = ocsp(&ra, &["-serial", "0x1234"]);
    assert!(unknown.contains("Response verify OK") && unknown.contains("0x1234: unknown"), "{unknown}");
    assert!(!unknown.contains("WARNING: no nonce"), "{unknown}");
    // Not an OCSP request at all: malformedRequest, not a crash.
    let answer = ureq::post(&format!("http://{}/ocsp", ra.server))
        .set("Content-Type", "application/ocsp-request")
        .send_bytes(b"\x30\x03junk")
        .unwrap();
    let mut der = Vec::new();
    std::io::Read::read_to_end(&mut answer.into_reader(), &mut der).unwrap();
    assert_eq!(der, [0x30, 0x03, 0x0A, 0x01, 0x01], "OCSPResponse {{ malformedRequest }}");
}
