//! Offices, operator accounts, their console sessions and their API tokens. Secrets are
//! never kept as given: passwords as argon2id PHC strings, TOTP secrets sealed (AES-GCM,
//! bound to the account), session ids and API tokens as their SHA-256.

use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use super::audit::{Event, append};
use super::{Error, Result, Store, now};
use crate::accounts::Role;

/// An operator account as kept.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub office: String,
    pub role: Role,
    pub email: Option<String>,
    /// The next sign-in must set a new password (a new or reset account).
    pub must_change: bool,
    pub disabled: bool,
    /// Wrong sign-ins in a row, and until when the account waits.
    pub failures: i64,
    pub retry_at: i64,
    /// The last TOTP step accepted (a code is taken once), and the device's drift (steps).
    pub totp_step: i64,
    pub totp_drift: i64,
    pub last_sign_in: Option<i64>,
    pub last_sign_in_from: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub(crate) password_hash: String,
    pub(crate) totp_sealed: String,
}

impl Account {
    /// The audit entry of what the account does to itself (signing in, its password, its
    /// device), from `address`.
    pub fn self_event<'a>(&'a self, address: Option<&'a str>) -> Event<'a> {
        Event { actor: &self.name, office: Some(&self.office), subject: &self.name, address, ..Default::default() }
    }
}

/// A new account's fields.
pub struct NewAccount<'a> {
    pub name: &'a str,
    pub office: &'a str,
    pub role: Role,
    pub email: Option<&'a str>,
}

/// A console session as kept.
#[derive(Debug, Clone)]
pub struct Session {
    pub operator_id: i64,
    /// "full", or "change-password" (signed in with a one-time password: nothing else).
    pub stage: String,
    pub csrf: String,
    pub created_at: i64,
    pub last_seen: i64,
}

/// An API token of an account, as listed (never the token).
#[derive(Debug, Clone)]
pub struct Token {
    pub id: i64,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

impl Token {
    /// Still usable now.
    pub fn live(&self) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now())
    }
}

fn account_of(r: &AnyRow) -> Account {
    Account {
        id: r.get("id"),
        name: r.get("name"),
        office: r.get("office"),
        role: Role::from_name(&r.get::<String, _>("role")).unwrap_or(Role::Operator),
        email: r.get("email"),
        must_change: r.get::<i64, _>("must_change") != 0,
        disabled: r.get::<i64, _>("disabled") != 0,
        failures: r.get("failures"),
        retry_at: r.get("retry_at"),
        totp_step: r.get("totp_step"),
        totp_drift: r.get("totp_drift"),
        last_sign_in: r.get("last_sign_in"),
        last_sign_in_from: r.get("last_sign_in_from"),
        created_at: r.get("created_at"),
        created_by: r.get("created_by"),
        password_hash: r.get("password_hash"),
        totp_sealed: r.get("totp_sealed"),
    }
}

/// The reference a TOTP secret is sealed to.
fn sealed_to(name: &str) -> String {
    format!("operator:{name}")
}

impl Store {
    pub(super) fn postgres(&self) -> bool {
        self.writer.is_none()
    }

    /// A TOTP secret sealed for the account `name`.
    pub fn seal_totp(&self, name: &str, secret: &[u8]) -> Result<String> {
        let text = data_encoding::BASE32_NOPAD.encode(secret);
        self.codes.seal_secret(&sealed_to(name), "totp", &text).ok_or(Error::Sealing { what: "a TOTP secret" })
    }

    /// The account's TOTP secret.
    pub fn totp_secret(&self, account: &Account) -> Option<Zeroizing<Vec<u8>>> {
        let text = self.codes.open_secret(&sealed_to(&account.name), "totp", &account.totp_sealed)?;
        data_encoding::BASE32_NOPAD.decode(text.as_bytes()).ok().map(Zeroizing::new)
    }

    /// Create an account (and its office, when new); None when the name is taken.
    pub async fn add_account(
        &self,
        a: &NewAccount<'_>,
        password_hash: &str,
        totp_sealed: &str,
        by: &Event<'_>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let office = if self.postgres() {
            "INSERT INTO offices (code, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING"
        } else {
            "INSERT OR IGNORE INTO offices (code, name, created_at) VALUES ($1, $2, $3)"
        };
        sqlx::query(office).bind(a.office).bind(a.office).bind(now()).execute(&mut *tx).await?;
        let taken =
            sqlx::query("SELECT 1 FROM operators WHERE name = $1").bind(a.name).fetch_optional(&mut *tx).await?;
        if taken.is_some() {
            return Ok(None);
        }
        let id: i64 = sqlx::query(
            "INSERT INTO operators (name, office, role, email, password_hash, must_change, totp_sealed, created_at, \
             created_by) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8) RETURNING id",
        )
        .bind(a.name)
        .bind(a.office)
        .bind(a.role.name())
        .bind(a.email)
        .bind(password_hash)
        .bind(totp_sealed)
        .bind(now())
        .bind(by.actor)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let detail = format!("office {}, role {}", a.office, a.role.name());
        // Filed under the creator's office and address (the new account's office is in
        // the detail).
        append(&mut tx, &Event { action: "account-created", subject: a.name, detail: &detail, ..by.clone() }).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    pub async fn account(&self, name: &str) -> Result<Option<Account>> {
        let row = sqlx::query("SELECT * FROM operators WHERE name = $1").bind(name).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(account_of))
    }

    pub async fn account_by_id(&self, id: i64) -> Result<Option<Account>> {
        let row = sqlx::query("SELECT * FROM operators WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(account_of))
    }

    /// Every account, or an office's, by name.
    pub async fn accounts(&self, office: Option<&str>) -> Result<Vec<Account>> {
        let rows = sqlx::query("SELECT * FROM operators WHERE $1 = '' OR office = $2 ORDER BY name")
            .bind(office.unwrap_or(""))
            .bind(office.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(account_of).collect())
    }

    /// Disable (or enable) an account; its sessions end. False when there is none.
    pub async fn set_disabled(&self, name: &str, disabled: bool, by: &Event<'_>) -> Result<bool> {
        let mut tx = self.write().await?;
        let changed = sqlx::query("UPDATE operators SET disabled = $1 WHERE name = $2")
            .bind(i64::from(disabled))
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if changed {
            sqlx::query("DELETE FROM console_sessions WHERE operator_id = (SELECT id FROM operators WHERE name = $1)")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            // Whatever a thief of the old credentials made stops working too.
            sqlx::query(
                "UPDATE operator_tokens SET revoked_at = $1 WHERE revoked_at IS NULL \
                 AND operator_id = (SELECT id FROM operators WHERE name = $2)",
            )
            .bind(now())
            .bind(name)
            .execute(&mut *tx)
            .await?;
            let action = if disabled { "account-disabled" } else { "account-enabled" };
            append(&mut tx, &Event { action, subject: name, ..by.clone() }).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// A new one-time password (and, when given, a new TOTP secret): changed at the next
    /// sign-in; waits and sessions cleared. False when there is no such account.
    pub async fn reset_account(
        &self,
        name: &str,
        password_hash: &str,
        totp_sealed: Option<&str>,
        by: &Event<'_>,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let changed = sqlx::query(
            "UPDATE operators SET password_hash = $1, must_change = 1, failures = 0, retry_at = 0, \
             totp_sealed = COALESCE($2, totp_sealed), \
             totp_step = CASE WHEN $3 = 1 THEN 0 ELSE totp_step END, \
             totp_drift = CASE WHEN $4 = 1 THEN 0 ELSE totp_drift END WHERE name = $5",
        )
        .bind(password_hash)
        .bind(totp_sealed)
        .bind(i64::from(totp_sealed.is_some()))
        .bind(i64::from(totp_sealed.is_some()))
        .bind(name)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if changed {
            sqlx::query("DELETE FROM console_sessions WHERE operator_id = (SELECT id FROM operators WHERE name = $1)")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            // Whatever a thief of the old credentials made stops working too.
            sqlx::query(
                "UPDATE operator_tokens SET revoked_at = $1 WHERE revoked_at IS NULL \
                 AND operator_id = (SELECT id FROM operators WHERE name = $2)",
            )
            .bind(now())
            .bind(name)
            .execute(&mut *tx)
            .await?;
            let detail = if totp_sealed.is_some() { "password and one-time code device" } else { "password" };
            append(&mut tx, &Event { action: "account-reset", subject: name, detail, ..by.clone() }).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// A password the account chose; `must_change` false from then on; the account's other
    /// sessions end (the one `keep`, by its id's hash, goes on).
    pub async fn set_password(&self, id: i64, password_hash: &str, keep: &str, by: &Event<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE operators SET password_hash = $1, must_change = 0 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM console_sessions WHERE operator_id = $1 AND id_hash <> $2")
            .bind(id)
            .bind(keep)
            .execute(&mut *tx)
            .await?;
        append(&mut tx, &Event { action: "password-changed", ..by.clone() }).await?;
        tx.commit().await
    }

    /// A temporary password sent by e-mail (forgotten password): changed at the next
    /// sign-in.
    pub async fn set_temporary_password(&self, id: i64, password_hash: &str, by: &Event<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE operators SET password_hash = $1, must_change = 1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM console_sessions WHERE operator_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("UPDATE operator_tokens SET revoked_at = $1 WHERE operator_id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append(&mut tx, &Event { action: "password-recovered", ..by.clone() }).await?;
        tx.commit().await
    }

    /// Take TOTP step `step` for the account: false when it (or a later one) was already
    /// taken, so that a code is accepted once, under any concurrency.
    pub async fn take_totp_step(&self, id: i64, step: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        let taken = sqlx::query("UPDATE operators SET totp_step = $1 WHERE id = $2 AND totp_step < $3")
            .bind(step)
            .bind(id)
            .bind(step)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(taken)
    }

    /// The device's drift found by a resynchronisation (steps).
    pub async fn set_totp_drift(&self, id: i64, drift: i64, by: &Event<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE operators SET totp_drift = $1 WHERE id = $2")
            .bind(drift)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let detail = format!("drift {drift} steps");
        append(&mut tx, &Event { action: "otp-resynchronised", detail: &detail, ..by.clone() }).await?;
        tx.commit().await
    }

    /// A sign-in: the session `id_hash` replaces none (a new id every time), the wrong
    /// tries are forgotten, and the sign-in is recorded.
    pub async fn open_session(
        &self,
        account: &Account,
        id_hash: &str,
        stage: &str,
        csrf: &str,
        by: &Event<'_>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let t = now();
        sqlx::query(
            "INSERT INTO console_sessions (id_hash, operator_id, stage, csrf, created_at, last_seen, address) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id_hash)
        .bind(account.id)
        .bind(stage)
        .bind(csrf)
        .bind(t)
        .bind(t)
        .bind(by.address)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE operators SET failures = 0, retry_at = 0, last_sign_in = $1, last_sign_in_from = $2 WHERE id = $3",
        )
        .bind(t)
        .bind(by.address)
        .bind(account.id)
        .execute(&mut *tx)
        .await?;
        append(&mut tx, &Event { action: "signed-in", detail: stage, ..by.clone() }).await?;
        tx.commit().await
    }

    pub async fn session(&self, id_hash: &str) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT * FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| Session {
            operator_id: r.get("operator_id"),
            stage: r.get("stage"),
            csrf: r.get("csrf"),
            created_at: r.get("created_at"),
            last_seen: r.get("last_seen"),
        }))
    }

    /// The session was used now (its idle time starts again). Written at most every few
    /// seconds, not on every page.
    pub async fn touch_session(&self, id_hash: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE console_sessions SET last_seen = $1 WHERE id_hash = $2")
            .bind(now())
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// End a session (signed out, timed out); `by` is recorded when an operator signed out.
    pub async fn close_session(&self, id_hash: &str, by: Option<&Event<'_>>) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1").bind(id_hash).execute(&mut *tx).await?;
        if let Some(by) = by {
            append(&mut tx, by).await?;
        }
        tx.commit().await
    }

    /// Forget sessions idle for `idle` seconds or older than `absolute`.
    pub async fn sweep_sessions(&self, idle: i64, absolute: i64) -> Result<u64> {
        let mut tx = self.write().await?;
        let t = now();
        let gone = sqlx::query("DELETE FROM console_sessions WHERE last_seen < $1 OR created_at < $2")
            .bind(t - idle)
            .bind(t - absolute)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone)
    }

    /// A new API token of the account (its SHA-256 only), valid `days`.
    pub async fn add_token(
        &self,
        operator_id: i64,
        label: &str,
        sha256: &str,
        days: i64,
        by: &Event<'_>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO operator_tokens (operator_id, label, token_sha256, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(operator_id)
        .bind(label)
        .bind(sha256)
        .bind(now())
        .bind(now() + days * 86_400)
        .execute(&mut *tx)
        .await?;
        append(&mut tx, &Event { action: "api-token-created", detail: label, ..by.clone() }).await?;
        tx.commit().await
    }

    pub async fn tokens_of(&self, operator_id: i64) -> Result<Vec<Token>> {
        let rows = sqlx::query("SELECT * FROM operator_tokens WHERE operator_id = $1 ORDER BY id DESC")
            .bind(operator_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Token {
                id: r.get("id"),
                label: r.get("label"),
                created_at: r.get("created_at"),
                revoked_at: r.get("revoked_at"),
                last_used_at: r.get("last_used_at"),
                expires_at: r.get("expires_at"),
            })
            .collect())
    }

    /// Revoke one of the account's tokens; false when it has no such token.
    pub async fn revoke_token(&self, operator_id: i64, id: i64, by: &Event<'_>) -> Result<bool> {
        let mut tx = self.write().await?;
        let revoked = sqlx::query(
            "UPDATE operator_tokens SET revoked_at = $1 WHERE id = $2 AND operator_id = $3 AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(id)
        .bind(operator_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if revoked {
            let detail = format!("token {id}");
            append(&mut tx, &Event { action: "api-token-revoked", detail: &detail, ..by.clone() }).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// The enabled account an API token (by its SHA-256) belongs to, if not revoked.
    pub async fn token_account(&self, sha256: &str) -> Result<Option<Account>> {
        let row = sqlx::query(
            "SELECT o.* FROM operator_tokens t JOIN operators o ON o.id = t.operator_id \
             WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL AND o.disabled = 0 \
             AND (t.expires_at IS NULL OR t.expires_at > $2)",
        )
        .bind(sha256)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        let Some(account) = row.as_ref().map(account_of) else { return Ok(None) };
        let mut tx = self.write().await?;
        sqlx::query("UPDATE operator_tokens SET last_used_at = $1 WHERE token_sha256 = $2")
            .bind(now())
            .bind(sha256)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(account))
    }
}
