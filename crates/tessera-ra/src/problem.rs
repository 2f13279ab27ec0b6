//! Errors of the JSON APIs: `{code, params}` with an HTTP status, never a rendered
//! message (clients render them from their own locales).

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Serialize)]
struct Problem {
    code: &'static str,
    params: BTreeMap<&'static str, String>,
}

pub fn problem(status: StatusCode, code: &'static str, params: &[(&'static str, String)]) -> Response {
    (status, Json(Problem { code, params: params.iter().cloned().collect() })).into_response()
}

pub fn internal(e: sqlx::Error) -> Response {
    tracing::error!(error = %e, "database");
    problem(StatusCode::INTERNAL_SERVER_ERROR, "ra-internal", &[])
}
