//! A console request's path [stati della pratica]: registered -> (identified) to-verify ->
//! to-correct (the verifier's reason; back to to-verify when corrected) or
//! awaiting-originals -> completed. Each change is a conditional update from the states
//! it may come from, so two people cannot both move it; each is audited.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::{Event, append};
use super::{Result, Store, now};

/// A request as the console shows it: the request, its holder, its path.
#[derive(Debug, Clone, Default)]
pub struct RequestView {
    pub reference: String,
    pub holder_id: Option<i64>,
    pub given_name: String,
    pub surname: String,
    /// Tax code or passport number.
    pub identity: String,
    pub passport_country: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub birth_place: Option<String>,
    pub address: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub cf_accepted_anyway: Option<String>,
    pub profile: String,
    pub title: Option<String>,
    pub organization: Option<String>,
    pub organization_identifier: Option<String>,
    pub subject_email: Option<String>,
    pub issuance: String,
    pub armed: bool,
    pub locked: bool,
    pub office: Option<String>,
    pub created_by: Option<String>,
    pub registered_at: Option<i64>,
    pub verification: Option<String>,
    pub verification_reason: Option<String>,
    pub verification_by: Option<String>,
    pub verification_at: Option<i64>,
    pub originals_due: Option<i64>,
    /// The identity document (JSON of [`IdDocument`]).
    pub id_document: Option<String>,
    pub identified_by: Option<String>,
    pub identified_at: Option<i64>,
    pub code_issued_at: Option<i64>,
}

/// The identity document shown, and how the holder was identified.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdDocument {
    /// identity-card, passport, driving-licence, ...
    pub kind: String,
    pub number: String,
    pub issuer: String,
    /// YYYY-MM-DD.
    pub issued: String,
    pub expires: String,
    /// in-person (handwritten form) or remote (a form signed with a qualified certificate).
    pub mode: String,
    /// Remote: who signed the form (the certificate's subject, issuer and serial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

const VIEW: &str = "SELECT r.reference, r.holder_id, r.given_name, r.surname, r.cf, r.passport_country, r.profile, \
     r.title, r.organization, r.organization_identifier, r.subject_email, r.issuance, r.armed, r.failures, r.office, \
     r.created_by, r.registered_at, r.verification, r.verification_reason, r.verification_by, r.verification_at, \
     r.originals_due, r.id_document, r.identified_by, r.identified_at, r.code_issued_at, r.mobile AS request_mobile, \
     h.sex, h.birth_date, h.birth_place, h.address, h.mobile, h.email, h.cf_accepted_anyway \
     FROM requests r LEFT JOIN holders h ON h.id = r.holder_id";

fn view_of(r: &AnyRow) -> RequestView {
    RequestView {
        reference: r.get("reference"),
        holder_id: r.get("holder_id"),
        given_name: r.get("given_name"),
        surname: r.get("surname"),
        identity: r.get("cf"),
        passport_country: r.get("passport_country"),
        sex: r.get("sex"),
        birth_date: r.get("birth_date"),
        birth_place: r.get("birth_place"),
        address: r.get("address"),
        mobile: r.get::<Option<String>, _>("mobile").or_else(|| r.get("request_mobile")),
        email: r.get("email"),
        cf_accepted_anyway: r.get("cf_accepted_anyway"),
        profile: r.get("profile"),
        title: r.get("title"),
        organization: r.get("organization"),
        organization_identifier: r.get("organization_identifier"),
        subject_email: r.get("subject_email"),
        issuance: r.get("issuance"),
        armed: r.get::<i64, _>("armed") != 0,
        locked: r.get::<i64, _>("failures") >= crate::registry::MAX_FAILURES,
        office: r.get("office"),
        created_by: r.get("created_by"),
        registered_at: r.get("registered_at"),
        verification: r.get("verification"),
        verification_reason: r.get("verification_reason"),
        verification_by: r.get("verification_by"),
        verification_at: r.get("verification_at"),
        originals_due: r.get("originals_due"),
        id_document: r.get("id_document"),
        identified_by: r.get("identified_by"),
        identified_at: r.get("identified_at"),
        code_issued_at: r.get("code_issued_at"),
    }
}

/// What the console's search looks for.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    /// In the reference, the holder's name, the tax code or passport.
    pub text: &'a str,
    /// A verification state, or `to-activate`, `locked`, `issued`; empty: any.
    pub state: &'a str,
    /// Registered on or after / before these days (Unix seconds); 0: no bound.
    pub from: i64,
    pub until: i64,
    /// Empty: every office.
    pub office: &'a str,
    pub limit: i64,
    /// Rows skipped first (the console's pages).
    pub offset: i64,
}

impl Store {
    pub async fn request_view(&self, reference: &str) -> Result<Option<RequestView>> {
        let row =
            sqlx::query(&format!("{VIEW} WHERE r.reference = $1")).bind(reference).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(view_of))
    }

    /// Requests found by the console's search, newest first.
    pub async fn find_requests(&self, f: &Filter<'_>) -> Result<Vec<RequestView>> {
        let like = super::contains(f.text);
        // Every parameter is used whatever was asked (PostgreSQL counts them); what was not
        // asked is left out of the condition, so that the office and the state are plain
        // equalities on their index (migration 0025).
        let matches = "(upper(r.reference) LIKE upper($1) ESCAPE '\\' OR upper(r.surname || ' ' || r.given_name) LIKE upper($2) ESCAPE '\\' \
             OR upper(r.given_name || ' ' || r.surname) LIKE upper($3) ESCAPE '\\' OR upper(r.cf) LIKE upper($4) ESCAPE '\\')";
        // SQLite narrows by its trigram index first (migration 0026), with one more parameter.
        let narrowed = !self.postgres() && !f.text.trim().is_empty();
        let text_clause = if f.text.trim().is_empty() {
            "$1 = $2 AND $3 = $4".to_owned()
        } else if narrowed {
            format!("r.reference IN (SELECT reference FROM requests_search WHERE words LIKE $12) AND {matches}")
        } else {
            matches.to_owned()
        };
        let office_clause = if f.office.is_empty() { "$5 = $6" } else { "$5 = $6 AND r.office = $6" };
        let state_clause = match f.state {
            "" => "$7 = ''",
            "to-activate" => "$7 <> '' AND r.issuance = 'waiting' AND r.failures < 5 AND r.code_issued_at IS NOT NULL",
            "locked" => "$7 <> '' AND r.failures >= 5",
            "issued" => "$7 <> '' AND r.issuance = 'confirmed'",
            _ => "r.verification = $7",
        };
        let sql = format!(
            "{VIEW} WHERE {text_clause} AND {office_clause} AND {state_clause} \
             AND COALESCE(r.registered_at, 0) >= $8 AND ($9 = 0 OR COALESCE(r.registered_at, 0) < $10) \
             ORDER BY COALESCE(r.registered_at, 0) DESC, r.reference LIMIT $11 OFFSET {offset}",
            offset = f.offset.max(0)
        );
        let rows = sqlx::query(&sql)
            .bind(&like)
            .bind(&like)
            .bind(&like)
            .bind(&like)
            .bind(f.office)
            .bind(f.office)
            .bind(f.state)
            .bind(f.from)
            .bind(f.until)
            .bind(f.until)
            .bind(f.limit.clamp(1, 10_000));
        let rows = if narrowed { rows.bind(super::narrowing(f.text)) } else { rows }.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(view_of).collect())
    }

    /// The identity document recorded, the scans kept (each replacing the one of its kind
    /// before) and the request sent to verification (from registered or to-correct), all
    /// or nothing. False when it is in neither state: nothing is kept.
    pub async fn identify(
        &self,
        reference: &str,
        document: &IdDocument,
        scans: &[super::documents::NewDocument<'_>],
        by: &Event<'_>,
    ) -> Result<bool> {
        let json = serde_json::to_string(document).unwrap_or_default();
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE requests SET id_document = $1, identified_by = $2, identified_at = $3, verification = 'to-verify', \
             verification_reason = NULL WHERE reference = $4 AND verification IN ('registered', 'to-correct')",
        )
        .bind(&json)
        .bind(by.actor)
        .bind(now())
        .bind(reference)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !done {
            return Ok(false);
        }
        self.keep_documents(&mut tx, scans, by).await?;
        {
            let signer = document.signer.as_deref().map(|s| format!(", signed by {s}")).unwrap_or_default();
            let detail = format!("{} {} ({}{signer})", document.kind, document.number, document.mode);
            append(&mut tx, &Event { action: "holder-identified", subject: reference, detail: &detail, ..by.clone() })
                .await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// A request form made for `reference`: its SHA-256 (hex) kept, so that the form
    /// signed remotely can be recognised as one of them.
    pub async fn record_request_form(&self, reference: &str, digest: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let insert = if self.postgres() {
            "INSERT INTO request_forms (reference, digest, made_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        } else {
            "INSERT OR IGNORE INTO request_forms (reference, digest, made_at) VALUES ($1, $2, $3)"
        };
        sqlx::query(insert).bind(reference).bind(digest).bind(now()).execute(&mut *tx).await?;
        tx.commit().await
    }

    /// Whether the RA made a request form for `reference` whose SHA-256 is `digest`.
    pub async fn request_form_made(&self, reference: &str, digest: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM request_forms WHERE reference = $1 AND digest = $2")
            .bind(reference)
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Move a request from one of `from` to `to`, with the verifier's `reason` (to-correct)
    /// and the originals' due time (awaiting-originals). False when it was not in `from`.
    pub async fn move_request(
        &self,
        reference: &str,
        from: &[&str],
        to: &str,
        reason: Option<&str>,
        originals_due: Option<i64>,
        by: &Event<'_>,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let placeholders: Vec<String> = (0..from.len()).map(|i| format!("${}", i + 7)).collect();
        let sql = format!(
            "UPDATE requests SET verification = $1, verification_reason = $2, verification_by = $3, \
             verification_at = $4, originals_due = COALESCE($5, originals_due) WHERE reference = $6 \
             AND verification IN ({})",
            placeholders.join(", ")
        );
        let mut q =
            sqlx::query(&sql).bind(to).bind(reason).bind(by.actor).bind(now()).bind(originals_due).bind(reference);
        for f in from {
            q = q.bind(*f);
        }
        let done = q.execute(&mut *tx).await?.rows_affected() == 1;
        if done {
            let action = format!("request-{to}");
            append(&mut tx, &Event { action: &action, subject: reference, detail: reason.unwrap_or(""), ..by.clone() })
                .await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Whether the request awaits its paper originals past their due time.
    pub async fn originals_late(&self, reference: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 FROM requests WHERE reference = $1 AND verification = 'awaiting-originals' AND originals_due < $2",
        )
        .bind(reference)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Requests awaiting their originals whose due time is within `days` and not yet
    /// reminded, and those whose due time passed: (reference, office, due).
    pub async fn originals_due(&self, days: i64) -> Result<(Vec<(String, Option<String>, i64)>, Vec<String>)> {
        let t = now();
        let remind = sqlx::query(
            "SELECT reference, office, originals_due FROM requests WHERE verification = 'awaiting-originals' \
             AND originals_due IS NOT NULL AND originals_due - $1 < $2 AND originals_due >= $3 AND originals_reminded = 0",
        )
        .bind(days * 86_400)
        .bind(t)
        .bind(t)
        .fetch_all(&self.pool)
        .await?;
        let late = sqlx::query(
            "SELECT reference FROM requests WHERE verification = 'awaiting-originals' AND originals_due < $1 \
             AND originals_reminded < 2",
        )
        .bind(t)
        .fetch_all(&self.pool)
        .await?;
        Ok((remind.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect(), late.iter().map(|r| r.get(0)).collect()))
    }

    /// Record that the reminder (1) or the suspension (2) for missing originals was done.
    pub async fn originals_handled(&self, reference: &str, step: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        let done =
            sqlx::query("UPDATE requests SET originals_reminded = $1 WHERE reference = $2 AND originals_reminded < $3")
                .bind(step)
                .bind(reference)
                .bind(step)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        tx.commit().await?;
        Ok(done)
    }
}
