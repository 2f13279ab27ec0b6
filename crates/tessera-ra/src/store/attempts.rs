//! Tries at a request's secrets, counted so that five means five under any concurrency:
//! a try is taken by a conditional update *before* the secret is checked, and given back
//! when it was right. Wrong CMP MACs, which anyone who knows a reference can send, do not
//! lock the request: after every five the request's MAC checks wait, a minute at first
//! (`[cmp] wrong_code_wait_seconds`), twice as long each time, up to an hour.

use sqlx::Row;

use super::{Result, Store, audit, now};
use crate::registry::MAX_FAILURES;

/// Whether a MAC may be checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacCheck {
    Allowed,
    /// Not for these many seconds, after wrong ones.
    Wait(i64),
    /// Other checks of this reference stayed in flight for ten seconds: try again.
    Busy,
}

/// The wait after `failures` wrong MACs: none until five, then `base` seconds doubling per
/// five more, at most an hour.
pub(crate) fn mac_wait(failures: i64, base: i64) -> i64 {
    if failures < 5 || failures % 5 != 0 {
        return 0;
    }
    let rounds = (failures / 5 - 1).min(12) as u32;
    (base.max(1) << rounds).min(3600)
}

impl Store {
    /// Take one of the request's tries before checking its secret (tax code, OTP): the
    /// tries left should it be wrong, or None when none is left (locked).
    pub async fn take_try(&self, reference: &str) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let taken = sqlx::query("UPDATE requests SET failures = failures + 1 WHERE reference = $1 AND failures < $2")
            .bind(reference)
            .bind(MAX_FAILURES)
            .execute(&mut *tx)
            .await?;
        if taken.rows_affected() != 1 {
            return Ok(None);
        }
        let n: i64 = sqlx::query("SELECT failures FROM requests WHERE reference = $1")
            .bind(reference)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        tx.commit().await?;
        Ok(Some(MAX_FAILURES - n))
    }

    /// The secret was right: the try taken for it is given back.
    pub async fn give_back_try(&self, reference: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE requests SET failures = failures - 1 WHERE reference = $1 AND failures > 0")
            .bind(reference)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// The secret was wrong: the try stays taken, and the audit log says which.
    pub async fn wrong_secret(&self, reference: &str, what: &str, left: i64) -> Result<()> {
        let mut tx = self.write().await?;
        audit(&mut tx, "holder", what, reference, &format!("tries left {left}")).await?;
        tx.commit().await
    }

    /// Reserve one MAC check of `reference`'s CMP messages before it is made, or the
    /// seconds to wait after wrong ones. At most five wrong checks are made per round: a
    /// check waits while the checks in flight could fill the round (polling without the
    /// lock, backing off), and is refused only while the round's wait lasts, or after ten
    /// seconds of checks in flight ([`MacCheck::Busy`]). Its outcome goes to
    /// [`Store::mac_right`] or [`Store::mac_wrong`]; a reservation whose outcome never
    /// came (its process died) counts as wrong after a minute.
    pub async fn take_mac_check(&self, reference: &str, base_wait: i64) -> Result<MacCheck> {
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut pause = std::time::Duration::from_millis(5);
        loop {
            // A look without the lock first: waiting checks do not queue on the writer.
            let Some(seen) = self.mac_peek(reference).await? else { return Ok(MacCheck::Allowed) };
            let t = now();
            if seen.retry_at > t {
                return Ok(MacCheck::Wait(seen.retry_at - t));
            }
            if seen.stale || seen.pending < ROUND - seen.failures % ROUND {
                let mut tx = self.write().await?;
                let Some(m) = self.mac_counters(&mut tx, reference, base_wait).await? else {
                    return Ok(MacCheck::Allowed);
                };
                if m.retry_at > t {
                    tx.commit().await?;
                    return Ok(MacCheck::Wait(m.retry_at - t));
                }
                if m.pending < ROUND - m.failures % ROUND {
                    sqlx::query("UPDATE requests SET mac_pending = $1, mac_pending_at = $2 WHERE reference = $3")
                        .bind(m.pending + 1)
                        .bind(t)
                        .bind(reference)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Ok(MacCheck::Allowed);
                }
                tx.commit().await?;
            }
            // Checks in flight could fill the round: wait for their outcome rather than
            // refuse what may be a right code.
            if std::time::Instant::now() > give_up {
                return Ok(MacCheck::Busy);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(200));
        }
    }

    /// The counters as they stand, read without a lock.
    async fn mac_peek(&self, reference: &str) -> Result<Option<MacSeen>> {
        let row = sqlx::query(
            "SELECT mac_failures, mac_retry_at, mac_pending, mac_pending_at FROM requests WHERE reference = $1",
        )
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| MacSeen {
            failures: r.get(0),
            retry_at: r.get(1),
            pending: r.get(2),
            stale: r.get::<i64, _>(2) > 0 && r.get::<i64, _>(3) + STALE_SECONDS < now(),
        }))
    }

    /// The counters of `reference`'s MAC checks, its row locked until `tx` ends (the SQLite
    /// writer lock does that there). Reservations older than a minute whose outcome never
    /// came are settled first, as wrong checks: a check whose answer was lost is not
    /// forgiven.
    async fn mac_counters(
        &self,
        tx: &mut super::Write<'_>,
        reference: &str,
        base_wait: i64,
    ) -> Result<Option<MacCounters>> {
        let lock = if self.writer.is_none() { " FOR UPDATE" } else { "" };
        let row = sqlx::query(&format!(
            "SELECT mac_failures, mac_retry_at, mac_pending, mac_pending_at FROM requests WHERE reference = $1{lock}"
        ))
        .bind(reference)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let mut m = MacCounters { failures: r.get(0), retry_at: r.get(1), pending: r.get(2) };
        let pending_at: i64 = r.get(3);
        if m.pending > 0 && pending_at + STALE_SECONDS < now() {
            let before = m.failures;
            m.failures += m.pending;
            m.pending = 0;
            // The wait of the last round boundary crossed.
            let crossed = m.failures / ROUND * ROUND;
            if crossed > before {
                m.retry_at = m.retry_at.max(now() + mac_wait(crossed, base_wait));
            }
            sqlx::query(
                "UPDATE requests SET mac_failures = $1, mac_retry_at = $2, mac_pending = 0 WHERE reference = $3",
            )
            .bind(m.failures)
            .bind(m.retry_at)
            .bind(reference)
            .execute(&mut **tx)
            .await?;
            audit(tx, "cmp", "cmp-lost-checks-counted", reference, &format!("{} failures", m.failures)).await?;
        }
        Ok(Some(m))
    }

    /// The MAC was right: its reservation ends, and nothing is counted.
    pub async fn mac_right(&self, reference: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE requests SET mac_pending = mac_pending - 1 WHERE reference = $1 AND mac_pending > 0")
            .bind(reference)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// The MAC was wrong: counted, and after every five the reference waits, `base_wait`
    /// seconds at first, twice as long each time, at most an hour.
    pub async fn mac_wrong(&self, reference: &str, base_wait: i64) -> Result<()> {
        let mut tx = self.write().await?;
        let Some(m) = self.mac_counters(&mut tx, reference, base_wait).await? else { return Ok(()) };
        let failures = m.failures + 1;
        let wait = mac_wait(failures, base_wait);
        let retry_at = if wait > 0 { now() + wait } else { m.retry_at };
        sqlx::query("UPDATE requests SET mac_failures = $1, mac_retry_at = $2, mac_pending = $3 WHERE reference = $4")
            .bind(failures)
            .bind(retry_at)
            .bind((m.pending - 1).max(0))
            .bind(reference)
            .execute(&mut *tx)
            .await?;
        if wait > 0 {
            audit(&mut tx, "cmp", "cmp-wrong-codes-wait", reference, &format!("{failures} failures, {wait} s")).await?;
        }
        tx.commit().await
    }
}

/// Wrong MAC checks allowed per round, before the reference waits.
const ROUND: i64 = 5;
/// A reservation without its outcome after this long was lost with its process.
const STALE_SECONDS: i64 = 60;

/// The counters as read without a lock.
struct MacSeen {
    failures: i64,
    retry_at: i64,
    pending: i64,
    /// Reservations whose outcome never came.
    stale: bool,
}

struct MacCounters {
    failures: i64,
    retry_at: i64,
    /// Checks reserved and not yet decided.
    pending: i64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrong_macs_wait_longer_each_five() {
        let waits: Vec<i64> = (1..=40).map(|n| super::mac_wait(n, 60)).filter(|w| *w > 0).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }
}
