//! What a coder process tells the checker, one JSON line at a time in its own log file. A line is
//! written only after what it reports has happened, so a `saved` line is the screen showing the
//! coder their work: from then on the project must keep it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

/// One coding of an answer as the coder sees it: code, start, end (None, None: the whole answer).
pub type Span = (i64, Option<i64>, Option<i64>);

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AnswerState {
    pub codings: BTreeSet<Span>,
    pub reviewed: bool,
}

/// The part of a code a coder changes in the soak; None when the code is not in the codebook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeText {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Action {
    Toggle {
        response: i64,
        code: i64,
        span: Option<(usize, usize)>,
    },
    NoCode {
        response: i64,
    },
    Undo,
    Redo,
    AddCode {
        name: String,
    },
    EditCode {
        code: i64,
        name: String,
        description: String,
    },
}

impl Action {
    /// Whether an event with this `action` column can be what this action wrote.
    pub fn could_log(&self, event_action: &str) -> bool {
        match self {
            Action::Toggle { .. } => event_action == "code.apply" || event_action == "code.remove",
            Action::NoCode { .. } => event_action == "answer.no_code",
            Action::Undo => event_action == "undo",
            Action::Redo => event_action == "redo",
            Action::AddCode { .. } => event_action == "codebook.add",
            Action::EditCode { .. } => event_action == "codebook.edit",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "line", rename_all = "snake_case")]
pub enum Line {
    /// A new process for this coder (the first, or a restart after a kill).
    Start { incarnation: u32, pid: u32 },
    /// About to call the library; if the process dies before the matching `saved` or `refused`,
    /// this action may or may not have reached the project.
    Intent { n: u64, action: Action },
    /// The library returned Ok. `event` is the event it logged (None: it changed nothing);
    /// `upto` is this coder's latest event id when the state below was read back.
    Saved {
        n: u64,
        event: Option<i64>,
        upto: i64,
        answer: Option<(i64, AnswerState)>,
        code: Option<(i64, Option<CodeText>)>,
    },
    /// Another program held the write lock: the action waits and is tried again.
    Busy { n: u64 },
    /// The library refused, changing nothing (an undo or redo that another coder's work blocks).
    Refused { n: u64, why: String },
    /// The process stopped on its own at the end of the soak.
    Stop { actions: u64 },
}

/// An append-only log: every line goes out in one write as soon as it is known, so that a
/// `kill -9` can cut the log only between lines.
pub struct LogFile(std::fs::File);

impl LogFile {
    pub fn open(path: &Path) -> LogFile {
        let f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap_or_else(|e| panic!("cannot open the log {}: {e}", path.display()));
        LogFile(f)
    }

    pub fn write(&mut self, line: &Line) {
        let mut text = serde_json::to_string(line).unwrap();
        text.push('\n');
        self.0.write_all(text.as_bytes()).unwrap();
        self.0.flush().unwrap();
    }
}

pub fn read(path: &Path) -> Vec<Line> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read the log {}: {e}", path.display()));
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{} ends in the middle of a line",
        path.display()
    );
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| {
                panic!("{}:{}: not a log line ({e}): {l}", path.display(), i + 1)
            })
        })
        .collect()
}
