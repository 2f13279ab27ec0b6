//! One lane of a batch at the counter: one card's activation, run by a process of its own
//! (`tessera activate --operator --lane`), so that the cards' key generations run at once
//! and a card pulled or a crash in one lane stops no other. It speaks JSON lines with the
//! batch that started it: the signed-in session and the answers come on stdin, the
//! questions, the progress and the result go to stdout. Nothing of it touches a file.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use tessera_core::ErrorPayload;
use tessera_core::messages::Messages;
use tessera_flows::operator::{Session, SignedIn};
use tessera_flows::prompter::{Progress, Prompter, Question};
use zeroize::Zeroizing;

use crate::terminal::Terminal;

/// What the batch sends a lane: the session first, then one answer per question.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToLane {
    Session {
        token: Zeroizing<String>,
        who: SignedIn,
    },
    /// None: the operator stopped.
    Answer(Option<Zeroizing<String>>),
}

/// What a lane tells the batch: questions and progress already put into words in the
/// operator's language (the lane speaks it too), the outcome as `--json` has it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FromLane {
    /// `kind`: the question's kind (`confirm-counter-request`, `pin`, ...).
    Question {
        kind: String,
        text: String,
        secret: bool,
        confirm: bool,
    },
    Progress {
        line: String,
    },
    Done {
        outcome: serde_json::Value,
    },
    Failed {
        error: ErrorPayload,
    },
}

fn input(e: impl std::fmt::Display) -> tessera_flows::Error {
    tessera_flows::Error::Input { reason: e.to_string() }
}

/// The lane's side: reads stdin, writes stdout; `words` puts questions and progress
/// into the operator's language.
pub struct Lane<'m> {
    stdin: std::io::StdinLock<'static>,
    words: Terminal<'m>,
}

impl<'m> Lane<'m> {
    pub fn new(msg: &'m Messages) -> Lane<'m> {
        Lane { stdin: std::io::stdin().lock(), words: Terminal::new(msg, true) }
    }

    fn read(&mut self) -> tessera_flows::Result<ToLane> {
        let mut line = Zeroizing::new(String::new());
        if self.stdin.read_line(&mut line).map_err(input)? == 0 {
            return Err(tessera_flows::Error::Cancelled);
        }
        serde_json::from_str(&line).map_err(input)
    }

    /// The session the batch signed in with.
    pub fn session(&mut self) -> tessera_flows::Result<Session> {
        match self.read()? {
            ToLane::Session { token, who } => Ok(Session::handed_over(token, who)),
            ToLane::Answer(_) => Err(input("a lane starts with the session")),
        }
    }

    fn ask_batch(&mut self, q: &Question, confirm: bool) -> tessera_flows::Result<Zeroizing<String>> {
        let kind = serde_json::to_value(q).ok().and_then(|v| v["kind"].as_str().map(str::to_owned)).unwrap_or_default();
        send(&FromLane::Question { kind, text: self.words.question_text(q), secret: q.secret(), confirm });
        match self.read()? {
            ToLane::Answer(Some(answer)) => Ok(answer),
            _ => Err(tessera_flows::Error::Cancelled),
        }
    }
}

/// What starts each line of the lane protocol on stdout: a module that prints there too
/// cannot be taken for the lane.
pub const TAG: &str = "\u{1e}tessera-lane ";

/// One line to the batch.
pub fn send(message: &FromLane) {
    let mut out = std::io::stdout().lock();
    if let Ok(line) = serde_json::to_string(message) {
        let _ = writeln!(out, "{TAG}{line}");
        let _ = out.flush();
    }
}

impl Prompter for Lane<'_> {
    fn ask(&mut self, q: &Question) -> tessera_flows::Result<Zeroizing<String>> {
        self.ask_batch(q, false)
    }

    fn confirm(&mut self, q: &Question) -> tessera_flows::Result<bool> {
        Ok(self.ask_batch(q, true)?.as_str() == "yes")
    }

    fn progress(&mut self, event: &Progress) {
        let line = self.words.progress_line(event);
        if !line.is_empty() {
            send(&FromLane::Progress { line });
        }
    }
}
