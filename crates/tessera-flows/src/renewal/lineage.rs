//! Which certificate renewed which, as this computer's renewal journals know it. A card may
//! hold several certificates of one holder and role (two requests, valid over the same
//! period): a newer one is the successor of another only when the lineage says so, or,
//! when nothing knows, when it is newer.

use std::collections::BTreeMap;

use crate::journal::Journal;

/// Renewal journals are named `renew-<serial>` after the certificate they renew.
const PREFIX: &str = "renew-";

/// A serial as both sides of the lineage compare it: upper-case hex without colons.
fn normal(serial: &str) -> String {
    serial.chars().filter(char::is_ascii_hexdigit).collect::<String>().to_ascii_uppercase()
}

/// The renewals this computer completed or began: renewed serial -> its successor's
/// serial (when the CA's answer already came), and whether that renewal completed.
#[derive(Debug, Default)]
pub struct Lineage {
    successor: BTreeMap<String, (Option<String>, bool)>,
}

impl Lineage {
    /// From the renewal journals in the data directory.
    pub fn from_journals() -> Lineage {
        let now = time::OffsetDateTime::now_utc();
        let mut successor = BTreeMap::new();
        for record in Journal::all() {
            let Some(old) = record.reference.strip_prefix(PREFIX) else { continue };
            let new = record
                .certificates
                .values()
                .filter_map(|c| c.certificate.as_deref())
                .find_map(|der| tessera_pki::CertificateSummary::parse(&hex::decode(der).unwrap_or_default(), now).ok())
                .map(|s| normal(&s.serial));
            successor.insert(normal(old), (new, record.completed));
        }
        Lineage { successor }
    }

    /// Whether a journal here holds the completed renewal of `serial`.
    pub fn renewed(&self, serial: &str) -> bool {
        self.successor.get(&normal(serial)).is_some_and(|(_, completed)| *completed)
    }

    /// The certificate `serial` renewed, when a journal here says so.
    pub fn predecessor(&self, serial: &str) -> Option<&str> {
        let serial = normal(serial);
        self.successor.iter().find(|(_, (new, _))| new.as_deref() == Some(serial.as_str())).map(|(old, _)| old.as_str())
    }

    /// Whether `newer` may be the successor of `old`: not when the journal names another
    /// certificate as the one `newer` renewed.
    pub fn may_succeed(&self, old: &str, newer: &str) -> bool {
        self.predecessor(newer).is_none_or(|p| p == normal(old))
    }
}

/// When nothing records the lineage: whether a certificate valid from `new_from` until
/// `new_until` may be the successor of one valid from `old_from` until `old_until`. It ends
/// later, and it either continues exactly where the old one ends (as this RA renews) or
/// began inside the old one's renewal window (renewal opens 60 days before the end) and
/// at least a day after the old one began, so that two certificates issued together,
/// however short their validity, are not taken for each other's successor. An unknown
/// start (empty: what older records kept) leaves only the conditions that can be checked.
pub fn follows(old_from: &str, old_until: &str, new_from: &str, new_until: &str) -> bool {
    let parse = |t: &str| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok();
    let (Some(old_until), Some(new_until)) = (parse(old_until), parse(new_until)) else { return false };
    if new_until <= old_until {
        return false;
    }
    let Some(new_from) = parse(new_from) else { return true };
    let window = time::Duration::days(tessera_pki::RENEWAL_WINDOW_DAYS);
    new_from == old_until
        || (new_from >= old_until - window
            && parse(old_from).is_none_or(|old_from| new_from >= old_from + time::Duration::days(1)))
}

/// Mark, on every card of `snapshot`, which certificate renewed which: from the journals,
/// and where they know nothing of a certificate, from validity (a newer certificate of the
/// same holder and role that renewed no other).
pub fn annotate(snapshot: &mut tessera_core::devices::Snapshot) {
    let lineage = Lineage::from_journals();
    for token in &mut snapshot.tokens {
        let certificates = token.certificates.clone();
        let same = |a: &tessera_core::token::CertificateView, b: &tessera_core::token::CertificateView| {
            a.summary.serial != b.summary.serial
                && a.summary.role == b.summary.role
                && a.summary.common_name == b.summary.common_name
        };
        for c in &mut token.certificates {
            c.renewed = lineage.renewed(&c.summary.serial)
                || certificates.iter().any(|o| {
                    same(c, o)
                        && follows(
                            &c.summary.not_before,
                            &c.summary.not_after,
                            &o.summary.not_before,
                            &o.summary.not_after,
                        )
                        && lineage.may_succeed(&c.summary.serial, &o.summary.serial)
                });
            c.renews = lineage.predecessor(&c.summary.serial).is_some()
                || certificates.iter().any(|o| {
                    same(c, o)
                        && follows(
                            &o.summary.not_before,
                            &o.summary.not_after,
                            &c.summary.not_before,
                            &c.summary.not_after,
                        )
                        && lineage.may_succeed(&o.summary.serial, &c.summary.serial)
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successor_named_by_the_journal_belongs_to_its_own_predecessor_only() {
        let mut lineage = Lineage::default();
        lineage.successor.insert("0A".into(), (Some("0C".into()), true));
        assert!(lineage.renewed("0a") && !lineage.renewed("0B"));
        assert_eq!(lineage.predecessor("0c"), Some("0A"));
        assert!(lineage.may_succeed("0A", "0C"));
        assert!(!lineage.may_succeed("0B", "0C"), "0C renewed 0A, not 0B");
        assert!(lineage.may_succeed("0B", "0D"), "nothing known of 0D");
        assert_eq!(normal("0a:1B:2c"), "0A1B2C");
    }

    #[test]
    fn without_a_record_a_successor_ends_later_and_began_in_the_renewal_window() {
        let (start, end) = ("2024-06-01T00:00:00Z", "2027-06-01T00:00:00Z");
        assert!(follows(start, end, "2027-06-01T00:00:00Z", "2030-06-01T00:00:00Z"), "continues where it ends");
        assert!(follows(start, end, "2027-04-15T00:00:00Z", "2030-04-15T00:00:00Z"), "issued in the window");
        assert!(!follows(start, end, "2024-06-01T00:00:10Z", "2027-06-01T00:00:10Z"), "issued together");
        assert!(!follows(start, end, "2027-06-01T00:00:00Z", "2027-05-01T00:00:00Z"), "ends earlier");
        // Thirty-day certificates issued a minute apart: both inside each other's window.
        let short = ("2026-12-01T10:00:00Z", "2026-12-31T10:00:00Z");
        assert!(!follows(short.0, short.1, "2026-12-01T10:01:00Z", "2026-12-31T10:01:00Z"), "twins, short validity");
        assert!(follows(start, end, "", "2030-06-01T00:00:00Z"), "start unknown");
        assert!(follows("", end, "2027-04-15T00:00:00Z", "2030-04-15T00:00:00Z"), "old start unknown");
    }
}
