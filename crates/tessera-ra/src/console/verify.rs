//! The verifiers' queue: every office's requests waiting for verification, oldest first
//! (the CA checks the paperwork within two working days), and those awaiting originals.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::render;
use super::session::Me;
use super::ui::Ui;
use crate::state::Ra;
use crate::store::verification::{Filter, RequestView};

#[derive(Template)]
#[template(path = "verify.html")]
struct QueuePage {
    ui: Ui,
    waiting: Vec<RequestView>,
    originals: Vec<RequestView>,
}

/// GET /console/verify
pub async fn page(State(ra): State<Arc<Ra>>, me: Me) -> Response {
    if me.account.role != crate::accounts::Role::Verifier {
        return StatusCode::NOT_FOUND.into_response();
    }
    let list = |state: &'static str| Filter { state, limit: 1000, ..Default::default() };
    let mut waiting = ra.store.find_requests(&list("to-verify")).await.unwrap_or_default();
    waiting.sort_by_key(|r| r.identified_at.unwrap_or_default());
    let originals = ra.store.find_requests(&list("awaiting-originals")).await.unwrap_or_default();
    render(&QueuePage { ui: me.ui, waiting, originals })
}
