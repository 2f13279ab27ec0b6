//! The desktop session around the window, for what the window shows outside itself: a
//! private D-Bus session bus with a real notification server (dunst) on the test display.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::webdriver::Display;

/// dbus-daemon and dunst, stopped on drop.
pub struct Notifications {
    bus: Child,
    server: Child,
    address: String,
    display: String,
}

impl Notifications {
    pub fn start(display: &Display) -> Notifications {
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon is installed (testbed/install.sh)");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap()).read_line(&mut address).expect("the bus address");
        let address = address.trim().to_owned();
        let server = Command::new("dunst")
            .env("DISPLAY", &display.name)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst is installed (testbed/install.sh)");
        let n = Notifications { bus, server, address, display: display.name.clone() };
        assert!(
            tessera_testbed::wait_until(Duration::from_secs(10), || n.ctl(&["count", "displayed"]).is_some()),
            "dunst did not come up on the session bus"
        );
        n
    }

    /// What a program needs to reach the notification server.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone())]
    }

    fn ctl(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("dunstctl")
            .args(args)
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// How many notifications were shown so far (on screen or closed).
    pub fn count(&self) -> usize {
        let n = |what: &str| self.ctl(&["count", what]).and_then(|c| c.trim().parse::<usize>().ok()).unwrap_or(0);
        n("displayed") + n("history")
    }

    /// The display as it is now (the notifications on it), as a PNG.
    pub fn screenshot(&self, path: &std::path::Path) {
        let _ = std::fs::create_dir_all(path.parent().unwrap());
        let out = Command::new("import").args(["-display", &self.display, "-window", "root"]).arg(path).output();
        assert!(out.is_ok_and(|o| o.status.success()), "import (imagemagick) takes the screenshot");
    }

    /// Every notification shown so far: (summary, body), oldest first. They are closed.
    pub fn shown(&self) -> Vec<(String, String)> {
        // Shown ones move to the history when closed.
        let _ = self.ctl(&["close-all"]);
        let history: Value = self.ctl(&["history"]).and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default();
        let field = |n: &Value, k: &str| n[k]["data"].as_str().unwrap_or_default().to_owned();
        let mut all: Vec<(String, String)> = history["data"][0]
            .as_array()
            .map(|a| a.iter().map(|n| (field(n, "summary"), field(n, "body"))).collect())
            .unwrap_or_default();
        all.reverse();
        all
    }
}

impl Drop for Notifications {
    fn drop(&mut self) {
        for child in [&mut self.server, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
