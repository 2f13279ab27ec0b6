//! End to end: the `tessera` CLI and the desktop window against the real test bed.
//! Binaries come from the workspace build (`cargo build --workspace --bins`, done by
//! testbed/run-tests.sh before the tests).

mod desktop;
mod installed;
mod links;
mod shape;
mod webdriver;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use tessera_testbed::*;

fn bin(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    let path = target.join("debug").join(name);
    assert!(path.exists(), "{} missing: run `cargo build --workspace --bins` first", path.display());
    path
}

fn tessera(env: &[(String, String)], args: &[&str]) -> Output {
    tessera_with_stdin(env, args, "")
}

/// Run `tessera` with `stdin` as its standard input (PINs with --pin-stdin).
/// `tessera args`, aborted (SIGABRT: no clean-up, like a kill) the moment step `at` starts
/// (`TESSERA_TEST_CRASH_AT`); what it said on stderr, whose last line is that step's start.
fn crashed_at(env: &[(String, String)], args: &[&str], at: &str, stdin: &str) -> String {
    use std::io::Write;
    let child = Command::new(bin("tessera"))
        .args(args)
        .envs(env.iter().cloned())
        .env("TESSERA_TEST_CRASH_AT", at)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.as_ref().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let seen = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "crashed at {at:?}: {seen}");
    assert!(seen.lines().last().is_some_and(|l| l.starts_with("→ ")), "{seen}");
    seen
}

/// The answers that sign a new operator of office RM01 in at the counter, one per line
/// as `tessera activate --operator --stdin` reads them: name, password, one-time code. A
/// new account each time, so that no run waits for a one-time code not used yet.
fn counter_sign_in(ra: &tessera_testbed::ra::RaServer) -> String {
    static ACCOUNTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = ACCOUNTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    ra.operator(&format!("sportello.{n}"), "RM01").sign_in_answers().join("\n") + "\n"
}

fn tessera_with_stdin(env: &[(String, String)], args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(bin("tessera"))
        .args(args)
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tessera runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn tempfile_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("tessera-gui-").tempdir().unwrap()
}

/// What the window sees on the test display: the display, the sample tokens' module,
/// Italian, and its own storage under `profile` (the language choice and what it has seen
/// start empty for every run).
fn display_env(display: &webdriver::Display, profile: &std::path::Path) -> Vec<(String, String)> {
    let mut env = vec![
        ("DISPLAY".to_owned(), display.name.clone()),
        ("TESSERA_MODULES".to_owned(), SOFTHSM_MODULE.to_owned()),
        ("LANG".to_owned(), "it_IT.UTF-8".to_owned()),
    ];
    for var in ["XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"] {
        env.push((var.into(), profile.join(var).display().to_string()));
    }
    env
}

fn both(a: &[(String, String)], b: &[(String, String)]) -> Vec<(String, String)> {
    a.iter().chain(b).cloned().collect()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn cli_devices_json_has_the_documented_shape() {
    let pcsc = Pcsc::start();
    let hsm = SoftHsm::with_samples();
    let _card = pcsc.insert(0, ATR_CNS_INFOCAMERE);
    let env = both(&pcsc.env(), &hsm.env());
    assert!(wait_until(Duration::from_secs(5), || stdout(&tessera(&env, &["devices", "--json"]))
        .contains("it-cns-stincard")));
    let out = tessera(&env, &["devices", "--json", "--no-p11-kit", "--module", SOFTHSM_MODULE]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["version"], 1);
    assert_eq!(v["readers"][0]["name"], "Virtual PCD 00 00");
    assert_eq!(v["readers"][0]["card"]["atr"], ATR_CNS_INFOCAMERE);
    assert_eq!(v["readers"][0]["card"]["identification"]["status"], "known");
    assert_eq!(v["readers"][0]["card"]["identification"]["model"]["id"], "it-cns-stincard");
    assert_eq!(v["readers"][1]["card"], Value::Null);
    let tokens = v["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 3);
    let bianchi = tokens.iter().find(|t| t["label"] == "Luca Bianchi Firma").unwrap();
    assert_eq!(bianchi["pin"]["state"], "ok");
    let expiring = bianchi["certificates"].as_array().unwrap().iter().find(|c| c["id"] == "11").unwrap();
    assert_eq!(expiring["status"], "renewable");
    assert_eq!(expiring["days_left"], 30);
    assert_eq!(expiring["role"], "signature");
    assert_eq!(expiring["holder_cf"], "BNCLCU75C15F205O");
    assert_eq!(expiring["private_key"], "not-visible");
    assert!(expiring["uri"].as_str().unwrap().starts_with("pkcs11:token=Luca%20Bianchi%20Firma;"));
    assert_eq!(v["problems"].as_array().unwrap().len(), 0);
}

#[test]
fn cli_diagnose_reports_each_check_in_the_users_language_and_as_json() {
    use tessera_testbed::ra::RaServer;
    let hsm = SoftHsm::with_samples();
    let ra = RaServer::start("");
    let data = tempfile_dir();
    let mut env = hsm.env();
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    env.push(("TESSERA_MODULES".into(), SOFTHSM_MODULE.into()));
    let ra_args = ["--ra", &ra.url()];
    let token = "pkcs11:token=Luca%20Bianchi%20Firma";
    let out = tessera(&env, &[&["diagnose", "--token", token, "--json"][..], &ra_args].concat());
    assert!(out.status.success(), "a certificate can be renewed: {}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["renewable"], true);
    let checks = v["checks"].as_array().unwrap();
    assert!(checks.iter().any(|c| c["code"] == "diag-ra-reachable" && c["verdict"] == "pass"), "{checks:?}");
    assert!(checks.iter().all(|c| c["text"].as_str().is_some_and(|t| !t.is_empty() && !t.starts_with("diag-"))));
    let certs = v["certificates"].as_array().unwrap();
    assert!(certs.iter().any(|c| c["verdict"] == "fail"), "the expired one");
    // In Italian by default, in English with --lang en; the expired one says what to do.
    let it = tessera(&env, &[&["diagnose", "--token", token][..], &ra_args].concat());
    assert!(stdout(&it).contains("Scaduto il") && stdout(&it).contains("nuova attivazione"), "{}", stdout(&it));
    let en = tessera(&env, &[&["diagnose", "--lang", "en", "--token", token][..], &ra_args].concat());
    assert!(stdout(&en).contains("cannot be renewed") && stdout(&en).contains("Renewal is open"), "{}", stdout(&en));
    // Nothing renewable on the card with only an RSA 1024 key and a decryption key: exit 1.
    let varie = tessera(&env, &[&["diagnose", "--token", "pkcs11:token=Varie"][..], &ra_args].concat());
    assert_eq!(varie.status.code(), Some(1), "{}", stdout(&varie));
    // With --pin: the PIN once, then each key's test signature, verified with its certificate.
    let args = [&["diagnose", "--lang", "en", "--pin", "--stdin", "--token", token][..], &ra_args].concat();
    let signed = tessera_with_stdin(&env, &args, "123456\n");
    assert!(signed.status.success(), "{}", stderr(&signed));
    assert!(stdout(&signed).contains("a test signature on the card verifies"), "{}", stdout(&signed));
}

#[test]
fn cli_status_reminds_of_certificates_seen_with_their_card_absent() {
    let hsm = SoftHsm::with_samples();
    let data = tempfile_dir();
    let mut env = hsm.env();
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    env.push(("TESSERA_MODULES".into(), SOFTHSM_MODULE.into()));
    assert!(tessera(&env, &["status"]).status.success(), "the first sight");
    // The tokens gone: another, empty SoftHSM2.
    let empty = SoftHsm::empty();
    let mut absent = empty.env();
    absent.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    absent.push(("TESSERA_MODULES".into(), SOFTHSM_MODULE.into()));
    let out = tessera(&absent, &["status", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let due = v.as_array().unwrap();
    let bianchi = due.iter().find(|r| r["token"] == "Luca Bianchi Firma" && r["notice"] == 30).expect("30-day notice");
    assert_eq!(bianchi["present"], false);
    let text = stdout(&tessera(&absent, &["--lang", "en", "status"]));
    assert!(text.contains("not inserted") && text.contains("expires in"), "{text}");
    // Looking ahead: the 7-day notice.
    let ahead = time::OffsetDateTime::now_utc() + time::Duration::days(25);
    let at = ahead.format(&time::format_description::well_known::Rfc3339).unwrap();
    let v: Value = serde_json::from_str(&stdout(&tessera(&absent, &["status", "--json", "--at", &at]))).unwrap();
    assert!(v.as_array().unwrap().iter().any(|r| r["token"] == "Luca Bianchi Firma" && r["notice"] == 7), "{v}");
}

#[test]
fn cli_devices_table_speaks_italian_then_english() {
    let pcsc = Pcsc::start();
    let hsm = SoftHsm::with_samples();
    let env = both(&pcsc.env(), &hsm.env());
    let it = tessera(&env, &["devices", "--no-p11-kit", "--module", SOFTHSM_MODULE]);
    assert!(it.status.success(), "{}", stderr(&it));
    let text = stdout(&it);
    for expected in [
        "Lettori",
        "Nessuna carta inserita",
        "Rinnovabile · scade tra 30 giorni",
        "Scaduto da 10 giorni",
        "FABBRÌ NICCOLÒ",
        "nessuna chiave privata",
    ] {
        assert!(text.contains(expected), "{expected:?} not in\n{text}");
    }
    let en = tessera(&env, &["--lang", "en", "devices", "--no-p11-kit", "--module", SOFTHSM_MODULE]);
    let text = stdout(&en);
    for expected in ["Readers", "No card inserted", "Renewable · expires in 30 days", "Expired 10 days ago"] {
        assert!(text.contains(expected), "{expected:?} not in\n{text}");
    }
}

#[test]
fn cli_watch_streams_insert_and_remove() {
    let pcsc = Pcsc::start();
    let mut child = Command::new(bin("tessera"))
        .args(["devices", "--watch", "--json"])
        .envs(pcsc.env())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let card = pcsc.insert(1, ATR_TESTBED);
    let inserted: Value = serde_json::from_str(&rx.recv_timeout(Duration::from_secs(5)).unwrap()).unwrap();
    assert_eq!(inserted["event"], "card-inserted");
    assert_eq!(inserted["reader"], "Virtual PCD 00 01");
    assert_eq!(inserted["atr"], ATR_TESTBED);
    assert_eq!(inserted["identification"]["model"]["id"], "testbed-card");
    card.remove();
    let removed: Value = serde_json::from_str(&rx.recv_timeout(Duration::from_secs(5)).unwrap()).unwrap();
    assert_eq!(removed["event"], "card-removed");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn cli_errors_exit_non_zero_with_cause_and_remedy() {
    let pcsc = Pcsc::start();
    pcsc.stop();
    let hsm = SoftHsm::empty();
    let env = both(&pcsc.env(), &hsm.env());
    let out = tessera(&env, &["devices", "--no-p11-kit"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("Il servizio delle smart card (pcscd) non è in esecuzione"), "{err}");
    assert!(err.contains("→ Avvia il servizio"), "{err}");
    assert!(err.contains("[pcsc-not-running]"), "{err}");

    let out =
        tessera(&env, &["--lang", "en", "devices", "--json", "--no-p11-kit", "--module", "/opt/nowhere/libvendor.so"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let codes: Vec<&str> = v["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["pcsc-not-running", "module-missing"]);
    assert!(
        stderr(&out).contains("The PKCS#11 module \"/opt/nowhere/libvendor.so\" is not installed"),
        "{}",
        stderr(&out)
    );
}

/// The real window under Xvfb, driven through tauri-driver + WebKitWebDriver.
#[test]
fn gui_devices_screen_follows_cards_live() {
    let display = webdriver::Display::start();
    let pcsc = Pcsc::start();
    let hsm = SoftHsm::with_samples();
    // The window's own storage (the language choice) starts empty for every run.
    let profile = tempfile_dir();
    let mut env = both(&pcsc.env(), &hsm.env());
    env.extend(display_env(&display, profile.path()));
    let driver = webdriver::Driver::start(&env);
    let s = driver.session(&bin("tessera-app"));
    let long = Duration::from_secs(15);

    // Starts in Italian, with the test bed's tokens and the expiring certificate's badge.
    s.wait_text(r#"body[data-ready] h2[data-l10n="devices-readers"]"#, long, |t| t == "Lettori");
    // The renewal reminders, from the certificates this computer has seen.
    let reminder = s.wait_text("#reminder-list .reminder", long, |t| !t.is_empty());
    assert!(reminder.contains("BIANCHI LUCA") && reminder.contains("scade tra"), "{reminder}");
    let badge =
        s.wait_text(r#"[data-token-label="Luca Bianchi Firma"] [data-cert-id="11"] .badge"#, long, |t| !t.is_empty());
    assert_eq!(badge, "Rinnovabile · scade tra 30 giorni");
    let class = s.js(r#"return document.querySelector('[data-token-label="Luca Bianchi Firma"] [data-cert-id="11"] .badge').className"#);
    assert!(class.as_str().unwrap().contains("status-renewable"), "{class}");
    let expired = s.text(r#"[data-token-label="Luca Bianchi Firma"] [data-cert-id="12"] .badge"#).unwrap();
    assert_eq!(expired, "Scaduto da 10 giorni");
    s.wait_text(r#"[data-reader="Virtual PCD 00 01"] .card.none"#, long, |t| t == "Nessuna carta inserita");

    // Insert a card: it appears without any refresh; pull it out: it goes.
    let card = pcsc.insert(1, ATR_CNS_INFOCAMERE);
    s.wait_text(r#"[data-reader="Virtual PCD 00 01"] .card-model"#, long, |t| t == "CNS / firma digitale");
    s.wait_text("#status", long, |t| t.contains("Carta inserita in Virtual PCD 00 01"));
    let shots = root().join("target/e2e");
    s.screenshot(r#"[data-reader="Virtual PCD 00 01"] .card-model"#, &shots.join("devices-it.png"));
    card.remove();
    s.wait_gone(r#"[data-reader="Virtual PCD 00 01"] .card-model"#, long);
    s.wait_text(r#"[data-reader="Virtual PCD 00 01"] .card.none"#, long, |t| t == "Nessuna carta inserita");

    // English on demand.
    s.click(r#"button[data-lang="en"]"#);
    s.wait_text(r#"h2[data-l10n="devices-readers"]"#, long, |t| t == "Readers");
    s.wait_text("#reminder-list .reminder", long, |t| t.contains("expires in"));
    assert_eq!(
        s.text(r#"[data-token-label="Luca Bianchi Firma"] [data-cert-id="11"] .badge"#).as_deref(),
        Some("Renewable · expires in 30 days")
    );
    let _card = pcsc.insert(0, ATR_TESTBED);
    s.wait_text(r#"[data-reader="Virtual PCD 00 00"] .card-model"#, long, |t| t == "Tessera test-bed card");
    s.screenshot(r#"[data-reader="Virtual PCD 00 00"] .card-model"#, &shots.join("devices-en.png"));

    // pcscd goes away: the window says why and what to do, and keeps the tokens.
    pcsc.stop();
    let problem = s.wait_text(r#".message.problem[data-code="pcsc-not-running"] .cause"#, long, |t| !t.is_empty());
    assert_eq!(problem, "The smart-card service (pcscd) is not running.");
    let remedy = s.text(r#".message.problem[data-code="pcsc-not-running"] .remedy"#).unwrap();
    assert!(remedy.starts_with("Start the service"), "{remedy}");
    assert!(s.text(r#"[data-token-label="Varie"]"#).is_some());
    assert_eq!(s.text("#readers .empty").as_deref(), Some("Reader list unavailable."));
    s.screenshot("#readers .empty", &shots.join("devices-error-en.png"));
}

#[test]
fn cli_generates_requests_installs_and_deletes_on_a_token_without_logging_secrets() {
    let pcsc = Pcsc::start_without_readers();
    let hsm = SoftHsm::with_samples();
    let mut env = both(&pcsc.env(), &hsm.env());
    env.push(("TESSERA_LOG".into(), "trace".into()));
    let ca = OpensslCa::new();
    let run = |args: &[&str], stdin: &str| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--module", SOFTHSM_MODULE, "--pin-stdin", "--json"]);
        let out = tessera_with_stdin(&env, &all, stdin);
        assert!(
            !stderr(&out).contains(USER_PIN) && !stdout(&out).contains(USER_PIN),
            "a PIN was printed: {}",
            stderr(&out)
        );
        out
    };
    let pin = format!("{USER_PIN}\n");

    let out = run(
        &[
            "key",
            "generate",
            "--token",
            "pkcs11:token=Mario%20Rossi%20CNS",
            "--algorithm",
            "rsa2048",
            "--label",
            "Firma 2027",
            "--id",
            "0a0b",
        ],
        &pin,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(key["id"], "0a0b");
    assert_eq!(key["algorithm"], "rsa2048");
    assert!(stderr(&out).contains("PIN utente di «Mario Rossi CNS» [PIN attivo]"), "{}", stderr(&out));

    let key_uri = "pkcs11:token=Mario%20Rossi%20CNS;id=%0A%0B";
    let out = run(&["csr", "--key", key_uri, "--cn", "ROSSI MARIO"], &pin);
    assert!(out.status.success(), "{}", stderr(&out));
    let csr: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let pem = csr["pem"].as_str().unwrap();
    assert!(ca.verify_csr(pem));
    let cert = ca.issue(pem);
    let file = std::env::temp_dir().join(format!("tessera-e2e-{}.crt", std::process::id()));
    std::fs::write(&file, &cert).unwrap();

    // Someone else's certificate: refused, exit 1, cause and remedy.
    let foreign = hsm.samples().join("Mario_Rossi_CNS-02.crt.der");
    let out = run(&["cert", "install", "--key", key_uri, foreign.to_str().unwrap()], &pin);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("[certificate-key-mismatch]"), "{}", stderr(&out));

    let out = run(&["cert", "install", "--key", key_uri, "--label", "Firma 2027", file.to_str().unwrap()], &pin);
    assert!(out.status.success(), "{}", stderr(&out));
    let installed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(installed["uri"].as_str().unwrap().ends_with("id=%0A%0B;type=cert"));

    let listing: Value = serde_json::from_str(&stdout(&tessera(
        &env,
        &["devices", "--json", "--no-p11-kit", "--module", SOFTHSM_MODULE],
    )))
    .unwrap();
    let cns = listing["tokens"].as_array().unwrap().iter().find(|t| t["label"] == "Mario Rossi CNS").unwrap();
    let new =
        cns["certificates"].as_array().unwrap().iter().find(|c| c["id"] == "0a0b").expect("new certificate listed");
    assert_eq!(new["common_name"], "ROSSI MARIO");

    let out = run(&["cert", "delete", "pkcs11:token=Mario%20Rossi%20CNS;id=%0A%0B;type=cert"], &pin);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(serde_json::from_str::<Value>(&stdout(&out)).unwrap()["deleted"], 1);

    // Wrong PIN: the state the token reports, and nothing spent blind afterwards.
    let out = run(&["pin", "change", "--token", "pkcs11:token=Varie"], "000000\n111111\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("PIN errato."), "{}", stderr(&out));
    let out = run(&["pin", "status", "--token", "pkcs11:token=Varie"], "");
    assert_eq!(serde_json::from_str::<Value>(&stdout(&out)).unwrap()["state"], "count-low");
    let out = run(&["pin", "unblock", "--token", "pkcs11:token=Varie"], &format!("{SO_PIN}\n{USER_PIN}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(serde_json::from_str::<Value>(&stdout(&out)).unwrap()["state"], "ok");
    let _ = std::fs::remove_file(file);
}

/// Several cards at once at the counter: `tessera activate --operator --batch FILE` signs
/// the operator in once and activates the virtual PIV card, the virtual OpenPGP card and a
/// SoftHSM2 token in three lanes at the same time (the token's PIN asked with its lane's
/// name). A request the RA refuses stops only its lane; a batch of that lane alone, once
/// the right reference is given, completes it, and nothing is issued twice.
#[test]
fn cli_batch_activates_three_cards_at_once_and_a_refused_lane_is_run_again() {
    use tessera_testbed::ra::{OPERATOR_TOKEN, RaServer};
    let ra = RaServer::start("validity_days = 30\n");
    let (piv_ref, _, _, _) = counter_request(&ra, "RSSMRA80A01H501U", "mario@example.org", "signature");
    let (pgp_ref, _, _, _) = counter_request(&ra, "VRDNNA90E50L219L", "anna@example.org", "signature");
    let (hsm_ref, _, _, _) = counter_request(&ra, "BNCLCU75C15F205O", "luca@example.org", "signature");
    let pcsc = Pcsc::start();
    let _piv = pcsc.insert_piv(0);
    let _pgp = pcsc.insert_openpgp(1);
    let hsm = SoftHsm::empty();
    hsm.add_token("Blank", USER_PIN, SO_PIN);
    let data = tempfile_dir();
    let mut env = both(&pcsc.env(), &hsm.env());
    env.push(("TESSERA_MODULES".into(), SOFTHSM_MODULE.into()));
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    assert!(wait_until(Duration::from_secs(15), || {
        let out = stdout(&tessera(&env, &["devices", "--no-p11-kit"]));
        out.contains("PIV_II") && out.contains("OpenPGP card (User PIN (sig))") && out.contains("Blank")
    }));
    let batch_with = |references: &[&str], answers: &str, extra: &[&str]| {
        let file = data.path().join("batch.txt");
        std::fs::write(&file, format!("# the counter's requests\n{}\n", references.join("\n"))).unwrap();
        let args = ["--lang", "en", "activate", "--operator", "--stdin", "--batch", file.to_str().unwrap()];
        let (url, ca) = (ra.url(), ra.ca_file());
        let ra_args = ["--ra", &url, "--ra-ca", ca.to_str().unwrap()];
        let all = [&args[..], &ra_args, extra].concat();
        let out = tessera_with_stdin(&env, &all, &(counter_sign_in(&ra) + answers));
        let lines: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (out, lines)
    };
    let batch = |references: &[&str], answers: &str| batch_with(references, answers, &[]);

    // The middle reference is not the office's: its lane (the OpenPGP card) is refused,
    // the two others are activated at the same time.
    // A request named twice is refused before anyone signs in.
    let (out, lines) = batch(&[&piv_ref, &hsm_ref, &piv_ref], "");
    assert!(!out.status.success() && lines.is_empty(), "{}", stderr(&out));
    assert!(stderr(&out).contains("is named twice") && !stderr(&out).contains("(stdin)"), "{}", stderr(&out));

    // The plan is said and confirmed once; then the lanes run. Scripted answers name
    // their lane: one for a lane that never asks is kept for it, not given to another.
    let listing: Value = serde_json::from_str(&stdout(&tessera(&env, &["devices", "--json", "--no-p11-kit"]))).unwrap();
    let blank = listing["tokens"].as_array().unwrap().iter().find(|t| t["label"] == "Blank").unwrap();
    let hsm_lane = format!("Blank {}", blank["serial"].as_str().unwrap());
    let answers = format!("y\n[Virtual PCD 00 00] 999999\n[{hsm_lane}] {USER_PIN}\n");
    let (out, lines) = batch(&[&piv_ref, "REQ-ALTRO-UFFICIO", &hsm_ref], &answers);
    let log = stderr(&out);
    assert!(!out.status.success(), "one lane failed: {log}");
    assert_eq!(lines.len(), 3, "{log}");
    let line = |reference: &str| lines.iter().find(|l| l["reference"] == reference).unwrap().clone();
    assert_eq!(line(&piv_ref)["lane"], "Virtual PCD 00 00", "{lines:?}");
    assert_eq!(line(&piv_ref)["activated"], true, "{log}");
    assert_eq!(line(&hsm_ref)["activated"], true, "{log}");
    assert_eq!(line(&hsm_ref)["lane"], hsm_lane.as_str(), "with its serial: {lines:?}");
    let refused = line("REQ-ALTRO-UFFICIO");
    assert_eq!(
        (refused["activated"].as_bool(), refused["error"]["code"].as_str()),
        (Some(false), Some("unknown-request"))
    );
    assert_eq!(refused["lane"], "Virtual PCD 00 01");
    // The lanes ran at once: the SoftHSM2 token's lane went on while the PIV card's was
    // under way (one after the other, no line of one would fall inside the other's), and
    // its PIN was asked with its lane's name.
    assert!(log.contains("[Blank ") && log.contains("User PIN of \"Blank\""), "{log}");
    assert!(log.contains(&format!("  {piv_ref} → [Virtual PCD 00 00] TEST HOLDER (RM01)")), "the plan: {log}");
    assert!(log.find("Start these activations?") < log.find("Enabling the request"), "{log}");
    let lines_of = |lane: &str| -> Vec<usize> {
        log.lines().enumerate().filter(|(_, l)| l.starts_with(&format!("[{lane}]"))).map(|(i, _)| i).collect()
    };
    let (piv, blank) = (lines_of("Virtual PCD 00 00"), lines_of(line(&hsm_ref)["lane"].as_str().unwrap()));
    // Their spans in the log cross: one started before the other ended, either way round.
    let (piv_first, piv_last, blank_first, blank_last) = (piv[0], piv[piv.len() - 1], blank[0], blank[blank.len() - 1]);
    assert!(piv_first < blank_last && blank_first < piv_last, "the lanes did not overlap: {log}");
    assert!(log.contains("2 of 3 cards activated"), "{log}");

    // The refused lane again, with its request: only the OpenPGP card is still empty. A
    // P-256 key this time, as asked.
    let (out, lines) = batch_with(&[&pgp_ref], "y\n", &["--algorithm", "p256"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        (lines.len(), lines[0]["lane"].as_str(), lines[0]["activated"].as_bool()),
        (1, Some("Virtual PCD 00 01"), Some(true))
    );
    assert_eq!(lines[0]["outcome"]["reference"], pgp_ref.as_str());
    let listing: Value = serde_json::from_str(&stdout(&tessera(&env, &["devices", "--json", "--no-p11-kit"]))).unwrap();
    let pgp_cert = listing["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["certificates"].as_array().unwrap())
        .find(|c| c["holder_cf"] == "VRDNNA90E50L219L")
        .expect("the OpenPGP card's certificate")
        .clone();
    assert_eq!(pgp_cert["key"]["curve"], "P-256", "{pgp_cert}");

    // The RA's records: each request issued once.
    for reference in [&piv_ref, &pgp_ref, &hsm_ref] {
        let detail: Value = ureq::get(&format!("{}/api/v1/operator/requests/{reference}", ra.url()))
            .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        assert_eq!(detail["certificates"].as_array().map(Vec::len), Some(1), "{reference}: {detail}");
    }
}

/// One card, one entry: OpenSC shows the virtual OpenPGP card as two tokens; the listing
/// (JSON and text) has it once, with its one PIN and the signature token to activate,
/// next to the PIV card, which is one token.
#[test]
fn a_card_shown_as_two_tokens_is_listed_once_with_one_pin() {
    let pcsc = Pcsc::start();
    let _piv = pcsc.insert_piv(0);
    let _pgp = pcsc.insert_openpgp(1);
    let mut env = pcsc.env();
    env.push(("TESSERA_LANG".into(), "en".into()));
    assert!(wait_until(Duration::from_secs(15), || {
        let out = stdout(&tessera(&env, &["devices", "--no-p11-kit"]));
        out.contains("PIV_II") && out.contains("OpenPGP card (User PIN (sig))")
    }));
    let listing: Value = serde_json::from_str(&stdout(&tessera(&env, &["devices", "--json", "--no-p11-kit"]))).unwrap();
    let cards = listing["cards"].as_array().unwrap();
    let tokens = listing["tokens"].as_array().unwrap();
    assert_eq!((cards.len(), tokens.len()), (2, 3), "{listing}");
    let pgp = cards
        .iter()
        .find(|c| c["name"] == "OpenPGP card")
        .unwrap_or_else(|| panic!("the OpenPGP card once: {cards:?}"));
    assert_eq!(pgp["tokens"].as_array().unwrap().len(), 2, "{pgp}");
    assert_eq!(pgp["pins"].as_array().unwrap().len(), 1, "one PW1: {pgp}");
    assert!(pgp["activate"].as_str().unwrap().contains("(User%20PIN%20(sig))"), "{pgp}");
    assert_eq!(pgp["reader"], tokens.iter().find(|t| t["uri"] == pgp["activate"]).unwrap()["reader"]);
    let piv = cards.iter().find(|c| c["name"] == "PIV_II").expect("the PIV card");
    assert_eq!((piv["tokens"].as_array().unwrap().len(), piv["pins"].as_array().unwrap().len()), (1, 1));
    // The text: the card's line once, its two tokens under it.
    let text = stdout(&tessera(&env, &["--lang", "en", "devices", "--no-p11-kit"]));
    assert_eq!(text.lines().filter(|l| l.starts_with("  OpenPGP card — ")).count(), 1, "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("    OpenPGP card (User PIN")).count(), 2, "{text}");
}

#[test]
fn cli_enrolls_a_key_on_virtual_piv_and_openpgp_cards() {
    let pcsc = Pcsc::start();
    let _piv = pcsc.insert_piv(0);
    let _pgp = pcsc.insert_openpgp(1);
    let env = pcsc.env();
    let ca = OpensslCa::new();
    let dir = tempfile_dir();
    assert!(wait_until(Duration::from_secs(15), || {
        let out = stdout(&tessera(&env, &["devices", "--no-p11-kit"]));
        out.contains("PIV_II") && out.contains("OpenPGP card (User PIN (sig))")
    }));
    let run = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--pin-stdin", "--json"]);
        let out = tessera_with_stdin(&env, &all, stdin);
        assert!(out.status.success(), "{all:?}: {}", stderr(&out));
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };

    // PIV: management key, then the PIN for the card-signed request; install needs both.
    let csr = dir.path().join("piv.csr");
    let key = run(
        &[
            "key",
            "generate",
            "--token",
            "pkcs11:token=PIV_II",
            "--algorithm",
            "p256",
            "--csr",
            csr.to_str().unwrap(),
            "--cn",
            "ROSSI MARIO",
        ],
        &format!("{PIV_MANAGEMENT_KEY}\n{USER_PIN}\n"),
    );
    assert_eq!(key["id"], "01");
    let pem = std::fs::read_to_string(&csr).unwrap();
    assert!(ca.verify_csr(&pem));
    let cert = dir.path().join("piv.crt");
    std::fs::write(&cert, ca.issue(&pem)).unwrap();
    let serial = key["uri"].as_str().unwrap().split("serial=").nth(1).unwrap().split(';').next().unwrap().to_owned();
    let installed = run(
        &["cert", "install", "--key", &format!("pkcs11:serial={serial};id=%01"), cert.to_str().unwrap()],
        &format!("{USER_PIN}\n{PIV_MANAGEMENT_KEY}\n"),
    );
    assert!(installed["uri"].as_str().unwrap().ends_with("id=%01;type=cert"));

    // OpenPGP: admin PIN for the key, user PIN for the request.
    let csr = dir.path().join("pgp.csr");
    let key = run(
        &[
            "key",
            "generate",
            "--token",
            "pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))",
            "--algorithm",
            "rsa2048",
            "--csr",
            csr.to_str().unwrap(),
        ],
        &format!("{OPENPGP_ADMIN_PIN}\n{USER_PIN}\n"),
    );
    assert_eq!((key["id"].as_str(), key["algorithm"].as_str()), (Some("01"), Some("rsa2048")));
    assert!(ca.verify_csr(&std::fs::read_to_string(&csr).unwrap()));

    let listing: Value = serde_json::from_str(&stdout(&tessera(&env, &["devices", "--json", "--no-p11-kit"]))).unwrap();
    let piv = listing["tokens"].as_array().unwrap().iter().find(|t| t["serial"] == serial.as_str()).unwrap();
    assert_eq!(piv["catalog"]["id"], "piv-card");
    assert_eq!(piv["certificates"][0]["common_name"], "ROSSI MARIO");
}

/// The activation path in miniature, each hop through a real part: a key generated on the
/// virtual OpenPGP card, its request signed on the card, enrolled at tessera-ra by
/// `openssl cmp` with the reference and activation code, the certificate installed back.
#[test]
fn a_card_key_is_enrolled_at_the_ra_over_cmp_and_installed() {
    let pcsc = Pcsc::start();
    let _card = pcsc.insert_openpgp(0);
    let env = pcsc.env();
    let dir = tempfile_dir();
    let config = dir.path().join("ra.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\n[[request]]\nreference = \"REQ-0042\"\noffice = \"RM01\"\nactivation_code = \"K7QM-2XWD-9PHT\"\nprofile = \"signature\"\nholder = { given_name = \"LUCA\", surname = \"BIANCHI\", cf = \"BNCLCU75C15F205O\" }\n",
    )
    .unwrap();
    let mut ra = Command::new(bin("tessera-ra")).arg("--config").arg(&config).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(ra.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let server = line.split("http://").nth(1).and_then(|s| s.split('/').next()).unwrap().to_owned();
    assert!(wait_until(Duration::from_secs(15), || stdout(&tessera(&env, &["devices", "--no-p11-kit"]))
        .contains("OpenPGP card (User PIN (sig))")));

    let token = "pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))";
    let csr = dir.path().join("req.pem");
    let out = tessera_with_stdin(
        &env,
        &[
            "key",
            "generate",
            "--token",
            token,
            "--algorithm",
            "p256",
            "--csr",
            csr.to_str().unwrap(),
            "--cn",
            "BIANCHI LUCA",
            "--pin-stdin",
        ],
        &format!("{OPENPGP_ADMIN_PIN}\n{USER_PIN}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let cert = dir.path().join("cert.pem");
    let cmp = Command::new("openssl")
        .args([
            "cmp",
            "-cmd",
            "p10cr",
            "-server",
            &server,
            "-path",
            "/.well-known/cmp",
            "-ref",
            "REQ-0042",
            "-secret",
            "pass:K7QM-2XWD-9PHT",
        ])
        .arg("-csr")
        .arg(&csr)
        .arg("-certout")
        .arg(&cert)
        .output()
        .unwrap();
    let _ = ra.kill();
    let _ = ra.wait();
    assert!(cmp.status.success(), "{}", String::from_utf8_lossy(&cmp.stderr));
    let out = tessera_with_stdin(
        &env,
        &[
            "cert",
            "install",
            "--key",
            &format!("{token};id=%01"),
            "--label",
            "Firma",
            cert.to_str().unwrap(),
            "--pin-stdin",
        ],
        &format!("{OPENPGP_ADMIN_PIN}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let listing: Value = serde_json::from_str(&stdout(&tessera(&env, &["devices", "--json", "--no-p11-kit"]))).unwrap();
    let sig =
        listing["tokens"].as_array().unwrap().iter().find(|t| t["label"] == "OpenPGP card (User PIN (sig))").unwrap();
    let c = &sig["certificates"][0];
    assert_eq!(c["holder_cf"], "BNCLCU75C15F205O", "subject dictated by the RA");
    assert_eq!(c["role"], "signature");
    assert_eq!(c["issuer"], "Tessera RA Issuing CA");
}

/// `tessera activate --operator --stdin` at the counter on two blank cards, each with both
/// CNS and signature certificates, for requests an operator made through the RA's API: the
/// virtual PIV card (keys by card commands, authentication in 9A, signature in 9C) and the
/// virtual OpenPGP card. Each blank card gets the PIN and PUK the RA chose, never asked nor shown; the
/// holder's first halves come on the handover sheet and the second halves by e-mail, and
/// together they open the card. At trace level no secret reaches the logs.
#[test]
fn cli_activates_virtual_piv_and_openpgp_cards_at_the_counter_without_logging_secrets() {
    use tessera_testbed::ra::{OPERATOR_PASSWORD, OPERATOR_TOKEN, RaServer};
    let ra = RaServer::start("");
    let op = |method: &str, path: &str, body: Option<Value>| -> Value {
        let req = ureq::request(method, &format!("{}{path}", ra.url()))
            .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"));
        let resp = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        resp.unwrap_or_else(|e| panic!("{path}: {e}")).into_json().unwrap()
    };
    let request = |given: &str, surname: &str, cf: &str, email: &str, profile: &str| {
        let h = op(
            "POST",
            "/api/v1/operator/holders",
            Some(serde_json::json!({
            "given_name": given, "surname": surname, "cf": cf, "email": email, "cf_forced": true})),
        );
        let r = op(
            "POST",
            "/api/v1/operator/requests",
            Some(serde_json::json!({"holder_id": h["holder_id"], "profile": profile})),
        );
        let (reference, code) =
            (r["reference"].as_str().unwrap().to_owned(), r["activation_code"].as_str().unwrap().to_owned());
        let sheet = op("GET", &format!("/api/v1/operator/requests/{reference}/handover"), None);
        (
            reference,
            code,
            sheet["pin_first_half"].as_str().unwrap().to_owned(),
            sheet["puk_first_half"].as_str().unwrap().to_owned(),
        )
    };
    let (piv_ref, piv_code, piv_pin1, piv_puk1) =
        request("MARIO", "ROSSI", "RSSMRA80A01H501U", "mario@example.org", "cns+signature");
    let (pgp_ref, pgp_code, pgp_pin1, pgp_puk1) =
        request("ANNA", "VERDI", "VRDNNA90E50L219L", "anna@example.org", "cns+signature");
    // The second halves, from the completion e-mail in the holder's mailbox.
    let second_halves = |email: &str| -> (String, String) {
        let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
        let mail = outbox
            .lines()
            .rev()
            .find(|l| l.contains(email) && l.contains("codice utente"))
            .expect("the completion e-mail");
        let after = |label: &str| mail.split(label).nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
        (after("seconda metà del PIN "), after("seconda metà del PUK "))
    };

    let pcsc = Pcsc::start();
    let _piv = pcsc.insert_piv(0);
    let _pgp = pcsc.insert_openpgp(1);
    let data = tempfile_dir();
    let mut env = pcsc.env();
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    env.push(("TESSERA_CONFIG_DIR".into(), data.path().join("config").display().to_string()));
    env.push(("TESSERA_LOG".into(), "trace".into()));
    assert!(wait_until(Duration::from_secs(15), || {
        let out = stdout(&tessera(&env, &["devices", "--no-p11-kit"]));
        out.contains("PIV_II") && out.contains("OpenPGP card (User PIN (sig))")
    }));
    let ca = ra.ca_file();
    let mut logs = String::new();
    let mut activate = |token: &str, answers: &[&str]| {
        let args = ["activate", "--operator", "--stdin", "--json", "--token", token, "--ra", &ra.url()];
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--ra-ca", ca.to_str().unwrap()]);
        let sign_in = counter_sign_in(&ra);
        let out = tessera_with_stdin(&env, &all, &(sign_in.clone() + &answers.join("\n") + "\n"));
        let log = stderr(&out);
        assert!(out.status.success(), "{all:?}: {log}");
        // Name, password, one-time code, activation code, confirmation: a blank card's
        // PINs are never asked.
        assert_eq!(log.matches("(stdin)").count(), 5, "{log}");
        // Each log line without its timestamp (whose microseconds could be any digits).
        let lines: Vec<&str> = log.lines().map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest)).collect();
        let secrets = sign_in.lines().skip(1).map(str::to_owned).collect::<Vec<_>>();
        for secret in answers.iter().copied().chain(secrets.iter().map(String::as_str)).filter(|a| a.len() > 1) {
            assert!(!lines.iter().any(|l| l.contains(secret)), "secret {secret} in the log");
        }
        logs += &lines.join("\n");
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };

    let piv = activate("pkcs11:token=PIV_II", &[&piv_code, "s"]);
    assert_eq!(piv["reference"], piv_ref.as_str());
    // PIV's conventions: 9A (CKA_ID 01) authentication, 9C (02) the signature key.
    let auth = &piv["certificates"][0];
    assert_eq!(auth["role"], "authentication", "{piv}");
    assert!(auth["uri"].as_str().unwrap().contains("id=%01;type=cert"), "9A holds the authentication key: {auth}");
    let cert = &piv["certificates"][1];
    assert_eq!(cert["role"], "signature");
    assert!(cert["uri"].as_str().unwrap().contains("id=%02;type=cert"), "9C holds the signature key: {cert}");

    let pgp = activate("pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))", &[&pgp_code, "s"]);
    // Two certificates on one card that OpenSC shows as two tokens: the authentication key
    // in slot 03 (token "User PIN"), the signature key in slot 01 (token "User PIN (sig)").
    let uris: Vec<&str> = pgp["certificates"].as_array().unwrap().iter().map(|c| c["uri"].as_str().unwrap()).collect();
    assert_eq!(uris.len(), 2, "{pgp}");
    assert!(uris[0].contains("token=OpenPGP%20card%20(User%20PIN);") && uris[0].contains("id=%03;type=cert"), "{pgp}");
    assert!(uris[1].contains("(User%20PIN%20(sig))") && uris[1].contains("id=%01;type=cert"), "{pgp}");

    // The halves, put together, are the cards' PINs: each card takes its PIN (a PIN change
    // to the same PIN verifies it) and refuses the factory one.
    let env_quiet: Vec<(String, String)> = env.iter().filter(|(k, _)| k != "TESSERA_LOG").cloned().collect();
    let login = |token: &str, pin: &str| {
        let out = tessera_with_stdin(
            &env_quiet,
            &["pin", "change", "--token", token, "--pin-stdin"],
            &format!("{pin}\n{pin}\n"),
        );
        out.status.success()
    };
    let (piv_pin2, piv_puk2) = second_halves("mario@example.org");
    let (pgp_pin2, pgp_puk2) = second_halves("anna@example.org");
    let (piv_pin, pgp_pin) = (format!("{piv_pin1}{piv_pin2}"), format!("{pgp_pin1}{pgp_pin2}"));
    let serial =
        |uri: &str| format!("pkcs11:serial={}", uri.split("serial=").nth(1).unwrap().split(';').next().unwrap());
    let piv_label = serial(cert["uri"].as_str().unwrap());
    assert!(login(&piv_label, &piv_pin), "the PIV card opens with the RA's PIN");
    assert!(
        login("pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))", &pgp_pin),
        "the OpenPGP card opens with the RA's PIN"
    );
    assert!(!login(&piv_label, USER_PIN), "the factory PIN is gone");
    for secret in [piv_pin.clone(), pgp_pin.clone(), format!("{piv_puk1}{piv_puk2}"), format!("{pgp_puk1}{pgp_puk2}")] {
        assert!(!logs.contains(&secret), "a card secret in the log");
    }

    // The error file holds neither the codes nor the credentials nor the management key.
    let out = tessera(&env, &["support-bundle", "--out", data.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = std::fs::read_to_string(stdout(&out).trim()).unwrap();
    assert!(file.contains(&piv_ref) && file.contains(&pgp_ref) && file.contains("Virtual PCD 00 00"), "{file}");
    for secret in [piv_code.as_str(), pgp_code.as_str(), OPERATOR_PASSWORD, PIV_MANAGEMENT_KEY, &piv_pin, &pgp_pin] {
        assert!(!file.contains(secret), "{secret} in the error file");
    }

    // A fresh listing shows both certificates, with the holders the RA registered.
    let listing: Value = serde_json::from_str(&stdout(&tessera(&env, &["devices", "--json", "--no-p11-kit"]))).unwrap();
    let names: Vec<String> = listing["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["certificates"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["common_name"].as_str().map(str::to_owned))
        .collect();
    assert!(names.contains(&"ROSSI MARIO".to_owned()) && names.contains(&"VERDI ANNA".to_owned()), "{names:?}");
}

/// The New activation wizard in the real window, driven as a person would: a holder at
/// home on a blank SoftHSM2 token (a wrong code first, then a check-letter typo corrected
/// with the suggestion, the SMS code from the RA's outbox), and an operator at the counter
/// on the virtual OpenPGP card. A screenshot of every step goes to target/e2e.
/// The window's environment for a flow test: the settings file naming the RA and its CA,
/// the journal and the window's own storage in a fresh profile, Italian, the test bed's
/// PC/SC and SoftHSM2. The profile lives as long as the returned directory.
fn window_env(
    ra: &tessera_testbed::ra::RaServer,
    pcsc: &Pcsc,
    hsm: &SoftHsm,
    display: &webdriver::Display,
) -> (tempfile::TempDir, Vec<(String, String)>) {
    let profile = tempfile_dir();
    let config = profile.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("settings.toml"),
        format!("ra = \"{}\"\nra_ca = \"{}\"\n", ra.url(), ra.ca_file().display()),
    )
    .unwrap();
    let mut env = both(&pcsc.env(), &hsm.env());
    env.extend(display_env(display, profile.path()));
    env.push(("TESSERA_CONFIG_DIR".into(), config.display().to_string()));
    env.push(("TESSERA_DATA_DIR".into(), profile.path().join("data").display().to_string()));
    (profile, env)
}

#[test]
fn gui_wizard_activates_at_home_and_at_the_counter() {
    use tessera_testbed::ra::RaServer;
    let ra = RaServer::start(
        r#"
[[request]]
reference = "REQ-HOME"
office = "RM01"
activation_code = "HOME-CODE-0003"
profile = "signature"
armed = false
mobile = "+393331234567"
holder = { given_name = "LUCA", surname = "BIANCHI", cf = "BNCLCU75C15F205O" }

[[request]]
reference = "REQ-COUNTER"
office = "RM01"
activation_code = "ABCD-EFGH-JKLM"
profile = "signature"
armed = false
holder = { given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U" }

[[request]]
reference = "REQ-LINKED"
office = "RM01"
activation_code = "LINK-EDRE-QUES"
profile = "signature"
armed = false
holder = { given_name = "ANNA", surname = "VERDI", cf = "VRDNNA90E50L219L" }
"#,
    );
    let display = webdriver::Display::start();
    let pcsc = Pcsc::start();
    let _pgp = pcsc.insert_openpgp(0);
    let hsm = SoftHsm::empty();
    hsm.add_token("Blank", USER_PIN, SO_PIN);
    hsm.add_token("Sportello", USER_PIN, SO_PIN);
    let (_profile, env) = window_env(&ra, &pcsc, &hsm, &display);
    let driver = webdriver::Driver::start(&env);
    let s = driver.session(&bin("tessera-app"));
    let long = Duration::from_secs(20);
    let shots = root().join("target/e2e");
    let shot = |name: &str, of: &str| s.screenshot(of, &shots.join(format!("wizard-{name}.png")));
    let ask = |kind: &str| s.wait_text(&format!(r#"#wizard [data-question="{kind}"] form"#), long, |_| true);
    let next = || s.click(r#"#wizard button[data-action="wizard-next"]"#);
    let answer = |kind: &str, text: &str| {
        ask(kind);
        s.type_into(&format!(r#"#wizard [data-question="{kind}"] input"#), text);
        next();
    };

    // At home, on the blank token: the wizard opens from the card itself.
    s.wait_text(r#"body[data-ready] [data-token-label="Blank"] h3"#, long, |t| t == "Blank");
    s.click(r#"[data-token-label="Blank"] button.activate"#);
    s.wait_text(r#"#wizard [data-question="start"] h3"#, long, |t| t == "Quale carta attivare, e come");
    shot("1-start", r#"#wizard [data-question="start"] h3"#);
    next();
    // A wrong code: cause and remedy, nothing made; then again.
    answer("activation-code", "WRNG-CODE-0000");
    answer("tax-code", "BNCLCU75C15F205O");
    let cause =
        s.wait_text(r#"#wizard .message.problem[data-code="activation-refused"] .cause"#, long, |t| !t.is_empty());
    assert_eq!(cause, "Codice di attivazione o codice fiscale non corretti.");
    // The error file, one click: saved, its path said, no code in it.
    s.click(r#"#wizard button[data-action="wizard-save-error-file"]"#);
    s.wait_text(r#"#wizard .saved[data-path]"#, long, |t| t.starts_with("File di errore salvato in"));
    shot("error-refused", r#"#wizard .message.problem[data-code="activation-refused"]"#);
    let saved = s.js(r#"return document.querySelector('#wizard .saved').dataset.path"#);
    let file = std::fs::read_to_string(saved.as_str().unwrap()).unwrap();
    assert!(file.contains("## The error shown\n- [activation-refused]") && !file.contains("WRNG-CODE-0000"), "{file}");
    s.click(r#"#wizard button[data-action="wizard-retry"]"#);
    ask("activation-code");
    shot("2-code", r#"#wizard [data-question="activation-code"] input"#);
    answer("activation-code", "HOME-CODE-0003");
    ask("tax-code");
    s.type_into(r#"#wizard [data-question="tax-code"] input"#, "BNCLCU75C15F205X");
    s.wait_text(r#"#wizard .cf-status[data-status="wrong-check-letter"]"#, long, |t| t.contains("O"));
    shot("3-tax-code", r#"#wizard .cf-status[data-status="wrong-check-letter"]"#);
    s.click(r#"#wizard button[data-action="wizard-cf-fix"]"#);
    s.wait_text(r#"#wizard .cf-status[data-status="valid"]"#, long, |t| t == "Codice fiscale corretto.");
    next();
    let resend =
        s.wait_text(r#"#wizard [data-question="otp"] button.resend"#, long, |t| t.starts_with("Nuovo SMS tra"));
    assert!(resend.ends_with(" s"), "{resend}");
    shot("4-otp", r#"#wizard [data-question="otp"] button.resend"#);
    answer("otp", &ra.otp("+393331234567").expect("an SMS"));
    s.wait_text(r#"#wizard [data-question="confirm-request"] dd"#, long, |t| t == "LUCA BIANCHI");
    shot("5-confirm", r#"#wizard [data-question="confirm-request"] dd"#);
    s.click(r#"#wizard button[data-action="wizard-confirm"]"#);
    let state = s.wait_text(r#"#wizard [data-question="pin"] .pin-state"#, long, |t| !t.is_empty());
    assert_eq!(state, "PIN attivo");
    shot("6-pin", r#"#wizard [data-question="pin"] .pin-state"#);
    answer("pin", USER_PIN);
    s.wait_text(r#"#wizard [data-result="done"] h3"#, long, |t| t.contains("REQ-HOME"));
    // Each certificate as the Devices screen shows it: role, holder, tax code, validity;
    // never the raw subject.
    let done = r#"#wizard [data-result="done"] .cert"#;
    assert_eq!(s.text(&format!("{done} .role")).as_deref(), Some("Firma qualificata"));
    assert_eq!(s.text(&format!("{done} .cn")).as_deref(), Some("BIANCHI LUCA"));
    let facts = s.text(&format!("{done} dl")).unwrap_or_default();
    assert!(facts.contains("Codice fiscaleBNCLCU75C15F205O") && facts.contains("Valido fino al"), "{facts}");
    assert!(facts.contains("Valido dal") && facts.contains("Numero di serie"), "{facts}");
    assert!(!s.text(done).unwrap_or_default().contains("serialNumber="), "no raw subject");
    assert_eq!(s.text(r#"#wizard [data-step="confirm:signature"]"#).map(|t| t.starts_with('✓')), Some(true));
    shot("7-done", r#"#wizard [data-result="done"] .cert"#);
    s.click(r#"#wizard button[data-action="wizard-close"]"#);
    s.wait_text(r#"[data-token-label="Blank"] .cert .cn"#, long, |t| t == "BIANCHI LUCA");

    // At the counter, on the virtual OpenPGP card: the operator signs in with their own
    // account (a wrong code first: said, the name kept), no SMS.
    let anna = ra.operator("anna.odr", "RM01");
    let pgp = r#"[data-token-label="OpenPGP card (User PIN (sig))"]"#;
    s.wait_text(&format!("{pgp} h3"), long, |_| true);
    s.click(&format!("{pgp} button.activate"));
    s.click(r#"#wizard input[value="operator"]"#);
    shot("operator-1-start", r#"#wizard input[value="operator"]"#);
    next();
    let sign_in = |code: &str| {
        ask("operator-sign-in");
        let field = |name: &str| format!(r#"#wizard [data-question="operator-sign-in"] input[name="{name}"]"#);
        if s.js(&format!("return document.querySelector('{}').value", field("operator-name"))) == "" {
            s.type_into(&field("operator-name"), &anna.name);
        }
        s.type_into(&field("operator-password"), &anna.password);
        s.type_into(&field("operator-code"), code);
        s.click(r#"#wizard button[data-action="wizard-sign-in"]"#);
    };
    sign_in("000000");
    let refused =
        s.wait_text(r#"#wizard .message.problem[data-code="sign-in-refused"] .cause"#, long, |t| !t.is_empty());
    assert!(refused.contains("nome, la password o il codice monouso"), "{refused}");
    shot("operator-2-sign-in", r#"#wizard [data-question="operator-sign-in"] .message"#);
    sign_in(&anna.code());
    answer("activation-code", "abcd efgh jklm");
    let bar = s.wait_text("#operator-bar .who", long, |t| !t.is_empty());
    assert_eq!(bar, "Sportello: anna.odr · ufficio RM01");
    s.wait_text(r#"#wizard [data-question="confirm-request"] dd"#, long, |t| t == "MARIO ROSSI");
    s.click(r#"#wizard button[data-action="wizard-confirm"]"#);
    // A blank card: it gets the PIN and PUK the RA chose; no PIN is asked.
    s.wait_text(r#"#wizard [data-result="done"] h3"#, long, |t| t.contains("REQ-COUNTER"));
    let personalised = s.text(r#"#wizard [data-step="personalise"]"#).unwrap_or_default();
    assert!(personalised.starts_with('✓') && personalised.contains("PIN e PUK"), "{personalised}");
    shot("operator-3-done", r#"#wizard [data-result="done"] .cert"#);
    s.click(r#"#wizard button[data-action="wizard-close"]"#);
    s.wait_text(&format!("{pgp} .cert .cn"), long, |t| t == "ROSSI MARIO");
    // One card, one entry: OpenSC's two tokens of the OpenPGP card are one article, with
    // one PIN badge and one Activate.
    let count = |css: &str| s.js(&format!("return document.querySelectorAll('{css}').length"));
    assert_eq!(count(r#"article.token[data-token-label^="OpenPGP card"]"#), 1);
    assert_eq!(count(r#"article[data-card="OpenPGP card"][data-tokens="2"]"#), 1);
    assert_eq!(count(r#"article[data-card="OpenPGP card"] header .badge.pin"#), 1);
    assert_eq!(count(r#"article[data-card="OpenPGP card"] button.activate"#), 1);
    s.screenshot(&format!("{pgp} .cert .cn"), &shots.join("devices-activated-it.png"));
    drop(s);

    // From the console's "Install the certificates now": the app started with the
    // counter link. Nothing of the earlier session was kept: the operator signs in again,
    // sees whose request it is, and no activation code is asked.
    let s = driver.session_with(&bin("tessera-app"), &["tessera://counter?reference=REQ-LINKED"]);
    s.wait_text(r#"#wizard [data-link-reference="REQ-LINKED"]"#, long, |t| !t.is_empty());
    assert_eq!(s.js(r#"return document.querySelector('#wizard input[name="mode"]:checked').value"#), "operator");
    s.click(r#"#wizard input[name="token"][value*="Sportello"]"#);
    s.click(r#"#wizard button[data-action="wizard-next"]"#);
    s.wait_text(r#"#wizard [data-question="operator-sign-in"] form"#, long, |_| true);
    let field = |name: &str| format!(r#"#wizard [data-question="operator-sign-in"] input[name="{name}"]"#);
    s.type_into(&field("operator-name"), &anna.name);
    s.type_into(&field("operator-password"), &anna.password);
    s.type_into(&field("operator-code"), &anna.code());
    s.click(r#"#wizard button[data-action="wizard-sign-in"]"#);
    let confirm = r#"#wizard [data-question="confirm-counter-request"]"#;
    let shown = s.wait_text(&format!("{confirm} dl"), long, |t| t.contains("ANNA VERDI"));
    assert!(shown.contains("REQ-LINKED") && shown.contains("RM01"), "{shown}");
    s.screenshot(confirm, &shots.join("wizard-counter-link-confirm.png"));
    s.click(r#"#wizard button[data-action="wizard-confirm"]"#);
    s.wait_text(r#"#wizard [data-question="pin"] .pin-state"#, long, |t| !t.is_empty());
    s.type_into(r#"#wizard [data-question="pin"] input"#, USER_PIN);
    s.click(r#"#wizard button[data-action="wizard-next"]"#);
    s.wait_text(r#"#wizard [data-result="done"] h3"#, long, |t| t.contains("REQ-LINKED"));
    assert!(
        s.text(r#"#wizard [data-question="activation-code"]"#).is_none(),
        "no activation code at the counter by reference"
    );
    // Signing out ends the session at the RA too: it is in the audit log.
    s.click(r#"#operator-bar button[data-action="operator-sign-out"]"#);
    s.wait_gone("#operator-bar .who", long);
    let audit = || -> Value {
        ureq::get(&format!("{}/api/v1/operator/audit?subject=anna.odr", ra.url()))
            .set("Authorization", &format!("Bearer {}", tessera_testbed::ra::OPERATOR_TOKEN))
            .call()
            .unwrap()
            .into_json()
            .unwrap()
    };
    assert!(
        wait_until(long, || audit()
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "signed-out" && e["actor"] == "anna.odr" && e["detail"] == "app")),
        "{}",
        audit()
    );

    // Every process the test started ends with it: tauri-driver, WebKitWebDriver, the app.
    let group = driver.pgid();
    drop(s);
    drop(driver);
    assert!(!webdriver::group_alive(group), "WebKitWebDriver or the app outlived the test");
}

/// `tessera activate` killed (SIGKILL) as each step starts, then run again: every rerun
/// completes, reusing what the killed run made, and the token ends with exactly one key
/// pair and one certificate for the request, confirmed at the RA.
#[test]
fn cli_activation_killed_at_every_step_resumes_to_one_key_and_one_certificate() {
    use std::io::Write;
    use tessera_testbed::ra::{OPERATOR_TOKEN, RaServer};
    // Each step by its name (the crash point) and as the terminal shows it.
    let steps = [
        ("generate", "Generating the key pair"),
        ("issue", "Requesting the certificate"),
        ("verify", "Checking the certificate"),
        ("install", "Writing the certificate"),
        ("confirm", "Confirming to the registration authority"),
    ];
    let mut requests = String::new();
    for i in 0..steps.len() {
        requests += &format!(
            "[[request]]\nreference = \"REQ-KILL-{i}\"\noffice = \"RM01\"\nactivation_code = \"KILL-CODE-000{i}\"\nprofile = \"signature\"\narmed = false\nholder = {{ given_name = \"MARIO\", surname = \"ROSSI\", cf = \"RSSMRA80A01H501U\" }}\n"
        );
    }
    let ra = RaServer::start(&requests);
    for (i, (at, step)) in steps.iter().enumerate() {
        let hsm = SoftHsm::empty();
        hsm.add_token("Blank", USER_PIN, SO_PIN);
        let data = tempfile_dir();
        let mut env = hsm.env();
        env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
        env.push(("TESSERA_MODULES".into(), SOFTHSM_MODULE.into()));
        let code = format!("KILL-CODE-000{i}");
        let rest = format!("{code}\ny\n{USER_PIN}\n");
        let answers = counter_sign_in(&ra) + &rest;
        let args =
            ["--lang", "en", "activate", "--operator", "--stdin", "--json", "--token", "pkcs11:token=Blank", "--ra"];
        let mut child = Command::new(bin("tessera"))
            .args(args)
            .arg(ra.url())
            .arg("--ra-ca")
            .arg(ra.ca_file())
            .envs(env.iter().cloned())
            .env("TESSERA_TEST_CRASH_AT", at)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(answers.as_bytes()).unwrap();
        // It aborts the moment the step starts (SIGABRT: no clean-up, like a kill).
        let out = child.wait_with_output().unwrap();
        let seen = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "crashed at {step:?}: {seen}");
        assert!(seen.lines().last().is_some_and(|l| l.starts_with("→ ") && l.contains(step)), "{seen}");

        let out = tessera_with_stdin(
            &env,
            &[&args[..], &[&ra.url(), "--ra-ca", ra.ca_file().to_str().unwrap()]].concat(),
            &(counter_sign_in(&ra) + &rest),
        );
        assert!(out.status.success(), "rerun after a kill at {step:?}: {}", stderr(&out));
        let outcome: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(outcome["reference"], format!("REQ-KILL-{i}"));
        // Exactly one key pair and one certificate on the token (pkcs11-tool, logged in).
        let list = Command::new("pkcs11-tool")
            .env("SOFTHSM2_CONF", hsm.conf())
            .args([
                "--module",
                SOFTHSM_MODULE,
                "--token-label",
                "Blank",
                "--login",
                "--pin",
                USER_PIN,
                "--list-objects",
            ])
            .output()
            .unwrap();
        let objects = String::from_utf8_lossy(&list.stdout).into_owned();
        let count = |kind: &str| objects.lines().filter(|l| l.starts_with(kind)).count();
        assert_eq!(
            (count("Private Key Object"), count("Public Key Object"), count("Certificate Object")),
            (1, 1, 1),
            "after a kill at {step:?}: {objects}"
        );
        // At the RA: confirmed, one certificate issued for the request, and it is the one
        // on the token.
        let seen: Value = ureq::get(&format!("{}/api/v1/operator/requests/REQ-KILL-{i}", ra.url()))
            .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        assert_eq!(seen["request"]["issuance"], "confirmed", "after a kill at {step:?}: {seen}");
        assert_eq!(seen["certificates"].as_array().map(Vec::len), Some(1), "after a kill at {step:?}: {seen}");
    }
}

/// Key pairs and certificates on the SoftHSM2 token "Blank" (pkcs11-tool, logged in):
/// (private keys, certificates, certificates whose CKA_ID has a private key).
fn keys_and_certificates(hsm: &SoftHsm) -> (usize, usize, usize) {
    // SoftHSM2 rewrites its token file on object changes: right after a process was killed
    // in one, a listing may briefly not find the token.
    let mut list = None;
    for _ in 0..10 {
        let out = Command::new("pkcs11-tool")
            .env("SOFTHSM2_CONF", hsm.conf())
            .args([
                "--module",
                SOFTHSM_MODULE,
                "--token-label",
                "Blank",
                "--login",
                "--pin",
                USER_PIN,
                "--list-objects",
            ])
            .output()
            .unwrap();
        if out.status.success() {
            list = Some(out);
            break;
        }
        eprintln!("pkcs11-tool: {}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_millis(300));
    }
    let list = list.expect("pkcs11-tool lists the token");
    let text = String::from_utf8_lossy(&list.stdout).into_owned();
    let (mut keys, mut certs) = (Vec::new(), Vec::new());
    let mut kind = "";
    for line in text.lines() {
        if line.starts_with("Private Key Object") {
            kind = "key";
        } else if line.starts_with("Certificate Object") {
            kind = "cert";
        } else if line.starts_with("Public Key Object") || line.starts_with("Data object") {
            kind = "";
        } else if let Some(id) = line.trim().strip_prefix("ID:") {
            match kind {
                "key" => keys.push(id.trim().to_owned()),
                "cert" => certs.push(id.trim().to_owned()),
                _ => {}
            }
        }
    }
    let working = certs.iter().filter(|c| keys.contains(c)).count();
    (keys.len(), certs.len(), working)
}

#[test]
fn cli_renewal_killed_at_every_step_leaves_a_working_certificate_and_resumes_to_one() {
    use tessera_testbed::ra::RaServer;
    let steps = [
        ("diagnose", "Checking whether the card can be renewed"),
        ("sign-form", "Signing the renewal form"),
        ("generate", "Generating the key pair"),
        ("issue", "Requesting the certificate"),
        ("verify", "Checking the certificate"),
        ("install", "Writing the certificate"),
        ("confirm", "Confirming to the registration authority"),
        ("retire", "Removing the old key"),
    ];
    let mut requests = String::from("validity_days = 30\n");
    for i in 0..steps.len() {
        requests += &format!(
            "[[request]]\nreference = \"REQ-RENEW-{i}\"\noffice = \"RM01\"\nactivation_code = \"RNEW-CODE-000{i}\"\nprofile = \"signature\"\narmed = false\nholder = {{ given_name = \"MARIO\", surname = \"ROSSI\", cf = \"RSSMRA80A01H501U\" }}\n"
        );
    }
    let ra = RaServer::start(&requests);
    let ra_args = ["--ra".to_owned(), ra.url(), "--ra-ca".to_owned(), ra.ca_file().display().to_string()];
    let mut survived = 0;
    for (i, (at, step)) in steps.iter().enumerate() {
        let hsm = SoftHsm::empty();
        hsm.add_token("Blank", USER_PIN, SO_PIN);
        let data = tempfile_dir();
        let mut env = hsm.env();
        env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
        env.push(("TESSERA_MODULES".into(), SOFTHSM_MODULE.into()));
        let activate = ["--lang", "en", "activate", "--operator", "--stdin", "--token", "pkcs11:token=Blank"];
        let answers = counter_sign_in(&ra) + &format!("RNEW-CODE-000{i}\ny\n{USER_PIN}\n");
        let ra_refs: Vec<&str> = ra_args.iter().map(String::as_str).collect();
        let out = tessera_with_stdin(&env, &[&activate[..], &ra_refs].concat(), &answers);
        assert!(out.status.success(), "activation: {}", stderr(&out));
        assert_eq!(keys_and_certificates(&hsm), (1, 1, 1));

        let renew = [
            "--lang",
            "en",
            "renew",
            "--retire-old",
            "--stdin",
            "--json",
            "--accept-contract",
            "2026-1",
            "--token",
            "pkcs11:token=Blank",
        ];
        let seen = crashed_at(&env, &[&renew[..], &ra_refs].concat(), at, &format!("{USER_PIN}\n"));
        assert!(seen.lines().last().is_some_and(|l| l.contains(step)), "{seen}");
        // Killed: the card works with the old certificate or the new one, never neither.
        let (_, certs, working) = keys_and_certificates(&hsm);
        assert!(working >= 1 && certs >= 1, "killed at {step:?}: {:?} after {seen:?}", keys_and_certificates(&hsm));

        let out = tessera_with_stdin(&env, &[&renew[..], &ra_refs].concat(), &format!("{USER_PIN}\n"));
        assert!(out.status.success(), "rerun after a kill at {step:?}: {}", stderr(&out));
        let outcome: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(outcome["retired"], true);
        assert_eq!(keys_and_certificates(&hsm), (1, 1, 1), "after a kill at {step:?}");
        survived += 1;
    }
    eprintln!("renewal: crashed at {} step boundaries, {survived} resumed to one key and one certificate", steps.len());
}

#[test]
fn cli_renewal_changes_a_mobile_another_person_has_with_mobile_and_the_code_on_stdin() {
    use std::io::Write;
    use tessera_testbed::ra::{OPERATOR_TOKEN, RaServer};
    let ra = RaServer::start(
        "validity_days = 30\n[[request]]\nreference = \"REQ-CELL\"\noffice = \"RM01\"\nactivation_code = \"CELL-CODE-0001\"\n\
         profile = \"signature\"\narmed = false\nmobile = \"+393331234567\"\n\
         holder = { given_name = \"LUCA\", surname = \"BIANCHI\", cf = \"BNCLCU75C15F205O\" }\n",
    );
    let ra_args = ["--ra".to_owned(), ra.url(), "--ra-ca".to_owned(), ra.ca_file().display().to_string()];
    let ra_refs: Vec<&str> = ra_args.iter().map(String::as_str).collect();
    let hsm = SoftHsm::empty();
    hsm.add_token("Blank", USER_PIN, SO_PIN);
    let data = tempfile_dir();
    let mut env = hsm.env();
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    env.push(("TESSERA_MODULES".into(), SOFTHSM_MODULE.into()));
    let activate = ["--lang", "en", "activate", "--operator", "--stdin", "--token", "pkcs11:token=Blank"];
    let out = tessera_with_stdin(
        &env,
        &[&activate[..], &ra_refs].concat(),
        &(counter_sign_in(&ra) + &format!("CELL-CODE-0001\ny\n{USER_PIN}\n")),
    );
    assert!(out.status.success(), "activation: {}", stderr(&out));
    let anna = serde_json::json!({"given_name": "ANNA", "surname": "VERDI", "cf": "VRDNNA90E50L219L",
        "mobile": "+393331234567"});
    ureq::post(&format!("{}/api/v1/operator/holders", ra.url()))
        .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
        .send_json(anna)
        .unwrap();
    let renew =
        ["--lang", "en", "renew", "--stdin", "--json", "--accept-contract", "2026-1", "--token", "pkcs11:token=Blank"];
    // Without a new number: stopped before the PIN, saying why and what to do.
    let out = tessera_with_stdin(&env, &[&renew[..], &ra_refs].concat(), &format!("{USER_PIN}\n"));
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(said.contains("Registered contacts: mobile +39********67"), "{said}");
    assert!(said.contains("registered to another person") && said.contains("--mobile"), "{said}");
    assert!(!said.contains("PIN"), "no PIN asked: {said}");
    assert_eq!(keys_and_certificates(&hsm), (1, 1, 1));
    // With --mobile: the PIN, then the code the new number received, one line each.
    let mut child = Command::new(bin("tessera"))
        .args(renew)
        .args(["--mobile", "333 999 8877"])
        .args(&ra_args)
        .envs(env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{USER_PIN}\n").as_bytes()).unwrap();
    let code = (0..100)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            ra.otp("+393339998877")
        })
        .expect("the code's SMS");
    stdin.write_all(format!("{code}\n").as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Code sent by SMS to +39********77"), "{}", stderr(&out));
    let outcome: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let state: Value =
        ureq::get(&format!("{}/api/v1/renewal/{}", ra.url(), outcome["replaced"].as_str().unwrap().replace(':', "")))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
    assert_eq!(state["state"], "superseded", "{state}");
    // Nothing the app keeps (journals, seen certificates, error files) holds the code.
    let mut dirs = vec![data.path().to_path_buf()];
    let mut files = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            if entry.file_type().unwrap().is_dir() {
                dirs.push(entry.path());
            } else {
                files += 1;
                let bytes = std::fs::read(entry.path()).unwrap();
                assert!(!String::from_utf8_lossy(&bytes).contains(code.as_str()), "{}", entry.path().display());
            }
        }
    }
    assert!(files >= 2, "the journals are there to look into");
}

/// Fixed-slot cards (PIV 9C, OpenPGP 01): activated at the counter, then renewed with the
/// CLI. The new key takes the old key's slot, so the overwrite is authorised with the old
/// key first; the new certificate continues the old validity and a fresh listing shows it.
#[test]
fn cli_renews_virtual_piv_and_openpgp_cards_by_overwriting_their_slots_authorised_first() {
    use tessera_testbed::ra::{OPERATOR_TOKEN, RaServer};
    let ra = RaServer::start("validity_days = 30\n");
    let pcsc = Pcsc::start();
    let _piv = pcsc.insert_piv(0);
    let _pgp = pcsc.insert_openpgp(1);
    let data = tempfile_dir();
    let mut env = pcsc.env();
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    env.push(("TESSERA_CONFIG_DIR".into(), data.path().join("config").display().to_string()));
    assert!(wait_until(Duration::from_secs(15), || {
        let out = stdout(&tessera(&env, &["devices", "--no-p11-kit"]));
        out.contains("PIV_II") && out.contains("OpenPGP card (User PIN (sig))")
    }));
    let ra_args = ["--ra".to_owned(), ra.url(), "--ra-ca".to_owned(), ra.ca_file().display().to_string()];
    let ra_refs: Vec<&str> = ra_args.iter().map(String::as_str).collect();
    // Two certificates on each: PIV 9A authentication and 9C signature; OpenPGP 03
    // authentication (token "User PIN") and 01 signature (token "User PIN (sig)").
    for (token, cf, email, profile) in [
        ("pkcs11:token=PIV_II", "RSSMRA80A01H501U", "mario@example.org", "cns+signature"),
        ("pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))", "VRDNNA90E50L219L", "anna@example.org", "cns+signature"),
    ] {
        let (reference, code, pin, puk) = counter_request(&ra, cf, email, profile);
        let activate = ["--lang", "en", "activate", "--operator", "--stdin", "--json", "--token", token];
        let out = tessera_with_stdin(
            &env,
            &[&activate[..], &ra_refs].concat(),
            &(counter_sign_in(&ra) + &format!("{code}\ny\n")),
        );
        assert!(out.status.success(), "{token}: {}", stderr(&out));
        let (pin, puk) = (pin(), puk());
        let old: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let olds: Vec<String> =
            old["certificates"].as_array().unwrap().iter().map(|c| c["uri"].as_str().unwrap().to_owned()).collect();
        // The card by its serial: a PIV card's token label follows its certificate.
        let serial = olds[0].split("serial=").nth(1).unwrap().split(';').next().unwrap().to_owned();
        let by_serial = format!("pkcs11:serial={serial}");
        let token = if token.contains("PIV") { by_serial.as_str() } else { token };

        // Each certificate by its card and slot (`pkcs11:serial=…;id=%02`); on OpenPGP, on
        // the token OpenSC shows it in.
        let target = |old_uri: &str| {
            let id = old_uri.split("id=%").nth(1).unwrap().split(';').next().unwrap().to_owned();
            if token.starts_with("pkcs11:serial=") {
                (token.to_owned(), format!("{by_serial};id=%{id}"))
            } else {
                let label = old_uri.split("token=").nth(1).unwrap().split(';').next().unwrap();
                (format!("pkcs11:token={label}"), format!("pkcs11:token={label};id=%{id}"))
            }
        };
        // Asked before anything is signed; declined, nothing changes.
        let (card_token, one) = target(olds.last().unwrap());
        let renew =
            ["--lang", "en", "renew", "--stdin", "--json", "--accept-contract", "2026-1", "--token", &card_token];
        let out = tessera_with_stdin(
            &env,
            &[&renew[..], &["--certificate", &one], &ra_refs].concat(),
            &format!("n\n{pin}\n"),
        );
        assert!(!out.status.success());
        assert!(stderr(&out).contains("takes the old key's slot"), "{}", stderr(&out));
        assert_eq!(stderr(&out).matches("(stdin)").count(), 1, "nothing asked before the choice: {}", stderr(&out));

        for old_uri in &olds {
            let (card_token, which) = target(old_uri);
            let renew =
                ["--lang", "en", "renew", "--stdin", "--json", "--accept-contract", "2026-1", "--token", &card_token];
            let out = tessera_with_stdin(
                &env,
                &[&renew[..], &["--overwrite", "--certificate", &which], &ra_refs].concat(),
                &format!("{pin}\n{puk}\n"),
            );
            let said = stderr(&out);
            assert!(out.status.success(), "{which}: {said}");
            let renewed: Value = serde_json::from_str(&stdout(&out)).unwrap();
            assert_eq!(renewed["retired"], true, "{renewed}");
            let slot = |uri: &str| uri.split("serial=").nth(1).unwrap_or_default().to_owned();
            assert_eq!(slot(renewed["uri"].as_str().unwrap()), slot(old_uri), "the same slot: {renewed}");
            assert!(said.contains("Authorising"), "{said}");
            // At the RA: completed, the overwrite recorded.
            let listed: Value = ureq::get(&format!("{}/api/v1/operator/renewals?state=completed", ra.url()))
                .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
                .call()
                .unwrap()
                .into_json()
                .unwrap();
            let renewal = listed["renewals"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| {
                    r["new_serial"].as_str().map(str::to_uppercase)
                        == renewed["serial"].as_str().map(|s| s.replace(':', ""))
                })
                .unwrap_or_else(|| panic!("{listed} {renewed}"));
            assert_eq!(renewal["reference"], reference.as_str());
            assert!(renewal["overwrite_at"].is_i64(), "{renewal}");
            // A fresh listing shows the new certificate in the slot, not the old one.
            let listing: Value =
                serde_json::from_str(&stdout(&tessera(&env, &["devices", "--json", "--no-p11-kit"]))).unwrap();
            let serials: Vec<String> = listing["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|t| t["certificates"].as_array().cloned().unwrap_or_default())
                .filter_map(|c| c["summary"]["serial"].as_str().or(c["serial"].as_str()).map(str::to_owned))
                .collect();
            assert!(serials.contains(&renewed["serial"].as_str().unwrap().to_owned()), "{serials:?} {renewed}");
            assert!(!serials.contains(&renewed["replaced"].as_str().unwrap().to_owned()), "{serials:?}");
        }
        // The PIN is unchanged and every new key signs (diagnose tests each against its
        // certificate).
        let out = tessera_with_stdin(
            &env,
            &["--lang", "en", "diagnose", "--token", token, "--pin", "--stdin", "--json"],
            &format!("{pin}\n"),
        );
        let report = stdout(&out);
        assert!(report.contains("\"private-key\"") && !report.contains("does-not-sign"), "{report}");
    }
}

/// A fixed-slot card (virtual PIV) whose renewal is killed at every step boundary: the
/// rerun completes it. Once the slot is overwritten the old key is gone, so a run that no
/// longer holds the renewal code asks for it (the holder has it by e-mail).
#[test]
fn cli_fixed_slot_renewal_killed_at_every_step_resumes_to_completion() {
    use tessera_testbed::ra::{OPERATOR_TOKEN, RaServer};
    // (step, whether the rerun needs the renewal code: the slot may be overwritten)
    let steps = [
        ("diagnose", false),
        ("sign-form", false),
        ("authorise", false),
        ("generate", false),
        ("issue", true),
        ("verify", true),
        ("install", true),
        ("confirm", true),
    ];
    let ra = RaServer::start("validity_days = 30\n");
    let ra_args = ["--ra".to_owned(), ra.url(), "--ra-ca".to_owned(), ra.ca_file().display().to_string()];
    let ra_refs: Vec<&str> = ra_args.iter().map(String::as_str).collect();
    let mut survived = 0;
    for (i, (at, needs_code)) in steps.iter().enumerate() {
        // A blank card each time (a virtual card keeps its state within its test bed).
        let pcsc = Pcsc::start();
        let _piv = pcsc.insert_piv(0);
        let data = tempfile_dir();
        let mut env = pcsc.env();
        env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
        env.push(("TESSERA_CONFIG_DIR".into(), data.path().join("config").display().to_string()));
        assert!(wait_until(Duration::from_secs(15), || stdout(&tessera(&env, &["devices", "--no-p11-kit"]))
            .contains("PIV_II")));
        let email = format!("holder{i}@example.org");
        let cf = format!("RSSMRA80A01H50{i}U");
        let (reference, code, pin, _) = counter_request(&ra, &cf, &email, "signature");
        let activate =
            ["--lang", "en", "activate", "--operator", "--stdin", "--json", "--token", "pkcs11:token=PIV_II"];
        let out = tessera_with_stdin(
            &env,
            &[&activate[..], &ra_refs].concat(),
            &(counter_sign_in(&ra) + &format!("{code}\ny\n")),
        );
        assert!(out.status.success(), "activation: {}", stderr(&out));
        let old: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let uri = old["certificates"][0]["uri"].as_str().unwrap();
        let token = format!("pkcs11:serial={}", uri.split("serial=").nth(1).unwrap().split(';').next().unwrap());
        let pin = pin();
        let renew = [
            "--lang",
            "en",
            "renew",
            "--stdin",
            "--json",
            "--accept-contract",
            "2026-1",
            "--overwrite",
            "--token",
            &token,
        ];
        crashed_at(&env, &[&renew[..], &ra_refs].concat(), at, &format!("{pin}\n"));

        // The rerun: the renewal code first where the slot may be overwritten (from the
        // holder's mailbox), then the PIN.
        let answers = if *needs_code {
            let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
            let line =
                outbox.lines().rev().find(|l| l.contains(&email) && l.contains("codice di rinnovo")).expect("the code");
            let code = line.split("è ").nth(1).unwrap().split('.').next().unwrap().trim().to_owned();
            format!("{code}\n{pin}\n")
        } else {
            format!("{pin}\n")
        };
        let out = tessera_with_stdin(&env, &[&renew[..], &ra_refs].concat(), &answers);
        assert!(out.status.success(), "rerun after a kill at {at:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).contains("Renewal code sent to"), *needs_code, "{at}: {}", stderr(&out));
        let renewed: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let listed: Value = ureq::get(&format!("{}/api/v1/operator/renewals?state=completed", ra.url()))
            .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        assert!(
            listed["renewals"].as_array().unwrap().iter().any(|r| r["reference"] == reference.as_str()),
            "{at}: {listed}"
        );
        // The new key signs for the new certificate.
        let out = tessera_with_stdin(
            &env,
            &["--lang", "en", "diagnose", "--token", &token, "--pin", "--stdin", "--json"],
            &format!("{pin}\n"),
        );
        let report = stdout(&out);
        assert!(
            report.contains(renewed["serial"].as_str().unwrap()) && !report.contains("does-not-sign"),
            "{at}: {report}"
        );
        survived += 1;
    }
    eprintln!("fixed-slot renewal: crashed at {} step boundaries, {survived} resumed to completion", steps.len());
}

/// A request registered at the counter (a holder with an e-mail): reference, activation
/// code, and the card's PIN and PUK put together from the handover sheet and the e-mail
/// sent when the request completes (read once it has).
fn counter_request(
    ra: &tessera_testbed::ra::RaServer,
    cf: &str,
    email: &str,
    profile: &str,
) -> (String, String, impl Fn() -> String, impl Fn() -> String) {
    use tessera_testbed::ra::OPERATOR_TOKEN;
    let op = |method: &str, path: &str, body: Option<Value>| -> Value {
        let req = ureq::request(method, &format!("{}{path}", ra.url()))
            .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"));
        let resp = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        resp.unwrap_or_else(|e| panic!("{path}: {e}")).into_json().unwrap()
    };
    let h = op(
        "POST",
        "/api/v1/operator/holders",
        Some(
            serde_json::json!({"given_name": "TEST", "surname": "HOLDER", "cf": cf, "email": email, "cf_forced": true}),
        ),
    );
    let r = op(
        "POST",
        "/api/v1/operator/requests",
        Some(serde_json::json!({"holder_id": h["holder_id"], "profile": profile})),
    );
    let (reference, code) =
        (r["reference"].as_str().unwrap().to_owned(), r["activation_code"].as_str().unwrap().to_owned());
    let sheet = op("GET", &format!("/api/v1/operator/requests/{reference}/handover"), None);
    let (pin1, puk1) =
        (sheet["pin_first_half"].as_str().unwrap().to_owned(), sheet["puk_first_half"].as_str().unwrap().to_owned());
    let outbox = ra.path("tessera-ra/outbox.log");
    let second = move |label: &'static str, email: String, outbox: PathBuf| {
        move || {
            let text = std::fs::read_to_string(&outbox).unwrap();
            let mail = text
                .lines()
                .rev()
                .find(|l| l.contains(&email) && l.contains("codice utente"))
                .expect("the completion e-mail");
            mail.split(label).nth(1).unwrap().split_whitespace().next().unwrap().to_owned()
        }
    };
    let (pin2, puk2) = (
        second("seconda metà del PIN ", email.to_owned(), outbox.clone()),
        second("seconda metà del PUK ", email.to_owned(), outbox),
    );
    (reference, code, move || format!("{pin1}{}", pin2()), move || format!("{puk1}{}", puk2()))
}

/// The blank virtual PIV card in the test bed of `env`, activated at the counter with a
/// 30-day signature certificate for a holder with an e-mail: the card by its serial (its
/// token label follows its certificate) and the PIN the RA chose.
fn piv_activated(ra: &tessera_testbed::ra::RaServer, env: &[(String, String)]) -> (String, String) {
    assert!(
        wait_until(Duration::from_secs(15), || stdout(&tessera(env, &["devices", "--no-p11-kit"])).contains("PIV_II"))
    );
    let (_, code, pin, _) = counter_request(ra, "RSSMRA80A01H501U", "mario@example.org", "signature");
    let activate = ["activate", "--operator", "--stdin", "--json", "--token", "pkcs11:token=PIV_II"];
    let out = tessera_with_stdin(env, &activate, &(counter_sign_in(ra) + &format!("{code}\ny\n")));
    assert!(out.status.success(), "{}", stderr(&out));
    let old: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let uri = old["certificates"][0]["uri"].as_str().unwrap();
    (format!("pkcs11:serial={}", uri.split("serial=").nth(1).unwrap().split(';').next().unwrap()), pin())
}

/// A fixed-slot card (virtual PIV) renewed from the window: the holder's explicit choice
/// to let the new key take the old one's slot comes before anything is signed, and the
/// RA's management key is used without asking.
#[test]
fn gui_renews_a_fixed_slot_card_after_the_holders_choice() {
    use tessera_testbed::ra::RaServer;
    let ra = RaServer::start("validity_days = 30\n");
    let display = webdriver::Display::start();
    let pcsc = Pcsc::start();
    let _piv = pcsc.insert_piv(0);
    let hsm = SoftHsm::empty();
    let (_profile, env) = window_env(&ra, &pcsc, &hsm, &display);
    let (_, pin) = piv_activated(&ra, &env);

    let driver = webdriver::Driver::start(&env);
    let s = driver.session(&bin("tessera-app"));
    let long = Duration::from_secs(30);
    let shots = root().join("target/e2e");
    let shot = |name: &str, of: &str| s.screenshot(of, &shots.join(format!("renewal-piv-{name}.png")));
    let card = r#"[data-token-label="HOLDER TEST"]"#;
    s.wait_text(&format!("{card} .cert button.renew"), long, |t| t == "Rinnova");
    s.click(&format!("{card} .cert button.renew"));
    // Before anything is signed: what overwriting the slot means, and the choice.
    let said = s.wait_text(r#"#wizard [data-question="confirm-overwrite"] .message"#, long, |_| true);
    assert!(said.contains("prende la posizione della vecchia") && said.contains("si completa sempre"), "{said}");
    let room = s.text(r#"#wizard .report [data-check="room"]"#).unwrap_or_default();
    assert!(room.contains("posizione fissa"), "the diagnostics said it before: {room}");
    shot("1-overwrite", r#"#wizard [data-question="confirm-overwrite"] .message"#);
    s.click(r#"#wizard button[data-action="wizard-overwrite-go"]"#);
    s.wait_text(r#"#wizard [data-question="contacts"] h3"#, long, |_| true);
    s.click(r#"#wizard button[data-action="wizard-contacts-keep"]"#);
    s.wait_text(r#"#wizard [data-question="sign-renewal-form"] pre.renewal-form"#, long, |_| true);
    s.click(r#"#wizard button[data-action="wizard-renewal-form-sign"]"#);
    s.wait_text(r#"#wizard [data-question="pin"] form"#, long, |_| true);
    s.type_into(r#"#wizard [data-question="pin"] input"#, &pin);
    s.click(r#"#wizard button[data-action="wizard-next"]"#);
    let done = s.wait_text(r#"#wizard [data-result="renewed"] h3"#, long, |t| !t.is_empty());
    assert!(done.starts_with("Rinnovato: HOLDER TEST"), "{done}");
    for step in ["authorise", "generate:signature", "install:signature", "confirm:signature"] {
        assert_eq!(
            s.text(&format!(r#"#wizard [data-step="{step}"]"#)).map(|t| t.starts_with('✓')),
            Some(true),
            "{step}"
        );
    }
    assert!(s.text(r#"#wizard [data-question="management-key"]"#).is_none(), "the RA's management key, not asked");
    shot("2-done", r#"#wizard [data-result="renewed"] h3"#);
}

/// A fixed-slot renewal interrupted on the command line after its slot was overwritten,
/// completed in the window: the old key is gone, so the wizard asks for the renewal code the
/// holder received (with "send again"), then the PIN.
#[test]
fn gui_completes_a_fixed_slot_renewal_interrupted_after_the_overwrite_with_the_renewal_code() {
    use tessera_testbed::ra::RaServer;
    let ra = RaServer::start("validity_days = 30\n");
    let display = webdriver::Display::start();
    let pcsc = Pcsc::start();
    let _piv = pcsc.insert_piv(0);
    let hsm = SoftHsm::empty();
    let (_profile, env) = window_env(&ra, &pcsc, &hsm, &display);
    let (token, pin) = piv_activated(&ra, &env);
    // The command line stops as the new certificate is about to be written: the new key is
    // in the slot, the old one gone.
    let renew = ["renew", "--stdin", "--accept-contract", "2026-1", "--overwrite", "--token", &token];
    let ra_args = ["--ra".to_owned(), ra.url(), "--ra-ca".to_owned(), ra.ca_file().display().to_string()];
    let ra_refs: Vec<&str> = ra_args.iter().map(String::as_str).collect();
    crashed_at(&env, &[&renew[..], &ra_refs].concat(), "install", &format!("{pin}\n"));

    let driver = webdriver::Driver::start(&env);
    let s = driver.session(&bin("tessera-app"));
    let long = Duration::from_secs(30);
    let shots = root().join("target/e2e");
    let shot = |name: &str, of: &str| s.screenshot(of, &shots.join(format!("renewal-piv-{name}.png")));
    let card = r#"[data-token-label="HOLDER TEST"]"#;
    s.wait_text(&format!("{card} .cert button.renew"), long, |t| t == "Rinnova");
    s.click(&format!("{card} .cert button.renew"));
    let label = s.wait_text(r#"#wizard [data-question="renewal-code"] label"#, long, |_| true);
    assert!(label.contains("Codice di rinnovo inviato a m***@example.org"), "{label}");
    assert!(s.text(r#"#wizard [data-question="renewal-code"] .hint"#).is_some_and(|t| t.contains("si era interrotto")));
    assert!(s.text(r#"#wizard [data-question="confirm-overwrite"]"#).is_none(), "already chosen and authorised");
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    let line =
        outbox.lines().rev().find(|l| l.contains("mario@example.org") && l.contains("codice di rinnovo")).unwrap();
    let renewal_code = line.split("è ").nth(1).unwrap().split('.').next().unwrap().trim().to_owned();
    s.type_into(r#"#wizard [data-question="renewal-code"] input"#, &renewal_code);
    shot("3-code", r#"#wizard [data-question="renewal-code"] input"#);
    s.click(r#"#wizard button[data-action="wizard-next"]"#);
    s.wait_text(r#"#wizard [data-question="pin"] form"#, long, |_| true);
    s.type_into(r#"#wizard [data-question="pin"] input"#, &pin);
    s.click(r#"#wizard button[data-action="wizard-next"]"#);
    let done = s.wait_text(r#"#wizard [data-result="renewed"] h3"#, long, |t| !t.is_empty());
    assert!(done.starts_with("Rinnovato: HOLDER TEST"), "{done}");
    assert_eq!(s.text(r#"#wizard [data-step="issue:signature"]"#).map(|t| t.starts_with('✓')), Some(true));
}

#[test]
fn gui_renews_the_expiring_certificate_from_the_devices_screen() {
    use tessera_testbed::ra::{OPERATOR_TOKEN, RaServer};
    let ra = RaServer::start(
        r#"validity_days = 30
[[request]]
reference = "REQ-RENEW"
office = "RM01"
activation_code = "RNEW-CODE-0001"
profile = "signature"
armed = false
mobile = "+393331234567"
holder = { given_name = "LUCA", surname = "BIANCHI", cf = "BNCLCU75C15F205O" }
"#,
    );
    let display = webdriver::Display::start();
    let pcsc = Pcsc::start();
    let hsm = SoftHsm::empty();
    hsm.add_token("Blank", USER_PIN, SO_PIN);
    let (_profile, env) = window_env(&ra, &pcsc, &hsm, &display);
    // A 30-day certificate on the card, activated at the counter: renewable at once.
    let answers = counter_sign_in(&ra) + &format!("RNEW-CODE-0001\ny\n{USER_PIN}\n");
    let out =
        tessera_with_stdin(&env, &["activate", "--operator", "--stdin", "--token", "pkcs11:token=Blank"], &answers);
    assert!(out.status.success(), "{}", stderr(&out));
    // Since then another person was registered with the holder's mobile.
    let anna = serde_json::json!({"given_name": "ANNA", "surname": "VERDI", "cf": "VRDNNA90E50L219L",
        "mobile": "+393331234567"});
    ureq::post(&format!("{}/api/v1/operator/holders", ra.url()))
        .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
        .send_json(anna)
        .unwrap();

    let driver = webdriver::Driver::start(&env);
    let s = driver.session(&bin("tessera-app"));
    let long = Duration::from_secs(20);
    let shots = root().join("target/e2e");
    let shot = |name: &str, of: &str| s.screenshot(of, &shots.join(format!("renewal-{name}.png")));
    let card = r#"[data-token-label="Blank"]"#;
    s.wait_text(&format!("{card} .cert button.renew"), long, |t| t == "Rinnova");
    shot("1-devices", &format!("{card} .cert button.renew"));
    s.click(&format!("{card} .cert button.renew"));
    // The diagnostics, then the contacts: the mobile another person has must change.
    let conflict = s.wait_text(r#"#wizard [data-question="contacts"] .conflict"#, long, |_| true);
    assert!(conflict.contains("cellulare") && conflict.contains("un'altra persona"), "{conflict}");
    assert!(s.text(r#"#wizard .current-contacts"#).is_some_and(|t| t.contains("+39********67")));
    s.type_into(r#"#wizard [data-question="contacts"] input[name="mobile"]"#, "333 999 8877");
    shot("1b-contacts", r#"#wizard [data-question="contacts"] .conflict"#);
    s.click(r#"#wizard button[data-action="wizard-contacts-change"]"#);
    // The change is signed with the card: the PIN, asked once for the whole renewal.
    s.wait_text(r#"#wizard [data-question="pin"] form"#, long, |_| true);
    shot("3-pin", r#"#wizard [data-question="pin"] form"#);
    s.type_into(r#"#wizard [data-question="pin"] input"#, USER_PIN);
    s.click(r#"#wizard button[data-action="wizard-next"]"#);
    // The code sent to the new number.
    let label = s.wait_text(r#"#wizard [data-question="contact-code"] label"#, long, |_| true);
    assert!(label.contains("+39********77"), "{label}");
    s.type_into(r#"#wizard [data-question="contact-code"] input"#, &ra.otp("+393339998877").expect("the code's SMS"));
    shot("1c-code", r#"#wizard [data-question="contact-code"] label"#);
    s.click(r#"#wizard button[data-action="wizard-next"]"#);
    // Then the general terms and the renewal form, shown whole, naming the new number.
    let form = s.wait_text(r#"#wizard [data-question="sign-renewal-form"] pre.renewal-form"#, long, |_| true);
    assert!(form.contains("BIANCHI") && form.contains("MODULO DI RICHIESTA DI RINNOVO"), "{form}");
    assert_eq!(s.text("#wizard h2").as_deref(), Some("Rinnovo"));
    assert_eq!(s.text(r#"#wizard [data-step="diagnose"]"#).map(|t| t.starts_with('✓')), Some(true));
    assert!(s.text(r#"#wizard pre.contract"#).is_some_and(|t| t.contains("CONDIZIONI GENERALI")));
    // The checks made before the PIN stay on screen: the RA's word on this certificate
    // too (the conflict, as it was before the change).
    let ra_check = s.text(r#"#wizard .report [data-check="ra-renewal"]"#).unwrap_or_default();
    assert!(ra_check.contains("un'altra persona"), "{ra_check}");
    assert!(s.text("#wizard .report summary").is_some_and(|t| t.starts_with("Verifiche prima del PIN")));
    assert!(form.contains("+39********77"), "{form}");
    shot("2-form", r#"#wizard [data-question="sign-renewal-form"] pre.renewal-form"#);
    s.click(r#"#wizard button[data-action="wizard-renewal-form-sign"]"#);
    let done = s.wait_text(r#"#wizard [data-result="renewed"] h3"#, long, |t| !t.is_empty());
    assert!(done.starts_with("Rinnovato: BIANCHI LUCA"), "{done}");
    assert_eq!(s.text(r#"#wizard [data-step="confirm:signature"]"#).map(|t| t.starts_with('✓')), Some(true));
    assert_eq!(s.text(r#"#wizard [data-step="sign-form"]"#).map(|t| t.starts_with('✓')), Some(true));
    shot("4-done", r#"#wizard [data-result="renewed"] h3"#);
    s.click(r#"#wizard button[data-action="wizard-close"]"#);
    // Back on the Devices screen: the old certificate and its successor; no second Renew.
    s.wait_text(&format!("{card} .count"), long, |t| t == "2 certificati");
    assert!(s.text(&format!("{card} .cert button.renew")).is_none());
    shot("5-devices-after", &format!("{card} .count"));
}

#[test]
fn window_shows_each_renewal_notice_once_as_a_desktop_notification() {
    let display = webdriver::Display::start();
    let notifications = desktop::Notifications::start(&display);
    let pcsc = Pcsc::start();
    let hsm = SoftHsm::with_samples();
    let profile = tempfile_dir();
    let mut env = both(&pcsc.env(), &hsm.env());
    env.extend(notifications.env());
    env.extend(display_env(&display, profile.path()));
    env.push(("TESSERA_DATA_DIR".into(), profile.path().join("data").display().to_string()));
    env.push(("TESSERA_LOG".into(), "info".into()));
    // Run the window until its reminders thread has checked once; what it logged.
    let run_once = || {
        let mut app = Command::new(bin("tessera-app"))
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stderr = app.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("renewal reminders checked") {
                    // The log's colours out: "shown=1" as written.
                    let mut plain = String::new();
                    let mut chars = line.chars();
                    while let Some(c) = chars.next() {
                        if c == '\u{1b}' {
                            chars.by_ref().find(|c| c.is_ascii_alphabetic());
                        } else {
                            plain.push(c);
                        }
                    }
                    let _ = tx.send(plain);
                }
            }
        });
        let checked = rx.recv_timeout(Duration::from_secs(30));
        // The notification goes out on the window's async runtime: give it the time to.
        tessera_testbed::wait_until(Duration::from_secs(5), || notifications.count() > 0);
        std::thread::sleep(Duration::from_millis(500));
        let _ = app.kill();
        let _ = app.wait();
        checked.expect("the reminders thread checked")
    };
    // First start: the expiring certificate's notice, once (the expired one of the same
    // holder was renewed, the far one is not due).
    let checked = run_once();
    assert!(checked.contains("shown=1"), "{checked}");
    notifications.screenshot(&root().join("target/e2e/notification-renewal.png"));
    let shown = notifications.shown();
    assert_eq!(shown.len(), 1, "{shown:?}");
    let (title, body) = &shown[0];
    assert_eq!(title, "Tessera: rinnova il tuo certificato");
    assert!(body.contains("BIANCHI LUCA") && body.contains("scade tra 30 giorni"), "{body}");
    assert!(body.contains("Luca Bianchi Firma"), "which card: {body}");
    // Started again, the card still there: not shown twice.
    let checked = run_once();
    assert!(checked.contains("shown=0"), "{checked}");
    assert_eq!(notifications.shown().len(), 1);
    // The same with the card gone: the reminder is of the certificate, not the card.
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", hsm.conf())
        .args(["--delete-token", "--token", "Luca Bianchi Firma"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let checked = run_once();
    assert!(checked.contains("shown=0"), "{checked}");
    let seen = std::fs::read_to_string(profile.path().join("data/seen.json")).unwrap();
    assert!(seen.contains("\"notified\": [\n      30\n    ]"), "{seen}");
}
