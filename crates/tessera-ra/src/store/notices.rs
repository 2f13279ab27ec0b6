//! Notices to holders, each sent once per certificate and kind: the renewal notices from 60
//! days before expiry, and the one before a renewal still waiting for approval is suspended.

use sqlx::Row;

use super::{Result, Store, audit, hex, now, unhex};

/// A certificate a notice may be due for.
pub struct Noticeable {
    pub serial: Vec<u8>,
    pub reference: String,
    pub der: Vec<u8>,
    /// A renewal waiting for an operator's approval, due at this time.
    pub approval_due: Option<i64>,
}

impl Store {
    /// Active, confirmed certificates that no confirmed renewal replaced.
    pub async fn noticeable(&self) -> Result<Vec<Noticeable>> {
        let rows = sqlx::query(
            "SELECT c.serial, c.reference, c.der, c.approval, c.approval_due FROM certificates c \
             WHERE c.state = 'active' AND c.confirmed = 1 \
             AND NOT EXISTS (SELECT 1 FROM certificates n WHERE n.replaces = c.serial AND n.confirmed = 1)",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Noticeable {
                serial: unhex(&r.get::<String, _>("serial")),
                reference: r.get("reference"),
                der: unhex(&r.get::<String, _>("der")),
                approval_due: (r.get::<Option<String>, _>("approval").as_deref() == Some("pending"))
                    .then(|| r.get::<Option<i64>, _>("approval_due"))
                    .flatten(),
            })
            .collect())
    }

    /// Record that notice `kind` goes for `serial`: false when it already went (by this
    /// instance or another).
    pub async fn notice_once(&self, serial: &[u8], kind: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO notices (serial, kind, sent_at) VALUES ($1, $2, $3) ON CONFLICT (serial, kind) DO NOTHING",
        )
        .bind(hex(serial))
        .bind(kind)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            audit(&mut tx, "ra", "notice-sent", &hex(serial), kind).await?;
        }
        tx.commit().await?;
        Ok(inserted.rows_affected() == 1)
    }
}
