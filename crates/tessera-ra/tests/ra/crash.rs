//! kill -9 under concurrent load: clients that keep their key and try again in a new
//! transaction when the RA goes away (as Tessera's journal does), an RA killed and
//! restarted several times meanwhile. Afterwards every request has exactly one active,
//! confirmed certificate: none lost, none duplicated, none active but undelivered. On
//! SQLite with one instance, and on PostgreSQL with two instances behind one address.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use tessera_protocol::cmp::{self, Body, Client};

const REQUESTS: usize = 120;
const WORKERS: usize = 8;
const KILLS: usize = 3;

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).unwrap();
    b
}

/// An RA configuration with REQUESTS armed requests, on a fixed port.
fn config(dir: &Path, port: u16, database: Option<&str>, state: &Path) -> PathBuf {
    let mut toml = format!(
        "listen = \"127.0.0.1:{port}\"\nstate_dir = \"{}\"\n{}\n[cmp]\nconfirm_seconds = 3\n\n\
         [limits]\nfailures_per_minute = 100000\ncalls_per_minute = 100000\n\n",
        state.display(),
        database.map(|d| format!("database = \"{d}\"")).unwrap_or_default()
    );
    for i in 0..REQUESTS {
        toml.push_str(&format!(
            "[[request]]\nreference = \"LOAD-{i:04}\"\nactivation_code = \"LOAD-CODE-{i:04}\"\nprofile = \"signature\"\n\
             holder = {{ given_name = \"MARIO\", surname = \"ROSSI{i}\", cf = \"RSSMRA80A01H501U\" }}\n\n"
        ));
    }
    toml.push_str(
        "[[operator]]\nname = \"odr-test\"\ntoken_sha256 = \"fada800c966f702b9da4f2a9e8545c841ef09001818ad17b24f525d9c835baf0\"\n",
    );
    let path = dir.join(format!("ra-{port}.toml"));
    std::fs::write(&path, toml).unwrap();
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One RA process that can be killed (SIGKILL) and started again on the same port.
struct Instance {
    config: PathBuf,
    child: Mutex<Option<Child>>,
}

impl Instance {
    fn start(config: PathBuf) -> Instance {
        let (child, _) = spawn(&config, &[]);
        Instance { config, child: Mutex::new(Some(child)) }
    }

    fn kill(&self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn restart(&self) {
        self.kill();
        let (child, _) = spawn(&self.config, &[]);
        *self.child.lock().unwrap() = Some(child);
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A round-robin TCP proxy: one address in front of the instances.
fn proxy(backends: Vec<u16>, stop: Arc<AtomicBool>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let next = AtomicUsize::new(0);
        while !stop.load(Ordering::Relaxed) {
            let Ok((client, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            };
            client.set_nonblocking(false).unwrap();
            let backend = backends[next.fetch_add(1, Ordering::Relaxed) % backends.len()];
            std::thread::spawn(move || {
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", backend)) else { return };
                let (mut c1, mut s1) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let up = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c1, &mut s1);
                    let _ = s1.shutdown(std::net::Shutdown::Write);
                });
                let (mut c2, mut s2) = (client, server);
                let _ = std::io::copy(&mut s2, &mut c2);
                let _ = c2.shutdown(std::net::Shutdown::Write);
                let _ = up.join();
            });
        }
    });
    port
}

/// POST a CMP message; None when the RA is not there (killed, restarting).
fn post(server: &str, der: &[u8]) -> Option<Vec<u8>> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(5)).build();
    let resp = agent
        .post(&format!("http://{server}/.well-known/cmp"))
        .set("Content-Type", "application/pkixcmp")
        .send_bytes(der)
        .ok()?;
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut out).ok()?;
    Some(out)
}

/// One holder's client: its key is kept across tries; each try is a new transaction
/// (p10cr, then certConf). Returns the confirmed certificate's DER and how many tries.
fn enroll(server: &str, i: usize, csr: &[u8]) -> (Vec<u8>, usize) {
    let (reference, code) = (format!("LOAD-{i:04}"), format!("LOAD-CODE-{i:04}"));
    let mut last = String::new();
    for attempt in 1..=200 {
        let client = Client {
            reference: reference.as_bytes(),
            secret: code.as_bytes(),
            transaction_id: random(),
            salt: random(),
            profile: None,
        };
        let retry = || std::thread::sleep(Duration::from_millis(100));
        let Some(answer) = post(server, &client.p10cr(&random::<16>(), csr)) else {
            retry();
            continue;
        };
        let Ok(answer) = cmp::parse(&answer) else {
            last = format!("unparsable: {}", String::from_utf8_lossy(&answer));
            retry();
            continue;
        };
        let Body::CertResponse { accepted: true, certificate: Some(cert), cert_req_id, .. } = answer.body else {
            // Refused for now (another transaction's certificate waits): try again later.
            last = format!("{:?}", answer.body);
            retry();
            continue;
        };
        let nonce = answer.sender_nonce.unwrap_or_default();
        let conf = client.cert_conf(&random::<16>(), &nonce, &cert, cert_req_id);
        // A certConf whose answer was lost is sent again, as it is.
        for _ in 0..50 {
            match post(server, &conf).and_then(|a| cmp::parse(&a).ok()).map(|a| a.body) {
                Some(Body::Confirmed) => return (cert, attempt),
                None => retry(),
                other => {
                    last = format!("certConf: {other:?}");
                    break;
                }
            }
        }
        retry();
    }
    panic!("{reference}: never enrolled: {last}");
}

/// The whole run: clients against `server`, `kill` called KILLS times meanwhile; then
/// what the RA recorded, as (lost, duplicated, active but undelivered) and the tries.
fn run(server: &str, operator: &str, kill: &(dyn Fn(usize) + Sync)) -> (usize, usize, usize, usize) {
    let keys: Vec<Vec<u8>> = (0..REQUESTS)
        .map(|_| {
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(&key).unwrap().der().to_vec()
        })
        .collect();
    let next = AtomicUsize::new(0);
    let delivered: Mutex<Vec<(usize, Vec<u8>, usize)>> = Mutex::new(Vec::new());
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= REQUESTS {
                        break;
                    }
                    let (cert, tries) = enroll(server, i, &keys[i]);
                    delivered.lock().unwrap().push((i, cert, tries));
                }
            });
        }
        scope.spawn(|| {
            for k in 0..KILLS {
                std::thread::sleep(Duration::from_millis(700));
                if done.load(Ordering::Relaxed) {
                    break;
                }
                kill(k);
            }
        });
    });
    done.store(true, Ordering::Relaxed);
    let delivered = delivered.into_inner().unwrap();
    assert_eq!(delivered.len(), REQUESTS);
    // After confirm_seconds, what was issued and never confirmed has been revoked.
    std::thread::sleep(Duration::from_secs(5));
    let (mut lost, mut duplicated, mut undelivered) = (0, 0, 0);
    for (i, cert, _) in &delivered {
        let url = format!("http://{operator}/api/v1/operator/requests/LOAD-{i:04}");
        let body: serde_json::Value = ureq::get(&url)
            .set("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        let certs = body["certificates"].as_array().cloned().unwrap_or_default();
        let active: Vec<_> = certs.iter().filter(|c| c["state"] == "active").collect();
        let serial = x509_serial(cert);
        if !active.iter().any(|c| c["serial"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(&serial))) {
            lost += 1;
        }
        duplicated += active.len().saturating_sub(1);
        undelivered += active.iter().filter(|c| c["confirmed"] != true).count();
    }
    let tries: usize = delivered.iter().map(|(_, _, t)| t).sum();
    (lost, duplicated, undelivered, tries)
}

/// A certificate's serial, as the operator API writes it (hex).
fn x509_serial(der: &[u8]) -> String {
    use tessera_protocol::asn1;
    let cert = asn1::read_one(der).unwrap();
    let tbs = asn1::children(cert.content).unwrap()[0];
    let fields = asn1::children(tbs.content).unwrap();
    let serial = if fields[0].tag == 0xA0 { fields[1] } else { fields[0] };
    serial.content.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn kill_9_under_load_on_sqlite_loses_duplicates_and_leaves_undelivered_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let ra = Instance::start(config(dir.path(), port, None, &dir.path().join("state")));
    let server = format!("127.0.0.1:{port}");
    let (lost, duplicated, undelivered, tries) = run(&server, &server, &|_| ra.restart());
    eprintln!(
        "sqlite: {REQUESTS} requests, {KILLS} kill -9: lost {lost}, duplicated {duplicated}, undelivered {undelivered}, {tries} tries"
    );
    assert_eq!((lost, duplicated, undelivered), (0, 0, 0));
}

#[test]
fn two_instances_on_one_postgresql_behind_one_address_survive_kill_9_with_nothing_twice() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (p1, p2) = (free_port(), free_port());
    let a = Instance::start(config(dir.path(), p1, Some(&pg.url()), &state));
    let b = Instance::start(config(dir.path(), p2, Some(&pg.url()), &state));
    let stop = Arc::new(AtomicBool::new(false));
    let front = format!("127.0.0.1:{}", proxy(vec![p1, p2], stop.clone()));
    let instances = [&a, &b];
    let (lost, duplicated, undelivered, tries) =
        run(&front, &format!("127.0.0.1:{p1}"), &|k| instances[k % 2].restart());
    stop.store(true, Ordering::Relaxed);
    eprintln!(
        "postgresql, two instances: {REQUESTS} requests, {KILLS} kill -9: lost {lost}, duplicated {duplicated}, undelivered {undelivered}, {tries} tries"
    );
    assert_eq!((lost, duplicated, undelivered), (0, 0, 0));
}
