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
    /// The end of its validity as stored; None for a row issued before the column was
    /// kept (the caller fills it in with [`Store::keep_not_after`]).
    pub not_after: Option<i64>,
}

/// A certificate's end of validity (Unix seconds), as stored with it.
pub fn not_after(der: &[u8]) -> Option<i64> {
    x509_parser::parse_x509_certificate(der).ok().map(|(_, c)| c.validity().not_after.timestamp())
}

/// Certificates' ends of validity stored per transaction by [`Store::keep_not_after`].
const KEEP_BATCH: usize = 500;

/// How far ahead of expiry notices start (the first renewal notice is at 60 days).
const NOTICE_AHEAD: i64 = 61 * 86_400;

impl Store {
    /// Active, confirmed certificates that no confirmed renewal replaced, and that expire
    /// within the notices' window (or wait for a renewal's approval, or predate the stored
    /// end of validity).
    pub async fn noticeable(&self) -> Result<Vec<Noticeable>> {
        let at = now();
        let rows = sqlx::query(
            "SELECT c.serial, c.reference, c.der, c.approval, c.approval_due, c.not_after FROM certificates c \
             WHERE c.state = 'active' AND c.confirmed = 1 \
             AND (c.not_after IS NULL OR c.approval = 'pending' OR (c.not_after >= $1 AND c.not_after <= $2)) \
             AND NOT EXISTS (SELECT 1 FROM certificates n WHERE n.replaces = c.serial AND n.confirmed = 1)",
        )
        .bind(at - 86_400)
        .bind(at + NOTICE_AHEAD)
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
                not_after: r.get("not_after"),
            })
            .collect())
    }

    /// Store the end of validity of certificates issued before it was kept (0: not
    /// readable, never noticed), in short transactions in serial order, so that the
    /// writer is not held for long and two instances never wait on each other.
    pub async fn keep_not_after(&self, found: &[(Vec<u8>, i64)]) -> Result<()> {
        let mut sorted: Vec<&(Vec<u8>, i64)> = found.iter().collect();
        sorted.sort();
        for batch in sorted.chunks(KEEP_BATCH) {
            let mut tx = self.write().await?;
            for (serial, not_after) in batch {
                sqlx::query("UPDATE certificates SET not_after = $1 WHERE serial = $2 AND not_after IS NULL")
                    .bind(not_after)
                    .bind(hex(serial))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(())
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
