//! The console's home page: the office's work counted (each count links to the list
//! behind it), the CA's notices, and the operator's last sign-ins (a sign-in they do not
//! recognise is theirs to report).

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::render;
use super::session::Me;
use super::ui::Ui;
use crate::state::Ra;
use crate::store::office::{OfficeCounts, SignIn};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ui: Ui,
    counts: OfficeCounts,
    sign_ins: Vec<SignIn>,
    notices: Vec<crate::store::ca_notices::CaNotice>,
    /// Where holders download the desktop app, when configured.
    app_download: Option<String>,
}

/// GET /console/
pub async fn page(State(ra): State<Arc<Ra>>, me: Me) -> Response {
    // A verifier's work is every office's.
    let office = if me.account.role.serves_office() { me.office() } else { "" };
    let counts = ra.store.office_counts(office).await.unwrap_or_default();
    let sign_ins = ra.store.sign_ins(&me.account.name, 5).await.unwrap_or_default();
    let notices = ra.store.ca_notices(true, 20).await.unwrap_or_default();
    let app_download = ra.console.app_download_url.clone();
    render(&HomePage { ui: me.ui, counts, sign_ins, notices, app_download })
}
