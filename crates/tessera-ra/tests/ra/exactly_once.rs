//! Issuance exactly once (RFC 9483 sections 3 and 5): retransmissions, interrupted
//! transactions, rejected and never confirmed certificates, unconfirmed renewals.

use super::*;
use std::time::Duration;

fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

/// Append `toml` (a table) to the RA's configuration and restart it on the same state.
pub fn reconfigured(ra: Ra, toml: &str) -> Ra {
    let mut config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    config.push_str(toml);
    std::fs::write(ra.path("ra.toml"), config).unwrap();
    ra.restart()
}

/// POST a CMP message as it is; the status and the body.
pub fn post_cmp(ra: &Ra, der: &[u8], content_type: &str) -> (u16, Vec<u8>) {
    let url = format!("http://{}/.well-known/cmp", ra.server);
    let answer = match ureq::post(&url).set("Content-Type", content_type).send_bytes(der) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{url}: {e}"),
    };
    let status = answer.status();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut answer.into_reader(), &mut body).unwrap();
    (status, body)
}

/// The certificates the operator API lists for a request.
fn certificates(ra: &Ra, reference: &str) -> Vec<serde_json::Value> {
    let (status, body) = operator_call(ra, "GET", &format!("/api/v1/operator/requests/{reference}"), None);
    assert_eq!(status, 200, "{body}");
    body["certificates"].as_array().cloned().unwrap_or_default()
}

fn serial_of(cert: &Path) -> String {
    x509(cert, &["-serial"]).trim().trim_start_matches("serial=").to_lowercase()
}

#[test]
fn a_replayed_request_gets_the_same_answer_and_never_a_second_certificate() {
    let ra = reconfigured(Ra::start(), "\n[cmp]\nconfirm_seconds = 3\n");
    let csr = ra.csr("mario");
    // The holder's client sends p10cr and goes away before certConf.
    let first = ra.cmp(&[
        "-cmd",
        "p10cr",
        "-ref",
        "REQ-0001",
        "-secret",
        "pass:ABCD-EFGH-JKLM",
        "-csr",
        "mario.csr",
        "-certout",
        "first.pem",
        "-disable_confirm",
        "-reqout",
        "p10cr.der",
        "-rspout",
        "cp.der",
        "-unprotected_errors",
    ]);
    assert!(first.status.success(), "{}", text(&first));
    let p10cr = std::fs::read(ra.path("p10cr.der")).unwrap();
    let cp = std::fs::read(ra.path("cp.der")).unwrap();
    // Byte-identical replays: the same answer, byte for byte, and still one certificate.
    for _ in 0..3 {
        assert_eq!(post_cmp(&ra, &p10cr, "application/pkixcmp"), (200, cp.clone()));
    }
    assert_eq!(certificates(&ra, "REQ-0001").len(), 1);
    // A new transaction for another key while the first waits: refused, nothing issued.
    let other = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.csr("other"), &ra.path("other.pem"));
    assert!(!other.status.success());
    assert!(text(&other).contains("duplicateCertReq"), "{}", text(&other));
    // A new transaction for the same key (the client lost the answer): the same
    // certificate, which this transaction confirms.
    let again = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &csr, &ra.path("again.pem"));
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(serial_of(&ra.path("again.pem")), serial_of(&ra.path("first.pem")));
    let listed = certificates(&ra, "REQ-0001");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0]["confirmed"].as_bool(), listed[0]["state"].as_str()), (Some(true), Some("active")));
    // The request is issued and confirmed: a byte-identical retransmission of the first
    // message still gets its own answer, byte for byte, and issues nothing.
    assert_eq!(post_cmp(&ra, &p10cr, "application/pkixcmp"), (200, cp));
    assert_eq!(certificates(&ra, "REQ-0001").len(), 1);
}

/// A MAC-protected ir as `openssl cmp` makes it, captured unsent: openssl writes -reqout
/// before it connects, and nothing listens on the port it is given.
fn unsent_ir(ra: &Ra, reference: &str, secret: &str, key: &str, out: &str) -> Vec<u8> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let o = Command::new("openssl")
        .current_dir(ra.dir.path())
        .args(["cmp", "-cmd", "ir", "-server", &format!("127.0.0.1:{port}"), "-path", "/.well-known/cmp"])
        .args(["-ref", reference, "-secret", &format!("pass:{secret}"), "-newkey", key, "-subject", "/CN=x"])
        .args(["-certout", "unused.pem", "-reqout", out])
        .output()
        .unwrap();
    assert!(!o.status.success(), "nothing should answer on {port}");
    std::fs::read(ra.path(out)).unwrap_or_else(|e| panic!("{out}: {e}: {}", text(&o)))
}

#[test]
fn twelve_simultaneous_copies_of_one_ir_get_one_answer_and_never_a_wrong_code_refusal() {
    let ra = Ra::start();
    ra.key("twelve");
    let ir = unsent_ir(&ra, "REQ-0001", "ABCD-EFGH-JKLM", "twelve.key", "ir.der");
    // A client retrying on a slow network: twelve copies at once.
    let answers: Vec<(u16, Vec<u8>)> = std::thread::scope(|scope| {
        let copies: Vec<_> = (0..12).map(|_| scope.spawn(|| post_cmp(&ra, &ir, "application/pkixcmp"))).collect();
        copies.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for (status, body) in &answers {
        assert_eq!(*status, 200);
        assert_eq!(body, &answers[0].1, "every copy gets the same answer, byte for byte");
    }
    // The answer is an ip (body [1]), not an error ([23]): one certificate issued.
    let message = tessera_protocol::asn1::read_one(&answers[0].1).unwrap();
    let parts = tessera_protocol::asn1::children(message.content).unwrap();
    assert_eq!(parts[1].tag, 0xA1, "an ip, not an error answer");
    assert_eq!(certificates(&ra, "REQ-0001").len(), 1);
}

#[test]
fn an_ir_retransmitted_after_its_certconf_gets_its_own_answer_again() {
    let ra = Ra::start();
    ra.key("confirmed");
    let o = ra.cmp(&[
        "-cmd",
        "ir",
        "-ref",
        "REQ-0002",
        "-secret",
        "pass:NPQR-STUV-WXYZ",
        "-newkey",
        "confirmed.key",
        "-subject",
        "/CN=x",
        "-certout",
        "confirmed.pem",
        "-reqout",
        "ir.der,certconf.der",
        "-rspout",
        "ip.der,pkiconf.der",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let listed = certificates(&ra, "REQ-0002");
    assert_eq!(listed[0]["confirmed"], true, "{listed:?}");
    let ir = std::fs::read(ra.path("ir.der")).unwrap();
    let ip = std::fs::read(ra.path("ip.der")).unwrap();
    assert_eq!(post_cmp(&ra, &ir, "application/pkixcmp"), (200, ip));
    assert_eq!(certificates(&ra, "REQ-0002").len(), 1);
}

#[test]
fn a_certificate_never_confirmed_is_revoked_and_the_request_can_be_enrolled_again() {
    let ra = reconfigured(Ra::start(), "\n[cmp]\nconfirm_seconds = 2\n");
    ra.csr("lost");
    let out = ra.cmp(&[
        "-cmd",
        "p10cr",
        "-ref",
        "REQ-0001",
        "-secret",
        "pass:ABCD-EFGH-JKLM",
        "-csr",
        "lost.csr",
        "-certout",
        "lost.pem",
        "-disable_confirm",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let serial = serial_of(&ra.path("lost.pem"));
    assert!(wait_for(Duration::from_secs(40), || crl_serials(&ra).contains(&serial)), "revoked: on the CRL");
    let listed = certificates(&ra, "REQ-0001");
    assert_eq!((listed[0]["confirmed"].as_bool(), listed[0]["state"].as_str()), (Some(false), Some("revoked")));
    // The request waits again: a new enrollment goes through, and both stay on record.
    let out = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.csr("next"), &ra.path("next.pem"));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(certificates(&ra, "REQ-0001").len(), 2);
}

#[test]
fn a_rejected_certificate_is_revoked_and_stays_on_record() {
    let ra = Ra::start();
    let sh = |cmd: &str| {
        let o = Command::new("sh").current_dir(ra.dir.path()).arg("-c").arg(cmd).output().unwrap();
        assert!(o.status.success(), "{cmd}: {}", text(&o));
    };
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout unrelated.key \
        -subj /CN=Unrelated -days 5 -out unrelated.pem 2>/dev/null");
    ra.csr("mario");
    let out = ra.cmp(&[
        "-cmd",
        "p10cr",
        "-ref",
        "REQ-0001",
        "-secret",
        "pass:ABCD-EFGH-JKLM",
        "-csr",
        "mario.csr",
        "-certout",
        "mario.pem",
        "-out_trusted",
        "unrelated.pem",
        "-rspout",
        "cp.der,pkiconf.der",
    ]);
    assert!(!out.status.success(), "the client rejects a certificate it cannot verify");
    let listed = certificates(&ra, "REQ-0001");
    assert_eq!(listed.len(), 1, "kept on record: {listed:?}");
    assert_eq!((listed[0]["confirmed"].as_bool(), listed[0]["state"].as_str()), (Some(false), Some("revoked")));
    let serial = listed[0]["serial"].as_str().unwrap().to_lowercase();
    assert!(crl_serials(&ra).contains(serial.trim_start_matches('0')), "on the CRL");
    let out = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.path("mario.csr"), &ra.path("ok.pem"));
    assert!(out.status.success(), "the request waits for a new certificate: {}", text(&out));
}

#[test]
fn an_unconfirmed_renewal_leaves_the_old_certificate_current_until_it_is_confirmed() {
    let ra = Ra::start_with_validity(30);
    ra.key("old");
    ra.key("new");
    ra.key("other");
    let ir = ra.ir_mario("old.key", "old.pem");
    assert!(ir.status.success(), "{}", text(&ir));
    let kur = |new_key: &str, out: &str, confirm: bool| {
        let mut args = vec![
            "-cmd", "kur", "-cert", "old.pem", "-key", "old.key", "-newkey", new_key, "-certout", out, "-trusted",
            "ca.pem",
        ];
        if !confirm {
            args.push("-disable_confirm");
        }
        ra.cmp(&args)
    };
    let first = kur("new.key", "new.pem", false);
    assert!(first.status.success(), "{}", text(&first));
    // Not yet replaced: another renewal of the old certificate is not told "only the newest",
    // it waits for the first one (another key) or gets that same certificate (same key).
    let other = kur("other.key", "other.pem", true);
    assert!(text(&other).contains("duplicateCertReq"), "{}", text(&other));
    let listed = certificates(&ra, "REQ-0001");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["confirmed"].as_bool(), Some(false));
    let again = ra.cmp(&[
        "-cmd",
        "kur",
        "-cert",
        "old.pem",
        "-key",
        "old.key",
        "-newkey",
        "new.key",
        "-certout",
        "again.pem",
        "-trusted",
        "ca.pem",
        "-rspout",
        "kup.der,pkiconf.der",
    ]);
    assert!(again.status.success(), "{}", text(&again));
    // The kup: signed with the CA key it names (senderKID), and without caPubs (RFC 9483
    // 4.1.3).
    let kup = tessera_protocol::cmp::parse(&std::fs::read(ra.path("kup.der")).unwrap()).unwrap();
    assert_eq!(kup.sender_kid.as_ref().map(|k| k.len()), Some(20), "senderKID: the CA's key identifier");
    let tessera_protocol::cmp::Body::CertResponse { ca_pubs, .. } = &kup.body else { panic!("{:?}", kup.body) };
    assert!(ca_pubs.is_empty());
    assert_eq!(serial_of(&ra.path("again.pem")), serial_of(&ra.path("new.pem")));
    assert_eq!(certificates(&ra, "REQ-0001")[1]["confirmed"].as_bool(), Some(true));
    // Confirmed: now the old one is replaced.
    let late = kur("other.key", "late.pem", true);
    assert!(text(&late).contains("only the newest certificate"), "{}", text(&late));
}

#[test]
fn a_certconf_repeated_after_the_request_completed_gets_its_pkiconf_again() {
    let ra = Ra::start();
    ra.csr("mario");
    let out = ra.cmp(&[
        "-cmd",
        "p10cr",
        "-ref",
        "REQ-0001",
        "-secret",
        "pass:ABCD-EFGH-JKLM",
        "-csr",
        "mario.csr",
        "-certout",
        "mario.pem",
        "-reqout",
        "p10cr.der,certconf.der",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // The client lost the pkiconf and sends its certConf again: answered, MAC-protected.
    let (status, answer) = post_cmp(&ra, &std::fs::read(ra.path("certconf.der")).unwrap(), "application/pkixcmp");
    assert_eq!(status, 200);
    let answer = tessera_protocol::cmp::parse(&answer).unwrap();
    assert_eq!(answer.body, tessera_protocol::cmp::Body::Confirmed);
    assert!(answer.verify(b"ABCD-EFGH-JKLM").is_ok());
    // Still one certificate, confirmed; a new request on the same reference is refused.
    let listed = certificates(&ra, "REQ-0001");
    assert_eq!((listed.len(), listed[0]["confirmed"].as_bool()), (1, Some(true)));
    let again = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.path("mario.csr"), &ra.path("again.pem"));
    assert!(text(&again).contains("already issued"), "{}", text(&again));
}
