//! The registration office's console in a real browser: Debian's chromium over WebDriver,
//! headless, against an RA over HTTP on 127.0.0.1. Accounts are made with `tessera-ra
//! operator add` and their one-time codes by `oathtool`, an independent TOTP generator.
//! axe-core checks every page it visits; what the pages look like is kept in
//! target/console/ (and, current, in docs/screenshots/console-*.png).

mod sign_in;

use super::*;
use serde_json::Value;
use tessera_testbed::webdriver::{Chromium, Session};

/// An operator account as `tessera-ra operator add --json` handed it out.
pub struct Account {
    pub name: String,
    pub password: String,
    pub secret: String,
}

/// Make an account with the RA's own command.
pub fn account(ra: &Ra, name: &str, office: &str, role: &str, email: Option<&str>) -> Account {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera-ra"));
    cmd.args(["operator", "add", "--config"]).arg(ra.path("ra.toml"));
    cmd.args(["--name", name, "--office", office, "--role", role, "--json"]);
    if let Some(e) = email {
        cmd.args(["--email", e]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let uri = v["otpauth"].as_str().unwrap();
    let secret = uri.split("secret=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    Account { name: name.into(), password: v["password"].as_str().unwrap().into(), secret }
}

/// The code the account's device shows `steps` 30-second steps from now (oathtool).
pub fn code(account: &Account, steps: i64) -> String {
    let at = time::OffsetDateTime::now_utc().unix_timestamp() + steps * 30;
    let out =
        Command::new("oathtool").args(["--totp", "-b", &account.secret, "-N", &format!("@{at}")]).output().unwrap();
    assert!(out.status.success(), "oathtool: {}", text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Run SQL on the RA's SQLite database (a clock moved back, a row altered).
pub fn sql(ra: &Ra, statement: &str) {
    let db = format!("sqlite://{}", ra.path("tessera-ra/tessera-ra.sqlite").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::ConnectOptions;
        let mut conn = db.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().connect().await.unwrap();
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    })
}

/// A browser on the RA's console.
pub struct Browser {
    pub s: Session,
    base: String,
    _driver: Chromium,
}

/// axe-core's script (tests/console, npm ci).
fn axe() -> String {
    let path = tessera_testbed::root().join("tests/console/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (testbed/tools.sh)", path.display()))
}

impl Browser {
    pub fn open(ra: &Ra, lang: &str) -> Browser {
        let driver = Chromium::start();
        let s = driver.session(lang);
        Browser { s, base: format!("http://{}", ra.server), _driver: driver }
    }

    pub fn go(&self, path: &str) {
        self.s.goto(&format!("{}{path}", self.base));
    }

    pub fn path(&self) -> String {
        let url = self.s.current_url();
        url.strip_prefix(&self.base).unwrap_or(&url).to_owned()
    }

    pub fn text(&self, css: &str) -> String {
        self.s.text(css).unwrap_or_else(|| panic!("{css} not on {}", self.path()))
    }

    /// Fill the fields, press the form's submit button, and wait for the page it leads to.
    pub fn submit(&self, form: &str, fields: &[(&str, &str)]) {
        for (name, value) in fields {
            self.s.fill(&format!("{form} [name=\"{name}\"]"), value);
        }
        self.click_and_wait(&format!("{form} button[type=submit]"));
    }

    /// Click, then wait until another document has loaded.
    pub fn click_and_wait(&self, css: &str) {
        self.s.js("window.__before_click = true; return true;");
        self.s.click(css);
        let loaded = tessera_testbed::wait_until(std::time::Duration::from_secs(20), || {
            self.s.js("return window.__before_click === undefined && document.readyState === 'complete';") == true
        });
        assert!(loaded, "{css}: no new page loaded");
    }

    /// Sign in; the page it leads to.
    pub fn sign_in(&self, a: &Account, password: &str, code: &str) -> String {
        self.go("/console/sign-in");
        self.submit("form[action=\"/console/sign-in\"]", &[("name", &a.name), ("password", password), ("code", code)]);
        self.path()
    }

    /// The page's accessibility (WCAG 2.1 A and AA rules of axe-core): no violation, and
    /// no Content-Security-Policy complaint in the browser's console.
    pub fn check_page(&self) {
        self.s.js(&format!("{};return true;", axe()));
        let found = self.s.js_async(
            "const done = arguments[arguments.length - 1];\
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}, \
             resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, \
             nodes: v.nodes.map(n => n.target.join(' '))})))).catch(e => done({error: String(e)}));",
        );
        assert_eq!(found, Value::Array(vec![]), "axe-core on {}: {found}", self.path());
        let csp: Vec<String> =
            self.s.browser_log().into_iter().filter(|m| m.contains("Content Security Policy")).collect();
        assert!(csp.is_empty(), "{}: {csp:?}", self.path());
    }

    /// A screenshot of the page as it is, for docs/screenshots (target/console/NAME.png).
    pub fn shot(&self, name: &str) {
        self.s.capture(&tessera_testbed::root().join(format!("target/console/console-{name}.png")));
    }
}
