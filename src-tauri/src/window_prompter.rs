//! The flows' [`Prompter`] in the window: a question goes to the UI as a "flow-question"
//! event and the flow's thread waits until the UI answers with the `flow_answer` command
//! (or cancels); progress goes out as "flow-progress" events.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tauri::{AppHandle, Emitter};
use tessera_flows::prompter::{Progress, Prompter, Question};
use zeroize::Zeroizing;

type Reply = mpsc::Sender<Option<Zeroizing<String>>>;

/// Questions waiting for the UI, by id; shared by the flow's thread and `flow_answer`.
#[derive(Clone, Default)]
pub struct Pending {
    waiting: Arc<Mutex<HashMap<u64, Reply>>>,
    next: Arc<Mutex<u64>>,
}

impl Pending {
    /// The UI's answer to question `id` (None: cancelled). False when nothing waits for it.
    pub fn answer(&self, id: u64, value: Option<String>) -> bool {
        let reply = self.waiting.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        reply.is_some_and(|r| r.send(value.map(Zeroizing::new)).is_ok())
    }
}

#[derive(Clone, Serialize)]
struct Asked<'q> {
    id: u64,
    question: &'q Question,
    /// A yes / no question rather than a field.
    confirm: bool,
}

pub struct WindowPrompter {
    pub app: AppHandle,
    pub pending: Pending,
}

impl WindowPrompter {
    fn ask_ui(&self, question: &Question, confirm: bool) -> tessera_flows::Result<Zeroizing<String>> {
        let (tx, rx) = mpsc::channel();
        let id = {
            let mut next = self.pending.next.lock().unwrap_or_else(|p| p.into_inner());
            *next += 1;
            *next
        };
        self.pending.waiting.lock().unwrap_or_else(|p| p.into_inner()).insert(id, tx);
        self.app
            .emit("flow-question", Asked { id, question, confirm })
            .map_err(|e| tessera_flows::Error::Input { reason: e.to_string() })?;
        match rx.recv() {
            Ok(Some(answer)) => Ok(answer),
            _ => Err(tessera_flows::Error::Cancelled),
        }
    }
}

impl Prompter for WindowPrompter {
    fn ask(&mut self, question: &Question) -> tessera_flows::Result<Zeroizing<String>> {
        self.ask_ui(question, false)
    }

    fn confirm(&mut self, question: &Question) -> tessera_flows::Result<bool> {
        Ok(self.ask_ui(question, true)?.as_str() == "yes")
    }

    fn progress(&mut self, event: &Progress) {
        let _ = self.app.emit("flow-progress", event);
    }
}
