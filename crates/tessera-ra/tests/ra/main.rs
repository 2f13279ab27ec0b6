//! tessera-ra over real HTTP on 127.0.0.1, one integration-test binary: the shared
//! fixtures here (an RA in a temporary directory, `openssl cmp`, the operator and holder
//! calls, a private PostgreSQL), and one module per API or concern.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

mod brute_force;
mod certificates;
mod cmp;
mod conformance;
mod console;
mod counter;
mod crash;
mod exactly_once;
mod holder;
mod hygiene;
mod in_process;
mod operator;
mod overwrite;
mod renewal;

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
# openssl cmp renews with kur alone; the renewal tests take this line out.
renewal.form = "optional"
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
        p256_key(self.path(&format!("{name}.key")))
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

fn dates(cert: &Path) -> (String, String) {
    let t = x509(cert, &["-startdate", "-enddate"]);
    let get = |k: &str| t.lines().find_map(|l| l.strip_prefix(k)).unwrap_or_default().to_owned();
    (get("notBefore="), get("notAfter="))
}

std::thread_local! {
    /// The session each request's last SMS opened, as the holder's client keeps it.
    static SESSIONS: std::cell::RefCell<std::collections::HashMap<String, String>> = Default::default();
}

/// POST JSON to the holder API, as the holder's client does: the session an SMS opened is
/// kept, and sent with the OTP (unless the body names one).
/// A fresh P-256 key made by openssl, at `key`.
fn p256_key(key: PathBuf) -> PathBuf {
    let o = Command::new("openssl")
        .args(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success());
    key
}

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

/// The operator token of the test configuration, and its SHA-256 (what the RA keeps).
const OPERATOR_TOKEN: &str = "odr-test-token";

fn operator_call(ra: &Ra, method: &str, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
    json_call(&format!("http://{}{path}", ra.server), method, Some(OPERATOR_TOKEN), body)
}

/// A JSON call, with a bearer token when given: the status and the JSON answer (null when
/// there is none).
fn json_call(
    url: &str,
    method: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = ureq::request(method, url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
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
