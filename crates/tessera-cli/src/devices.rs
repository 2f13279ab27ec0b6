//! `tessera devices [--json] [--watch]`.

use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

use serde::Serialize;
use tessera_core::ErrorPayload;
use tessera_core::catalog::{Catalog, Identification};
use tessera_core::devices::{Devices, Options, Snapshot};
use tessera_core::live::{self, LiveEvent};
use tessera_core::messages::{Lang, Messages};
use tessera_core::token::TokenView;
use tessera_core::watch::DeviceEvent;

#[derive(clap::Args)]
pub struct Args {
    /// Keep running and print reader and card events as they happen.
    #[arg(long)]
    watch: bool,
    /// Do not load the modules registered with p11-kit.
    #[arg(long)]
    no_p11_kit: bool,
}

fn num(n: i64) -> fluent_bundle::FluentValue<'static> {
    fluent_bundle::FluentValue::from(n)
}

pub fn run(args: Args, json: bool, modules: &[String], lang: Lang) -> ExitCode {
    let msg = Messages::new(lang);
    let mut options = Options::from_env();
    options.modules.extend(modules.iter().cloned());
    if args.no_p11_kit {
        options.p11kit = false;
    }
    if args.watch {
        return watch(json, &msg);
    }
    let snapshot = Devices::new(options).snapshot();
    // Seen certificates feed the renewal reminders (tessera status) when the card is out.
    let _ = tessera_flows::seen::remember(&snapshot, time::OffsetDateTime::now_utc());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        let _ = serde_json::to_writer_pretty(&mut out, &snapshot);
        let _ = writeln!(out);
    } else {
        let _ = write!(out, "{}", table(&snapshot, &msg));
        for p in &snapshot.notices {
            let r = msg.error(p);
            let _ = writeln!(out, "\n{}\n  → {}", r.cause, r.remedy);
        }
    }
    let _ = out.flush();
    report_problems(&snapshot.problems, &msg);
    if snapshot.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn report_problems(problems: &[ErrorPayload], msg: &Messages) {
    for p in problems {
        crate::report(msg, p);
    }
}

fn table(s: &Snapshot, msg: &Messages) -> String {
    let mut o = String::new();
    o += &format!("{}\n", msg.text("devices-readers", &[]));
    match &s.readers {
        None => {}
        Some(list) if list.is_empty() => o += &format!("  {}\n", msg.text("devices-no-readers", &[])),
        Some(list) => {
            let width = list.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
            for r in list {
                let card = match &r.card {
                    None => msg.text("devices-empty-reader", &[]),
                    Some(c) => format!(
                        "{}  [{} {}]",
                        identification(&c.identification, msg),
                        msg.text("devices-atr", &[]),
                        c.atr
                    ),
                };
                o += &format!("  {:width$}  {card}\n", r.name);
            }
        }
    }
    o += &format!("\n{}\n", msg.text("devices-tokens", &[]));
    if s.tokens.is_empty() {
        o += &format!("  {}\n", msg.text("devices-no-tokens", &[]));
    }
    // One card, one entry: a card the middleware shows as several tokens is said once,
    // with its PIN and its tokens under it.
    for card in &s.cards {
        let tokens: Vec<&TokenView> =
            card.tokens.iter().filter_map(|u| s.tokens.iter().find(|t| &t.uri == u)).collect();
        if tokens.len() < 2 {
            tokens.into_iter().for_each(|t| o += &token(t, msg));
            continue;
        }
        let pins: Vec<String> = card.pins.iter().map(|p| pin_text(p.initialized, &p.pin.state, msg)).collect();
        let reader = card.reader.as_deref().unwrap_or_default();
        o += &format!(
            "  {} — {reader} · {} {} · {}
    {} {}
",
            card.name,
            msg.text("token-serial", &[]),
            card.serial,
            pins.join(", "),
            msg.text("devices-activate", &[]),
            card.activate
        );
        for t in tokens {
            o += &token(t, msg).lines().map(|l| format!("  {l}\n")).collect::<String>();
        }
    }
    o
}

fn pin_text(initialized: bool, state: &tessera_core::token::PinState, msg: &Messages) -> String {
    if initialized {
        msg.text(&format!("token-pin-{}", kebab(state)), &[])
    } else {
        msg.text("token-not-initialized", &[])
    }
}

fn identification(id: &Identification, msg: &Messages) -> String {
    match id {
        Identification::Known { model } => {
            let mut s = format!("{} ({})", model.name, model.vendor);
            if model.obsolete || !model.renewable {
                s += &format!(" — {}", msg.text("devices-card-obsolete", &[]));
            }
            s
        }
        Identification::Unknown { known_as: None } => msg.text("devices-card-unknown", &[]),
        Identification::Unknown { known_as: Some(name) } => format!(
            "{} — {}",
            msg.text("devices-card-unknown", &[]),
            msg.text("devices-card-known-as", &[("name", name.as_str().into())])
        ),
        Identification::Conflict { candidates } => {
            let names: Vec<&str> = candidates.iter().map(|c| c.name.as_str()).collect();
            msg.text("devices-card-conflict", &[("candidates", names.join(", ").into())])
        }
    }
}

fn token(t: &TokenView, msg: &Messages) -> String {
    let kind = t.catalog.as_ref().map_or_else(|| format!("{} {}", t.manufacturer, t.model), |m| m.name.clone());
    let pin = pin_text(t.initialized, &t.pin.state, msg);
    let mut o =
        format!("  {} — {kind} · {} {} · {pin}\n    {}\n", t.label, msg.text("token-serial", &[]), t.serial, t.uri);
    for c in &t.certificates {
        let s = &c.summary;
        let status = msg.text(&format!("cert-status-{}", kebab(&s.status)), &[("days", num(s.days_left.abs()))]);
        let key = match &s.key.curve {
            Some(curve) => format!("{} {curve}", s.key.algorithm),
            None => format!("{} {}", s.key.algorithm, s.key.bits),
        };
        o += &format!(
            "    [{}] {:<22} {}\n         {} · {} · {}{}\n",
            c.id,
            msg.text(&format!("cert-role-{}", kebab(&s.role)), &[]),
            s.common_name,
            status,
            key,
            msg.text(&format!("cert-key-{}", kebab(&c.private_key)), &[]),
            s.holder_cf.as_ref().map(|cf| format!(" · {} {cf}", msg.text("cert-cf", &[]))).unwrap_or_default(),
        );
    }
    o
}

/// The serde name of a unit enum value ("final-try").
fn kebab<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

#[derive(Serialize)]
struct WatchLine<'a> {
    time: String,
    #[serde(flatten)]
    event: &'a DeviceEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    identification: Option<Identification>,
}

fn watch(json: bool, msg: &Messages) -> ExitCode {
    let (catalog, problems) = Catalog::load();
    report_problems(&problems.iter().map(|e| e.payload()).collect::<Vec<_>>(), msg);
    live::follow(|cause| {
        let now = time::OffsetDateTime::now_utc();
        let stamp = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let mut out = std::io::stdout().lock();
        let written = match cause {
            LiveEvent::Connected => Ok(()),
            LiveEvent::Lost { error } => {
                report_problems(std::slice::from_ref(&error), msg);
                Ok(())
            }
            LiveEvent::Devices { events } => events.iter().try_for_each(|event| {
                let identification = match event {
                    DeviceEvent::CardInserted { atr, .. } => Some(catalog.identify(atr)),
                    _ => None,
                };
                if json {
                    let line = WatchLine { time: stamp.clone(), event, identification };
                    writeln!(out, "{}", serde_json::to_string(&line).unwrap_or_default())
                } else {
                    writeln!(out, "{stamp}  {}", describe(event, identification.as_ref(), msg))
                }
            }),
        };
        // Stop when nobody reads our output any more (e.g. `| head`).
        if written.and_then(|_| out.flush()).is_err() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    });
    ExitCode::SUCCESS
}

fn describe(e: &DeviceEvent, id: Option<&Identification>, msg: &Messages) -> String {
    let (key, reader) = match e {
        DeviceEvent::ReaderAttached { reader } => ("event-reader-attached", reader),
        DeviceEvent::ReaderDetached { reader } => ("event-reader-detached", reader),
        DeviceEvent::CardInserted { reader, .. } => ("event-card-inserted", reader),
        DeviceEvent::CardRemoved { reader } => ("event-card-removed", reader),
    };
    let mut line = msg.text(key, &[("reader", reader.as_str().into())]);
    if let (DeviceEvent::CardInserted { atr, .. }, Some(id)) = (e, id) {
        line += &format!(" — {}  [{} {atr}]", identification(id, msg), msg.text("devices-atr", &[]));
    }
    line
}
