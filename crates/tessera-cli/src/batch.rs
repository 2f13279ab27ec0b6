//! `tessera activate --operator --batch FILE`: several cards at once at the counter. The
//! operator signs in once; the file names the requests (one reference per line), and
//! each card present that holds no certificate yet takes the next one, in the listing's
//! order. Every card runs in a lane of its own (a `tessera activate --lane` process, see
//! [`crate::lane`]), all at once: progress lines carry the lane's reader, the questions a
//! lane asks (a PIN) come to the operator one at a time, and a failure in one lane stops
//! no other. At the end, one JSON line per card on stdout and a summary on stderr; the
//! exit status is 0 only when every card was activated. A failed lane is run again with a
//! batch of its reference: its journal resumes it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::{Mutex, mpsc};

use serde::Serialize;
use tessera_core::ErrorPayload;
use tessera_core::messages::{Lang, Messages};
use tessera_flows::operator::{self, Session};
use tessera_flows::ra::http::Http;
use tessera_flows::settings::Settings;
use zeroize::Zeroizing;

use crate::lane::{FromLane, ToLane};
use crate::terminal::Terminal;

/// One card's line on stdout.
#[derive(Serialize)]
struct Line {
    reference: String,
    /// The card's reader (its name for a token outside any reader).
    lane: String,
    token: String,
    activated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorPayload>,
}

/// A card of the batch: where it is, and the token its activation starts on.
struct Card {
    lane: String,
    token: String,
}

/// The references of the file: one per line; blank lines and `#` comments skipped. A
/// malformed one refuses the whole file before anyone signs in.
fn references(file: &Path) -> tessera_flows::Result<Vec<String>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| tessera_flows::Error::Input { reason: format!("{}: {e}", file.display()) })?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(tessera_flows::link::reference)
        .collect()
}

/// The cards present with no certificate on any of their tokens, initialised: cards by
/// their readers' order, then tokens outside readers by name.
fn empty_cards(modules: &[String]) -> Vec<Card> {
    let snapshot = crate::flow_run::devices(modules).snapshot();
    let mut cards: Vec<&tessera_core::cards::CardEntry> = snapshot.cards.iter().collect();
    cards.sort_by(|a, b| (a.reader.is_none(), &a.reader, &a.name).cmp(&(b.reader.is_none(), &b.reader, &b.name)));
    cards
        .into_iter()
        .filter(|c| c.tokens.iter().all(|u| snapshot.tokens.iter().any(|t| &t.uri == u && t.certificates.is_empty())))
        .filter(|c| snapshot.tokens.iter().any(|t| t.uri == c.activate && t.initialized))
        .map(|c| Card { lane: c.reader.clone().unwrap_or_else(|| c.name.clone()), token: c.activate.clone() })
        .collect()
}

fn tell(stdin: &Mutex<ChildStdin>, message: &ToLane) {
    if let (Ok(mut s), Ok(line)) = (stdin.lock(), serde_json::to_string(message)) {
        let _ = writeln!(s, "{line}");
        let _ = s.flush();
    }
}

/// A lane's process, with the session handed over on its stdin.
fn start_lane(
    card: &Card,
    reference: &str,
    settings: &Settings,
    modules: &[String],
    lang: &str,
    session: &Session,
) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(["--lang", lang, "activate", "--operator", "--lane", "--reference", reference, "--token", &card.token]);
    cmd.args(["--ra", &settings.ra]);
    if let Some(ca) = &settings.ra_ca {
        cmd.arg("--ra-ca").arg(ca);
    }
    for m in modules {
        cmd.args(["--module", m]);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
    if let Some(stdin) = child.stdin.as_mut() {
        let hand = ToLane::Session { token: Zeroizing::new(session.token().to_owned()), who: session.who.clone() };
        let line = Zeroizing::new(serde_json::to_string(&hand).unwrap_or_default());
        writeln!(stdin, "{}", *line)?;
        stdin.flush()?;
    }
    Ok(child)
}

/// A lane's question for the operator, and where the answer goes.
struct Asked {
    label: String,
    secret: bool,
    confirm: bool,
    reply: mpsc::Sender<Option<Zeroizing<String>>>,
}

/// Follow one lane to its end: its progress said with its name, its questions put to the
/// operator by the batch's thread (one at a time), the request's confirmation answered
/// here (the file is the operator's choice; whose request it is, is said).
fn follow(lane: &str, mut child: Child, operator: &mpsc::Sender<Asked>) -> Result<serde_json::Value, ErrorPayload> {
    let lost =
        |what: &str| ErrorPayload { code: "unknown".into(), params: [("code".to_owned(), what.to_owned())].into() };
    let stdin = Mutex::new(child.stdin.take().ok_or_else(|| lost("lane stdin"))?);
    let stdout = child.stdout.take().ok_or_else(|| lost("lane stdout"))?;
    let mut result = Err(lost("the lane ended without a result"));
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<FromLane>(&line) {
            Ok(FromLane::Progress { line }) => eprintln!("[{lane}] {line}"),
            Ok(FromLane::Question { kind, text, .. }) if kind == "confirm-counter-request" => {
                eprintln!("[{lane}] {}", text.trim_end_matches(|c| c != '?'));
                tell(&stdin, &ToLane::Answer(Some(Zeroizing::new("yes".into()))));
            }
            Ok(FromLane::Question { text, secret, confirm, .. }) => {
                let (reply, answer) = mpsc::channel();
                let asked = Asked { label: format!("[{lane}] {text}"), secret, confirm, reply };
                let answer = operator.send(asked).ok().and_then(|()| answer.recv().ok()).flatten();
                tell(&stdin, &ToLane::Answer(answer));
            }
            Ok(FromLane::Done { outcome }) => result = Ok(outcome),
            Ok(FromLane::Failed { error }) => result = Err(error),
            Err(_) => tracing::warn!(lane, "a line from a lane that is not the lane protocol"),
        }
    }
    drop(stdin);
    let _ = child.wait();
    result
}

/// The operator's side of the lanes' questions, on the batch's own thread, until every
/// lane has ended.
fn answer_lanes(questions: mpsc::Receiver<Asked>, terminal: &mut Terminal<'_>) {
    for q in questions {
        let answer = terminal.ask_as(&q.label, q.secret).ok().map(|a| {
            if !q.confirm {
                return a;
            }
            let yes = matches!(a.trim().to_lowercase().as_str(), "s" | "si" | "sì" | "y" | "yes");
            Zeroizing::new(if yes { "yes" } else { "no" }.to_owned())
        });
        let _ = q.reply.send(answer);
    }
}

pub fn run(file: &Path, settings: Settings, modules: &[String], msg: &Messages, lang: Lang, stdin: bool) -> ExitCode {
    let lang = lang.code();
    let prepared = (|| {
        let references = references(file)?;
        let http = Http::new(&settings.ra, &settings.anchors()?)?;
        let mut terminal = Terminal::new(msg, stdin);
        let session = crate::flow_run::block_on(operator::sign_in_asking(&http, &mut terminal))?;
        Ok::<_, tessera_flows::Error>((references, http, session, terminal))
    })();
    let (references, http, session, terminal) = match prepared {
        Ok(p) => p,
        Err(e) => {
            crate::report(msg, &e.payload());
            return ExitCode::FAILURE;
        }
    };
    let cards = empty_cards(modules);
    let pairs: Vec<(&String, &Card)> = references.iter().zip(cards.iter()).collect();
    eprintln!("{}", msg.text("batch-start", &[("cards", pairs.len().into()), ("requests", references.len().into())]));
    let mut terminal = terminal;
    let (questions, asked) = mpsc::channel::<Asked>();
    let mut lines: Vec<Line> = std::thread::scope(|scope| {
        let lanes: Vec<_> = pairs
            .iter()
            .map(|(reference, card)| {
                let (reference, card) = (*reference, *card);
                let operator = questions.clone();
                let (settings, session) = (&settings, &session);
                scope.spawn(move || {
                    let result = match start_lane(card, reference, settings, modules, lang, session) {
                        Ok(child) => follow(&card.lane, child, &operator),
                        Err(e) => Err(ErrorPayload {
                            code: "unknown".into(),
                            params: [("code".to_owned(), e.to_string())].into(),
                        }),
                    };
                    let (outcome, error) = match result {
                        Ok(o) => (Some(o), None),
                        Err(e) => (None, Some(e)),
                    };
                    Line {
                        reference: reference.clone(),
                        lane: card.lane.clone(),
                        token: card.token.clone(),
                        activated: outcome.is_some(),
                        outcome,
                        error,
                    }
                })
            })
            .collect();
        drop(questions);
        answer_lanes(asked, &mut terminal);
        lanes.into_iter().filter_map(|l| l.join().ok()).collect()
    });
    // References left without a card: said, not lost.
    for reference in references.iter().skip(pairs.len()) {
        lines.push(Line {
            reference: reference.clone(),
            lane: String::new(),
            token: String::new(),
            activated: false,
            outcome: None,
            error: Some(tessera_flows::Error::BatchNoCard { reference: reference.clone() }.payload()),
        });
    }
    let _ = crate::flow_run::block_on(operator::sign_out(&http, &session));
    let mut out = std::io::stdout().lock();
    for line in &lines {
        let _ = writeln!(out, "{}", serde_json::to_string(line).unwrap_or_default());
    }
    let done = lines.iter().filter(|l| l.activated).count();
    eprintln!("{}", msg.text("batch-done", &[("done", done.into()), ("all", lines.len().into())]));
    for line in lines.iter().filter(|l| !l.activated) {
        if let Some(e) = &line.error {
            let r = msg.error(e);
            eprintln!("✗ {} [{}]: {} → {}", line.reference, line.lane, r.cause, r.remedy);
        }
    }
    if done == lines.len() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The lane's side of `tessera activate --operator --lane`: the session from the batch,
/// the flow for `reference` on `token`, its result as the last line.
pub fn lane(
    reference: &str,
    token: Option<String>,
    settings: Settings,
    modules: &[String],
    msg: &Messages,
) -> ExitCode {
    let mut lane = crate::lane::Lane::new(msg);
    let mut devices = crate::flow_run::devices(modules);
    let result = lane.session().and_then(|session| {
        let flow = tessera_flows::activation::Activation {
            devices: &mut devices,
            settings,
            token,
            mode: tessera_flows::activation::Mode::Operator(session),
        };
        crate::flow_run::block_on(flow.run_for(&mut lane, Some(reference)))
    });
    match result {
        Ok(outcome) => {
            crate::lane::send(&FromLane::Done { outcome: serde_json::to_value(&outcome).unwrap_or_default() });
            ExitCode::SUCCESS
        }
        Err(e) => {
            crate::lane::send(&FromLane::Failed { error: e.payload() });
            ExitCode::FAILURE
        }
    }
}
