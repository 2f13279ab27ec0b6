//! The audit log as the console searches it: by text, actor, action and dates, of one
//! office (its operators' actions and those on its requests, certificates and holders) or
//! of every office.

use sqlx::Row;

use super::{Result, Store};

/// One entry, with everything recorded about it.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub office: Option<String>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub address: Option<String>,
}

/// What to look for; empty fields and zero times ask for anything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter<'a> {
    /// In the subject or the detail.
    pub text: &'a str,
    pub actor: &'a str,
    /// An action, or the start of one (`certificate-`).
    pub action: &'a str,
    pub from: i64,
    pub until: i64,
    /// Empty: every office.
    pub office: &'a str,
    pub limit: i64,
    /// Entries skipped first (the console's pages).
    pub offset: i64,
}

impl Store {
    /// Entries matching `f`, newest first.
    pub async fn find_audit(&self, f: &AuditFilter<'_>) -> Result<Vec<AuditRow>> {
        let text = super::contains(f.text);
        // Starts with: the pattern without its leading %.
        let action = super::contains(f.action)[1..].to_owned();
        // An office's entries: its operators' and those on its requests and certificates
        // (looked up by key for each entry read, newest first, until the page is full) and
        // its holders. Every parameter is used either way (PostgreSQL counts them).
        let office_clause = if f.office.is_empty() {
            "$11 = '' AND $12 = $13 AND $14 = $15"
        } else {
            "$11 <> '' AND (a.office = $12 \
             OR EXISTS (SELECT 1 FROM requests q WHERE q.reference = a.subject AND q.office = $13) \
             OR EXISTS (SELECT 1 FROM certificates c JOIN requests r ON r.reference = c.reference \
                        WHERE c.serial = a.subject AND r.office = $14) \
             OR a.subject IN (SELECT 'holder ' || CAST(id AS TEXT) FROM holders WHERE office = $15))"
        };
        let rows = sqlx::query(&format!(
            "SELECT seq, at, actor, office, action, subject, detail, address FROM audit a \
             WHERE ($1 = '' OR upper(subject) LIKE upper($2) ESCAPE '\\' OR upper(detail) LIKE upper($3) ESCAPE '\\') AND ($4 = '' OR actor = $5) \
             AND ($6 = '' OR action LIKE $7 ESCAPE '\\') AND at >= $8 AND ($9 = 0 OR at < $10) \
             AND {office_clause} ORDER BY seq DESC, id DESC LIMIT $16 OFFSET {offset}",
            offset = f.offset.max(0)
        ))
        .bind(f.text.trim())
        .bind(&text)
        .bind(&text)
        .bind(f.actor.trim())
        .bind(f.actor.trim())
        .bind(f.action.trim())
        .bind(&action)
        .bind(f.from)
        .bind(f.until)
        .bind(f.until)
        .bind(f.office)
        .bind(f.office)
        .bind(f.office)
        .bind(f.office)
        .bind(f.office)
        .bind(f.limit.clamp(1, 100_000))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| AuditRow {
                seq: r.get::<Option<i64>, _>("seq").unwrap_or_default(),
                at: r.get("at"),
                actor: r.get("actor"),
                office: r.get("office"),
                action: r.get("action"),
                subject: r.get("subject"),
                detail: r.get("detail"),
                address: r.get("address"),
            })
            .collect())
    }
}
