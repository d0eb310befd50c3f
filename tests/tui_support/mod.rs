//! Shared by the screen tests: the demo project built through the library, a screen state
//! opened on it, keys pressed by name, and frames drawn on ratatui's TestBackend.
#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lacrima::store::Store;
use lacrima::tui::keymap::{Key, Keymap};
use lacrima::tui::{Action, State, action_for_key, refresh_counts_now, render, update};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::{Frame, Terminal};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const SURVEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tcit_survey.csv");
const CODEBOOK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tcit_codebook.csv");
const CODINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tcit_codings.csv");

/// The demo project (the synthetic TCIT survey, its codebook, and coders ana and ben), built the
/// way `lacrima demo` builds it.
pub fn demo_project(dir: &Path) -> PathBuf {
    let path = dir.join("demo.db");
    let mut store = Store::create(&path).unwrap();
    let opts = lacrima::import::survey::SurveyOptions {
        id: Some("resp_id".into()),
        open: vec![
            "consequence_client".into(),
            "consequence_relationship".into(),
            "consequence_therapist".into(),
        ],
        ..Default::default()
    };
    lacrima::import::survey::import_survey(&mut store, Path::new(SURVEY), &opts).unwrap();
    apply_demo_codebook(&mut store);
    let rows = lacrima::import::codings::read_codings_csv(
        &std::fs::read(CODINGS).unwrap(),
        "tcit_codings.csv",
    )
    .unwrap();
    store.import_codings(&rows, "tcit_codings.csv").unwrap();
    path
}

/// A small project from CSV text (first column `id`, the columns named in `open` are answers),
/// with the demo codebook.
pub fn project_from_csv(dir: &Path, csv: &str, open: &[&str]) -> PathBuf {
    let path = dir.join("small.db");
    let file = dir.join("small.csv");
    std::fs::write(&file, csv).unwrap();
    let mut store = Store::create(&path).unwrap();
    let opts = lacrima::import::survey::SurveyOptions {
        id: Some("id".into()),
        open: open.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    lacrima::import::survey::import_survey(&mut store, &file, &opts).unwrap();
    apply_demo_codebook(&mut store);
    path
}

/// The TCIT codebook, applied as `lacrima codebook import` would.
fn apply_demo_codebook(store: &mut Store) {
    let entries = lacrima::import::codebook::read_codebook_csv(
        &std::fs::read(CODEBOOK).unwrap(),
        "tcit_codebook.csv",
    )
    .unwrap();
    store.apply_codebook(&entries, "tcit_codebook.csv").unwrap();
}

/// The demo project (see [`demo_project`]) in a folder of its own, which must be kept as long as
/// the project is used.
pub fn demo() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_project(dir.path());
    (dir, path)
}

/// A small project from CSV text (see [`project_from_csv`]) in a folder of its own, which must
/// be kept as long as the project is used.
pub fn csv_project(csv: &str, open: &[&str]) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = project_from_csv(dir.path(), csv, open);
    (dir, path)
}

/// Puts a plan in force as `lacrima assign --coders ana,demo --overlap 20% --seed 7` would.
pub fn plan_for_ana_and_demo(path: &Path) {
    Store::open(path)
        .unwrap()
        .make_assignment_plan(&lacrima::store::PlanRequest {
            coders: vec!["ana".into(), "demo".into()],
            question_id: None,
            overlap: 0.2,
            seed: 7,
        })
        .unwrap();
}

/// `lacrima -p PATH ARGS...`, with no coder named in the environment.
pub fn lacrima_on(path: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("lacrima").unwrap();
    cmd.env_remove("LACRIMA_CODER")
        .arg("-p")
        .arg(path)
        .args(args);
    cmd
}

/// Runs `lacrima -p PATH ARGS...`, which must fail with exit code 1; returns its stderr.
pub fn fails_on(path: &Path, args: &[&str]) -> String {
    let out = lacrima_on(path, args).assert().code(1).get_output().clone();
    String::from_utf8(out.stderr).unwrap()
}

/// The screen's state for a coder at a terminal size, in colour, with counts in place.
pub fn open(path: &Path, coder: &str, width: u16, height: u16) -> State {
    let store = Store::open(path).unwrap();
    let mut s = State::open(
        store,
        coder,
        Keymap::default(),
        Rect::new(0, 0, width, height),
    )
    .unwrap();
    s.color = true;
    s.key_file = "~/.config/lacrima/keys.toml".into();
    refresh_counts_now(&mut s).unwrap();
    s
}

/// A key by its key-map name: "j", "J", "ctrl-r", "shift-right", "enter", "tab", "esc", ...
pub fn key(spec: &str) -> KeyEvent {
    let k = Key::parse(spec).unwrap_or_else(|| panic!("unknown key {spec:?}"));
    let mut mods = k.mods;
    if let KeyCode::Char(c) = k.code
        && c.is_uppercase()
    {
        // Terminals report capitals with Shift.
        mods |= KeyModifiers::SHIFT;
    }
    KeyEvent::new(k.code, mods)
}

/// Presses keys given as space-separated names, through the key map, as the screen would.
pub fn press(s: &mut State, keys: &str) {
    for spec in keys.split_whitespace() {
        let ev = key(spec);
        if let Some(a) = action_for_key(s, ev) {
            update(s, a);
        }
    }
    refresh_counts_now(s).unwrap();
}

/// Types text into whatever field has the keyboard.
pub fn type_text(s: &mut State, text: &str) {
    for c in text.chars() {
        let ev = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        if let Some(a) = action_for_key(s, ev) {
            update(s, a);
        }
    }
}

pub fn act(s: &mut State, a: Action) {
    update(s, a);
    refresh_counts_now(s).unwrap();
}

pub fn draw(s: &State) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(s.size.width, s.size.height)).unwrap();
    t.draw(|f| render::render(f, s)).unwrap();
    t
}

pub fn buffer(s: &State) -> Buffer {
    draw(s).backend().buffer().clone()
}

/// One frame of any screen: what `render` draws on a terminal of `size`.
pub fn frame(size: Rect, render: impl FnOnce(&mut Frame)) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(size.width, size.height)).unwrap();
    t.draw(render).unwrap();
    t.backend().buffer().clone()
}

/// A frame as text: the symbols of each row, rows joined by newlines.
pub fn rows_text(b: &Buffer) -> String {
    (0..b.area.height)
        .map(|y| {
            (0..b.area.width)
                .map(|x| b[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The screen as text lines.
pub fn screen(s: &State) -> Vec<String> {
    let b = buffer(s);
    (0..b.area.height)
        .map(|y| {
            let mut line = String::new();
            let mut x = 0;
            while x < b.area.width {
                let cell = &b[(x, y)];
                line.push_str(cell.symbol());
                x += cell.symbol().chars().next().map_or(1, |c| {
                    unicode_width::UnicodeWidthChar::width(c)
                        .unwrap_or(1)
                        .max(1)
                }) as u16;
            }
            line
        })
        .collect()
}

/// Where `needle` starts on screen (column, row), searching rows top to bottom.
pub fn find(b: &Buffer, needle: &str) -> Option<(u16, u16)> {
    for y in 0..b.area.height {
        let cells: Vec<&str> = (0..b.area.width).map(|x| b[(x, y)].symbol()).collect();
        let row: String = cells.concat();
        if let Some(byte) = row.find(needle) {
            // Map the byte offset back to a column.
            let mut acc = 0;
            for (x, c) in cells.iter().enumerate() {
                if acc == byte {
                    return Some((x as u16, y));
                }
                acc += c.len();
            }
        }
    }
    None
}

/// Rows of a query on the project file, for checking what was saved.
pub fn sql_rows(path: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut st = conn.prepare(sql).unwrap();
    let n = st.column_count();
    st.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get::<_, rusqlite::types::Value>(i)? {
                    rusqlite::types::Value::Null => "NULL".to_string(),
                    rusqlite::types::Value::Integer(v) => v.to_string(),
                    rusqlite::types::Value::Real(v) => v.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Blob(_) => "<blob>".to_string(),
                })
            })
            .collect::<rusqlite::Result<Vec<String>>>()
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

/// One coder's codings as "ext_id question code start end", in survey order.
pub fn codings_of(path: &Path, coder: &str) -> Vec<String> {
    sql_rows(
        path,
        &format!(
            "SELECT r.ext_id || ' ' || q.name || ' ' || c.name || ' ' || ifnull(k.start, '-') || ' ' || ifnull(k.\"end\", '-')
             FROM codings k JOIN responses s ON s.id = k.response_id JOIN respondents r ON r.id = s.respondent_id
             JOIN questions q ON q.id = s.question_id JOIN codes c ON c.id = k.code_id
             JOIN coders d ON d.id = k.coder_id WHERE d.name = '{coder}' ORDER BY s.id, c.name, k.start"
        ),
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

/// The answers one coder reviewed, as "ext_id question".
pub fn reviews_of(path: &Path, coder: &str) -> Vec<String> {
    sql_rows(
        path,
        &format!(
            "SELECT r.ext_id || ' ' || q.name FROM reviews v JOIN responses s ON s.id = v.response_id
             JOIN respondents r ON r.id = s.respondent_id JOIN questions q ON q.id = s.question_id
             JOIN coders d ON d.id = v.coder_id WHERE d.name = '{coder}' ORDER BY s.id"
        ),
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

/// The answer on screen as "ext_id question".
pub fn current(s: &State) -> String {
    let a = s.answer.as_ref().expect("an answer on screen");
    format!("{} {}", a.detail.ext_id, a.detail.question)
}

/// Opens a menu with `opener` (if any) and chooses the item whose label starts with `label`.
pub fn menu_pick(s: &mut State, opener: &str, label: &str) {
    if !opener.is_empty() {
        press(s, opener);
    }
    let Some(lacrima::tui::state::Popup::Menu {
        items, selected, ..
    }) = &s.popup
    else {
        panic!("no menu open to pick {label:?} from")
    };
    let target = items
        .iter()
        .position(|i| i.label.starts_with(label))
        .unwrap_or_else(|| panic!("no item {label:?} in {items:?}"));
    let here = *selected;
    let keys = if target >= here {
        "j ".repeat(target - here)
    } else {
        "k ".repeat(here - target)
    };
    press(s, &keys);
    press(s, "enter");
}
