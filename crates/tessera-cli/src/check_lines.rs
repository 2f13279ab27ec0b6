//! How a renewal check reads on the terminal: its mark and its message, for `tessera
//! diagnose` and for the checks a flow shows as it runs.

use fluent_bundle::FluentValue;
use tessera_core::messages::Messages;
use tessera_flows::checks::{Check, Verdict};

pub(crate) fn text(msg: &Messages, c: &Check) -> String {
    let params: Vec<(&str, FluentValue)> =
        c.params.iter().map(|(k, v)| (k.as_str(), FluentValue::from(v.clone()))).collect();
    msg.text(&c.code, &params)
}

pub(crate) fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✓",
        Verdict::Warn => "!",
        Verdict::Fail => "✗",
    }
}
