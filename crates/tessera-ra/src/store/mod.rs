//! The RA's database (SQLite through sqlx, migrations in migrations/sqlite): requests,
//! issued certificates with their lifecycle, and the audit log of every state change.
//! Identifiers and DER are stored as hex, times as Unix seconds.

use sqlx::Row;
use sqlx::any::{AnyPoolOptions, AnyQueryResult, AnyRow};
use sqlx::{AnyConnection, AnyPool};

pub mod accounts;
mod attempts;
pub mod audit;
mod notices;
pub mod office;
mod renewals;
mod transactions;
pub use attempts::MacCheck;
pub use renewals::{CONTACT_TRIES, ContactChange, NewRenewal, OVERWRITE_DAYS, Renewal};
pub use transactions::{ConfirmRefused, Fresh, Issuance as NewIssuance};
use zeroize::Zeroizing;

use crate::codes::CodeKeys;
use crate::gateway::Message;
use crate::registry::{Entry, Holder, Issuance, Lifecycle, Profile, RegisteredRequest};
pub use tessera_protocol::workflow::operator::{AuditEntry, CertificateRow, NewHolder, RequestRow};

pub use crate::error::Error;
pub type Result<T> = std::result::Result<T, Error>;

pub struct Store {
    pool: AnyPool,
    codes: CodeKeys,
    /// SQLite takes one writer at a time; a second one waits in SQLite's busy handler,
    /// which sleeps in growing steps (up to 100 ms). Queueing writers here instead keeps
    /// the tail short under load (bench/ra.py). None for PostgreSQL.
    writer: Option<tokio::sync::Mutex<()>>,
    /// How long a request's sealed code outlives its last certConf (seconds).
    pub confirm_retention: i64,
}

/// A write transaction, holding the writer lock (SQLite) until it ends.
struct Write<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _writer: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl Write<'_> {
    async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }
}

impl std::ops::Deref for Write<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Write<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).filter_map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

fn profile_name(p: Profile) -> &'static str {
    p.name()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn at(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

impl Store {
    /// Open (creating it if needed) and migrate. `url`: a SQLite file path, `sqlite:…`
    /// (`sqlite::memory:`), or `postgres://…`. `codes`: the keys activation codes are
    /// hashed and sealed with.
    pub async fn open(url: &str, codes: CodeKeys) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let postgres = url.starts_with("postgres:") || url.starts_with("postgresql:");
        let url =
            if postgres || url.starts_with("sqlite:") { url.to_owned() } else { format!("sqlite://{url}?mode=rwc") };
        // One connection for an in-memory database (each would be its own database).
        let max = if url.contains(":memory:") { 1 } else { 8 };
        if !postgres {
            owner_only(&url).map_err(|source| Error::File { path: url.clone().into(), source })?;
        }
        let mut options = AnyPoolOptions::new().max_connections(max);
        if !postgres {
            // WAL: readers do not wait for the writer, and a commit is an append
            // (synchronous NORMAL keeps the database consistent across a crash).
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    // secure_delete: deleted rows (an SMS code once used) are overwritten.
                    for pragma in [
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                        "PRAGMA secure_delete = ON",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await?;
        // Databases from before sealed codes keep them in clear: read them before the
        // migration drops that column, keep them hashed (and sealed while armed) after.
        let legacy = sqlx::query("SELECT reference, secret, armed FROM requests").fetch_all(&pool).await;
        if postgres {
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        } else {
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        }
        let writer = (!postgres).then(|| tokio::sync::Mutex::new(()));
        let store = Store { pool, codes, writer, confirm_retention: 600 };
        if let Ok(rows) = legacy {
            store.convert_legacy_codes(&rows).await?;
        }
        store.chain_unchained().await?;
        Ok(store)
    }

    /// Begin a write transaction (after the writers before it, on SQLite).
    async fn write(&self) -> Result<Write<'_>> {
        let writer = match &self.writer {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        Ok(Write { tx: self.pool.begin().await?, _writer: writer })
    }

    async fn convert_legacy_codes(&self, rows: &[AnyRow]) -> Result<()> {
        let mut tx = self.write().await?;
        for row in rows {
            let reference: String = row.get("reference");
            let code = Zeroizing::new(row.get::<String, _>("secret"));
            let sealed = (row.get::<i64, _>("armed") != 0).then(|| self.codes.seal(&reference, &code)).flatten();
            sqlx::query("UPDATE requests SET code_hash = $1, sealed_code = $2 WHERE reference = $3")
                .bind(self.codes.index(&code))
                .bind(sealed)
                .bind(&reference)
                .execute(&mut *tx)
                .await?;
        }
        if !rows.is_empty() {
            audit(&mut tx, "ra", "activation-codes-hashed", "requests", &format!("{} requests", rows.len())).await?;
        }
        tx.commit().await
    }

    /// Register a request unless its reference is already known.
    pub async fn register(&self, r: &RegisteredRequest) -> Result<bool> {
        let mut tx = self.write().await?;
        let inserted = self.insert_request(&mut tx, r, None, "config", true).await?.rows_affected() == 1;
        if inserted {
            audit(&mut tx, "config", "request-registered", &r.reference, profile_name(r.profile)).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    pub async fn request(&self, reference: &[u8]) -> Result<Option<Entry>> {
        let Ok(reference) = std::str::from_utf8(reference) else { return Ok(None) };
        let row = sqlx::query("SELECT * FROM requests WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| self.entry_of(&row)))
    }

    /// The request an activation code belongs to.
    pub async fn by_code(&self, code: &str) -> Result<Option<Entry>> {
        let row = sqlx::query("SELECT * FROM requests WHERE code_hash = $1")
            .bind(self.codes.index(code))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| self.entry_of(&row)))
    }

    /// Arm the CMP reference: by an operator at the counter, with the activation code
    /// the holder brought (`Some`), or after the holder's OTP, with the code sealed when
    /// the OTP was sent (`None`).
    pub async fn arm(&self, reference: &str, actor: &str, code: Option<&str>) -> Result<()> {
        let mut tx = self.write().await?;
        let update = match code {
            Some(code) => sqlx::query("UPDATE requests SET armed = 1, sealed_code = $1 WHERE reference = $2")
                .bind(self.codes.seal(reference, code).ok_or_else(|| Error::Sealing { what: "the activation code" })?),
            None => sqlx::query(
                "UPDATE requests SET armed = 1, sealed_code = (SELECT sealed_code FROM otps WHERE reference = $1) \
                 WHERE reference = $2",
            )
            .bind(reference),
        };
        update.bind(reference).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM otps WHERE reference = $1").bind(reference).execute(&mut *tx).await?;
        audit(&mut tx, actor, "request-armed", reference, "").await?;
        tx.commit().await
    }

    /// Store a new OTP (hashed) for the request, with the activation code the holder gave
    /// (sealed, to arm the request with), and record its SMS, in one transaction.
    pub async fn send_otp(
        &self,
        reference: &str,
        code: &str,
        otp: &str,
        session: &str,
        sms: &Message,
        ttl: i64,
    ) -> Result<()> {
        let t = now();
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO otps (reference, otp_hash, sent_at, expires_at, sealed_code, session_hash) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT(reference) DO UPDATE SET otp_hash = excluded.otp_hash, sent_at = excluded.sent_at, \
             expires_at = excluded.expires_at, sealed_code = excluded.sealed_code, \
             session_hash = excluded.session_hash",
        )
        .bind(reference)
        .bind(self.codes.otp_index(reference, otp))
        .bind(t)
        .bind(t + ttl)
        .bind(self.codes.seal(reference, code).ok_or_else(|| Error::Sealing { what: "the activation code" })?)
        .bind(self.codes.otp_index(reference, &format!("session\0{session}")))
        .execute(&mut *tx)
        .await?;
        outbox(&mut tx, sms).await?;
        audit(&mut tx, "holder", "otp-sent", reference, &sms.to).await?;
        tx.commit().await
    }

    /// Whether `otp` is the pending SMS code of `reference`.
    pub fn otp_matches(&self, reference: &str, otp: &str, stored: &str) -> bool {
        self.codes.otp_matches(reference, otp, stored)
    }

    /// The pending OTP of a request: (keyed hash, sent at, expires at).
    pub async fn otp(&self, reference: &str) -> Result<Option<(String, i64, i64)>> {
        let row = sqlx::query("SELECT otp_hash, sent_at, expires_at FROM otps WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    /// Whether `session` is the one the pending OTP's SMS opened.
    pub async fn otp_session(&self, reference: &str, session: &str) -> Result<bool> {
        let row = sqlx::query("SELECT session_hash FROM otps WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        let stored: Option<String> = row.and_then(|r| r.get(0));
        Ok(stored.is_some_and(|h| self.codes.otp_matches(reference, &format!("session\0{session}"), &h)))
    }

    /// A certificate of the request was confirmed: record its profile as done, and once
    /// every certificate of the request is, the request as issued.
    async fn confirmed_profile(&self, tx: &mut AnyConnection, reference: &str) -> Result<()> {
        let row = sqlx::query("SELECT profile, confirmed_profiles, pending_profile FROM requests WHERE reference = $1")
            .bind(reference)
            .fetch_one(&mut *tx)
            .await?;
        let profile = Profile::from_name(&row.get::<String, _>("profile")).unwrap_or(Profile::Signature);
        let mut confirmed: Vec<Profile> =
            row.get::<String, _>("confirmed_profiles").split(',').filter_map(Profile::from_name).collect();
        let pending = row.get::<Option<String>, _>("pending_profile");
        confirmed.extend(pending.as_deref().and_then(Profile::from_name).filter(|p| !confirmed.contains(p)));
        let names = confirmed.iter().map(|p| p.name()).collect::<Vec<_>>().join(",");
        if profile.certificates().iter().all(|p| confirmed.contains(p)) {
            // Issued: the code has served its purpose. Kept sealed a little longer, only to
            // answer a repeated certConf (the client lost the pkiconf), then it goes.
            sqlx::query(
                "UPDATE requests SET issuance = 'confirmed', armed = 0, code_kept_until = $3, \
                 confirmed_profiles = $1, pending_profile = NULL WHERE reference = $2",
            )
            .bind(&names)
            .bind(reference)
            .bind(now() + self.confirm_retention)
            .execute(&mut *tx)
            .await?;
        } else {
            // One certificate of several: the code stays (sealed) for the next.
            sqlx::query(
                "UPDATE requests SET issuance = 'waiting', confirmed_profiles = $1, pending_profile = NULL \
                 WHERE reference = $2",
            )
            .bind(&names)
            .bind(reference)
            .execute(&mut *tx)
            .await?;
        }
        audit(tx, "cmp", "certificate-confirmed", reference, pending.as_deref().unwrap_or_default()).await
    }

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
        self.set_lifecycle_by(serial, state, "cmp").await
    }

    /// An operator approves a pending renewal. False when there is none with this serial.
    pub async fn approve(&self, serial: &[u8], operator: &str) -> Result<bool> {
        self.decide(serial, operator, true).await
    }

    /// An operator refuses a pending renewal: its certificate is revoked for good.
    pub async fn refuse(&self, serial: &[u8], operator: &str) -> Result<bool> {
        self.decide(serial, operator, false).await
    }

    async fn decide(&self, serial: &[u8], operator: &str, approved: bool) -> Result<bool> {
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
        audit(&mut tx, operator, action, &hex(serial), "").await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether this CA issued a certificate with this serial.
    pub async fn certificate_exists(&self, serial: &[u8]) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM certificates WHERE serial = $1")
            .bind(hex(serial))
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    pub async fn set_lifecycle_by(&self, serial: &[u8], state: Lifecycle, actor: &str) -> Result<()> {
        let (name, since, reason) = match state {
            Lifecycle::Active => ("active", None, None),
            Lifecycle::Suspended { since } => ("suspended", Some(since.unix_timestamp()), None),
            Lifecycle::Revoked { at, reason } => ("revoked", Some(at.unix_timestamp()), Some(reason as i64)),
        };
        let mut tx = self.write().await?;
        sqlx::query("UPDATE certificates SET state = $1, state_since = $2, reason = $3 WHERE serial = $4")
            .bind(name)
            .bind(since)
            .bind(reason)
            .bind(hex(serial))
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            actor,
            &format!("certificate-{name}"),
            &hex(serial),
            &reason.map(|r| format!("reason {r}")).unwrap_or_default(),
        )
        .await?;
        tx.commit().await
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

    /// Register a holder; returns its id.
    pub async fn insert_holder(&self, h: &NewHolder, operator: &str) -> Result<i64> {
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO holders (given_name, surname, cf, passport, mobile, email, cf_forced, created_by, created_at, \
             passport_country) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(&h.given_name)
        .bind(&h.surname)
        .bind(&h.cf)
        .bind(&h.passport)
        .bind(&h.mobile)
        .bind(&h.email)
        .bind(h.cf_forced as i64)
        .bind(operator)
        .bind(now())
        .bind(&h.passport_country)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let what = if h.cf_forced { "holder-registered (tax code forced)" } else { "holder-registered" };
        audit(&mut tx, operator, what, &format!("holder {id}"), &format!("{} {}", h.surname, h.given_name)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Whether the holder's mobile or e-mail is registered to a different person (another
    /// tax code or passport): "mobile" or "email".
    pub async fn contact_of_another(&self, h: &NewHolder) -> Result<Option<&'static str>> {
        let rows = sqlx::query(
            "SELECT mobile, email FROM holders WHERE (mobile = $1 OR lower(email) = lower($2)) \
             AND NOT (COALESCE(cf, '') = $3 AND COALESCE(passport, '') = $4)",
        )
        // NULL matches nothing.
        .bind(h.mobile.as_deref())
        .bind(h.email.as_deref())
        .bind(h.cf.as_deref().unwrap_or_default())
        .bind(h.passport.as_deref().unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().find_map(|r| {
            if h.mobile.is_some() && r.get::<Option<String>, _>("mobile") == h.mobile {
                Some("mobile")
            } else {
                h.email.as_ref().map(|_| "email")
            }
        }))
    }

    pub async fn holder(&self, id: i64) -> Result<Option<NewHolder>> {
        let row = sqlx::query("SELECT * FROM holders WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| NewHolder {
            given_name: r.get("given_name"),
            surname: r.get("surname"),
            cf: r.get("cf"),
            passport: r.get("passport"),
            passport_country: r.get("passport_country"),
            mobile: r.get("mobile"),
            email: r.get("email"),
            cf_forced: r.get::<i64, _>("cf_forced") != 0,
        }))
    }

    /// Create a request for a registered holder (the request copies name and tax code).
    /// `email`: the message that takes the activation code to the holder, recorded with it.
    pub async fn create_request(
        &self,
        r: &RegisteredRequest,
        holder_id: i64,
        operator: &str,
        email: Option<&Message>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        self.insert_request(&mut tx, r, Some(holder_id), operator, false).await?;
        audit(&mut tx, operator, "request-created", &r.reference, profile_name(r.profile)).await?;
        if let Some(m) = email {
            outbox(&mut tx, m).await?;
            audit(&mut tx, operator, "activation-code-emailed", &r.reference, &m.to).await?;
        }
        tx.commit().await
    }

    /// Replace a request's activation code (lost, or the request locked): the old code
    /// stops working, the request is disarmed and unlocked. False when the request was
    /// already issued (or is unknown).
    pub async fn new_code(&self, reference: &str, code: &str, operator: &str, email: Option<&Message>) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE requests SET code_hash = $1, sealed_code = NULL, armed = 0, failures = 0 \
             WHERE reference = $2 AND issuance != 'confirmed'",
        )
        .bind(self.codes.index(code))
        .bind(reference)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM otps WHERE reference = $1").bind(reference).execute(&mut *tx).await?;
        audit(&mut tx, operator, "activation-code-replaced", reference, "").await?;
        if let Some(m) = email {
            outbox(&mut tx, m).await?;
            audit(&mut tx, operator, "activation-code-emailed", reference, &m.to).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The registered holder a request was created for (none for configured requests).
    pub async fn holder_of(&self, reference: &str) -> Result<Option<NewHolder>> {
        let id: Option<i64> = sqlx::query("SELECT holder_id FROM requests WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?
            .and_then(|r| r.get(0));
        match id {
            Some(id) => self.holder(id).await,
            None => Ok(None),
        }
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

    /// Requests whose reference, holder name or tax code contains `q` (all when empty).
    pub async fn search(&self, q: &str, limit: i64) -> Result<Vec<RequestRow>> {
        let like = format!("%{}%", q.to_uppercase());
        let sql = format!(
            "{REQUEST_ROWS} WHERE upper(r.reference) LIKE $1 OR upper(r.surname || ' ' || r.given_name) LIKE $2 \
             OR upper(r.cf) LIKE $3 ORDER BY r.reference LIMIT $4"
        );
        let rows = sqlx::query(&sql).bind(&like).bind(&like).bind(&like).bind(limit).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(request_row).collect())
    }

    /// The request with this reference, as operators list it.
    pub async fn request_row(&self, reference: &str) -> Result<Option<RequestRow>> {
        let sql = format!("{REQUEST_ROWS} WHERE r.reference = $1");
        Ok(sqlx::query(&sql).bind(reference).fetch_optional(&self.pool).await?.as_ref().map(request_row))
    }

    fn entry_of(&self, row: &AnyRow) -> Entry {
        let profile = Profile::from_name(&row.get::<String, _>("profile")).unwrap_or(Profile::Signature);
        let confirmed = row.get::<String, _>("confirmed_profiles").split(',').filter_map(Profile::from_name).collect();
        let reference: String = row.get("reference");
        let secret = row.get::<Option<String>, _>("sealed_code").and_then(|s| self.codes.open(&reference, &s));
        let issuance = match row.get::<String, _>("issuance").as_str() {
            "issued" => Issuance::Issued {
                transaction_id: unhex(&row.get::<Option<String>, _>("transaction_id").unwrap_or_default()),
                cert_hash: unhex(&row.get::<Option<String>, _>("cert_hash").unwrap_or_default()),
            },
            "confirmed" => Issuance::Confirmed,
            _ => Issuance::Waiting,
        };
        Entry {
            secret,
            request: RegisteredRequest {
                reference,
                activation_code: Zeroizing::default(),
                holder: Holder {
                    given_name: row.get("given_name"),
                    surname: row.get("surname"),
                    cf: row.get("cf"),
                    passport_country: row.get("passport_country"),
                    title: row.get("title"),
                    organization: row.get("organization"),
                    organization_identifier: row.get("organization_identifier"),
                    email: row.get("subject_email"),
                },
                profile,
                mobile: row.get("mobile"),
                armed: row.get::<i64, _>("armed") != 0,
                issued_suspended: row.get::<i64, _>("issued_suspended") != 0,
            },
            issuance,
            confirmed,
            failures: row.get("failures"),
        }
    }

    /// Insert a request; `if_new`: keep an existing one with the same reference.
    async fn insert_request(
        &self,
        conn: &mut AnyConnection,
        r: &RegisteredRequest,
        holder_id: Option<i64>,
        created_by: &str,
        if_new: bool,
    ) -> Result<AnyQueryResult> {
        const INSERT: &str = "INSERT INTO requests (reference, sealed_code, given_name, surname, cf, profile, code_hash, \
             mobile, armed, holder_id, created_by, title, organization, organization_identifier, subject_email, \
             issued_suspended, passport_country, sealed_pin, sealed_puk, sealed_management_key, sealed_user_code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)";
        // The card's PIN and PUK, its PIV management key and the user code, chosen here.
        let p = crate::personalisation::Personalisation::generate()
            .ok_or_else(|| Error::Sealing { what: "the card's PIN" })?;
        let seal = |purpose: &str, value: &str| {
            self.codes.seal_secret(&r.reference, purpose, value).ok_or_else(|| Error::Sealing { what: "a card secret" })
        };
        let sealed = [
            seal("pin", &p.pin)?,
            seal("puk", &p.puk)?,
            seal("management-key", &p.management_key)?,
            seal("user-code", &p.user_code)?,
        ];
        let sql = if if_new { format!("{INSERT} ON CONFLICT(reference) DO NOTHING") } else { INSERT.to_owned() };
        sqlx::query(&sql)
            .bind(&r.reference)
            .bind(if r.armed { self.codes.seal(&r.reference, &r.activation_code) } else { None })
            .bind(&r.holder.given_name)
            .bind(&r.holder.surname)
            .bind(&r.holder.cf)
            .bind(profile_name(r.profile))
            .bind(self.codes.index(&r.activation_code))
            .bind(&r.mobile)
            .bind(r.armed as i64)
            .bind(holder_id)
            .bind(created_by)
            .bind(&r.holder.title)
            .bind(&r.holder.organization)
            .bind(&r.holder.organization_identifier)
            .bind(&r.holder.email)
            .bind(r.issued_suspended as i64)
            .bind(&r.holder.passport_country)
            .bind(&sealed[0])
            .bind(&sealed[1])
            .bind(&sealed[2])
            .bind(&sealed[3])
            .execute(conn)
            .await
            .map_err(Error::from)
    }

    /// A request's card secrets and user code, opened.
    pub async fn personalisation(&self, reference: &str) -> Result<Option<crate::personalisation::Personalisation>> {
        let row = sqlx::query(
            "SELECT sealed_pin, sealed_puk, sealed_management_key, sealed_user_code FROM requests WHERE reference = $1",
        )
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let open = |column: &str, purpose: &str| {
            row.get::<Option<String>, _>(column).and_then(|s| self.codes.open_secret(reference, purpose, &s))
        };
        Ok((|| {
            Some(crate::personalisation::Personalisation {
                pin: open("sealed_pin", "pin")?,
                puk: open("sealed_puk", "puk")?,
                management_key: open("sealed_management_key", "management-key")?,
                user_code: open("sealed_user_code", "user-code")?,
            })
        })())
    }
}

/// A SQLite database file and its -wal and -shm companions, owner-only (0600) like the key
/// files: created so before SQLite opens it (SQLite gives the companions the database's
/// mode), and tightened when an older set-up left them readable.
fn owner_only(url: &str) -> std::io::Result<()> {
    let Some(path) = url.strip_prefix("sqlite://").map(|p| p.split('?').next().unwrap_or(p)) else { return Ok(()) };
    if path.is_empty() || path.contains(":memory:") {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{path}{suffix}");
            if std::path::Path::new(&file).exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

fn lifecycle_of(r: &AnyRow) -> Lifecycle {
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

/// Requests as operators list them (add the WHERE clause).
const REQUEST_ROWS: &str = "SELECT r.reference, r.given_name, r.surname, r.cf, r.profile, r.issuance, r.armed, \
     r.failures, (SELECT COUNT(*) FROM certificates c WHERE c.reference = r.reference) AS certificates FROM requests r";

fn request_row(r: &AnyRow) -> RequestRow {
    RequestRow {
        reference: r.get("reference"),
        holder: format!("{} {}", r.get::<String, _>("surname"), r.get::<String, _>("given_name")),
        cf: r.get("cf"),
        profile: r.get("profile"),
        issuance: r.get("issuance"),
        armed: r.get::<i64, _>("armed") != 0,
        locked: r.get::<i64, _>("failures") >= crate::registry::MAX_FAILURES,
        certificates: r.get("certificates"),
    }
}

/// Record a message in the outbox table, its secret masked.
async fn outbox(conn: &mut AnyConnection, m: &Message) -> Result<()> {
    sqlx::query("INSERT INTO outbox (at, channel, recipient, body) VALUES ($1, $2, $3, $4)")
        .bind(now())
        .bind(m.channel.name())
        .bind(&m.to)
        .bind(m.masked())
        .execute(conn)
        .await?;
    Ok(())
}

/// Append an audit entry by the RA or an operator of no office, inside a write
/// transaction (see [`audit::append`]).
async fn audit(conn: &mut AnyConnection, actor: &str, action: &str, subject: &str, detail: &str) -> Result<()> {
    let postgres = conn.backend_name() == "PostgreSQL";
    audit::append(conn, postgres, &audit::Event { actor, action, subject, detail, ..Default::default() }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> RegisteredRequest {
        RegisteredRequest {
            reference: "REQ-1".into(),
            activation_code: Zeroizing::new("CODE".into()),
            holder: Holder::new("MARIO", "ROSSI", "RSSMRA80A01H501U"),
            profile: Profile::Signature,
            mobile: Some("+393331234567".into()),
            armed: true,
            issued_suspended: false,
        }
    }

    #[tokio::test]
    async fn codes_of_an_older_database_are_hashed_and_sealed_on_open() {
        // A database as the RA left it before sealed codes: migrations 0001 to 0005, codes
        // in clear.
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("migrations");
        std::fs::create_dir(&old).unwrap();
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_str().unwrap() < "0006" {
                std::fs::copy(&path, old.join(path.file_name().unwrap())).unwrap();
            }
        }
        let file = dir.path().join("ra.sqlite");
        sqlx::any::install_default_drivers();
        let pool = AnyPool::connect(&format!("sqlite://{}?mode=rwc", file.display())).await.unwrap();
        sqlx::migrate::Migrator::new(old.as_path()).await.unwrap().run(&pool).await.unwrap();
        for (reference, code, armed) in [("REQ-A", "AAAA-BBBB-CCCC", 1), ("REQ-B", "DDDD-EEEE-FFFF", 0)] {
            sqlx::query(
                "INSERT INTO requests (reference, secret, given_name, surname, cf, profile, code_hash, armed) \
                 VALUES ($1, $2, 'MARIO', 'ROSSI', 'RSSMRA80A01H501U', 'signature', $1, $3)",
            )
            .bind(reference)
            .bind(code)
            .bind(armed)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;

        let store = Store::open(file.to_str().unwrap(), CodeKeys::ephemeral().unwrap()).await.unwrap();
        let a = store.by_code("aaaa bbbb cccc").await.unwrap().expect("found by its keyed hash");
        assert_eq!(a.secret.as_deref().map(|s| s.as_slice()), Some(&b"AAAA-BBBB-CCCC"[..]), "armed: sealed");
        let b = store.by_code("DDDD-EEEE-FFFF").await.unwrap().expect("found");
        assert_eq!((b.request.reference.as_str(), b.secret.is_none()), ("REQ-B", true), "not armed: hash only");
        let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info('requests')")
            .fetch_all(&store.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("name"))
            .collect();
        assert!(!columns.contains(&"secret".to_owned()), "{columns:?}");
    }

    fn issuance<'a>(tid: &'a [u8], serial: &'a [u8], der: &'a [u8], fresh: bool) -> NewIssuance<'a> {
        NewIssuance {
            reference: "REQ-1",
            transaction_id: tid,
            request_hash: b"request",
            answer: b"answer",
            answer_nonce: b"nonce",
            serial,
            cert_hash: der,
            fresh: fresh.then_some(Fresh {
                der,
                profile: Profile::Signature,
                replaces: None,
                suspended: false,
                approval_due: None,
            }),
        }
    }

    #[tokio::test]
    async fn one_request_gets_one_certificate_confirmed_or_revoked_never_deleted() {
        let store = Store::open("sqlite::memory:", CodeKeys::ephemeral().unwrap()).await.unwrap();
        assert!(store.register(&request()).await.unwrap());
        assert!(!store.register(&request()).await.unwrap(), "registered once");
        assert_eq!(store.request(b"REQ-1").await.unwrap().unwrap().issuance, Issuance::Waiting);
        assert!(store.record_issuance(&issuance(&[1], &[0x0A], b"der", true)).await.unwrap());
        assert!(matches!(store.request(b"REQ-1").await.unwrap().unwrap().issuance, Issuance::Issued { .. }));
        // A second transaction cannot issue while the first waits for certConf.
        assert!(!store.record_issuance(&issuance(&[2], &[0x0B], b"der2", true)).await.unwrap(), "claimed once");
        assert!(store.answered(&[2]).await.unwrap().is_none(), "nothing of the loser recorded");
        assert_eq!(store.answered(&[1]).await.unwrap().unwrap().answer, b"answer");
        // It can answer again with the same certificate, taking the transaction over.
        assert!(store.record_issuance(&issuance(&[3], &[0x0A], b"der", false)).await.unwrap());
        assert_eq!(store.accept("REQ-1", &[1], &[0x0A]).await.unwrap(), Err(ConfirmRefused::NotWaiting));
        assert_eq!(store.accept("REQ-1", &[3], &[0x0A]).await.unwrap(), Ok(true));
        assert_eq!(store.accept("REQ-1", &[3], &[0x0A]).await.unwrap(), Ok(false), "a repeated certConf");
        assert_eq!(store.request(b"REQ-1").await.unwrap().unwrap().issuance, Issuance::Confirmed);
        assert!(!store.record_issuance(&issuance(&[4], &[0x0C], b"der3", true)).await.unwrap(), "issued once");
        let (entry, profile) = store.by_certificate(b"der", &[0x0A]).await.unwrap().unwrap();
        assert_eq!((entry.request.reference.as_str(), profile), ("REQ-1", Some(Profile::Signature)));
        store.set_lifecycle(&[0x0A], Lifecycle::Revoked { at: at(100), reason: 1 }).await.unwrap();
        assert_eq!(
            store.not_active().await.unwrap(),
            vec![(vec![0x0A], Lifecycle::Revoked { at: at(100), reason: 1 })]
        );
        let actions: Vec<String> =
            store.audit_log("", 100).await.unwrap().into_iter().rev().map(|a| a.action).collect();
        assert_eq!(
            actions,
            [
                "request-registered",
                "certificate-issued",
                "answer-repeated-in-new-transaction",
                "certificate-confirmed",
                "certificate-revoked"
            ]
        );
    }

    #[tokio::test]
    async fn rejected_and_never_confirmed_certificates_are_revoked_and_kept() {
        let store = Store::open("sqlite::memory:", CodeKeys::ephemeral().unwrap()).await.unwrap();
        store.register(&request()).await.unwrap();
        assert!(store.record_issuance(&issuance(&[1], &[0x0A], b"der", true)).await.unwrap());
        assert_eq!(store.reject("REQ-1", &[1], &[0x0A]).await.unwrap(), Ok(()));
        assert_eq!(store.request(b"REQ-1").await.unwrap().unwrap().issuance, Issuance::Waiting);
        assert!(matches!(store.confirmed(&[0x0A]).await.unwrap(), Some((false, Lifecycle::Revoked { .. }))));
        assert_eq!(store.accept("REQ-1", &[1], &[0x0A]).await.unwrap(), Err(ConfirmRefused::Revoked));
        // The next transaction issues; its client never confirms.
        assert!(store.record_issuance(&issuance(&[2], &[0x0B], b"der2", true)).await.unwrap());
        assert_eq!(store.revoke_unconfirmed(3600).await.unwrap(), 0, "not yet");
        assert_eq!(store.revoke_unconfirmed(-1).await.unwrap(), 1);
        assert_eq!(store.request(b"REQ-1").await.unwrap().unwrap().issuance, Issuance::Waiting);
        let revoked: Vec<Vec<u8>> = store.not_active().await.unwrap().into_iter().map(|(s, _)| s).collect();
        assert_eq!(revoked, [vec![0x0A], vec![0x0B]], "both on the CRL, both on record");
    }
}
