//! The journal: what a flow has done to which card for which request, written before and
//! after each step (never a secret: key ids, public keys, certificates and CMP transaction
//! ids only), so that the next run resumes where an interrupted one stopped. One JSON file
//! per request under `<data dir>/journal/`, replaced atomically (write, fsync, rename).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tessera_core::ErrorPayload;
use tessera_core::card::Role;

use crate::prompter::Step;
use crate::ra::cmp::Transaction;
use crate::{Error, Result};

/// Where one certificate of the profile stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateState {
    /// The key pair made for it: CKA_ID (hex), algorithm, subjectPublicKey content (hex).
    pub key_id: Option<String>,
    pub algorithm: Option<tessera_pki::KeyAlgorithm>,
    pub public_key: Option<String>,
    /// What the CA returned (DER, hex), and in which CMP transaction.
    pub certificate: Option<String>,
    pub transaction: Option<Transaction>,
    /// The answer's extraCerts and caPubs (DER, hex), to check the chain again on resume.
    #[serde(default)]
    pub chain: Vec<String>,
    #[serde(default)]
    pub ca_pubs: Vec<String>,
    /// The CA's note (issued suspended, ...).
    pub note: Option<String>,
    pub installed: bool,
    pub confirmed: bool,
}

/// One line of the step timeline (for the error file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: String,
    pub step: Step,
    /// started, done, resumed, failed
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorPayload>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub reference: String,
    /// The token the keys went to (PKCS#11 URI of the token).
    pub token: String,
    pub ra: String,
    pub profile: String,
    pub started_at: String,
    #[serde(default)]
    pub completed: bool,
    #[serde(default)]
    pub certificates: BTreeMap<Role, CertificateState>,
    /// Renewal: the RA's renewal request whose form was signed and accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_form: Option<String>,
    /// Renewal of a fixed-slot card: the RA authorised overwriting the slot (the renewal
    /// code that completes it went to `overwrite_sent_to`, masked; the code is not kept).
    #[serde(default)]
    pub overwrite_authorised: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overwrite_sent_to: Option<String>,
    /// Renewal of a fixed-slot card: the certificate renewed (DER, hex), which the card no
    /// longer holds once its slot is rewritten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_certificate: Option<String>,
    #[serde(default)]
    pub events: Vec<Event>,
}

impl Record {
    /// The serial number of the card the keys went to, when its URI names one.
    pub fn card_serial(&self) -> Option<String> {
        tessera_core::uri::Pkcs11Uri::parse(&self.token).ok()?.serial
    }
}

pub struct Journal {
    path: PathBuf,
    pub record: Record,
}

fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The journal directory.
pub fn dir() -> PathBuf {
    crate::settings::data_dir().join("journal")
}

fn file_name(reference: &str) -> String {
    let safe: String =
        reference.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("activation-{safe}.json")
}

impl Journal {
    /// The journal of `reference`, as an earlier run left it, or a new one.
    pub fn open(reference: &str, token: &str, ra: &str, profile: &str) -> Result<Journal> {
        let path = dir().join(file_name(reference));
        let record = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::Storage { path: path.display().to_string(), reason: e.to_string() })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Record {
                reference: reference.to_owned(),
                token: token.to_owned(),
                ra: ra.to_owned(),
                profile: profile.to_owned(),
                started_at: now(),
                completed: false,
                certificates: BTreeMap::new(),
                renewal_form: None,
                overwrite_authorised: false,
                overwrite_sent_to: None,
                old_certificate: None,
                events: Vec::new(),
            },
            Err(e) => return Err(Error::Storage { path: path.display().to_string(), reason: e.to_string() }),
        };
        Ok(Journal { path, record })
    }

    /// Every journal on this computer (for the error file).
    pub fn all() -> Vec<Record> {
        let Ok(entries) = std::fs::read_dir(dir()) else { return Vec::new() };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .collect()
    }

    /// Whether a journal for `reference` exists and is not complete (a run to resume).
    /// The journal of `reference` when one exists and is not complete.
    pub fn pending(reference: &str) -> Option<Record> {
        std::fs::read(dir().join(file_name(reference)))
            .ok()
            .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
            .filter(|r| !r.completed)
    }

    pub fn in_progress(reference: &str) -> bool {
        std::fs::read(dir().join(file_name(reference)))
            .ok()
            .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
            .is_some_and(|r| !r.completed)
    }

    pub fn cert(&mut self, role: Role) -> &mut CertificateState {
        self.record.certificates.entry(role).or_default()
    }

    pub fn event(&mut self, step: Step, state: &str, error: Option<ErrorPayload>) -> Result<()> {
        self.record.events.push(Event { at: now(), step, state: state.to_owned(), error });
        self.save()
    }

    /// Write the journal: a temporary file, fsync, rename over the old one.
    pub fn save(&self) -> Result<()> {
        let storage =
            |e: std::io::Error| Error::Storage { path: self.path.display().to_string(), reason: e.to_string() };
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(storage)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp).map_err(storage)?;
        file.write_all(&serde_json::to_vec_pretty(&self.record).unwrap_or_default()).map_err(storage)?;
        file.sync_all().map_err(storage)?;
        std::fs::rename(&tmp, &self.path).map_err(storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_reads_back_what_was_saved() {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: this test binary's tests do not read the environment concurrently with it.
        unsafe { std::env::set_var("TESSERA_DATA_DIR", dir.path()) };
        let mut j = Journal::open("REQ/1", "pkcs11:token=T", "http://127.0.0.1:1", "signature").unwrap();
        j.cert(Role::Signature).key_id = Some("0a0b".into());
        j.event(Step::Generate { role: Role::Signature }, "done", None).unwrap();
        let again = Journal::open("REQ/1", "", "", "").unwrap();
        assert_eq!(again.record, j.record);
        assert!(again.path.file_name().unwrap().to_str().unwrap().starts_with("activation-REQ_1"));
        assert_eq!(Journal::all().len(), 1);
    }
}
