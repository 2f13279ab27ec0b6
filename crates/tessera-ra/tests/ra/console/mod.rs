//! The registration office's console in a real browser: Debian's chromium over WebDriver,
//! headless, against an RA over HTTP on 127.0.0.1. Accounts are made with `tessera-ra
//! operator add` and their one-time codes by `oathtool`, an independent TOTP generator.
//! axe-core checks every page it visits; what the pages look like is kept in
//! target/console/ (and, current, in docs/screenshots/console-*.png).

mod audit;
mod contact_change;
mod home;
mod isolation;
mod lifecycle;
mod operators;
mod pages;
mod postgres;
mod registration;
mod remote;
mod renewals;
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
    sql_in(ra.dir.path(), statement)
}

/// Run SQL on the SQLite database of the RA whose state directory is `dir`.
pub fn sql_in(dir: &Path, statement: &str) {
    let db = format!("sqlite://{}", dir.join("tessera-ra/tessera-ra.sqlite").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::ConnectOptions;
        let mut conn = db.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().connect().await.unwrap();
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    })
}

/// The first column of a query on the RA's SQLite database, as text.
pub fn sql_column(ra: &Ra, query: &str) -> Vec<String> {
    let db = format!("sqlite://{}", ra.path("tessera-ra/tessera-ra.sqlite").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::{ConnectOptions, Row};
        let mut conn = db.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().connect().await.unwrap();
        let rows = sqlx::query(query).fetch_all(&mut conn).await.unwrap();
        rows.iter().map(|r| r.get::<Option<String>, _>(0).unwrap_or_default()).collect()
    })
}

/// The password every test account chooses at its first sign-in.
pub const PASSWORD: &str = "Sole di marzo 2027";

/// A PDF's text (pdftotext, an independent reader).
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext").args(["-layout"]).arg(&path).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext: {}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// A PDF's first page as PNG (pdftoppm) in target/console/NAME.png, to look at.
pub fn pdf_page(pdf: &[u8], name: &str) -> PathBuf {
    let dir = tessera_testbed::root().join("target/console");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-singlefile", "-f", "1"])
        .arg(&path)
        .arg(dir.join(name))
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftoppm: {}", text(&out));
    dir.join(format!("{name}.png"))
}

/// A real PDF from the RA (the form of a new request made here for the purpose).
pub fn registration_form_pdf(b: &Browser) -> Vec<u8> {
    b.go("/console/holders/new");
    b.form(
        "form[action=\"/console/holders\"]",
        &[("surname", "VERDI"), ("given_name", "ANNA"), ("cf", "VRDNNA90E50L219L"), ("profile", "signature")],
    );
    let path = b.path();
    let reference = path.strip_prefix("/console/requests/").expect("registered").split('?').next().unwrap().to_owned();
    b.fetch(&format!("/console/requests/{reference}/form.pdf")).2
}

/// A browser on the RA's console.
pub struct Browser {
    pub s: Session,
    base: String,
    driver: std::rc::Rc<Chromium>,
}

/// axe-core's script (tests/console, npm ci).
fn axe() -> String {
    let path = tessera_testbed::root().join("tests/console/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (testbed/tools.sh)", path.display()))
}

impl Browser {
    pub fn open(ra: &Ra, lang: &str) -> Browser {
        let driver = std::rc::Rc::new(Chromium::start());
        let s = driver.session(lang);
        Browser { s, base: format!("http://{}", ra.server), driver }
    }

    /// Another browser (its own cookies) on the same driver: a second person.
    pub fn another(&self, lang: &str) -> Browser {
        Browser { s: self.driver.session(lang), base: self.base.clone(), driver: self.driver.clone() }
    }

    /// A browser signed in as `a` (first sign-in: the one-time password replaced by
    /// [`PASSWORD`]), on the home page.
    pub fn signed_in(ra: &Ra, a: &Account, lang: &str) -> Browser {
        let b = Browser::open(ra, lang);
        b.first_sign_in(a);
        b
    }

    pub fn first_sign_in(&self, a: &Account) {
        assert_eq!(self.sign_in(a, &a.password, &code(a, 0)), "/console/password");
        self.submit(
            "form[action=\"/console/password\"]",
            &[("old", &a.password), ("new", PASSWORD), ("again", PASSWORD)],
        );
        assert_eq!(self.path(), "/console/");
    }

    /// A new API token from the account page (with the device's next code): shown once.
    pub fn new_token(&self, a: &Account, label: &str) -> String {
        self.go("/console/account");
        self.submit("form[action=\"/console/account/tokens\"]", &[("label", label), ("token_code", &code(a, 1))]);
        self.text("#new-token")
    }

    /// Fill a form as a person would (text typed, radios and boxes clicked, dates set,
    /// files chosen: `@path` values) and submit it.
    pub fn form(&self, form: &str, fields: &[(&str, &str)]) {
        for (name, value) in fields {
            let css = format!("{form} [name=\"{name}\"]");
            let kind = self.s.js(&format!("return document.querySelector({})?.type || '';", serde_json::json!(css)));
            match kind.as_str().unwrap_or_default() {
                "radio" => self.s.click(&format!("{form} [name=\"{name}\"][value=\"{value}\"]")),
                "checkbox" => {
                    let on = self.s.js(&format!("return document.querySelector({}).checked;", serde_json::json!(css)));
                    if (on == true) != (*value == "on") {
                        self.s.click(&css);
                    }
                }
                "date" | "select-one" => {
                    self.s.js(&format!(
                        "const e = document.querySelector({}); e.value = {}; return true;",
                        serde_json::json!(css),
                        serde_json::json!(value)
                    ));
                }
                "file" => {
                    let paths: Vec<PathBuf> = value.split('|').filter(|p| !p.is_empty()).map(PathBuf::from).collect();
                    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
                    self.s.attach(&css, &refs);
                }
                "" => panic!("no field {css} on {}", self.path()),
                _ => self.s.fill(&css, value),
            }
        }
        self.click_and_wait(&format!("{form} button[type=submit]:not([formaction])"));
    }

    /// The session's cookie header and CSRF token, for requests made outside the browser.
    pub fn credentials(&self) -> (String, String) {
        let session = self.s.cookies().into_iter().find(|c| c["name"] == "tessera_console").expect("signed in");
        let cookie = format!("tessera_console={}", session["value"].as_str().unwrap());
        let headers = self.s.js("return document.body.getAttribute('hx-headers');");
        let token: Value = serde_json::from_str(headers.as_str().expect("a console page")).unwrap();
        (cookie, token["X-CSRF-Token"].as_str().unwrap().to_owned())
    }

    /// GET `path` with the browser's session: status, content type, body.
    pub fn fetch(&self, path: &str) -> (u16, String, Vec<u8>) {
        let (cookie, _) = self.credentials();
        let r = match ureq::get(&format!("{}{path}", self.base)).set("Cookie", &cookie).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{path}: {e}"),
        };
        let (status, kind) = (r.status(), r.content_type().to_owned());
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut r.into_reader(), &mut body).unwrap();
        (status, kind, body)
    }

    /// The header `name` of the answer to GET `path` with the browser's session.
    pub fn header(&self, path: &str, name: &str) -> Option<String> {
        let (cookie, _) = self.credentials();
        let r = match ureq::get(&format!("{}{path}", self.base)).set("Cookie", &cookie).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{path}: {e}"),
        };
        r.header(name).map(str::to_owned)
    }

    /// POST a form to `path` with the browser's session and token: the status.
    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> u16 {
        let (cookie, token) = self.credentials();
        let mut form = fields.to_vec();
        form.push(("csrf", &token));
        match ureq::post(&format!("{}{path}", self.base)).set("Cookie", &cookie).send_form(&form) {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("{path}: {e}"),
        }
    }

    /// The same as multipart, as the forms with files are sent.
    pub fn post_multipart(&self, path: &str, fields: &[(&str, &str)]) -> u16 {
        self.post_multipart_bytes(path, fields).0
    }

    /// The same, with the answer's body.
    pub fn post_multipart_bytes(&self, path: &str, fields: &[(&str, &str)]) -> (u16, Vec<u8>) {
        let (cookie, token) = self.credentials();
        let mut form = fields.to_vec();
        form.push(("csrf", &token));
        let boundary = "tessera-test-boundary";
        let mut body = String::new();
        for (name, value) in form {
            body.push_str(&format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let request = ureq::post(&format!("{}{path}", self.base))
            .set("Cookie", &cookie)
            .set("Content-Type", &format!("multipart/form-data; boundary={boundary}"));
        let r = match request.send_string(&body) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{path}: {e}"),
        };
        let status = r.status();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut r.into_reader(), &mut bytes).unwrap();
        (status, bytes)
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
        self.click_and_wait(&format!("{form} button[type=submit]:not([formaction])"));
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
        let height = self.s.js("return document.documentElement.scrollHeight;").as_u64().unwrap_or(1000);
        self.s.resize(1280, (height as u32 + 140).clamp(1000, 4000));
        self.s.capture(&tessera_testbed::root().join(format!("target/console/console-{name}.png")));
    }
}
