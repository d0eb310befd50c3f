//! The real `lacrima code` binary in a real terminal (tmux): keys are sent with send-keys, the
//! screen is read with capture-pane until what we wait for appears or a deadline passes (never a
//! fixed sleep), and the project file is checked afterwards. Each test has its own tmux server.

mod common;
mod tui_support;

use common::sqlite3::Sqlite3Shell;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tui_support::*;

const BIN: &str = env!("CARGO_BIN_EXE_lacrima");
const DEADLINE: Duration = Duration::from_secs(30);

fn tmux_available() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: tmux is not installed, so the end-to-end screen tests cannot run (CI installs it)"
        );
    }
    ok
}

/// A tmux server of its own, killed when the test ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, width: u16, height: u16, command: &str) -> Tmux {
        let t = Tmux {
            socket: format!("lacrima-{name}-{}", std::process::id()),
        };
        let out = Command::new("tmux")
            .args([
                "-L",
                &t.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
            ])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            .arg(command)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        let out = self.tmux(&args);
        assert!(
            out.status.success(),
            "send-keys: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    /// Polls the screen until `pred` holds; fails with the last screen after the deadline.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > DEADLINE {
                panic!("waited {DEADLINE:?} for {what}; the screen shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn wait_text(&self, text: &str) -> String {
        self.wait_for(text, |s| s.contains(text))
    }

    /// The pid of lacrima in the pane: the pane's process or one of its descendants (a shell
    /// may or may not exec the command it runs).
    fn lacrima_pid(&self) -> u32 {
        let out = self.tmux(&["display-message", "-p", "-t", "0", "#{pane_pid}"]);
        let pane: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let bin = std::fs::canonicalize(BIN).unwrap();
        let mut todo = vec![pane];
        while let Some(pid) = todo.pop() {
            if std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == bin) {
                return pid;
            }
            let kids = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            todo.extend(
                kids.split_whitespace()
                    .filter_map(|k| k.parse::<u32>().ok()),
            );
        }
        panic!("lacrima is not running in the pane");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// The command line for the pane: the screen, then (in `sh`) the exit status, so a test can see
/// the terminal given back after lacrima ends.
fn code_command(dir: &Path, path: &Path, then_report: bool) -> String {
    let keys = dir.join("no-keys.toml");
    let cmd = format!(
        "env LACRIMA_KEYS='{}' '{BIN}' -p '{}' code --coder demo",
        keys.display(),
        path.display()
    );
    if then_report {
        format!("sh -c \"{cmd}; echo lacrima exited with status \\$?; sleep 600\"")
    } else {
        cmd
    }
}

#[test]
fn one_codes_j_moves_u_undoes_and_q_quits_giving_the_terminal_back() {
    if !tmux_available() {
        return;
    }
    let (dir, path) = demo();
    let t = Tmux::start("story", 100, 30, &code_command(dir.path(), &path, true));
    t.wait_text("reviewed 0 of");
    t.keys(&["1"]);
    t.wait_text("applied rapport-deepened to the answer");
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client rapport-deepened - -"]
    );
    t.keys(&["j"]);
    t.wait_text("T0001 · consequence_relationship");
    t.keys(&["u"]);
    t.wait_text("undid: apply \"rapport-deepened\"");
    t.wait_text("T0001 · consequence_client");
    // A resize redraws the whole screen at the new size.
    t.tmux(&["resize-window", "-t", "0", "-x", "80", "-y", "24"]);
    t.wait_for("the 80-column layout", |s| {
        s.lines()
            .next()
            .is_some_and(|l| unicode_width::UnicodeWidthStr::width(l) == 80 && l.ends_with('┐'))
    });
    t.keys(&["q"]);
    let after = t.wait_text("lacrima exited with status 0");
    assert!(
        !after.contains("Codebook"),
        "the alternate screen is left on quit:\n{after}"
    );
    assert!(codings_of(&path, "demo").is_empty());
    assert!(reviews_of(&path, "demo").is_empty());
    let events = sql_rows(
        &path,
        "SELECT e.action FROM events e JOIN coders d ON d.id = e.coder_id WHERE d.name = 'demo' ORDER BY e.id",
    );
    assert_eq!(events, [["code.apply"], ["undo"]]);
}

#[test]
fn a_coding_shown_on_screen_survives_kill_9() {
    if !tmux_available() {
        return;
    }
    let (dir, path) = demo();
    let t = Tmux::start("kill9", 100, 30, &code_command(dir.path(), &path, false));
    t.wait_text("reviewed 0 of");
    t.keys(&["1", "j", "v", "w", "w", "2"]);
    t.wait_text("applied felt-cared-for to the segment");
    let pid = t.lacrima_pid();
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Nothing the screen showed is lost: both codings and the review marks are in the file.
    assert_eq!(
        codings_of(&path, "demo"),
        [
            "T0001 consequence_client rapport-deepened - -",
            "T0001 consequence_relationship felt-cared-for 0 9",
        ]
    );
    assert_eq!(reviews_of(&path, "demo").len(), 2);
}

#[test]
fn sigterm_ends_the_screen_and_restores_the_terminal() {
    if !tmux_available() {
        return;
    }
    let (dir, path) = demo();
    let t = Tmux::start("term", 100, 30, &code_command(dir.path(), &path, true));
    t.wait_text("reviewed 0 of");
    t.keys(&["5"]);
    t.wait_text("applied session-deepened");
    let lacrima = t.lacrima_pid().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &lacrima])
            .status()
            .unwrap()
            .success()
    );
    let after = t.wait_text("lacrima exited with status 0");
    assert!(!after.contains("Codebook"), "{after}");
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client session-deepened - -"]
    );
}

#[test]
fn wide_characters_line_up_in_a_real_terminal() {
    if !tmux_available() {
        return;
    }
    let csv = "id,answer\nr1,我们一起哭了，然后谈了很久。 Then we talked 😢 for a long time and it helped both of us.\n";
    let (dir, path) = csv_project(csv, &["answer"]);
    let t = Tmux::start("wide", 100, 30, &code_command(dir.path(), &path, false));
    let s = t.wait_text("我们一起哭了");
    // Every line of the frame is exactly as wide as the terminal: wide characters took two
    // columns each, so the right border did not move.
    for line in s.lines() {
        assert!(
            unicode_width::UnicodeWidthStr::width(line) <= 100,
            "{line:?}"
        );
    }
    let bordered: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("我们") || l.contains("😢"))
        .collect();
    assert!(!bordered.is_empty());
    for line in bordered {
        assert_eq!(unicode_width::UnicodeWidthStr::width(line), 100, "{line:?}");
        assert!(line.ends_with('│') || line.ends_with('║'), "{line:?}");
    }
    t.keys(&["q"]);
}

#[test]
fn without_a_coder_the_terminal_asks_for_a_name_listing_the_coders() {
    if !tmux_available() {
        return;
    }
    let (dir, path) = demo();
    let cmd = format!(
        "env -u LACRIMA_CODER LACRIMA_KEYS='{}' '{BIN}' -p '{}' code",
        dir.path().join("no-keys.toml").display(),
        path.display()
    );
    let t = Tmux::start("ask", 100, 30, &cmd);
    t.wait_text("Coders in this project: ana, ben");
    t.wait_text("Your name as a coder");
    t.keys(&["zoe", "Enter"]);
    t.wait_text(" zoe  reviewed 0 of");
    t.keys(&["q"]);
    assert_eq!(
        sql_rows(&path, "SELECT count(*) FROM coders WHERE name = 'zoe'")[0][0],
        "1"
    );
}

#[test]
fn demo_on_a_terminal_opens_the_screen_as_coder_demo() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!(
        "sh -c \"cd '{}' && env -u LACRIMA_CODER LACRIMA_KEYS=none.toml '{BIN}' demo; sleep 600\"",
        dir.path().display()
    );
    let t = Tmux::start("demo", 100, 30, &cmd);
    t.wait_text(" demo  reviewed 0 of");
    t.keys(&["1"]);
    t.wait_text("applied rapport-deepened");
    t.keys(&["q"]);
    t.wait_text("code in it:  lacrima -p lacrima-demo.db code --coder demo");
    let db = dir.path().join("lacrima-demo.db");
    assert_eq!(
        codings_of(&db, "demo"),
        ["T0001 consequence_client rapport-deepened - -"]
    );
}

#[test]
fn closing_the_terminal_ends_lacrima_instead_of_leaving_it_spinning() {
    if !tmux_available() {
        return;
    }
    let (dir, path) = demo();
    let t = Tmux::start("hangup", 100, 30, &code_command(dir.path(), &path, false));
    t.wait_text("reviewed 0 of");
    t.keys(&["1"]);
    t.wait_text("applied rapport-deepened");
    let pid = t.lacrima_pid();
    // The terminal goes away (as when a window is closed or an ssh link drops).
    drop(t);
    assert_ends(pid);
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client rapport-deepened - -"]
    );
}

/// Waits for process `pid` to end (or become a zombie); fails after the deadline.
fn assert_ends(pid: u32) {
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.split_whitespace().nth(2) == Some("Z") {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "lacrima {pid} still runs after its terminal closed"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn closing_the_terminal_ends_the_review_and_analysis_screens_too() {
    if !tmux_available() {
        return;
    }
    let (_dir, path) = demo();
    for (name, args, shown) in [
        (
            "hangup-analysis",
            "analyze --screen --coder ana",
            "Relate the codes",
        ),
        (
            "hangup-review",
            "review --coders ana,ben --coder maria",
            "Agreement of ana and ben",
        ),
    ] {
        let cmd = format!("'{BIN}' -p '{}' {args}", path.display());
        let t = Tmux::start(name, 100, 30, &cmd);
        t.wait_text(shown);
        let pid = t.lacrima_pid();
        drop(t);
        assert_ends(pid);
    }
}

#[test]
fn two_coders_in_two_terminals_share_one_project_file() {
    if !tmux_available() {
        return;
    }
    let (dir, path) = demo();
    let keys = dir.path().join("no-keys.toml");
    let as_coder = |coder: &str| {
        format!(
            "env LACRIMA_KEYS='{}' '{BIN}' -p '{}' code --coder {coder}",
            keys.display(),
            path.display()
        )
    };
    let a = Tmux::start("two-a", 100, 30, &as_coder("demo"));
    let b = Tmux::start("two-b", 100, 30, &as_coder("carla"));
    a.wait_text("reviewed 0 of");
    b.wait_text("reviewed 0 of");
    // Both code the same answer at once.
    a.keys(&["1"]);
    b.keys(&["2"]);
    a.wait_text("applied rapport-deepened");
    b.wait_text("applied felt-cared-for");
    // carla adds a code (beside the selected group's codes, so under "relationship"); demo's
    // codebook shows it within a tick.
    b.keys(&["Tab", "Tab", "a"]);
    b.wait_text("Add a code");
    b.keys(&["shared-tears", "Enter"]);
    b.wait_text("added the code shared-tears");
    a.keys(&["Tab", "Tab"]);
    a.wait_text("shared-tears");
    a.keys(&["q"]);
    b.keys(&["q"]);
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client rapport-deepened - -"]
    );
    assert_eq!(
        codings_of(&path, "carla"),
        ["T0001 consequence_client felt-cared-for - -"]
    );
}

#[test]
fn shift_a_and_shift_v_open_the_agreement_and_analysis_screens_and_come_back() {
    if !tmux_available() {
        return;
    }
    let (dir, path) = demo();
    let t = Tmux::start(
        "subscreens",
        120,
        30,
        &code_command(dir.path(), &path, true),
    );
    t.wait_text("reviewed 0 of");
    // The review screen draws on the same terminal and reads the same keys; q brings the coding
    // screen back, whole.
    t.keys(&["A"]);
    t.wait_text("Agreement of ana and ben");
    t.wait_text("decisions by demo");
    t.keys(&["q"]);
    t.wait_for("the coding screen again", |s| {
        s.contains("Codebook") && !s.contains("Agreement of")
    });
    t.keys(&["V"]);
    t.wait_text("Relate the codes to a survey variable");
    t.keys(&["q"]);
    t.wait_for("the coding screen again", |s| {
        s.contains("Codebook") && !s.contains("Relate the codes")
    });
    // Keys reach the coding screen again.
    t.keys(&["1"]);
    t.wait_text("applied rapport-deepened to the answer");
    t.keys(&["q"]);
    t.wait_text("lacrima exited with status 0");
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client rapport-deepened - -"]
    );
}

/// The reproduction: with the screen open, a plain SQLite client (Python's sqlite3 module)
/// opens and closes the project. The screen's locks must survive it: the WAL stays, and what the
/// screen saves next is visible to the next reader at once, not after a checkpoint a second later.
#[test]
fn a_python_reader_coming_and_going_leaves_the_open_screens_wal_alone() {
    if !tmux_available() {
        return;
    }
    let (dir, path) = demo();
    let t = Tmux::start("python", 100, 30, &code_command(dir.path(), &path, false));
    t.wait_text("reviewed 0 of");
    t.keys(&["1"]);
    t.wait_text("applied rapport-deepened to the answer");
    let count = || {
        let out = Command::new("python3")
            .arg("-c")
            .arg(
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
                 print(c.execute(\"select count(*) from codings k join coders d on d.id=k.coder_id \
                 where d.name='demo'\").fetchone()[0]); c.close()",
            )
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    assert_eq!(count(), "1");
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    assert!(
        Path::new(&wal).exists(),
        "the reader deleted the WAL of the open screen"
    );
    t.keys(&["u"]);
    t.wait_text("undid: apply");
    assert_eq!(
        count(),
        "0",
        "the undo the screen showed is not visible to a reader"
    );
}

/// A colleague's sqlite3 shell sits inside a transaction: the coder's key is not dropped and the
/// screen does not freeze; it says who holds the lock, and saves the key when the shell commits.
#[test]
fn a_key_pressed_while_a_sqlite3_shell_holds_the_lock_waits_and_is_saved_after() {
    if !tmux_available() {
        return;
    }
    let (dir, path) = demo();
    let t = Tmux::start("busy", 200, 30, &code_command(dir.path(), &path, false));
    t.wait_text("reviewed 0 of");
    let shell = Sqlite3Shell::holding_write_lock(&path);

    t.keys(&["1"]);
    t.wait_text(&format!("sqlite3 (pid {})", shell.id()));
    t.wait_text("1 key kept");
    assert!(codings_of(&path, "demo").is_empty());
    // The screen still answers keys: the next one joins the first.
    t.keys(&["j"]);
    t.wait_text("2 keys kept");

    shell.end("COMMIT");
    t.wait_text("free again");
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client rapport-deepened - -"]
    );
    t.wait_text("T0001 · consequence_relationship");
}
