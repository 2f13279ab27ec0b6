//! The CMP endpoint with `openssl cmp` as the independent client: enrollment, renewal,
//! revocation, the CRL, restarts, the CA key in a file or an HSM, PostgreSQL and TLS.

use super::*;

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
    // A certified-mail [PEC] address is never the holder's e-mail (it would go into a
    // certificate): refused when the holder is registered.
    let (status, body) =
        holder(serde_json::json!({"given_name": "LUCA", "surname": "BIANCHI", "cf": "BNCLCU75C15F205O",
        "email": "luca.bianchi@pec.example.it"}));
    assert_eq!((status, body["code"].as_str()), (422, Some("email-is-pec")), "{body}");
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
