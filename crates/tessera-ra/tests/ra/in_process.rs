//! The handlers driven in process, without a socket: the router over a state with an
//! in-memory database (axum's testing pattern: `oneshot`, `MockConnectInfo`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

/// The RA's router over a fresh state: CA and code keys in a temporary directory, the
/// database in memory, one operator (the test token).
async fn router(dir: &std::path::Path) -> axum::Router {
    let ca = tessera_ra::ca::Ca::load_or_create(dir, "Test Issuing CA", &Default::default()).unwrap();
    let codes = tessera_ra::codes::CodeKeys::load_or_create(dir).unwrap();
    let store = tessera_ra::store::Store::open("sqlite::memory:", codes).await.unwrap();
    let mut ra = tessera_ra::state::Ra::new(ca, store, 30);
    ra.operators = vec![tessera_ra::config::OperatorToken {
        name: "odr-test".into(),
        token_sha256: "fada800c966f702b9da4f2a9e8545c841ef09001818ad17b24f525d9c835baf0".into(),
        office: None,
    }];
    tessera_ra::app::app(Arc::new(ra)).layer(MockConnectInfo(std::net::SocketAddr::from(([192, 0, 2, 7], 40000))))
}

async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

fn post(path: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut r = Request::post(path).header("content-type", "application/json");
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    r.body(Body::from(body.to_owned())).unwrap()
}

#[test]
fn handlers_answer_in_process_with_json_refusals_and_operator_flows() {
    let dir = tempfile::tempdir().unwrap();
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
        let app = router(dir.path()).await;
        let (status, body) = call(&app, post("/api/v1/operator/holders", Some("nope"), "{")).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("operator-unauthenticated")));
        let token = Some(super::OPERATOR_TOKEN);
        let (status, body) = call(&app, post("/api/v1/operator/holders", token, "{")).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed-json")));
        let holder = r#"{"given_name": "MARIO", "surname": "ROSSI", "cf": "RSSMRA80A01H501U"}"#;
        let (status, body) = call(&app, post("/api/v1/operator/holders", token, holder)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let request = format!(r#"{{"holder_id": {}, "profile": "signature"}}"#, body["holder_id"]);
        let (status, body) = call(&app, post("/api/v1/operator/requests", token, &request)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let code = body["activation_code"].as_str().unwrap().to_owned();
        // The holder API, from the mocked client address.
        let start = format!(r#"{{"activation_code": "{code}", "tax_code": "RSSMRA80A01H501U"}}"#);
        let (status, body) = call(&app, post("/api/v1/activation", None, &start)).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("no-mobile")), "{body}");
        // CMP: not application/pkixcmp.
        let r = Request::post("/.well-known/cmp").header("content-type", "text/plain").body(Body::from("x")).unwrap();
        assert_eq!(call(&app, r).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    });
}
