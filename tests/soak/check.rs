//! The verdict, once every process has stopped: what each coder was told was saved is in the
//! project, and the event log, replayed from nothing, gives exactly the codings and review marks.

use super::coder::own_prefix;
use super::log::{Action, AnswerState, CodeText, Line, Span};
use rusqlite::{Connection, params};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What one event changed, as far as the soak's checks care.
#[derive(Debug, Clone)]
enum Delta {
    /// A coding of (response, coder) put on (true) or taken off.
    Coding {
        response: i64,
        coder: i64,
        span: Span,
        on: bool,
    },
    /// A review mark of (response, coder) set (true) or removed.
    Review {
        response: i64,
        coder: i64,
        on: bool,
    },
    Code {
        id: i64,
        text: Option<CodeText>,
    },
}

struct Event {
    id: i64,
    coder: Option<i64>,
    action: String,
    deltas: Vec<Delta>,
}

type CodingKey = (i64, i64, Span);

/// The project as the checks read it.
pub struct Project {
    conn: Connection,
    events: Vec<Event>,
    /// Problems found while reading the event log (its replay, undo/redo links).
    pub log_problems: Vec<String>,
    codings: BTreeMap<CodingKey, Json>,
    reviews: BTreeMap<(i64, i64), Json>,
    pub events_replayed: usize,
}

fn coding_key(key: &Json) -> CodingKey {
    let i = |f: &str| key.get(f).and_then(Json::as_i64);
    (
        i("response_id").unwrap(),
        i("coder_id").unwrap(),
        (i("code_id").unwrap(), i("start"), i("end")),
    )
}

fn review_key(key: &Json) -> (i64, i64) {
    let i = |f: &str| key.get(f).and_then(Json::as_i64).unwrap();
    (i("response_id"), i("coder_id"))
}

fn rows(side: &Json) -> Option<&Vec<Json>> {
    side.get("rows").and_then(Json::as_array)
}

impl Project {
    /// Reads the project and replays its event log (tables codings and reviews) from empty,
    /// checking on the way that each event's `before` is what the log so far left.
    pub fn read(path: &std::path::Path) -> Project {
        let conn = Connection::open(path).unwrap();
        let mut codings = BTreeMap::new();
        {
            let mut st = conn
                .prepare(
                    "SELECT response_id, coder_id, code_id, start, \"end\", memo, created_at
                     FROM codings",
                )
                .unwrap();
            let mut rows = st.query([]).unwrap();
            while let Some(r) = rows.next().unwrap() {
                let key = (
                    r.get(0).unwrap(),
                    r.get(1).unwrap(),
                    (r.get(2).unwrap(), r.get(3).unwrap(), r.get(4).unwrap()),
                );
                let row = json!({
                    "memo": r.get::<_, String>(5).unwrap(),
                    "created_at": r.get::<_, String>(6).unwrap(),
                });
                codings.insert(key, row);
            }
        }
        let mut reviews = BTreeMap::new();
        {
            let mut st = conn
                .prepare("SELECT response_id, coder_id, reviewed_at FROM reviews")
                .unwrap();
            let mut rows = st.query([]).unwrap();
            while let Some(r) = rows.next().unwrap() {
                let row = json!({"reviewed_at": r.get::<_, String>(2).unwrap()});
                reviews.insert((r.get(0).unwrap(), r.get(1).unwrap()), row);
            }
        }
        let mut p = Project {
            conn,
            events: Vec::new(),
            log_problems: Vec::new(),
            codings,
            reviews,
            events_replayed: 0,
        };
        p.replay();
        p
    }

    fn replay(&mut self) {
        let mut codings: BTreeMap<CodingKey, Json> = BTreeMap::new();
        let mut reviews: BTreeMap<(i64, i64), Json> = BTreeMap::new();
        let mut undone_by: HashMap<i64, i64> = HashMap::new();
        let mut replays: HashMap<i64, i64> = HashMap::new();
        let mut problems = Vec::new();
        let mut events = Vec::new();
        {
            let mut st = self
                .conn
                .prepare(
                    "SELECT id, coder_id, action, before, after, undone_by FROM events ORDER BY id",
                )
                .unwrap();
            let mut it = st.query([]).unwrap();
            while let Some(r) = it.next().unwrap() {
                let id: i64 = r.get(0).unwrap();
                let coder: Option<i64> = r.get(1).unwrap();
                let action: String = r.get(2).unwrap();
                let parse = |i| {
                    r.get::<_, Option<String>>(i)
                        .unwrap()
                        .map(|s| serde_json::from_str::<Json>(&s).unwrap())
                };
                let (before, after) = (parse(3), parse(4));
                if let Some(u) = r.get::<_, Option<i64>>(5).unwrap() {
                    undone_by.insert(id, u);
                }
                let empty = Vec::new();
                let b = before.as_ref().and_then(rows);
                let a = after.as_ref().and_then(rows);
                if a.is_none() && b.is_none() {
                    // Imports log counts, not rows; the soak imports no codings, so none of these
                    // may have touched the tables replayed here.
                    if !action.starts_with("import_") {
                        problems.push(format!("event {id} ({action}) has no rows to replay"));
                    }
                    events.push(Event {
                        id,
                        coder,
                        action,
                        deltas: Vec::new(),
                    });
                    continue;
                }
                let (b, a) = (b.unwrap_or(&empty), a.unwrap_or(&empty));
                if b.len() != a.len() {
                    problems.push(format!(
                        "event {id} ({action}) has {} rows before and {} after",
                        b.len(),
                        a.len()
                    ));
                    continue;
                }
                if let Some(x) = before
                    .as_ref()
                    .and_then(|s| s.get("replays"))
                    .and_then(Json::as_i64)
                {
                    replays.insert(id, x);
                }
                let mut deltas = Vec::new();
                for (rb, ra) in b.iter().zip(a) {
                    let table = ra.get("table").and_then(Json::as_str).unwrap_or("");
                    let key = &ra["key"];
                    if rb.get("table") != ra.get("table") || &rb["key"] != key {
                        problems.push(format!("event {id}: before and after name different rows"));
                        continue;
                    }
                    let row_b = rb.get("row").filter(|v| !v.is_null()).cloned();
                    let row_a = ra.get("row").filter(|v| !v.is_null()).cloned();
                    let what = format!("event {id} ({action})");
                    match table {
                        "codings" => {
                            let k = coding_key(key);
                            deltas.push(Delta::Coding {
                                response: k.0,
                                coder: k.1,
                                span: k.2,
                                on: row_a.is_some(),
                            });
                            step(&mut codings, k, row_b, row_a, &what, &mut problems);
                        }
                        "reviews" => {
                            let k = review_key(key);
                            deltas.push(Delta::Review {
                                response: k.0,
                                coder: k.1,
                                on: row_a.is_some(),
                            });
                            step(&mut reviews, k, row_b, row_a, &what, &mut problems);
                        }
                        "codes" => deltas.push(Delta::Code {
                            id: key.get("id").and_then(Json::as_i64).unwrap(),
                            text: row_a.map(|r| CodeText {
                                name: r["name"].as_str().unwrap().to_string(),
                                description: r["description"].as_str().unwrap().to_string(),
                            }),
                        }),
                        _ => {}
                    }
                }
                events.push(Event {
                    id,
                    coder,
                    action,
                    deltas,
                });
            }
        }
        // Undo and redo mark the event they take back; the two links must agree.
        for (&ev, &target) in &replays {
            if undone_by.get(&target) != Some(&ev) {
                problems.push(format!(
                    "event {ev} replays event {target}, whose undone_by is {:?}",
                    undone_by.get(&target)
                ));
            }
        }
        for (&target, &by) in &undone_by {
            if replays.get(&by) != Some(&target) {
                problems.push(format!(
                    "event {target} is undone by event {by}, which replays {:?}",
                    replays.get(&by)
                ));
            }
        }
        if codings != self.codings {
            problems.push(table_diff("codings", &codings, &self.codings));
        }
        if reviews != self.reviews {
            problems.push(table_diff("reviews", &reviews, &self.reviews));
        }
        self.events_replayed = events.len();
        self.events = events;
        self.log_problems = problems;
    }

    pub fn integrity(&self) -> String {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap()
    }

    pub fn coder_id(&self, name: &str) -> i64 {
        self.conn
            .query_row("SELECT id FROM coders WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .unwrap()
    }

    fn responses(&self) -> Vec<i64> {
        let mut st = self
            .conn
            .prepare("SELECT id FROM responses ORDER BY id")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn answer_state(&self, coder: i64, response: i64) -> AnswerState {
        AnswerState {
            codings: self
                .codings
                .range((response, coder, (i64::MIN, None, None))..)
                .take_while(|((r, c, _), _)| *r == response && *c == coder)
                .map(|((_, _, s), _)| *s)
                .collect(),
            reviewed: self.reviews.contains_key(&(response, coder)),
        }
    }

    /// A code as its owner sees it: absent when another coder's code has taken its id.
    fn own_code(&self, owner: &str, id: i64) -> Option<CodeText> {
        self.conn
            .query_row(
                "SELECT name, description FROM codes WHERE id = ?1",
                params![id],
                |r| {
                    Ok(CodeText {
                        name: r.get(0)?,
                        description: r.get(1)?,
                    })
                },
            )
            .ok()
            .filter(|c| c.name.starts_with(&own_prefix(owner)))
    }

    fn own_code_ids(&self, owner: &str) -> Vec<i64> {
        let mut st = self
            .conn
            .prepare("SELECT id FROM codes WHERE name LIKE ?1 || '%'")
            .unwrap();
        st.query_map([own_prefix(owner)], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

/// One row of an event replayed: the row must be as the event says it was before, and becomes
/// what the event says it is after.
fn step<K: Ord + std::fmt::Debug>(
    table: &mut BTreeMap<K, Json>,
    key: K,
    before: Option<Json>,
    after: Option<Json>,
    event: &str,
    problems: &mut Vec<String>,
) {
    if table.get(&key) != before.as_ref() {
        problems.push(format!(
            "{event}: row {key:?} was {:?} by the log so far, the event says {before:?}",
            table.get(&key)
        ));
    }
    match after {
        Some(row) => table.insert(key, row),
        None => table.remove(&key),
    };
}

fn table_diff<K: std::fmt::Debug + Ord, V: PartialEq + std::fmt::Debug>(
    table: &str,
    replayed: &BTreeMap<K, V>,
    stored: &BTreeMap<K, V>,
) -> String {
    let keys: BTreeSet<&K> = replayed.keys().chain(stored.keys()).collect();
    let diffs: Vec<String> = keys
        .into_iter()
        .filter(|k| replayed.get(k) != stored.get(k))
        .take(5)
        .map(|k| {
            format!(
                "{k:?}: log {:?}, table {:?}",
                replayed.get(k),
                stored.get(k)
            )
        })
        .collect();
    format!(
        "replaying the event log does not give the {table} table ({} rows replayed, {} stored); \
         first differences: {}",
        replayed.len(),
        stored.len(),
        diffs.join("; ")
    )
}

/// One coder's account, checked against the project.
#[derive(Debug, Default)]
pub struct CoderVerdict {
    pub processes: u32,
    pub saved: u64,
    pub refused: u64,
    /// Times an action met another program's write lock and was tried again.
    pub busy: u64,
    /// Kills that caught an action between its intent and its outcome.
    pub in_flight: u32,
    /// Of those, the ones whose event is in the project (committed just before the kill).
    pub in_flight_committed: u32,
    /// Saved actions whose event is not in the project.
    pub lost: u64,
    pub problems: Vec<String>,
}

pub fn coder(project: &Project, name: &str, lines: &[Line]) -> CoderVerdict {
    let me = project.coder_id(name);
    let mut v = CoderVerdict::default();
    let mine: Vec<&Event> = project
        .events
        .iter()
        .filter(|e| e.coder == Some(me))
        .collect();
    let mut db = mine.iter().peekable();
    let mut unreported: BTreeSet<i64> = BTreeSet::new();
    let mut pending: Option<(u64, Action)> = None;
    // Actions caught by a kill since the last event the coder reported, in order.
    let mut caught: Vec<Action> = Vec::new();
    let mut answers: HashMap<i64, (AnswerState, i64)> = HashMap::new();
    let mut codes: HashMap<i64, (Option<CodeText>, i64)> = HashMap::new();
    let mut last_upto = 0;

    // Events of this coder before `until` that no saved line reported: each must be the action
    // a kill caught in flight, one per kill, of the kind the intent announced.
    let mut explain = |until: Option<i64>,
                       caught: &mut Vec<Action>,
                       db: &mut std::iter::Peekable<std::slice::Iter<'_, &Event>>,
                       v: &mut CoderVerdict| {
        while let Some(ev) = db.next_if(|e| until.is_none_or(|u| e.id < u)) {
            match caught.iter().position(|a| a.could_log(&ev.action)) {
                Some(i) => {
                    caught.drain(..=i);
                    unreported.insert(ev.id);
                    v.in_flight_committed += 1;
                }
                None => v.problems.push(format!(
                    "{name}: event {} ({}) is in the project, but {name} never reported it and \
                     no such action was in flight at a kill",
                    ev.id, ev.action
                )),
            }
        }
    };

    for (i, line) in lines.iter().enumerate() {
        let at = format!("{name}.log:{}", i + 1);
        match line {
            Line::Start { .. } => {
                v.processes += 1;
                if let Some((_, a)) = pending.take() {
                    v.in_flight += 1;
                    caught.push(a);
                }
            }
            Line::Intent { n, action } => {
                if pending.is_some() {
                    v.problems
                        .push(format!("{at}: two intents without an outcome"));
                }
                pending = Some((*n, action.clone()));
            }
            Line::Busy { n } => {
                if pending.as_ref().map(|p| p.0) != Some(*n) {
                    v.problems
                        .push(format!("{at}: a busy wait without its intent"));
                }
                v.busy += 1;
            }
            Line::Refused { n, .. } => {
                if pending.take().map(|p| p.0) != Some(*n) {
                    v.problems
                        .push(format!("{at}: an outcome without its intent"));
                }
                v.refused += 1;
            }
            Line::Saved {
                n,
                event,
                upto,
                answer,
                code,
            } => {
                let Some((_, action)) = pending.take().filter(|p| p.0 == *n) else {
                    v.problems
                        .push(format!("{at}: an outcome without its intent"));
                    continue;
                };
                v.saved += 1;
                if *upto < last_upto {
                    v.problems
                        .push(format!("{at}: the coder's latest event went back"));
                }
                last_upto = *upto;
                if let Some(e) = event {
                    explain(Some(*e), &mut caught, &mut db, &mut v);
                    caught.clear();
                    match db.next_if(|ev| ev.id == *e) {
                        Some(ev) if action.could_log(&ev.action) => {}
                        Some(ev) => v.problems.push(format!(
                            "{at}: {action:?} was saved as event {e}, which is a {}",
                            ev.action
                        )),
                        None => {
                            v.lost += 1;
                            v.problems.push(format!(
                                "{at}: {action:?} was reported saved as event {e}, which is not \
                                 in the project"
                            ));
                        }
                    }
                }
                if let Some((r, s)) = answer {
                    answers.insert(*r, (s.clone(), *upto));
                }
                if let Some((c, t)) = code {
                    codes.insert(*c, (t.clone(), *upto));
                }
            }
            Line::Stop { .. } => {
                if pending.is_some() {
                    v.problems
                        .push(format!("{at}: stopped with an action in flight"));
                }
            }
        }
    }
    if !matches!(lines.last(), Some(Line::Stop { .. })) {
        v.problems
            .push(format!("{name}: the last process did not stop on its own"));
    }
    explain(None, &mut caught, &mut db, &mut v);

    // The state each answer must be in: as last reported, plus what an action caught in flight
    // did to it afterwards.
    for r in project.responses() {
        let (mut want, upto) = answers.get(&r).cloned().unwrap_or_default();
        for ev in mine.iter().filter(|e| e.id > upto) {
            for d in &ev.deltas {
                let touches = match d {
                    Delta::Coding {
                        response, coder, ..
                    }
                    | Delta::Review {
                        response, coder, ..
                    } => *response == r && *coder == me,
                    Delta::Code { .. } => false,
                };
                if !touches {
                    continue;
                }
                if !unreported.contains(&ev.id) {
                    v.problems.push(format!(
                        "{name}: event {} ({}) changed answer {r}, but the coder's report of \
                         it did not show answer {r}",
                        ev.id, ev.action
                    ));
                }
                match d {
                    Delta::Coding { span, on: true, .. } => {
                        want.codings.insert(*span);
                    }
                    Delta::Coding {
                        span, on: false, ..
                    } => {
                        want.codings.remove(span);
                    }
                    Delta::Review { on, .. } => want.reviewed = *on,
                    Delta::Code { .. } => {}
                }
            }
        }
        let got = project.answer_state(me, r);
        if got != want {
            v.problems.push(format!(
                "{name}: answer {r} is {got:?} in the project, but {name} last saw {want:?}"
            ));
        }
    }

    let mut code_ids: BTreeSet<i64> = codes.keys().copied().collect();
    code_ids.extend(project.own_code_ids(name));
    for ev in &mine {
        for d in &ev.deltas {
            if let Delta::Code { id, .. } = d {
                code_ids.insert(*id);
            }
        }
    }
    for id in code_ids {
        let (mut want, upto) = codes.get(&id).cloned().unwrap_or((None, 0));
        for ev in mine.iter().filter(|e| e.id > upto) {
            for d in &ev.deltas {
                if let Delta::Code { id: c, text } = d
                    && *c == id
                {
                    if !unreported.contains(&ev.id) {
                        v.problems.push(format!(
                            "{name}: event {} ({}) changed code {id}, but the coder's report of \
                             it did not show code {id}",
                            ev.id, ev.action
                        ));
                    }
                    want = text.clone();
                }
            }
        }
        let got = project.own_code(name, id);
        if got != want {
            v.problems.push(format!(
                "{name}: code {id} is {got:?} in the project, but {name} last saw {want:?}"
            ));
        }
    }
    v
}
