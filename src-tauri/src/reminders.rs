//! Renewal reminders as desktop notifications: at start and every hour, each notice the
//! flows say is due (60, 30 and 7 days before expiry, and at expiry; the card present or
//! not) is shown once, in the default language, then recorded so it is not shown again.

use std::time::Duration;

use tauri_plugin_notification::NotificationExt;
use tessera_core::live::SharedDevices;
use tessera_core::messages::{Lang, Messages};
use tessera_flows::seen::{self, Reminder};

const EVERY: Duration = Duration::from_secs(3600);

fn text(msg: &Messages, r: &Reminder) -> (String, String) {
    let s = |v: &str| fluent_bundle::FluentValue::from(v.to_owned());
    let role = msg.text(&format!("role-{}", role_name(r.certificate.role)), &[]);
    let date = r.certificate.not_after.get(..10).unwrap_or_default().to_owned();
    let args = [
        ("holder", s(&r.certificate.holder)),
        ("role", s(&role)),
        ("days", fluent_bundle::FluentValue::from(r.days_left)),
        ("date", s(&date)),
        ("token", s(&r.certificate.token)),
    ];
    let body = if r.notice == 0 { "notify-expired-body" } else { "notify-renewal-body" };
    (msg.text("notify-renewal-title", &args), msg.text(body, &args))
}

fn role_name(role: tessera_pki::Role) -> &'static str {
    match role {
        tessera_pki::Role::Signature => "signature",
        tessera_pki::Role::Authentication => "authentication",
        _ => "other",
    }
}

/// Show the notices due now; how many were shown.
fn show_due(app: &tauri::AppHandle, devices: &SharedDevices, msg: &Messages) -> usize {
    let snapshot = crate::seen(devices.snapshot());
    let mut shown = 0;
    for r in seen::due_notifications(Some(&snapshot), time::OffsetDateTime::now_utc()) {
        let (title, body) = text(msg, &r);
        match app.notification().builder().title(title).body(body).show() {
            Ok(()) => {
                shown += 1;
                if let Err(e) = seen::mark_notified(&r) {
                    tracing::warn!(error = %e, "the reminder shown could not be recorded");
                }
            }
            // No notification service (no desktop session): the Devices screen still lists it.
            Err(e) => tracing::info!(error = %e, "desktop notification not shown"),
        }
    }
    shown
}

/// The reminders thread.
pub fn spawn(app: tauri::AppHandle, devices: SharedDevices) -> std::io::Result<()> {
    std::thread::Builder::new().name("reminders".into()).spawn(move || {
        let msg = Messages::new(Lang::pick(None));
        loop {
            let shown = show_due(&app, &devices, &msg);
            tracing::info!(shown, "renewal reminders checked");
            std::thread::sleep(EVERY);
        }
    })?;
    Ok(())
}
