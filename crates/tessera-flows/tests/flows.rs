//! The activation flow against real parts: SoftHSM2 tokens, the reference RA over HTTP on
//! 127.0.0.1, and `openssl cmp`'s mock server as an independent CMP CA. A scripted
//! prompter answers the questions in the order they are asked.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Command;

use tessera_core::card::Role;
use tessera_core::devices::{Devices, Options};
use tessera_flows::activation::{Activation, Mode, Outcome};
use tessera_flows::prompter::{Progress, Prompter, Question, Step};
use tessera_flows::ra::http::Http;
use tessera_flows::settings::Settings;
use tessera_testbed::ra::{OPERATOR_TOKEN, RaServer};
use tessera_testbed::{SOFTHSM_MODULE, SoftHsm};
use zeroize::Zeroizing;

/// An answer the script gives.
enum A {
    Text(&'static str),
    /// A value known only at run time (a PIN the RA chose).
    Owned(String),
    /// The latest OTP in the RA's outbox for this mobile.
    Otp(&'static str),
    Yes,
    /// The answer to the renewal's contacts question; without it, they are kept.
    Contacts(&'static str),
}

struct Script<'r> {
    answers: VecDeque<A>,
    ra: Option<&'r RaServer>,
    asked: Vec<&'static str>,
    events: Vec<Progress>,
    /// Run once, when this step starts (a fault injected mid-flow).
    on_step: Option<(Step, Box<dyn FnOnce() + 'r>)>,
}

impl<'r> Script<'r> {
    fn new(ra: Option<&'r RaServer>, answers: Vec<A>) -> Script<'r> {
        Script { answers: answers.into(), ra, asked: Vec::new(), events: Vec::new(), on_step: None }
    }

    fn done(&self, step: Step) -> bool {
        self.events.contains(&Progress::Done { step })
    }

    fn resumed(&self, step: Step) -> bool {
        self.events.contains(&Progress::Resumed { step })
    }
}

impl Prompter for Script<'_> {
    fn ask(&mut self, q: &Question) -> tessera_flows::Result<Zeroizing<String>> {
        self.asked.push(q.id());
        if matches!(q, Question::Contacts { .. }) {
            return Ok(Zeroizing::new(match self.answers.front() {
                Some(A::Contacts(t)) => {
                    let t = t.to_string();
                    self.answers.pop_front();
                    t
                }
                _ => String::new(),
            }));
        }
        match self.answers.pop_front() {
            Some(A::Text(t)) => Ok(Zeroizing::new(t.to_owned())),
            Some(A::Owned(t)) => Ok(Zeroizing::new(t)),
            Some(A::Otp(mobile)) => Ok(Zeroizing::new(self.ra.and_then(|r| r.otp(mobile)).expect("an SMS"))),
            Some(A::Yes) => Ok(Zeroizing::new("s".into())),
            Some(A::Contacts(_)) => panic!("a contacts answer for {}", q.id()),
            None => Err(tessera_flows::Error::Cancelled),
        }
    }

    fn confirm(&mut self, q: &Question) -> tessera_flows::Result<bool> {
        Ok(self.ask(q)?.as_str() == "s")
    }

    fn progress(&mut self, event: &Progress) {
        if let (Progress::Started { step }, Some((when, _))) = (event, &self.on_step)
            && step == when
            && let Some((_, f)) = self.on_step.take()
        {
            f();
        }
        self.events.push(event.clone());
    }
}

const REQUESTS: &str = r#"
[[request]]
reference = "REQ-COUNTER"
office = "RM01"
activation_code = "ABCD-EFGH-JKLM"
profile = "signature"
armed = false
holder = { given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U" }

[[request]]
reference = "REQ-HOME"
office = "RM01"
activation_code = "HOME-CODE-0003"
profile = "signature"
armed = false
mobile = "+393331234567"
holder = { given_name = "LUCA", surname = "BIANCHI", cf = "BNCLCU75C15F205O" }

[[request]]
reference = "REQ-BOTH"
office = "RM01"
activation_code = "BOTH-CERT-0006"
profile = "cns+signature"
armed = false
holder = { given_name = "PAOLO", surname = "NERI", cf = "NRIPLA70A01H501S" }

[[request]]
reference = "REQ-TWIN"
office = "RM01"
activation_code = "TWIN-CODE-0007"
profile = "signature"
armed = false
holder = { given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U" }

[[request]]
reference = "REQ-MILANO"
office = "MI02"
activation_code = "MILA-NOMI-0008"
profile = "signature"
holder = { given_name = "LUCA", surname = "BIANCHI", cf = "BNCLCU75C15F205O" }

[[request]]
reference = "REQ-CNS"
office = "RM01"
activation_code = "CNSS-CODE-0005"
profile = "cns-authentication"
armed = false
holder = { given_name = "ANNA", surname = "VERDI", cf = "VRDNNA90E50L219L" }
"#;

/// A SoftHSM2 configuration with one blank, initialised token "Blank" (user PIN 123456),
/// and the journal in a temporary directory.
struct Bed {
    hsm: SoftHsm,
    data: tempfile::TempDir,
}

impl Bed {
    fn new() -> Bed {
        Self::with_pins("123456", "12345678")
    }

    fn with_pins(user: &str, so: &str) -> Bed {
        let hsm = SoftHsm::empty();
        let data = tempfile::tempdir().unwrap();
        let mut env = hsm.env();
        env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
        env.push(("TESSERA_CONFIG_DIR".into(), data.path().join("config").display().to_string()));
        tessera_testbed::apply_env(&env);
        hsm.add_token("Blank", user, so);
        Bed { hsm, data }
    }

    fn devices(&self) -> Devices {
        let mut options = Options::from_env();
        options.modules.push(SOFTHSM_MODULE.into());
        options.p11kit = false;
        Devices::new(options)
    }

    /// Objects of a class on the blank token (pkcs11-tool, the independent reader).
    fn objects(&self, kind: &str) -> usize {
        let out = Command::new("pkcs11-tool")
            .env("SOFTHSM2_CONF", self.hsm.conf())
            .args([
                "--module",
                SOFTHSM_MODULE,
                "--token-label",
                "Blank",
                "--login",
                "--pin",
                "123456",
                "--list-objects",
            ])
            .args(["--type", kind])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| {
                l.starts_with(match kind {
                    "privkey" => "Private Key Object",
                    "cert" => "Certificate Object",
                    _ => "Public Key Object",
                })
            })
            .count()
    }
}

/// The counter: an operator of office RM01 signed in to `ra` with their own account.
fn counter(ra: &RaServer) -> Mode {
    let op = ra.operator("anna.odr", "RM01");
    let http = Http::new(&ra.url(), &settings(ra).anchors().unwrap()).unwrap();
    let [name, password, code] = op.sign_in_answers();
    Mode::Operator(block_on(tessera_flows::operator::sign_in(&http, &name, &password, &code)).expect("signed in"))
}

fn settings(ra: &RaServer) -> Settings {
    Settings { ra: ra.url(), ra_ca: Some(ra.ca_file()) }
}

async fn run(bed: &Bed, settings: Settings, mode: Mode, script: &mut Script<'_>) -> tessera_flows::Result<Outcome> {
    let mut devices = bed.devices();
    let flow = Activation::new(&mut devices, settings, Some("pkcs11:token=Blank".into()), mode);
    flow.run(script).await
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// `openssl verify` of a DER certificate against the RA's chain file.
fn openssl_verifies(der: &[u8], chain: &Path, dir: &Path) -> bool {
    let cert = dir.join("leaf.der");
    std::fs::write(&cert, der).unwrap();
    let pem = dir.join("leaf.pem");
    let ok = Command::new("openssl").args(["x509", "-inform", "DER", "-in"]).arg(&cert).arg("-out").arg(&pem).status();
    assert!(ok.unwrap().success());
    Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(chain)
        .arg(&pem)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn certificate_on_token(bed: &Bed, uri: &str) -> Vec<u8> {
    let out = Command::new("pkcs11-tool")
        .env("SOFTHSM2_CONF", bed.hsm.conf())
        .args(["--module", SOFTHSM_MODULE, "--token-label", "Blank", "--read-object", "--type", "cert", "--id"])
        .arg(uri.split(";id=").nth(1).unwrap().split(';').next().unwrap().replace('%', ""))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn an_operator_activates_a_blank_token_at_the_counter() {
    let bed = Bed::new();
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let mut script = Script::new(Some(&ra), vec![A::Text("abcd efgh jklm"), A::Yes, A::Text("123456")]);
    let outcome = block_on(run(&bed, settings(&ra), counter.clone(), &mut script)).expect("activation");
    assert_eq!(script.asked, ["ask-activation-code", "ask-confirm-request", "prompt-user-pin"]);
    assert_eq!(outcome.reference, "REQ-COUNTER");
    assert_eq!(outcome.holder.as_ref().map(|h| h.surname.as_str()), Some("ROSSI"));
    let [cert] = outcome.certificates.as_slice() else { panic!("one certificate: {outcome:?}") };
    assert_eq!(cert.role, Role::Signature);
    assert!(cert.subject.contains("TINIT-RSSMRA80A01H501U"), "{}", cert.subject);
    assert!(!cert.suspended && !cert.resumed);
    // What is on the token is what the RA issued, and openssl accepts its chain.
    let der = certificate_on_token(&bed, &cert.uri);
    assert!(openssl_verifies(&der, &ra.ca_file(), bed.data.path()));
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 1));
    for role_step in [
        Step::Generate { role: Role::Signature },
        Step::Install { role: Role::Signature },
        Step::Confirm { role: Role::Signature },
    ] {
        assert!(script.done(role_step), "{role_step:?} in {:?}", script.events);
    }
    // A second run for the same request: refused, nothing more on the token.
    let mut again = Script::new(Some(&ra), vec![A::Text("ABCD-EFGH-JKLM")]);
    let e = block_on(run(&bed, settings(&ra), counter.clone(), &mut again)).unwrap_err();
    assert_eq!(e.code(), "already-issued", "{e}");
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 1));
}

#[test]
fn a_holder_at_home_arms_with_tax_code_and_sms_otp_correcting_a_wrong_one() {
    let bed = Bed::new();
    let ra = RaServer::start(REQUESTS);
    let mut script = Script::new(
        Some(&ra),
        vec![
            A::Text("HOME-CODE-0003"),
            // A typo in the check letter is caught before anything is sent.
            A::Text("BNCLCU75C15F205X"),
            A::Text("bnclcu75c15f205o"),
            A::Text("000000"),
            // Another SMS at once: refused (30 s), said so, asked again.
            A::Text(""),
            A::Otp("+393331234567"),
            A::Yes,
            A::Text("123456"),
        ],
    );
    let outcome = block_on(run(&bed, settings(&ra), Mode::Holder, &mut script)).expect("activation");
    assert_eq!(outcome.reference, "REQ-HOME");
    assert_eq!(outcome.certificates.len(), 1);
    let notices: Vec<&str> = script
        .events
        .iter()
        .filter_map(|e| if let Progress::Notice { code, .. } = e { Some(code.as_str()) } else { None })
        .collect();
    assert_eq!(notices, ["notice-cf-check-letter", "error-otp-wrong", "error-otp-resend-too-soon"]);
    assert_eq!(ra.sms_count("+393331234567"), 1);
    assert_eq!(bed.objects("cert"), 1);
}

/// A `tessera://` link named the request: a code of another request is refused by the RA as
/// a wrong code, at home before any SMS goes out, at the counter before anything is armed;
/// the link's own request takes its code.
#[test]
fn a_link_s_request_takes_only_its_own_code() {
    let bed = Bed::new();
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let run_for = |mode: Mode, link: &str, answers: Vec<A>| {
        let mut script = Script::new(Some(&ra), answers);
        let mut devices = bed.devices();
        let flow = Activation::new(&mut devices, settings(&ra), Some("pkcs11:token=Blank".into()), mode);
        block_on(flow.run_for(&mut script, Some(link)))
    };
    let e =
        run_for(Mode::Holder, "REQ-COUNTER", vec![A::Text("HOME-CODE-0003"), A::Text("BNCLCU75C15F205O")]).unwrap_err();
    assert_eq!(e.code(), "activation-refused", "{e:?}");
    assert_eq!(ra.sms_count("+393331234567"), 0, "no SMS for a code of another request");
    // At the counter a link arms its request by reference, without a code, once the
    // operator confirmed whose it is: declined, nothing is armed.
    let mut script = Script::new(Some(&ra), vec![]);
    let mut devices = bed.devices();
    let flow = Activation::new(&mut devices, settings(&ra), Some("pkcs11:token=Blank".into()), counter.clone());
    assert!(matches!(block_on(flow.run_for(&mut script, Some("REQ-HOME"))), Err(tessera_flows::Error::Cancelled)));
    assert_eq!(script.asked, ["ask-confirm-counter-request"], "no code asked");
    // Another office's request does not exist for this operator.
    let e = run_for(counter.clone(), "REQ-MILANO", vec![A::Yes]).unwrap_err();
    assert_eq!(e.code(), "unknown-request", "{e:?}");
    // REQ-COUNTER was not armed by any of it: at home its code still needs the SMS step
    // (its request has no mobile, so the RA says so instead of arming it).
    let e =
        run_for(Mode::Holder, "REQ-COUNTER", vec![A::Text("ABCD-EFGH-JKLM"), A::Text("RSSMRA80A01H501U")]).unwrap_err();
    assert_eq!(e.code(), "no-mobile", "{e:?}");
    assert_eq!(bed.objects("pubkey"), 0);
    // The link's own request, confirmed: armed by reference, activated.
    let outcome = run_for(counter.clone(), "REQ-COUNTER", vec![A::Yes, A::Text("123456")]).expect("the link's request");
    assert_eq!(outcome.reference, "REQ-COUNTER");
}

#[test]
fn a_wrong_code_or_tax_code_stops_before_any_key_is_made() {
    let bed = Bed::new();
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let mut script = Script::new(Some(&ra), vec![A::Text("WRNG-CODE-0000"), A::Text("BNCLCU75C15F205O")]);
    let e = block_on(run(&bed, settings(&ra), Mode::Holder, &mut script)).unwrap_err();
    assert_eq!(e.code(), "activation-refused");
    let mut script = Script::new(Some(&ra), vec![A::Text("HOME-CODE-0003"), A::Text("RSSMRA80A01H501U")]);
    let e = block_on(run(&bed, settings(&ra), Mode::Holder, &mut script)).unwrap_err();
    assert_eq!((e.code(), e.params().get("tries_left").map(String::as_str)), ("activation-refused", Some("4")));
    // An operator whose session the RA no longer knows (signed out elsewhere, the
    // account disabled): refused before any key.
    let Mode::Operator(session) = &counter else { unreachable!() };
    let http = Http::new(&ra.url(), &settings(&ra).anchors().unwrap()).unwrap();
    block_on(tessera_flows::operator::sign_out(&http, session)).unwrap();
    let mut script = Script::new(Some(&ra), vec![A::Text("abcd-efgh-jklm")]);
    let e = block_on(run(&bed, settings(&ra), counter.clone(), &mut script)).unwrap_err();
    assert_eq!(e.code(), "operator-unauthenticated");
    assert!(tessera_flows::operator::signed_out(&e));
    assert_eq!(bed.objects("pubkey"), 0);
}

#[test]
fn a_cns_and_signature_request_puts_two_key_pairs_and_certificates_on_the_card_resuming_after_the_ra_fails() {
    let bed = Bed::new();
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let answers = || vec![A::Text("BOTH-CERT-0006"), A::Yes, A::Text("123456")];
    // The RA goes down once the authentication certificate is confirmed, before the
    // signature certificate is asked for.
    let mut script = Script::new(Some(&ra), answers());
    script.on_step = Some((Step::Issue { role: Role::Signature }, Box::new(|| ra.stop())));
    let e = block_on(run(&bed, settings(&ra), counter.clone(), &mut script)).unwrap_err();
    assert_eq!(e.code(), "ra-unreachable");
    assert!(script.done(Step::Confirm { role: Role::Authentication }));
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (2, 1));

    ra.restart();
    let mut again = Script::new(Some(&ra), answers());
    let outcome = block_on(run(&bed, settings(&ra), counter.clone(), &mut again)).expect("resumed activation");
    for step in [
        Step::Generate { role: Role::Authentication },
        Step::Install { role: Role::Authentication },
        Step::Generate { role: Role::Signature },
    ] {
        assert!(again.resumed(step), "{step:?} resumed: {:?}", again.events);
    }
    let roles: Vec<Role> = outcome.certificates.iter().map(|c| c.role).collect();
    assert_eq!(roles, [Role::Authentication, Role::Signature]);
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (2, 2));
    // Each certificate is the RA's for its own profile: key usages tell them apart.
    for c in &outcome.certificates {
        let der = certificate_on_token(&bed, &c.uri);
        assert!(openssl_verifies(&der, &ra.ca_file(), bed.data.path()));
        let summary = tessera_pki::CertificateSummary::parse(&der, time::OffsetDateTime::now_utc()).unwrap();
        let expected = match c.role {
            Role::Authentication => tessera_pki::certificate::Role::Authentication,
            Role::Signature => tessera_pki::certificate::Role::Signature,
        };
        assert_eq!(summary.role, expected);
    }
}

#[test]
fn a_wrong_pin_is_asked_again_with_the_tries_left() {
    let bed = Bed::new();
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let mut script =
        Script::new(Some(&ra), vec![A::Text("ABCD-EFGH-JKLM"), A::Yes, A::Text("999999"), A::Text("123456")]);
    block_on(run(&bed, settings(&ra), counter.clone(), &mut script)).expect("activation");
    assert_eq!(script.asked.iter().filter(|q| **q == "prompt-user-pin").count(), 2);
    assert!(script.events.iter().any(|e| matches!(e, Progress::Notice { code, .. } if code == "error-wrong-pin")));
}

#[test]
fn the_ra_going_down_mid_flow_resumes_with_the_same_key_and_nothing_littered() {
    let bed = Bed::new();
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let settings = settings(&ra);
    let mut script = Script::new(None, vec![A::Text("CNSS-CODE-0005"), A::Yes, A::Text("123456")]);
    // The RA stops as the key is being made: the key is made, the request cannot go.
    script.on_step = Some((Step::Generate { role: Role::Authentication }, Box::new(|| ra.stop())));
    let e = block_on(run(&bed, settings.clone(), counter.clone(), &mut script)).unwrap_err();
    assert_eq!(e.code(), "ra-unreachable", "{e}");
    assert!(e.transient());
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 0));

    ra.restart();
    // Resumed on another token: refused before anything is made there (its key is on
    // the first one).
    bed.hsm.add_token("Other", "123456", "12345678");
    let mut devices = bed.devices();
    let mut elsewhere = Script::new(None, vec![A::Text("CNSS-CODE-0005"), A::Yes, A::Text("123456")]);
    let flow = Activation::new(&mut devices, settings.clone(), Some("pkcs11:token=Other".into()), counter.clone());
    let e = block_on(flow.run(&mut elsewhere)).unwrap_err();
    assert_eq!(e.code(), "begun-on-another-card", "{e}");
    drop(devices);
    let mut again = Script::new(None, vec![A::Text("CNSS-CODE-0005"), A::Yes, A::Text("123456")]);
    let outcome = block_on(run(&bed, settings, counter.clone(), &mut again)).expect("resumed activation");
    assert!(again.resumed(Step::Generate { role: Role::Authentication }), "{:?}", again.events);
    assert_eq!(outcome.certificates[0].role, Role::Authentication);
    // One key pair, one certificate: the first run's key was used.
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 1));
}

#[test]
fn an_answer_lost_before_the_journal_kept_it_brings_the_same_certificate_again() {
    let bed = Bed::new();
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let settings = settings(&ra);
    let answers = || vec![A::Text("CNSS-CODE-0005"), A::Yes, A::Text("123456")];
    let mut script = Script::new(None, answers());
    // The RA stops as the certificate is confirmed: issued and written, not confirmed.
    script.on_step = Some((Step::Confirm { role: Role::Authentication }, Box::new(|| ra.stop())));
    let e = block_on(run(&bed, settings.clone(), counter.clone(), &mut script)).unwrap_err();
    assert_eq!(e.code(), "ra-unreachable", "{e}");
    // As if the process had died between the RA's answer and the journal's write: the
    // journal knows the key only, and no certificate reached the card.
    let journal = std::fs::read_dir(bed.data.path().join("journal")).unwrap().next().unwrap().unwrap().path();
    let mut record: serde_json::Value = serde_json::from_slice(&std::fs::read(&journal).unwrap()).unwrap();
    let state = &mut record["certificates"]["authentication"];
    let first = state["certificate"].as_str().unwrap().to_owned();
    let key_id = state["key_id"].as_str().unwrap().to_owned();
    for field in ["certificate", "transaction", "note"] {
        state[field] = serde_json::Value::Null;
    }
    state["installed"] = false.into();
    std::fs::write(&journal, serde_json::to_vec(&record).unwrap()).unwrap();
    let out = Command::new("pkcs11-tool")
        .env("SOFTHSM2_CONF", bed.hsm.conf())
        .args(["--module", SOFTHSM_MODULE, "--token-label", "Blank", "--login", "--pin", "123456"])
        .args(["--delete-object", "--type", "cert", "--id", &key_id])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(bed.objects("cert"), 0);

    // The next run asks again with the same key, in a new transaction: the RA answers
    // with the certificate it already issued, never a second one.
    ra.restart();
    let mut again = Script::new(None, answers());
    let outcome = block_on(run(&bed, settings, counter.clone(), &mut again)).expect("resumed activation");
    let der = certificate_on_token(&bed, &outcome.certificates[0].uri);
    let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, first, "the same certificate");
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 1));
}

/// `openssl cmp`'s mock server: a CMP CA with reference + secret and no workflow API.
struct MockCa {
    child: std::process::Child,
    port: u16,
}

impl MockCa {
    fn start(dir: &Path, rsp_cert: &Path) -> MockCa {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("openssl")
            .current_dir(dir)
            .args(["cmp", "-port", &port.to_string(), "-srv_ref", "EXT-1", "-srv_secret", "pass:ext-secret"])
            .args(["-srv_cert", "ca.crt", "-srv_key", "ca.key", "-rsp_capubs", "ca.crt", "-rsp_cert"])
            .arg(rsp_cert)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("mock.log")).unwrap())
            .spawn()
            .unwrap();
        assert!(tessera_testbed::wait_until(std::time::Duration::from_secs(5), || std::net::TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_ok()));
        MockCa { child, port }
    }
}

impl Drop for MockCa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_plain_cmp_ca_is_used_with_reference_and_secret_and_a_certificate_for_another_key_is_refused() {
    let bed = Bed::new();
    let ca = tessera_testbed::OpensslCa::new();
    let d = ca.dir();
    // The mock's answers: certificates from this CA for a request's key, or for `pubkey`.
    let issue = |out: &str, pubkey: Option<&str>| {
        let mut args = vec!["x509", "-req", "-in", "other.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"];
        args.extend(["-days", "30", "-out", out]);
        if let Some(key) = pubkey {
            args.extend(["-force_pubkey", key]);
        }
        openssl(d, &args);
    };
    // First the mock answers with a certificate for some other key.
    let other = ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other.key"];
    openssl(d, &[&other[..], &["-out", "other.csr", "-subj", "/CN=other"]].concat());
    issue("wrong.crt", None);
    let mode = Mode::Cmp { reference: "EXT-1".into(), profile: "signature".into() };
    let mock = MockCa::start(d, &d.join("wrong.crt"));
    let settings = Settings { ra: format!("http://127.0.0.1:{}/pkix/", mock.port), ra_ca: Some(d.join("ca.crt")) };
    let mut script = Script::new(None, vec![A::Text("ext-secret"), A::Yes, A::Text("123456")]);
    let e = block_on(run(&bed, settings.clone(), mode.clone(), &mut script)).unwrap_err();
    assert_eq!(e.code(), "certificate-for-another-key", "{e}");
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 0), "refused, never written");
    drop(mock);

    // Then with a certificate for the key the token made (its public key read from the
    // token by pkcs11-tool, under the id the journal recorded).
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bed.data.path().join("journal/activation-EXT-1.json")).unwrap()).unwrap();
    let id = journal["certificates"]["signature"]["key_id"].as_str().unwrap().to_owned();
    let out = Command::new("pkcs11-tool")
        .env("SOFTHSM2_CONF", bed.hsm.conf())
        .args(["--module", SOFTHSM_MODULE, "--token-label", "Blank", "--read-object", "--type", "pubkey", "--id", &id])
        .arg("--output-file")
        .arg(d.join("card.pub.der"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    openssl(d, &["pkey", "-pubin", "-inform", "DER", "-in", "card.pub.der", "-out", "card.pub.pem"]);
    issue("right.crt", Some("card.pub.pem"));
    let mock = MockCa::start(d, &d.join("right.crt"));
    let settings = Settings { ra: format!("http://127.0.0.1:{}/pkix/", mock.port), ..settings };
    let mut script = Script::new(None, vec![A::Text("ext-secret"), A::Yes, A::Text("123456")]);
    let outcome = block_on(run(&bed, settings, mode, &mut script));
    let outcome = outcome.unwrap_or_else(|e| {
        panic!("activation at the mock CA: {e:?}: {}", std::fs::read_to_string(d.join("mock.log")).unwrap_or_default())
    });
    assert!(script.resumed(Step::Generate { role: Role::Signature }), "the key of the first run: {:?}", script.events);
    assert_eq!(outcome.certificates.len(), 1);
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 1));
}

#[test]
fn the_error_file_has_the_steps_devices_and_errors_in_the_users_language_and_no_secret() {
    const PIN: &str = "Pq7Zx91k";
    let bed = Bed::with_pins(PIN, "So9Wv3Ty");
    let ra = RaServer::start(
        r#"
[[request]]
reference = "REQ-FILE"
office = "RM01"
activation_code = "QWRT-YPLK-MNBV"
profile = "signature"
armed = false
holder = { given_name = "MARIO", surname = "ROSSI", cf = "RSSMRA80A01H501U" }
"#,
    );
    let counter = counter(&ra);
    let mut script = Script::new(None, vec![A::Text("qwrt yplk mnbv"), A::Yes, A::Text(PIN)]);
    script.on_step = Some((Step::Issue { role: Role::Signature }, Box::new(|| ra.stop())));
    let e = block_on(run(&bed, settings(&ra), counter.clone(), &mut script)).unwrap_err();
    assert_eq!(e.code(), "ra-unreachable");

    let mut devices = bed.devices();
    let msg = tessera_core::messages::Messages::new(tessera_core::messages::Lang::It);
    let dir = bed.data.path().join("support");
    let path = tessera_flows::support::write(&msg, Some(&e.payload()), &devices.snapshot(), &dir).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    // What support needs: the module and its version, the token, the journal's steps, the
    // error with its Italian cause and remedy.
    assert!(text.contains(SOFTHSM_MODULE) && text.contains("\"label\": \"Blank\""), "{text}");
    assert!(text.contains("### REQ-FILE · signature · not completed"), "{text}");
    assert!(text.contains("## The error shown\n- [ra-unreachable]"), "{text}");
    assert!(text.contains("[ra-unreachable] L'autorità di registrazione"), "{text}");
    assert!(text.contains("l'attivazione riprende dal punto in cui si è fermata"), "{text}");
    // What it must never hold, in any form the flow saw it.
    for secret in ["QWRT-YPLK-MNBV", "QWRTYPLKMNBV", "qwrt yplk mnbv", "Sportello di prova 2026", PIN, "So9Wv3Ty"] {
        assert!(!text.contains(secret), "{secret} in the error file");
    }
}

#[test]
fn a_card_pulled_as_its_key_is_made_is_a_clear_error_and_the_rerun_after_reinserting_completes() {
    let pcsc = tessera_testbed::Pcsc::start();
    let data = tempfile::tempdir().unwrap();
    let mut env = pcsc.env();
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    tessera_testbed::apply_env(&env);
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let token = "pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))";
    // One device engine for the whole test, as in the app (a PKCS#11 module is loaded
    // once per process).
    let mut options = Options::from_env();
    options.p11kit = false;
    let mut d = Devices::new(options);
    let visible = |d: &mut Devices| d.with_token(token, |t| Ok(t.label.clone())).is_ok();
    let card = pcsc.insert_openpgp(0);
    assert!(tessera_testbed::wait_until(std::time::Duration::from_secs(15), || visible(&mut d)));
    let answers = || vec![A::Text("ABCD-EFGH-JKLM"), A::Yes, A::Text("12345678"), A::Text("123456")];
    let mut script = Script::new(Some(&ra), answers());
    script.on_step = Some((Step::Generate { role: Role::Signature }, Box::new(move || card.remove())));
    let flow = Activation::new(&mut d, settings(&ra), Some(token.into()), counter.clone());
    let e = block_on(flow.run(&mut script)).unwrap_err();
    assert!(e.transient(), "a card pulled out is worth a retry: {e:?}");
    assert!(matches!(e.code(), "card-removed" | "token-removed" | "token-not-found"), "{e:?}");

    // The first run gave the blank card the RA's PIN and PUK before it was pulled; the
    // rerun asks for them (the holder has them as halves; here, from the RA directly).
    assert!(script.done(Step::Personalise), "{:?}", script.events);
    let secrets: serde_json::Value = ureq::post(&format!("{}/api/v1/activation/REQ-COUNTER/personalisation", ra.url()))
        .send_json(serde_json::json!({"activation_code": "ABCD-EFGH-JKLM"}))
        .unwrap()
        .into_json()
        .unwrap();
    let (pin, puk) = (secrets["pin"].as_str().unwrap().to_owned(), secrets["puk"].as_str().unwrap().to_owned());

    // Back in the reader: the rerun completes, with one key pair in the signature slot.
    let _card = pcsc.insert_openpgp(0);
    assert!(tessera_testbed::wait_until(std::time::Duration::from_secs(15), || visible(&mut d)));
    let mut again = Script::new(Some(&ra), vec![A::Text("ABCD-EFGH-JKLM"), A::Yes, A::Owned(puk), A::Owned(pin)]);
    let flow = Activation::new(&mut d, settings(&ra), Some(token.into()), counter.clone());
    let outcome = block_on(flow.run(&mut again)).unwrap_or_else(|e| panic!("rerun: {e:?} after {:?}", again.events));
    assert!(outcome.certificates[0].uri.contains("id=%01;type=cert"), "{outcome:?}");
}

#[test]
fn middleware_that_cannot_write_stops_before_any_key_and_names_what_to_install() {
    let bed = Bed::new();
    // The catalog entry says this module only reads and signs, and names one that can do
    // more (as OpenSC and the vendors' modules stand for an Italian CNS card).
    let drivers = bed.data.path().join("drivers");
    std::fs::create_dir_all(&drivers).unwrap();
    let entry = include_str!("../../../drivers/softhsm2.toml")
        .replace(r#"can = ["read", "sign", "generate", "write"]"#, r#"can = ["read", "sign"]"#)
        + r#"
[[middleware]]
name = "Vendor Cryptoki"
os = "linux"
library = "/opt/vendor/libvendor-pkcs11.so"
can = ["read", "sign", "generate", "write"]
source = "test"
install = "the card supplier's middleware"
"#;
    std::fs::write(drivers.join("softhsm2.toml"), entry).unwrap();
    tessera_testbed::apply_env(&[("TESSERA_DRIVERS".into(), drivers.display().to_string())]);
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let mut script = Script::new(Some(&ra), vec![A::Text("ABCD-EFGH-JKLM"), A::Yes]);
    let e = block_on(run(&bed, settings(&ra), counter.clone(), &mut script)).unwrap_err();
    assert_eq!(e.code(), "middleware-cannot-activate", "{e:?}");
    let p = e.params();
    assert_eq!(p["can"], "read, sign");
    assert!(
        p["middleware"].starts_with("SoftHSM2 (libsofthsm2.so)") && p["install"].contains("Vendor Cryptoki"),
        "{p:?}"
    );
    let msg = tessera_core::messages::Messages::new(tessera_core::messages::Lang::It);
    let r = msg.error(&e.payload());
    assert!(r.remedy.starts_with("Installa il software del produttore della carta: Vendor Cryptoki"), "{}", r.remedy);
    assert!(!script.asked.contains(&"prompt-user-pin"), "no PIN asked: {:?}", script.asked);
    assert_eq!(bed.objects("pubkey"), 0);
}

/// The UI's types are generated from these Rust types (ts-rs) into ui/src/bindings, never
/// written twice: this fails when they are stale. `TESSERA_WRITE_BINDINGS=1` rewrites them.
#[test]
fn the_ui_types_are_generated_from_the_rust_types() {
    use ts_rs::{Config, TS};
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::new().with_large_int("number").with_out_dir(dir.path());
    tessera_core::devices::Snapshot::export_all(&cfg).unwrap();
    tessera_core::live::LiveEvent::export_all(&cfg).unwrap();
    tessera_core::messages::Lang::export_all(&cfg).unwrap();
    tessera_pki::codice_fiscale::CfCheck::export_all(&cfg).unwrap();
    tessera_flows::prompter::Question::export_all(&cfg).unwrap();
    tessera_flows::prompter::Progress::export_all(&cfg).unwrap();
    tessera_flows::activation::Outcome::export_all(&cfg).unwrap();
    tessera_flows::seen::Reminder::export_all(&cfg).unwrap();
    tessera_flows::renewal::Outcome::export_all(&cfg).unwrap();
    tessera_flows::link::Opened::export_all(&cfg).unwrap();
    tessera_flows::operator::SignedIn::export_all(&cfg).unwrap();
    let read = |d: &std::path::Path| -> std::collections::BTreeMap<String, String> {
        std::fs::read_dir(d)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                    .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let generated = read(dir.path());
    let committed_dir = tessera_testbed::root().join("ui/src/bindings");
    if std::env::var_os("TESSERA_WRITE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&committed_dir);
        std::fs::create_dir_all(&committed_dir).unwrap();
        for (name, text) in &generated {
            std::fs::write(committed_dir.join(name), text).unwrap();
        }
    }
    let committed = read(&committed_dir);
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        generated.keys().collect::<Vec<_>>(),
        "ui/src/bindings is stale: run TESSERA_WRITE_BINDINGS=1 cargo nextest run -p tessera-flows ui_types"
    );
    for (name, text) in &generated {
        assert_eq!(&committed[name], text, "ui/src/bindings/{name} is stale (TESSERA_WRITE_BINDINGS=1)");
    }
}

#[test]
fn without_a_token_named_the_only_one_is_used_and_among_several_the_holder_chooses() {
    let bed = Bed::new();
    bed.hsm.add_token("Altra", "123456", "12345678");
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let mut script =
        Script::new(Some(&ra), vec![A::Text("Blank"), A::Text("ABCD-EFGH-JKLM"), A::Yes, A::Text("123456")]);
    let mut devices = bed.devices();
    let flow = Activation::new(&mut devices, settings(&ra), None, counter.clone());
    let outcome = block_on(flow.run(&mut script)).expect("activation");
    assert_eq!(script.asked[0], "ask-choose-token");
    // The certificate went to the token chosen (named by its serial from then on).
    assert!(outcome.certificates[0].uri.contains("token=Blank;"), "{:?}", outcome.certificates);
    assert_eq!(bed.objects("cert"), 1);
}

#[test]
fn the_final_pin_try_is_spent_only_when_the_holder_confirms_it() {
    let pcsc = tessera_testbed::Pcsc::start();
    let data = tempfile::tempdir().unwrap();
    let mut env = pcsc.env();
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    tessera_testbed::apply_env(&env);
    let ra = RaServer::start(REQUESTS);
    let counter = counter(&ra);
    let mut options = Options::from_env();
    options.p11kit = false;
    let mut d = Devices::new(options);
    let token = "pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))";
    let _card = pcsc.insert_openpgp(0);
    assert!(tessera_testbed::wait_until(std::time::Duration::from_secs(15), || d
        .with_token(token, |_| Ok(()))
        .is_ok()));
    // A first activation personalises the blank card with the RA's PIN and PUK (read here
    // from the RA while the request is armed, as the tool gets them).
    let op = |path: &str, body: serde_json::Value| -> serde_json::Value {
        ureq::post(&format!("{}{path}", ra.url()))
            .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
            .send_json(body)
            .unwrap()
            .into_json()
            .unwrap()
    };
    op("/api/v1/operator/requests/REQ-COUNTER/arm", serde_json::json!({"activation_code": "ABCD-EFGH-JKLM"}));
    let secrets =
        op("/api/v1/activation/REQ-COUNTER/personalisation", serde_json::json!({"activation_code": "ABCD-EFGH-JKLM"}));
    let (pin, puk) = (secrets["pin"].as_str().unwrap().to_owned(), secrets["puk"].as_str().unwrap().to_owned());
    let mut first = Script::new(Some(&ra), vec![A::Text("ABCD-EFGH-JKLM"), A::Yes]);
    let flow = Activation::new(&mut d, settings(&ra), Some(token.into()), counter.clone());
    block_on(flow.run(&mut first)).expect("the first activation");

    // Two wrong user PINs: one try left.
    let auth = "pkcs11:token=OpenPGP%20card%20(User%20PIN)";
    for _ in 0..2 {
        let wrong = d.with_token(auth, |t| {
            let s = t.session(false)?;
            t.login(
                &s,
                tessera_core::pin::Who::User,
                &tessera_core::pin::Pin::new("00000000"),
                tessera_core::pin::FinalTry::Confirmed,
            )
        });
        assert!(matches!(wrong, Err(tessera_core::Error::WrongPin { .. })), "{wrong:?}");
    }
    let reader = "Virtual PCD 00 00";
    let tries = || tessera_core::openpgp::OpenPgpCard::connect(reader).unwrap().retry_counters().unwrap();
    assert_eq!(tries()[0], 1, "the user PIN has one try left");

    // The holder declines: nothing is sent, the try is kept.
    // Code, credential, confirmation, the admin PIN for the new key, then the final try's
    // question before the user PIN for the request.
    let declining = vec![A::Text("CNSS-CODE-0005"), A::Yes, A::Owned(puk.clone()), A::Text("n")];
    let mut declined = Script::new(Some(&ra), declining);
    let flow = Activation::new(&mut d, settings(&ra), Some(token.into()), counter.clone());
    let e = block_on(flow.run(&mut declined)).unwrap_err();
    assert!(declined.asked.contains(&"ask-confirm-final-try"), "{:?}", declined.asked);
    assert_eq!(e.code(), "pin-final-try", "{e:?}");
    assert_eq!(tries()[0], 1, "nothing was sent");
    // Confirmed: the right PUK goes, and the activation completes.
    // The rerun resumes with the key already made: the final try's question, the PIN, then
    // the admin PIN to write the certificate.
    let accepting = vec![A::Text("CNSS-CODE-0005"), A::Yes, A::Yes, A::Owned(pin), A::Owned(puk)];
    let mut confirmed = Script::new(Some(&ra), accepting);
    let flow = Activation::new(&mut d, settings(&ra), Some(token.into()), counter.clone());
    let outcome = block_on(flow.run(&mut confirmed)).unwrap_or_else(|e| panic!("{e:?}: {:?}", confirmed.asked));
    assert_eq!(outcome.certificates[0].role, Role::Authentication);
    assert_eq!(tries()[0], 3, "the right PIN resets its counter");
}

#[test]
fn five_wrong_sms_codes_lock_the_request_with_a_clear_message_and_no_key() {
    let bed = Bed::new();
    let ra = RaServer::start(REQUESTS);
    let mut answers = vec![A::Text("HOME-CODE-0003"), A::Text("BNCLCU75C15F205O")];
    answers.extend((0..5).map(|_| A::Text("000000")));
    let mut script = Script::new(Some(&ra), answers);
    let e = block_on(run(&bed, settings(&ra), Mode::Holder, &mut script)).unwrap_err();
    assert_eq!(e.code(), "request-locked", "{e:?}");
    let wrong = script
        .events
        .iter()
        .filter(|e| matches!(e, Progress::Notice { code, .. } if code == "error-otp-wrong"))
        .count();
    assert_eq!(wrong, 4, "four wrong codes said so, the fifth locked: {:?}", script.events);
    let msg = tessera_core::messages::Messages::new(tessera_core::messages::Lang::It);
    assert!(msg.error(&e.payload()).remedy.contains("ufficio di registrazione"));
    assert_eq!(bed.objects("pubkey"), 0);
    // Locked for the right code too.
    let mut again = Script::new(Some(&ra), vec![A::Text("HOME-CODE-0003"), A::Text("BNCLCU75C15F205O")]);
    assert_eq!(block_on(run(&bed, settings(&ra), Mode::Holder, &mut again)).unwrap_err().code(), "request-locked");
}

#[test]
fn an_expired_sms_code_is_said_so_and_a_new_one_arms_the_request() {
    let bed = Bed::new();
    // An RA whose SMS codes last one second, and may be sent again after one.
    let ra = RaServer::start(&format!("{REQUESTS}\n[otp]\nttl_seconds = 1\nresend_after_seconds = 1\n"));
    let script = Script::new(
        Some(&ra),
        vec![
            A::Text("HOME-CODE-0003"),
            A::Text("BNCLCU75C15F205O"),
            A::Otp("+393331234567"),
            A::Text(""),
            A::Otp("+393331234567"),
            A::Yes,
            A::Text("123456"),
        ],
    );
    // The first code expires before it is typed; an empty answer asks for another.
    let mut slow = SlowOtp { inner: script, waited: false };
    let outcome = block_on(async {
        let mut devices = bed.devices();
        let flow = Activation::new(&mut devices, settings(&ra), Some("pkcs11:token=Blank".into()), Mode::Holder);
        flow.run(&mut slow).await
    })
    .expect("activation");
    let notices: Vec<&str> = slow
        .inner
        .events
        .iter()
        .filter_map(|e| if let Progress::Notice { code, .. } = e { Some(code.as_str()) } else { None })
        .collect();
    assert_eq!(notices, ["error-otp-expired"], "{:?}", slow.inner.events);
    assert_eq!(ra.sms_count("+393331234567"), 2, "a second SMS");
    assert_eq!(outcome.certificates.len(), 1);
}

/// A holder who takes two seconds to type the first SMS code.
struct SlowOtp<'r> {
    inner: Script<'r>,
    waited: bool,
}

impl Prompter for SlowOtp<'_> {
    fn ask(&mut self, q: &Question) -> tessera_flows::Result<Zeroizing<String>> {
        if matches!(q, Question::Otp { .. }) && !self.waited {
            self.waited = true;
            std::thread::sleep(std::time::Duration::from_millis(2100));
        }
        self.inner.ask(q)
    }

    fn confirm(&mut self, q: &Question) -> tessera_flows::Result<bool> {
        self.inner.confirm(q)
    }

    fn progress(&mut self, event: &Progress) {
        self.inner.progress(event)
    }
}

// ---- renewal diagnostics: before any PIN ----

/// The sample tokens (SoftHSM2): an expiring, an expired and a keyless certificate; an RSA
/// 1024 certificate and a decryption key.
fn samples_bed() -> (SoftHsm, tempfile::TempDir) {
    let hsm = SoftHsm::with_samples();
    let data = tempfile::tempdir().unwrap();
    let mut env = hsm.env();
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    tessera_testbed::apply_env(&env);
    (hsm, data)
}

fn softhsm_devices() -> Devices {
    let mut options = Options::from_env();
    options.modules.push(SOFTHSM_MODULE.into());
    options.p11kit = false;
    Devices::new(options)
}

fn verdicts(checks: &[tessera_flows::renewal::diagnostics::Check]) -> Vec<(&'static str, String)> {
    checks.iter().map(|c| (c.check, c.code.clone())).collect()
}

#[test]
fn diagnostics_say_what_blocks_each_certificate_before_any_pin() {
    use tessera_flows::renewal::diagnostics::{Verdict, diagnose};
    let (_hsm, data) = samples_bed();
    let ra = RaServer::start(REQUESTS);
    let mut devices = softhsm_devices();
    let report = block_on(diagnose(&mut devices, &settings(&ra), "pkcs11:token=Luca%20Bianchi%20Firma")).unwrap();
    let card = verdicts(&report.checks);
    for expected in ["diag-card-model-known", "diag-middleware-can-renew", "diag-pin-ok", "diag-ra-reachable"] {
        assert!(card.iter().any(|(_, c)| c == expected), "{expected} in {card:?}");
    }
    let by_serial = |days: fn(i64) -> bool| report.certificates.iter().find(|c| days(c.days_left)).unwrap();
    let expiring = by_serial(|d| (1..=60).contains(&d));
    // The samples come from another CA: the RA cannot say, which warns and blocks nothing.
    assert!(verdicts(&expiring.checks).contains(&("ra-renewal", "diag-ra-renewal-unknown".into())));
    let warned: Vec<_> = expiring.checks.iter().filter(|c| c.verdict != Verdict::Pass).map(|c| c.check).collect();
    assert_eq!(warned, ["ra-renewal"], "{:?}", expiring.checks);
    assert_eq!(expiring.verdict(&report.checks), Verdict::Warn, "{:?}", expiring.checks);
    let expired = by_serial(|d| d < 0);
    assert!(verdicts(&expired.checks).contains(&("renewal-window", "diag-renewal-window-expired".into())));
    assert_eq!(expired.verdict(&report.checks), Verdict::Fail);
    let keyless = report.certificates.iter().find(|c| c.uri.contains("id=%13")).unwrap();
    assert!(verdicts(&keyless.checks).contains(&("private-key", "diag-private-key-missing".into())), "{keyless:?}");
    assert!(report.renewable());

    // An RSA 1024 key, and a decryption key that renewal keeps.
    let varie = block_on(diagnose(&mut devices, &settings(&ra), "pkcs11:token=Varie")).unwrap();
    let weak = varie.certificates.iter().find(|c| c.uri.contains("id=%21")).unwrap();
    assert!(verdicts(&weak.checks).contains(&("key-algorithm", "diag-key-algorithm-too-weak".into())), "{weak:?}");
    assert!(verdicts(&varie.checks).iter().any(|(c, _)| *c == "decryption-key"), "{:?}", varie.checks);
    assert!(varie.certificates.iter().all(|c| c.role != tessera_pki::Role::Encryption), "not one renewal replaces");

    // The RA down: its own verdict.
    ra.stop();
    let down = block_on(diagnose(&mut devices, &settings(&ra), "pkcs11:token=Luca%20Bianchi%20Firma")).unwrap();
    assert!(verdicts(&down.checks).contains(&("ra", "diag-ra-unreachable".into())), "{:?}", down.checks);
    assert!(!down.renewable());

    // The last report goes into the error file, rendered messages and all.
    let msg = tessera_core::messages::Messages::new(tessera_core::messages::Lang::En);
    let snapshot = devices.snapshot();
    let file = tessera_flows::support::write(&msg, None, &snapshot, data.path()).unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("The last renewal diagnostics") && text.contains("diag-ra-unreachable"), "{text}");
    // Every message the report can carry exists in both languages.
    for lang in [tessera_core::messages::Lang::It, tessera_core::messages::Lang::En] {
        let m = tessera_core::messages::Messages::new(lang);
        for c in report.checks.iter().chain(report.certificates.iter().flat_map(|c| &c.checks)) {
            assert!(m.has(&c.code), "{} in {lang:?}", c.code);
        }
    }
}

#[test]
fn after_the_pin_each_certificates_key_makes_a_test_signature_that_must_verify() {
    use tessera_flows::renewal::diagnostics::{Verdict, diagnose, test_signatures};
    let (hsm, _data) = samples_bed();
    let ra = RaServer::start(REQUESTS);
    let tool = |args: &[&str]| {
        let out = Command::new("pkcs11-tool")
            .env("SOFTHSM2_CONF", hsm.conf())
            .args(["--module", SOFTHSM_MODULE, "--login", "--pin", "123456"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    // On "Varie": a fresh RSA key under id 77, and beside it a certificate of another key
    // (the expiring one of Luca Bianchi's token): a key that does not match its certificate.
    let copy = _data.path().join("other.der");
    let copy_arg = copy.display().to_string();
    tool(&["--token-label", "Luca Bianchi Firma", "--read-object", "--type", "cert", "--id", "11", "-o", &copy_arg]);
    tool(&["--token-label", "Varie", "--keypairgen", "--key-type", "rsa:2048", "--id", "77", "--label", "x"]);
    tool(&["--token-label", "Varie", "--write-object", &copy_arg, "--type", "cert", "--id", "77", "--label", "x"]);
    let mut devices = softhsm_devices();
    // A wrong PIN first: said, and asked again.
    for (token, id, expected, pins) in [
        ("pkcs11:token=Luca%20Bianchi%20Firma", "id=%11", "diag-private-key-signs", &["000000", "123456"][..]),
        ("pkcs11:token=Varie", "id=%77", "diag-private-key-does-not-sign", &["123456"][..]),
    ] {
        let mut report = block_on(diagnose(&mut devices, &settings(&ra), token)).unwrap();
        let mut script = Script::new(None, pins.iter().map(|p| A::Text(p)).collect());
        test_signatures(&mut devices, &mut report, &mut script).unwrap();
        assert_eq!(script.asked, vec!["prompt-user-pin"; pins.len()], "the PIN once, again when wrong");
        let cert = report.certificates.iter().find(|c| c.uri.contains(id)).unwrap_or_else(|| panic!("{report:?}"));
        assert!(verdicts(&cert.checks).contains(&("private-key", expected.into())), "{:?}", cert.checks);
        if expected.ends_with("does-not-sign") {
            assert_eq!(cert.verdict(&report.checks), Verdict::Fail);
        }
    }
}

#[test]
fn an_obsolete_card_model_fails_every_certificate_before_any_pin() {
    use tessera_flows::renewal::diagnostics::diagnose;
    let (_hsm, data) = samples_bed();
    let drivers = data.path().join("drivers");
    std::fs::create_dir_all(&drivers).unwrap();
    let entry = include_str!("../../../drivers/softhsm2.toml")
        .replace("kind = \"software\"", "kind = \"software\"\nobsolete = true");
    std::fs::write(drivers.join("softhsm2.toml"), entry).unwrap();
    tessera_testbed::apply_env(&[("TESSERA_DRIVERS".into(), drivers.display().to_string())]);
    let ra = RaServer::start(REQUESTS);
    let mut devices = softhsm_devices();
    let report = block_on(diagnose(&mut devices, &settings(&ra), "pkcs11:token=Luca%20Bianchi%20Firma")).unwrap();
    assert!(verdicts(&report.checks).iter().any(|(_, c)| c == "diag-card-model-obsolete"), "{:?}", report.checks);
    assert!(!report.renewable());
}

#[test]
fn a_locked_pin_and_a_card_held_by_another_program_are_said_before_any_pin() {
    use tessera_flows::renewal::diagnostics::diagnose;
    let pcsc = tessera_testbed::Pcsc::start();
    let data = tempfile::tempdir().unwrap();
    let mut env = pcsc.env();
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    tessera_testbed::apply_env(&env);
    let ra = RaServer::start(REQUESTS);
    let token = "pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))";
    let _card = pcsc.insert_openpgp(0);
    let reader = "Virtual PCD 00 00";
    // Another program holds the card exclusively, from before Tessera starts (a signing
    // tool left open): the middleware cannot show it, and the diagnostics say why.
    {
        let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
        let name = std::ffi::CString::new(reader).unwrap();
        let mut held = None;
        assert!(tessera_testbed::wait_until(std::time::Duration::from_secs(10), || {
            held = ctx.connect(&name, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY).ok();
            held.is_some()
        }));
        let mut options = Options::from_env();
        options.p11kit = false;
        let mut busy = Devices::new(options);
        let report = block_on(diagnose(&mut busy, &settings(&ra), token)).unwrap();
        assert!(verdicts(&report.checks).contains(&("card-in-use", "diag-card-in-use-busy".into())), "{report:?}");
        assert_eq!(report.checks[0].params["reader"], reader);
        assert!(!report.renewable());
    }
    // Released: the card shows, and nothing blocks it.
    let mut options = Options::from_env();
    options.p11kit = false;
    let mut d = Devices::new(options);
    assert!(tessera_testbed::wait_until(std::time::Duration::from_secs(15), || d
        .with_token(token, |t| Ok(t.label.clone()))
        .is_ok()));
    let tries = |d: &mut Devices| d.with_token(token, |t| Ok(t.pin_tries())).unwrap();
    assert_eq!(tries(&mut d), Some(3));
    let report = block_on(diagnose(&mut d, &settings(&ra), token)).unwrap();
    assert!(verdicts(&report.checks).contains(&("card-in-use", "diag-card-in-use-free".into())));
    assert!(verdicts(&report.checks).contains(&("pin", "diag-pin-ok".into())));
    assert_eq!(tries(&mut d), Some(3), "no PIN try spent");

    // Locked by three wrong PINs (typed elsewhere): said, and nothing more is tried.
    for wrong in ["000000", "000001", "000002"] {
        let _ = d.with_token(token, |t| {
            let s = t.session(false)?;
            t.login(
                &s,
                tessera_core::pin::Who::User,
                &tessera_core::pin::Pin::new(wrong),
                tessera_core::pin::FinalTry::Confirmed,
            )
        });
    }
    assert_eq!(tries(&mut d), Some(0));
    let report = block_on(diagnose(&mut d, &settings(&ra), token)).unwrap();
    assert!(verdicts(&report.checks).contains(&("pin", "diag-pin-locked".into())), "{:?}", report.checks);
}

// ---- renewal: re-keying with the old certificate working until the new one is in ----

/// A signature certificate of 30 days (renewable at once), activated on the blank token.
fn activated_for_renewal(bed: &Bed) -> (RaServer, Outcome) {
    let ra = RaServer::start(&format!("validity_days = 30\n{REQUESTS}"));
    let mut script = Script::new(Some(&ra), vec![A::Text("ABCD-EFGH-JKLM"), A::Yes, A::Text("123456")]);
    let outcome = block_on(run(bed, settings(&ra), counter(&ra), &mut script)).expect("activation");
    drop(script);
    (ra, outcome)
}

fn renew(bed: &Bed, ra: &RaServer, script: &mut Script<'_>) -> tessera_flows::Result<tessera_flows::renewal::Outcome> {
    renew_with(bed, ra, script, true)
}

fn renew_with(
    bed: &Bed,
    ra: &RaServer,
    script: &mut Script<'_>,
    retire_old: bool,
) -> tessera_flows::Result<tessera_flows::renewal::Outcome> {
    let mut devices = bed.devices();
    let flow = tessera_flows::renewal::Renewal {
        devices: &mut devices,
        settings: settings(ra),
        token: "pkcs11:token=Blank".into(),
        certificate: None,
        retire_old,
    };
    block_on(flow.run(script))
}

/// GET on the RA's operator API, as the test operator.
fn operator_get(ra: &RaServer, path: &str) -> serde_json::Value {
    ureq::get(&format!("{}{path}", ra.url()))
        .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap()
}

fn request_certificates(ra: &RaServer) -> Vec<serde_json::Value> {
    let body = operator_get(ra, "/api/v1/operator/requests/REQ-COUNTER");
    body["certificates"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_renewal_rekeys_next_to_the_old_key_continues_its_validity_and_only_then_retires_it() {
    let bed = Bed::new();
    let (ra, activated) = activated_for_renewal(&bed);
    // OpenSC's file cache, with files of this card and of another.
    let cache = bed.data.path().join("cache");
    std::fs::create_dir_all(cache.join("opensc")).unwrap();
    tessera_testbed::apply_env(&[("XDG_CACHE_HOME".into(), cache.display().to_string())]);
    let serial = bed.devices().snapshot().tokens.iter().find(|t| t.label == "Blank").unwrap().serial.clone();
    std::fs::write(cache.join("opensc").join(format!("{serial}_3F00_5015")), b"stale").unwrap();
    std::fs::write(cache.join("opensc").join("0123456789_3F00"), b"another card").unwrap();
    let old = tessera_pki::CertificateSummary::parse(
        &certificate_on_token(&bed, &activated.certificates[0].uri),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    // Before: the RA says it can renew this certificate.
    let ra_renewal = |bed: &Bed| {
        let report = block_on(tessera_flows::renewal::diagnostics::diagnose(
            &mut bed.devices(),
            &settings(&ra),
            "pkcs11:token=Blank",
        ))
        .unwrap();
        report.certificates.iter().map(|c| (c.serial.clone(), verdicts(&c.checks))).collect::<Vec<_>>()
    };
    let before = ra_renewal(&bed);
    assert!(before[0].1.contains(&("ra-renewal", "diag-ra-renewal-open".into())), "{before:?}");
    // The holder declines the form: nothing changes on the card, the request waits.
    let mut declined = Script::new(None, vec![A::Text("no")]);
    assert_eq!(renew(&bed, &ra, &mut declined).unwrap_err().code(), "cancelled");
    assert_eq!(declined.asked, ["ask-contacts", "ask-sign-renewal-form"], "no PIN asked for a form not signed");
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 1));
    let mut script = Script::new(None, vec![A::Yes, A::Text("123456")]);
    let outcome = renew(&bed, &ra, &mut script).expect("renewal");
    assert_eq!(
        script.asked,
        ["ask-contacts", "ask-sign-renewal-form", "prompt-user-pin"],
        "the contacts, the form, then the PIN once, after the diagnostics"
    );
    // At the RA: the form was signed on the card and checked, and the renewal completed.
    let renewals = operator_get(&ra, "/api/v1/operator/renewals");
    let renewal = &renewals["renewals"][0];
    assert_eq!(renewal["state"], "completed", "{renewals}");
    assert!(renewal["signed_at"].is_i64() && renewal["form"].as_str().unwrap().contains("MARIO ROSSI"), "{renewal}");
    // After: the old certificate is superseded at the RA; the new one, once suspended by an
    // operator, is not renewable, and the diagnostics say so before any PIN.
    let state = |serial: &str| -> serde_json::Value {
        ureq::get(&format!("{}/api/v1/renewal/{serial}", ra.url())).call().unwrap().into_json().unwrap()
    };
    assert_eq!(state(&old.serial)["state"], "superseded");
    assert_eq!(state(&old.serial)["renewable"], false);
    assert_eq!(state(&outcome.serial)["state"], "active");
    ureq::post(&format!("{}/api/v1/operator/certificates/{}/suspend", ra.url(), outcome.serial.replace(':', "")))
        .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
        .call()
        .unwrap();
    let after = ra_renewal(&bed);
    assert!(after[0].1.contains(&("ra-renewal", "diag-ra-renewal-suspended".into())), "{after:?}");
    let unknown = ureq::get(&format!("{}/api/v1/renewal/0BADC0DE", ra.url())).call().unwrap_err();
    assert!(matches!(unknown, ureq::Error::Status(404, _)), "{unknown:?}");
    let bad = ureq::get(&format!("{}/api/v1/renewal/xyz", ra.url())).call().unwrap_err();
    assert!(matches!(bad, ureq::Error::Status(400, _)), "{bad:?}");
    assert_eq!(outcome.not_before, old.not_after, "the new validity starts where the old one ends");
    let left: Vec<_> = std::fs::read_dir(cache.join("opensc")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["0123456789_3F00"], "this card's cached files cleared, nothing else");
    assert_eq!(outcome.replaced, old.serial);
    assert!(outcome.retired && !outcome.resumed);
    // One key pair and one certificate left: the new ones, which openssl accepts.
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 1));
    let new = certificate_on_token(&bed, &outcome.uri);
    let summary = tessera_pki::CertificateSummary::parse(&new, time::OffsetDateTime::now_utc()).unwrap();
    assert_eq!(
        (summary.serial, summary.subject, summary.common_name),
        (outcome.serial.clone(), old.subject.clone(), outcome.subject.clone())
    );
    // The RA: two certificates, the new one confirmed and replacing the old.
    let listed = request_certificates(&ra);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[1]["confirmed"], true);
    assert_eq!(listed[1]["replaces"].as_str().map(str::to_uppercase), Some(old.serial.replace(':', "")), "{listed:?}");
    // Done: running it again renews nothing twice (the new certificate is not yet renewable
    // from the RA's side, and this one's journal is complete).
    let mut again = Script::new(None, vec![A::Text("123456")]);
    assert!(renew(&bed, &ra, &mut again).is_err());
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 1));
}

#[test]
fn a_renewal_interrupted_at_the_ra_keeps_the_old_certificate_working_and_resumes_with_the_same_key() {
    let bed = Bed::new();
    let (ra, _) = activated_for_renewal(&bed);
    let mut script = Script::new(None, vec![A::Yes, A::Text("123456")]);
    script.on_step = Some((Step::Issue { role: Role::Signature }, Box::new(|| ra.stop())));
    let e = renew(&bed, &ra, &mut script).unwrap_err();
    assert!(e.code() == "ra-unreachable" || e.code() == "renewal-blocked", "{e:?}");
    // The old key and certificate are there and working; the new key waits.
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (2, 1));
    ra.restart();
    let mut again = Script::new(None, vec![A::Text("123456")]);
    let outcome = renew_with(&bed, &ra, &mut again, false).expect("resumed renewal");
    assert!(outcome.resumed && again.resumed(Step::Generate { role: Role::Signature }), "{:?}", again.events);
    assert!(again.resumed(Step::SignForm) && again.asked == ["prompt-user-pin"], "the form is signed once");
    // By default the old certificate stays, working until the new one begins.
    assert!(!outcome.retired);
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (2, 2));
    // And is not offered for renewal again: its successor is on the card.
    let mut devices = bed.devices();
    let report =
        block_on(tessera_flows::renewal::diagnostics::diagnose(&mut devices, &settings(&ra), "pkcs11:token=Blank"))
            .unwrap();
    assert!(
        report.certificates.iter().any(|c| c.checks.iter().any(|k| k.code == "diag-renewal-window-already-renewed")),
        "{report:?}"
    );
    assert_eq!(request_certificates(&ra).len(), 2, "one renewal, one new certificate");
}

#[test]
fn a_renewal_whose_signed_request_was_cancelled_meanwhile_signs_a_new_form_and_completes() {
    let bed = Bed::new();
    let (ra, _) = activated_for_renewal(&bed);
    let mut script = Script::new(None, vec![A::Yes, A::Text("123456")]);
    script.on_step = Some((Step::Issue { role: Role::Signature }, Box::new(|| ra.stop())));
    assert!(renew(&bed, &ra, &mut script).is_err());
    // While the tool was away, an operator cancelled the forwarded request.
    ra.restart();
    let forwarded = operator_get(&ra, "/api/v1/operator/renewals?state=forwarded");
    let id = forwarded["renewals"][0]["id"].as_str().expect("the forwarded request").to_owned();
    ureq::post(&format!("{}/api/v1/operator/renewals/{id}/cancel", ra.url()))
        .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
        .call()
        .unwrap();
    // The journal says signed, the RA says cancelled: the RA's word counts.
    let mut again = Script::new(None, vec![A::Yes, A::Text("123456")]);
    let outcome = renew_with(&bed, &ra, &mut again, false).expect("renewal after the cancel");
    assert_eq!(again.asked, ["ask-contacts", "ask-sign-renewal-form", "prompt-user-pin"], "a new form, signed");
    assert!(outcome.resumed, "the new key from the first run");
    let completed = operator_get(&ra, "/api/v1/operator/renewals?state=completed");
    assert_ne!(completed["renewals"][0]["id"].as_str(), Some(id.as_str()), "{completed}");
    assert_eq!(completed["renewals"].as_array().map(Vec::len), Some(1), "{completed}");
}

#[test]
fn a_mobile_another_person_registered_is_changed_in_the_renewal_with_the_code_sent_to_the_new_one() {
    use tessera_flows::renewal::diagnostics::Verdict;
    let bed = Bed::new();
    let ra = RaServer::start(&format!("validity_days = 30\n{REQUESTS}"));
    let mut script = Script::new(
        Some(&ra),
        vec![
            A::Text("HOME-CODE-0003"),
            A::Text("BNCLCU75C15F205O"),
            A::Otp("+393331234567"),
            A::Yes,
            A::Text("123456"),
        ],
    );
    block_on(run(&bed, settings(&ra), Mode::Holder, &mut script)).expect("activation at home");
    drop(script);
    // Another person is registered with the holder's mobile since.
    let anna = serde_json::json!({"given_name": "ANNA", "surname": "VERDI", "cf": "VRDNNA90E50L219L",
        "mobile": "+393331234567"});
    ureq::post(&format!("{}/api/v1/operator/holders", ra.url()))
        .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
        .send_json(anna)
        .unwrap();
    // Said before any PIN, as something to change during the renewal.
    let report = block_on(tessera_flows::renewal::diagnostics::diagnose(
        &mut bed.devices(),
        &settings(&ra),
        "pkcs11:token=Blank",
    ))
    .unwrap();
    let check = report.certificates[0].checks.iter().find(|c| c.check == "ra-renewal").unwrap();
    assert_eq!((check.verdict, check.code.as_str()), (Verdict::Warn, "diag-ra-renewal-contact-conflict"), "{check:?}");
    // Kept as it is: the renewal stops there, before the PIN and the form.
    let mut kept = Script::new(Some(&ra), vec![]);
    let e = renew(&bed, &ra, &mut kept).unwrap_err();
    assert_eq!((e.code(), e.params().get("field").map(String::as_str)), ("contact-data-conflict", Some("mobile")));
    assert_eq!(kept.asked, ["ask-contacts"]);
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (1, 1));
    // A new number: the change signed on the card, a wrong code asked again, then the form
    // naming the new number, signed with the PIN typed once.
    let mut changed = Script::new(
        Some(&ra),
        vec![
            A::Contacts(r#"{"mobile": "333 999 8877"}"#),
            A::Text("123456"),
            A::Text("000000"),
            A::Otp("+393339998877"),
            A::Yes,
        ],
    );
    let outcome = renew(&bed, &ra, &mut changed).expect("renewal with the new mobile");
    assert_eq!(
        changed.asked,
        ["ask-contacts", "prompt-user-pin", "ask-contact-code", "ask-contact-code", "ask-sign-renewal-form"]
    );
    assert!(
        changed.events.iter().any(|e| matches!(e, Progress::Notice { code, .. } if code == "error-contact-code-wrong"))
    );
    let renewals = operator_get(&ra, "/api/v1/operator/renewals");
    let form = renewals["renewals"][0]["form"].as_str().unwrap();
    assert!(form.contains("+39********77"), "{form}");
    let state: serde_json::Value =
        ureq::get(&format!("{}/api/v1/renewal/{}", ra.url(), outcome.serial.replace(':', "")))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
    assert!(state["conflict"].is_null(), "{state}");
}

/// The OpenPGP token a signature certificate goes to.
const PGP_SIG: &str = "pkcs11:token=OpenPGP%20card%20(User%20PIN%20(sig))";

/// A virtual OpenPGP card activated at the counter with a 30-day signature certificate
/// for REQ-PGP (whose holder has a mobile), in its own test bed: the test bed, the data
/// directory, the RA, the device engine, the card, and the PIN and PUK the RA chose (read
/// while the activation runs: the RA releases them only until the request completes).
fn pgp_activated(
    pcsc: &tessera_testbed::Pcsc,
) -> (tempfile::TempDir, RaServer, Devices, tessera_testbed::Card<'_>, String, String) {
    let data = tempfile::tempdir().unwrap();
    let mut env = pcsc.env();
    env.push(("TESSERA_DATA_DIR".into(), data.path().display().to_string()));
    tessera_testbed::apply_env(&env);
    let ra = RaServer::start(
        "validity_days = 30\n[[request]]\nreference = \"REQ-PGP\"\noffice = \"RM01\"\nactivation_code = \"PGPC-ODE0-0001\"\n\
         profile = \"signature\"\narmed = false\nmobile = \"+393337770001\"\n\
         holder = { given_name = \"ANNA\", surname = \"VERDI\", cf = \"VRDNNA90E50L219L\" }\n",
    );
    let mut options = Options::from_env();
    options.p11kit = false;
    let mut d = Devices::new(options);
    let card = pcsc.insert_openpgp(0);
    assert!(tessera_testbed::wait_until(std::time::Duration::from_secs(15), || pgp_visible(&mut d)));
    let secrets = std::rc::Rc::new(std::cell::RefCell::new(serde_json::Value::Null));
    let mut script = Script::new(Some(&ra), vec![A::Text("PGPC-ODE0-0001"), A::Yes]);
    let (url, kept) = (ra.url(), secrets.clone());
    script.on_step = Some((
        Step::Install { role: Role::Signature },
        Box::new(move || {
            *kept.borrow_mut() = ureq::post(&format!("{url}/api/v1/activation/REQ-PGP/personalisation"))
                .send_json(serde_json::json!({"activation_code": "PGPC-ODE0-0001"}))
                .unwrap()
                .into_json()
                .unwrap();
        }),
    ));
    let flow = Activation::new(&mut d, settings(&ra), Some(PGP_SIG.into()), counter(&ra));
    block_on(flow.run(&mut script)).unwrap_or_else(|e| panic!("activation: {e:?} after {:?}", script.asked));
    drop(script);
    let secrets = secrets.borrow().clone();
    let (pin, puk) = (secrets["pin"].as_str().unwrap().to_owned(), secrets["puk"].as_str().unwrap().to_owned());
    (data, ra, d, card, pin, puk)
}

fn pgp_visible(d: &mut Devices) -> bool {
    d.with_token(PGP_SIG, |t| Ok(t.label.clone())).is_ok()
}

fn pgp_renew(
    d: &mut Devices,
    settings: Settings,
    script: &mut Script<'_>,
) -> tessera_flows::Result<tessera_flows::renewal::Outcome> {
    let flow = tessera_flows::renewal::Renewal {
        devices: d,
        settings,
        token: PGP_SIG.into(),
        certificate: None,
        retire_old: false,
    };
    block_on(flow.run(script))
}

#[test]
fn a_renewal_never_spends_the_last_try_of_the_openpgp_admin_pin() {
    let pcsc = tessera_testbed::Pcsc::start();
    let (_data, ra, mut d, _card, pin, _) = pgp_activated(&pcsc);
    let reader = d.with_token(PGP_SIG, |t| Ok(t.reader.clone())).unwrap().unwrap();
    let tries = || tessera_core::openpgp::OpenPgpCard::connect(&reader).unwrap().retry_counters().unwrap()[2];
    assert_eq!(tries(), 3);
    // Two wrong PUKs: the third question is not asked, the slot is not overwritten.
    let mut script = Script::new(
        Some(&ra),
        vec![A::Yes, A::Yes, A::Owned(pin.clone()), A::Text("00000000"), A::Text("11111111"), A::Text("22222222")],
    );
    let e = pgp_renew(&mut d, settings(&ra), &mut script).unwrap_err();
    assert_eq!((e.code(), e.params().get("tries_left").map(String::as_str)), ("puk-low", Some("1")), "{e:?}");
    assert_eq!(script.asked.iter().filter(|q| **q == "prompt-so-pin").count(), 2, "{:?}", script.asked);
    assert_eq!(tries(), 1, "its last try is left");
    // The old key still signs for the old certificate.
    let mut report = block_on(tessera_flows::renewal::diagnostics::diagnose(&mut d, &settings(&ra), PGP_SIG)).unwrap();
    let mut check = Script::new(None, vec![A::Owned(pin)]);
    tessera_flows::renewal::diagnostics::test_signatures(&mut d, &mut report, &mut check).unwrap();
    let signs = report.certificates[0].checks.iter().find(|c| c.check == "private-key").unwrap();
    assert_eq!(signs.code, "diag-private-key-signs", "{signs:?}");
}

/// The renewal code in the holder's SMS (the latest one to `mobile`).
fn renewal_code(ra: &RaServer, mobile: &str) -> String {
    let outbox = std::fs::read_to_string(ra.path("tessera-ra/outbox.log")).unwrap();
    let line = outbox.lines().rev().find(|l| l.contains(mobile) && l.contains("codice di rinnovo")).expect("the SMS");
    line.split("è ").nth(1).unwrap().split('.').next().unwrap().trim().to_owned()
}

#[test]
fn a_fixed_slot_renewal_survives_the_card_pulled_the_ra_down_and_a_lost_pkiconf_after_the_slot_is_overwritten() {
    let pcsc = tessera_testbed::Pcsc::start();
    let (_data, ra, mut d, card, pin, puk) = pgp_activated(&pcsc);
    let relay = Relay::start(&ra);
    let through = Settings { ra: relay.url.clone(), ra_ca: Some(ra.ca_file()) };
    let renew = |d: &mut Devices, script: &mut Script<'_>| pgp_renew(d, through.clone(), script);

    // 1. The card is pulled as the new certificate is about to be written: the new key is
    //    in the slot already, the old one gone.
    let mut first = Script::new(Some(&ra), vec![A::Yes, A::Yes, A::Owned(pin.clone()), A::Owned(puk.clone())]);
    first.on_step = Some((Step::Install { role: Role::Signature }, Box::new(move || card.remove())));
    let e = renew(&mut d, &mut first).unwrap_err();
    assert!(e.transient(), "{e:?}");
    assert_eq!(
        first.asked,
        ["ask-confirm-overwrite", "ask-contacts", "ask-sign-renewal-form", "prompt-user-pin", "prompt-so-pin"]
    );
    assert!(first.done(Step::Authorise) && first.done(Step::Generate { role: Role::Signature }));

    // 2. Back in the reader, a new run (the code is not kept: the holder types it from the
    //    SMS) writes the certificate; the RA goes down before certConf.
    let _card = pcsc.insert_openpgp(0);
    assert!(tessera_testbed::wait_until(std::time::Duration::from_secs(15), || pgp_visible(&mut d)));
    let code = renewal_code(&ra, "+393337770001");
    let ra_ref = &ra;
    let mut second = Script::new(
        Some(&ra),
        vec![A::Text(""), A::Owned(code.to_lowercase()), A::Owned(pin.clone()), A::Owned(puk.clone())],
    );
    second.on_step = Some((Step::Confirm { role: Role::Signature }, Box::new(move || ra_ref.stop())));
    let e = renew(&mut d, &mut second).unwrap_err();
    assert_eq!(e.code(), "ra-unreachable", "{e:?}");
    assert_eq!(
        second.asked,
        ["ask-renewal-code", "ask-renewal-code", "prompt-user-pin", "prompt-so-pin"],
        "an empty answer sent the code again"
    );
    assert!(second.resumed(Step::Issue { role: Role::Signature }), "the certificate issued before, not a second one");
    // Asked again within 30 s of the first SMS: said so, nothing sent.
    assert!(
        second
            .events
            .iter()
            .any(|e| matches!(e, Progress::Notice { code, .. } if code == "error-code-resend-too-soon"))
    );
    assert_eq!(ra.sms_count("+393337770001"), 1);

    // 3. The RA is back: the third run's certConf completes the renewal at the RA, but its
    //    answer is lost on the way back.
    ra.restart();
    let relay_ref = &relay;
    let mut third = Script::new(Some(&ra), vec![A::Owned(code.clone()), A::Owned(pin.clone())]);
    third.on_step = Some((Step::Confirm { role: Role::Signature }, Box::new(move || relay_ref.arm(Fault::Lost))));
    let e = renew(&mut d, &mut third).unwrap_err();
    assert!(e.transient(), "{e:?}");
    let completed = operator_get(&ra, "/api/v1/operator/renewals?state=completed");
    assert_eq!(completed["renewals"].as_array().map(Vec::len), Some(1), "completed at the RA: {completed}");

    // 4. The fourth run repeats the certConf (the code still opens a completed renewal for
    //    that) and the journal completes.
    let mut fourth = Script::new(Some(&ra), vec![A::Owned(code.clone()), A::Owned(pin.clone())]);
    let outcome = renew(&mut d, &mut fourth).unwrap_or_else(|e| panic!("fourth run: {e:?} after {:?}", fourth.asked));
    let third = fourth;
    assert!(outcome.resumed && outcome.retired, "{outcome:?}");
    assert!(third.resumed(Step::Install { role: Role::Signature }));
    let renewals = operator_get(&ra, "/api/v1/operator/renewals?state=completed");
    assert_eq!(renewals["renewals"].as_array().map(Vec::len), Some(1), "{renewals}");
    // One certificate issued for the renewal, not one per run.
    let certificates = request_certificates_of(&ra, "REQ-PGP");
    assert_eq!(certificates.len(), 2, "the old one and its one successor: {certificates:?}");
}

fn request_certificates_of(ra: &RaServer, reference: &str) -> Vec<serde_json::Value> {
    let body = operator_get(ra, &format!("/api/v1/operator/requests/{reference}"));
    body["certificates"].as_array().cloned().unwrap_or_default()
}

/// A fault on the way back from the RA, which no real part makes on demand: a relay in
/// front of the RA that passes everything, except that the answer to the first CMP message
/// after [`Relay::arm`] is lost (the connection closes) or corrupted (one byte of what its
/// protection covers flipped). The RA has handled the message either way.
struct Relay {
    url: String,
    fault: std::sync::Arc<std::sync::Mutex<Option<Fault>>>,
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Lost,
    Corrupted,
}

/// One HTTP/1.1 message (headers and a Content-Length body), or None at end of stream.
fn http_message(s: &mut std::net::TcpStream) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).ok()?;
    buf.extend(body);
    Some(buf)
}

impl Relay {
    fn start(ra: &RaServer) -> Relay {
        use std::io::Write;
        let target = ra.url().trim_start_matches("http://").to_owned();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fault: std::sync::Arc<std::sync::Mutex<Option<Fault>>> = Default::default();
        let shared = fault.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let (target, fault) = (target.clone(), shared.clone());
                std::thread::spawn(move || {
                    let mut client = client;
                    while let Some(request) = http_message(&mut client) {
                        let Ok(mut upstream) = std::net::TcpStream::connect(&target) else { return };
                        upstream.write_all(&request).unwrap();
                        let Some(mut answer) = http_message(&mut upstream) else { return };
                        let cmp = request.starts_with(b"POST /.well-known/cmp");
                        match cmp.then(|| fault.lock().unwrap().take()).flatten() {
                            Some(Fault::Lost) => return,
                            Some(Fault::Corrupted) => {
                                // Inside the protected part (its body: the certificate).
                                let start = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                                let at = start + (answer.len() - start) / 2;
                                answer[at] ^= 0x5A;
                            }
                            None => {}
                        }
                        if client.write_all(&answer).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Relay { url, fault }
    }

    fn arm(&self, fault: Fault) {
        *self.fault.lock().unwrap() = Some(fault);
    }
}

#[test]
fn a_kup_lost_or_corrupted_on_the_way_leaves_the_old_certificate_working_and_the_rerun_gets_the_same_one() {
    for fault in [Fault::Corrupted, Fault::Lost] {
        let bed = Bed::new();
        let (ra, _) = activated_for_renewal(&bed);
        let relay = Relay::start(&ra);
        let through = Settings { ra: relay.url.clone(), ra_ca: Some(ra.ca_file()) };
        let renew_through = |script: &mut Script<'_>| {
            let mut devices = bed.devices();
            let flow = tessera_flows::renewal::Renewal {
                devices: &mut devices,
                settings: through.clone(),
                token: "pkcs11:token=Blank".into(),
                certificate: None,
                retire_old: false,
            };
            block_on(flow.run(script))
        };
        let relay_ref = &relay;
        let mut script = Script::new(None, vec![A::Yes, A::Text("123456")]);
        script.on_step = Some((Step::Issue { role: Role::Signature }, Box::new(move || relay_ref.arm(fault))));
        let e = renew_through(&mut script).unwrap_err();
        match fault {
            Fault::Corrupted => assert_eq!(e.code(), "answer-not-authentic", "{e:?}"),
            Fault::Lost => assert!(e.transient(), "{e:?}"),
        }
        // The RA issued; the card still has the old certificate working, the new key waits.
        assert_eq!((bed.objects("privkey"), bed.objects("cert")), (2, 1), "{fault:?}");
        assert_eq!(request_certificates(&ra).len(), 2, "{fault:?}: issued once, unconfirmed");
        // The rerun asks again with the same key and gets the same certificate, not another.
        let mut again = Script::new(None, vec![A::Text("123456")]);
        let outcome = renew_through(&mut again).unwrap_or_else(|e| panic!("{fault:?}: {e:?}"));
        assert!(outcome.resumed, "{fault:?}");
        assert_eq!(request_certificates(&ra).len(), 2, "{fault:?}: still one new certificate");
        assert_eq!((bed.objects("privkey"), bed.objects("cert")), (2, 2), "{fault:?}");
    }
}

// ---- renewal reminders, with the card absent ----

#[test]
fn reminders_come_from_certificates_seen_once_with_the_card_removed_and_the_clock_moved() {
    use tessera_flows::seen;
    let (hsm, _data) = samples_bed();
    let now = time::OffsetDateTime::now_utc();
    let snapshot = softhsm_devices().snapshot();
    seen::remember(&snapshot, now).unwrap();
    // The card goes (the token is deleted): the reminders remain, marked not present.
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", hsm.conf())
        .args(["--delete-token", "--token", "Luca Bianchi Firma"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let without = softhsm_devices().snapshot();
    assert!(without.tokens.iter().all(|t| t.label != "Luca Bianchi Firma"));
    let due = seen::reminders(Some(&without), now);
    let expiring = due.iter().find(|r| (1..=60).contains(&r.days_left)).expect("the expiring certificate");
    assert_eq!((expiring.notice, expiring.present), (30, false), "{due:?}");
    // The expired one of the same holder and role is superseded by the newer one: no notice.
    assert!(due.iter().all(|r| r.notice != 0), "{due:?}");
    // The clock moved on: the 7-day notice, then expiry.
    let later = seen::reminders(Some(&without), now + time::Duration::days(25));
    let same = later.iter().find(|r| r.certificate.serial == expiring.certificate.serial).unwrap();
    assert_eq!(same.notice, 7);
    // As desktop notifications: each notice once; the next one when its day comes.
    let due = seen::due_notifications(Some(&without), now);
    assert_eq!(due.iter().map(|r| r.notice).collect::<Vec<_>>(), [30], "{due:?}");
    seen::mark_notified(&due[0]).unwrap();
    assert!(seen::due_notifications(Some(&without), now).is_empty());
    let week = seen::due_notifications(None, now + time::Duration::days(25));
    assert_eq!(week.iter().map(|r| r.notice).collect::<Vec<_>>(), [7], "{week:?}");
    // A later sight of the certificate keeps what was shown.
    seen::remember(&snapshot, now + time::Duration::days(1)).unwrap();
    assert!(seen::due_notifications(None, now).is_empty());
    let after = seen::reminders(None, now + time::Duration::days(40));
    assert_eq!(after.iter().find(|r| r.certificate.serial == expiring.certificate.serial).unwrap().notice, 0);
    // A certificate far from expiry (Mario Rossi's) has no notice now, and one later.
    let far = snapshot.tokens.iter().find(|t| t.label == "Mario Rossi CNS").unwrap();
    let sign = far.certificates.iter().find(|c| c.summary.role == tessera_pki::Role::Signature).unwrap();
    assert!(due.iter().all(|r| r.certificate.serial != sign.summary.serial));
    let when = now + time::Duration::days(sign.summary.days_left - 59);
    assert!(seen::reminders(None, when).iter().any(|r| r.certificate.serial == sign.summary.serial && r.notice == 60));
}

#[test]
fn both_certificates_of_a_cns_and_signature_card_are_renewed_each_in_turn_under_the_approval_policy() {
    let bed = Bed::new();
    let ra = RaServer::start(&format!("validity_days = 30\nrenewal_policy = \"approval\"\n{REQUESTS}"));
    let counter = counter(&ra);
    let mut script = Script::new(Some(&ra), vec![A::Text("BOTH-CERT-0006"), A::Yes, A::Text("123456")]);
    let activated = block_on(run(&bed, settings(&ra), counter.clone(), &mut script)).expect("activation");
    drop(script);
    assert_eq!(activated.certificates.len(), 2);
    // Two renewable certificates: the holder must say which.
    let mut ask = Script::new(None, vec![A::Text("123456")]);
    let e = renew_with(&bed, &ra, &mut ask, false).unwrap_err();
    assert_eq!(e.code(), "choose-certificate", "{e:?}");
    for c in &activated.certificates {
        let mut devices = bed.devices();
        let flow = tessera_flows::renewal::Renewal {
            devices: &mut devices,
            settings: settings(&ra),
            token: "pkcs11:token=Blank".into(),
            certificate: Some(c.uri.clone()),
            retire_old: false,
        };
        let mut script = Script::new(None, vec![A::Yes, A::Text("123456")]);
        let outcome = block_on(flow.run(&mut script)).unwrap_or_else(|e| panic!("{:?}: {e:?}", c.role));
        assert_eq!(outcome.role, c.role);
    }
    // Four certificates on the card; at the RA the two renewals wait for an operator.
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (4, 4));
    let body = operator_get(&ra, "/api/v1/operator/requests/REQ-BOTH");
    let pending = body["certificates"].as_array().unwrap().iter().filter(|c| c["approval"] == "pending").count();
    assert_eq!(pending, 2, "{body}");
}

#[test]
fn two_signature_certificates_of_one_holder_on_one_card_are_each_renewed_by_their_own_successor() {
    // Two requests of the same holder, both activated on one card: two signature
    // certificates valid over the same period. Renewing the first must not make the second
    // look renewed (its successor is matched by lineage, not by holder and role).
    let bed = Bed::new();
    let ra = RaServer::start(&format!("validity_days = 30\n{REQUESTS}"));
    let counter = counter(&ra);
    let mut olds = Vec::new();
    for code in ["ABCD-EFGH-JKLM", "TWIN-CODE-0007"] {
        let mut script = Script::new(Some(&ra), vec![A::Text(code), A::Yes, A::Text("123456")]);
        let outcome = block_on(run(&bed, settings(&ra), counter.clone(), &mut script)).expect("activation");
        let uri = outcome.certificates[0].uri.clone();
        let der = certificate_on_token(&bed, &uri);
        olds.push((uri, tessera_pki::CertificateSummary::parse(&der, time::OffsetDateTime::now_utc()).unwrap()));
    }
    assert_eq!(olds[0].1.common_name, olds[1].1.common_name);
    assert_eq!(olds[0].1.role, olds[1].1.role);
    // Before any renewal nothing records a lineage: validity alone must not take one twin
    // for the other's successor (the Devices screen's marks, the reminders).
    let now = time::OffsetDateTime::now_utc();
    let marks = |bed: &Bed| {
        let mut snapshot = bed.devices().snapshot();
        tessera_flows::seen::remember(&snapshot, time::OffsetDateTime::now_utc()).unwrap();
        tessera_flows::renewal::lineage::annotate(&mut snapshot);
        let token = snapshot.tokens.into_iter().find(|t| t.label == "Blank").unwrap();
        token.certificates.into_iter().map(|c| (c.summary.serial, (c.renewed, c.renews))).collect::<Vec<_>>()
    };
    assert!(marks(&bed).iter().all(|(_, m)| *m == (false, false)), "{:?}", marks(&bed));
    let reminded =
        |serial: &str| tessera_flows::seen::reminders(None, now).iter().any(|r| r.certificate.serial == serial);
    assert!(reminded(&olds[0].1.serial) && reminded(&olds[1].1.serial), "both twins are reminded of");
    let mut renewed = Vec::new();
    for (uri, old) in &olds {
        let mut devices = bed.devices();
        let flow = tessera_flows::renewal::Renewal {
            devices: &mut devices,
            settings: settings(&ra),
            token: "pkcs11:token=Blank".into(),
            certificate: Some(uri.clone()),
            retire_old: false,
        };
        let mut script = Script::new(None, vec![A::Yes, A::Text("123456")]);
        let outcome = block_on(flow.run(&mut script)).unwrap_or_else(|e| panic!("{}: {e:?}", old.serial));
        assert_eq!(outcome.replaced, old.serial);
        assert_eq!(outcome.not_before, old.not_after);
        renewed.push(outcome.serial);
    }
    assert_eq!((bed.objects("privkey"), bed.objects("cert")), (4, 4));
    // The diagnostics now: each old certificate already renewed, by its own successor.
    let report = block_on(tessera_flows::renewal::diagnostics::diagnose(
        &mut bed.devices(),
        &settings(&ra),
        "pkcs11:token=Blank",
    ))
    .unwrap();
    for (_, old) in &olds {
        let c = report.certificates.iter().find(|c| c.serial == old.serial).unwrap();
        assert!(verdicts(&c.checks).contains(&("renewal-window", "diag-renewal-window-already-renewed".into())));
    }
    for serial in &renewed {
        let state: serde_json::Value =
            ureq::get(&format!("{}/api/v1/renewal/{serial}", ra.url())).call().unwrap().into_json().unwrap();
        assert_eq!(state["state"], "active", "{serial}");
    }
    // The Devices screen's marks and the reminders follow the lineage.
    let after = marks(&bed);
    for (_, old) in &olds {
        assert_eq!(after.iter().find(|(s, _)| *s == old.serial).unwrap().1, (true, false), "{after:?}");
        assert!(!reminded(&old.serial), "a renewed certificate is not reminded of");
    }
    for serial in &renewed {
        assert_eq!(after.iter().find(|(s, _)| s == serial).unwrap().1, (false, true), "{after:?}");
    }
}
