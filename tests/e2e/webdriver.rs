//! Just enough W3C WebDriver to drive the real Tessera window through tauri-driver and
//! WebKitWebDriver, plus a private Xvfb display for it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

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
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": application.display().to_string()}
        }}});
        let v: Value = ureq::post(&format!("{}/session", self.url))
            .timeout(Duration::from_secs(60))
            .send_json(caps)
            .expect("new WebDriver session")
            .into_json()
            .unwrap();
        let id = v["value"]["sessionId"].as_str().expect("session id").to_owned();
        Session { base: format!("{}/session/{id}", self.url) }
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

pub struct Session {
    base: String,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    fn post(&self, path: &str, body: Value) -> Value {
        let r = ureq::post(&format!("{}{path}", self.base)).timeout(Duration::from_secs(30)).send_json(body);
        match r {
            Ok(resp) => resp.into_json::<Value>().unwrap()["value"].take(),
            Err(ureq::Error::Status(code, resp)) => panic!("{path}: {code} {}", resp.into_string().unwrap_or_default()),
            Err(e) => panic!("{path}: {e}"),
        }
    }

    /// Run JavaScript in the page and return its value.
    pub fn js(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    /// Text of the first element matching `css`, if any.
    pub fn text(&self, css: &str) -> Option<String> {
        let script = format!("const e = document.querySelector({}); return e ? e.textContent : null;", json!(css));
        self.js(&script).as_str().map(str::to_owned)
    }

    /// Wait until `css` matches an element whose text satisfies `f`.
    pub fn wait_text(&self, css: &str, timeout: Duration, f: impl Fn(&str) -> bool) -> String {
        let mut last = None;
        let ok = tessera_testbed::wait_until(timeout, || {
            last = self.text(css);
            last.as_deref().is_some_and(&f)
        });
        assert!(ok, "{css}: last text {last:?}");
        last.unwrap()
    }

    pub fn wait_gone(&self, css: &str, timeout: Duration) {
        assert!(tessera_testbed::wait_until(timeout, || self.text(css).is_none()), "{css} still there");
    }

    /// Click the first element matching `css`, as a user would.
    pub fn click(&self, css: &str) {
        let found = self.post("/element", json!({"using": "css selector", "value": css}));
        let id = found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}")).to_owned();
        self.post(&format!("/element/{id}/click"), json!({}));
    }

    /// Type `text` into the first element matching `css`, as a user would.
    pub fn type_into(&self, css: &str, text: &str) {
        let found = self.post("/element", json!({"using": "css selector", "value": css}));
        let id = found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}")).to_owned();
        self.post(&format!("/element/{id}/value"), json!({"text": text}));
    }

    /// A screenshot documenting the element `of`: it must be displayed, inside the window,
    /// before anything is captured, and the capture is repeated until two in a row agree.
    /// WebKitWebDriver's first capture of a session can be a frame painted long before
    /// (the Devices screen still loading), and the DOM can be ahead of the last frame.
    pub fn screenshot(&self, of: &str, to: &Path) {
        let found = self.post("/element", json!({"using": "css selector", "value": of}));
        let id = found[ELEMENT].as_str().unwrap_or_else(|| panic!("{}: no element {of}", to.display())).to_owned();
        let displayed: Value =
            ureq::get(&format!("{}/element/{id}/displayed", self.base)).call().unwrap().into_json().unwrap();
        assert_eq!(displayed["value"], true, "{}: {of} is not displayed", to.display());
        let inside = self.js(&format!(
            "const r = document.querySelector({}).getBoundingClientRect(); \
             return r.width > 0 && r.height > 0 && r.top < window.innerHeight && r.bottom > 0;",
            json!(of)
        ));
        assert_eq!(inside, true, "{}: {of} is outside the window", to.display());
        let capture = || -> Vec<u8> {
            let v: Value = ureq::get(&format!("{}/screenshot", self.base)).call().unwrap().into_json().unwrap();
            base64::engine::general_purpose::STANDARD.decode(v["value"].as_str().unwrap()).unwrap()
        };
        // The first capture may be that old frame even when it repeats: it is never kept.
        let _ = capture();
        let mut last = capture();
        let mut stable = false;
        for _ in 0..20 {
            std::thread::sleep(std::time::Duration::from_millis(150));
            let next = capture();
            stable = next == last;
            last = next;
            if stable {
                break;
            }
        }
        assert!(stable, "{}: the window kept changing", to.display());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, last).unwrap();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.base).call();
    }
}
