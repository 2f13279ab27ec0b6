//! CMP transactions and the certificates they issue, exactly once: the answer to each
//! transaction that issued is kept with the hash of its request, a request's certificate is
//! claimed by one conditional update (so two instances on one database cannot both issue),
//! certConf confirms or revokes it, and one never confirmed in time is revoked. No
//! certificate row is ever deleted.

use sqlx::Row;

use super::{Result, Store, audit, hex, now, unhex};
use crate::registry::{Lifecycle, Profile};

/// The answer a CMP transaction got, kept to answer its retransmissions.
#[derive(Debug, Clone)]
pub struct Answered {
    pub reference: String,
    /// SHA-256 of the request message as received.
    pub request_hash: Vec<u8>,
    pub answer: Vec<u8>,
    /// The senderNonce of the answer: certConf's recipNonce must repeat it.
    pub answer_nonce: Vec<u8>,
    pub serial: Vec<u8>,
}

/// A certificate issued and waiting for certConf.
#[derive(Debug, Clone)]
pub struct Unconfirmed {
    pub serial: Vec<u8>,
    pub der: Vec<u8>,
}

/// What a transaction that issues records, with the answer it sends.
pub struct Issuance<'a> {
    pub reference: &'a str,
    pub transaction_id: &'a [u8],
    pub request_hash: &'a [u8],
    pub answer: &'a [u8],
    pub answer_nonce: &'a [u8],
    pub serial: &'a [u8],
    pub cert_hash: &'a [u8],
    /// The certificate, when this transaction issued it; None when it answers again with
    /// the certificate an interrupted transaction issued for the same key.
    pub fresh: Option<Fresh<'a>>,
}

/// A certificate this transaction issued.
pub struct Fresh<'a> {
    pub der: &'a [u8],
    pub profile: Profile,
    /// The certificate a kur renews.
    pub replaces: Option<&'a [u8]>,
    /// Issued suspended, waiting for the paperwork.
    pub suspended: bool,
    /// Held by the RA for this (verification, originals): only that step releases it.
    pub held_for: Option<&'a str>,
    /// A renewal under the approval policy: due by this time.
    pub approval_due: Option<time::OffsetDateTime>,
}

/// Why a certConf did not go through.
#[derive(Debug, PartialEq, Eq)]
pub enum ConfirmRefused {
    /// The certificate was revoked meanwhile (rejected, or not confirmed in time).
    Revoked,
    /// No certificate of this transaction is waiting (a newer transaction took it over).
    NotWaiting,
}

impl Store {
    /// The answer transaction `transaction_id` got, if it issued.
    pub async fn answered(&self, transaction_id: &[u8]) -> Result<Option<Answered>> {
        let row = sqlx::query(
            "SELECT reference, request_hash, answer, answer_nonce, serial FROM cmp_transactions \
             WHERE transaction_id = $1",
        )
        .bind(hex(transaction_id))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| Answered {
            reference: r.get("reference"),
            request_hash: unhex(&r.get::<String, _>("request_hash")),
            answer: unhex(&r.get::<String, _>("answer")),
            answer_nonce: unhex(&r.get::<String, _>("answer_nonce")),
            serial: unhex(&r.get::<String, _>("serial")),
        }))
    }

    /// The certificate issued for `reference` under `profile` (renewing `replaces`) that
    /// still waits for its certConf, if any.
    pub async fn unconfirmed(
        &self,
        reference: &str,
        profile: Profile,
        replaces: Option<&[u8]>,
    ) -> Result<Option<Unconfirmed>> {
        let row = sqlx::query(
            "SELECT serial, der FROM certificates WHERE reference = $1 AND confirmed = 0 AND state != 'revoked' \
             AND profile = $2 AND COALESCE(replaces, '') = $3 ORDER BY seq DESC LIMIT 1",
        )
        .bind(reference)
        .bind(profile.name())
        .bind(replaces.map(hex).unwrap_or_default())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| Unconfirmed {
            serial: unhex(&r.get::<String, _>("serial")),
            der: unhex(&r.get::<String, _>("der")),
        }))
    }

    /// Whether a confirmed renewal replaced this certificate.
    pub async fn superseded(&self, serial: &[u8]) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM certificates WHERE replaces = $1 AND confirmed = 1")
            .bind(hex(serial))
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Record a transaction's issuance and its answer, in one database transaction. A
    /// fresh certificate claims the request by a conditional update: false when another
    /// transaction (on this instance or another) issued or took it first, and then nothing
    /// of this one is recorded and its certificate never leaves the RA.
    pub async fn record_issuance(&self, i: &Issuance<'_>) -> Result<bool> {
        let mut tx = self.write().await?;
        let claimed = match &i.fresh {
            Some(f) => {
                // ir/p10cr issue while the request waits; kur once it is confirmed.
                let from = if f.replaces.is_some() { "confirmed" } else { "waiting" };
                sqlx::query(
                    "UPDATE requests SET issuance = 'issued', transaction_id = $1, cert_hash = $2, \
                     pending_profile = $3 WHERE reference = $4 AND issuance = $5",
                )
                .bind(hex(i.transaction_id))
                .bind(hex(i.cert_hash))
                .bind(f.profile.name())
                .bind(i.reference)
                .bind(from)
                .execute(&mut *tx)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE requests SET transaction_id = $1 WHERE reference = $2 AND issuance = 'issued' \
                     AND cert_hash = $3",
                )
                .bind(hex(i.transaction_id))
                .bind(i.reference)
                .bind(hex(i.cert_hash))
                .execute(&mut *tx)
                .await?
            }
        };
        if claimed.rows_affected() != 1 {
            return Ok(false);
        }
        let inserted = sqlx::query(
            "INSERT INTO cmp_transactions (transaction_id, reference, request_hash, answer, answer_nonce, serial, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (transaction_id) DO NOTHING",
        )
        .bind(hex(i.transaction_id))
        .bind(i.reference)
        .bind(hex(i.request_hash))
        .bind(hex(i.answer))
        .bind(hex(i.answer_nonce))
        .bind(hex(i.serial))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() != 1 {
            return Ok(false);
        }
        match &i.fresh {
            Some(f) => {
                let (state, since) = if f.suspended { ("suspended", Some(now())) } else { ("active", None) };
                sqlx::query(
                    "INSERT INTO certificates (serial, reference, der, issued_at, seq, confirmed, profile, replaces, \
                     state, state_since, approval, approval_due, held_for, not_after) \
                     VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(seq), 0) + 1 FROM certificates), 0, $5, $6, $7, \
                     $8, $9, $10, $11, $12)",
                )
                .bind(hex(i.serial))
                .bind(i.reference)
                .bind(hex(f.der))
                .bind(now())
                .bind(f.profile.name())
                .bind(f.replaces.map(hex))
                .bind(state)
                .bind(since)
                .bind(f.approval_due.map(|_| "pending"))
                .bind(f.approval_due.map(|d| d.unix_timestamp()))
                .bind(f.held_for)
                .bind(super::notices::not_after(f.der))
                .execute(&mut *tx)
                .await?;
                let action = if f.replaces.is_some() { "renewed" } else { "certificate-issued" };
                audit(&mut tx, "cmp", action, i.reference, &format!("serial {}", hex(i.serial))).await?;
                if f.suspended {
                    audit(&mut tx, "ra", "certificate-suspended", &hex(i.serial), "issued suspended").await?;
                }
                if f.approval_due.is_some() {
                    audit(&mut tx, "cmp", "renewal-awaiting-approval", &hex(i.serial), "").await?;
                }
            }
            None => {
                audit(&mut tx, "cmp", "answer-repeated-in-new-transaction", i.reference, &hex(i.serial)).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// certConf accepted: the certificate of `transaction_id` is confirmed (once; a
    /// repeated certConf changes nothing). Returns the request's profile bookkeeping done
    /// by [`Store::confirm`].
    pub async fn accept(
        &self,
        reference: &str,
        transaction_id: &[u8],
        serial: &[u8],
    ) -> Result<std::result::Result<bool, ConfirmRefused>> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT confirmed, state FROM certificates WHERE serial = $1")
            .bind(hex(serial))
            .fetch_optional(&mut *tx)
            .await?;
        match row.as_ref().map(|r| (r.get::<i64, _>("confirmed"), r.get::<String, _>("state"))) {
            Some((1, _)) => return Ok(Ok(false)),
            Some((_, state)) if state == "revoked" => return Ok(Err(ConfirmRefused::Revoked)),
            Some(_) => {}
            None => return Ok(Err(ConfirmRefused::NotWaiting)),
        }
        let current =
            sqlx::query("SELECT 1 FROM requests WHERE reference = $1 AND transaction_id = $2 AND issuance = 'issued'")
                .bind(reference)
                .bind(hex(transaction_id))
                .fetch_optional(&mut *tx)
                .await?;
        if current.is_none() {
            return Ok(Err(ConfirmRefused::NotWaiting));
        }
        sqlx::query("UPDATE certificates SET confirmed = 1 WHERE serial = $1 AND confirmed = 0")
            .bind(hex(serial))
            .execute(&mut *tx)
            .await?;
        self.confirmed_profile(&mut tx, reference).await?;
        tx.commit().await?;
        Ok(Ok(true))
    }

    /// certConf rejected: the certificate is revoked and stays on record (and on the CRL);
    /// the request waits for a new one.
    pub async fn reject(
        &self,
        reference: &str,
        transaction_id: &[u8],
        serial: &[u8],
    ) -> Result<std::result::Result<(), ConfirmRefused>> {
        let mut tx = self.write().await?;
        let revoked = sqlx::query(
            "UPDATE certificates SET state = 'revoked', state_since = $1, reason = 0 \
             WHERE serial = $2 AND confirmed = 0 AND state != 'revoked'",
        )
        .bind(now())
        .bind(hex(serial))
        .execute(&mut *tx)
        .await?;
        if revoked.rows_affected() != 1 {
            return Ok(Err(ConfirmRefused::Revoked));
        }
        release(&mut tx, reference, Some(transaction_id)).await?;
        audit(&mut tx, "cmp", "certificate-rejected-by-client", reference, &hex(serial)).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Forget the sealed codes of issued requests once their certConf retention is over.
    pub async fn forget_spent_codes(&self) -> Result<u64> {
        let mut tx = self.write().await?;
        let gone = sqlx::query(
            "UPDATE requests SET sealed_code = NULL, counter_sealed = NULL, code_kept_until = NULL \
             WHERE issuance = 'confirmed' AND code_kept_until IS NOT NULL AND code_kept_until < $1",
        )
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(gone.rows_affected())
    }

    /// Revoke every certificate issued more than `seconds` ago and never confirmed (the
    /// client went away between the answer and certConf); their requests wait for a new
    /// one. Returns how many.
    pub async fn revoke_unconfirmed(&self, seconds: i64) -> Result<u64> {
        let stale = sqlx::query(
            "SELECT serial, reference FROM certificates WHERE confirmed = 0 AND state != 'revoked' AND issued_at < $1",
        )
        .bind(now() - seconds)
        .fetch_all(&self.pool)
        .await?;
        let mut n = 0;
        for row in stale {
            let (serial, reference): (String, String) = (row.get("serial"), row.get("reference"));
            let mut tx = self.write().await?;
            let revoked = sqlx::query(
                "UPDATE certificates SET state = 'revoked', state_since = $1, reason = 0 \
                 WHERE serial = $2 AND confirmed = 0 AND state != 'revoked'",
            )
            .bind(now())
            .bind(&serial)
            .execute(&mut *tx)
            .await?;
            if revoked.rows_affected() == 1 {
                let tid = sqlx::query("SELECT transaction_id FROM cmp_transactions WHERE serial = $1")
                    .bind(&serial)
                    .fetch_all(&mut *tx)
                    .await?;
                for t in tid {
                    release(&mut tx, &reference, Some(&unhex(&t.get::<String, _>("transaction_id")))).await?;
                }
                audit(&mut tx, "ra", "certificate-unconfirmed-revoked", &serial, &format!("after {seconds} s")).await?;
                n += 1;
            }
            tx.commit().await?;
        }
        Ok(n)
    }

    /// A certificate's DER by its serial.
    pub async fn certificate_der(&self, serial: &[u8]) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT der FROM certificates WHERE serial = $1")
            .bind(hex(serial))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| unhex(&r.get::<String, _>("der"))))
    }

    /// The stored lifecycle of a certificate and whether it was confirmed.
    pub async fn confirmed(&self, serial: &[u8]) -> Result<Option<(bool, Lifecycle)>> {
        let row = sqlx::query(
            "SELECT confirmed, state, state_since, reason, approval, approval_due FROM certificates WHERE serial = $1",
        )
        .bind(hex(serial))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.get::<i64, _>("confirmed") == 1, super::certificates::lifecycle_of(&r))))
    }
}

/// A request whose pending certificate is gone waits again: for its next certificate
/// (activation), or as confirmed (a renewal leaves the old certificate current).
async fn release(tx: &mut sqlx::AnyConnection, reference: &str, transaction_id: Option<&[u8]>) -> Result<()> {
    let renewal = sqlx::query("SELECT 1 FROM certificates WHERE reference = $1 AND confirmed = 1 LIMIT 1")
        .bind(reference)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    let profile: String = sqlx::query("SELECT profile FROM requests WHERE reference = $1")
        .bind(reference)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    let confirmed: String = sqlx::query("SELECT confirmed_profiles FROM requests WHERE reference = $1")
        .bind(reference)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    let all = Profile::from_name(&profile).map(|p| {
        let done: Vec<Profile> = confirmed.split(',').filter_map(Profile::from_name).collect();
        p.certificates().iter().all(|c| done.contains(c))
    });
    let back = if renewal && all == Some(true) { "confirmed" } else { "waiting" };
    let mut q = String::from(
        "UPDATE requests SET issuance = $1, pending_profile = NULL WHERE reference = $2 AND issuance = 'issued'",
    );
    if transaction_id.is_some() {
        q.push_str(" AND transaction_id = $3");
    }
    let mut query = sqlx::query(&q).bind(back).bind(reference);
    if let Some(t) = transaction_id {
        query = query.bind(hex(t));
    }
    query.execute(&mut *tx).await?;
    Ok(())
}
