//! Readers that open the project, read it and close it again, over and over, while the coders
//! write: the real binary's reports and exports, and plain SQLite clients as a researcher's R or
//! pandas session would be. Being told "busy" is a reader's bad luck, counted; any other failure
//! fails the soak.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_lacrima");

/// A reader that runs longer than this is hung, not slow.
const HUNG: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Agreement,
    Export,
    Analyze,
    /// The `sqlite3` shell, one process per query: counts codings without a review mark.
    Shell,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Agreement => "agreement",
            Kind::Export => "export",
            Kind::Analyze => "analyze",
            Kind::Shell => "sqlite3",
        }
    }
}

#[derive(Debug, Default)]
pub struct Tally {
    pub runs: u64,
    pub busy: u64,
    pub failures: Vec<String>,
    /// Half-done actions a reader saw (the shell reader's check).
    pub half_done: Vec<String>,
}

/// The query that must always count 0: a coding whose coder has no review mark on the answer is
/// half an action (applying a code writes both in one transaction).
pub const HALF_DONE_SQL: &str = "SELECT count(*) FROM codings k WHERE NOT EXISTS \
     (SELECT 1 FROM reviews v WHERE v.response_id = k.response_id AND v.coder_id = k.coder_id)";

fn is_busy(stderr: &str) -> bool {
    stderr.contains("database is locked") || stderr.contains("database is busy")
}

pub struct Setup {
    pub kind: Kind,
    pub project: PathBuf,
    /// Where the reader's output goes.
    pub dir: PathBuf,
    /// The coders whose codings the export and the analysis read, one picked at random per run.
    pub coders: Vec<String>,
    pub respondents: usize,
    pub seed: u64,
    pub until: Instant,
}

/// Runs one kind of reader until the end of the soak or `stop`, a fresh process each time.
pub fn run_loop(setup: Setup, stop: Arc<AtomicBool>) -> Tally {
    let Setup {
        kind,
        project,
        dir,
        coders,
        respondents,
        seed,
        until,
    } = setup;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let out = dir.join(format!("reader-{}.out", kind.label()));
    let err = dir.join(format!("reader-{}.err", kind.label()));
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        let coder = coders.choose(&mut rng).unwrap().clone();
        let mut cmd = command(kind, &project, &coder);
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {} reader: {e}", kind.label()));
        let Some(status) = wait(child, &stop) else {
            break;
        };
        tally.runs += 1;
        let stdout = std::fs::read_to_string(&out).unwrap_or_default();
        let stderr = std::fs::read_to_string(&err).unwrap_or_default();
        match status {
            Waited::Hung => tally
                .failures
                .push(format!("{} ran longer than {HUNG:?}", kind.label())),
            Waited::Exited(s) if s.success() => {
                if let Err(why) = check_output(kind, &stdout, respondents) {
                    tally.failures.push(format!("{}: {why}", kind.label()));
                } else if kind == Kind::Shell && stdout.trim() != "0" {
                    tally.half_done.push(format!(
                        "the sqlite3 shell saw {} codings without a review mark",
                        stdout.trim()
                    ));
                }
            }
            Waited::Exited(_) if is_busy(&stderr) => tally.busy += 1,
            Waited::Exited(s) => tally.failures.push(format!(
                "{} exited with {s}: {}",
                kind.label(),
                stderr.trim()
            )),
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(5..60)));
    }
    tally
}

fn command(kind: Kind, project: &Path, coder: &str) -> Command {
    if kind == Kind::Shell {
        let mut cmd = Command::new("sqlite3");
        cmd.args(["-bail", "-cmd", ".timeout 10000"])
            .arg(project)
            .arg(HALF_DONE_SQL);
        return cmd;
    }
    let mut cmd = Command::new(BIN);
    cmd.env_remove("LACRIMA_PROJECT")
        .env_remove("LACRIMA_CODER")
        .arg("-p")
        .arg(project);
    match kind {
        Kind::Agreement => cmd.args(["agreement", "--format", "json"]),
        Kind::Export => cmd.args([
            "export", "dataset", "--format", "csv-wide", "--coder", coder,
        ]),
        _ => cmd.args([
            "analyze",
            "--by",
            "orientation",
            "--coder",
            coder,
            "--format",
            "json",
        ]),
    };
    cmd
}

/// The output is what a script would read: valid JSON, or one CSV row per respondent.
fn check_output(kind: Kind, stdout: &str, respondents: usize) -> Result<(), String> {
    match kind {
        Kind::Agreement | Kind::Analyze => serde_json::from_str::<serde_json::Value>(stdout)
            .map(|_| ())
            .map_err(|e| format!("printed what is not JSON ({e})")),
        Kind::Export => {
            let rows = csv::Reader::from_reader(stdout.as_bytes())
                .records()
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("printed what is not CSV ({e})"))?;
            if rows.len() == respondents {
                Ok(())
            } else {
                Err(format!(
                    "exported {} rows for {respondents} respondents",
                    rows.len()
                ))
            }
        }
        Kind::Shell => stdout
            .trim()
            .parse::<u64>()
            .map(|_| ())
            .map_err(|_| format!("printed {stdout:?} instead of a count")),
    }
}

pub enum Waited {
    Exited(std::process::ExitStatus),
    Hung,
}

/// Waits for a short-lived child, killing it if the soak is being torn down (None) or it hangs.
fn wait(mut child: Child, stop: &AtomicBool) -> Option<Waited> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(Waited::Exited(status));
        }
        if stop.load(Ordering::Relaxed) || started.elapsed() > HUNG {
            let _ = child.kill();
            let _ = child.wait();
            return (!stop.load(Ordering::Relaxed)).then_some(Waited::Hung);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The pandas-style reader: one python process that connects, reads one snapshot, and
/// disconnects, again and again until the end of the soak, then prints a JSON summary.
pub const PYTHON_READER: &str = r#"
import json, sqlite3, sys, time
db, until = sys.argv[1], int(sys.argv[2]) / 1000.0
half_done_sql = sys.argv[3]
snapshots = busy = 0
half_done = []
while time.time() < until:
    try:
        con = sqlite3.connect(db, timeout=10, isolation_level=None)
        try:
            # One read transaction: the counts below come from one snapshot of the project.
            con.execute("BEGIN")
            bad = con.execute(half_done_sql).fetchone()[0]
            codings = con.execute("SELECT count(*) FROM codings").fetchone()[0]
            reviews = con.execute("SELECT count(*) FROM reviews").fetchone()[0]
            con.execute("COMMIT")
        finally:
            con.close()
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            busy += 1
            continue
        raise
    snapshots += 1
    if bad:
        half_done.append("snapshot %d: %d codings without a review mark (%d codings, %d reviews)"
                         % (snapshots, bad, codings, reviews))
    time.sleep(0.003)
print(json.dumps({"snapshots": snapshots, "busy": busy, "half_done": half_done}))
"#;

#[derive(Debug, serde::Deserialize)]
pub struct PythonSummary {
    pub snapshots: u64,
    pub busy: u64,
    pub half_done: Vec<String>,
}

pub fn python(project: &Path, until_ms: u64, out: &Path, err: &Path) -> Child {
    Command::new("python3")
        .arg("-c")
        .arg(PYTHON_READER)
        .arg(project)
        .arg(until_ms.to_string())
        .arg(HALF_DONE_SQL)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(std::fs::File::create(err).unwrap())
        .spawn()
        .expect("python3 with its sqlite3 module is needed for the soak test")
}
