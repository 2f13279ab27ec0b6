//! The reference RA (the `tessera-ra` binary of this build) over real HTTP on 127.0.0.1,
//! in its own state directory; stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

/// The demo's operator credential and the SHA-256 the RA's configuration keeps of it.
pub const OPERATOR_TOKEN: &str = "demo-operator";
pub const OPERATOR_TOKEN_SHA256: &str = "9437e87fae95c03d3778f2575bb18ce30e647e51d86a8c37963364e1fc4f374e";

pub struct RaServer {
    child: std::sync::Mutex<Option<Child>>,
    /// host:port
    pub server: String,
    dir: TempDir,
}

fn binary() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| crate::root().join("target"));
    target.join("debug").join("tessera-ra")
}

impl RaServer {
    /// An RA on a free loopback port with `requests` (TOML: `[[request]]` tables and
    /// more) after the listen line, and the demo operator.
    pub fn start(requests: &str) -> RaServer {
        let dir = tempfile::Builder::new().prefix("tessera-ra-").tempdir().expect("tempdir");
        let config = format!(
            "listen = \"127.0.0.1:0\"\nca_certificate = \"{}\"\n{requests}\n\n[[operator]]\nname = \"odr-test\"\noffice = \"RM01\"\ntoken_sha256 = \"{OPERATOR_TOKEN_SHA256}\"\n",
            dir.path().join("ca.pem").display()
        );
        std::fs::write(dir.path().join("ra.toml"), config).expect("RA config");
        let mut ra = RaServer { child: Default::default(), server: String::new(), dir };
        ra.spawn();
        ra
    }

    fn launch(&self) -> (Child, String) {
        let mut child = Command::new(binary())
            .arg("--config")
            .arg(self.dir.path().join("ra.toml"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tessera-ra runs (cargo build --bins first)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("listening line");
        let server = line.split("://").nth(1).and_then(|s| s.split('/').next()).expect("listening line").to_owned();
        (child, server)
    }

    fn spawn(&mut self) {
        let (child, server) = self.launch();
        // Keep the port for restarts.
        let config = std::fs::read_to_string(self.dir.path().join("ra.toml")).unwrap();
        std::fs::write(self.dir.path().join("ra.toml"), config.replacen("127.0.0.1:0", &server, 1)).unwrap();
        self.server = server;
        *self.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server)
    }

    /// The RA's CA chain (issuing CA, then root), PEM.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The latest six-digit code the outbox holds for `mobile` (the holder's phone).
    pub fn otp(&self, mobile: &str) -> Option<String> {
        let outbox = std::fs::read_to_string(self.path("tessera-ra/outbox.log")).ok()?;
        let line = outbox.lines().rev().find(|l| l.contains(mobile))?;
        let words: Vec<&str> = line.split(|c: char| !c.is_ascii_digit()).collect();
        words.into_iter().find(|w| w.len() == 6).map(str::to_owned)
    }

    /// Every SMS the outbox holds for `mobile`.
    pub fn sms_count(&self, mobile: &str) -> usize {
        std::fs::read_to_string(self.path("tessera-ra/outbox.log"))
            .map(|o| o.lines().filter(|l| l.contains("\tsms\t") && l.contains(mobile)).count())
            .unwrap_or(0)
    }

    /// Stop the RA (as if it went down); [`RaServer::restart`] brings it back on the same port and state.
    pub fn stop(&self) {
        if let Some(mut c) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&self) {
        self.stop();
        let (child, _) = self.launch();
        *self.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
    }

    pub fn state_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for RaServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The password every test operator account chooses at its first sign-in.
pub const OPERATOR_PASSWORD: &str = "Sportello di prova 2026";

/// An operator account of the RA, as its holder knows it: name, password (their own,
/// chosen at the first sign-in) and the authenticator's secret. Codes come from
/// `oathtool`, an independent TOTP generator, each for a step not used before (the RA
/// accepts a code once).
pub struct Operator {
    pub name: String,
    pub password: String,
    pub office: String,
    secret: String,
    last_step: std::sync::Mutex<i64>,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Operator {
    /// The code of the next step the RA has not accepted yet: now's, or the next one
    /// (the RA allows a step either side); waits for the clock when both are used.
    pub fn code(&self) -> String {
        let mut last = self.last_step.lock().unwrap_or_else(|p| p.into_inner());
        let step = Self::next_step(*last);
        *last = step;
        self.code_at(step)
    }

    /// The code [`Operator::code`] would give next, not counted as used (for a try the RA
    /// refuses without taking the code: a wrong password).
    pub fn unused_code(&self) -> String {
        let last = *self.last_step.lock().unwrap_or_else(|p| p.into_inner());
        self.code_at(Self::next_step(last))
    }

    fn next_step(last: i64) -> i64 {
        loop {
            let now = unix_now() / 30;
            let step = now.max(last + 1);
            if step <= now + 1 {
                return step;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }

    fn code_at(&self, step: i64) -> String {
        let out = Command::new("oathtool")
            .args(["--totp", "-b", &self.secret, "-N", &format!("@{}", step * 30 + 15)])
            .output()
            .expect("oathtool (testbed/tools.sh installs it)");
        assert!(out.status.success(), "oathtool: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The answers the app and `tessera activate --operator --stdin` take to sign in.
    pub fn sign_in_answers(&self) -> [String; 3] {
        [self.name.clone(), self.password.clone(), self.code()]
    }
}

impl RaServer {
    /// A new operator account of `office` (`tessera-ra operator add`), signed in once at
    /// the console to choose its own password, as a new operator does before the app.
    pub fn operator(&self, name: &str, office: &str) -> Operator {
        let out = Command::new(binary())
            .args(["operator", "add", "--config"])
            .arg(self.path("ra.toml"))
            .args(["--name", name, "--office", office, "--role", "operator", "--json"])
            .output()
            .expect("tessera-ra operator add");
        assert!(out.status.success(), "operator add: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("operator add --json");
        let secret = v["otpauth"].as_str().and_then(|u| u.split("secret=").nth(1)).and_then(|s| s.split('&').next());
        let operator = Operator {
            name: name.to_owned(),
            password: v["password"].as_str().expect("one-time password").to_owned(),
            office: office.to_owned(),
            secret: secret.expect("the otpauth secret").to_owned(),
            last_step: std::sync::Mutex::new(0),
        };
        let password = OPERATOR_PASSWORD.to_owned();
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        let pre = "p".repeat(43);
        let signed_in = agent
            .post(&format!("{}/console/sign-in", self.url()))
            .set("Cookie", &format!("tessera_console_pre={pre}"))
            .send_form(&[("csrf", &pre), ("name", name), ("password", &operator.password), ("code", &operator.code())])
            .expect("console sign-in");
        let cookie = signed_in
            .all("set-cookie")
            .into_iter()
            .find_map(|c| c.strip_prefix("tessera_console=").and_then(|c| c.split(';').next()))
            .expect("a session cookie")
            .to_owned();
        let cookie = format!("tessera_console={cookie}");
        let page = agent
            .get(&format!("{}/console/password", self.url()))
            .set("Cookie", &cookie)
            .call()
            .expect("password page")
            .into_string()
            .unwrap_or_default();
        let csrf = page.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("csrf");
        let changed = agent.post(&format!("{}/console/password", self.url())).set("Cookie", &cookie).send_form(&[
            ("csrf", csrf),
            ("old", &operator.password),
            ("new", &password),
            ("again", &password),
        ]);
        assert!(changed.is_ok_and(|r| r.status() < 400), "the new password was not taken");
        Operator { password, ..operator }
    }
}
