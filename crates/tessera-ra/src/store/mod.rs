//! The RA's database (SQLite through sqlx, migrations in migrations/sqlite): requests,
//! issued certificates with their lifecycle, and the audit log of every state change.
//! Identifiers and DER are stored as hex, times as Unix seconds.

use sqlx::Row;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool};

pub mod accounts;
mod attempts;
pub mod audit;
pub mod audit_search;
pub mod ca_notices;
pub mod cardless_changes;
mod certificate_views;
mod certificates;
pub mod documents;
pub mod holders;
pub(crate) mod notices;
pub mod office;
mod renewal_views;
mod renewals;
mod requests;
mod sign_in_waits;
mod transactions;
pub mod verification;
pub use attempts::MacCheck;
pub use certificate_views::{CertificateView, Transition};
pub use renewal_views::RenewalView;
pub use renewals::{CONTACT_TRIES, ContactChange, NewRenewal, OVERWRITE_DAYS, Renewal};
pub use transactions::{ConfirmRefused, Fresh, Issuance as NewIssuance};
use zeroize::Zeroizing;

use crate::codes::CodeKeys;
use crate::gateway::Message;
use crate::registry::Profile;
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
    /// The keys of the audit chain, for the entries this transaction appends.
    keys: &'a CodeKeys,
    postgres: bool,
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

/// A LIKE pattern finding `text` anywhere, its own `%`, `_` and `\\` taken literally
/// (with `ESCAPE '\\'`).
pub(crate) fn contains(text: &str) -> String {
    let escaped: String =
        text.trim().chars().flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] }).collect();
    format!("%{escaped}%")
}

/// The pattern that narrows a search through SQLite's trigram index: `text` anywhere, its
/// `%` and `_` left as wildcards (it may only find more; the search's own conditions decide).
pub(crate) fn narrowing(text: &str) -> String {
    format!("%{}%", text.trim())
}

/// A binary column as the store keeps it: lower-case hexadecimal text (one form in both
/// databases), written and read through the `hex` crate.
pub fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

/// A hexadecimal column read back; empty if the text is not hexadecimal (never written so).
pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_default()
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
    /// The RA's keys (codes, seals, the audit chain).
    pub fn codes(&self) -> &CodeKeys {
        &self.codes
    }

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
        // SQLite: the write lock taken at BEGIN (IMMEDIATE), not at the first write: a
        // deferred transaction that read first gets "database is locked" at once, without
        // waiting, when another connection committed since its read.
        let tx =
            if writer.is_some() { self.pool.begin_with("BEGIN IMMEDIATE").await? } else { self.pool.begin().await? };
        Ok(Write { tx, _writer: writer, keys: &self.codes, postgres: self.postgres() })
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
async fn audit(w: &mut Write<'_>, actor: &str, action: &str, subject: &str, detail: &str) -> Result<()> {
    audit::append(w, &audit::Event { actor, action, subject, detail, ..Default::default() }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{Holder, Issuance, Lifecycle, RegisteredRequest};
    use audit::Event;

    fn request() -> RegisteredRequest {
        RegisteredRequest {
            reference: "REQ-1".into(),
            activation_code: Zeroizing::new("CODE".into()),
            holder: Holder::new("MARIO", "ROSSI", "RSSMRA80A01H501U"),
            profile: Profile::Signature,
            mobile: Some("+393331234567".into()),
            armed: true,
            issued_suspended: false,
            office: None,
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
                held_for: None,
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
            store.audit_log("", 100, "").await.unwrap().into_iter().rev().map(|a| a.action).collect();
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

    #[test]
    fn a_search_takes_what_is_typed_literally() {
        assert_eq!(contains(" 50%_a\\ "), "%50\\%\\_a\\\\%");
        assert_eq!(contains("ROSSI"), "%ROSSI%");
    }

    #[tokio::test]
    async fn a_revoked_certificate_stays_revoked_whatever_comes_after() {
        let store = Store::open("sqlite::memory:", CodeKeys::ephemeral().unwrap()).await.unwrap();
        assert!(store.register(&request()).await.unwrap());
        assert!(store.record_issuance(&issuance(&[1], &[0x0A], b"der", true)).await.unwrap());
        let now = time::OffsetDateTime::now_utc();
        // Two changes decided on the same reading (active): the second finds it moved.
        let suspend = Transition {
            to: Lifecycle::Suspended { since: now },
            from: &["active"],
            invalidity: None,
            held_for: None,
            unheld_only: false,
        };
        assert!(store.change_lifecycle(&[0x0A], &suspend, &Event::default()).await.unwrap());
        assert!(!store.change_lifecycle(&[0x0A], &suspend, &Event::default()).await.unwrap());
        store.set_lifecycle(&[0x0A], Lifecycle::Revoked { at: now, reason: 1 }).await.unwrap();
        // A release or a reactivation decided before the revocation changes nothing.
        store.set_lifecycle(&[0x0A], Lifecycle::Active).await.unwrap();
        let back = Transition {
            to: Lifecycle::Active,
            from: &["suspended"],
            invalidity: None,
            held_for: None,
            unheld_only: false,
        };
        assert!(!store.change_lifecycle(&[0x0A], &back, &Event::default()).await.unwrap());
        assert!(matches!(store.lifecycle(&[0x0A]).await.unwrap(), Lifecycle::Revoked { reason: 1, .. }));
    }

    #[tokio::test]
    async fn a_new_password_ends_the_account_s_other_sessions_and_a_reset_its_tokens() {
        let store = Store::open("sqlite::memory:", CodeKeys::ephemeral().unwrap()).await.unwrap();
        let new = accounts::NewAccount {
            name: "anna.odr",
            office: "RM01",
            role: crate::accounts::Role::Operator,
            email: None,
        };
        store
            .add_account(&new, "hash", "sealed", &Event { actor: "admin", ..Default::default() })
            .await
            .unwrap()
            .unwrap();
        let anna = store.account("anna.odr").await.unwrap().unwrap();
        for id in ["here", "elsewhere"] {
            store.open_session(&anna, id, "full", "csrf", &Event::default()).await.unwrap();
        }
        store.set_password(anna.id, "new hash", "here", &Event::default()).await.unwrap();
        assert!(store.session("here").await.unwrap().is_some(), "the session that changed it goes on");
        assert!(store.session("elsewhere").await.unwrap().is_none(), "the others end");
        store.add_token(anna.id, "script", "token-sha", 180, &Event::default()).await.unwrap();
        assert!(store.token_account("token-sha").await.unwrap().is_some());
        assert!(store.reset_account("anna.odr", "reset hash", None, &Event::default()).await.unwrap());
        assert!(store.token_account("token-sha").await.unwrap().is_none(), "a reset revokes the tokens");
        // An expired token does not work either.
        store.add_token(anna.id, "old", "old-sha", -1, &Event::default()).await.unwrap();
        assert!(store.token_account("old-sha").await.unwrap().is_none());
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
