//! The audit log: every state change, with who (and their office), what, on which
//! subject, from where and when. Append-only and hash-chained: each entry's hash covers
//! the previous entry's hash and its own fields, and `audit_head` keeps the last, so an
//! entry changed, deleted or inserted afterwards is found by [`Store::verify_audit`]
//! (`tessera-ra audit verify`). Appends are serialised on the head (the SQLite writer
//! lock; on PostgreSQL a row lock), so two instances never fork the chain.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, now};
use tessera_protocol::workflow::operator::AuditEntry;

/// One entry to append.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    pub actor: &'a str,
    /// The actor's office, when an office's operator acted.
    pub office: Option<&'a str>,
    pub action: &'a str,
    pub subject: &'a str,
    pub detail: &'a str,
    /// The client address the action came from.
    pub address: Option<&'a str>,
}

/// The chain's start.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry's link: HMAC-SHA-256, keyed by the RA's key, over the previous link and every
/// field, each length-prefixed. Without the key nobody recomputes the chain after changing
/// an entry.
fn link(keys: &crate::codes::CodeKeys, prev: &str, seq: i64, at: i64, e: &Event<'_>) -> String {
    let mut data = Vec::new();
    for part in [
        prev,
        &seq.to_string(),
        &at.to_string(),
        e.actor,
        e.office.unwrap_or(""),
        e.action,
        e.subject,
        e.detail,
        e.address.unwrap_or(""),
    ] {
        data.extend_from_slice(format!("{}:", part.len()).as_bytes());
        data.extend_from_slice(part.as_bytes());
    }
    keys.audit_link(&data)
}

/// Append `e` inside the caller's write transaction.
pub(super) async fn append(w: &mut super::Write<'_>, e: &Event<'_>) -> Result<()> {
    let (keys, postgres) = (w.keys, w.postgres);
    let conn: &mut sqlx::AnyConnection = w;
    let (seq, prev) = head(conn, postgres).await?;
    let (seq, at) = (seq + 1, now());
    let hash = link(keys, &prev, seq, at, e);
    sqlx::query(
        "INSERT INTO audit (at, actor, action, subject, detail, office, address, seq, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(at)
    .bind(e.actor)
    .bind(e.action)
    .bind(e.subject)
    .bind(e.detail)
    .bind(e.office)
    .bind(e.address)
    .bind(seq)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1").bind(seq).bind(&hash).execute(conn).await?;
    Ok(())
}

/// The last entry's sequence number and hash, the head row locked (made when missing).
async fn head(conn: &mut sqlx::AnyConnection, postgres: bool) -> Result<(i64, String)> {
    let insert = if postgres {
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, $1) ON CONFLICT (id) DO NOTHING"
    } else {
        "INSERT OR IGNORE INTO audit_head (id, seq, hash) VALUES (1, 0, $1)"
    };
    sqlx::query(insert).bind(GENESIS).execute(&mut *conn).await?;
    let lock = if postgres { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!("SELECT seq, hash FROM audit_head WHERE id = 1{lock}")).fetch_one(conn).await?;
    Ok((row.get(0), row.get(1)))
}

/// What a check of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub entries: i64,
    /// The first entry that does not hold (its sequence number, and why), if any.
    pub broken: Option<(i64, String)>,
}

fn event_of(r: &AnyRow) -> (i64, i64, String, [String; 7]) {
    let text = |c: &str| r.get::<Option<String>, _>(c).unwrap_or_default();
    (
        r.get::<Option<i64>, _>("seq").unwrap_or_default(),
        r.get("at"),
        text("hash"),
        [
            text("actor"),
            text("office"),
            text("action"),
            text("subject"),
            text("detail"),
            text("address"),
            String::new(),
        ],
    )
}

impl Store {
    /// Append an entry on its own.
    pub async fn audit_event(&self, e: &Event<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        append(&mut tx, e).await?;
        tx.commit().await
    }

    /// Append an entry by the RA or an operator of no office.
    pub async fn audit(&self, actor: &str, action: &str, subject: &str, detail: &str) -> Result<()> {
        self.audit_event(&Event { actor, action, subject, detail, ..Default::default() }).await
    }

    /// Chain the entries written before the chain existed (once, at start).
    pub(super) async fn chain_unchained(&self) -> Result<()> {
        let mut tx = self.write().await?;
        let rows =
            sqlx::query("SELECT id, at, actor, action, subject, detail FROM audit WHERE seq IS NULL ORDER BY id")
                .fetch_all(&mut *tx)
                .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let postgres = self.postgres();
        let (mut seq, mut prev) = head(&mut tx, postgres).await?;
        for r in &rows {
            let (actor, action, subject, detail): (String, String, String, String) =
                (r.get("actor"), r.get("action"), r.get("subject"), r.get("detail"));
            let e = Event {
                actor: &actor,
                office: None,
                action: &action,
                subject: &subject,
                detail: &detail,
                address: None,
            };
            seq += 1;
            prev = link(&self.codes, &prev, seq, r.get("at"), &e);
            sqlx::query("UPDATE audit SET seq = $1, hash = $2 WHERE id = $3")
                .bind(seq)
                .bind(&prev)
                .bind(r.get::<i64, _>("id"))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(&prev)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// The chain's head now: the last entry's sequence number and link. Written to the
    /// RA's log by the sweeper, outside the database, so that a tail cut off and the head
    /// wound back to an earlier entry is found by comparing with the log.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(&self.pool).await?;
        Ok(row.map(|r| (r.get(0), r.get(1))).unwrap_or((0, GENESIS.to_owned())))
    }

    /// Check the whole chain: sequence numbers without gaps, each hash over the previous
    /// one and its own fields, the head the last entry.
    pub async fn verify_audit(&self) -> Result<ChainReport> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, office, action, subject, detail, address, hash FROM audit ORDER BY seq, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut prev = GENESIS.to_owned();
        let mut expected = 1;
        for r in &rows {
            let (seq, at, hash, f) = event_of(r);
            if seq != expected {
                let why = if seq < expected { "repeated" } else { "missing before it" };
                return Ok(ChainReport { entries: rows.len() as i64, broken: Some((expected.min(seq), why.into())) });
            }
            let office = (!f[1].is_empty()).then_some(f[1].as_str());
            let address = (!f[5].is_empty()).then_some(f[5].as_str());
            let e = Event { actor: &f[0], office, action: &f[2], subject: &f[3], detail: &f[4], address };
            let computed = link(&self.codes, &prev, seq, at, &e);
            if computed != hash {
                return Ok(ChainReport { entries: rows.len() as i64, broken: Some((seq, "altered".into())) });
            }
            prev = hash;
            expected += 1;
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_optional(&self.pool).await?;
        let (head_seq, head_hash): (i64, String) = head.map(|h| (h.get(0), h.get(1))).unwrap_or((0, GENESIS.into()));
        if head_seq != expected - 1 || head_hash != prev {
            return Ok(ChainReport {
                entries: rows.len() as i64,
                broken: Some((expected, "entries after it deleted".into())),
            });
        }
        Ok(ChainReport { entries: rows.len() as i64, broken: None })
    }

    /// The audit log, newest first: of one subject (a request's reference, a certificate's
    /// serial in hex, `holder <id>`), or of everything when `subject` is empty.
    /// Of `office`'s operators and requests only, unless `office` is empty.
    pub async fn audit_log(&self, subject: &str, limit: i64, office: &str) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, actor, action, subject, detail FROM audit WHERE ($1 = '' OR subject = $2) \
             AND ($3 = '' OR office = $4 OR subject IN (SELECT reference FROM requests WHERE office = $5)) \
             ORDER BY id DESC LIMIT $6",
        )
        .bind(subject)
        .bind(subject)
        .bind(office)
        .bind(office)
        .bind(office)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                at: r.get("at"),
                actor: r.get("actor"),
                action: r.get("action"),
                subject: r.get("subject"),
                detail: r.get("detail"),
            })
            .collect())
    }
}
