//! Test-bed fixture for Rust tests: drives the same testbed/ scripts the demo uses, each
//! test in its own temporary directory (its own pcscd, vpcd ports and SoftHSM2 tokens).
//!
//! Tests run one per process (cargo nextest); under plain `cargo test`, [`exclusive`]
//! serialises the tests of one binary, since libpcsclite and SoftHSM2 read their
//! configuration from the process environment.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub mod ra;
pub mod webdriver;

/// The SoftHSM2 module as Debian installs it.
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The virtual OpenPGP card's ATR (drivers/openpgp-card.toml).
pub const ATR_OPENPGP: &str = "3B 8C 01 80 5A 4E 69 74 72 6F 6B 65 79 20 33 7D";
/// The virtual OpenPGP card's admin PIN (the PUK role: SO login in OpenSC).
pub const OPENPGP_ADMIN_PIN: &str = "12345678";
/// The virtual PIV card's default 3DES management key (piv-authenticator's, as Yubico's).
pub const PIV_MANAGEMENT_KEY: &str = "010203040506070801020304050607080102030405060708";
/// The virtual PIV card's PUK.
pub const PIV_PUK: &str = "12345678";
/// Tessera's own test-bed card (drivers/testbed-card.toml).
pub const ATR_TESTBED: &str = "3B 8A 80 01 54 45 53 53 45 52 41 2D 54 31 04";
/// An InfoCamere CNS card's ATR (smartcard_list.txt), known to drivers/it-cns-stincard.toml.
pub const ATR_CNS_INFOCAMERE: &str = "3B FF 18 00 FF 81 31 FE 55 00 6B 02 09 02 00 01 01 01 43 4E 53 10 31 80 9F";
/// In pcsc-tools' list (a Lazio health card) but not in our catalog.
pub const ATR_LAZIO_TS: &str = "3B 04 00 04 00 00";
/// Known to nobody (historical bytes "NOSUCHCARD").
pub const ATR_UNKNOWN: &str = "3B 8A 80 01 4E 4F 53 55 43 48 43 41 52 44 13";

static EXCLUSIVE: Mutex<()> = Mutex::new(());

/// Hold for the whole test when it changes the process environment.
pub fn exclusive() -> MutexGuard<'static, ()> {
    EXCLUSIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// The workspace root (where testbed/ is).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

fn script(name: &str) -> Command {
    Command::new(root().join("testbed").join(name))
}

fn run(mut cmd: Command) {
    let out = cmd.output().expect("test-bed script runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Poll `f` every 20 ms until it is true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Two consecutive free TCP ports (vpcd listens on all interfaces).
fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let a = TcpListener::bind(("0.0.0.0", 0)).expect("bind");
        let p = a.local_addr().unwrap().port();
        if p < u16::MAX && TcpListener::bind(("0.0.0.0", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no free port pair");
}

/// A private pcscd with two vpcd readers ("Virtual PCD 00 00" and "Virtual PCD 00 01").
pub struct Pcsc {
    dir: TempDir,
}

impl Pcsc {
    pub fn start() -> Pcsc {
        Self::start_with(Some(free_port_pair()))
    }

    /// A pcscd with no reader configured.
    pub fn start_without_readers() -> Pcsc {
        Self::start_with(None)
    }

    fn start_with(port: Option<u16>) -> Pcsc {
        let dir = tempfile::Builder::new().prefix("tessera-pcsc-").tempdir().expect("tempdir");
        let mut cmd = script("pcscd-up.sh");
        cmd.arg(dir.path()).arg(port.map_or("none".to_owned(), |p| p.to_string()));
        run(cmd);
        Pcsc { dir }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run/pcscd.comm")
    }

    /// Environment a client needs to reach this pcscd (and OpenSC's settings for vpcd).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("PCSCLITE_CSOCK_NAME".into(), self.socket().display().to_string()),
            ("OPENSC_CONF".into(), self.dir.path().join("opensc.conf").display().to_string()),
        ]
    }

    /// Insert a virtual PIV card (tessera-virtcard --app piv) into reader 0 or 1.
    pub fn insert_piv(&self, reader: u8) -> Card<'_> {
        self.insert(reader, "piv")
    }

    /// Insert a virtual OpenPGP card (tessera-virtcard) into reader 0 or 1; its state
    /// survives removal and reinsertion within this test bed.
    pub fn insert_openpgp(&self, reader: u8) -> Card<'_> {
        self.insert(reader, "openpgp")
    }

    /// Insert a virtual card with `atr` into reader 0 or 1.
    pub fn insert(&self, reader: u8, atr: &str) -> Card<'_> {
        let mut cmd = script("card-insert.sh");
        cmd.arg(self.dir.path()).arg(reader.to_string()).arg(atr);
        run(cmd);
        Card { pcsc: self, reader, removed: false }
    }

    /// Stop pcscd (the readers and cards go with it).
    pub fn stop(&self) {
        let mut cmd = script("pcscd-down.sh");
        cmd.arg(self.dir.path());
        run(cmd);
        wait_until(Duration::from_secs(5), || !self.socket().exists() || !pcscd_alive(self.dir.path()));
    }
}

fn pcscd_alive(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("pcscd.pid")).is_ok()
}

impl Drop for Pcsc {
    fn drop(&mut self) {
        let _ = script("pcscd-down.sh").arg(self.dir.path()).output();
    }
}

/// A virtual card in a reader; pulled out on [`Card::remove`] or drop.
pub struct Card<'a> {
    pcsc: &'a Pcsc,
    reader: u8,
    removed: bool,
}

impl Card<'_> {
    pub fn remove(mut self) {
        self.pull();
    }

    fn pull(&mut self) {
        if !self.removed {
            self.removed = true;
            let _ = script("card-remove.sh").arg(self.pcsc.dir.path()).arg(self.reader.to_string()).output();
        }
    }
}

impl Drop for Card<'_> {
    fn drop(&mut self) {
        self.pull();
    }
}

/// SoftHSM2 tokens in a temporary directory.
pub struct SoftHsm {
    dir: TempDir,
}

impl SoftHsm {
    /// The sample tokens of testbed/samples.py: "Mario Rossi CNS", "Luca Bianchi Firma", "Varie".
    pub fn with_samples() -> SoftHsm {
        Self::make(&[])
    }

    /// `n` tokens with three certificates each (bench/).
    pub fn bench(n: usize) -> SoftHsm {
        Self::make(&["--bench", &n.to_string()])
    }

    /// Configuration only: SoftHSM2 with no token.
    pub fn empty() -> SoftHsm {
        Self::make(&["--empty"])
    }

    fn make(args: &[&str]) -> SoftHsm {
        let dir = tempfile::Builder::new().prefix("tessera-softhsm-").tempdir().expect("tempdir");
        let mut cmd = script("softhsm-up.sh");
        cmd.arg(dir.path()).args(args);
        run(cmd);
        SoftHsm { dir }
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    /// Add an initialised token with no objects (a card to activate).
    pub fn add_token(&self, label: &str, user_pin: &str, so_pin: &str) {
        let mut cmd = Command::new("softhsm2-util");
        cmd.env("SOFTHSM2_CONF", self.conf()).args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            so_pin,
            "--pin",
            user_pin,
        ]);
        run(cmd);
    }

    pub fn samples(&self) -> PathBuf {
        self.dir.path().join("samples")
    }

    pub fn env(&self) -> Vec<(String, String)> {
        vec![("SOFTHSM2_CONF".into(), self.conf().display().to_string())]
    }
}

/// Set variables in this process's environment. Hold [`exclusive`] while doing so.
pub fn apply_env(vars: &[(String, String)]) {
    for (k, v) in vars {
        // SAFETY: tests that call this hold `exclusive()`, and nextest runs each test in
        // its own process, so no other thread reads the environment concurrently.
        unsafe { std::env::set_var(k, v) };
    }
}

/// A throw-away CA run with the `openssl` command: the independent peer that checks our
/// CSRs (`openssl req -verify`) and issues certificates for them.
pub struct OpensslCa {
    dir: TempDir,
}

impl OpensslCa {
    pub fn new() -> OpensslCa {
        let dir = tempfile::Builder::new().prefix("tessera-ca-").tempdir().expect("tempdir");
        let mut cmd = Command::new("openssl");
        cmd.current_dir(dir.path()).args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=Tessera OpenSSL Test CA",
            "-days",
            "30",
        ]);
        run(cmd);
        OpensslCa { dir }
    }

    /// Its directory: `ca.crt` and `ca.key` (PEM), and whatever a test puts beside them.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `openssl req -verify` on a PEM CSR: true when the self-signature verifies.
    pub fn verify_csr(&self, csr_pem: &str) -> bool {
        let path = self.dir.path().join("verify.csr");
        std::fs::write(&path, csr_pem).unwrap();
        Command::new("openssl")
            .args(["req", "-in"])
            .arg(&path)
            .args(["-verify", "-noout"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    /// Issue a certificate (PEM) for a PEM CSR.
    pub fn issue(&self, csr_pem: &str) -> Vec<u8> {
        let csr = self.dir.path().join("req.csr");
        std::fs::write(&csr, csr_pem).unwrap();
        let mut cmd = Command::new("openssl");
        cmd.current_dir(self.dir.path()).args([
            "x509",
            "-req",
            "-in",
            "req.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            "issued.crt",
        ]);
        run(cmd);
        std::fs::read(self.dir.path().join("issued.crt")).unwrap()
    }
}

impl Default for OpensslCa {
    fn default() -> Self {
        Self::new()
    }
}

/// The sample tokens' user PIN and SO PIN (PUK).
pub const USER_PIN: &str = "123456";
pub const SO_PIN: &str = "12345678";
