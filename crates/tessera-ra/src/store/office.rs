//! What an office's home page counts, and the operator's recent sign-ins.

use sqlx::Row;

use super::{Result, Store};

/// The office's work, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfficeCounts {
    /// Requests whose card is still to be activated (a code made, not locked).
    pub to_activate: i64,
    /// Requests waiting for the CA's verification, sent back to correct, awaiting the
    /// paper originals.
    pub to_verify: i64,
    pub to_correct: i64,
    pub awaiting_originals: i64,
    /// Requests locked after wrong codes.
    pub locked: i64,
    /// Renewals waiting for an operator's approval.
    pub renewals_waiting: i64,
    /// Certificates suspended.
    pub suspended: i64,
}

/// One sign-in (or refused one) of an account.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub at: i64,
    pub ok: bool,
    pub address: String,
}

impl Store {
    /// The counts of `office` (empty: every office's).
    pub async fn office_counts(&self, office: &str) -> Result<OfficeCounts> {
        let count = |sql: &'static str| {
            let pool = &self.pool;
            async move {
                let n: i64 = sqlx::query(sql).bind(office).fetch_one(pool).await?.get(0);
                Result::Ok(n)
            }
        };
        Ok(OfficeCounts {
            to_activate: count(
                "SELECT COUNT(*) FROM requests WHERE ($1 = '' OR office = $1) AND issuance = 'waiting' AND failures < 5 \
                 AND code_issued_at IS NOT NULL",
            )
            .await?,
            to_verify: count("SELECT COUNT(*) FROM requests WHERE ($1 = '' OR office = $1) AND verification = 'to-verify'")
                .await?,
            to_correct: count(
                "SELECT COUNT(*) FROM requests WHERE ($1 = '' OR office = $1) AND verification = 'to-correct'",
            )
            .await?,
            awaiting_originals: count(
                "SELECT COUNT(*) FROM requests WHERE ($1 = '' OR office = $1) AND verification = 'awaiting-originals'",
            )
            .await?,
            locked: count("SELECT COUNT(*) FROM requests WHERE ($1 = '' OR office = $1) AND failures >= 5").await?,
            renewals_waiting: count(
                "SELECT COUNT(*) FROM certificates c JOIN requests r ON r.reference = c.reference \
                 WHERE ($1 = '' OR r.office = $1) AND c.approval = 'pending'",
            )
            .await?,
            suspended: count(
                "SELECT COUNT(*) FROM certificates c JOIN requests r ON r.reference = c.reference \
                 WHERE ($1 = '' OR r.office = $1) AND c.state = 'suspended'",
            )
            .await?,
        })
    }

    /// The account's last sign-ins, newest first.
    pub async fn sign_ins(&self, name: &str, limit: i64) -> Result<Vec<SignIn>> {
        let rows = sqlx::query(
            "SELECT at, action, address FROM audit WHERE subject = $1 AND action IN ('signed-in', 'sign-in-refused') \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(name)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| SignIn {
                at: r.get("at"),
                ok: r.get::<String, _>("action") == "signed-in",
                address: r.get::<Option<String>, _>("address").unwrap_or_default(),
            })
            .collect())
    }
}
