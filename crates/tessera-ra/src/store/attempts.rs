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
    /// Not for these many seconds.
    Wait(i64),
}

/// The wait after `failures` wrong MACs: none until five, then `base` seconds doubling per
/// five more, at most an hour.
pub fn mac_wait(failures: i64, base: i64) -> i64 {
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

    /// Reserve one MAC check of `reference`'s CMP messages before it is made (counted as a
    /// failure until [`Store::mac_right`] says otherwise), or the seconds to wait.
    pub async fn take_mac_check(&self, reference: &str, base_wait: i64) -> Result<MacCheck> {
        for _ in 0..16 {
            let row = sqlx::query("SELECT mac_failures, mac_retry_at FROM requests WHERE reference = $1")
                .bind(reference)
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else { return Ok(MacCheck::Allowed) };
            let (failures, retry_at): (i64, i64) = (row.get(0), row.get(1));
            let t = now();
            if retry_at > t {
                return Ok(MacCheck::Wait(retry_at - t));
            }
            let next = failures + 1;
            let wait = mac_wait(next, base_wait);
            let next_retry = if wait > 0 { t + wait } else { retry_at };
            let mut tx = self.write().await?;
            let taken = sqlx::query(
                "UPDATE requests SET mac_failures = $1, mac_retry_at = $2 \
                 WHERE reference = $3 AND mac_failures = $4 AND mac_retry_at = $5",
            )
            .bind(next)
            .bind(next_retry)
            .bind(reference)
            .bind(failures)
            .bind(retry_at)
            .execute(&mut *tx)
            .await?;
            if taken.rows_affected() == 1 {
                if wait > 0 {
                    audit(&mut tx, "cmp", "cmp-wrong-codes-wait", reference, &format!("{next} failures, {wait} s"))
                        .await?;
                }
                tx.commit().await?;
                return Ok(MacCheck::Allowed);
            }
        }
        // Others are checking this reference right now: later.
        Ok(MacCheck::Wait(1))
    }

    /// The MAC was right: the check reserved for it is given back (the count is of wrong
    /// MACs only, so five stay five however the right one interleaves), and the wait it
    /// started, if its reservation was the fifth, is lifted.
    pub async fn mac_right(&self, reference: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE requests SET mac_retry_at = CASE WHEN mac_failures % 5 = 0 THEN 0 ELSE mac_retry_at END, \
             mac_failures = mac_failures - 1 WHERE reference = $1 AND mac_failures > 0",
        )
        .bind(reference)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrong_macs_wait_longer_each_five() {
        let waits: Vec<i64> = (1..=40).map(|n| super::mac_wait(n, 60)).filter(|w| *w > 0).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }
}
