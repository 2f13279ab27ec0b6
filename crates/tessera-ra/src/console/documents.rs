//! Uploaded documents served back: only to the office that owns them and to the
//! verifiers, always as a download of the type they were found to be, never rendered
//! in the console's origin.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::session::Me;
use crate::state::Ra;

/// GET /console/documents/{id}
pub async fn download(State(ra): State<Arc<Ra>>, me: Me, Path(id): Path<i64>) -> Response {
    let Ok(Some((info, bytes))) = ra.store.document(id).await else { return StatusCode::NOT_FOUND.into_response() };
    let allowed = if me.account.role.serves_office() {
        info.office.as_deref() == Some(me.office())
    } else {
        // Verifiers: the documents of requests sent to verification.
        info.owner_kind == "request"
            && ra
                .store
                .request_view(&info.owner)
                .await
                .ok()
                .flatten()
                .is_some_and(|r| super::requests::may_see(&me, &r))
    };
    if !allowed {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(bytes) = bytes else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the document does not open").into_response();
    };
    let _ = ra.store.audit_event(&me.event("document-downloaded", &info.owner, &format!("document {id}"))).await;
    let name = format!("{}-{}-{id}.{}", info.owner, info.kind, info.media.extension());
    (
        [
            (header::CONTENT_TYPE, info.media.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::HeaderName::from_static("content-security-policy"), "default-src 'none'; sandbox".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
