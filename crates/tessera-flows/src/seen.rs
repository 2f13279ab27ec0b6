//! The certificates this computer has seen on cards (serial, holder, role, expiry, which
//! card; no secret, no key), so that renewal reminders show even with the card absent:
//! notices at 60, 30 and 7 days before expiry, and once expired. Kept in `seen.json` in
//! the data directory, updated from every device snapshot.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tessera_core::devices::Snapshot;
use tessera_pki::Role;

use crate::{Error, Result};

/// The days before expiry at which a notice is due.
pub const NOTICE_DAYS: [i64; 3] = [60, 30, 7];

/// One certificate as seen on a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Seen {
    /// Upper-case hex with colons, as the certificate summary writes it.
    pub serial: String,
    pub holder: String,
    pub role: Role,
    /// RFC 3339 UTC (not_before empty in what older versions recorded).
    #[serde(default)]
    pub not_before: String,
    pub not_after: String,
    /// The card: token label and serial.
    pub token: String,
    pub token_serial: String,
    /// When it was last seen (RFC 3339 UTC).
    pub last_seen: String,
    /// The notices already shown as desktop notifications (60, 30, 7; 0 for expiry).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notified: Vec<i64>,
}

/// A certificate whose renewal is due or close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Reminder {
    #[serde(flatten)]
    pub certificate: Seen,
    /// Whole days until expiry (negative once expired).
    pub days_left: i64,
    /// The notice due: 60, 30 or 7 (days), or 0 once expired.
    pub notice: i64,
    /// Whether its card is present now.
    pub present: bool,
}

fn path() -> PathBuf {
    crate::settings::data_dir().join("seen.json")
}

fn now_rfc3339(now: time::OffsetDateTime) -> String {
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// What this computer has seen, by serial.
pub fn load() -> BTreeMap<String, Seen> {
    std::fs::read(path()).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

/// Add the authentication and signature certificates of `snapshot` (replacing older sights
/// of the same serial) and save, atomically.
pub fn remember(snapshot: &Snapshot, now: time::OffsetDateTime) -> Result<()> {
    let mut seen = load();
    let mut changed = false;
    for token in &snapshot.tokens {
        for c in &token.certificates {
            let s = &c.summary;
            if !matches!(s.role, Role::Authentication | Role::Signature) {
                continue;
            }
            let entry = Seen {
                serial: s.serial.clone(),
                holder: s.common_name.clone(),
                role: s.role,
                not_before: s.not_before.clone(),
                not_after: s.not_after.clone(),
                token: token.label.clone(),
                token_serial: token.serial.clone(),
                last_seen: now_rfc3339(now),
                notified: seen.get(&s.serial).map(|old| old.notified.clone()).unwrap_or_default(),
            };
            changed |= seen.get(&s.serial).is_none_or(|old| {
                old.token != entry.token || old.not_before != entry.not_before || old.not_after != entry.not_after
            });
            seen.insert(s.serial.clone(), entry);
        }
    }
    if !changed {
        return Ok(());
    }
    save(&seen)
}

/// Write `seen.json` atomically.
fn save(seen: &BTreeMap<String, Seen>) -> Result<()> {
    let path = path();
    let storage = |e: std::io::Error| Error::Storage { path: path.display().to_string(), reason: e.to_string() };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(storage)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(seen).unwrap_or_default()).map_err(storage)?;
    std::fs::rename(&tmp, &path).map_err(storage)
}

/// The notice due for a certificate with `days_left`: the nearest threshold passed, 0 once
/// expired, None before 60 days.
pub fn notice(days_left: i64) -> Option<i64> {
    if days_left < 0 {
        return Some(0);
    }
    NOTICE_DAYS.iter().rev().find(|&&d| days_left <= d).copied()
}

/// Reminders at `now`: every certificate seen whose notice is due, whether or not its card
/// is present in `snapshot`; a certificate renewed since is left out (the journal's
/// lineage says so, or, when it does not know, a successor of the same holder and role was
/// seen that renewed no other certificate), and so is an expired one that a later
/// certificate of the same holder and role replaces.
pub fn reminders(snapshot: Option<&Snapshot>, now: time::OffsetDateTime) -> Vec<Reminder> {
    let seen = load();
    let lineage = crate::renewal::lineage::Lineage::from_journals();
    let present: Vec<&str> = snapshot
        .map(|s| s.tokens.iter().flat_map(|t| t.certificates.iter().map(|c| c.summary.serial.as_str())).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for s in seen.values() {
        let Ok(end) = time::OffsetDateTime::parse(&s.not_after, &time::format_description::well_known::Rfc3339) else {
            continue;
        };
        // An expired certificate can no longer be renewed: a later one of the same holder
        // and role takes its place whatever its lineage.
        let expired = end < now;
        let renewed = lineage.renewed(&s.serial)
            || seen.values().any(|o| {
                o.serial != s.serial
                    && o.holder == s.holder
                    && o.role == s.role
                    && lineage.may_succeed(&s.serial, &o.serial)
                    && (crate::renewal::lineage::follows(&s.not_before, &s.not_after, &o.not_before, &o.not_after)
                        || (expired && o.not_after > s.not_after))
            });
        if renewed {
            continue;
        }
        // Counted as the certificate summary counts them (a part day is a day left).
        let seconds = (end - now).whole_seconds();
        let days_left = if seconds >= 0 { (seconds + 86_399) / 86_400 } else { -(-seconds / 86_400) };
        if let Some(notice) = notice(days_left) {
            out.push(Reminder {
                certificate: s.clone(),
                days_left,
                notice,
                present: present.contains(&s.serial.as_str()),
            });
        }
    }
    out.sort_by_key(|r| r.days_left);
    out
}

/// The reminders not yet shown as a desktop notification: each notice (60, 30, 7 days,
/// expiry) once per certificate, card present or not.
pub fn due_notifications(snapshot: Option<&Snapshot>, now: time::OffsetDateTime) -> Vec<Reminder> {
    reminders(snapshot, now).into_iter().filter(|r| !r.certificate.notified.contains(&r.notice)).collect()
}

/// Record that `reminder`'s notice was shown, so that it is not shown again.
pub fn mark_notified(reminder: &Reminder) -> Result<()> {
    let mut seen = load();
    let Some(entry) = seen.get_mut(&reminder.certificate.serial) else { return Ok(()) };
    if entry.notified.contains(&reminder.notice) {
        return Ok(());
    }
    entry.notified.push(reminder.notice);
    save(&seen)
}

#[cfg(test)]
mod tests {
    #[test]
    fn notices_fall_at_60_30_7_days_and_at_expiry() {
        let got: Vec<_> = [90, 61, 60, 45, 30, 8, 7, 1, 0, -1].map(super::notice).to_vec();
        assert_eq!(got, [None, None, Some(60), Some(60), Some(30), Some(30), Some(7), Some(7), Some(7), Some(0)]);
    }
}
