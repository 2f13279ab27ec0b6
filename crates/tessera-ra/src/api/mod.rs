//! The JSON API: the holder's activation, renewal and the operator API. Handlers answer
//! with the typed contract of `tessera_protocol::workflow` and refuse with
//! [`Refusal`]s through `?`: [`ApiError`] turns one into `{code, params}` with its HTTP
//! status. The extractors here refuse before a handler runs: a body that is not the
//! expected JSON ([`JsonBody`]), a client over its rate ([`Limited`]), a serial that is not
//! hex ([`SerialPath`]), a caller who is not an operator ([`SignedIn`]).

pub mod activation;
pub mod counter;
pub mod operator;
pub mod renewal;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tessera_protocol::refusal::Refusal;

use crate::state::Ra;

/// A refusal of the JSON API, answered as `{code, params}` with its status.
#[derive(Debug)]
pub struct ApiError(pub Refusal);

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        ApiError(r)
    }
}

impl From<crate::store::Error> for ApiError {
    fn from(e: crate::store::Error) -> ApiError {
        tracing::error!(error = %e, "database");
        ApiError(Refusal::RaInternal {})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0.problem())).into_response()
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;

/// The RA could not do it (randomness, a stored value it cannot read): logged here.
pub fn internal(what: &str) -> ApiError {
    tracing::error!(what, "internal error");
    ApiError(Refusal::RaInternal {})
}

/// A JSON request body. Not JSON, not `application/json`, or not the expected fields:
/// refused like everything else (malformed-json 400, json-content-type 415, json-fields
/// 422, with the parser's reason).
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection;
        match <Json<T> as FromRequest<S>>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => {
                let reason = rejection.body_text();
                Err(ApiError(match &rejection {
                    JsonRejection::MissingJsonContentType(_) => Refusal::JsonContentType { reason },
                    JsonRejection::JsonDataError(_) => Refusal::JsonFields { reason },
                    _ => Refusal::MalformedJson { reason },
                }))
            }
        }
    }
}

/// The client's address, once it is within its rates (holder API calls, failures);
/// otherwise the call is refused with `rate-limited` before anything else is read.
pub struct Limited(pub std::net::IpAddr);

impl FromRequestParts<Arc<Ra>> for Limited {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ra: &Arc<Ra>) -> Result<Self, ApiError> {
        let ConnectInfo(client) = ConnectInfo::<SocketAddr>::from_request_parts(parts, ra).await.map_err(|_| {
            tracing::error!("no client address");
            ApiError(Refusal::RaInternal {})
        })?;
        match ra.over_rate(client.ip()) {
            Some(wait) => Err(ApiError(Refusal::RateLimited { retry_after: wait })),
            None => Ok(Limited(client.ip())),
        }
    }
}

/// A certificate serial from the path's first segment (`{serial}`), hex with or without
/// colons; anything else is `bad-serial`.
pub struct SerialPath(pub Vec<u8>);

impl<S: Send + Sync> FromRequestParts<S> for SerialPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError(Refusal::BadSerial {}))?;
        let serial = params.iter().find(|(k, _)| k == "serial").map(|(_, v)| v.as_str()).unwrap_or_default();
        serial_from_hex(serial).map(SerialPath).ok_or(ApiError(Refusal::BadSerial {}))
    }
}

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

/// The SHA-256 (hex) of the request's bearer token, if it has one. The scheme is
/// case-insensitive (RFC 9110 11.1).
pub fn bearer_digest(parts: &Parts) -> Option<String> {
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())?;
    Some(crate::codes::token_digest(token))
}

/// Who calls the operator API: the account an API token belongs to (made in the console,
/// scoped to its office and role), the account of an app session (signed in at the
/// counter), or a token of the configuration file (deprecated; no office). An extractor
/// from the request's head: a call without a valid token gets 401 before its body is even
/// read; an app session that ended says so.
pub struct SignedIn(pub crate::actor::Actor);

impl FromRequestParts<Arc<Ra>> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ra: &Arc<Ra>) -> Result<Self, ApiError> {
        let digest = bearer_digest(parts).ok_or(ApiError(Refusal::OperatorUnauthenticated {}))?;
        let address = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        if let Some(o) = ra.operators.iter().find(|o| o.token_sha256.eq_ignore_ascii_case(&digest)) {
            let office = o.office.clone();
            return Ok(SignedIn(crate::actor::Actor { name: o.name.clone(), office, role: None, address }));
        }
        let account = match ra.store.token_account(&digest).await? {
            Some(a) => a,
            None => counter::live(ra, &digest).await?.ok_or(ApiError(Refusal::OperatorUnauthenticated {}))?.0,
        };
        Ok(SignedIn(crate::actor::Actor::of_account(&account, address)))
    }
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
