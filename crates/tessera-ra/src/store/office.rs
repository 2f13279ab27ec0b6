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
    /// The counts of `office` (empty: every office's). Each count is one index range
    /// (migration 0025): the office is a plain equality when given, never
    /// `($1 = '' OR office = $1)`, which keeps both databases off the office's indexes.
    pub async fn office_counts(&self, office: &str) -> Result<OfficeCounts> {
        // A certificate's office is its request's, looked up for each certificate counted
        // (a few thousand at most): PostgreSQL would otherwise read every request to join.
        let (requests, of_request) = if office.is_empty() {
            ("$1 = ''", "$1 = ''")
        } else {
            ("office = $1", "(SELECT r.office FROM requests r WHERE r.reference = c.reference) = $1")
        };
        let count = |condition: String| {
            let pool = &self.pool;
            async move {
                let n: i64 = sqlx::query(&condition).bind(office).fetch_one(pool).await?.get(0);
                Result::Ok(n)
            }
        };
        let of_requests = |rest: &str| format!("SELECT COUNT(*) FROM requests WHERE {requests} AND {rest}");
        let of_certificates = |rest: &str| format!("SELECT COUNT(*) FROM certificates c WHERE {of_request} AND {rest}");
        Ok(OfficeCounts {
            to_activate: count(of_requests("issuance = 'waiting' AND failures < 5 AND code_issued_at IS NOT NULL"))
                .await?,
            to_verify: count(of_requests("verification = 'to-verify'")).await?,
            to_correct: count(of_requests("verification = 'to-correct'")).await?,
            awaiting_originals: count(of_requests("verification = 'awaiting-originals'")).await?,
            locked: count(of_requests("failures >= 5")).await?,
            renewals_waiting: count(of_certificates("c.approval = 'pending'")).await?,
            suspended: count(of_certificates("c.state = 'suspended'")).await?,
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
