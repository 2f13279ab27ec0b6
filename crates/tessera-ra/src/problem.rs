//! Errors of the JSON APIs: `{code, params}` with an HTTP status, never a rendered
//! message (clients render them from their own locales). [`ApiError`] is the one error
//! type handlers return; [`JsonBody`] reads request bodies, so that a malformed one is
//! answered the same way.

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

/// A refusal of the JSON APIs: an HTTP status and `{code, params}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    params: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str) -> ApiError {
        ApiError { status, code, params: Vec::new() }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> ApiError {
        self.params.push((name, value.to_string()));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem(self.status, self.code, &self.params)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        tracing::error!(error = %e, "database");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "ra-internal")
    }
}

/// A JSON request body. Not JSON, not `application/json`, or not the expected fields:
/// `{code, params}` like every other refusal (malformed-json 400, json-content-type 415,
/// json-fields 422, with the parser's reason).
pub struct JsonBody<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection;
        match <Json<T> as axum::extract::FromRequest<S>>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => {
                let code = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => "json-content-type",
                    JsonRejection::JsonDataError(_) => "json-fields",
                    _ => "malformed-json",
                };
                Err(ApiError::new(rejection.status(), code).with("reason", rejection.body_text()))
            }
        }
    }
}
