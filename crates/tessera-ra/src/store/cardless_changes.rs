//! Contact changes asked without the card: made (codes sent to the new e-mail and
//! mobile), confirmed with both codes and the identity document's scans (submitted to
//! the holder's office), then applied or refused by an operator there. Each step is a
//! conditional update from the state it comes from.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::{Event, append};
use super::documents::NewDocument;
use super::{Result, Store, now};

/// Wrong codes before a contact change is spent.
pub const CARDLESS_TRIES: i64 = 5;
/// Contact changes one tax code, e-mail or mobile may be asked for in a day.
pub const CARDLESS_PER_DAY: i64 = 3;

/// What became of a change asked on the public page.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    Added,
    /// Already [`CARDLESS_PER_DAY`] for this tax code, e-mail or mobile today.
    TooManyForThese,
    /// The hour's allowance for everyone is used up.
    Busy,
}

/// How long the codes of a new contact change work.
pub const CARDLESS_HOURS: i64 = 24;

#[derive(Debug, Clone)]
pub struct CardlessChange {
    pub id: String,
    pub cf: String,
    pub holder_id: Option<i64>,
    pub office: Option<String>,
    pub new_email: String,
    pub new_mobile: String,
    pub address: String,
    pub email_code: String,
    pub sms_code: String,
    pub tries: i64,
    /// confirming, submitted, applied, refused.
    pub state: String,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
    /// The holder's name and contacts now (of the holder it is for).
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub old_email: Option<String>,
    pub old_mobile: Option<String>,
    pub old_address: Option<String>,
}

const VIEW: &str = "SELECT c.*, h.given_name, h.surname, h.email AS old_email, h.mobile AS old_mobile, \
     h.address AS old_address FROM contact_changes c LEFT JOIN holders h ON h.id = c.holder_id";

fn view_of(r: &AnyRow) -> CardlessChange {
    CardlessChange {
        id: r.get("id"),
        cf: r.get("cf"),
        holder_id: r.get("holder_id"),
        office: r.get("office"),
        new_email: r.get("new_email"),
        new_mobile: r.get("new_mobile"),
        address: r.get("address"),
        email_code: r.get("email_code"),
        sms_code: r.get("sms_code"),
        tries: r.get("tries"),
        state: r.get("state"),
        created_at: r.get("created_at"),
        submitted_at: r.get("submitted_at"),
        decided_by: r.get("decided_by"),
        decided_at: r.get("decided_at"),
        reason: r.get("reason"),
        given_name: r.get("given_name"),
        surname: r.get("surname"),
        old_email: r.get("old_email"),
        old_mobile: r.get("old_mobile"),
        old_address: r.get("old_address"),
    }
}

/// What a new contact change is made of.
pub struct NewCardlessChange<'a> {
    pub id: &'a str,
    pub cf: &'a str,
    pub holder_id: Option<i64>,
    pub office: Option<&'a str>,
    pub new_email: &'a str,
    pub new_mobile: &'a str,
    pub address: &'a str,
    /// Keyed hashes of the codes sent.
    pub email_code: &'a str,
    pub sms_code: &'a str,
}

impl Store {
    /// Record a change asked on the public page, unless too many were asked: for this tax
    /// code, e-mail or mobile in the last day ([`CARDLESS_PER_DAY`]), or by everyone in
    /// the last hour (`per_hour`). Each sends an e-mail and an SMS.
    pub async fn add_cardless_change(&self, c: &NewCardlessChange<'_>, per_hour: i64, by: &Event<'_>) -> Result<Added> {
        let mut tx = self.write().await?;
        let same: i64 = sqlx::query(
            "SELECT COUNT(*) FROM contact_changes WHERE created_at > $1 AND (cf = $2 OR new_email = $3 OR new_mobile = $4)",
        )
        .bind(now() - 86_400)
        .bind(c.cf)
        .bind(c.new_email)
        .bind(c.new_mobile)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        if same >= CARDLESS_PER_DAY {
            return Ok(Added::TooManyForThese);
        }
        let all: i64 = sqlx::query("SELECT COUNT(*) FROM contact_changes WHERE created_at > $1")
            .bind(now() - 3600)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        if all >= per_hour {
            return Ok(Added::Busy);
        }
        sqlx::query(
            "INSERT INTO contact_changes (id, cf, holder_id, office, new_email, new_mobile, address, email_code, \
             sms_code, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'confirming', $10)",
        )
        .bind(c.id)
        .bind(c.cf)
        .bind(c.holder_id)
        .bind(c.office)
        .bind(c.new_email)
        .bind(c.new_mobile)
        .bind(c.address)
        .bind(c.email_code)
        .bind(c.sms_code)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let subject = format!("contact-change {}", &c.id[..8]);
        append(&mut tx, &Event { action: "contact-change-asked", subject: &subject, detail: c.cf, ..by.clone() })
            .await?;
        tx.commit().await?;
        Ok(Added::Added)
    }

    pub async fn cardless_change(&self, id: &str) -> Result<Option<CardlessChange>> {
        let row = sqlx::query(&format!("{VIEW} WHERE c.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(view_of))
    }

    /// A wrong code: counted; the tries left.
    pub async fn cardless_change_failed(&self, id: &str) -> Result<i64> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE contact_changes SET tries = tries + 1 WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let tries: i64 =
            sqlx::query("SELECT tries FROM contact_changes WHERE id = $1").bind(id).fetch_one(&mut *tx).await?.get(0);
        tx.commit().await?;
        Ok((CARDLESS_TRIES - tries).max(0))
    }

    /// Both codes right: the scans kept, the change submitted to its office (from
    /// confirming, within its tries and its time), all or nothing.
    pub async fn submit_cardless_change(&self, id: &str, scans: &[NewDocument<'_>], by: &Event<'_>) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE contact_changes SET state = 'submitted', submitted_at = $1 WHERE id = $2 AND state = 'confirming' \
             AND tries < $3 AND created_at > $4",
        )
        .bind(now())
        .bind(id)
        .bind(CARDLESS_TRIES)
        .bind(now() - CARDLESS_HOURS * 3600)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !done {
            return Ok(false);
        }
        self.keep_documents(&mut tx, scans, by).await?;
        let subject = format!("contact-change {}", &id[..8]);
        append(&mut tx, &Event { action: "contact-change-submitted", subject: &subject, ..by.clone() }).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The submitted contact changes of `office`, oldest first.
    pub async fn cardless_changes(&self, office: &str, state: &str) -> Result<Vec<CardlessChange>> {
        let rows = sqlx::query(&format!(
            "{VIEW} WHERE c.office = $1 AND c.state = $2 AND c.holder_id IS NOT NULL ORDER BY c.submitted_at, c.id LIMIT 500"
        ))
        .bind(office)
        .bind(state)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(view_of).collect())
    }

    /// Apply (the holder's e-mail, mobile and residence replaced) or refuse a submitted
    /// change, with the operator's reason; false when it is not submitted any more.
    pub async fn decide_cardless_change(&self, id: &str, apply: bool, reason: &str, by: &Event<'_>) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE contact_changes SET state = $1, decided_by = $2, decided_at = $3, reason = $4 \
             WHERE id = $5 AND state = 'submitted'",
        )
        .bind(if apply { "applied" } else { "refused" })
        .bind(by.actor)
        .bind(now())
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !done {
            return Ok(false);
        }
        if apply {
            sqlx::query(
                "UPDATE holders SET email = c.new_email, mobile = c.new_mobile, address = c.address \
                 FROM contact_changes c WHERE c.id = $1 AND holders.id = c.holder_id",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let subject = format!("contact-change {}", &id[..8]);
        let action = if apply { "contact-change-applied" } else { "contact-change-refused" };
        append(&mut tx, &Event { action, subject: &subject, detail: reason, ..by.clone() }).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked<'a>(id: &'a str, cf: &'a str, email: &'a str, mobile: &'a str) -> NewCardlessChange<'a> {
        NewCardlessChange {
            id,
            cf,
            holder_id: None,
            office: None,
            new_email: email,
            new_mobile: mobile,
            address: "Via Roma 1",
            email_code: "x",
            sms_code: "y",
        }
    }

    #[tokio::test]
    async fn three_a_day_for_the_same_contacts_and_a_cap_an_hour_for_all() {
        let store = Store::open("sqlite::memory:", crate::codes::CodeKeys::ephemeral().unwrap()).await.unwrap();
        let by = Event::default();
        let cf = "RSSMRA80A01H501U";
        for (id, email, mobile) in [
            ("a1234567", "a@x.it", "+393330000001"),
            ("b1234567", "b@x.it", "+393330000002"),
            ("c1234567", "c@x.it", "+393330000003"),
        ] {
            assert_eq!(store.add_cardless_change(&asked(id, cf, email, mobile), 100, &by).await.unwrap(), Added::Added);
        }
        // The same tax code, or someone else's code with an e-mail or mobile used thrice.
        let fourth = asked("d1234567", cf, "d@x.it", "+393330000004");
        assert_eq!(store.add_cardless_change(&fourth, 100, &by).await.unwrap(), Added::TooManyForThese);
        // Three other tax codes with one mobile: a fourth to that mobile is refused.
        for (id, cf) in
            [("e1234567", "VRDLGU70A01F205Z"), ("g1234567", "BNCLRA85C45F205X"), ("h1234567", "NRELIA80A41H501Q")]
        {
            let email = format!("{id}@x.it");
            let same_mobile = asked(id, cf, &email, "+393330000009");
            assert_eq!(store.add_cardless_change(&same_mobile, 100, &by).await.unwrap(), Added::Added);
        }
        let other = "FBBLNE70A41H501N";
        let fourth = asked("i1234567", other, "i@x.it", "+393330000009");
        assert_eq!(store.add_cardless_change(&fourth, 100, &by).await.unwrap(), Added::TooManyForThese);
        // Everyone's allowance for the hour.
        let fresh = asked("f1234567", other, "f@x.it", "+393330000006");
        assert_eq!(store.add_cardless_change(&fresh, 6, &by).await.unwrap(), Added::Busy);
        assert_eq!(store.add_cardless_change(&fresh, 7, &by).await.unwrap(), Added::Added);
    }
}
