//! `tessera://` links into the window, as a holder's desktop delivers them: the app
//! started with one, and a running app given more through the desktop entry registered
//! for the scheme (`xdg-open`, a second start that hands the link over on the session bus
//! and exits).

use std::path::Path;

use super::*;

/// The desktop entry as the package installs it, pointing at this build, registered as the
/// scheme's handler in a private XDG configuration.
fn register_scheme(env: &[(String, String)], data_home: &Path) {
    let applications = data_home.join("applications");
    std::fs::create_dir_all(&applications).unwrap();
    let entry = std::fs::read_to_string(root().join("packaging/tessera/tessera.desktop.hbs"))
        .unwrap()
        .replace("{{name}}", "Tessera")
        .replace("{{exec}}", &bin("tessera-app").display().to_string())
        .replace("{{icon}}", "tessera-app")
        .replace("{{categories}}", "Utility;");
    std::fs::write(applications.join("tessera-test.desktop"), entry).unwrap();
    let out = Command::new("xdg-mime")
        .args(["default", "tessera-test.desktop", "x-scheme-handler/tessera"])
        .envs(env.iter().cloned())
        .output()
        .expect("xdg-mime (xdg-utils, testbed/install.sh)");
    assert!(out.status.success(), "{}", stderr(&out));
}

/// What a desktop session would add that makes xdg-open hand the link to a desktop's own
/// opener instead of the registered entry.
const DESKTOP_VARS: &[&str] =
    &["XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "KDE_FULL_SESSION", "GNOME_DESKTOP_SESSION_ID", "BROWSER"];

/// `xdg-open LINK` as a click in an e-mail does it. xdg-open runs the entry's command and
/// waits for it: its return within the time proves the second start handed the link over
/// and ended.
fn click(env: &[(String, String)], link: &str) {
    let mut command = Command::new("timeout");
    command.args(["30", "xdg-open", link]).envs(env.iter().cloned());
    for var in DESKTOP_VARS {
        command.env_remove(var);
    }
    let out = command.output().expect("xdg-open (xdg-utils) and timeout");
    assert!(out.status.success(), "xdg-open {link}: {:?} {}", out.status, stderr(&out));
}

#[test]
fn links_open_the_activation_and_the_renewal_and_anything_else_is_refused() {
    let display = webdriver::Display::start();
    let session_bus = desktop::Notifications::start(&display);
    let pcsc = Pcsc::start();
    let hsm = SoftHsm::with_samples();
    let profile = tempfile_dir();
    let mut env = both(&pcsc.env(), &hsm.env());
    env.extend(session_bus.env());
    env.extend(display_env(&display, profile.path()));
    register_scheme(&env, &profile.path().join("XDG_DATA_HOME"));
    // The renewable certificate's serial, as the RA's notice would give it.
    let listing: Value = serde_json::from_str(&stdout(&tessera(
        &env,
        &["devices", "--json", "--no-p11-kit", "--module", SOFTHSM_MODULE],
    )))
    .unwrap();
    let bianchi = listing["tokens"].as_array().unwrap().iter().find(|t| t["label"] == "Luca Bianchi Firma").unwrap();
    let cert = bianchi["certificates"].as_array().unwrap().iter().find(|c| c["id"] == "11").unwrap();
    let serial = cert["serial"].as_str().unwrap().replace(':', "").to_lowercase();

    // Started by a link: the activation opens for that request, at home.
    let driver = webdriver::Driver::start(&env);
    let s = driver.session_with(&bin("tessera-app"), &["tessera://activate?reference=REQ-LINK-0001"]);
    let long = Duration::from_secs(20);
    let said = s.wait_text(r#"#wizard [data-link-reference="REQ-LINK-0001"]"#, long, |t| !t.is_empty());
    assert!(said.contains("Pratica REQ-LINK-0001"), "{said}");
    assert_eq!(s.js(r#"return document.querySelector('#wizard input[name="mode"]:checked').value"#), "holder");
    s.screenshot("#wizard", &root().join("target/e2e/link-activate.png"));
    s.click(r#"#wizard button[data-action="wizard-cancel"]"#);
    s.wait_text(r#"body[data-ready] h2[data-l10n="devices-readers"]"#, long, |t| t == "Lettori");

    // Clicked while it runs: the running window gets each link; the second start exits.
    click(&env, "tessera://activate?reference=%3Cscript%3Ealert(1)%3C/script%3E");
    let refused = s.wait_text(r#"#link-message [data-code="link-refused"]"#, long, |t| !t.is_empty());
    assert!(refused.contains("non è un link di Tessera valido"), "{refused}");
    assert!(!refused.contains("script") && !refused.contains("alert"), "nothing of the link is shown: {refused}");
    click(&env, "tessera://activate?reference=REQ-LINK-0001&code=ABCD-EFGH-JKLM");
    let code = s.wait_text(r#"#link-message [data-code="link-carries-code"]"#, long, |t| !t.is_empty());
    assert!(code.contains("non accetta codici dai link"), "{code}");
    s.screenshot("#link-message", &root().join("target/e2e/link-refused.png"));
    click(&env, "tessera://counter?reference=REQ-LINK-0002");
    s.wait_text(r#"#wizard [data-link-reference="REQ-LINK-0002"]"#, long, |t| !t.is_empty());
    assert_eq!(s.js(r#"return document.querySelector('#wizard input[name="mode"]:checked').value"#), "operator");
    s.click(r#"#wizard button[data-action="wizard-cancel"]"#);
    s.wait_text(r#"body[data-ready] h2[data-l10n="devices-readers"]"#, long, |t| t == "Lettori");
    // The renewal notice's link: that certificate's renewal opens.
    click(&env, &format!("tessera://renew?serial={serial}"));
    s.wait_text(r#"#wizard h2[data-l10n="renewal-title"]"#, long, |t| !t.is_empty());
    assert_eq!(s.js("return document.getElementById('wizard').hidden"), false);
    // A link that comes while the renewal is open waits for it to close (the second start
    // still hands it over and ends at once).
    let second = Command::new("timeout")
        .args(["30"])
        .arg(bin("tessera-app"))
        .arg("tessera://activate?reference=REQ-LINK-0003")
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(second.status.success(), "the second start ends by itself: {:?} {}", second.status, stderr(&second));
    std::thread::sleep(Duration::from_secs(1));
    assert!(s.text(r#"#wizard [data-link-reference="REQ-LINK-0003"]"#).is_none(), "not in the middle of the renewal");
}
