//! What an office's home page counts, and the operator's recent sign-ins.

use sqlx::Row;

use super::{Result, Store};

/// The office's work, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfficeCounts {
    /// Requests whose card is still to be activated (not locked).
    pub to_activate: i64,
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
                "SELECT COUNT(*) FROM requests WHERE office = $1 AND issuance = 'waiting' AND failures < 5",
            )
            .await?,
            locked: count("SELECT COUNT(*) FROM requests WHERE office = $1 AND failures >= 5").await?,
            renewals_waiting: count(
                "SELECT COUNT(*) FROM certificates c JOIN requests r ON r.reference = c.reference \
                 WHERE r.office = $1 AND c.approval = 'pending'",
            )
            .await?,
            suspended: count(
                "SELECT COUNT(*) FROM certificates c JOIN requests r ON r.reference = c.reference \
                 WHERE r.office = $1 AND c.state = 'suspended'",
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
