//! Certificates as the console finds and shows them: with their request's holder and
//! office, their validity (from the certificate itself) and their state now.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::{Event, append};
use super::certificates::lifecycle_of;
use super::{Result, Store, hex, unhex};
use crate::registry::Lifecycle;

/// A lifecycle change: to which state, from which stored states, and what goes with it.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    pub to: Lifecycle,
    pub from: &'a [&'a str],
    /// For a key compromise: since when (Unix seconds).
    pub invalidity: Option<i64>,
    /// The RA holds it suspended for this (verification, originals).
    pub held_for: Option<&'a str>,
    /// Only a certificate the RA does not hold (an operator's reactivation).
    pub unheld_only: bool,
}

impl<'a> Transition<'a> {
    /// To `to` from any state but revoked.
    pub fn to(to: Lifecycle) -> Transition<'a> {
        Transition { to, from: &["active", "suspended"], invalidity: None, held_for: None, unheld_only: false }
    }
}

/// A certificate, its holder and office.
#[derive(Debug, Clone)]
pub struct CertificateView {
    /// Lower-case hex, as stored.
    pub serial: String,
    pub reference: String,
    pub office: Option<String>,
    pub given_name: String,
    pub surname: String,
    /// Tax code or passport.
    pub identity: String,
    pub profile: Option<String>,
    pub issued_at: i64,
    /// From the certificate (Unix seconds); 0 when it does not parse.
    pub not_before: i64,
    pub not_after: i64,
    /// Its state now (a suspension past its limit reads as revoked).
    pub state: Lifecycle,
    pub invalidity_date: Option<i64>,
    /// Suspended by the RA for the paperwork (verification, originals).
    pub held_for: Option<String>,
    pub confirmed: bool,
    pub replaces: Option<String>,
}

impl CertificateView {
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }
}

const VIEW: &str = "SELECT c.serial, c.reference, c.der, c.issued_at, c.state, c.state_since, c.reason, c.approval, \
     c.approval_due, c.confirmed, c.replaces, c.profile, c.invalidity_date, c.held_for, r.office, r.given_name, r.surname, r.cf \
     FROM certificates c JOIN requests r ON r.reference = c.reference";

fn view_of(r: &AnyRow, now: time::OffsetDateTime) -> CertificateView {
    let der = unhex(&r.get::<String, _>("der"));
    let validity = x509_parser::parse_x509_certificate(&der)
        .map(|(_, c)| (c.validity().not_before.timestamp(), c.validity().not_after.timestamp()))
        .unwrap_or_default();
    CertificateView {
        serial: r.get("serial"),
        reference: r.get("reference"),
        office: r.get("office"),
        given_name: r.get("given_name"),
        surname: r.get("surname"),
        identity: r.get("cf"),
        profile: r.get("profile"),
        issued_at: r.get("issued_at"),
        not_before: validity.0,
        not_after: validity.1,
        state: lifecycle_of(r).now(now),
        invalidity_date: r.get("invalidity_date"),
        held_for: r.get("held_for"),
        confirmed: r.get::<i64, _>("confirmed") == 1,
        replaces: r.get("replaces"),
    }
}

impl Store {
    /// One certificate by serial.
    pub async fn certificate_view(&self, serial: &[u8]) -> Result<Option<CertificateView>> {
        let row =
            sqlx::query(&format!("{VIEW} WHERE c.serial = $1")).bind(hex(serial)).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| view_of(&r, time::OffsetDateTime::now_utc())))
    }

    /// Certificates whose holder's name, tax code, serial or request matches `text`, in
    /// `office` (empty: every office), newest first; `state` (active, suspended, revoked;
    /// empty: any) is judged as of now.
    pub async fn find_certificates(
        &self,
        text: &str,
        state: &str,
        office: &str,
        limit: i64,
    ) -> Result<Vec<CertificateView>> {
        let like = super::contains(text);
        // What was not asked is left out of the condition (PostgreSQL still counts every
        // parameter), so that the office is a plain equality. A serial is hexadecimal: text
        // that is not cannot be part of one, and the names alone are compared (on their
        // trigram indexes, in PostgreSQL).
        let serial_part = text.trim().to_lowercase().replace(':', "");
        let could_be_serial = !serial_part.is_empty() && serial_part.chars().all(|c| c.is_ascii_hexdigit());
        let serial = super::contains(&serial_part);
        let names = "(upper(r.surname || ' ' || r.given_name) LIKE upper($1) ESCAPE '\\' OR upper(r.given_name || ' ' || r.surname) \
             LIKE upper($2) ESCAPE '\\' OR upper(r.cf) LIKE upper($3) ESCAPE '\\' OR upper(r.reference) LIKE upper($5) ESCAPE '\\')";
        let matches = if could_be_serial {
            format!("({names} OR c.serial LIKE $4 ESCAPE '\\')")
        } else {
            format!("$4 = $4 AND {names}")
        };
        // SQLite narrows by its trigram index of requests first (migration 0026), with one
        // more parameter.
        let narrowed = !self.postgres() && !text.trim().is_empty() && !could_be_serial;
        let text_clause = if text.trim().is_empty() {
            "$1 = $2 AND $3 = $5 AND $4 = $4".to_owned()
        } else if narrowed {
            format!("r.reference IN (SELECT reference FROM requests_search WHERE words LIKE $9) AND {matches}")
        } else {
            matches
        };
        let office_clause = if office.is_empty() { "$6 = $7" } else { "$6 = $7 AND r.office = $7" };
        let sql =
            format!("{VIEW} WHERE {text_clause} AND {office_clause} ORDER BY c.issued_at DESC, c.serial LIMIT $8");
        let rows = sqlx::query(&sql)
            .bind(&like)
            .bind(&like)
            .bind(&like)
            .bind(&serial)
            .bind(&like)
            .bind(office)
            .bind(office)
            // The state is judged after reading (a suspension may have run out): read more.
            .bind(if state.is_empty() { limit } else { limit * 4 }.clamp(1, 40_000));
        let rows = if narrowed { rows.bind(super::narrowing(text)) } else { rows }.fetch_all(&self.pool).await?;
        let now = time::OffsetDateTime::now_utc();
        Ok(rows
            .iter()
            .map(|r| view_of(r, now))
            .filter(|c| state.is_empty() || c.state.name() == state)
            .take(limit.max(1) as usize)
            .collect())
    }

    /// Change a certificate's lifecycle if its stored state is one of `t.from` (so that
    /// two changes decided on the same reading cannot both apply, and nothing brings a
    /// revoked certificate back); audited in the same transaction. False when it was not
    /// in one of those states.
    pub async fn change_lifecycle(&self, serial: &[u8], t: &Transition<'_>, by: &Event<'_>) -> Result<bool> {
        let (name, since, reason) = match t.to {
            Lifecycle::Active => ("active", None, None),
            Lifecycle::Suspended { since } => ("suspended", Some(since.unix_timestamp()), None),
            Lifecycle::Revoked { at, reason } => ("revoked", Some(at.unix_timestamp()), Some(reason as i64)),
        };
        let mut tx = self.write().await?;
        let placeholders: Vec<String> = (0..t.from.len()).map(|i| format!("${}", i + 8)).collect();
        let sql = format!(
            "UPDATE certificates SET state = $1, state_since = $2, reason = $3, invalidity_date = $4, held_for = $5 \
             WHERE serial = $6 AND (held_for IS NULL OR $7 = 0) AND state IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql)
            .bind(name)
            .bind(since)
            .bind(reason)
            .bind(t.invalidity)
            .bind(t.held_for)
            .bind(hex(serial))
            .bind(i64::from(t.unheld_only));
        for f in t.from {
            q = q.bind(*f);
        }
        if q.execute(&mut *tx).await?.rows_affected() != 1 {
            return Ok(false);
        }
        let (action, subject) = (format!("certificate-{name}"), hex(serial));
        let mut detail = match reason {
            Some(r) => format!("reason {r}"),
            None => String::new(),
        };
        if let Some(at) = t.invalidity {
            detail.push_str(&format!("; invalid since {at}"));
        }
        if !by.detail.is_empty() {
            detail = if detail.is_empty() { by.detail.to_owned() } else { format!("{detail}; {}", by.detail) };
        }
        append(&mut tx, &Event { action: &action, subject: &subject, detail: &detail, ..by.clone() }).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The serials of a request's certificates the RA holds suspended for `why`
    /// (verification, originals).
    pub async fn held(&self, reference: &str, why: &str) -> Result<Vec<Vec<u8>>> {
        let rows = sqlx::query(
            "SELECT serial FROM certificates WHERE reference = $1 AND state = 'suspended' AND held_for = $2",
        )
        .bind(reference)
        .bind(why)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| unhex(&r.get::<String, _>("serial"))).collect())
    }

    /// A revoked certificate's invalidity date (a key compromise).
    pub async fn invalidity_date(&self, serial: &[u8]) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT invalidity_date FROM certificates WHERE serial = $1 AND state = 'revoked'")
            .bind(hex(serial))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| r.get::<Option<i64>, _>(0)))
    }

    /// The invalidity dates of revoked certificates (serial -> Unix seconds), for the CRL.
    pub async fn invalidity_dates(&self) -> Result<std::collections::HashMap<Vec<u8>, i64>> {
        let rows = sqlx::query("SELECT serial, invalidity_date FROM certificates WHERE invalidity_date IS NOT NULL")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (unhex(&r.get::<String, _>("serial")), r.get::<i64, _>("invalidity_date"))).collect())
    }
}
