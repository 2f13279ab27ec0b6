//! Holders as operators register them, and their contacts (which must not be another
//! person's).

use sqlx::Row;

use super::{NewHolder, Result, Store, audit, now};

impl Store {
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
}
