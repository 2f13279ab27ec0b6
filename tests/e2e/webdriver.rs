//! The real Tessera window through tauri-driver and WebKitWebDriver, on a private Xvfb
//! display; the WebDriver session itself is tessera-testbed's.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
pub use tessera_testbed::webdriver::Session;

/// A private X display (`Xvfb -displayfd`), stopped on drop.
pub struct Display {
    child: Child,
    pub name: String,
}

impl Display {
    pub fn start() -> Display {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is installed (testbed/install.sh)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("Xvfb display number");
        Display { child, name: format!(":{}", line.trim()) }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tauri-driver on a free port, with the environment the app should see.
pub struct Driver {
    child: Child,
    url: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap().local_addr().unwrap().port()
}

fn tauri_driver() -> String {
    if let Ok(p) = std::env::var("TAURI_DRIVER") {
        return p;
    }
    let home =
        std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap_or_default()));
    let candidate = format!("{home}/bin/tauri-driver");
    if Path::new(&candidate).exists() { candidate } else { "tauri-driver".into() }
}

impl Driver {
    pub fn start(env: &[(String, String)]) -> Driver {
        let (port, native) = (free_port(), free_port());
        use std::os::unix::process::CommandExt;
        // Its own process group: tauri-driver starts WebKitWebDriver, which starts the app;
        // dropping the driver ends all three (tauri-driver alone leaves the others behind).
        let child = Command::new(tauri_driver())
            .process_group(0)
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            // No session bus unless the test brings its own: windows of tests running at
            // once (or the developer's own Tessera) must not take each other for a second
            // start of one app (one instance per session bus).
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/tessera-tests-have-no-bus")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tauri-driver is installed (cargo install tauri-driver --version ^2)");
        let url = format!("http://127.0.0.1:{port}");
        let up =
            tessera_testbed::wait_until(Duration::from_secs(20), || ureq::get(&format!("{url}/status")).call().is_ok());
        assert!(up, "tauri-driver did not start");
        Driver { child, url }
    }

    pub fn session(&self, application: &Path) -> Session {
        self.session_with(application, &[])
    }

    /// A session whose application is started with `args` (a link, as the desktop entry
    /// passes it).
    pub fn session_with(&self, application: &Path, args: &[&str]) -> Session {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": application.display().to_string(), "args": args}
        }}});
        let v: Value = ureq::post(&format!("{}/session", self.url))
            .timeout(Duration::from_secs(60))
            .send_json(caps)
            .expect("new WebDriver session")
            .into_json()
            .unwrap();
        let id = v["value"]["sessionId"].as_str().expect("session id").to_owned();
        Session::at(format!("{}/session/{id}", self.url))
    }
}

/// Whether any process of process group `pgid` is still running.
pub fn group_alive(pgid: u32) -> bool {
    Command::new("kill")
        .args(["-0", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Driver {
    /// The process group of tauri-driver, WebKitWebDriver and the app.
    pub fn pgid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let ended =
            tessera_testbed::wait_until(Duration::from_secs(3), || matches!(self.child.try_wait(), Ok(Some(_))));
        if !ended {
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        }
        let _ = self.child.wait();
        // WebKitWebDriver may outlive its parent by a moment: the group must be empty.
        let _ = tessera_testbed::wait_until(Duration::from_secs(3), || !group_alive(self.child.id()));
    }
}
