//! The packages as they are installed: `testbed/package.sh --debug` makes them in
//! target/packages, this test checks them (lintian, desktop-file-validate, their
//! dependencies), installs them with apt, runs what was installed (the CLI and the window
//! on the test bed, the RA from its unit's command line as its user), then purges them and
//! checks that nothing is left. It changes the machine and needs root, so it is ignored
//! in a plain `cargo nextest run`; testbed/run-tests.sh runs it last, on its own:
//! `cargo nextest run --workspace --run-ignored only -E 'test(/^installed::/)'`.

use std::path::Path;

use super::*;

/// Where the packages put files or the system keeps records of them (dpkg's lists,
/// systemd's enablement state); nothing there may be named "tessera…" (any case) before
/// the install and after the purge.
const WATCHED: &[&str] = &[
    "/usr/bin",
    "/usr/share/applications",
    "/usr/share/icons/hicolor",
    "/usr/share/doc",
    "/etc/tessera-ra",
    "/etc/systemd/system",
    "/var/lib/tessera-ra",
    "/var/lib/dpkg/info",
    "/var/lib/systemd",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

fn leftovers() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let path = e.path();
            if e.file_name().to_string_lossy().to_lowercase().contains("tessera") {
                found.push(path.clone());
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&path, found);
            }
        }
    }
    let mut found = Vec::new();
    for dir in WATCHED {
        let dir = Path::new(dir);
        if dir.file_name().is_some_and(|n| n.to_string_lossy().contains("tessera")) && dir.exists() {
            found.push(dir.to_owned());
        }
        walk(dir, &mut found);
    }
    for db in ["passwd", "group"] {
        if Command::new("getent").args([db, "tessera-ra"]).output().is_ok_and(|o| o.status.success()) {
            found.push(format!("{db} entry tessera-ra").into());
        }
    }
    found
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (testbed/install.sh installs it)"))
}

fn succeeds(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(out.status.success(), "{program} {args:?}: {}{}", stdout(&out), stderr(&out));
    stdout(&out)
}

/// The packages made by `testbed/package.sh --debug`: the app's .deb and .rpm, the RA's .deb.
fn packages() -> (PathBuf, PathBuf, PathBuf) {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    let dir = target.join("packages");
    let find = |prefix: &str, ext: &str| {
        std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}: run testbed/package.sh --debug first", dir.display()))
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with(prefix) && name.ends_with(ext)
            })
            .unwrap_or_else(|| panic!("no {prefix}*{ext} in {}: run testbed/package.sh --debug", dir.display()))
    };
    (find("tessera_", ".deb"), find("tessera-", ".rpm"), find("tessera-ra_", ".deb"))
}

/// A process killed when the test ends, passed or not (a service user with a process
/// left cannot be deleted by the purge).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Purges the packages when the test ends, passed or not.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = run("apt-get", &["purge", "-y", "-qq", "tessera", "tessera-ra"]);
    }
}

#[test]
#[ignore = "installs packages as root: run by testbed/run-tests.sh after testbed/package.sh --debug"]
fn the_packages_install_run_and_purge_without_a_trace() {
    let (app_deb, app_rpm, ra_deb) = packages();
    let (app_deb, app_rpm, ra_deb) = (app_deb.to_str().unwrap(), app_rpm.to_str().unwrap(), ra_deb.to_str().unwrap());

    // The packages themselves: lintian finds no error (its warnings are in the log and the
    // README), the desktop file is valid and takes the links, the dependencies are right.
    let lint = run("lintian", &["--fail-on", "error", "--tag-display-limit", "0", app_deb, ra_deb]);
    eprintln!("lintian:\n{}", stdout(&lint));
    assert!(lint.status.success(), "lintian reports errors:\n{}{}", stdout(&lint), stderr(&lint));
    let unpacked = tempfile_dir();
    let unpacked_dir = unpacked.path().to_str().unwrap();
    succeeds("dpkg-deb", &["-x", app_deb, unpacked_dir]);
    let desktop = std::fs::read_dir(unpacked.path().join("usr/share/applications"))
        .expect("the app's .deb has a desktop file")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "desktop"))
        .expect("a .desktop file");
    let validated = run("desktop-file-validate", &[desktop.to_str().unwrap()]);
    assert!(validated.status.success() && stdout(&validated).is_empty(), "{}", stdout(&validated));
    let entry = std::fs::read_to_string(&desktop).unwrap();
    assert!(entry.contains("\nExec=tessera-app %u\n"), "{entry}");
    assert!(entry.contains("\nMimeType=x-scheme-handler/tessera;\n"), "{entry}");
    for size in ["16x16", "32x32", "48x48", "64x64", "128x128", "256x256", "512x512"] {
        let icon = unpacked.path().join(format!("usr/share/icons/hicolor/{size}/apps/tessera-app.png"));
        assert!(icon.exists(), "{} missing", icon.display());
    }
    assert!(unpacked.path().join("usr/bin/tessera").exists(), "the CLI is in the app's package");
    let depends = succeeds("dpkg-deb", &["-f", app_deb, "Depends"]);
    assert!(depends.contains("pcscd") && depends.contains("libpcsclite1"), "{depends}");
    let recommends = succeeds("dpkg-deb", &["-f", app_deb, "Recommends"]);
    assert!(recommends.contains("opensc-pkcs11") && recommends.contains("p11-kit"), "{recommends}");
    let rpm_files = succeeds("rpm", &["-qpl", app_rpm]);
    for file in ["/usr/bin/tessera", "/usr/bin/tessera-app", "/usr/share/applications/"] {
        assert!(rpm_files.contains(file), "{file} not in the .rpm:\n{rpm_files}");
    }
    let rpm_requires = succeeds("rpm", &["-qp", "--requires", app_rpm]);
    assert!(rpm_requires.contains("pcsc-lite"), "{rpm_requires}");

    // Nothing of ours on the machine before; installed with apt, as a holder would.
    assert_eq!(leftovers(), Vec::<PathBuf>::new(), "purge earlier installs first: apt-get purge tessera tessera-ra");
    let _installed = Installed;
    succeeds("apt-get", &["install", "-y", "-qq", "--no-install-recommends", app_deb, ra_deb]);

    installed_cli_and_window();
    installed_ra();

    // Purged: not a file, directory, user or group left.
    succeeds("apt-get", &["purge", "-y", "-qq", "tessera", "tessera-ra"]);
    assert_eq!(leftovers(), Vec::<PathBuf>::new(), "left behind after the purge");
}

/// The installed CLI lists the test bed; the installed window shows the Devices screen.
fn installed_cli_and_window() {
    let pcsc = Pcsc::start();
    let hsm = SoftHsm::with_samples();
    let _card = pcsc.insert(0, ATR_CNS_INFOCAMERE);
    let mut env = both(&pcsc.env(), &hsm.env());
    let listed = wait_until(Duration::from_secs(10), || {
        let out = Command::new("/usr/bin/tessera")
            .args(["devices", "--json", "--no-p11-kit", "--module", SOFTHSM_MODULE])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap();
        let text = stdout(&out);
        text.contains("it-cns-stincard") && text.contains("Luca Bianchi Firma")
    });
    assert!(listed, "the installed tessera lists the reader's card and the tokens");

    let display = webdriver::Display::start();
    let profile = tempfile_dir();
    env.extend(display_env(&display, profile.path()));
    let driver = webdriver::Driver::start(&env);
    let s = driver.session(Path::new("/usr/bin/tessera-app"));
    let long = Duration::from_secs(20);
    s.wait_text(r#"body[data-ready] h2[data-l10n="devices-readers"]"#, long, |t| t == "Lettori");
    s.wait_text(r#"[data-reader="Virtual PCD 00 00"] .card-model"#, long, |t| t == "CNS / firma digitale");
    s.wait_text(r#"[data-token-label="Luca Bianchi Firma"]"#, long, |t| !t.is_empty());
    s.screenshot("main", &root().join("target/e2e/installed-devices.png"));
}

/// The installed RA, started from its unit's command line as the unit's user: it makes its
/// state owner-only under /var/lib/tessera-ra and serves the console; its configuration
/// then checks clean. The unit passes `systemd-analyze verify`.
fn installed_ra() {
    let unit_path = ["/lib/systemd/system/tessera-ra.service", "/usr/lib/systemd/system/tessera-ra.service"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("the RA's systemd unit is installed");
    let verified = run("systemd-analyze", &["verify", unit_path]);
    assert!(verified.status.success(), "systemd-analyze verify: {}{}", stdout(&verified), stderr(&verified));
    let unit = std::fs::read_to_string(unit_path).unwrap();
    let value = |key: &str| {
        unit.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key}= in the unit"))
            .to_owned()
    };
    let (user, exec) = (value("User"), value("ExecStart"));
    for key in
        ["NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n"]
    {
        assert!(unit.contains(key), "the unit lacks {key}");
    }
    assert_eq!(succeeds("stat", &["-c", "%a %U %G", "/etc/tessera-ra/ra.toml"]).trim(), format!("640 root {user}"));
    assert_eq!(succeeds("stat", &["-c", "%a %U %G", "/var/lib/tessera-ra"]).trim(), format!("700 {user} {user}"));

    // As systemd would start it: the unit's user and umask, the unit's command line.
    let umask = value("UMask");
    let as_user = ["--reuid", user.as_str(), "--regid", user.as_str(), "--init-groups", "--"];
    let mut ra = Command::new("setpriv")
        .args(as_user)
        .args(["sh", "-c", &format!("umask {umask} && exec \"$@\""), "sh"])
        .args(exec.split_whitespace())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("setpriv (util-linux)");
    let (tx, rx) = mpsc::channel();
    let out = ra.stdout.take().unwrap();
    let ra = KillOnDrop(ra);
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let listening = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
    assert!(listening.contains("listening on http://127.0.0.1:8080"), "the installed RA did not start: {listening}");
    let console = ureq::get("http://127.0.0.1:8080/console/sign-in").call().map(|r| r.into_string().unwrap());
    drop(ra);
    let page = console.expect("the installed RA serves its console");
    assert!(page.contains("<form"), "{page}");
    let state = succeeds("find", &["/var/lib/tessera-ra", "-printf", "%m %u %p\n"]);
    assert!(state.contains("ca.key") && state.contains("tessera-ra.sqlite"), "{state}");
    for line in state.lines() {
        let (mode, rest) = line.split_once(' ').unwrap();
        assert!(rest.starts_with(&format!("{user} ")), "not the service user's: {line}");
        assert!(mode == "600" || mode == "700", "not owner-only: {line}");
    }
    let check = Command::new("setpriv")
        .args(as_user)
        .args(["/usr/bin/tessera-ra", "--check-config", "/etc/tessera-ra/ra.toml"])
        .output()
        .unwrap();
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
}
