//! Wrong console sign-ins, counted per typed name and client address: after every five
//! the pair waits (a minute, twice as long each five more, at most an hour). Names that
//! exist and names that do not are counted alike, so the waits say nothing about which
//! exist; a stranger's tries from elsewhere never keep the operator out for long.
//!
//! The same name is also counted over every address (the row whose address is
//! [`EVERYWHERE`]): tries spread over many addresses, each staying under its own five,
//! make the name wait everywhere once they pass [`EVERYWHERE_BAR`], for at most
//! [`EVERYWHERE_MAX_WAIT`] each time, so guessing stays slow and the operator is back
//! within minutes. A right sign-in starts both counts again.

use sqlx::Row;

use super::audit::{Event, append};
use super::{Result, Store, now};

/// The address under which a name's wrong tries from everywhere are counted.
const EVERYWHERE: &str = "*";
/// Wrong tries from everywhere a name is allowed before it waits everywhere.
const EVERYWHERE_BAR: i64 = 50;
/// The longest a name waits everywhere at once (a stranger's tries keep the operator
/// out no longer than this after they stop).
const EVERYWHERE_MAX_WAIT: i64 = 900;
/// Counts untouched for this long are forgotten.
const FORGET_AFTER: i64 = 86_400;

/// The key a typed name is counted under.
fn key(name: &str) -> String {
    name.trim().to_lowercase().chars().take(64).collect()
}

/// The wait after `failures` wrong tries from everywhere: every ten past the bar, the
/// base wait doubling each time, at most [`EVERYWHERE_MAX_WAIT`].
fn everywhere_wait(failures: i64, base: i64) -> i64 {
    if failures < EVERYWHERE_BAR || failures % 10 != 0 {
        return 0;
    }
    let rounds = ((failures - EVERYWHERE_BAR) / 10).min(12) as u32;
    (base.max(1) << rounds).min(EVERYWHERE_MAX_WAIT)
}

impl Store {
    /// Seconds the name must still wait from `address` (0: none).
    pub async fn sign_in_wait(&self, name: &str, address: &str) -> Result<i64> {
        let row = sqlx::query("SELECT MAX(retry_at) FROM sign_in_waits WHERE name = $1 AND address IN ($2, $3)")
            .bind(key(name))
            .bind(address)
            .bind(EVERYWHERE)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.get::<Option<i64>, _>(0).map(|at| at - now()).unwrap_or(0).max(0))
    }

    /// One more wrong try for `name` under `address`: the count after it.
    async fn count_failure(tx: &mut super::Write<'_>, name: &str, address: &str) -> Result<i64> {
        sqlx::query(
            "INSERT INTO sign_in_waits (name, address, failures, retry_at, updated_at) VALUES ($1, $2, 1, 0, $3) \
             ON CONFLICT (name, address) DO UPDATE SET failures = sign_in_waits.failures + 1, updated_at = $3",
        )
        .bind(key(name))
        .bind(address)
        .bind(now())
        .execute(&mut **tx)
        .await?;
        let row = sqlx::query("SELECT failures FROM sign_in_waits WHERE name = $1 AND address = $2")
            .bind(key(name))
            .bind(address)
            .fetch_one(&mut **tx)
            .await?;
        Ok(row.get(0))
    }

    /// Make `name` wait under `address` until `wait` seconds from now.
    async fn set_wait(tx: &mut super::Write<'_>, name: &str, address: &str, wait: i64) -> Result<()> {
        sqlx::query("UPDATE sign_in_waits SET retry_at = $1 WHERE name = $2 AND address = $3")
            .bind(now() + wait)
            .bind(key(name))
            .bind(address)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// A wrong sign-in for `name` from `address`: counted and audited; the wait it starts.
    pub async fn sign_in_failed(&self, name: &str, address: &str, base_wait: i64, by: &Event<'_>) -> Result<i64> {
        let mut tx = self.write().await?;
        let failures = Self::count_failure(&mut tx, name, address).await?;
        let wait = super::attempts::mac_wait(failures, base_wait);
        if wait > 0 {
            Self::set_wait(&mut tx, name, address, wait).await?;
        }
        let everywhere = Self::count_failure(&mut tx, name, EVERYWHERE).await?;
        let wait_everywhere = everywhere_wait(everywhere, base_wait);
        if wait_everywhere > 0 {
            Self::set_wait(&mut tx, name, EVERYWHERE, wait_everywhere).await?;
        }
        let wait = wait.max(wait_everywhere);
        let detail = format!(
            "{failures} in a row from this address, {everywhere} from everywhere{}",
            if wait > 0 { format!(", waits {wait} s") } else { String::new() }
        );
        append(&mut tx, &Event { action: "sign-in-refused", detail: &detail, ..by.clone() }).await?;
        tx.commit().await?;
        Ok(wait)
    }

    /// A right sign-in: the counts for the name, from that address and from everywhere,
    /// start again.
    pub async fn sign_in_cleared(&self, name: &str, address: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM sign_in_waits WHERE name = $1 AND address IN ($2, $3)")
            .bind(key(name))
            .bind(address)
            .bind(EVERYWHERE)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Forget counts untouched for a day whose wait is over (the table does not grow
    /// with every name a stranger types).
    pub async fn forget_old_sign_in_waits(&self) -> Result<u64> {
        let mut tx = self.write().await?;
        let gone = sqlx::query("DELETE FROM sign_in_waits WHERE updated_at < $1 AND retry_at < $2")
            .bind(now() - FORGET_AFTER)
            .bind(now())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_from_everywhere_wait_past_the_bar_and_never_long() {
        assert_eq!(everywhere_wait(49, 60), 0);
        assert_eq!(everywhere_wait(50, 60), 60);
        assert_eq!(everywhere_wait(55, 60), 0);
        assert_eq!(everywhere_wait(60, 60), 120);
        assert_eq!(everywhere_wait(10_000, 60), EVERYWHERE_MAX_WAIT);
    }

    #[tokio::test]
    async fn spread_tries_make_the_name_wait_everywhere_and_a_right_one_clears_it() {
        let store = Store::open("sqlite::memory:", crate::codes::CodeKeys::ephemeral().unwrap()).await.unwrap();
        let by = Event::default();
        // Four tries from each of thirteen addresses: none waits on its own, the name does.
        let mut waits = Vec::new();
        for i in 0..13 {
            for _ in 0..4 {
                waits.push(store.sign_in_failed("Anna.Rossi", &format!("10.0.0.{i}"), 60, &by).await.unwrap());
            }
        }
        assert_eq!(waits.iter().position(|w| *w > 0), Some(49), "the fiftieth try from everywhere: {waits:?}");
        assert!(store.sign_in_wait("anna.rossi", "192.0.2.1").await.unwrap() > 0, "waits from a new address too");
        assert_eq!(store.sign_in_wait("another", "10.0.0.1").await.unwrap(), 0, "only that name");
        store.sign_in_cleared("anna.rossi", "10.0.0.1").await.unwrap();
        assert_eq!(store.sign_in_wait("anna.rossi", "192.0.2.1").await.unwrap(), 0);
        // Counts a day old with their wait over are forgotten.
        sqlx::query("UPDATE sign_in_waits SET updated_at = updated_at - 90000, retry_at = 0")
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(store.forget_old_sign_in_waits().await.unwrap() > 0);
    }
}
