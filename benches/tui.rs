//! The coding screen on a project of 1,000,000 answers: how long the first screen takes, and how
//! long each key takes to be handled (`update`) and redrawn (`render` on a TestBackend).
//!
//! ```text
//! cargo bench --bench tui
//! LACRIMA_BENCH_PROJECT=/path/to/big.db cargo bench --bench tui   # an existing project
//! ```
//!
//! Without LACRIMA_BENCH_PROJECT the project is built once (about 500,000 respondents x 2 open
//! answers, the TCIT codebook, coder `c1` having reviewed the first 60% of the answers) in
//! `$TMPDIR/lacrima-bench-tui/` and reused by later runs. Besides criterion's timings it prints
//! the distribution (p50, p99, max) of a scripted session of a few thousand keys.

use criterion::{Criterion, criterion_group};
use lacrima::store::Store;
use lacrima::tui::keymap::Key;
use lacrima::tui::worker::{CountRequest, Worker};
use lacrima::tui::{Keymap, State, action_for_key, render, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const RESPONDENTS: usize = 500_000;
const W: u16 = 140;
const H: u16 = 40;

fn project() -> PathBuf {
    if let Some(p) = std::env::var_os("LACRIMA_BENCH_PROJECT") {
        return PathBuf::from(p);
    }
    let dir = std::env::temp_dir().join("lacrima-bench-tui");
    let path = dir.join("project.db");
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(&dir).unwrap();
    eprintln!("building {} (once) ...", path.display());
    let csv = dir.join("survey.csv");
    write_survey(&csv);
    let mut store = Store::create(&path).unwrap();
    let opts = lacrima::import::survey::SurveyOptions {
        id: Some("id".into()),
        open: vec!["answer_a".into(), "answer_b".into()],
        ..Default::default()
    };
    lacrima::import::survey::import_survey(&mut store, &csv, &opts).unwrap();
    let codebook = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/tcit_codebook.csv"
    ))
    .unwrap();
    let entries =
        lacrima::import::codebook::read_codebook_csv(&codebook, "tcit_codebook.csv").unwrap();
    store.apply_codebook(&entries, "tcit_codebook.csv").unwrap();
    // Coder c1 has reviewed the first 60% of the answers, a third of them with a code.
    let codings = dir.join("codings.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&codings).unwrap());
        writeln!(f, "respondent,question,coder,code,start,end,memo").unwrap();
        let codes = [
            "rapport-deepened",
            "felt-cared-for",
            "felt-human",
            "embarrassment",
            "",
        ];
        for r in 0..RESPONDENTS * 6 / 10 {
            for q in ["answer_a", "answer_b"] {
                writeln!(f, "R{r:07},{q},c1,{},,,", codes[r % codes.len()]).unwrap();
            }
        }
    }
    let rows = lacrima::import::codings::read_codings_csv(
        &std::fs::read(&codings).unwrap(),
        "codings.csv",
    )
    .unwrap();
    store.import_codings(&rows, "codings.csv").unwrap();
    store.checkpoint().unwrap();
    let _ = std::fs::remove_file(&csv);
    let _ = std::fs::remove_file(&codings);
    path
}

/// A deterministic survey: an id, four variables and two open answers of 8 to 40 words.
fn write_survey(path: &Path) {
    const WORDS: &[&str] = &[
        "the",
        "session",
        "client",
        "cried",
        "felt",
        "closer",
        "after",
        "trust",
        "moment",
        "we",
        "talked",
        "about",
        "it",
        "later",
        "and",
        "I",
        "was",
        "moved",
        "nothing",
        "changed",
        "supervision",
        "embarrassed",
        "human",
        "relationship",
        "deepened",
        "tears",
        "shared",
    ];
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "id,age,sex,orientation,years,answer_a,answer_b").unwrap();
    let mut x: u64 = 42;
    let mut next = || {
        // xorshift: fast and the same on every machine.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let orientations = ["CBT", "psychodynamic", "eclectic", "humanistic", "systemic"];
    for r in 0..RESPONDENTS {
        let answer = |n: &mut dyn FnMut() -> u64| {
            let len = 8 + (n() % 33) as usize;
            (0..len)
                .map(|_| WORDS[(n() % WORDS.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let a = answer(&mut next);
        let b = if next() % 10 == 0 {
            "n/a".to_string()
        } else {
            answer(&mut next)
        };
        writeln!(
            f,
            "R{r:07},{},{},{},{},{a},{b}",
            22 + next() % 60,
            if next() % 4 == 0 { "male" } else { "female" },
            orientations[(next() % 5) as usize],
            next() % 40
        )
        .unwrap();
    }
}

fn open(path: &Path, coder: &str) -> State {
    let store = Store::open(path).unwrap();
    // As the screen does: checkpoints happen on the worker, not inside a key's commit.
    store.defer_checkpoints().unwrap();
    State::open(store, coder, Keymap::default(), Rect::new(0, 0, W, H)).unwrap()
}

fn key(spec: &str) -> crossterm::event::KeyEvent {
    let k = Key::parse(spec).unwrap();
    crossterm::event::KeyEvent::new(k.code, k.mods)
}

/// One key as the screen handles it: to an action, through update, and a full redraw.
fn press(s: &mut State, term: &mut Terminal<TestBackend>, spec: &str) {
    if let Some(a) = action_for_key(s, key(spec)) {
        update(s, a);
    }
    term.draw(|f| render::render(f, s)).unwrap();
}

/// The scripted session: reading down the list, coding, undoing, jumping, selecting segments.
fn script() -> Vec<&'static str> {
    let mut keys = Vec::new();
    for round in 0..60 {
        keys.extend([
            "j", "j", "1", "j", "3", "n", "k", "j", "pagedown", "j", "u", "ctrl-r",
        ]);
        keys.extend([
            "tab", "v", "w", "w", "2", "esc", "tab", "tab", "j", "j", "k", "tab",
        ]);
        keys.extend([
            "x", "j", "x", "N", "pageup", "j", "j", "j", "j", "j", "u", "u",
        ]);
        if round % 10 == 9 {
            keys.extend(["G", "k", "k", "1", "u", "g", "j", "n", "n", "n"]);
        }
        keys.extend(["j"; 20]);
    }
    keys
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn scripted_session(path: &Path) {
    for coder in ["bench-new", "c1"] {
        let t = Instant::now();
        let mut s = open(path, coder);
        let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
        term.draw(|f| render::render(f, &s)).unwrap();
        let first = t.elapsed();
        let keys = script();
        let mut times = Vec::with_capacity(keys.len());
        let mut slowest: Vec<(Duration, &str)> = Vec::new();
        // The counts worker runs beside the keys as in the real screen (and checkpoints there).
        let worker = Worker::spawn(path).unwrap();
        let mut last_tick = Instant::now();
        for k in &keys {
            let t = Instant::now();
            press(&mut s, &mut term, k);
            let d = t.elapsed();
            times.push(d);
            slowest.push((d, k));
            if s.counts_requested != s.counts_generation {
                worker.request(CountRequest {
                    generation: s.counts_generation,
                    query: s.query(),
                });
                s.counts_requested = s.counts_generation;
            }
            while let Ok(outcome) = worker.results.try_recv() {
                if let lacrima::tui::worker::Outcome::Counts(Ok(c)) = outcome {
                    update(&mut s, lacrima::tui::Action::Counts(c));
                }
            }
            // The screen's one-second tick.
            if last_tick.elapsed() >= Duration::from_secs(1) {
                worker.checkpoint();
                last_tick = Instant::now();
            }
        }
        drop(worker);
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        slowest.truncate(5);
        // Take back everything the session wrote, so the project stays as built.
        while s.store.can_undo(s.coder_id).unwrap() {
            s.store.undo(s.coder_id).unwrap();
        }
        s.store.checkpoint().unwrap();
        times.sort();
        eprintln!(
            "scripted session as {coder}: first screen {:.1} ms; {} keys: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            first.as_secs_f64() * 1e3,
            times.len(),
            percentile(&times, 0.50).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3,
        );
        let slow: Vec<String> = slowest
            .iter()
            .map(|(d, k)| format!("{k} {:.1} ms", d.as_secs_f64() * 1e3))
            .collect();
        eprintln!("  slowest keys: {}", slow.join(", "));
    }
}

fn benches(c: &mut Criterion) {
    let path = project();
    scripted_session(&path);
    let mut g = c.benchmark_group("coding screen, 1,000,000 answers");
    g.sample_size(20);
    for coder in ["bench-new", "c1"] {
        g.bench_function(format!("first screen as {coder}"), |b| {
            b.iter(|| {
                let s = open(&path, coder);
                let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
                term.draw(|f| render::render(f, &s)).unwrap();
            })
        });
    }
    // Reading keys as c1, who has reviewed 60% of the answers.
    let mut s = open(&path, "c1");
    let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
    g.bench_function("j (next answer) + redraw", |b| {
        b.iter(|| press(&mut s, &mut term, "j"))
    });
    g.bench_function("n (next not reviewed) + redraw", |b| {
        b.iter(|| press(&mut s, &mut term, "n"))
    });
    g.bench_function("G then g (last and first page) + redraws", |b| {
        b.iter(|| {
            press(&mut s, &mut term, "G");
            press(&mut s, &mut term, "g");
        })
    });
    // Writing keys as a coder of their own, so c1 stays as built: each toggle pair and each
    // apply-and-undo leaves the answer as it was (but for its review mark).
    let mut w = open(&path, "bench-keys");
    g.bench_function("1 (toggle a code, committed) + redraw", |b| {
        b.iter(|| press(&mut w, &mut term, "1"))
    });
    w.store.checkpoint_passive().unwrap();
    g.bench_function("u (undo from the event log) + redraw", |b| {
        b.iter(|| {
            press(&mut w, &mut term, "1");
            press(&mut w, &mut term, "u");
        })
    });
    g.finish();
    // The screen checkpoints on its worker; here, once at the end, so the WAL does not grow
    // from run to run.
    w.store.checkpoint().unwrap();
}

criterion_group!(tui, benches);

fn main() {
    tui();
    Criterion::default().configure_from_args().final_summary();
}
