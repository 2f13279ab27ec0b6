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
            "listen = \"127.0.0.1:0\"\nca_certificate = \"{}\"\n{requests}\n\n[[operator]]\nname = \"odr-test\"\ntoken_sha256 = \"{OPERATOR_TOKEN_SHA256}\"\n",
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
