//! A coder at work, in a process of its own, through the library the coding screen uses: codes
//! and uncodes answers (whole or a segment), marks answers as having no code, undoes and redoes,
//! and grows the codebook with codes of their own (adding, renaming and re-describing only those,
//! so that nothing a coder does touches another coder's work).
//!
//! Like the coding screen, the process keeps a second connection for reads (the screen's counts
//! worker) and now and then opens and closes a third (a sub-screen); a lacrima that loses its
//! SQLite locks when a connection opens or closes fails the soak.

use super::log::{Action, AnswerState, CodeText, Line, LogFile};
use lacrima::store::{AnswerQuery, CodeFields, NewCode, Store};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub struct Config {
    pub name: String,
    pub seed: u64,
    pub incarnation: u32,
    /// Unix time in milliseconds at which the coder stops on its own.
    pub until_ms: u64,
    pub project: PathBuf,
    pub log: PathBuf,
}

impl Config {
    /// `coder:NAME:SEED:INCARNATION:UNTIL_MS` plus the project and log paths in their own
    /// variables (paths may hold a colon).
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "LACRIMA_SOAK_ROLE",
                format!(
                    "coder:{}:{}:{}:{}",
                    self.name, self.seed, self.incarnation, self.until_ms
                ),
            ),
            ("LACRIMA_SOAK_PROJECT", self.project.display().to_string()),
            ("LACRIMA_SOAK_LOG", self.log.display().to_string()),
        ]
    }

    pub fn from_env(role: &str) -> Config {
        let f: Vec<&str> = role.split(':').collect();
        assert!(
            f.len() == 5 && f[0] == "coder",
            "bad LACRIMA_SOAK_ROLE {role:?}"
        );
        let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
        Config {
            name: f[1].to_string(),
            seed: f[2].parse().unwrap(),
            incarnation: f[3].parse().unwrap(),
            until_ms: f[4].parse().unwrap(),
            project: var("LACRIMA_SOAK_PROJECT").into(),
            log: var("LACRIMA_SOAK_LOG").into(),
        }
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The prefix of every code this coder adds: ownership is read from the name.
pub fn own_prefix(coder: &str) -> String {
    format!("{coder} theme ")
}

/// How many codes of the codebook the coders apply: few, so toggles take codes off as often as
/// they put them on and undo has real work to do.
const SHARED_CODES: usize = 4;

/// How many codes of their own a coder keeps at most.
const OWN_CODES: usize = 3;

struct Coder {
    cfg: Config,
    rng: ChaCha8Rng,
    log: LogFile,
    store: Store,
    worker: Store,
    /// A plain SQLite connection for what the library does not expose: this coder's latest event.
    events: rusqlite::Connection,
    me: i64,
    /// Offered answers with their length in code points.
    answers: Vec<(i64, usize)>,
    shared_codes: Vec<i64>,
    last_event: i64,
}

pub fn run(cfg: Config) {
    let mut log = LogFile::open(&cfg.log);
    log.write(&Line::Start {
        incarnation: cfg.incarnation,
        pid: std::process::id(),
    });
    let mut store = Store::open(&cfg.project).expect("the coder's connection");
    store.defer_checkpoints().unwrap();
    store.interactive().unwrap();
    let worker = Store::open(&cfg.project).expect("the worker's connection");
    let events = rusqlite::Connection::open(&cfg.project).unwrap();
    events.busy_timeout(Duration::from_secs(10)).unwrap();
    let me = store.coder_id(&cfg.name).unwrap();
    let answers = worker
        .answers_after(&AnswerQuery::offered(me), None, 100_000)
        .unwrap()
        .iter()
        .map(|row| {
            let a = worker.answer(me, row.id, false).unwrap().unwrap();
            (row.id, a.text.chars().count())
        })
        .collect();
    let shared_codes = worker
        .codes()
        .unwrap()
        .iter()
        .filter(|c| c.codable && !c.name.contains(" theme "))
        .map(|c| c.id)
        .take(SHARED_CODES)
        .collect();
    let rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut coder = Coder {
        cfg,
        rng,
        log,
        store,
        worker,
        events,
        me,
        answers,
        shared_codes,
        last_event: 0,
    };
    coder.last_event = coder.latest_event();
    let mut n = 0;
    while now_ms() < coder.cfg.until_ms {
        n += 1;
        coder.act(n);
        coder.now_and_then(n);
        let pause = coder.rng.random_range(0..3);
        std::thread::sleep(Duration::from_millis(pause));
    }
    coder.log.write(&Line::Stop { actions: n });
}

impl Coder {
    fn latest_event(&self) -> i64 {
        self.events
            .query_row(
                "SELECT ifnull(max(id), 0) FROM events WHERE coder_id = ?1",
                [self.me],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// This coder's own codes, as the codebook panel shows them (read on the worker connection).
    fn own_codes(&self) -> Vec<lacrima::store::CodeRecord> {
        let prefix = own_prefix(&self.cfg.name);
        self.worker
            .codes()
            .unwrap()
            .into_iter()
            .filter(|c| c.name.starts_with(&prefix))
            .collect()
    }

    fn choose(&mut self) -> Action {
        let roll = self.rng.random_range(0..100);
        let (response, len) = *self.answers.choose(&mut self.rng).unwrap();
        let own = self.own_codes();
        match roll {
            0..50 => {
                let mut codes = self.shared_codes.clone();
                codes.extend(own.iter().map(|c| c.id));
                let code = *codes.choose(&mut self.rng).unwrap();
                // A few fixed segments per answer, so that toggling one often takes it off again.
                let span = match self.rng.random_range(0..3) {
                    0 => Some((0, len.min(7))),
                    1 if len >= 4 => Some((len / 4, len / 2 + 1)),
                    _ => None,
                };
                Action::Toggle {
                    response,
                    code,
                    span,
                }
            }
            50..57 => Action::NoCode { response },
            57..75 => Action::Undo,
            75..88 => Action::Redo,
            // A coder keeps a handful of codes of their own: adding more once they have them
            // would grow the codebook, and every report with it, without end.
            _ if own.len() < OWN_CODES && (roll < 93 || own.is_empty()) => Action::AddCode {
                name: format!("{}{}", own_prefix(&self.cfg.name), self.rng.random::<u32>()),
            },
            _ => {
                let c = own.choose(&mut self.rng).unwrap();
                let (name, description) = if self.rng.random_bool(0.5) {
                    let name =
                        format!("{}{}", own_prefix(&self.cfg.name), self.rng.random::<u32>());
                    (name, c.description.clone())
                } else {
                    let description = format!(
                        "what {} means by it, take {}",
                        self.cfg.name,
                        self.rng.random::<u16>()
                    );
                    (c.name.clone(), description)
                };
                Action::EditCode {
                    code: c.id,
                    name,
                    description,
                }
            }
        }
    }

    fn act(&mut self, n: u64) {
        let action = self.choose();
        self.log.write(&Line::Intent {
            n,
            action: action.clone(),
        });
        let me = self.me;
        // What the action touched: an answer, a code, or nothing (an undo with nothing to undo).
        let (answer, code) = match &action {
            Action::Toggle {
                response,
                code,
                span,
            } => {
                self.saved(n, &action, |s| s.toggle_coding(me, *response, *code, *span));
                (Some(*response), None)
            }
            Action::NoCode { response } => {
                self.saved(n, &action, |s| s.mark_no_code(me, *response));
                (Some(*response), None)
            }
            Action::Undo | Action::Redo => {
                let undo = action == Action::Undo;
                let result = self.saving(n, |s| if undo { s.undo(me) } else { s.redo(me) });
                match result {
                    Ok(Some(r)) => match r.response_id {
                        Some(resp) => (Some(resp), None),
                        None => (None, r.code_id),
                    },
                    Ok(None) => (None, None),
                    // Another coder took the id of a code this one had added and then undone:
                    // redoing the add would overwrite their code, so lacrima refuses.
                    Err(e) if e.to_string().contains("it was changed since") => {
                        self.log.write(&Line::Refused {
                            n,
                            why: e.to_string(),
                        });
                        return;
                    }
                    Err(e) => panic!("{}: {action:?}: {e}", self.cfg.name),
                }
            }
            Action::AddCode { name } => {
                let new = NewCode {
                    name: name.clone(),
                    description: format!("added by {}", self.cfg.name),
                    ..NewCode::default()
                };
                let id = self.saved(n, &action, |s| s.add_code(me, &new));
                (None, Some(id))
            }
            Action::EditCode {
                code,
                name,
                description,
            } => {
                let c = self
                    .own_codes()
                    .into_iter()
                    .find(|c| c.id == *code)
                    .expect("a coder's own code stays until the coder undoes its adding");
                let fields = CodeFields {
                    name: name.clone(),
                    description: description.clone(),
                    inclusion: c.inclusion,
                    exclusion: c.exclusion,
                    example: c.example,
                    color: c.color,
                    shortcut: c.shortcut,
                };
                self.saved(n, &action, |s| s.edit_code(me, *code, &fields, None));
                (None, Some(*code))
            }
        };
        let upto = self.latest_event();
        let event = (upto != self.last_event).then_some(upto);
        self.last_event = upto;
        let answer = answer.map(|id| (id, self.answer_state(id)));
        let code = code.map(|id| (id, self.code_text(id)));
        self.log.write(&Line::Saved {
            n,
            event,
            upto,
            answer,
            code,
        });
    }

    /// Like the coding screen, whose connection gives up on another program's write lock after a
    /// moment: the action is kept and tried again until it goes through. A busy refusal must
    /// have changed nothing, which the checks hold lacrima to.
    fn saving<T>(
        &mut self,
        n: u64,
        mut write: impl FnMut(&mut Store) -> lacrima::error::Result<T>,
    ) -> lacrima::error::Result<T> {
        loop {
            match write(&mut self.store) {
                Err(e) if e.is_busy() => {
                    self.log.write(&Line::Busy { n });
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    /// A write that can only succeed: any refusal but a busy one fails the soak.
    fn saved<T>(
        &mut self,
        n: u64,
        action: &Action,
        write: impl FnMut(&mut Store) -> lacrima::error::Result<T>,
    ) -> T {
        self.saving(n, write)
            .unwrap_or_else(|e| panic!("{}: {action:?}: {e}", self.cfg.name))
    }

    /// The answer as the coding screen would now show it to this coder.
    fn answer_state(&self, response: i64) -> AnswerState {
        let a = self
            .worker
            .answer(self.me, response, false)
            .unwrap()
            .unwrap();
        AnswerState {
            codings: a
                .codings
                .iter()
                .map(|c| {
                    (
                        c.code_id,
                        c.start.map(|s| s as i64),
                        c.end.map(|e| e as i64),
                    )
                })
                .collect(),
            reviewed: a.reviewed,
        }
    }

    fn code_text(&self, id: i64) -> Option<CodeText> {
        self.worker
            .codes()
            .unwrap()
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| CodeText {
                name: c.name,
                description: c.description,
            })
    }

    /// What the coding screen does in the background: the worker checkpoints, and sub-screens
    /// (review, analysis) open connections of their own and close them again.
    fn now_and_then(&mut self, n: u64) {
        if n.is_multiple_of(25) {
            self.worker.checkpoint_passive().unwrap();
        }
        if n.is_multiple_of(40) {
            self.worker = Store::open(&self.cfg.project).expect("reopening the worker");
        }
        if n.is_multiple_of(15) {
            let sub = Store::open(&self.cfg.project).expect("a sub-screen's connection");
            sub.codes().unwrap();
        }
    }
}

pub fn log_path(dir: &Path, coder: &str) -> PathBuf {
    dir.join(format!("{coder}.log"))
}
