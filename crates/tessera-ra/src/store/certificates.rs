//! Issued certificates: found by serial or by their key, their lifecycle (active,
//! suspended, revoked; a renewal waiting for approval), what the CRL lists, and a
//! request's certificates as operators see them.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::{Event, append};
use super::{CertificateRow, Result, Store, at, hex, now, unhex};
use crate::registry::{Entry, Lifecycle, Profile};

impl Store {
    /// The request a certificate was issued for, and the profile it was issued under
    /// (None for certificates from before profiles were recorded).
    pub async fn by_certificate(&self, der: &[u8], serial: &[u8]) -> Result<Option<(Entry, Option<Profile>)>> {
        let row = sqlx::query("SELECT reference, der, profile FROM certificates WHERE serial = $1")
            .bind(hex(serial))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row.filter(|r| unhex(&r.get::<String, _>("der")) == der) else { return Ok(None) };
        let reference: String = row.get("reference");
        let profile = row.get::<Option<String>, _>("profile").as_deref().and_then(Profile::from_name);
        Ok(self.request(reference.as_bytes()).await?.map(|e| (e, profile)))
    }

    pub async fn lifecycle(&self, serial: &[u8]) -> Result<Lifecycle> {
        let row = sqlx::query(
            "SELECT state, state_since, reason, approval, approval_due FROM certificates WHERE serial = $1",
        )
        .bind(hex(serial))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| lifecycle_of(&r)).unwrap_or(Lifecycle::Active))
    }

    pub async fn set_lifecycle(&self, serial: &[u8], state: Lifecycle) -> Result<()> {
        self.set_lifecycle_by(serial, state, &Event { actor: "cmp", ..Default::default() }).await
    }

    /// An operator approves a pending renewal. False when there is none with this serial.
    pub async fn approve(&self, serial: &[u8], by: &Event<'_>) -> Result<bool> {
        self.decide(serial, by, true).await
    }

    /// An operator refuses a pending renewal: its certificate is revoked for good.
    pub async fn refuse(&self, serial: &[u8], by: &Event<'_>) -> Result<bool> {
        self.decide(serial, by, false).await
    }

    async fn decide(&self, serial: &[u8], by: &Event<'_>, approved: bool) -> Result<bool> {
        let mut tx = self.write().await?;
        let sql = if approved {
            "UPDATE certificates SET approval = 'approved' WHERE serial = $1 AND approval = 'pending'"
        } else {
            "UPDATE certificates SET approval = 'refused', state = 'revoked', state_since = $2, reason = 0 \
             WHERE serial = $1 AND approval = 'pending'"
        };
        let mut query = sqlx::query(sql).bind(hex(serial));
        if !approved {
            query = query.bind(now());
        }
        if query.execute(&mut *tx).await?.rows_affected() != 1 {
            return Ok(false);
        }
        let action = if approved { "renewal-approved" } else { "renewal-refused" };
        let subject = hex(serial);
        append(&mut tx, &Event { action, subject: &subject, detail: "", ..by.clone() }).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The office of the request a certificate was issued for: None when this CA issued no
    /// such certificate, Some(None) for a request of no office.
    pub async fn certificate_office(&self, serial: &[u8]) -> Result<Option<Option<String>>> {
        let row = sqlx::query(
            "SELECT r.office FROM certificates c JOIN requests r ON r.reference = c.reference WHERE c.serial = $1",
        )
        .bind(hex(serial))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.get::<Option<String>, _>(0)))
    }

    /// Whether this CA issued a certificate with this serial.
    pub async fn certificate_exists(&self, serial: &[u8]) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM certificates WHERE serial = $1")
            .bind(hex(serial))
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Change the lifecycle of a certificate not revoked (a revoked one stays so).
    pub async fn set_lifecycle_by(&self, serial: &[u8], state: Lifecycle, by: &Event<'_>) -> Result<()> {
        self.change_lifecycle(serial, &super::certificate_views::Transition::to(state), by).await.map(|_| ())
    }

    /// Every certificate that is not active, for the CRL.
    pub async fn not_active(&self) -> Result<Vec<(Vec<u8>, Lifecycle)>> {
        let rows = sqlx::query(
            "SELECT serial, state, state_since, reason, approval, approval_due FROM certificates \
             WHERE state != 'active' OR approval = 'pending'",
        )
        .fetch_all(&self.pool)
        .await?;
        let now = time::OffsetDateTime::now_utc();
        Ok(rows
            .iter()
            .map(|r| (unhex(&r.get::<String, _>("serial")), lifecycle_of(r)))
            .filter(|(_, l)| l.now(now) != Lifecycle::Active)
            .collect())
    }

    /// The certificates issued for a request, oldest first, with their state now.
    pub async fn certificates_of(&self, reference: &str) -> Result<Vec<CertificateRow>> {
        let rows = sqlx::query(
            "SELECT serial, der, issued_at, state, state_since, reason, approval, approval_due, confirmed, replaces \
             FROM certificates WHERE reference = $1 ORDER BY seq",
        )
        .bind(reference)
        .fetch_all(&self.pool)
        .await?;
        let now = time::OffsetDateTime::now_utc();
        Ok(rows
            .iter()
            .map(|r| {
                let summary = tessera_pki::CertificateSummary::parse(&unhex(&r.get::<String, _>("der")), now).ok();
                let (state, since, reason) = match lifecycle_of(r).now(now) {
                    Lifecycle::Active => ("active", None, None),
                    Lifecycle::Suspended { since } => ("suspended", Some(since.unix_timestamp()), None),
                    Lifecycle::Revoked { at, reason } => ("revoked", Some(at.unix_timestamp()), Some(reason)),
                };
                CertificateRow {
                    serial: r.get("serial"),
                    issued_at: r.get("issued_at"),
                    not_before: summary.as_ref().map(|s| s.not_before.clone()).unwrap_or_default(),
                    not_after: summary.map(|s| s.not_after).unwrap_or_default(),
                    state: state.to_owned(),
                    state_since: since,
                    reason,
                    approval: r.get("approval"),
                    approval_due: r.get("approval_due"),
                    confirmed: r.get::<i64, _>("confirmed") == 1,
                    replaces: r.get("replaces"),
                }
            })
            .collect())
    }
}

pub(super) fn lifecycle_of(r: &AnyRow) -> Lifecycle {
    let since: Option<i64> = r.get("state_since");
    let stored = match r.get::<String, _>("state").as_str() {
        "suspended" => Lifecycle::Suspended { since: at(since.unwrap_or_default()) },
        "revoked" => Lifecycle::Revoked {
            at: at(since.unwrap_or_default()),
            reason: r.get::<Option<i64>, _>("reason").unwrap_or(0) as u8,
        },
        _ => Lifecycle::Active,
    };
    match (r.get::<Option<String>, _>("approval").as_deref(), r.get::<Option<i64>, _>("approval_due")) {
        (Some("pending"), Some(due)) => stored.pending_approval(at(due), time::OffsetDateTime::now_utc()),
        _ => stored,
    }
}
