//! Three coders code one project at the same time, each in a process of its own, while the
//! team's scripts read it: the agreement report, the coded-dataset export, the analysis, a
//! pandas-style python session and the sqlite3 shell, each opening the project, reading and
//! closing it again, over and over. Now and then a coder's process is killed with `kill -9` (a
//! laptop lid, a lost ssh session) and the coder starts lacrima again and carries on, undo and
//! redo included.
//!
//! Afterwards nothing a coder was shown as saved may be missing, the file must be intact, the
//! event log must replay to exactly the codings and review marks, and no reader may ever have
//! seen half an action.
//!
//! `cargo test --test soak` runs it for 20 seconds, `LACRIMA_SOAK_SECS=300 cargo test --test soak`
//! for five minutes; `LACRIMA_SOAK_SEED=N` picks another seed (the same seed gives the same
//! choices; only the processes' timing differs from run to run). See TESTING.md.

#[path = "soak/check.rs"]
mod check;
#[path = "soak/coder.rs"]
mod coder;
mod common;
#[path = "soak/log.rs"]
mod log;
#[path = "soak/readers.rs"]
mod readers;

use coder::{Config, now_ms};
use common::{DEMO_QUESTIONS, Scratch, fixture_path};
use lacrima::store::Store;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use readers::{Kind, Tally};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const CODERS: [&str; 3] = ["cleo", "dara", "emil"];
/// Two colleagues coded a pilot sample before; their codings give the agreement report
/// something to compare from the first second on.
const PILOT: [&str; 2] = ["ana", "ben"];
const RESPONDENTS: usize = 40;
const DEFAULT_SECS: u64 = 20;
const DEFAULT_SEED: u64 = 9;

/// The role of a process the soak test started from its own binary; nothing without
/// `LACRIMA_SOAK_ROLE`.
#[test]
fn soak_role() {
    if let Ok(role) = std::env::var("LACRIMA_SOAK_ROLE") {
        coder::run(Config::from_env(&role));
    }
}

#[test]
fn coders_killed_at_random_lose_nothing_they_saw_saved_and_readers_never_see_half_an_action() {
    let secs = env_number("LACRIMA_SOAK_SECS", DEFAULT_SECS);
    let seed = env_number("LACRIMA_SOAK_SEED", DEFAULT_SEED);
    let began = Instant::now();
    let s = Scratch::new();
    build_project(&s);
    let setup = began.elapsed();

    let mut soak = Soak::start(&s, seed, Duration::from_secs(secs));
    soak.run();
    let tallies = soak.finish();
    let soaked = began.elapsed() - setup;

    let project = check::Project::read(&s.project());
    let integrity = project.integrity();
    let logs: Vec<Vec<log::Line>> = CODERS
        .iter()
        .map(|name| log::read(&coder::log_path(s.dir.path(), name)))
        .collect();
    let verdicts: Vec<_> = CODERS
        .iter()
        .zip(&logs)
        .map(|(name, lines)| (name, check::coder(&project, name, lines)))
        .collect();

    let saved: u64 = verdicts.iter().map(|(_, v)| v.saved).sum();
    let lost: u64 = verdicts.iter().map(|(_, v)| v.lost).sum();
    let in_flight: u32 = verdicts.iter().map(|(_, v)| v.in_flight).sum();
    let committed: u32 = verdicts.iter().map(|(_, v)| v.in_flight_committed).sum();
    let refused: u64 = verdicts.iter().map(|(_, v)| v.refused).sum();
    let waited: u64 = verdicts.iter().map(|(_, v)| v.busy).sum();
    let reader_runs: u64 = tallies.readers.iter().map(|(_, t)| t.runs).sum();
    let busy: u64 = tallies.readers.iter().map(|(_, t)| t.busy).sum::<u64>() + tallies.python.busy;
    let half_done = tallies.python.half_done.len()
        + tallies
            .readers
            .iter()
            .map(|(_, t)| t.half_done.len())
            .sum::<usize>();
    let runs = tallies
        .readers
        .iter()
        .map(|(k, t)| format!("{} {}", k.label(), t.runs))
        .chain([format!("python {} snapshots", tallies.python.snapshots)])
        .collect::<Vec<_>>()
        .join(", ");
    let summary = format!(
        "soak (seed {seed}, {secs} s): {} processes ({} coder processes, {reader_runs} reader \
         runs, 1 python reader); {saved} actions saved ({refused} refused), {} kills \
         ({in_flight} with an action in flight, {committed} of those committed); readers: {runs}; \
         {busy} busy refusals of readers, {waited} of coders (tried again); {half_done} half-done \
         snapshots; {} events replayed; lost {lost}; setup {:.1} s, soak {:.1} s, checks {:.1} s",
        tallies.coder_processes + reader_runs + 1,
        tallies.coder_processes,
        tallies.kills,
        project.events_replayed,
        setup.as_secs_f64(),
        soaked.as_secs_f64(),
        (began.elapsed() - setup - soaked).as_secs_f64(),
    );
    // Straight to stderr, past the test harness's capture, so a passing run shows its figures too.
    let _ = writeln!(std::io::stderr(), "{summary}");

    let mut problems: Vec<String> = Vec::new();
    if integrity != "ok" {
        problems.push(format!("PRAGMA integrity_check: {integrity}"));
    }
    problems.extend(project.log_problems.iter().cloned());
    for (_, v) in &verdicts {
        problems.extend(v.problems.iter().cloned());
    }
    for (kind, t) in &tallies.readers {
        problems.extend(t.failures.iter().cloned());
        problems.extend(t.half_done.iter().cloned());
        if t.runs == 0 {
            problems.push(format!("the {} reader never ran", kind.label()));
        }
    }
    problems.extend(tallies.python.half_done.iter().cloned());
    if tallies.python.snapshots == 0 {
        problems.push("the python reader never read a snapshot".into());
    }
    if saved == 0 || tallies.kills == 0 {
        problems.push("the soak was too short to code and kill anything".into());
    }
    assert!(
        problems.is_empty(),
        "{summary}\n{} problems, the first ones:\n  {}",
        problems.len(),
        problems
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    checks_notice_tampering(&s, &logs[0]);
}

/// The checks above can fail: on a copy of the project that lost one of the first coder's
/// codings they find the answer and the log disagreeing, and on a copy that lost the event of
/// the coder's last saved action they find it lost.
fn checks_notice_tampering(s: &Scratch, lines: &[log::Line]) {
    let name = CODERS[0];
    let copy = |file: &str, tamper: &str| {
        let path = s.path(file);
        let conn = rusqlite::Connection::open(s.project()).unwrap();
        conn.execute("VACUUM INTO ?1", [path.to_str().unwrap()])
            .unwrap();
        let copy = rusqlite::Connection::open(&path).unwrap();
        // A lost write does not mind foreign keys: the lost event may be one an undo points at.
        copy.pragma_update(None, "foreign_keys", false).unwrap();
        assert_eq!(copy.execute(tamper, [name]).unwrap(), 1, "{tamper}");
        check::Project::read(&path)
    };
    let one_coding_less = copy(
        "lost-coding.db",
        "DELETE FROM codings WHERE id = (SELECT min(k.id) FROM codings k \
         JOIN coders d ON d.id = k.coder_id WHERE d.name = ?1)",
    );
    let verdict = check::coder(&one_coding_less, name, lines);
    assert!(
        one_coding_less
            .log_problems
            .iter()
            .any(|p| p.contains("codings table"))
            && verdict.problems.iter().any(|p| p.contains("last saw")),
        "a deleted coding went unnoticed: {:?} {:?}",
        one_coding_less.log_problems,
        verdict.problems
    );
    let last_event = lines
        .iter()
        .rev()
        .find_map(|l| match l {
            log::Line::Saved { event, .. } => *event,
            _ => None,
        })
        .expect("the first coder saved something");
    let one_event_less = copy(
        "lost-event.db",
        &format!(
            "DELETE FROM events WHERE id = {last_event} \
             AND coder_id = (SELECT id FROM coders WHERE name = ?1)"
        ),
    );
    let verdict = check::coder(&one_event_less, name, lines);
    assert_eq!(
        verdict.lost, 1,
        "a deleted event went unnoticed: {:?}",
        verdict.problems
    );
}

fn env_number(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v:?} is not a whole number")),
        Err(_) => default,
    }
}

/// The project as the team set it up: the first respondents of the TCIT survey and its codebook,
/// imported with the real binary, and a pilot sample coded by two colleagues.
fn build_project(s: &Scratch) {
    let mut reader = csv::Reader::from_path(fixture_path("tcit_survey.csv")).unwrap();
    let mut writer = csv::Writer::from_path(s.path("survey.csv")).unwrap();
    writer.write_record(reader.headers().unwrap()).unwrap();
    for record in reader.records().take(RESPONDENTS) {
        writer.write_record(&record.unwrap()).unwrap();
    }
    writer.flush().unwrap();
    s.import_survey(
        "survey.csv",
        &["--id", "resp_id", "--open", &DEMO_QUESTIONS.join(",")],
    );
    s.import_codebook(&fixture_path("tcit_codebook.csv"));

    let mut store = Store::open(&s.project()).unwrap();
    let codes: Vec<i64> = store
        .codes()
        .unwrap()
        .iter()
        .filter(|c| c.codable)
        .map(|c| c.id)
        .collect();
    let pilot: Vec<i64> = PILOT.iter().map(|p| store.coder_id(p).unwrap()).collect();
    let first = lacrima::store::AnswerQuery::offered(pilot[0]);
    let answers = store.answers_after(&first, None, 12).unwrap();
    for (i, a) in answers.iter().enumerate() {
        store
            .toggle_coding(pilot[0], a.id, codes[i % 3], None)
            .unwrap();
        store
            .toggle_coding(pilot[1], a.id, codes[i % 4], None)
            .unwrap();
    }
    // The soak coders exist from the start, so a reader may name any of them.
    for name in CODERS {
        store.coder_id(name).unwrap();
    }
}

struct CoderProcess {
    name: &'static str,
    incarnation: u32,
    child: Child,
}

/// Every process of the soak. Dropping it (also when a check panics) kills whatever still runs.
struct Soak {
    dir: PathBuf,
    project: PathBuf,
    seed: u64,
    until: Instant,
    until_ms: u64,
    rng: ChaCha8Rng,
    coders: Vec<CoderProcess>,
    coder_processes: u64,
    kills: u64,
    python: Option<Child>,
    stop: Arc<AtomicBool>,
    readers: Vec<(Kind, JoinHandle<Tally>)>,
}

struct Tallies {
    coder_processes: u64,
    kills: u64,
    readers: Vec<(Kind, Tally)>,
    python: readers::PythonSummary,
}

impl Soak {
    fn start(s: &Scratch, seed: u64, length: Duration) -> Soak {
        let until = Instant::now() + length;
        let until_ms = now_ms() + length.as_millis() as u64;
        let mut soak = Soak {
            dir: s.dir.path().to_path_buf(),
            project: s.project(),
            seed,
            until,
            until_ms,
            rng: ChaCha8Rng::seed_from_u64(seed),
            coders: Vec::new(),
            coder_processes: 0,
            kills: 0,
            python: None,
            stop: Arc::new(AtomicBool::new(false)),
            readers: Vec::new(),
        };
        for name in CODERS {
            let child = soak.spawn_coder(name, 0);
            soak.coders.push(CoderProcess {
                name,
                incarnation: 0,
                child,
            });
        }
        soak.python = Some(readers::python(
            &soak.project,
            until_ms,
            &soak.dir.join("python.out"),
            &soak.dir.join("python.err"),
        ));
        let mut kinds = vec![Kind::Agreement, Kind::Export, Kind::Analyze];
        if Command::new("sqlite3").arg("-version").output().is_ok() {
            kinds.push(Kind::Shell);
        }
        for (i, kind) in kinds.into_iter().enumerate() {
            let setup = readers::Setup {
                kind,
                project: soak.project.clone(),
                dir: soak.dir.clone(),
                coders: CODERS.iter().map(|c| c.to_string()).collect(),
                respondents: RESPONDENTS,
                seed: seed.wrapping_add(1000 + i as u64),
                until,
            };
            let stop = soak.stop.clone();
            let handle = std::thread::spawn(move || readers::run_loop(setup, stop));
            soak.readers.push((kind, handle));
        }
        soak
    }

    fn spawn_coder(&mut self, name: &'static str, incarnation: u32) -> Child {
        let cfg = Config {
            name: name.to_string(),
            // Each process of each coder makes its own, reproducible choices.
            seed: self.seed ^ (hash(name) << 8) ^ incarnation as u64,
            incarnation,
            until_ms: self.until_ms,
            project: self.project.clone(),
            log: coder::log_path(&self.dir, name),
        };
        let out = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(self.dir.join(format!("{name}.out")))
            .unwrap();
        self.coder_processes += 1;
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "soak_role", "--nocapture", "--test-threads=1"])
            .envs(cfg.to_env())
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("re-running the test binary as a coder")
    }

    /// Until the end of the soak: watch the processes, and kill a coder at random moments.
    fn run(&mut self) {
        let mut next_kill = Instant::now() + self.pause();
        while Instant::now() < self.until {
            for c in &mut self.coders {
                if let Some(status) = c.child.try_wait().unwrap() {
                    // Coders watch the wall clock: the end may reach them a moment before us.
                    if status.success() && now_ms() >= self.until_ms {
                        continue;
                    }
                    panic!(
                        "{}'s process {} stopped early with {status}:\n{}",
                        c.name,
                        c.incarnation,
                        tail(&self.dir.join(format!("{}.out", c.name)))
                    );
                }
            }
            if let Some(status) = self.python.as_mut().unwrap().try_wait().unwrap()
                && Instant::now() + Duration::from_secs(1) < self.until
            {
                panic!(
                    "the python reader stopped early with {status}:\n{}",
                    tail(&self.dir.join("python.err"))
                );
            }
            if Instant::now() >= next_kill {
                let i = self.rng.random_range(0..self.coders.len());
                let c = &mut self.coders[i];
                if c.child.try_wait().unwrap().is_some() {
                    break;
                }
                c.child.kill().unwrap();
                c.child.wait().unwrap();
                self.kills += 1;
                let (name, incarnation) = (c.name, c.incarnation + 1);
                let child = self.spawn_coder(name, incarnation);
                self.coders[i] = CoderProcess {
                    name,
                    incarnation,
                    child,
                };
                next_kill = Instant::now() + self.pause();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn pause(&mut self) -> Duration {
        Duration::from_millis(self.rng.random_range(100..1500))
    }

    /// Lets every process stop on its own at the end of the soak and gathers the readers' counts.
    fn finish(&mut self) -> Tallies {
        let grace = Instant::now() + Duration::from_secs(60);
        for c in &mut self.coders {
            let status = loop {
                if let Some(status) = c.child.try_wait().unwrap() {
                    break status;
                }
                assert!(
                    Instant::now() < grace,
                    "{} did not stop at the end of the soak",
                    c.name
                );
                std::thread::sleep(Duration::from_millis(10));
            };
            assert!(
                status.success(),
                "{}'s last process failed with {status}:\n{}",
                c.name,
                tail(&self.dir.join(format!("{}.out", c.name)))
            );
        }
        let status = self.python.as_mut().unwrap().wait().unwrap();
        assert!(
            status.success(),
            "the python reader failed with {status}:\n{}",
            tail(&self.dir.join("python.err"))
        );
        let out = std::fs::read_to_string(self.dir.join("python.out")).unwrap();
        let python: readers::PythonSummary = serde_json::from_str(out.lines().last().unwrap_or(""))
            .unwrap_or_else(|e| panic!("the python reader's summary is not JSON ({e}): {out}"));
        let readers = std::mem::take(&mut self.readers)
            .into_iter()
            .map(|(kind, h)| (kind, h.join().expect("a reader thread panicked")))
            .collect();
        Tallies {
            coder_processes: self.coder_processes,
            kills: self.kills,
            readers,
            python,
        }
    }
}

impl Drop for Soak {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for c in &mut self.coders {
            let _ = c.child.kill();
            let _ = c.child.wait();
        }
        if let Some(p) = &mut self.python {
            let _ = p.kill();
            let _ = p.wait();
        }
        for (_, h) in self.readers.drain(..) {
            let _ = h.join();
        }
    }
}

fn hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// The end of a process's output, for a failure message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
