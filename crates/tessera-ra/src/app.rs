//! The HTTP surface: one [`app`] router over the RA's state, so that the binary serves it and
//! tests drive it without a socket (`tower::ServiceExt::oneshot`, with
//! `MockConnectInfo` for the client address).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::{activation, counter, operator, renewal};
use crate::ocsp;
use crate::state::Ra;

/// Every route the RA serves (openapi.json documents each).
pub fn app(ra: Arc<Ra>) -> axum::Router {
    axum::Router::new()
        .route("/.well-known/cmp", axum::routing::post(cmp))
        .route(
            "/openapi.json",
            axum::routing::get(|| async {
                ([(header::CONTENT_TYPE, "application/json")], include_str!("../openapi.json"))
            }),
        )
        .route("/api/v1/operator/holders", axum::routing::post(operator::register_holder))
        .route("/api/v1/operator/requests", axum::routing::post(operator::create_request).get(operator::search))
        .route("/api/v1/operator/requests/{reference}", axum::routing::get(operator::request))
        .route("/api/v1/operator/requests/{reference}/arm", axum::routing::post(operator::arm))
        .route("/api/v1/operator/activation", axum::routing::post(operator::activate))
        .route(
            "/api/v1/operator/session",
            axum::routing::post(counter::sign_in).get(counter::session).delete(counter::sign_out),
        )
        .route("/api/v1/operator/requests/{reference}/counter", axum::routing::get(counter::show).post(counter::arm))
        .route("/api/v1/operator/requests/{reference}/personalisation", axum::routing::post(counter::personalisation))
        .route("/api/v1/operator/requests/{reference}/handover", axum::routing::get(operator::handover))
        .route("/api/v1/operator/requests/{reference}/halves", axum::routing::post(operator::send_halves))
        .route("/api/v1/operator/requests/{reference}/code", axum::routing::post(operator::replace_code))
        .route("/api/v1/operator/certificates/{serial}/{action}", axum::routing::post(operator::lifecycle))
        .route("/api/v1/operator/audit", axum::routing::get(operator::audit))
        .route("/api/v1/activation", axum::routing::post(activation::start))
        .route("/api/v1/activation/{reference}/otp", axum::routing::post(activation::verify))
        .route("/api/v1/activation/{reference}/resend", axum::routing::post(activation::resend))
        .route("/api/v1/activation/{reference}/personalisation", axum::routing::post(activation::personalisation))
        .route("/api/v1/renewal/{serial}", axum::routing::get(renewal::state).post(renewal::start))
        .route("/api/v1/renewal/{serial}/form", axum::routing::post(renewal::sign))
        .route("/api/v1/renewal/{serial}/contacts", axum::routing::post(renewal::contacts::propose))
        .route("/api/v1/renewal/{serial}/contacts/confirm", axum::routing::post(renewal::contacts::confirm))
        .route("/api/v1/renewal/{serial}/overwrite", axum::routing::post(renewal::overwrite::authorise))
        .route("/api/v1/renewal/{serial}/overwrite/resend", axum::routing::post(renewal::overwrite::resend))
        .route("/api/v1/operator/renewals", axum::routing::get(renewal::list))
        .route("/api/v1/operator/renewals/{id}/cancel", axum::routing::post(renewal::cancel))
        .route("/ca.cer", axum::routing::get(issuing_certificate))
        .route("/ocsp", axum::routing::post(ocsp_post))
        .route("/ocsp/{*request}", axum::routing::get(ocsp_get))
        .route("/crl", axum::routing::get(crl))
        .merge(crate::console::router())
        .with_state(ra)
}

/// Revoke certificates whose client never confirmed them, and forget spent codes, every
/// few seconds.
pub fn spawn_sweeper(ra: Arc<Ra>, seconds: i64) {
    // Certificates whose client never confirmed them are revoked, not left active
    // (RFC 9483 5.1.3.1 implicit rejection): checked every few seconds, and at start for
    // those a stop left behind.
    tokio::spawn({
        async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(seconds.clamp(1, 30) as u64));
            loop {
                tick.tick().await;
                match ra.store.revoke_unconfirmed(seconds).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(certificates = n, "unconfirmed certificates revoked"),
                    Err(e) => tracing::error!(error = %e, "revoking unconfirmed certificates"),
                }
                if let Err(e) = ra.store.expire_renewals().await {
                    tracing::error!(error = %e, "expiring renewal requests");
                }
                if let Err(e) = ra.store.complete_confirmed_renewals().await {
                    tracing::error!(error = %e, "completing renewal requests");
                }
                if let Err(e) = ra.store.forget_spent_codes().await {
                    tracing::error!(error = %e, "forgetting spent activation codes");
                }
                crate::paperwork::sweep_originals(&ra).await;
                if let Ok((seq, link)) = ra.store.audit_head().await {
                    tracing::info!(seq, link = %link, "audit chain head");
                }
                if let Err(e) =
                    ra.store.sweep_sessions(ra.console.idle_minutes * 60, ra.console.session_hours * 3600).await
                {
                    tracing::error!(error = %e, "forgetting console sessions");
                }
                if let Err(e) = ra.store.forget_old_sign_in_waits().await {
                    tracing::error!(error = %e, "forgetting old sign-in counts");
                }
                if let Err(e) = ra.store.forget_expired_documents().await {
                    tracing::error!(error = %e, "forgetting documents past their retention");
                }
                let notices = ra.send_notices().await;
                if notices > 0 {
                    tracing::info!(notices, "notices sent to holders");
                }
            }
        }
    });
}

/// GET /ca.cer: the issuing CA's certificate (DER), the caIssuers of every certificate.
async fn issuing_certificate(State(ra): State<Arc<Ra>>) -> Response {
    ([(header::CONTENT_TYPE, "application/pkix-cert")], ra.ca.certificate.clone()).into_response()
}

fn ocsp_response(der: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/ocsp-response")], der).into_response()
}

/// POST /ocsp (application/ocsp-request).
async fn ocsp_post(State(ra): State<Arc<Ra>>, headers: HeaderMap, body: Bytes) -> Response {
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !media.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/ocsp-request") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "OCSP requests are application/ocsp-request").into_response();
    }
    ocsp_response(ra.ocsp(&body).await)
}

/// GET /ocsp/{base64 request} (RFC 6960 appendix A.1).
async fn ocsp_get(State(ra): State<Arc<Ra>>, axum::extract::Path(request): axum::extract::Path<String>) -> Response {
    match ocsp::from_get_path(&request) {
        Some(der) => ocsp_response(ra.ocsp(&der).await),
        None => ocsp_response(ra.ocsp(&[]).await),
    }
}

async fn crl(State(ra): State<Arc<Ra>>) -> Response {
    match ra.crl().await {
        Some(der) => ([(header::CONTENT_TYPE, "application/pkix-crl")], der).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// POST /.well-known/cmp: application/pkixcmp only (RFC 9483 6.1); anything else is
/// refused before it is looked at, with HTTP 415. A client address whose messages keep
/// failing waits (HTTP 429, Retry-After) before it is heard again.
async fn cmp(
    State(ra): State<Arc<Ra>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(wait) = ra.failures.check(client.ip()) {
        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, wait.to_string())], "too many failing messages")
            .into_response();
    }
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = media.split(';').next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/pkixcmp") {
        ra.failed_from(client.ip());
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "CMP messages are application/pkixcmp").into_response();
    }
    // Run to its end even if the client goes away: a MAC check reserved, a certificate
    // issued or confirmed is recorded whatever happens to the connection.
    let handler = ra.clone();
    let answer = match tokio::spawn(async move { handler.handle(&body).await }).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "CMP handling failed");
            Err(crate::endpoint::Unanswerable::NotSigned)
        }
    };
    if !matches!(answer, Ok((_, false))) {
        ra.failed_from(client.ip());
    }
    match answer {
        Ok((answer, _)) => ([(header::CONTENT_TYPE, "application/pkixcmp")], answer).into_response(),
        Err(crate::endpoint::Unanswerable::Unparsable) => {
            (StatusCode::BAD_REQUEST, "not a CMP message").into_response()
        }
        Err(crate::endpoint::Unanswerable::NotSigned) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "the CA could not sign its answer").into_response()
        }
    }
}
