//! The paper side of a step, checked the same wherever it is asked for (identification,
//! a lifecycle change, a contact change): the identity document shown (kind, number,
//! issuer, dates; an expired one refused) and the uploaded scans (PDF, JPEG or PNG by
//! their content, within the size and count limits; a correction may keep what was
//! uploaded before).

use std::collections::HashMap;

use super::FormErrors;
use super::session::Upload;
use super::ui::Ui;
use crate::config::ConsoleSettings;
use crate::documents::{Media, sniff};
use crate::store::verification::IdDocument;

/// The identity documents an operator may record.
pub const DOCUMENT_KINDS: [&str; 5] = ["identity-card", "passport", "driving-licence", "residence-permit", "other"];

/// The identity document typed in the form (fields `doc_kind`, `doc_number`,
/// `doc_issuer`, `doc_issued`, `doc_expires`), checked: each field said, dates that read,
/// not issued in the future, not expired.
pub fn id_document(ui: &Ui, f: &HashMap<String, String>, errors: &mut FormErrors) -> IdDocument {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let d = IdDocument {
        kind: get("doc_kind"),
        number: get("doc_number").to_uppercase(),
        issuer: get("doc_issuer"),
        issued: get("doc_issued"),
        expires: get("doc_expires"),
        mode: if get("mode") == "remote" { "remote".into() } else { "in-person".into() },
        signer: None,
    };
    if !DOCUMENT_KINDS.contains(&d.kind.as_str()) {
        errors.field("doc_kind", ui.t("console-error-required"), ui.t("console-error-doc-kind-remedy"));
    }
    for (field, value) in [("doc_number", &d.number), ("doc_issuer", &d.issuer)] {
        if value.is_empty() || value.chars().count() > 64 || value.chars().any(char::is_control) {
            errors.field(field, ui.t("console-error-required"), ui.t("console-error-required-remedy"));
        }
    }
    let today = time::OffsetDateTime::now_utc().date();
    match crate::registration::parse_date(&d.issued) {
        Some(issued) if issued <= today => {}
        _ => errors.field("doc_issued", ui.t("console-error-date"), ui.t("console-error-date-remedy")),
    }
    match crate::registration::parse_date(&d.expires) {
        Some(expires) if expires < today => {
            errors.field("doc_expires", ui.t("console-error-doc-expired"), ui.t("console-error-doc-expired-remedy"))
        }
        Some(_) => {}
        None => errors.field("doc_expires", ui.t("console-error-date"), ui.t("console-error-date-remedy")),
    }
    d
}

/// What an upload of `kind` is: the remote form a CMS signature (read as one), every
/// other kind a PDF, JPEG or PNG by its content.
fn media_of(kind: &str, bytes: &[u8]) -> Option<Media> {
    if kind == crate::documents::kinds::SIGNED_FORM_P7M {
        let der = tessera_protocol::cades::from_transport(bytes)?;
        return tessera_protocol::cades::certificates(&der).is_ok().then_some(Media::Cms);
    }
    sniff(bytes)
}

/// One file accepted: its form field (the document's kind), what it is, its bytes.
pub struct Accepted<'a> {
    pub kind: &'a str,
    pub media: Media,
    pub bytes: &'a [u8],
}

/// The files posted for `kinds`, checked against the limits: each kind in `wanted` needs
/// at least one file unless one is `kept` from before. Problems go to `errors` under the
/// kind's field.
pub fn accepted<'a>(
    ui: &Ui,
    limits: &ConsoleSettings,
    files: &'a [Upload],
    kinds: &[&'a str],
    wanted: &[&str],
    kept: &[String],
    errors: &mut FormErrors,
) -> Vec<Accepted<'a>> {
    let mb = (limits.upload_max_bytes / (1024 * 1024)).to_string();
    let n = limits.uploads_per_step.to_string();
    let mut out = Vec::new();
    for &kind in kinds {
        let posted: Vec<&Upload> = files.iter().filter(|u| u.field == kind).collect();
        if posted.is_empty() {
            if wanted.contains(&kind) && !kept.iter().any(|k| k == kind) {
                errors.field(kind, ui.t("console-error-file-missing"), ui.t("console-error-file-missing-remedy"));
            }
            continue;
        }
        if posted.len() > limits.uploads_per_step {
            errors.field(
                kind,
                ui.t1("console-error-too-many-files", "n", &n),
                ui.t1("console-error-too-many-files-remedy", "n", &n),
            );
            continue;
        }
        for f in posted {
            if f.too_large {
                errors.field(
                    kind,
                    ui.t1("console-error-file-too-large", "mb", &mb),
                    ui.t1("console-error-file-too-large-remedy", "mb", &mb),
                );
            } else if let Some(media) = media_of(kind, &f.bytes) {
                out.push(Accepted { kind, media, bytes: &f.bytes });
            } else if kind == crate::documents::kinds::SIGNED_FORM_P7M {
                errors.field(
                    kind,
                    ui.t("console-error-remote-signature"),
                    ui.t("console-error-remote-signature-remedy"),
                );
            } else {
                errors.field(kind, ui.t("console-error-file-type"), ui.t("console-error-file-type-remedy"));
            }
        }
    }
    out
}
