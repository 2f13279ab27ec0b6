//! Renewal requests as the console lists them: with the holder's name and, under the
//! approval policy, whether the renewed certificate still waits for approval.

use sqlx::Row;

use super::renewals::{COLUMNS, renewal_of};
use super::{Renewal, Result, Store, now};

/// A renewal request, its holder, and its new certificate's approval.
#[derive(Debug, Clone)]
pub struct RenewalView {
    pub renewal: Renewal,
    pub given_name: String,
    pub surname: String,
    pub identity: String,
    /// pending, approved, refused; None when the policy asks none or nothing is issued.
    pub approval: Option<String>,
    pub approval_due: Option<i64>,
}

impl RenewalView {
    pub fn waiting(&self) -> bool {
        self.approval.as_deref() == Some("pending")
    }
}

impl Store {
    /// Renewal requests of `office` (empty: every office), newest first: in `state` (one
    /// of the renewal's states, or `waiting` for those whose certificate waits for
    /// approval; empty: any).
    pub async fn renewal_views(&self, state: &str, office: &str, limit: i64) -> Result<Vec<RenewalView>> {
        self.expire_renewals().await?;
        let columns: Vec<String> = COLUMNS.split(',').map(|c| format!("n.{}", c.trim())).collect();
        let rows = sqlx::query(&format!(
            "SELECT {}, r.given_name, r.surname, r.cf, c.approval, c.approval_due FROM renewals n \
             JOIN requests r ON r.reference = n.reference LEFT JOIN certificates c ON c.serial = n.new_serial \
             WHERE ($1 = '' OR r.office = $2) AND ($3 = '' OR n.state = $4 OR ($5 = 'waiting' AND c.approval = 'pending')) \
             ORDER BY n.created_at DESC, n.id LIMIT $6",
            columns.join(", ")
        ))
        .bind(office)
        .bind(office)
        .bind(state)
        .bind(state)
        .bind(state)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&self.pool)
        .await?;
        let t = now();
        Ok(rows
            .iter()
            .map(|r| RenewalView {
                renewal: renewal_of(r, t),
                given_name: r.get("given_name"),
                surname: r.get("surname"),
                identity: r.get("cf"),
                approval: r.get("approval"),
                approval_due: r.get("approval_due"),
            })
            .collect())
    }
}
