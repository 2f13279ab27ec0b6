//! tessera-ra over real HTTP on 127.0.0.1: `openssl cmp` as the independent CMP client,
//! and the holder's activation API.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

mod brute_force;
mod certificates;
mod conformance;
mod crash;
mod exactly_once;
mod hygiene;

struct Ra {
    child: Child,
    server: String,
    dir: tempfile::TempDir,
    /// The RA's environment (SOFTHSM2_CONF for an HSM-held CA key).
    env: Vec<(String, String)>,
}

impl Ra {
    fn start() -> Ra {
        Self::start_with_validity(1095)
    }

    fn start_with_validity(days: i64) -> Ra {
        Self::start_with(days, None)
    }

    /// With a database URL (PostgreSQL) instead of the default SQLite file.
    fn start_with(days: i64, database: Option<&str>) -> Ra {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("ra.toml");
        std::fs::write(
            &config,
            format!(
                r#"listen = "127.0.0.1:0"
validity_days = {days}
ca_certificate = "{}"
{}

[[request]]
reference = "REQ-0001"
activation_code = "ABCD-EFGH-JKLM"
profile = "signature"
holder = {{ given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U" }}

[[request]]
reference = "REQ-0002"
activation_code = "NPQR-STUV-WXYZ"
profile = "cns-authentication"
holder = {{ given_name = "NICCOLÒ", surname = "FABBRÌ", cf = "FBBNCC85M10D612Y" }}

[[request]]
reference = "REQ-0003"
activation_code = "HOME-CODE-0003"
profile = "signature"
armed = false
mobile = "+393331234567"
holder = {{ given_name = "LUCA", surname = "BIANCHI", cf = "BNCLCU75C15F205O" }}

[[request]]
reference = "REQ-0004"
activation_code = "HOME-CODE-0004"
profile = "signature"
armed = false
mobile = "+393339876543"
holder = {{ given_name = "ANNA", surname = "VERDI", cf = "VRDNNA90E50L219L" }}

[[operator]]
name = "odr-test"
token_sha256 = "fada800c966f702b9da4f2a9e8545c841ef09001818ad17b24f525d9c835baf0"
"#,
                dir.path().join("ca.pem").display(),
                database.map(|d| format!("database = \"{d}\"")).unwrap_or_default()
            ),
        )
        .unwrap();
        let (child, server) = spawn(&config, &[]);
        Ra { child, server, dir, env: Vec::new() }
    }

    /// Stop the RA and start it again on the same state (CA key, database).
    fn restart(mut self) -> Ra {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (child, server) = spawn(&self.path("ra.toml"), &self.env);
        self.child = child;
        self.server = server;
        self
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A fresh key and CSR made by openssl.
    fn csr(&self, name: &str) -> PathBuf {
        let csr = self.path(&format!("{name}.csr"));
        let ok = Command::new("openssl")
            .args([
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                "/CN=ignored",
            ])
            .arg("-keyout")
            .arg(self.path(&format!("{name}.key")))
            .arg("-out")
            .arg(&csr)
            .output()
            .unwrap();
        assert!(ok.status.success());
        csr
    }

    /// A fresh P-256 key made by openssl.
    fn key(&self, name: &str) -> PathBuf {
        let key = self.path(&format!("{name}.key"));
        let o = Command::new("openssl")
            .args(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(o.status.success());
        key
    }

    fn cmp(&self, args: &[&str]) -> Output {
        Command::new("openssl")
            .current_dir(self.dir.path())
            .args(["cmp", "-server", &self.server, "-path", "/.well-known/cmp"])
            .args(args)
            .output()
            .unwrap()
    }

    /// ir for REQ-0001 (MARIO ROSSI) with an openssl key file, certificate to `out`.
    fn ir_mario(&self, key: &str, out: &str) -> Output {
        self.cmp(&[
            "-cmd",
            "ir",
            "-ref",
            "REQ-0001",
            "-secret",
            "pass:ABCD-EFGH-JKLM",
            "-newkey",
            key,
            "-subject",
            "/CN=x",
            "-certout",
            out,
            "-unprotected_errors",
        ])
    }

    /// kur signed with `cert`/`key`, for `new_key`, trusting the RA's CA for the answer.
    fn kur(&self, cert: &str, key: &str, new_key: &str, out: &str) -> Output {
        self.cmp(&[
            "-cmd", "kur", "-cert", cert, "-key", key, "-newkey", new_key, "-certout", out, "-trusted", "ca.pem",
        ])
    }

    fn p10cr(&self, reference: &str, secret: &str, csr: &Path, out: &Path) -> Output {
        Command::new("openssl")
            .args(["cmp", "-cmd", "p10cr", "-server", &self.server, "-path", "/.well-known/cmp", "-ref", reference])
            .arg("-secret")
            .arg(format!("pass:{secret}"))
            .arg("-csr")
            .arg(csr)
            .arg("-certout")
            .arg(out)
            .arg("-unprotected_errors")
            .output()
            .unwrap()
    }
}

fn spawn(config: &Path, env: &[(String, String)]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera-ra"))
        .arg("--config")
        .arg(config)
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let server = line.split("://").nth(1).and_then(|s| s.split('/').next()).expect("listening line").to_owned();
    (child, server)
}

impl Drop for Ra {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn x509(cert: &Path, args: &[&str]) -> String {
    let o = Command::new("openssl")
        .arg("x509")
        .arg("-in")
        .arg(cert)
        .args(["-noout", "-nameopt", "utf8"])
        .args(args)
        .output()
        .unwrap();
    text(&o)
}

#[test]
fn openssl_cmp_enrolls_with_the_activation_code_and_the_ra_dictates_the_subject() {
    let ra = Ra::start();
    let cert = ra.path("mario.pem");
    let out = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.csr("mario"), &cert);
    assert!(out.status.success(), "{}", text(&out));
    let log = text(&out);
    assert!(log.contains("received CP") && log.contains("received PKICONF"), "{log}");
    let subject = x509(&cert, &["-subject"]);
    assert!(subject.contains("serialNumber=TINIT-RSSMRA80A01H501U"), "{subject}");
    assert!(subject.contains("CN=ROSSI MARIO") && !subject.contains("ignored"), "{subject}");
    let ext = x509(&cert, &["-ext", "keyUsage"]);
    assert!(ext.contains("Non Repudiation"), "{ext}");
    // QC statements: QcCompliance, QcSSCD, QcType esign (DER of the extension value).
    let der =
        Command::new("openssl").arg("x509").arg("-in").arg(&cert).args(["-outform", "DER"]).output().unwrap().stdout;
    for statement in [[0x01], [0x04]] {
        let qc = [&[0x30, 0x08, 0x06, 0x06, 0x04, 0x00, 0x8E, 0x46, 0x01][..], &statement].concat();
        assert!(der.windows(qc.len()).any(|w| w == qc), "QcCompliance and QcSSCD");
    }
    assert!(x509(&cert, &["-text"]).contains("qcStatements"));
    // The certificate chains to the CA the RA published.
    let verify =
        Command::new("openssl").arg("verify").arg("-CAfile").arg(ra.path("ca.pem")).arg(&cert).output().unwrap();
    assert!(verify.status.success(), "{}", text(&verify));
    // A request is issued once.
    let again = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.csr("again"), &ra.path("again.pem"));
    assert!(!again.status.success());
    assert!(text(&again).contains("notAuthorized"), "{}", text(&again));
}

#[test]
fn the_cns_profile_gets_authentication_usages_and_an_accented_subject() {
    let ra = Ra::start();
    let cert = ra.path("cns.pem");
    let out = ra.p10cr("REQ-0002", "NPQR-STUV-WXYZ", &ra.csr("cns"), &cert);
    assert!(out.status.success(), "{}", text(&out));
    assert!(x509(&cert, &["-subject"]).contains("CN=FABBRÌ NICCOLÒ"));
    let ext = x509(&cert, &["-ext", "keyUsage,extendedKeyUsage"]);
    assert!(ext.contains("Digital Signature") && ext.contains("TLS Web Client Authentication"), "{ext}");
}

#[test]
fn wrong_activation_codes_and_unknown_references_are_refused() {
    let ra = Ra::start();
    let csr = ra.csr("x");
    let out = ra.p10cr("REQ-0001", "WRONG-CODE", &csr, &ra.path("x.pem"));
    assert!(!out.status.success());
    assert!(text(&out).contains("badMessageCheck"), "{}", text(&out));
    assert!(!ra.path("x.pem").exists());
    let out = ra.p10cr("REQ-9999", "ABCD-EFGH-JKLM", &csr, &ra.path("y.pem"));
    assert!(!out.status.success());
    assert!(text(&out).contains("notAuthorized"), "{}", text(&out));
    // The right code still works afterwards.
    let out = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &csr, &ra.path("z.pem"));
    assert!(out.status.success(), "{}", text(&out));
}

fn dates(cert: &Path) -> (String, String) {
    let t = x509(cert, &["-startdate", "-enddate"]);
    let get = |k: &str| t.lines().find_map(|l| l.strip_prefix(k)).unwrap_or_default().to_owned();
    (get("notBefore="), get("notAfter="))
}

#[test]
fn ir_with_proof_of_possession_then_kur_renews_continuing_the_validity() {
    let ra = Ra::start_with_validity(30);
    ra.key("old");
    ra.key("new");
    let ir = ra.ir_mario("old.key", "old.pem");
    assert!(ir.status.success(), "{}", text(&ir));
    assert!(text(&ir).contains("received IP"), "{}", text(&ir));
    // 30-day certificates are renewable at once: kur signed with the old key.
    let kur = ra.kur("old.pem", "old.key", "new.key", "new.pem");
    assert!(kur.status.success(), "{}", text(&kur));
    assert!(text(&kur).contains("received KUP") && text(&kur).contains("received PKICONF"), "{}", text(&kur));
    let (_, old_end) = dates(&ra.path("old.pem"));
    let (new_start, _) = dates(&ra.path("new.pem"));
    assert_eq!(new_start, old_end, "renewing early loses no days");
    assert_eq!(x509(&ra.path("new.pem"), &["-subject"]), x509(&ra.path("old.pem"), &["-subject"]));
    // The old certificate was the one renewed: it cannot be renewed a second time.
    let again = ra.kur("old.pem", "old.key", "old.key", "x.pem");
    assert!(!again.status.success());
    assert!(text(&again).contains("notAuthorized"), "{}", text(&again));
}

#[test]
fn kur_is_refused_before_the_renewal_window_and_for_foreign_certificates() {
    let ra = Ra::start_with_validity(365);
    ra.key("old");
    ra.key("new");
    let ir = ra.ir_mario("old.key", "old.pem");
    assert!(ir.status.success(), "{}", text(&ir));
    let early = ra.kur("old.pem", "old.key", "new.key", "new.pem");
    assert!(!early.status.success());
    assert!(text(&early).contains("renewal opens 60 days before expiry"), "{}", text(&early));
    // A certificate from another CA for the same key is not this CA's to renew.
    let sh = |cmd: &str| {
        let o = Command::new("sh").current_dir(ra.dir.path()).arg("-c").arg(cmd).output().unwrap();
        assert!(o.status.success(), "{cmd}: {}", text(&o));
    };
    sh(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key -subj /CN=Other -days 5 -out other-ca.pem 2>/dev/null",
    );
    sh("openssl req -new -key old.key -subj '/CN=ROSSI MARIO' -out own.csr");
    sh(
        "openssl x509 -req -in own.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -days 10 -out own.pem 2>/dev/null",
    );
    let foreign = ra.kur("own.pem", "old.key", "new.key", "f.pem");
    assert!(!foreign.status.success());
    assert!(text(&foreign).contains("not issued by this CA"), "{}", text(&foreign));
}

#[test]
fn holders_suspend_and_revoke_with_rr_and_the_crl_says_so() {
    let ra = Ra::start();
    ra.key("k1");
    ra.key("k2");
    let sh = |cmd: &str| {
        let o = Command::new("sh").current_dir(ra.dir.path()).arg("-c").arg(cmd).output().unwrap();
        (o.status.success(), text(&o))
    };
    for (reference, secret, key, out) in
        [("REQ-0001", "ABCD-EFGH-JKLM", "k1.key", "c1.pem"), ("REQ-0002", "NPQR-STUV-WXYZ", "k2.key", "c2.pem")]
    {
        let ir = ra.cmp(&[
            "-cmd",
            "ir",
            "-ref",
            reference,
            "-secret",
            &format!("pass:{secret}"),
            "-newkey",
            key,
            "-subject",
            "/CN=x",
            "-certout",
            out,
        ]);
        assert!(ir.status.success(), "{}", text(&ir));
    }
    assert!(
        x509(&ra.path("c1.pem"), &["-ext", "crlDistributionPoints"]).contains(&format!("http://{}/crl", ra.server))
    );
    // Suspension (certificateHold), then revocation: both signed by the certificate's key.
    let hold = ra.cmp(&[
        "-cmd",
        "rr",
        "-oldcert",
        "c1.pem",
        "-cert",
        "c1.pem",
        "-key",
        "k1.key",
        "-revreason",
        "6",
        "-trusted",
        "ca.pem",
    ]);
    assert!(hold.status.success() && text(&hold).contains("received RP"), "{}", text(&hold));
    let revoke = ra.cmp(&[
        "-cmd",
        "rr",
        "-oldcert",
        "c2.pem",
        "-cert",
        "c2.pem",
        "-key",
        "k2.key",
        "-revreason",
        "1",
        "-trusted",
        "ca.pem",
    ]);
    assert!(revoke.status.success(), "{}", text(&revoke));
    let again = ra.cmp(&[
        "-cmd",
        "rr",
        "-oldcert",
        "c2.pem",
        "-cert",
        "c2.pem",
        "-key",
        "k2.key",
        "-revreason",
        "1",
        "-trusted",
        "ca.pem",
    ]);
    assert!(!again.status.success() && text(&again).contains("already revoked"), "{}", text(&again));

    let (ok, out) = sh(&format!(
        "curl -sf -o crl.der http://{}/crl && openssl crl -inform DER -in crl.der -noout -text",
        ra.server
    ));
    assert!(ok, "{out}");
    assert!(out.contains("Certificate Hold") && out.contains("Key Compromise"), "{out}");
    let (ok, out) = sh(
        "openssl crl -inform DER -in crl.der -out crl.pem && cat ca.pem crl.pem > chain.pem && openssl verify -crl_check -CAfile chain.pem c2.pem",
    );
    assert!(!ok && out.contains("certificate revoked"), "{out}");
}

#[test]
fn state_survives_a_restart_requests_certificates_and_the_ca_key() {
    let ra = Ra::start_with_validity(30);
    ra.key("old");
    ra.key("new");
    let ir = ra.ir_mario("old.key", "old.pem");
    assert!(ir.status.success(), "{}", text(&ir));
    let ra = ra.restart();
    let again = ra.cmp(&[
        "-cmd",
        "ir",
        "-ref",
        "REQ-0001",
        "-secret",
        "pass:ABCD-EFGH-JKLM",
        "-newkey",
        "new.key",
        "-subject",
        "/CN=x",
        "-certout",
        "x.pem",
        "-unprotected_errors",
    ]);
    // Issued: the code is forgotten, so the refusal cannot be MAC-protected.
    assert!(!again.status.success() && text(&again).contains("already issued"), "{}", text(&again));
    // Same CA key after the restart: the old certificate still renews.
    let kur = ra.kur("old.pem", "old.key", "new.key", "new.pem");
    assert!(kur.status.success(), "{}", text(&kur));
    for key in ["tessera-ra/ca.key", "tessera-ra/root.key"] {
        let mode =
            std::fs::metadata(ra.path(key)).map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777);
        assert_eq!(mode.ok(), Some(0o600), "{key} is readable by its owner only");
    }
    // Root and issuing CA: the certificate chains through the issuing CA to the root only.
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(ra.path("tessera-ra/root.pem"))
        .arg("-untrusted")
        .arg(ra.path("tessera-ra/ca.pem"))
        .arg(ra.path("old.pem"))
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(x509(&ra.path("tessera-ra/ca.pem"), &["-issuer"]).contains("Tessera RA Root CA"));
}

std::thread_local! {
    /// The session each request's last SMS opened, as the holder's client keeps it.
    static SESSIONS: std::cell::RefCell<std::collections::HashMap<String, String>> = Default::default();
}

/// POST JSON to the holder API, as the holder's client does: the session an SMS opened is
/// kept, and sent with the OTP (unless the body names one).
fn post(ra: &Ra, path: &str, mut body: serde_json::Value) -> (u16, serde_json::Value) {
    let url = format!("http://{}{path}", ra.server);
    if let Some(reference) = path.strip_prefix("/api/v1/activation/").and_then(|p| p.strip_suffix("/otp"))
        && body.get("session").is_none()
    {
        let session = SESSIONS.with(|s| s.borrow().get(reference).cloned()).unwrap_or_default();
        body["session"] = session.into();
    }
    let answer: (u16, serde_json::Value) = match ureq::post(&url).send_json(body) {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or_default()),
        Err(e) => panic!("{url}: {e}"),
    };
    if let (Some(reference), Some(session)) = (answer.1["reference"].as_str(), answer.1["session"].as_str()) {
        SESSIONS.with(|s| s.borrow_mut().insert(reference.to_owned(), session.to_owned()));
    }
    answer
}

/// Holder mode, first step: activation code and tax code (or passport number).
fn start_activation(ra: &Ra, code: &str, tax_code: &str) -> (u16, serde_json::Value) {
    post(ra, "/api/v1/activation", serde_json::json!({ "activation_code": code, "tax_code": tax_code }))
}

/// The newest OTP the default SMS gateway delivered to `mobile`.
fn otp_for(ra: &Ra, mobile: &str) -> String {
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    let line = outbox.lines().rev().find(|l| l.contains(mobile)).expect("an SMS");
    line.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_digit()))
        .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
        .unwrap()
        .to_owned()
}

#[test]
fn a_holder_arms_the_request_with_code_tax_code_and_sms_otp_then_enrolls() {
    let ra = Ra::start();
    let csr = ra.csr("home");
    let early = ra.p10cr("REQ-0003", "HOME-CODE-0003", &csr, &ra.path("early.pem"));
    assert!(!early.status.success() && text(&early).contains("not armed"), "{}", text(&early));

    let (status, body) = start_activation(&ra, "home-code-0003", "RSSMRA80A01H501U");
    assert_eq!((status, body["code"].as_str()), (403, Some("activation-refused")), "{body}");
    assert_eq!(body["params"]["tries_left"], "4");
    let (status, body) = start_activation(&ra, "HOME-CODE-0003", "bnclcu75c15f205o");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reference"], "REQ-0003");
    assert_eq!(body["mobile"], "+39********67");
    assert_eq!(body["resend_after"], 30);
    let (status, body) =
        post(&ra, "/api/v1/activation/REQ-0003/resend", serde_json::json!({"activation_code": "HOME-CODE-0003"}));
    assert_eq!((status, body["code"].as_str()), (429, Some("otp-resend-too-soon")), "{body}");
    let (status, body) = post(&ra, "/api/v1/activation/REQ-0003/otp", serde_json::json!({"otp": "000000"}));
    assert_eq!(
        (status, body["code"].as_str(), body["params"]["tries_left"].as_str()),
        (403, Some("otp-wrong"), Some("3")),
        "{body}"
    );
    let otp = otp_for(&ra, "+393331234567");
    let (status, body) = post(&ra, "/api/v1/activation/REQ-0003/otp", serde_json::json!({ "otp": otp }));
    assert_eq!((status, &body["armed"]), (200, &serde_json::json!(true)), "{body}");

    let out = ra.p10cr("REQ-0003", "HOME-CODE-0003", &csr, &ra.path("home.pem"));
    assert!(out.status.success(), "{}", text(&out));
    assert!(x509(&ra.path("home.pem"), &["-subject"]).contains("serialNumber=TINIT-BNCLCU75C15F205O"));
}

/// Every file of the RA's state directory (database, its WAL, outbox, keys), as bytes.
fn state_files(ra: &Ra) -> Vec<(PathBuf, Vec<u8>)> {
    std::fs::read_dir(ra.path("tessera-ra"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn sms_codes_are_kept_keyed_and_the_database_files_are_owner_only() {
    use sha2::Digest;
    use std::os::unix::fs::PermissionsExt;
    let ra = Ra::start();
    let (status, _) = start_activation(&ra, "home code 0003", "BNCLCU75C15F205O");
    assert_eq!(status, 200);
    let otp = otp_for(&ra, "+393331234567");
    // Recovered from the database or its WAL, neither the code nor its unkeyed hash.
    let unkeyed: String =
        sha2::Sha256::digest(format!("REQ-0003:{otp}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let (status, body) = post(&ra, "/api/v1/activation/REQ-0003/otp", serde_json::json!({ "otp": otp }));
    assert_eq!(status, 200, "{body}");
    let files = state_files(&ra);
    let database: Vec<_> = files.iter().filter(|(p, _)| p.to_string_lossy().contains("tessera-ra.sqlite")).collect();
    assert!(database.len() >= 2, "the database and its WAL: {files:?}");
    for (path, bytes) in &database {
        assert!(!bytes.windows(unkeyed.len()).any(|w| w == unkeyed.as_bytes()), "{}", path.display());
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    // An older set-up's readable files are tightened at the next start.
    for (path, _) in &database {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let ra = ra.restart();
    let db = ra.path("tessera-ra").join("tessera-ra.sqlite");
    assert_eq!(std::fs::metadata(db).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn activation_codes_are_kept_only_as_keyed_hashes_and_sealed_while_armed() {
    let ra = Ra::start();
    // REQ-0001 is armed, REQ-0003 gets an OTP pending: both keep their code sealed.
    let (status, _) = start_activation(&ra, "home code 0003", "BNCLCU75C15F205O");
    assert_eq!(status, 200);
    let out = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.csr("m"), &ra.path("m.pem"));
    assert!(out.status.success(), "{}", text(&out));
    let files = state_files(&ra);
    assert!(files.iter().any(|(p, _)| p.ends_with("tessera-ra.sqlite")), "{files:?}");
    for (path, bytes) in &files {
        for code in ["ABCD-EFGH-JKLM", "ABCDEFGHJKLM", "HOME-CODE-0003", "HOMECODE0003", "NPQRSTUVWXYZ"] {
            assert!(!bytes.windows(code.len()).any(|w| w == code.as_bytes()), "{code} in {}", path.display());
        }
    }
    // Issued: the code is spent.
    let again = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &ra.csr("m2"), &ra.path("m2.pem"));
    assert!(text(&again).contains("already issued"), "{}", text(&again));
    // The keys that hash and seal them survive a restart (so does the armed request).
    let ra = ra.restart();
    let out = ra.p10cr("REQ-0002", "npqr stuv wxyz", &ra.csr("n"), &ra.path("n.pem"));
    assert!(!out.status.success(), "the MAC secret is the canonical form, as openssl was given it");
    let out = ra.p10cr("REQ-0002", "NPQR-STUV-WXYZ", &ra.csr("n"), &ra.path("n.pem"));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn wrong_codes_over_cmp_make_the_reference_wait_without_locking_the_holder_out() {
    let ra = exactly_once::reconfigured(Ra::start(), "\n[cmp]\nwrong_code_wait_seconds = 2\n");
    let csr = ra.csr("x");
    // Anyone who knows the reference: five wrong codes are checked, then the reference waits.
    for _ in 0..5 {
        let out = ra.p10cr("REQ-0001", "WRONG-CODE-XXXX", &csr, &ra.path("x.pem"));
        assert!(text(&out).contains("badMessageCheck"), "{}", text(&out));
    }
    for code in ["WRONG-CODE-XXXX", "ABCD-EFGH-JKLM"] {
        let out = ra.p10cr("REQ-0001", code, &csr, &ra.path("x.pem"));
        assert!(!out.status.success() && text(&out).contains("systemUnavail"), "{}", text(&out));
    }
    // Not locked for good: the holder's tries are untouched, and once the wait is over the
    // right code enrolls.
    let (_, rows) = operator_call(&ra, "GET", "/api/v1/operator/requests?q=REQ-0001", None);
    assert_eq!(rows[0]["locked"], false, "{rows}");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let out = ra.p10cr("REQ-0001", "ABCD-EFGH-JKLM", &csr, &ra.path("x.pem"));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn five_wrong_codes_or_otps_lock_the_request() {
    let ra = Ra::start();
    let (status, _) = start_activation(&ra, "HOME-CODE-0004", "VRDNNA90E50L219L");
    assert_eq!(status, 200);
    for _ in 0..2 {
        start_activation(&ra, "HOME-CODE-0004", "XXXXXX00X00X000X");
    }
    for expected in ["otp-wrong", "otp-wrong", "request-locked"] {
        let (_, body) = post(&ra, "/api/v1/activation/REQ-0004/otp", serde_json::json!({"otp": "999999"}));
        assert_eq!(body["code"], expected, "{body}");
    }
    // Locked: even the right OTP and the right tax code are refused now.
    let otp = otp_for(&ra, "+393339876543");
    let (status, body) = post(&ra, "/api/v1/activation/REQ-0004/otp", serde_json::json!({ "otp": otp }));
    assert_eq!((status, body["code"].as_str()), (423, Some("request-locked")));
    let (status, _) = start_activation(&ra, "HOME-CODE-0004", "VRDNNA90E50L219L");
    assert_eq!(status, 423);
    // An unknown code says nothing about which part was wrong.
    let (status, body) = start_activation(&ra, "NOPE", "VRDNNA90E50L219L");
    assert_eq!(
        (status, body["code"].as_str(), body["params"].as_object().map(|p| p.len())),
        (403, Some("activation-refused"), Some(0))
    );
}

/// The operator token of the test configuration, and its SHA-256 (what the RA keeps).
const OPERATOR_TOKEN: &str = "odr-test-token";

fn operator_call(ra: &Ra, method: &str, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
    let url = format!("http://{}{path}", ra.server);
    let req = ureq::request(method, &url).set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"));
    let result = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    match result {
        Ok(r) => (r.status(), r.into_json().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or_default()),
        Err(e) => panic!("{url}: {e}"),
    }
}

#[test]
fn operators_register_holders_create_requests_arm_them_and_manage_certificates() {
    let ra = Ra::start();
    // Without a token: nothing.
    let (status, body) = post(&ra, "/api/v1/operator/holders", serde_json::json!({"given_name": "X", "surname": "Y"}));
    assert_eq!((status, body["code"].as_str()), (401, Some("operator-unauthenticated")));
    // Tax code with a wrong check letter: the right one is suggested; forcing is explicit.
    let wrong = serde_json::json!({"given_name": "MARIO", "surname": "ROSSI", "cf": "RSSMRA80A01H501X", "mobile": "+393330000001"});
    let (status, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(wrong.clone()));
    assert_eq!(
        (status, body["code"].as_str(), body["params"]["expected"].as_str()),
        (422, Some("cf-check-letter"), Some("U"))
    );
    let mut forced = wrong.clone();
    forced["cf_forced"] = serde_json::json!(true);
    forced["mobile"] = serde_json::json!("+39 333 000 0002");
    let (status, _) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(forced));
    assert_eq!(status, 201);
    let right = serde_json::json!({"given_name": "MARIO", "surname": "ROSSI", "cf": "rssmra80a01h501u", "mobile": "+393330000001"});
    let (status, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(right.clone()));
    assert_eq!(status, 201);
    let holder = body["holder_id"].as_i64().unwrap();
    // OTPs go to the mobile: one registered to another person is refused (however it is
    // written); the same person registered again is not.
    let other = serde_json::json!({"given_name": "LUCA", "surname": "BIANCHI", "cf": "BNCLCU75C15F205O", "mobile": "+39 3330000001"});
    let (status, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(other));
    assert_eq!(
        (status, body["code"].as_str(), body["params"]["contact"].as_str()),
        (409, Some("contact-of-another-holder"), Some("mobile"))
    );
    assert_eq!(operator_call(&ra, "POST", "/api/v1/operator/holders", Some(right)).0, 201);
    // A passport holder gets the signature profile only.
    let passport = serde_json::json!({"given_name": "JOHN", "surname": "SMITH", "passport": "YA1234567", "passport_country": "US"});
    let (_, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(passport));
    let foreign = body["holder_id"].as_i64().unwrap();
    let (status, body) = operator_call(
        &ra,
        "POST",
        "/api/v1/operator/requests",
        Some(serde_json::json!({"holder_id": foreign, "profile": "cns-authentication"})),
    );
    assert_eq!((status, body["code"].as_str()), (422, Some("profile-needs-cf")));

    // A request: its activation code is shown once, in a readable form.
    let (status, body) = operator_call(
        &ra,
        "POST",
        "/api/v1/operator/requests",
        Some(serde_json::json!({"holder_id": holder, "profile": "signature"})),
    );
    assert_eq!(status, 201, "{body}");
    let reference = body["reference"].as_str().unwrap().to_owned();
    let code = body["activation_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 14);
    assert!(code.chars().all(|c| c == '-' || "ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(c)), "{code}");
    let (_, rows) = operator_call(&ra, "GET", "/api/v1/operator/requests?q=rossi", None);
    let row = rows.as_array().unwrap().iter().find(|r| r["reference"] == reference.as_str()).expect("listed");
    assert_eq!((row["armed"].as_bool(), row["issuance"].as_str()), (Some(false), Some("waiting")));
    assert!(!rows.to_string().contains(&code), "the activation code is not listed");

    // At the counter: the operator types the code the holder brought (as the holder reads
    // it out), no OTP; then CMP enrolls with the code in its canonical form.
    let arm = format!("/api/v1/operator/requests/{reference}/arm");
    let (status, body) =
        operator_call(&ra, "POST", &arm, Some(serde_json::json!({"activation_code": "AAAA-BBBB-CCCC"})));
    assert_eq!((status, body["code"].as_str()), (403, Some("activation-refused")), "{body}");
    let typed = code.replace('-', " ").to_lowercase();
    let (status, body) = operator_call(&ra, "POST", &arm, Some(serde_json::json!({ "activation_code": typed })));
    assert_eq!(status, 200, "{body}");
    let cert = ra.path("counter.pem");
    let out = ra.p10cr(&reference, &code, &ra.csr("counter"), &cert);
    assert!(out.status.success(), "{}", text(&out));
    let serial = x509(&cert, &["-serial"]).trim().trim_start_matches("serial=").to_lowercase();

    // Suspend, reactivate, revoke; revoked is final.
    let path = |action: &str| format!("/api/v1/operator/certificates/{serial}/{action}");
    assert_eq!(operator_call(&ra, "POST", &path("reactivate"), None).1["code"], "lifecycle-not-allowed");
    assert_eq!(operator_call(&ra, "POST", &path("suspend"), None).0, 200);
    assert_eq!(operator_call(&ra, "POST", &path("reactivate"), None).0, 200);
    assert_eq!(operator_call(&ra, "POST", &path("revoke"), Some(serde_json::json!({"reason": 4}))).0, 200);
    assert_eq!(operator_call(&ra, "POST", &path("reactivate"), None).1["code"], "certificate-revoked");
}

#[test]
fn the_openapi_document_describes_every_route_served() {
    let ra = Ra::start();
    let doc: serde_json::Value =
        ureq::get(&format!("http://{}/openapi.json", ra.server)).call().unwrap().into_json().unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    let documented: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    let main = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/main.rs")).unwrap();
    let served: Vec<&str> = main.match_indices(".route(").map(|(i, _)| main[i..].split('"').nth(1).unwrap()).collect();
    assert!(!served.is_empty());
    for route in served {
        // A catch-all segment ({*name}, slashes included) is a path parameter in OpenAPI.
        let route = route.replace("{*", "{");
        assert!(documented.contains(&route.as_str()), "{route} is served but not documented");
    }
}

#[test]
fn the_holder_api_is_rate_limited_per_client_address() {
    let ra = Ra::start();
    // Wrong guesses are failures of their address: ten at once, then one each six seconds
    // (a bucket that refills continuously: no window edge to straddle).
    let mut statuses = Vec::new();
    for _ in 0..14 {
        let (status, body) = start_activation(&ra, "GUESS", "X");
        statuses.push((status, body["code"].as_str().unwrap_or_default().to_owned()));
    }
    assert!(statuses[..10].iter().all(|(s, c)| *s == 403 && c == "activation-refused"), "{statuses:?}");
    assert!(statuses[10..].iter().all(|(s, c)| *s == 429 && c == "rate-limited"), "{statuses:?}");
    let (_, body) = start_activation(&ra, "GUESS", "X");
    let wait: u64 = body["params"]["retry_after"].as_str().unwrap().parse().unwrap();
    assert!((1..=6).contains(&wait), "{body}");
    std::thread::sleep(std::time::Duration::from_secs(wait));
    assert_eq!(start_activation(&ra, "GUESS", "X").0, 403, "one guess back");
    assert_eq!(start_activation(&ra, "GUESS", "X").0, 429);
}

/// A one-shot HTTP endpoint standing for an SMS or e-mail provider: its port, and the
/// request it received.
fn one_shot_provider() -> (u16, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let provider = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&request).contains("\"text\"") {
            let n = conn.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        conn.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n").unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (port, provider)
}

/// Restart the RA with this `[gateway]` section.
fn with_gateway(ra: Ra, gateway: &str) -> Ra {
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    std::fs::write(ra.path("ra.toml"), format!("{config}\n[gateway]\n{gateway}\n")).unwrap();
    ra.restart()
}

#[test]
fn sms_go_to_the_providers_webhook_too() {
    let (port, provider) = one_shot_provider();
    let ra = with_gateway(Ra::start(), &format!("sms_webhook = \"http://127.0.0.1:{port}/sms\""));
    let (status, body) = start_activation(&ra, "HOME-CODE-0003", "BNCLCU75C15F205O");
    assert_eq!(status, 200, "{body}");
    let request = provider.join().unwrap();
    assert!(request.starts_with("POST /sms"), "{request}");
    assert!(request.contains("\"to\":\"+393331234567\""), "{request}");
    assert!(request.contains(&otp_for(&ra, "+393331234567")), "the same OTP as in the outbox");
}

/// The first activation code (`XXXX-XXXX-XXXX`) in a text.
fn code_in(text: &str) -> Option<String> {
    text.as_bytes()
        .windows(14)
        .find(|w| {
            w.iter()
                .enumerate()
                .all(|(j, c)| if j == 4 || j == 9 { *c == b'-' } else { c.is_ascii_uppercase() || c.is_ascii_digit() })
        })
        .map(|w| String::from_utf8_lossy(w).into_owned())
}

#[test]
fn activation_codes_go_to_the_holder_by_email_and_operators_replace_lost_or_locked_ones() {
    let (port, provider) = one_shot_provider();
    let ra = with_gateway(Ra::start(), &format!("email_webhook = \"http://127.0.0.1:{port}/mail\""));
    let holder = |body: serde_json::Value| {
        let (status, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(body));
        assert_eq!(status, 201, "{body}");
        body["holder_id"].as_i64().unwrap()
    };
    let anna = holder(serde_json::json!({"given_name": "ANNA", "surname": "VERDI", "cf": "VRDNNA90E50L219L",
        "mobile": "+393330000009", "email": "anna.verdi@example.org"}));
    let luca = holder(serde_json::json!({"given_name": "LUCA", "surname": "BIANCHI", "cf": "BNCLCU75C15F205O"}));
    let create = |holder: i64| {
        operator_call(
            &ra,
            "POST",
            "/api/v1/operator/requests",
            Some(serde_json::json!({"holder_id": holder, "profile": "signature", "code_delivery": "email"})),
        )
    };
    let (status, body) = create(luca);
    assert_eq!((status, body["code"].as_str()), (409, Some("no-email")), "{body}");

    // By e-mail: the operator never sees the code.
    let (status, body) = create(anna);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["sent_to"], "a***@example.org");
    assert!(body.get("activation_code").is_none(), "{body}");
    let reference = body["reference"].as_str().unwrap().to_owned();
    let mail = provider.join().unwrap();
    assert!(mail.starts_with("POST /mail"), "{mail}");
    assert!(mail.contains("\"to\":\"anna.verdi@example.org\"") && mail.contains("\"subject\""), "{mail}");
    assert!(mail.contains(&reference), "{mail}");
    let code = code_in(&mail).expect("the code in the e-mail");
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    assert!(outbox.lines().any(|l| l.contains("\temail\tanna.verdi@example.org\t") && l.contains(&code)));
    for (path, bytes) in state_files(&ra).iter().filter(|(p, _)| !p.ends_with("outbox.log")) {
        assert!(!bytes.windows(code.len()).any(|w| w == code.as_bytes()), "the code in {}", path.display());
    }

    // The holder gets the tax code wrong five times: locked.
    let start = |code: &str, cf: &str| start_activation(&ra, code, cf);
    for _ in 0..5 {
        start(&code, "XXXXXX00X00X000X");
    }
    assert_eq!(start(&code, "VRDNNA90E50L219L").0, 423);
    // The operator replaces the code (handed over this time): unlocked, the old code dead.
    let (status, body) = operator_call(&ra, "POST", &format!("/api/v1/operator/requests/{reference}/code"), None);
    assert_eq!(status, 200, "{body}");
    let new_code = body["activation_code"].as_str().unwrap().to_owned();
    assert_ne!(new_code, code);
    assert_eq!(start(&code, "VRDNNA90E50L219L").1["code"], "activation-refused");
    let (status, body) = start(&new_code, "VRDNNA90E50L219L");
    assert_eq!(status, 200, "{body}");
    let otp = otp_for(&ra, "+393330000009");
    let (status, body) = post(&ra, &format!("/api/v1/activation/{reference}/otp"), serde_json::json!({ "otp": otp }));
    assert_eq!(status, 200, "{body}");
    let out = ra.p10cr(&reference, &new_code, &ra.csr("anna"), &ra.path("anna.pem"));
    assert!(out.status.success(), "{}", text(&out));
    // Issued: no more codes for this request.
    let (status, body) = operator_call(&ra, "POST", &format!("/api/v1/operator/requests/{reference}/code"), None);
    assert_eq!((status, body["code"].as_str()), (409, Some("already-issued")), "{body}");
    // The audit log tells who did what, newest first, and holds no code or OTP.
    let (status, log) = operator_call(&ra, "GET", &format!("/api/v1/operator/audit?subject={reference}"), None);
    assert_eq!(status, 200);
    let seen: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    for step in [
        ("odr-test", "request-created"),
        ("odr-test", "activation-code-emailed"),
        ("holder", "activation-refused"),
        ("odr-test", "activation-code-replaced"),
        ("holder", "otp-sent"),
        ("holder", "request-armed"),
        ("cmp", "certificate-issued"),
        ("cmp", "certificate-confirmed"),
    ] {
        assert!(seen.contains(&step), "{step:?} not in {seen:?}");
    }
    let text = log.to_string();
    assert!(!text.contains(&code) && !text.contains(&new_code) && !text.contains(&otp), "{text}");
}

/// The serials (lowercase hex) on the RA's CRL now.
fn crl_serials(ra: &Ra) -> String {
    let crl = ureq::get(&format!("http://{}/crl", ra.server)).call().unwrap();
    let mut der = Vec::new();
    std::io::Read::read_to_end(&mut crl.into_reader(), &mut der).unwrap();
    std::fs::write(ra.path("crl.der"), &der).unwrap();
    let listed = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(ra.path("crl.der"))
        .output();
    text(&listed.unwrap()).to_lowercase()
}

#[test]
fn under_the_approval_policy_renewals_wait_for_an_operator_who_approves_or_refuses() {
    for decision in ["approve", "refuse"] {
        let ra = Ra::start_with_validity(30);
        let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
        std::fs::write(ra.path("ra.toml"), format!("renewal_policy = \"approval\"\n{config}")).unwrap();
        let ra = ra.restart();
        issue_and_renew(&ra, "ecdsa-with-SHA256");
        let serial = x509(&ra.path("new.pem"), &["-serial"]).trim().trim_start_matches("serial=").to_lowercase();
        let old_serial = x509(&ra.path("old.pem"), &["-serial"]).trim().trim_start_matches("serial=").to_lowercase();
        // The new certificate works at once (not on the CRL before the old one expires).
        assert!(!crl_serials(&ra).contains(&serial));
        // Operators see both certificates of the request, the renewal pending.
        let (status, detail) = operator_call(&ra, "GET", "/api/v1/operator/requests/REQ-0001", None);
        assert_eq!(status, 200, "{detail}");
        let certs = detail["certificates"].as_array().unwrap();
        assert_eq!(certs.len(), 2, "{detail}");
        assert_eq!((certs[0]["serial"].as_str(), certs[0]["approval"].as_str()), (Some(old_serial.as_str()), None));
        assert_eq!(
            (certs[1]["serial"].as_str(), certs[1]["approval"].as_str()),
            (Some(serial.as_str()), Some("pending"))
        );
        assert_eq!(
            (certs[1]["state"].as_str(), detail["request"]["issuance"].as_str()),
            (Some("active"), Some("confirmed"))
        );
        assert_eq!(certs[1]["not_before"], certs[0]["not_after"], "the new validity continues the old one");

        let path = |s: &str, action: &str| format!("/api/v1/operator/certificates/{s}/{action}");
        assert_eq!(operator_call(&ra, "POST", &path(&old_serial, decision), None).1["code"], "nothing-to-approve");
        let (status, body) = operator_call(&ra, "POST", &path(&serial, decision), None);
        assert_eq!(status, 200, "{body}");
        if decision == "approve" {
            assert_eq!(body["approval"], "approved");
            assert!(!crl_serials(&ra).contains(&serial));
        } else {
            assert_eq!((body["approval"].as_str(), body["state"].as_str()), (Some("refused"), Some("revoked")));
            assert!(crl_serials(&ra).contains(&serial), "a refused renewal is revoked");
            assert_eq!(operator_call(&ra, "POST", &path(&serial, "approve"), None).1["code"], "certificate-revoked");
        }
        assert_ne!(operator_call(&ra, "POST", &path(&serial, decision), None).0, 200, "decided once");
    }
}

/// A private PostgreSQL server (Debian's), run as the postgres user in a temporary
/// directory, reached over its Unix socket.
struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Postgres {
    fn start() -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("postgresql installed (testbed/install.sh)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("an initdb");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let run = |args: &[&str]| {
            let o = Command::new("runuser").args(["-u", "postgres", "--"]).args(args).output().unwrap();
            assert!(o.status.success(), "{args:?}: {}", text(&o));
        };
        Command::new("chown").arg("postgres:postgres").arg(dir.path()).status().unwrap();
        let data = dir.path().join("data");
        run(&[bin.join("initdb").to_str().unwrap(), "-D", data.to_str().unwrap(), "-A", "trust", "-U", "postgres"]);
        let options = format!("-k {} -p {port} -c listen_addresses=''", dir.path().display());
        let log = dir.path().join("log");
        run(&[
            bin.join("pg_ctl").to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-o",
            &options,
            "-l",
            log.to_str().unwrap(),
            "-w",
            "start",
        ]);
        Postgres { dir, bin, port }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@localhost/postgres?host={}&port={}", self.dir.path().display(), self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D"])
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

#[test]
fn postgresql_backs_enrollment_renewal_activation_and_restarts() {
    let pg = Postgres::start();
    let ra = Ra::start_with(30, Some(&pg.url()));
    issue_and_renew(&ra, "ecdsa-with-SHA256");
    // The holder flow, with its lockout counter.
    let (status, _) = start_activation(&ra, "HOME-CODE-0003", "BNCLCU75C15F205O");
    assert_eq!(status, 200);
    let (_, body) = post(&ra, "/api/v1/activation/REQ-0003/otp", serde_json::json!({"otp": "000000"}));
    assert_eq!(body["params"]["tries_left"], "4");
    let otp = otp_for(&ra, "+393331234567");
    assert_eq!(post(&ra, "/api/v1/activation/REQ-0003/otp", serde_json::json!({ "otp": otp })).0, 200);
    // Holders registered through the operator API, contacts checked across holders.
    let anna = serde_json::json!({"given_name": "ANNA", "surname": "VERDI", "cf": "VRDNNA90E50L219L",
        "mobile": "+393330000009", "email": "anna@example.org"});
    assert_eq!(operator_call(&ra, "POST", "/api/v1/operator/holders", Some(anna)).0, 201);
    let luca = serde_json::json!({"given_name": "LUCA", "surname": "BIANCHI", "cf": "BNCLCU75C15F205O",
        "email": "ANNA@example.org"});
    let (status, body) = operator_call(&ra, "POST", "/api/v1/operator/holders", Some(luca));
    assert_eq!((status, body["params"]["contact"].as_str()), (409, Some("email")), "{body}");
    // Operators see it all; a restart keeps it.
    let ra = ra.restart();
    let (_, rows) = operator_call(&ra, "GET", "/api/v1/operator/requests?q=REQ-000", None);
    let row = |r: &str| rows.as_array().unwrap().iter().find(|x| x["reference"] == r).cloned().unwrap();
    assert_eq!(
        (row("REQ-0001")["issuance"].as_str(), row("REQ-0001")["certificates"].as_i64()),
        (Some("confirmed"), Some(2))
    );
    assert_eq!(row("REQ-0003")["armed"], true);
    let again = ra.ir_mario("new.key", "x.pem");
    assert!(!again.status.success() && text(&again).contains("already issued"), "{}", text(&again));
}

#[test]
fn over_tls_clients_that_trust_the_ras_root_enroll_and_others_do_not() {
    let ra = Ra::start();
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    std::fs::write(ra.path("ra.toml"), format!("tls = {{ names = [\"127.0.0.1\", \"localhost\"] }}\n{config}"))
        .unwrap();
    let ra = ra.restart();
    let csr = ra.csr("tls");
    let enroll = |trust: &Path, out: &str| {
        Command::new("openssl")
            .args([
                "cmp",
                "-cmd",
                "p10cr",
                "-server",
                &ra.server,
                "-path",
                "/.well-known/cmp",
                "-tls_used",
                "-tls_trusted",
            ])
            .arg(trust)
            .args(["-ref", "REQ-0001", "-secret", "pass:ABCD-EFGH-JKLM", "-csr"])
            .arg(&csr)
            .arg("-certout")
            .arg(ra.path(out))
            .output()
            .unwrap()
    };
    let out = enroll(Path::new("/etc/ssl/certs/ca-certificates.crt"), "public.pem");
    assert!(!out.status.success() && text(&out).contains("certificate verification failed"), "{}", text(&out));
    let out = enroll(&ra.path("tessera-ra/root.pem"), "tls.pem");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        x509(&ra.path("tls.pem"), &["-ext", "crlDistributionPoints"]).contains("https://"),
        "CRL URL follows the scheme"
    );
}

#[test]
fn genm_answers_the_ca_certificates() {
    let ra = Ra::start();
    let out = ra.cmp(&["-cmd", "genm", "-infotype", "caCerts", "-ref", "REQ-0001", "-secret", "pass:ABCD-EFGH-JKLM"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("received GENP") && text(&out).contains("id-it-caCerts"), "{}", text(&out));
    let other = ra.cmp(&[
        "-cmd",
        "genm",
        "-infotype",
        "signKeyPairTypes",
        "-ref",
        "REQ-0001",
        "-secret",
        "pass:ABCD-EFGH-JKLM",
    ]);
    assert!(!other.status.success() && text(&other).contains("badRequest"), "{}", text(&other));
}

/// Run a test-bed tool with `env`; panics with its output when it fails.
fn tool(program: &str, args: &[&str], env: &[(String, String)]) -> Output {
    let out = Command::new(program).args(args).envs(env.iter().cloned()).output().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {}", text(&out));
    out
}

/// ir for a fresh key (old.pem), then kur (new.pem): certificates signed with `algorithm`
/// (as openssl names it), and a kup signed by the CA that openssl accepts.
fn issue_and_renew(ra: &Ra, algorithm: &str) {
    ra.key("old");
    ra.key("new");
    let ir = ra.ir_mario("old.key", "old.pem");
    assert!(ir.status.success(), "{}", text(&ir));
    assert!(x509(&ra.path("old.pem"), &["-text", "-noout"]).contains(algorithm));
    let kur = ra.kur("old.pem", "old.key", "new.key", "new.pem");
    assert!(kur.status.success(), "{}", text(&kur));
}

/// The RA restarted from a fresh state directory with its issuing CA key at `key`.
fn with_ca_key(mut ra: Ra, key: &str, env: &[(String, String)]) -> Ra {
    let _ = ra.child.kill();
    let _ = ra.child.wait();
    std::fs::remove_dir_all(ra.path("tessera-ra")).unwrap();
    let config = std::fs::read_to_string(ra.path("ra.toml")).unwrap();
    std::fs::write(ra.path("ra.toml"), format!("{config}\n[ca]\nkey = \"{key}\"\n")).unwrap();
    ra.env = env.to_vec();
    ra.restart()
}

const HSM_PIN: &str = "4321";

/// An RA (certificates valid 30 days: renewable) first started with its issuing CA key
/// in a fresh SoftHSM token, made by pkcs11-tool with `--key-type key_type`: the RA, the
/// token, and the key's URI (PIN from the owner-only file ca.pin).
fn ra_with_hsm_key(key_type: &str) -> (Ra, tessera_testbed::SoftHsm, String) {
    let hsm = tessera_testbed::SoftHsm::empty();
    let env = hsm.env();
    let module = tessera_testbed::SOFTHSM_MODULE;
    let init = ["--init-token", "--free", "--label", "Tessera CA", "--so-pin", "12345678", "--pin", HSM_PIN];
    tool("softhsm2-util", &init, &env);
    hsm_tool(&env, &["--keypairgen", "--key-type", key_type, "--label", "issuing", "--id", "01"]);
    let ra = Ra::start_with_validity(30);
    let pin = ra.path("ca.pin");
    std::fs::write(&pin, format!("{HSM_PIN}\n")).unwrap();
    let uri =
        format!("pkcs11:token=Tessera%20CA;object=issuing?module-path={module}&pin-source=file:{}", pin.display());
    (with_ca_key(ra, &uri, &env), hsm, uri)
}

/// pkcs11-tool, logged in to the CA's SoftHSM token.
fn hsm_tool(env: &[(String, String)], args: &[&str]) -> Output {
    let base =
        ["--module", tessera_testbed::SOFTHSM_MODULE, "--token-label", "Tessera CA", "--login", "--pin", HSM_PIN];
    tool("pkcs11-tool", &[&base[..], args].concat(), env)
}

#[test]
fn the_issuing_ca_key_can_live_in_an_hsm() {
    // The RA, first started with its CA key in the token: no key file is made for it.
    let (ra, hsm, uri) = ra_with_hsm_key("EC:prime256v1");
    let (env, module, pin) = (hsm.env(), tessera_testbed::SOFTHSM_MODULE, ra.path("ca.pin"));
    assert!(!ra.path("tessera-ra/ca.key").exists(), "the issuing key stays in the token");
    assert!(ra.path("tessera-ra/root.key").exists());
    let file = |name: &str| ra.path(name).display().to_string();
    let verify = tool("openssl", &["verify", "-CAfile", &file("tessera-ra/root.pem"), &file("tessera-ra/ca.pem")], &[]);
    assert!(text(&verify).contains("OK"));
    // The certified key is the token's.
    hsm_tool(&env, &["--read-object", "--type", "pubkey", "--id", "01", "-o", &file("hsm.der")]);
    let hsm_key = tool("openssl", &["pkey", "-pubin", "-inform", "DER", "-in", &file("hsm.der")], &[]);
    let ca_key = x509(&ra.path("tessera-ra/ca.pem"), &["-pubkey", "-noout"]);
    assert_eq!(String::from_utf8_lossy(&hsm_key.stdout), ca_key);

    // Issuance, a renewal answered with the token's signature, and the CRL it signs.
    issue_and_renew(&ra, "ecdsa-with-SHA256");
    let (root, issuing) = (file("tessera-ra/root.pem"), file("tessera-ra/ca.pem"));
    tool("openssl", &["verify", "-CAfile", &root, "-untrusted", &issuing, &file("old.pem")], &[]);
    crl_serials(&ra); // fetched to crl.der
    let crl = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-in"])
        .arg(ra.path("crl.der"))
        .arg("-CAfile")
        .arg(ra.path("tessera-ra/ca.pem"))
        .output()
        .unwrap();
    assert!(crl.status.success() && text(&crl).contains("verify OK"), "{}", text(&crl));

    // A restart logs in again; a wrong PIN, or a PIN in the URI, stops the RA with why.
    let ra = ra.restart();
    let out = ra.p10cr("REQ-0002", "NPQR-STUV-WXYZ", &ra.csr("n"), &ra.path("n.pem"));
    assert!(out.status.success(), "{}", text(&out));
    let start = |config: &str| {
        std::fs::write(ra.path("bad.toml"), config).unwrap();
        Command::new(env!("CARGO_BIN_EXE_tessera-ra"))
            .arg("--config")
            .arg(ra.path("bad.toml"))
            .envs(env.iter().cloned())
            .output()
            .unwrap()
    };
    let state = format!("state_dir = \"{}\"\n", ra.path("tessera-ra").display());
    std::fs::write(ra.path("wrong.pin"), "0000").unwrap();
    let wrong = uri.replace(pin.to_str().unwrap(), ra.path("wrong.pin").to_str().unwrap());
    let out = start(&format!("listen = \"127.0.0.1:0\"\n{state}[ca]\nkey = \"{wrong}\"\n"));
    assert!(!out.status.success() && text(&out).contains("login"), "{}", text(&out));
    let inline = format!("pkcs11:token=Tessera%20CA;object=issuing?module-path={module}&pin-value=4321");
    let out = start(&format!("listen = \"127.0.0.1:0\"\n{state}[ca]\nkey = \"{inline}\"\n"));
    assert!(!out.status.success() && text(&out).contains("pin-source"), "{}", text(&out));
}

#[test]
fn an_issuing_ca_key_from_a_pkcs8_file_is_certified_by_the_root_and_checked_against_its_certificate() {
    let ra = Ra::start_with_validity(30);
    let key = ra.path("issuing.key");
    let args = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", key.to_str().unwrap()];
    tool("openssl", &args, &[]);
    let ra = with_ca_key(ra, key.to_str().unwrap(), &[]);
    assert!(!ra.path("tessera-ra/ca.key").exists());
    let ca = x509(&ra.path("tessera-ra/ca.pem"), &["-pubkey", "-noout"]);
    let ours = tool("openssl", &["pkey", "-pubout", "-in", key.to_str().unwrap()], &[]);
    assert_eq!(String::from_utf8_lossy(&ours.stdout), ca);
    // A P-384 CA signs its CMP answers with ecdsa-with-SHA384, which openssl checks.
    issue_and_renew(&ra, "ecdsa-with-SHA384");

    // A certificate that is not for the key is refused at start, with both named.
    let other = ra.path("other.key");
    tool(
        "openssl",
        &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", other.to_str().unwrap()],
        &[],
    );
    let config = format!(
        "listen = \"127.0.0.1:0\"\nstate_dir = \"{}\"\n[ca]\nkey = \"{}\"\n",
        ra.path("tessera-ra").display(),
        other.display()
    );
    std::fs::write(ra.path("bad.toml"), config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tessera-ra")).arg("--config").arg(ra.path("bad.toml")).output().unwrap();
    assert!(!out.status.success() && text(&out).contains("not for the CA key"), "{}", text(&out));
}

#[test]
fn signature_certificates_carry_the_optional_subject_data_checked_at_the_counter() {
    let ra = Ra::start();
    let holder = |body: serde_json::Value| operator_call(&ra, "POST", "/api/v1/operator/holders", Some(body));
    let (_, body) = holder(serde_json::json!({"given_name": "MARIO", "surname": "ROSSI", "cf": "RSSMRA80A01H501U",
        "email": "mario.rossi@example.org"}));
    let mario = body["holder_id"].as_i64().unwrap();
    let (_, body) = holder(serde_json::json!({"given_name": "LUCA", "surname": "BIANCHI", "cf": "BNCLCU75C15F205O",
        "email": "luca.bianchi@pec.example.it"}));
    let luca = body["holder_id"].as_i64().unwrap();
    let request = |holder: i64, profile: &str, subject: serde_json::Value| {
        operator_call(
            &ra,
            "POST",
            "/api/v1/operator/requests",
            Some(serde_json::json!({"holder_id": holder, "profile": profile, "subject": subject})),
        )
    };
    for (holder, profile, subject, code) in [
        (mario, "cns-authentication", serde_json::json!({"title": "Avvocato"}), "subject-extras-signature-only"),
        (mario, "signature", serde_json::json!({"organization": "Studio Rossi"}), "organization-needs-identifier"),
        (
            mario,
            "signature",
            serde_json::json!({"organization": "S", "organization_vat": "12345678901"}),
            "organization-vat-invalid",
        ),
        (
            mario,
            "signature",
            serde_json::json!({"organization": "S", "organization_cf": "RSSMRA80A01H501X"}),
            "cf-check-letter",
        ),
        (luca, "signature", serde_json::json!({"include_email": true}), "email-is-pec"),
    ] {
        let (status, body) = request(holder, profile, subject);
        assert_eq!((status, body["code"].as_str()), (422, Some(code)), "{body}");
    }
    let subject = serde_json::json!({"title": "Avvocato", "organization": "Studio Legale Rossi",
        "organization_vat": "12345678903", "include_email": true});
    let (status, body) = request(mario, "signature", subject);
    assert_eq!(status, 201, "{body}");
    let (reference, code) = (body["reference"].as_str().unwrap(), body["activation_code"].as_str().unwrap());
    let arm = format!("/api/v1/operator/requests/{reference}/arm");
    assert_eq!(operator_call(&ra, "POST", &arm, Some(serde_json::json!({ "activation_code": code }))).0, 200);
    let cert = ra.path("extras.pem");
    let out = ra.p10cr(reference, code, &ra.csr("extras"), &cert);
    assert!(out.status.success(), "{}", text(&out));
    let subject = x509(&cert, &["-subject", "-nameopt", "sep_multiline,sname"]);
    for part in [
        "O=Studio Legale Rossi",
        "organizationIdentifier=VATIT-12345678903",
        "title=Avvocato",
        "serialNumber=TINIT-RSSMRA80A01H501U",
    ] {
        assert!(subject.contains(part), "{part} not in {subject}");
    }
    assert!(x509(&cert, &["-ext", "subjectAltName"]).contains("email:mario.rossi@example.org"));

    // A passport holder: signature only, serialNumber PAS<country>-<number>; at home the
    // passport number stands for the tax code.
    let (status, body) = holder(serde_json::json!({"given_name": "JOHN", "surname": "SMITH", "passport": "YA1234567"}));
    assert_eq!((status, body["code"].as_str()), (422, Some("passport-needs-country")), "{body}");
    let (_, body) = holder(serde_json::json!({"given_name": "JOHN", "surname": "SMITH", "passport": "ya 1234567",
        "passport_country": "gb", "mobile": "+447700900123"}));
    let john = body["holder_id"].as_i64().unwrap();
    let (status, body) = request(john, "signature", serde_json::json!({}));
    assert_eq!(status, 201, "{body}");
    let (reference, code) =
        (body["reference"].as_str().unwrap().to_owned(), body["activation_code"].as_str().unwrap().to_owned());
    let (status, body) = start_activation(&ra, &code, "YA1234567");
    assert_eq!(status, 200, "{body}");
    let otp = otp_for(&ra, "+447700900123");
    assert_eq!(post(&ra, &format!("/api/v1/activation/{reference}/otp"), serde_json::json!({ "otp": otp })).0, 200);
    let cert = ra.path("john.pem");
    let out = ra.p10cr(&reference, &code, &ra.csr("john"), &cert);
    assert!(out.status.success(), "{}", text(&out));
    assert!(x509(&cert, &["-subject"]).contains("serialNumber=PASGB-YA1234567"), "{}", x509(&cert, &["-subject"]));
}

#[test]
fn an_rsa_issuing_key_in_an_hsm_signs_certificates_and_cmp_answers() {
    let (ra, _hsm, _) = ra_with_hsm_key("rsa:2048");
    issue_and_renew(&ra, "sha256WithRSAEncryption");
}

#[test]
fn certificates_issued_suspended_wait_for_the_paperwork_then_an_operator_activates_them() {
    let ra = Ra::start();
    let (_, body) = operator_call(
        &ra,
        "POST",
        "/api/v1/operator/holders",
        Some(serde_json::json!({"given_name": "MARIO", "surname": "ROSSI", "cf": "RSSMRA80A01H501U"})),
    );
    let request = serde_json::json!({"holder_id": body["holder_id"], "profile": "signature", "issued_suspended": true});
    let (_, body) = operator_call(&ra, "POST", "/api/v1/operator/requests", Some(request));
    let (reference, code) = (body["reference"].as_str().unwrap(), body["activation_code"].as_str().unwrap());
    let arm = format!("/api/v1/operator/requests/{reference}/arm");
    assert_eq!(operator_call(&ra, "POST", &arm, Some(serde_json::json!({ "activation_code": code }))).0, 200);
    // Tessera's own CMP client this time: it reads the CA's note.
    use tessera_protocol::cmp::{self, Body, Client};
    let post_cmp = |der: Vec<u8>| {
        let resp = ureq::post(&format!("http://{}/.well-known/cmp", ra.server))
            .set("Content-Type", "application/pkixcmp")
            .send_bytes(&der)
            .unwrap();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut out).unwrap();
        cmp::parse(&out).unwrap()
    };
    let csr = pem::parse(std::fs::read_to_string(ra.csr("held")).unwrap()).unwrap().into_contents();
    let client = Client {
        reference: reference.as_bytes(),
        secret: code.as_bytes(),
        transaction_id: [7; 16],
        salt: [9; 16],
        profile: None,
    };
    let answer = post_cmp(client.p10cr(&[1; 16], &csr));
    assert!(answer.verify(code.as_bytes()).is_ok());
    let Body::CertResponse { accepted: true, certificate: Some(der), cert_req_id, text: Some(note), .. } = answer.body
    else {
        panic!("{:?}", answer.body)
    };
    assert!(note.starts_with("issued-suspended"), "{note}");
    let conf = post_cmp(client.cert_conf(&[2; 16], &answer.sender_nonce.unwrap_or_default(), &der, cert_req_id));
    assert!(matches!(conf.body, Body::Confirmed), "{:?}", conf.body);
    let cert = ra.path("held.pem");
    std::fs::write(&cert, pem::encode(&pem::Pem::new("CERTIFICATE", der))).unwrap();
    let serial = x509(&cert, &["-serial"]).trim().trim_start_matches("serial=").to_lowercase();
    assert!(crl_serials(&ra).contains(&serial), "on hold until validated");
    let (_, detail) = operator_call(&ra, "GET", &format!("/api/v1/operator/requests/{reference}"), None);
    assert_eq!(detail["certificates"][0]["state"], "suspended", "{detail}");
    // The paperwork is validated: the operator activates it.
    let (status, _) = operator_call(&ra, "POST", &format!("/api/v1/operator/certificates/{serial}/reactivate"), None);
    assert_eq!(status, 200);
    assert!(!crl_serials(&ra).contains(&serial));
}

#[test]
fn the_card_pin_and_puk_are_chosen_by_the_ra_first_halves_on_paper_second_halves_by_email() {
    let ra = Ra::start();
    let (status, h) = operator_call(
        &ra,
        "POST",
        "/api/v1/operator/holders",
        Some(serde_json::json!({
        "given_name": "CARLA", "surname": "NERI", "cf": "NRECRL80A41H501U", "cf_forced": true,
        "mobile": "+393330000077", "email": "carla.neri@example.org"})),
    );
    assert_eq!(status, 201, "{h}");
    let (status, r) = operator_call(
        &ra,
        "POST",
        "/api/v1/operator/requests",
        Some(serde_json::json!({
        "holder_id": h["holder_id"], "profile": "signature"})),
    );
    assert_eq!(status, 201, "{r}");
    let (reference, code) =
        (r["reference"].as_str().unwrap().to_owned(), r["activation_code"].as_str().unwrap().to_owned());

    // The sheet handed over with the card: first halves only.
    let (status, sheet) = operator_call(&ra, "GET", &format!("/api/v1/operator/requests/{reference}/handover"), None);
    assert_eq!(status, 200, "{sheet}");
    let (pin1, puk1) =
        (sheet["pin_first_half"].as_str().unwrap().to_owned(), sheet["puk_first_half"].as_str().unwrap().to_owned());
    assert_eq!((pin1.len(), puk1.len()), (4, 4));
    assert!(sheet["sheet"].as_str().unwrap().contains(&format!("PIN / First half of the PIN: {pin1}")));
    // Or by SMS to the holder's mobile.
    let (status, _) = operator_call(
        &ra,
        "POST",
        &format!("/api/v1/operator/requests/{reference}/halves"),
        Some(serde_json::json!({"channel": "sms"})),
    );
    assert_eq!(status, 200);
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    assert!(outbox.lines().any(|l| l.contains("+393330000077") && l.contains(&format!("PIN {pin1}"))), "{outbox}");
    // The second halves wait for the request to complete.
    let (status, body) = operator_call(
        &ra,
        "POST",
        &format!("/api/v1/operator/requests/{reference}/halves"),
        Some(serde_json::json!({"channel": "email"})),
    );
    assert_eq!((status, body["code"].as_str()), (409, Some("halves-not-yet")));

    // The tool gets them whole only with the code, and only once the request is armed.
    let unlock = |code: &str| {
        post(
            &ra,
            &format!("/api/v1/activation/{reference}/personalisation"),
            serde_json::json!({"activation_code": code}),
        )
    };
    assert_eq!(unlock(&code).1["code"], "personalisation-closed");
    let (status, _) = operator_call(
        &ra,
        "POST",
        &format!("/api/v1/operator/requests/{reference}/arm"),
        Some(serde_json::json!({"activation_code": code})),
    );
    assert_eq!(status, 200);
    assert_eq!(unlock("WRNG-CODE-0000").0, 403);
    let (status, secrets) = unlock(&code);
    assert_eq!(status, 200, "{secrets}");
    let (pin, puk) = (secrets["pin"].as_str().unwrap(), secrets["puk"].as_str().unwrap());
    assert!(pin.starts_with(&pin1) && puk.starts_with(&puk1) && pin.len() == 8 && puk.len() == 8);
    assert_eq!(secrets["management_key"].as_str().unwrap().len(), 48);

    // Issued and confirmed: the second halves and the user code reach the holder's mailbox.
    let csr = ra.csr("carla");
    let out = ra.p10cr(&reference, &code, &csr, &ra.path("carla.pem"));
    assert!(out.status.success(), "{}", text(&out));
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    let mail = outbox
        .lines()
        .rev()
        .find(|l| l.contains("carla.neri@example.org") && l.contains("codice utente"))
        .expect("the completion e-mail");
    assert!(
        mail.contains(&format!("seconda metà del PIN {}", &pin[4..]))
            && mail.contains(&format!("seconda metà del PUK {}", &puk[4..])),
        "{mail}"
    );
    // No PIN, PUK or key in the database or the audit log.
    for (path, bytes) in state_files(&ra) {
        if path.ends_with("outbox.log") {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(pin) && !text.contains(puk), "{} holds a card secret", path.display());
    }
    let (status, _) = unlock(&code);
    assert_eq!(status, 409, "closed once issued");
}
