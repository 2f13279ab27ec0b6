//! Renewal requests: opened when a holder starts a renewal, forwarded once the renewal form
//! is signed with the expiring key, completed when the new certificate is confirmed,
//! expired when the old certificate expires first, cancelled by an operator. At most one
//! is open per certificate (a unique index, so across instances too).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Error, Result, Store, audit, hex, now};

/// A renewal request, as holders and operators see it.
#[derive(Debug, Clone, Serialize)]
pub struct Renewal {
    pub id: String,
    /// The expiring certificate's serial (hex).
    pub serial: String,
    pub reference: String,
    /// communicated, forwarded, completed, expired, cancelled.
    pub state: String,
    pub form: String,
    pub contract_version: String,
    pub created_at: i64,
    /// When the old certificate expires: an open renewal then expires with it.
    pub expires_at: i64,
    pub signed_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub new_serial: Option<String>,
    pub cancelled_by: Option<String>,
    /// The signed form (.p7m), hex; never in listings.
    #[serde(skip)]
    pub signed_form: Option<String>,
    /// When the holder authorised overwriting the card's slot (a fixed-slot card): from
    /// then on the renewal completes with the renewal code, and is not cancelled.
    pub overwrite_at: Option<i64>,
}

impl Renewal {
    /// As operators list it (never with the signed form).
    pub fn row(&self) -> tessera_protocol::workflow::renewal::RenewalRow {
        tessera_protocol::workflow::renewal::RenewalRow {
            id: self.id.clone(),
            serial: self.serial.clone(),
            reference: self.reference.clone(),
            state: self.state.clone(),
            form: self.form.clone(),
            contract_version: self.contract_version.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            signed_at: self.signed_at,
            completed_at: self.completed_at,
            new_serial: self.new_serial.clone(),
            cancelled_by: self.cancelled_by.clone(),
            overwrite_at: self.overwrite_at,
        }
    }
}

pub(super) fn renewal_of(r: &AnyRow, now: i64) -> Renewal {
    let state: String = r.get("state");
    let expires_at: i64 = r.get("expires_at");
    // An open renewal whose certificate expired is expired, whether or not the sweeper
    // has marked it yet.
    let overwrite_at: Option<i64> = r.get("overwrite_at");
    // One authorised to overwrite a card's key lasts OVERWRITE_DAYS from the authorisation.
    let lapsed = match overwrite_at {
        Some(at) => at + OVERWRITE_DAYS * 86_400 <= now,
        None => expires_at <= now,
    };
    let state =
        if matches!(state.as_str(), "communicated" | "forwarded") && lapsed { "expired".to_owned() } else { state };
    Renewal {
        id: r.get("id"),
        serial: r.get("serial"),
        reference: r.get("reference"),
        state,
        form: r.get("form"),
        contract_version: r.get("contract_version"),
        created_at: r.get("created_at"),
        expires_at,
        signed_at: r.get("signed_at"),
        completed_at: r.get("completed_at"),
        new_serial: r.get("new_serial"),
        cancelled_by: r.get("cancelled_by"),
        signed_form: r.get("signed_form"),
        overwrite_at,
    }
}

pub(super) const COLUMNS: &str = "id, serial, reference, state, form, contract_version, created_at, expires_at, signed_at, \
                       completed_at, new_serial, cancelled_by, signed_form, overwrite_at";

/// What a new renewal request is made of.
pub struct NewRenewal<'a> {
    pub id: &'a str,
    pub serial: &'a [u8],
    pub reference: &'a str,
    pub form: &'a str,
    pub contract_version: &'a str,
    pub expires_at: i64,
}

impl Store {
    /// The certificate's open renewal, opening `new` when there is none (a second start
    /// gets the first one's request, on this instance or another).
    pub async fn open_renewal(&self, new: &NewRenewal<'_>) -> Result<Renewal> {
        self.expire_renewals().await?;
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO renewals (id, serial, reference, state, form, contract_version, created_at, expires_at) \
             VALUES ($1, $2, $3, 'communicated', $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(new.id)
        .bind(hex(new.serial))
        .bind(new.reference)
        .bind(new.form)
        .bind(new.contract_version)
        .bind(now())
        .bind(new.expires_at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            audit(&mut tx, "holder", "renewal-communicated", new.reference, new.id).await?;
        }
        tx.commit().await?;
        self.open_renewal_of(new.serial).await?.ok_or(Error::Database(sqlx::Error::RowNotFound))
    }

    /// The certificate's renewal that is communicated or forwarded, if any.
    pub async fn open_renewal_of(&self, serial: &[u8]) -> Result<Option<Renewal>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM renewals WHERE serial = $1 AND state IN ('communicated', 'forwarded')"
        ))
        .bind(hex(serial))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| renewal_of(&r, now())).filter(|r| r.state != "expired"))
    }

    pub async fn renewal(&self, id: &str) -> Result<Option<Renewal>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM renewals WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| renewal_of(&r, now())))
    }

    /// Renewal requests for operators, newest first (the latest 500); `state` filters.
    pub async fn renewals(&self, state: Option<&str>, office: &str) -> Result<Vec<Renewal>> {
        self.expire_renewals().await?;
        // Of `office`'s requests only, unless it is empty.
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM renewals WHERE ($1 = '' OR state = $2) AND ($3 = '' OR reference IN \
             (SELECT reference FROM requests WHERE office = $4)) ORDER BY created_at DESC, id LIMIT 500"
        ))
        .bind(state.unwrap_or(""))
        .bind(state.unwrap_or(""))
        .bind(office)
        .bind(office)
        .fetch_all(&self.pool)
        .await?;
        let now = now();
        Ok(rows.iter().map(|r| renewal_of(r, now)).collect())
    }

    /// The form signed: communicated becomes forwarded, with the .p7m kept. False when the
    /// renewal was not waiting for its signature.
    pub async fn forward_renewal(&self, id: &str, signed_form: &[u8]) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE renewals SET state = 'forwarded', signed_at = $2, signed_form = $3 \
             WHERE id = $1 AND state = 'communicated' AND expires_at > $2",
        )
        .bind(id)
        .bind(now())
        .bind(hex(signed_form))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            audit(&mut tx, "holder", "renewal-form-signed", id, "").await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// The new certificate replacing `old` was confirmed: its forwarded renewal is
    /// completed. The renewal's id, when there was one.
    pub async fn complete_renewal(&self, old: &[u8], new: &[u8]) -> Result<Option<String>> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "UPDATE renewals SET state = 'completed', completed_at = $3, new_serial = $2 \
             WHERE serial = $1 AND state = 'forwarded' RETURNING id",
        )
        .bind(hex(old))
        .bind(hex(new))
        .bind(now())
        .fetch_optional(&mut *tx)
        .await?;
        let id = row.map(|r| r.get::<String, _>("id"));
        if let Some(id) = &id {
            audit(&mut tx, "cmp", "renewal-completed", id, &hex(new)).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// When the renewal form was last signed for renewing `old_serial`, whatever became of
    /// its request since (completed, cancelled or expired after kur).
    pub async fn form_signed_for(&self, old_serial: &[u8]) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT MAX(signed_at) AS signed_at FROM renewals WHERE serial = $1")
            .bind(hex(old_serial))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| r.get::<Option<i64>, _>("signed_at")))
    }

    /// Forwarded renewals whose new certificate was confirmed but not recorded (a failure
    /// between the two) are completed.
    pub async fn complete_confirmed_renewals(&self) -> Result<u64> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "UPDATE renewals SET state = 'completed', completed_at = $1, new_serial = \
             (SELECT c.serial FROM certificates c WHERE c.replaces = renewals.serial AND c.confirmed = 1 \
              ORDER BY c.seq DESC LIMIT 1) \
             WHERE state = 'forwarded' AND EXISTS \
             (SELECT 1 FROM certificates c WHERE c.replaces = renewals.serial AND c.confirmed = 1)",
        )
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// The certificate a confirmed one replaced, when it is a renewal.
    pub async fn replaced_by(&self, serial: &[u8]) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT replaces FROM certificates WHERE serial = $1")
            .bind(hex(serial))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| r.get::<Option<String>, _>("replaces")).filter(|s| !s.is_empty()).map(|s| super::unhex(&s)))
    }

    /// The certificates issued for renewing `old_serial` and not yet confirmed.
    pub async fn unconfirmed_renewals_of(&self, old_serial: &str) -> Result<Vec<Vec<u8>>> {
        let rows = sqlx::query("SELECT serial FROM certificates WHERE replaces = $1 AND confirmed = 0")
            .bind(old_serial)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| super::unhex(&r.get::<String, _>("serial"))).collect())
    }

    /// An operator cancels an open renewal. False when it is not open.
    pub async fn cancel_renewal(&self, id: &str, by: &super::audit::Event<'_>) -> Result<bool> {
        let operator = by.actor;
        let mut tx = self.write().await?;
        let done = sqlx::query(
            // Not once the holder may have overwritten the card's key: only the renewal
            // gives that card a working key again.
            "UPDATE renewals SET state = 'cancelled', cancelled_by = $2 \
             WHERE id = $1 AND state IN ('communicated', 'forwarded') AND overwrite_code IS NULL",
        )
        .bind(id)
        .bind(operator)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            let event = super::audit::Event { action: "renewal-cancelled", subject: id, detail: "", ..by.clone() };
            super::audit::append(&mut tx, &event).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Open renewals whose certificate expired are marked expired (so a new one can open).
    pub async fn expire_renewals(&self) -> Result<u64> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            // One authorised to overwrite a card's key lasts OVERWRITE_DAYS from then, whatever
            // the old certificate's end: the holder may come back to complete it.
            "UPDATE renewals SET state = 'expired' WHERE state IN ('communicated', 'forwarded') \
             AND ((overwrite_at IS NULL AND expires_at <= $1) OR overwrite_at <= $1 - $2)",
        )
        .bind(now())
        .bind(OVERWRITE_DAYS * 86_400)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}

/// A contact change waiting for its codes: the new values, and each code's keyed hash.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct ContactChange {
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub mobile_code: Option<String>,
    pub email_code: Option<String>,
}

/// Tries at the codes of one contact change.
pub const CONTACT_TRIES: i64 = 5;

impl Store {
    /// A code as the database keeps it (keyed), for `purpose`.
    pub fn code_index(&self, purpose: &str, code: &str) -> String {
        self.codes.otp_index(purpose, code)
    }

    pub fn code_matches(&self, purpose: &str, code: &str, stored: &str) -> bool {
        self.codes.otp_matches(purpose, code, stored)
    }

    /// A code sealed for `reference` (its canonical form), and opened again.
    pub fn seal_code(&self, reference: &str, code: &str) -> Option<String> {
        self.codes.seal(reference, code)
    }

    pub fn open_code(&self, reference: &str, sealed: &str) -> Option<zeroize::Zeroizing<String>> {
        let plain = self.codes.open(reference, sealed)?;
        String::from_utf8(plain.to_vec()).ok().map(zeroize::Zeroizing::new)
    }

    /// Record a contact change for a renewal waiting for its form (replacing one not yet
    /// confirmed). False when the renewal is not waiting.
    pub async fn propose_contacts(&self, id: &str, change: &ContactChange, expires_at: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE renewals SET contact_change = $2, contact_expires = $3, contact_tries = 0 \
             WHERE id = $1 AND state = 'communicated'",
        )
        .bind(id)
        .bind(serde_json::to_string(change).unwrap_or_default())
        .bind(expires_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            audit(&mut tx, "holder", "renewal-contacts-proposed", id, "").await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// The contact change waiting for its codes, if any.
    pub async fn contact_change(&self, id: &str) -> Result<Option<ContactChange>> {
        let row = sqlx::query("SELECT contact_change FROM renewals WHERE id = $1 AND state = 'communicated'")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| r.get::<Option<String>, _>("contact_change")).and_then(|c| serde_json::from_str(&c).ok()))
    }

    /// Take one try at the codes, by a conditional update (five under any concurrency);
    /// the tries left after it, or None when none is left or the codes expired.
    pub async fn take_contact_try(&self, id: &str) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "UPDATE renewals SET contact_tries = contact_tries + 1 \
             WHERE id = $1 AND contact_change IS NOT NULL AND contact_tries < $2 AND contact_expires > $3 \
             RETURNING contact_tries",
        )
        .bind(id)
        .bind(CONTACT_TRIES)
        .bind(now())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.map(|r| CONTACT_TRIES - r.get::<i64, _>("contact_tries")))
    }

    /// The codes came back: the holder's record takes the new contacts (the request's own
    /// mobile when the holder has no record) and the renewal its new form, in one database
    /// transaction. False when the renewal is no longer waiting, or another change was
    /// proposed since `change` was read.
    pub async fn apply_contacts(&self, id: &str, reference: &str, change: &ContactChange, form: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            // The very change whose codes were checked, not one proposed since.
            "UPDATE renewals SET form = $2, contact_change = NULL WHERE id = $1 AND state = 'communicated' \
             AND contact_change = $3",
        )
        .bind(id)
        .bind(form)
        .bind(serde_json::to_string(change).unwrap_or_default())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !done {
            return Ok(false);
        }
        let holder: Option<i64> = sqlx::query("SELECT holder_id FROM requests WHERE reference = $1")
            .bind(reference)
            .fetch_optional(&mut *tx)
            .await?
            .and_then(|r| r.get(0));
        match holder {
            Some(h) => {
                sqlx::query(
                    "UPDATE holders SET mobile = COALESCE($2, mobile), email = COALESCE($3, email) WHERE id = $1",
                )
                .bind(h)
                .bind(change.mobile.as_deref())
                .bind(change.email.as_deref())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("UPDATE requests SET mobile = COALESCE($2, mobile) WHERE reference = $1")
                    .bind(reference)
                    .bind(change.mobile.as_deref())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let what = [change.mobile.as_ref().map(|_| "mobile"), change.email.as_ref().map(|_| "email")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(",");
        audit(&mut tx, "holder", "renewal-contacts-changed", reference, &what).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// How long an authorised overwrite can be completed with its renewal code (days): long
/// enough for any interruption, not forever (the code alone then renews; DOMAIN.md: after
/// the end a new purchase is needed).
pub const OVERWRITE_DAYS: i64 = 30;

/// How many times a renewal code is sent at the most (anyone knowing the renewal's id may
/// ask for it to be sent again, to the holder only).
pub const OVERWRITE_SENDS: i64 = 10;

impl Store {
    /// Authorise overwriting the card's slot for a forwarded renewal: `sealed` becomes its
    /// renewal code unless it has one already. The code kept (sealed) and whether it is
    /// this call's; None when the renewal is not forwarded.
    pub async fn authorise_overwrite(&self, id: &str, sealed: &str) -> Result<Option<(String, bool)>> {
        let mut tx = self.write().await?;
        let fresh = sqlx::query(
            "UPDATE renewals SET overwrite_code = $2, overwrite_at = $3 \
             WHERE id = $1 AND state = 'forwarded' AND overwrite_code IS NULL",
        )
        .bind(id)
        .bind(sealed)
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if fresh {
            audit(&mut tx, "holder", "renewal-overwrite-authorised", id, "").await?;
        }
        tx.commit().await?;
        Ok(self.overwrite_code(id).await?.map(|(_, code)| (code, fresh)))
    }

    /// A renewal authorised to overwrite, forwarded or (for a certConf repeated after its
    /// answer was lost) completed, and its renewal code (sealed); None once the
    /// authorisation lapsed ([`OVERWRITE_DAYS`]).
    pub async fn overwrite_code(&self, id: &str) -> Result<Option<(Renewal, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, overwrite_code FROM renewals WHERE id = $1 AND overwrite_code IS NOT NULL \
             AND overwrite_at > $2"
        ))
        .bind(id)
        .bind(now() - OVERWRITE_DAYS * 86_400)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|r| (renewal_of(&r, now()), r.get::<String, _>("overwrite_code")))
            .filter(|(r, _)| matches!(r.state.as_str(), "forwarded" | "completed")))
    }

    /// Reserve one sending of the renewal code: at most one per `every` seconds and
    /// [`OVERWRITE_SENDS`] in all (across instances). The seconds to wait, or None when it
    /// may go now.
    pub async fn take_overwrite_send(&self, id: &str, every: i64) -> Result<Option<i64>> {
        let t = now();
        let mut tx = self.write().await?;
        let taken = sqlx::query(
            "UPDATE renewals SET overwrite_sent_at = $2, overwrite_sends = overwrite_sends + 1 \
             WHERE id = $1 AND overwrite_sent_at <= $3 AND overwrite_sends < $4",
        )
        .bind(id)
        .bind(t)
        .bind(t - every)
        .bind(OVERWRITE_SENDS)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        if taken {
            return Ok(None);
        }
        let row = sqlx::query("SELECT overwrite_sent_at, overwrite_sends FROM renewals WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(Some(row.map_or(every, |r| {
            if r.get::<i64, _>(1) >= OVERWRITE_SENDS {
                // Sent often enough: an operator reads it to the holder from here on.
                return OVERWRITE_DAYS * 86_400;
            }
            (r.get::<i64, _>(0) + every - t).max(1)
        })))
    }
}
