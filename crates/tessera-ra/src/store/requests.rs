//! Requests [pratiche]: registered (by an operator, or in the configuration), found by
//! reference or activation code, armed for CMP (by the holder's OTP or at the counter),
//! their new codes, their card secrets, and the operators' lists.

use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::{AnyQueryResult, AnyRow};
use zeroize::Zeroizing;

use super::audit::{Event, append};
use super::{Error, RequestRow, Result, Store, audit, now, outbox, profile_name, unhex};
use crate::gateway::Message;
use crate::registry::{Entry, Holder, Issuance, Profile, RegisteredRequest};

impl Store {
    /// Register a request unless its reference is already known.
    pub async fn register(&self, r: &RegisteredRequest) -> Result<bool> {
        let mut tx = self.write().await?;
        let inserted = self.insert_request(&mut tx, r, None, "config", true).await?.rows_affected() == 1;
        if inserted && let Some(office) = &r.office {
            sqlx::query("UPDATE requests SET office = $1 WHERE reference = $2")
                .bind(office)
                .bind(&r.reference)
                .execute(&mut *tx)
                .await?;
        }
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
    pub async fn arm(&self, reference: &str, by: &Event<'_>, code: Option<&str>) -> Result<()> {
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
        append(&mut tx, &Event { action: "request-armed", subject: reference, ..by.clone() }).await?;
        tx.commit().await
    }

    /// Arm the request at the counter, by reference: `secret` is this arming's own CMP
    /// secret (sealed), beside the holder's code, which stays theirs; a new arming
    /// replaces the previous counter secret.
    pub async fn arm_at_counter(&self, reference: &str, secret: &str, by: &Event<'_>) -> Result<()> {
        let sealed = self.codes.seal(reference, secret).ok_or(Error::Sealing { what: "the counter's secret" })?;
        let mut tx = self.write().await?;
        sqlx::query("UPDATE requests SET counter_sealed = $1, counter_by = $2 WHERE reference = $3")
            .bind(sealed)
            .bind(by.actor)
            .bind(reference)
            .execute(&mut *tx)
            .await?;
        append(&mut tx, &Event { action: "request-armed", subject: reference, ..by.clone() }).await?;
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
    pub(super) async fn confirmed_profile(&self, tx: &mut super::Write<'_>, reference: &str) -> Result<()> {
        let row = sqlx::query("SELECT profile, confirmed_profiles, pending_profile FROM requests WHERE reference = $1")
            .bind(reference)
            .fetch_one(&mut **tx)
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
            .execute(&mut **tx)
            .await?;
        } else {
            // One certificate of several: the code stays (sealed) for the next.
            sqlx::query(
                "UPDATE requests SET issuance = 'waiting', confirmed_profiles = $1, pending_profile = NULL \
                 WHERE reference = $2",
            )
            .bind(&names)
            .bind(reference)
            .execute(&mut **tx)
            .await?;
        }
        audit(tx, "cmp", "certificate-confirmed", reference, pending.as_deref().unwrap_or_default()).await
    }

    /// Create a request for a registered holder (the request copies name and tax code).
    /// `email`: the message that takes the activation code to the holder, recorded with it.
    /// `office`: the registering office's; `workflow`: registered at the console, so it
    /// goes through identification and verification (its code is made afterwards).
    pub async fn create_request(
        &self,
        r: &RegisteredRequest,
        holder_id: i64,
        office: Option<&str>,
        workflow: bool,
        by: &Event<'_>,
        email: Option<&Message>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        self.insert_request(&mut tx, r, Some(holder_id), by.actor, false).await?;
        sqlx::query(
            "UPDATE requests SET office = $1, verification = $2, registered_at = $3, code_issued_at = $4 \
             WHERE reference = $5",
        )
        .bind(office)
        .bind(workflow.then_some("registered"))
        .bind(now())
        .bind((!workflow).then(now))
        .bind(&r.reference)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            &Event { action: "request-created", subject: &r.reference, detail: profile_name(r.profile), ..by.clone() },
        )
        .await?;
        if let Some(m) = email {
            outbox(&mut tx, m).await?;
            append(
                &mut tx,
                &Event { action: "activation-code-emailed", subject: &r.reference, detail: &m.to, ..by.clone() },
            )
            .await?;
        }
        tx.commit().await
    }

    /// Replace a request's activation code (lost, or the request locked): the old code
    /// stops working, the request is disarmed and unlocked. False when the request was
    /// already issued (or is unknown).
    pub async fn new_code(&self, reference: &str, code: &str, by: &Event<'_>, email: Option<&Message>) -> Result<bool> {
        let operator = by.actor;
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE requests SET code_hash = $1, sealed_code = NULL, armed = 0, failures = 0, code_issued_at = $2, \
             counter_sealed = NULL, counter_by = NULL WHERE reference = $3 AND issuance != 'confirmed'",
        )
        .bind(self.codes.index(code))
        .bind(now())
        .bind(reference)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM otps WHERE reference = $1").bind(reference).execute(&mut *tx).await?;
        // A first code at the console (by.action) or a replaced one.
        let action = if by.action.is_empty() { "activation-code-replaced" } else { by.action };
        append(&mut tx, &Event { action, subject: reference, detail: "", ..by.clone() }).await?;
        if let Some(m) = email {
            outbox(&mut tx, m).await?;
            append(
                &mut tx,
                &Event { action: "activation-code-emailed", subject: reference, detail: &m.to, ..by.clone() },
            )
            .await?;
        }
        let _ = operator;
        tx.commit().await?;
        Ok(true)
    }

    /// Requests whose reference, holder name or tax code contains `q` (all when empty).
    /// Requests whose reference, holder or tax code contains `q`, of `office` (empty: of
    /// every office).
    pub async fn search(&self, q: &str, limit: i64, office: &str) -> Result<Vec<RequestRow>> {
        let like = super::contains(q);
        let sql = format!(
            "{REQUEST_ROWS} WHERE (upper(r.reference) LIKE upper($1) ESCAPE '\\' OR upper(r.surname || ' ' || r.given_name) LIKE upper($2) ESCAPE '\\' \
             OR upper(r.cf) LIKE upper($3) ESCAPE '\\') AND ($4 = '' OR r.office = $5) ORDER BY r.reference LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(&like)
            .bind(&like)
            .bind(&like)
            .bind(office)
            .bind(office)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
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
        let counter_secret =
            row.get::<Option<String>, _>("counter_sealed").and_then(|s| self.codes.open(&reference, &s));
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
            counter_secret,
            counter_by: row.get("counter_by"),
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
                office: row.get("office"),
            },
            issuance,
            confirmed,
            failures: row.get("failures"),
            office: row.get("office"),
            verification: row.get("verification"),
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
