//! The audit view [registro]: every console and API action, with who, office, when, what
//! and from where; filtered by text, operator, action and dates; as CSV. An office sees
//! its own (its operators' actions and those on its requests, certificates and holders),
//! a verifier every office's. Supervisors and verifiers check the hash chain from here
//! (as `tessera-ra audit verify` does).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::pages::Page;
use super::session::{Me, Submitted};
use super::ui::Ui;
use super::{render, urlencode};
use crate::accounts::Role;
use crate::state::Ra;
use crate::store::audit::ChainReport;
use crate::store::audit_search::{AuditFilter, AuditRow};

#[derive(serde::Deserialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    /// The page of entries, from 1.
    #[serde(default)]
    pub page: usize,
}

/// What the CSV export has at most (a page has [`pages::ROWS`]).
const EXPORT_ROWS: i64 = 100_000;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ui: Ui,
    q: AuditQuery,
    rows: Vec<AuditRow>,
    /// The chain checked just now.
    chain: Option<ChainReport>,
    /// May check the chain.
    checks: bool,
    page: Page,
}

impl AuditPage {
    fn query(&self) -> String {
        format!(
            "q={}&actor={}&action={}&from={}&until={}",
            urlencode(&self.q.q),
            urlencode(&self.q.actor),
            urlencode(&self.q.action),
            urlencode(&self.q.from),
            urlencode(&self.q.until)
        )
    }

    fn csv_link(&self) -> String {
        format!("/console/audit.csv?{}", self.query())
    }

    /// The list's address without its page (the pager adds it).
    fn page_base(&self) -> String {
        format!("/console/audit?{}", self.query())
    }
}

async fn found(ra: &Ra, me: &Me, q: &AuditQuery, limit: i64, offset: i64) -> Vec<AuditRow> {
    let day = |d: &str| crate::registration::parse_date(d).map(|d| d.midnight().assume_utc().unix_timestamp());
    let f = AuditFilter {
        text: &q.q,
        actor: &q.actor,
        action: &q.action,
        from: day(&q.from).unwrap_or(0),
        until: day(&q.until).map(|t| t + 86_400).unwrap_or(0),
        office: if me.account.role.serves_office() { me.office() } else { "" },
        limit,
        offset,
    };
    ra.store.find_audit(&f).await.unwrap_or_default()
}

fn checks(me: &Me) -> bool {
    matches!(me.account.role, Role::Supervisor | Role::Verifier)
}

/// GET /console/audit
pub async fn page(State(ra): State<Arc<Ra>>, me: Me, Query(q): Query<AuditQuery>) -> Response {
    let checks = checks(&me);
    let (limit, offset) = Page::window(q.page);
    let (page, rows) = Page::cut(q.page, found(&ra, &me, &q, limit, offset).await);
    render(&AuditPage { ui: me.ui, q, rows, chain: None, checks, page })
}

/// POST /console/audit/verify: the whole chain checked now.
pub async fn verify(State(ra): State<Arc<Ra>>, form: Submitted) -> Response {
    let me = form.me;
    if !checks(&me) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(report) = ra.store.verify_audit().await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    };
    let outcome = match &report.broken {
        None => format!("{} entries hold", report.entries),
        Some((seq, why)) => format!("broken at {seq}: {why}"),
    };
    let _ = ra.store.audit_event(&me.event("audit-verified", "audit", &outcome)).await;
    let q = AuditQuery::default();
    let (limit, offset) = Page::window(1);
    let (page, rows) = Page::cut(1, found(&ra, &me, &q, limit, offset).await);
    render(&AuditPage { ui: me.ui, q, rows, chain: Some(report), checks: true, page })
}

/// GET /console/audit.csv
pub async fn csv(State(ra): State<Arc<Ra>>, me: Me, Query(q): Query<AuditQuery>) -> Response {
    let rows = found(&ra, &me, &q, EXPORT_ROWS, 0).await;
    let mut out = String::from("seq,at,actor,office,action,subject,detail,address\r\n");
    for r in &rows {
        let at = time::OffsetDateTime::from_unix_timestamp(r.at)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default();
        let fields = [
            r.seq.to_string(),
            at,
            r.actor.clone(),
            r.office.clone().unwrap_or_default(),
            r.action.clone(),
            r.subject.clone(),
            r.detail.clone(),
            r.address.clone().unwrap_or_default(),
        ];
        out.push_str(&fields.iter().map(|f| super::search::csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let _ = ra.store.audit_event(&me.event("audit-exported", "audit", &format!("{} rows", rows.len()))).await;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"registro.csv\""),
        ],
        out,
    )
        .into_response()
}
