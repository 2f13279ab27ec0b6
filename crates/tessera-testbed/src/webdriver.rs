//! Just enough W3C WebDriver to drive a real browser or window: a session's pages,
//! elements, script, screenshots and cookies. The desktop window is driven through
//! tauri-driver (tests/e2e), the console through Debian's chromium and chromedriver
//! ([`Chromium`]), headless.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

pub struct Session {
    base: String,
}

impl Session {
    /// The session at `base` (`http://…/session/<id>`).
    pub fn at(base: String) -> Session {
        Session { base }
    }
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    pub fn post(&self, path: &str, body: Value) -> Value {
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
        let ok = crate::wait_until(timeout, || {
            last = self.text(css);
            last.as_deref().is_some_and(&f)
        });
        assert!(ok, "{css}: last text {last:?}");
        last.unwrap()
    }

    pub fn wait_gone(&self, css: &str, timeout: Duration) {
        assert!(crate::wait_until(timeout, || self.text(css).is_none()), "{css} still there");
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

/// chromedriver on a free port (Debian's chromium-driver), stopped on drop, with headless
/// chromium sessions whose pages ask for `lang` (it, en).
pub struct Chromium {
    child: Child,
    url: String,
}

impl Chromium {
    pub fn start() -> Chromium {
        let port = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (testbed/install.sh: chromium-driver)");
        let url = format!("http://127.0.0.1:{port}");
        let up = crate::wait_until(Duration::from_secs(20), || {
            ureq::get(&format!("{url}/status"))
                .call()
                .is_ok_and(|r| r.into_json::<Value>().is_ok_and(|v| v["value"]["ready"] == true))
        });
        assert!(up, "chromedriver did not start");
        Chromium { child, url }
    }

    /// A new headless browser (its own profile: no cookies from another session).
    pub fn session(&self, lang: &str) -> Session {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1280,1000", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--disable-quic", "--hide-scrollbars"],
                "prefs": {"intl.accept_languages": lang}
            },
            "goog:loggingPrefs": {"browser": "ALL"}
        }}});
        let v: Value = ureq::post(&format!("{}/session", self.url))
            .timeout(Duration::from_secs(60))
            .send_json(caps)
            .expect("new chromium session")
            .into_json()
            .unwrap();
        let id = v["value"]["sessionId"].as_str().expect("session id").to_owned();
        Session { base: format!("{}/session/{id}", self.url) }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    fn get(&self, path: &str) -> Value {
        let r = ureq::get(&format!("{}{path}", self.base)).timeout(Duration::from_secs(30)).call();
        match r {
            Ok(resp) => resp.into_json::<Value>().unwrap()["value"].take(),
            Err(ureq::Error::Status(code, resp)) => panic!("{path}: {code} {}", resp.into_string().unwrap_or_default()),
            Err(e) => panic!("{path}: {e}"),
        }
    }

    /// Open `url` and wait for the page to load.
    pub fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    pub fn current_url(&self) -> String {
        self.get("/url").as_str().unwrap_or_default().to_owned()
    }

    /// The page's HTML as the browser has it now.
    pub fn source(&self) -> String {
        self.get("/source").as_str().unwrap_or_default().to_owned()
    }

    /// Whether an element matches `css`.
    pub fn exists(&self, css: &str) -> bool {
        self.js(&format!("return document.querySelector({}) !== null;", json!(css))) == true
    }

    /// Clear the field `css` and type `text` into it.
    pub fn fill(&self, css: &str, text: &str) {
        let found = self.post("/element", json!({"using": "css selector", "value": css}));
        let id = found[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("no element {css}")).to_owned();
        self.post(&format!("/element/{id}/clear"), json!({}));
        self.post(&format!("/element/{id}/value"), json!({ "text": text }));
    }

    /// Choose files in the file input `css` (each a path on this machine).
    pub fn attach(&self, css: &str, files: &[&Path]) {
        let found = self.post("/element", json!({"using": "css selector", "value": css}));
        let id = found[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("no element {css}")).to_owned();
        let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        self.post(&format!("/element/{id}/value"), json!({ "text": paths.join("\n") }));
    }

    /// Resize the window (a whole page in one screenshot).
    pub fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}));
    }

    /// Asynchronous JavaScript: the script calls `arguments[arguments.length - 1]` with
    /// its result.
    pub fn js_async(&self, script: &str) -> Value {
        let r = ureq::post(&format!("{}/execute/async", self.base))
            .timeout(Duration::from_secs(120))
            .send_json(json!({"script": script, "args": []}));
        match r {
            Ok(resp) => resp.into_json::<Value>().unwrap()["value"].take(),
            Err(ureq::Error::Status(code, resp)) => {
                panic!("execute/async: {code} {}", resp.into_string().unwrap_or_default())
            }
            Err(e) => panic!("execute/async: {e}"),
        }
    }

    /// The session's cookies (name, value, attributes) as the browser keeps them.
    pub fn cookies(&self) -> Vec<Value> {
        self.get("/cookie").as_array().cloned().unwrap_or_default()
    }

    /// Remove every cookie (a browser closed and opened again keeps none of the session's).
    pub fn delete_cookies(&self) {
        let _ = ureq::delete(&format!("{}/cookie", self.base)).call();
    }

    /// The browser console's messages since the last call (chromedriver's log): CSP
    /// violations among them.
    pub fn browser_log(&self) -> Vec<String> {
        let v = self.post("/se/log", json!({"type": "browser"}));
        v.as_array()
            .map(|a| a.iter().map(|e| e["message"].as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_default()
    }

    /// A screenshot of the whole viewport, as it is now (chromium paints before answering).
    pub fn capture(&self, to: &Path) {
        let v = self.get("/screenshot");
        let png = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, png).unwrap();
    }
}
