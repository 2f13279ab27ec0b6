//! Documents uploaded at the console, sealed with the RA's key (AES-256-GCM, bound to
//! their owner and kind), kept until their retention ends.

use sha2::Digest;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::{Event, append};
use super::{Error, Result, Store, hex, now};
use crate::documents::Media;

/// A document as listed (never its content).
#[derive(Debug, Clone)]
pub struct DocumentInfo {
    pub id: i64,
    pub owner_kind: String,
    pub owner: String,
    pub office: Option<String>,
    pub kind: String,
    pub media: Media,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

fn info_of(r: &AnyRow) -> DocumentInfo {
    DocumentInfo {
        id: r.get("id"),
        owner_kind: r.get("owner_kind"),
        owner: r.get("owner"),
        office: r.get("office"),
        kind: r.get("kind"),
        media: Media::from_content_type(&r.get::<String, _>("media")).unwrap_or(Media::Pdf),
        size: r.get("size"),
        sha256: r.get("sha256"),
        uploaded_by: r.get("uploaded_by"),
        uploaded_at: r.get("uploaded_at"),
    }
}

fn binding(owner_kind: &str, owner: &str, kind: &str, sha256: &str) -> String {
    format!("document:{owner_kind}:{owner}:{kind}:{sha256}")
}

/// A document to keep.
pub struct NewDocument<'a> {
    pub owner_kind: &'a str,
    pub owner: &'a str,
    pub office: Option<&'a str>,
    pub kind: &'a str,
    pub media: Media,
    pub bytes: &'a [u8],
    /// Kept this many days.
    pub keep_days: i64,
}

impl Store {
    /// Seal and keep a document; its id.
    pub async fn add_document(&self, d: &NewDocument<'_>, by: &Event<'_>) -> Result<i64> {
        let mut tx = self.write().await?;
        let ids = self.keep_documents(&mut tx, std::slice::from_ref(d), by).await?;
        tx.commit().await?;
        Ok(ids[0])
    }

    /// Seal and keep documents inside the caller's write transaction, each one replacing
    /// (superseding, kept for the retention) the owner's current document of its kind;
    /// their ids.
    pub(super) async fn keep_documents(
        &self,
        w: &mut super::Write<'_>,
        docs: &[NewDocument<'_>],
        by: &Event<'_>,
    ) -> Result<Vec<i64>> {
        let mut kinds: Vec<(&str, &str, &str)> = docs.iter().map(|d| (d.owner_kind, d.owner, d.kind)).collect();
        kinds.dedup();
        for (owner_kind, owner, kind) in kinds {
            sqlx::query(
                "UPDATE documents SET superseded_at = $1 WHERE owner_kind = $2 AND owner = $3 AND kind = $4 \
                 AND superseded_at IS NULL",
            )
            .bind(now())
            .bind(owner_kind)
            .bind(owner)
            .bind(kind)
            .execute(&mut **w)
            .await?;
        }
        let mut ids = Vec::new();
        for d in docs {
            let sha = hex(&sha2::Sha256::digest(d.bytes));
            let sealed = self
                .codes
                .seal_document(&binding(d.owner_kind, d.owner, d.kind, &sha), d.bytes)
                .ok_or(Error::Sealing { what: "a document" })?;
            let id: i64 = sqlx::query(
                "INSERT INTO documents (owner_kind, owner, office, kind, media, size, sha256, sealed, uploaded_by, \
                 uploaded_at, keep_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(d.owner_kind)
            .bind(d.owner)
            .bind(d.office)
            .bind(d.kind)
            .bind(d.media.content_type())
            .bind(d.bytes.len() as i64)
            .bind(&sha)
            .bind(&sealed)
            .bind(by.actor)
            .bind(now())
            .bind(now() + d.keep_days * 86_400)
            .fetch_one(&mut **w)
            .await?
            .get(0);
            let detail =
                format!("{} {} ({} bytes, SHA-256 {})", d.kind, d.media.extension(), d.bytes.len(), &sha[..16]);
            append(w, &Event { action: "document-uploaded", subject: d.owner, detail: &detail, ..by.clone() }).await?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// The current documents of an owner (not replaced by a correction), oldest first.
    pub async fn documents_of(&self, owner_kind: &str, owner: &str) -> Result<Vec<DocumentInfo>> {
        let rows = sqlx::query(
            "SELECT id, owner_kind, owner, office, kind, media, size, sha256, uploaded_by, uploaded_at FROM documents \
             WHERE owner_kind = $1 AND owner = $2 AND superseded_at IS NULL ORDER BY id",
        )
        .bind(owner_kind)
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(info_of).collect())
    }

    /// A document and its content, opened (None when it does not open: altered).
    pub async fn document(&self, id: i64) -> Result<Option<(DocumentInfo, Option<Vec<u8>>)>> {
        let row = sqlx::query("SELECT * FROM documents WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| {
            let info = info_of(&r);
            let sealed: String = r.get("sealed");
            let opened =
                self.codes.open_document(&binding(&info.owner_kind, &info.owner, &info.kind, &info.sha256), &sealed);
            (info, opened)
        }))
    }

    /// Forget documents whose retention is over; how many.
    pub async fn forget_expired_documents(&self) -> Result<u64> {
        let mut tx = self.write().await?;
        let gone = sqlx::query("DELETE FROM documents WHERE keep_until < $1").bind(now()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(gone.rows_affected())
    }
}
