//! The CA's notices to every office [comunicazioni]: published by its verifiers, shown on
//! every operator's home page until they lapse or are withdrawn.

use sqlx::Row;

use super::audit::{Event, append};
use super::{Result, Store, now};

#[derive(Debug, Clone)]
pub struct CaNotice {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub created_at: i64,
    pub until: Option<i64>,
}

impl CaNotice {
    pub fn current(&self) -> bool {
        self.until.is_none_or(|u| u > now())
    }
}

impl Store {
    /// Publish a notice; its id.
    pub async fn publish_notice(&self, title: &str, body: &str, until: Option<i64>, by: &Event<'_>) -> Result<i64> {
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO ca_notices (title, body, author, created_at, until) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(title)
        .bind(body)
        .bind(by.actor)
        .bind(now())
        .bind(until)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let subject = format!("notice {id}");
        append(&mut tx, &Event { action: "notice-published", subject: &subject, detail: title, ..by.clone() }).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Withdraw a notice now; false when there is none current with this id.
    pub async fn withdraw_notice(&self, id: i64, by: &Event<'_>) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE ca_notices SET until = $1 WHERE id = $2 AND (until IS NULL OR until > $3)")
            .bind(now())
            .bind(id)
            .bind(now())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if done {
            let subject = format!("notice {id}");
            append(&mut tx, &Event { action: "notice-withdrawn", subject: &subject, ..by.clone() }).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Notices, newest first: the current ones only, or all (the latest `limit`).
    pub async fn ca_notices(&self, current_only: bool, limit: i64) -> Result<Vec<CaNotice>> {
        let rows = sqlx::query(
            "SELECT id, title, body, author, created_at, until FROM ca_notices \
             WHERE ($1 = 0 OR until IS NULL OR until > $2) ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(i64::from(current_only))
        .bind(now())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| CaNotice {
                id: r.get("id"),
                title: r.get("title"),
                body: r.get("body"),
                author: r.get("author"),
                created_at: r.get("created_at"),
                until: r.get("until"),
            })
            .collect())
    }
}
