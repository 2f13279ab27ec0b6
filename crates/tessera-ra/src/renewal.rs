//! Whether a certificate can be renewed here, asked by the holder's diagnostics before any
//! PIN is spent: `GET /api/v1/renewal/{serial}`. It says what OCSP already tells anyone
//! (active, suspended, revoked), whether a confirmed renewal already replaced it, and the
//! centre's renewal policy; nothing about the holder.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::problem::{internal, problem};
use crate::registry::{Lifecycle, RenewalPolicy};
use crate::state::Ra;

/// A serial number as hex (colons allowed, as certificate viewers print it); None unless
/// every character is a hex digit and they pair up.
pub fn serial_from_hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| *b != b':').collect();
    if digits.is_empty()
        || !digits.len().is_multiple_of(2)
        || digits.len() > 80
        || !digits.iter().all(u8::is_ascii_hexdigit)
    {
        return None;
    }
    digits.chunks(2).map(|pair| std::str::from_utf8(pair).ok().and_then(|p| u8::from_str_radix(p, 16).ok())).collect()
}

pub async fn state(State(ra): State<Arc<Ra>>, Path(serial): Path<String>) -> Response {
    let Some(serial) = serial_from_hex(&serial) else {
        return problem(StatusCode::BAD_REQUEST, "bad-serial", &[]);
    };
    match ra.store.certificate_exists(&serial).await {
        Ok(true) => {}
        Ok(false) => return problem(StatusCode::NOT_FOUND, "unknown-certificate", &[]),
        Err(e) => return internal(e),
    }
    let lifecycle = match ra.store.lifecycle(&serial).await {
        Ok(l) => l.now(time::OffsetDateTime::now_utc()),
        Err(e) => return internal(e),
    };
    let superseded = match ra.store.superseded(&serial).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let state = match lifecycle {
        Lifecycle::Revoked { .. } => "revoked",
        Lifecycle::Suspended { .. } => "suspended",
        Lifecycle::Active if superseded => "superseded",
        Lifecycle::Active => "active",
    };
    let policy = match ra.renewal_policy {
        RenewalPolicy::Automatic => "automatic",
        RenewalPolicy::Approval => "approval",
    };
    Json(json!({ "state": state, "renewable": state == "active", "policy": policy })).into_response()
}

#[cfg(test)]
mod tests {
    use super::serial_from_hex;

    #[test]
    fn serials_are_hex_with_or_without_colons_and_nothing_else() {
        assert_eq!(serial_from_hex("0A:1b"), Some(vec![0x0a, 0x1b]));
        assert_eq!(serial_from_hex("0a1b"), Some(vec![0x0a, 0x1b]));
        for bad in ["", "0", "0g", "+1", "é1", &"00".repeat(41)] {
            assert_eq!(serial_from_hex(bad), None, "{bad}");
        }
    }
}
