//! Wrong console sign-ins, counted per typed name and client address: after every five
//! the pair waits (a minute, twice as long each five more, at most an hour). Names that
//! exist and names that do not are counted alike, so the waits say nothing about which
//! exist; a stranger's tries from elsewhere never keep the operator out.

use sqlx::Row;

use super::audit::{Event, append};
use super::{Result, Store, now};

/// The key a typed name is counted under.
fn key(name: &str) -> String {
    name.trim().to_lowercase().chars().take(64).collect()
}

impl Store {
    /// Seconds the name must still wait from `address` (0: none).
    pub async fn sign_in_wait(&self, name: &str, address: &str) -> Result<i64> {
        let row = sqlx::query("SELECT retry_at FROM sign_in_waits WHERE name = $1 AND address = $2")
            .bind(key(name))
            .bind(address)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<i64, _>(0) - now()).unwrap_or(0).max(0))
    }

    /// A wrong sign-in for `name` from `address`: counted and audited; the wait it starts.
    pub async fn sign_in_failed(&self, name: &str, address: &str, base_wait: i64, by: &Event<'_>) -> Result<i64> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO sign_in_waits (name, address, failures, retry_at) VALUES ($1, $2, 1, 0) \
             ON CONFLICT (name, address) DO UPDATE SET failures = sign_in_waits.failures + 1",
        )
        .bind(key(name))
        .bind(address)
        .execute(&mut *tx)
        .await?;
        let failures: i64 = sqlx::query("SELECT failures FROM sign_in_waits WHERE name = $1 AND address = $2")
            .bind(key(name))
            .bind(address)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        let wait = super::attempts::mac_wait(failures, base_wait);
        if wait > 0 {
            sqlx::query("UPDATE sign_in_waits SET retry_at = $1 WHERE name = $2 AND address = $3")
                .bind(now() + wait)
                .bind(key(name))
                .bind(address)
                .execute(&mut *tx)
                .await?;
        }
        let detail =
            format!("{failures} in a row{}", if wait > 0 { format!(", waits {wait} s") } else { String::new() });
        append(&mut tx, &Event { action: "sign-in-refused", detail: &detail, ..by.clone() }).await?;
        tx.commit().await?;
        Ok(wait)
    }

    /// A right sign-in: the count for the name from that address starts again.
    pub async fn sign_in_cleared(&self, name: &str, address: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM sign_in_waits WHERE name = $1 AND address = $2")
            .bind(key(name))
            .bind(address)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}
