//! Search [ricerca]: the office's requests by holder, tax code, reference, state and
//! registration dates (a verifier: the requests sent to verification, of every office);
//! each result links to its page; the same as CSV.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::pages::Page;
use super::session::Me;
use super::ui::Ui;
use super::{render, urlencode};
use crate::state::Ra;
use crate::store::verification::{Filter, RequestView};

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    ui: Ui,
    q: SearchQuery,
    rows: Vec<RequestView>,
    states: [&'static str; 8],
    page: Page,
}

impl SearchPage {
    fn state_label(&self, r: &RequestView) -> String {
        self.ui.t(&format!("console-state-{}", r.verification.as_deref().unwrap_or("api")))
    }

    fn query(&self) -> String {
        format!(
            "q={}&state={}&from={}&until={}",
            urlencode(&self.q.q),
            urlencode(&self.q.state),
            urlencode(&self.q.from),
            urlencode(&self.q.until)
        )
    }

    fn csv_link(&self) -> String {
        format!("/console/search.csv?{}", self.query())
    }

    /// The list's address without its page (the pager adds it).
    fn page_base(&self) -> String {
        format!("/console/search?{}", self.query())
    }
}

#[derive(serde::Deserialize, Default, Clone)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub state: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    /// The page of results, from 1.
    #[serde(default)]
    pub page: usize,
}

/// What the CSV export has at most (a page has [`pages::ROWS`]).
const EXPORT_ROWS: i64 = 10_000;

pub const STATES: [&str; 8] =
    ["to-activate", "registered", "to-verify", "to-correct", "awaiting-originals", "completed", "issued", "locked"];

async fn found(ra: &Ra, me: &Me, q: &SearchQuery, limit: i64, offset: i64) -> Vec<RequestView> {
    let day = |d: &str| crate::registration::parse_date(d).map(|d| d.midnight().assume_utc().unix_timestamp());
    let state = if STATES.contains(&q.state.as_str()) { q.state.as_str() } else { "" };
    let filter = Filter {
        text: &q.q,
        state,
        from: day(&q.from).unwrap_or(0),
        until: day(&q.until).map(|t| t + 86_400).unwrap_or(0),
        office: if me.account.role.serves_office() { me.office() } else { "" },
        limit,
        offset,
    };
    let rows = ra.store.find_requests(&filter).await.unwrap_or_default();
    rows.into_iter().filter(|r| super::requests::may_see(me, r)).collect()
}

/// GET /console/search
pub async fn page(State(ra): State<Arc<Ra>>, me: Me, Query(q): Query<SearchQuery>) -> Response {
    let (limit, offset) = Page::window(q.page);
    let (page, rows) = Page::cut(q.page, found(&ra, &me, &q, limit, offset).await);
    render(&SearchPage { ui: me.ui, q, rows, states: STATES, page })
}

/// A CSV field: quoted, quotes doubled, and a leading = + - @ neutralised (a spreadsheet
/// would run it as a formula).
pub fn csv_field(value: &str) -> String {
    let safe = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    format!("\"{}\"", safe.replace('"', "\"\""))
}

/// GET /console/search.csv
pub async fn csv(State(ra): State<Arc<Ra>>, me: Me, Query(q): Query<SearchQuery>) -> Response {
    let rows = found(&ra, &me, &q, EXPORT_ROWS, 0).await;
    let mut out =
        String::from("reference,surname,given_names,identity,profile,state,issuance,office,registered_at\r\n");
    for r in &rows {
        let fields = [
            r.reference.clone(),
            r.surname.clone(),
            r.given_name.clone(),
            r.identity.clone(),
            r.profile.clone(),
            r.verification.clone().unwrap_or_default(),
            r.issuance.clone(),
            r.office.clone().unwrap_or_default(),
            r.registered_at.map(|t| me.ui.when(&t)).unwrap_or_default(),
        ];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let _ = ra.store.audit_event(&me.event("search-exported", "requests", &format!("{} rows", rows.len()))).await;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"pratiche.csv\""),
        ],
        out,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(super::csv_field("ROSSI"), "\"ROSSI\"");
        assert_eq!(super::csv_field("D\"ARCO"), "\"D\"\"ARCO\"");
        assert_eq!(super::csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }
}
