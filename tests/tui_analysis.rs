//! A researcher explores the TCIT themes against the survey on the analysis screen: picks a
//! variable, reads one row of bars per code with its p- and q-value, sorts the codes by q, and
//! opens a cell to read the answers behind the number. Whole screens are compared with snapshot
//! files; colours that carry meaning are asserted cell by cell; the numbers and the answers are
//! checked against `lacrima analyze` and the project file.

mod tui_support;

use lacrima::report::{Scope, categorical_report, choose_coder, choose_questions};
use lacrima::store::Store;
use lacrima::tui::analysis::{
    AnalysisAction, AnalysisContext, AnalysisKeymap, AnalysisSetup, AnalysisState, Results,
    SortOrder, View, update,
};
use lacrima::tui::analysis_render::{SIGNIFICANT, render};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::path::Path;
use tui_support::{demo, fails_on, find, frame, key, rows_text, sql_rows};

fn scope(store: &Store, coder: &str, question: Option<&str>) -> Scope {
    let layout = store.dataset_layout().unwrap();
    let (questions, question) = choose_questions(&layout, question).unwrap();
    let (coder_id, coder) = choose_coder(store, Some(coder)).unwrap();
    Scope {
        coder_id,
        coder,
        questions,
        question,
    }
}

fn open(path: &Path, by: Option<&str>, width: u16, height: u16) -> AnalysisState {
    let store = Store::open(path).unwrap();
    let scope = scope(&store, "ana", None);
    let mut s = AnalysisState::open(
        store,
        AnalysisSetup {
            scope,
            by: by.map(String::from),
        },
        AnalysisKeymap::default(),
        Rect::new(0, 0, width, height),
    )
    .unwrap();
    s.color = true;
    s.finish_pending();
    s
}

/// Presses keys given as space-separated key-map names, as the screen would, each time waiting
/// for an analysis the key started.
fn press(s: &mut AnalysisState, keys: &str) {
    for spec in keys.split_whitespace() {
        if let Some(a) = s.action_for_key(key(spec)) {
            update(s, a);
        }
        s.finish_pending();
    }
}

fn buffer(s: &AnalysisState) -> Buffer {
    frame(s.size, |f| render(f, s))
}

fn screen(s: &AnalysisState) -> String {
    rows_text(&buffer(s))
}

fn snapshot(name: &str, by: Option<&str>, keys: &str) {
    for (w, h) in [(80, 24), (140, 40)] {
        let (_dir, path) = demo();
        let mut s = open(&path, by, w, h);
        press(&mut s, keys);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&s));
    }
}

#[test]
fn screen_choosing_a_variable() {
    snapshot("analysis_variables", None, "");
}

#[test]
fn screen_codes_by_a_categorical_variable() {
    snapshot("analysis_categorical", Some("orientation"), "");
}

#[test]
fn screen_codes_sorted_by_q() {
    snapshot("analysis_sorted", Some("cried_last_4w"), "s");
}

#[test]
fn screen_codes_by_a_numeric_variable() {
    snapshot("analysis_numeric", Some("years_experience"), "");
}

#[test]
fn screen_the_answers_behind_a_cell() {
    snapshot("analysis_answers", Some("orientation"), "enter");
}

#[test]
fn screen_help() {
    snapshot("analysis_help", None, "?");
}

#[test]
fn screen_a_code_as_a_bar_chart() {
    snapshot("analysis_chart", Some("orientation"), "b");
    snapshot("analysis_chart_numeric", Some("years_experience"), "j b");
}

#[test]
fn b_charts_the_selected_code_with_the_reports_percentages_and_j_moves_to_the_next() {
    let (_dir, path) = demo();
    let mut s = open(&path, Some("orientation"), 140, 40);
    press(&mut s, "b");
    let shown = screen(&s);
    let Some(Results::Categorical(r)) = &s.results else {
        panic!("categorical results");
    };
    let first = &r.codes[0];
    assert!(shown.contains(&format!(
        "{}: percent of rated respondents coded",
        first.code
    )));
    for (i, level) in first.levels.iter().enumerate() {
        let percent = 100.0 * first.coded[i] as f64 / first.rated[i] as f64;
        if percent > 0.0 {
            assert!(
                shown.contains(&format!("{percent:.1}%")),
                "{level}: {shown}"
            );
        }
    }
    let second = r.codes[1].code.clone();
    press(&mut s, "j");
    assert!(screen(&s).contains(&format!("{second}: percent of rated")));
    press(&mut s, "b");
    assert!(screen(&s).contains("Codes by orientation"));
}

#[test]
fn choosing_a_variable_with_the_keys_shows_the_same_numbers_as_analyze() {
    let (_dir, path) = demo();
    let mut s = open(&path, None, 140, 40);
    assert_eq!(s.view, View::Variables);
    // The list holds the numeric and categorical variables in survey order.
    let names: Vec<&str> = s
        .choices
        .iter()
        .map(|&i| s.layout.variables[i].name.as_str())
        .collect();
    let k = names.iter().position(|n| *n == "orientation").unwrap();
    press(&mut s, &"j ".repeat(k));
    press(&mut s, "enter");
    assert_eq!(s.view, View::Table);
    assert_eq!(s.variable().unwrap().name, "orientation");

    let store = Store::open(&path).unwrap();
    let layout = store.dataset_layout().unwrap();
    let var = layout
        .variables
        .iter()
        .find(|v| v.name == "orientation")
        .unwrap();
    let report = categorical_report(&store, &layout, &scope(&store, "ana", None), var).unwrap();
    let text = screen(&s);
    assert!(text.contains("52 respondents rated"), "{text}");
    // Each code's bar for CBT ends in its percent coded, as in the report.
    let b = buffer(&s);
    for c in &report.codes {
        let (_, y) = find(&b, &format!(" {} ", c.code)).unwrap();
        let row: String = (0..b.area.width).map(|x| b[(x, y)].symbol()).collect();
        let i = c.levels.iter().position(|l| l == "CBT").unwrap();
        let pct = format!("{:.0}%", 100.0 * c.coded[i] as f64 / c.rated[i] as f64);
        assert!(row.contains(&pct), "{}: {row} lacks {pct}", c.code);
        assert!(
            row.contains(&format!("{:.4}", c.q_bh.unwrap())),
            "{}: {row}",
            c.code
        );
    }
}

#[test]
fn sorting_by_q_puts_the_strongest_association_first_and_colours_it() {
    let (_dir, path) = demo();
    let mut s = open(&path, Some("cried_last_4w"), 140, 40);
    assert_eq!(s.sort, SortOrder::Codebook);
    let first = s.code_at(0).unwrap();
    press(&mut s, "j j");
    let selected = s.code_at(s.row).unwrap();
    press(&mut s, "s");
    assert_eq!(s.sort, SortOrder::QValue);
    assert_eq!(
        s.code_at(s.row),
        Some(selected),
        "the selection follows its code"
    );
    let r = s.results.as_ref().unwrap();
    let qs: Vec<Option<f64>> = s.order.iter().map(|&k| r.q(k)).collect();
    let defined: Vec<f64> = qs.iter().flatten().copied().collect();
    assert!(defined.windows(2).all(|w| w[0] <= w[1]), "{qs:?}");
    assert!(
        qs.iter().skip_while(|q| q.is_some()).all(|q| q.is_none()),
        "codes without q come last: {qs:?}"
    );
    assert_eq!(r.code_name(s.order[0]), "self-reflection");
    // Its q (0.0206) is below 0.05: green, and starred for those who cannot see colour.
    let b = buffer(&s);
    let (x, y) = find(&b, "0.0206*").unwrap();
    assert_eq!(b[(x, y)].fg, SIGNIFICANT);
    let (_, row) = find(&b, " self-reflection ").unwrap();
    assert_eq!(row, y);
    press(&mut s, "s");
    assert_eq!(s.code_at(0), Some(first), "back to codebook order");
}

#[test]
fn enter_on_a_cell_lists_the_answers_behind_it() {
    let (_dir, path) = demo();
    let mut s = open(&path, Some("orientation"), 140, 40);
    // rapport-deepened (the first code) for the first level with rated respondents, CBT.
    let r = s.results.as_ref().unwrap();
    let columns = r.columns();
    assert_eq!(columns[0], "CBT");
    press(&mut s, "enter");
    assert_eq!(s.view, View::Answers);
    let d = s.drill.as_ref().unwrap();
    assert_eq!(d.code, "rapport-deepened");
    // The same answers, straight from the project file.
    let expected = sql_rows(
        &path,
        "SELECT DISTINCT r.ext_id, q.name FROM codings k
         JOIN responses s ON s.id = k.response_id JOIN respondents r ON r.id = s.respondent_id
         JOIN questions q ON q.id = s.question_id JOIN codes c ON c.id = k.code_id
         JOIN coders d ON d.id = k.coder_id
         JOIN variable_values v ON v.respondent_id = r.id
         WHERE d.name = 'ana' AND c.name = 'rapport-deepened' AND v.v5 = 'CBT'
         ORDER BY s.respondent_id, q.position",
    );
    let got: Vec<Vec<String>> = d
        .found
        .answers
        .iter()
        .map(|a| vec![a.ext_id.clone(), a.question.clone()])
        .collect();
    assert_eq!(got, expected);
    assert_eq!(d.found.total_answers as usize, expected.len());
    let respondents: std::collections::BTreeSet<&String> = expected.iter().map(|r| &r[0]).collect();
    assert_eq!(d.found.respondents as usize, respondents.len());
    let report_cell = match s.results.as_ref().unwrap() {
        lacrima::tui::analysis::Results::Categorical(c) => c.codes[0].coded[0],
        _ => unreachable!(),
    };
    assert_eq!(d.found.respondents, report_cell, "the cell's count");
    // Segments coded are bracketed in the text.
    let text = screen(&s);
    assert!(text.contains(&expected[0][0]), "{text}");
    press(&mut s, "j");
    assert_eq!(s.drill.as_ref().unwrap().offset, 1);
    press(&mut s, "esc");
    assert_eq!(s.view, View::Table);
    assert!(s.drill.is_none());
}

#[test]
fn a_numeric_cell_opens_the_coded_or_the_not_coded_respondents_answers() {
    let (_dir, path) = demo();
    let mut s = open(&path, Some("years_experience"), 140, 40);
    press(&mut s, "l enter");
    let d = s.drill.as_ref().unwrap();
    assert!(!d.coded);
    let report = match s.results.as_ref().unwrap() {
        lacrima::tui::analysis::Results::Numeric(r) => r.codes[0].clone(),
        _ => unreachable!(),
    };
    assert_eq!(d.found.respondents as usize, report.n_not);
    press(&mut s, "esc h enter");
    let d = s.drill.as_ref().unwrap();
    assert!(d.coded);
    assert_eq!(d.found.respondents as usize, report.n_coded);
}

#[test]
fn a_variable_with_one_level_says_why_nothing_was_computed() {
    let (_dir, path) = demo();
    let s = open(&path, Some("cried_ever"), 140, 40);
    let text = screen(&s);
    assert!(
        text.contains("rapport-deepened: only one level with rated respondents"),
        "{text}"
    );
    assert!(!text.contains("NaN"));
}

#[test]
fn the_help_lists_every_key_of_the_key_map() {
    let (_dir, path) = demo();
    let mut s = open(&path, None, 140, 60);
    press(&mut s, "?");
    assert_eq!(s.context(), AnalysisContext::Help);
    let text = screen(&s);
    for (_, rows) in s.keymap.help() {
        for (keys, what) in rows {
            assert!(text.contains(what), "help lacks {what:?} ({keys})");
        }
    }
    press(&mut s, "esc");
    assert_eq!(s.help, None);
}

#[test]
fn keys_follow_the_context() {
    let (_dir, path) = demo();
    let mut s = open(&path, Some("sex"), 80, 24);
    assert_eq!(s.action_for_key(key("s")), Some(AnalysisAction::Sort));
    assert_eq!(s.action_for_key(key("q")), Some(AnalysisAction::Quit));
    press(&mut s, "enter");
    assert_eq!(s.context(), AnalysisContext::Answers);
    assert_eq!(s.action_for_key(key("q")), Some(AnalysisAction::Back));
    assert_eq!(s.action_for_key(key("s")), None);
    press(&mut s, "q v");
    assert_eq!(s.context(), AnalysisContext::Variables);
    update(&mut s, AnalysisAction::Resize(100, 30));
    assert_eq!(s.size, Rect::new(0, 0, 100, 30));
    press(&mut s, "q");
    assert!(s.quit);
}

#[test]
fn the_screen_refuses_a_pipe_and_checks_its_arguments_first() {
    let (_dir, path) = demo();
    let err = fails_on(
        &path,
        &[
            "analyze",
            "--screen",
            "--coder",
            "ana",
            "--by",
            "orientation",
        ],
    );
    assert!(err.contains("--screen needs a terminal"), "{err}");
    let err = fails_on(
        &path,
        &["analyze", "--screen", "--coder", "ana", "--by", "nope"],
    );
    assert!(err.contains("no variable called \"nope\""), "{err}");
}

#[test]
fn the_codes_are_computed_in_the_background_while_keys_keep_working() {
    // On a million respondents an analysis takes most of a second: the key that starts it
    // returns at once, the list says what is being computed, and the table comes when ready.
    let (_dir, path) = demo();
    let mut s = open(&path, None, 80, 24);
    let first = s.choices[s.choice];
    let enter = s.action_for_key(key("enter")).unwrap();
    update(&mut s, enter);
    assert_eq!(s.view, View::Variables);
    let name = s.layout.variables[first].name.clone();
    assert_eq!(s.computing().map(|v| v.name.clone()), Some(name.clone()));
    let text = screen(&s);
    assert!(text.contains("(computing…)"), "{text}");
    assert!(
        text.contains(&format!("computing the codes by {name}…")),
        "{text}"
    );

    // Keys keep working meanwhile.
    let down = s.action_for_key(key("j")).unwrap();
    update(&mut s, down);
    assert_eq!(s.choice, 1);

    // The event loop polls; the results arrive as an action.
    let arrived = loop {
        if let Some(a) = s.poll() {
            break a;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert_eq!(arrived, AnalysisAction::Computed);
    update(&mut s, arrived);
    assert_eq!(s.view, View::Table);
    assert_eq!(
        s.variable,
        Some(first),
        "the table is of the variable chosen, not of the one the cursor moved to"
    );
    assert!(s.pending.is_none());
    assert!(!screen(&s).contains("computing"));
}

#[test]
fn choosing_another_variable_while_one_is_computed_shows_the_last_one_chosen() {
    let (_dir, path) = demo();
    let mut s = open(&path, None, 80, 24);
    for spec in ["enter", "j", "enter"] {
        let a = s.action_for_key(key(spec)).unwrap();
        update(&mut s, a);
    }
    let second = s.choices[1];
    assert_eq!(s.pending.as_ref().map(|p| p.variable), Some(second));
    s.finish_pending();
    assert_eq!(s.variable, Some(second));
    assert_eq!(s.view, View::Table);
}
