//! `tessera activate --operator --batch FILE`: several cards at once at the counter. The
//! operator signs in once; the file names the requests (one reference per line, none
//! twice), a request begun earlier goes back to its card, and the others take the cards
//! present that hold no certificate yet, in the readers' order. The plan (request,
//! holder, card) is shown and confirmed once. Every card runs in a lane of its own (a `tessera activate --lane` process, see
//! [`crate::lane`]), all at once: progress lines carry the lane's reader, the questions a
//! lane asks (a PIN) come to the operator one at a time, and a failure in one lane stops
//! no other. One JSON line per card on stdout as its lane ends, a summary on stderr; the
//! exit status is 0 only when every request was activated. A failed lane is run again
//! with a batch of its reference: it goes back to the card it was begun on, and its
//! journal resumes it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::{Mutex, mpsc};

use serde::Serialize;
use tessera_core::ErrorPayload;
use tessera_core::messages::{Lang, Messages};
use tessera_flows::activation::{Activation, Mode};
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
    let refused = |reason: String| tessera_flows::Error::Input { reason: format!("{}: {reason}", file.display()) };
    let text = std::fs::read_to_string(file).map_err(|e| refused(e.to_string()))?;
    let mut references: Vec<String> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let reference =
            tessera_flows::link::reference(line).map_err(|_| refused(format!("line {}: not a reference", n + 1)))?;
        // Twice (or two that share a journal file): two lanes would arm one request.
        let same = |r: &String| r.replace('.', "_") == reference.replace('.', "_");
        if references.iter().any(same) {
            return Err(refused(format!("line {}: {reference} is named twice", n + 1)));
        }
        references.push(reference);
    }
    if references.is_empty() {
        return Err(refused("no reference".into()));
    }
    Ok(references)
}

/// Each reference with its card. A reference whose activation was begun (its journal
/// pending) goes back to the card it was begun on, when present; the others take, in
/// order, the cards present with no certificate on any of their tokens and no other
/// request begun on them: cards by their readers' order, then tokens outside readers.
fn pair(references: &[String], modules: &[String]) -> Vec<(String, Option<Card>)> {
    let snapshot = crate::flow_run::devices(modules).snapshot();
    let mut cards: Vec<&tessera_core::cards::CardEntry> = snapshot.cards.iter().collect();
    cards.sort_by(|a, b| (a.reader.is_none(), &a.reader, &a.name).cmp(&(b.reader.is_none(), &b.reader, &b.name)));
    let card = |c: &tessera_core::cards::CardEntry| Card {
        lane: c.reader.clone().unwrap_or_else(|| format!("{} {}", c.name, c.serial)),
        token: c.activate.clone(),
    };
    let begun: Vec<tessera_flows::journal::Record> =
        tessera_flows::journal::Journal::all().into_iter().filter(|r| !r.completed).collect();
    let begun_on = |c: &tessera_core::cards::CardEntry| {
        begun.iter().find(|r| !c.serial.is_empty() && r.card_serial().as_deref() == Some(c.serial.as_str()))
    };
    let mut taken: Vec<String> = Vec::new();
    let mut pairs: Vec<(String, Option<Card>)> = references.iter().map(|r| (r.clone(), None)).collect();
    for (reference, paired) in pairs.iter_mut() {
        if let Some(c) = cards.iter().find(|c| begun_on(c).is_some_and(|r| &r.reference == reference)) {
            taken.push(c.activate.clone());
            *paired = Some(card(c));
        }
    }
    let mut free = cards.iter().filter(|c| {
        !taken.contains(&c.activate)
            && begun_on(c).is_none()
            && c.tokens.iter().all(|u| snapshot.tokens.iter().any(|t| &t.uri == u && t.certificates.is_empty()))
            && snapshot.tokens.iter().any(|t| t.uri == c.activate && t.initialized)
    });
    for (_, paired) in pairs.iter_mut().filter(|(_, p)| p.is_none()) {
        *paired = free.next().map(|c| card(c));
    }
    pairs
}

fn tell(stdin: &Mutex<ChildStdin>, message: &ToLane) {
    // The line may carry a PIN: serialised into memory that is wiped.
    let mut line = Zeroizing::new(Vec::new());
    if let (Ok(mut s), Ok(())) = (stdin.lock(), serde_json::to_writer(&mut *line, message)) {
        line.push(b'\n');
        let _ = s.write_all(&line);
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
    algorithm: Option<&str>,
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
    if let Some(a) = algorithm {
        cmd.args(["--algorithm", a]);
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
    lane: String,
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
        // Only tagged lines are the lane's; anything else (a module printing) is said as
        // the lane's output and the tagged part of the line, if any, still read.
        let Some(at) = line.find(crate::lane::TAG) else {
            eprintln!("[{lane}] {line}");
            continue;
        };
        match serde_json::from_str::<FromLane>(&line[at + crate::lane::TAG.len()..]) {
            Ok(FromLane::Progress { line }) => eprintln!("[{lane}] {line}"),
            Ok(FromLane::Question { kind, text, .. }) if kind == "confirm-counter-request" => {
                eprintln!("[{lane}] {}", text.trim_end_matches(|c| c != '?'));
                tell(&stdin, &ToLane::Answer(Some(Zeroizing::new("yes".into()))));
            }
            Ok(FromLane::Question { text, secret, confirm, .. }) => {
                let (reply, answer) = mpsc::channel();
                let asked = Asked { lane: lane.to_owned(), label: format!("[{lane}] {text}"), secret, confirm, reply };
                let answer = operator.send(asked).ok().and_then(|()| answer.recv().ok()).flatten();
                tell(&stdin, &ToLane::Answer(answer));
            }
            Ok(FromLane::Done { outcome }) => result = Ok(outcome),
            Ok(FromLane::Failed { error }) => result = Err(error),
            Err(_) => eprintln!("[{lane}] {}", &line[..at]),
        }
    }
    drop(stdin);
    let _ = child.wait();
    result
}

/// The operator's side of the lanes' questions, on the batch's own thread, until every
/// lane has ended. With `--stdin`, lanes ask in whatever order their cards get there: an
/// answer line may name its lane (`[Virtual PCD 00 01] 123456`), and one that names
/// another lane than the asking one is kept for that lane; an answer naming none goes to
/// the lane asking.
fn answer_lanes(questions: mpsc::Receiver<Asked>, terminal: &mut Terminal<'_>) {
    let mut kept: Vec<(String, Zeroizing<String>)> = Vec::new();
    for q in questions {
        let answer = match kept.iter().position(|(lane, _)| *lane == q.lane) {
            Some(i) => Some(kept.remove(i).1),
            None => loop {
                let Ok(line) = terminal.ask_as(&q.label, q.secret) else { break None };
                match addressed(&line) {
                    Some((lane, answer)) if lane != q.lane => kept.push((lane.to_owned(), answer)),
                    Some((_, answer)) => break Some(answer),
                    None => break Some(line),
                }
            },
        };
        let answer = answer.map(|a| {
            if !q.confirm {
                return a;
            }
            let yes = matches!(a.trim().to_lowercase().as_str(), "s" | "si" | "sì" | "y" | "yes");
            Zeroizing::new(if yes { "yes" } else { "no" }.to_owned())
        });
        let _ = q.reply.send(answer);
    }
}

/// An answer line that names its lane: `[lane] answer`.
fn addressed(line: &str) -> Option<(&str, Zeroizing<String>)> {
    let rest = line.strip_prefix('[')?;
    let (lane, answer) = rest.split_once("] ")?;
    Some((lane, Zeroizing::new(answer.to_owned())))
}

/// One card's line on stdout, as soon as its lane ends (a batch stopped half-way still
/// tells what was done).
fn print(line: &Line) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string(line).unwrap_or_default());
    let _ = out.flush();
}

/// The plan, said before anything is armed: each request, its holder as the RA has it,
/// and the card it goes to; a request without a card is said too.
fn plan(pairs: &[(String, Option<Card>)], http: &Http, session: &Session, msg: &Messages) {
    for (reference, card) in pairs {
        let whose =
            crate::flow_run::block_on(tessera_flows::ra::workflow::counter_request(http, session.token(), reference));
        let whose = match whose {
            Ok(r) => format!(
                "{} {} ({}), {}",
                r.holder.given_name,
                r.holder.surname,
                r.office,
                msg.text(&format!("profile-{}", r.profile.replace('+', "-")), &[])
            ),
            Err(e) => format!("✗ {}", msg.error(&e.payload()).cause),
        };
        let lane = card.as_ref().map_or_else(|| "—".to_owned(), |c| c.lane.clone());
        eprintln!("  {reference} → [{lane}] {whose}");
    }
}

pub fn run(
    file: &Path,
    settings: Settings,
    modules: &[String],
    msg: &Messages,
    lang: Lang,
    stdin: bool,
    algorithm: Option<&str>,
) -> ExitCode {
    let lang = lang.code();
    let prepared = (|| {
        let references = references(file)?;
        let http = Http::new(&settings.ra, &settings.anchors()?)?;
        let mut terminal = Terminal::new(msg, stdin);
        let session = crate::flow_run::block_on(operator::sign_in_asking(&http, &mut terminal))?;
        Ok::<_, tessera_flows::Error>((references, http, session, terminal))
    })();
    let (references, http, session, mut terminal) = match prepared {
        Ok(p) => p,
        Err(e) => {
            crate::report(msg, &e.payload());
            return ExitCode::FAILURE;
        }
    };
    let pairs = pair(&references, modules);
    let with_card = pairs.iter().filter(|(_, c)| c.is_some()).count();
    eprintln!("{}", msg.text("batch-start", &[("cards", with_card.into()), ("requests", references.len().into())]));
    plan(&pairs, &http, &session, msg);
    // One confirmation for the whole batch: the lanes do not ask whose request it is.
    let go = terminal.ask_as(&msg.text("batch-confirm", &[]), false);
    if !go.is_ok_and(|a| matches!(a.trim().to_lowercase().as_str(), "s" | "si" | "sì" | "y" | "yes")) {
        let _ = crate::flow_run::block_on(operator::sign_out(&http, &session));
        crate::report(msg, &tessera_flows::Error::Cancelled.payload());
        return ExitCode::FAILURE;
    }
    let (questions, asked) = mpsc::channel::<Asked>();
    let lines: Vec<Line> = std::thread::scope(|scope| {
        let lanes: Vec<_> = pairs
            .iter()
            .map(|(reference, card)| {
                let operator = questions.clone();
                let (settings, session) = (&settings, &session);
                let lane = scope.spawn(move || {
                    let Some(card) = card else {
                        let error = tessera_flows::Error::BatchNoCard { reference: reference.clone() }.payload();
                        let line = Line {
                            reference: reference.clone(),
                            lane: String::new(),
                            token: String::new(),
                            activated: false,
                            outcome: None,
                            error: Some(error),
                        };
                        print(&line);
                        return line;
                    };
                    let result = match start_lane(card, reference, settings, modules, lang, session, algorithm) {
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
                    let line = Line {
                        reference: reference.clone(),
                        lane: card.lane.clone(),
                        token: card.token.clone(),
                        activated: outcome.is_some(),
                        outcome,
                        error,
                    };
                    print(&line);
                    line
                });
                (reference, lane)
            })
            .collect();
        drop(questions);
        answer_lanes(asked, &mut terminal);
        // A lane's thread that failed is a failed card, not a card forgotten.
        lanes
            .into_iter()
            .map(|(reference, lane)| {
                lane.join().unwrap_or_else(|_| Line {
                    reference: reference.clone(),
                    lane: String::new(),
                    token: String::new(),
                    activated: false,
                    outcome: None,
                    error: Some(ErrorPayload { code: "unknown".into(), params: Default::default() }),
                })
            })
            .collect()
    });
    let _ = crate::flow_run::block_on(operator::sign_out(&http, &session));
    let done = lines.iter().filter(|l| l.activated).count();
    eprintln!("{}", msg.text("batch-done", &[("done", done.into()), ("all", lines.len().into())]));
    for line in lines.iter().filter(|l| !l.activated) {
        if let Some(e) = &line.error {
            let r = msg.error(e);
            eprintln!("✗ {} [{}]: {} → {}", line.reference, line.lane, r.cause, r.remedy);
        }
    }
    if done == references.len() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The lane's side of `tessera activate --operator --lane`: the session from the batch,
/// the flow for `reference` on `token`, its result as the last line.
pub fn lane(
    reference: &str,
    token: Option<String>,
    settings: Settings,
    modules: &[String],
    msg: &Messages,
    algorithm: Option<tessera_pki::KeyAlgorithm>,
) -> ExitCode {
    let mut lane = crate::lane::Lane::new(msg);
    let mut devices = crate::flow_run::devices(modules);
    let result = lane.session().and_then(|session| {
        let flow = Activation { algorithm, ..Activation::new(&mut devices, settings, token, Mode::Operator(session)) };
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

#[cfg(test)]
mod tests {
    use super::addressed;

    #[test]
    fn an_answer_may_name_its_lane() {
        let (lane, answer) = addressed("[Virtual PCD 00 01] 123456").unwrap();
        assert_eq!((lane, answer.as_str()), ("Virtual PCD 00 01", "123456"));
        assert!(addressed("123456").is_none());
        assert!(addressed("[no space]x").is_none());
    }
}
