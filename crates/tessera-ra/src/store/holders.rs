//! Holders as operators register them, and their contacts (which must not be another
//! person's).

use sqlx::Row;

use sqlx::any::AnyRow;

use super::audit::{Event, append};
use super::{NewHolder, Result, Store, now};

/// A registered holder: their data, and the office that registered them.
#[derive(Debug, Clone)]
pub struct HolderRecord {
    pub id: i64,
    pub data: NewHolder,
    pub office: Option<String>,
    pub created_at: i64,
}

fn holder_of_row(r: &AnyRow) -> HolderRecord {
    HolderRecord {
        id: r.get("id"),
        data: NewHolder {
            given_name: r.get("given_name"),
            surname: r.get("surname"),
            cf: r.get("cf"),
            passport: r.get("passport"),
            passport_country: r.get("passport_country"),
            mobile: r.get("mobile"),
            email: r.get("email"),
            cf_forced: r.get::<i64, _>("cf_forced") != 0,
            sex: r.get("sex"),
            birth_date: r.get("birth_date"),
            birth_place: r.get("birth_place"),
            address: r.get("address"),
            cf_accepted_anyway: r.get::<Option<String>, _>("cf_accepted_anyway").is_some(),
        },
        office: r.get("office"),
        created_at: r.get("created_at"),
    }
}

impl Store {
    /// Register a holder for `office` (None: no office); `accepted`: the tax code's
    /// mismatches the operator accepted anyway. Returns its id.
    pub async fn insert_holder(
        &self,
        h: &NewHolder,
        office: Option<&str>,
        accepted: Option<&str>,
        by: &Event<'_>,
    ) -> Result<i64> {
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO holders (given_name, surname, cf, passport, mobile, email, cf_forced, created_by, created_at, \
             passport_country, office, sex, birth_date, birth_place, address, cf_accepted_anyway) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        )
        .bind(&h.given_name)
        .bind(&h.surname)
        .bind(&h.cf)
        .bind(&h.passport)
        .bind(&h.mobile)
        .bind(&h.email)
        .bind(h.cf_forced as i64)
        .bind(by.actor)
        .bind(now())
        .bind(&h.passport_country)
        .bind(office)
        .bind(&h.sex)
        .bind(&h.birth_date)
        .bind(&h.birth_place)
        .bind(&h.address)
        .bind(accepted)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let action = match (h.cf_forced, accepted) {
            (true, _) => "holder-registered (tax code forced)",
            (_, Some(_)) => "holder-registered (tax code accepted anyway)",
            _ => "holder-registered",
        };
        let subject = format!("holder {id}");
        let detail = format!(
            "{} {}{}",
            h.surname,
            h.given_name,
            accepted.map(|a| format!("; accepted: {a}")).unwrap_or_default()
        );
        append(&mut tx, &Event { action, subject: &subject, detail: &detail, ..by.clone() }).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Registered holders with this tax code or passport number (the registration's
    /// search first), of `office` (empty: of every office).
    pub async fn holders_by_identity(&self, identity: &str, office: &str) -> Result<Vec<HolderRecord>> {
        let identity = identity.trim().to_uppercase();
        let rows = sqlx::query(
            "SELECT * FROM holders WHERE (upper(cf) = $1 OR upper(passport) = $2) AND ($3 = '' OR office = $4) \
             ORDER BY id DESC",
        )
        .bind(&identity)
        .bind(&identity)
        .bind(office)
        .bind(office)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(holder_of_row).collect())
    }

    /// A holder by id, with their office.
    pub async fn holder_record(&self, id: i64) -> Result<Option<HolderRecord>> {
        let row = sqlx::query("SELECT * FROM holders WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(holder_of_row))
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
        Ok(self.holder_record(id).await?.map(|h| h.data))
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
