//! The coding screen, key by key: what a coder presses, what the screen then holds, and what the
//! project file then says. `update` is driven through the default key map, without a terminal.

mod tui_support;

use lacrima::store::AnswerFilter;
use lacrima::tui::Action;
use lacrima::tui::state::{Focus, Popup};
use tui_support::*;

#[test]
fn a_new_coder_starts_on_the_first_answer_and_the_list_is_focused() {
    let (_d, path) = demo();
    let s = open(&path, "demo", 80, 24);
    assert_eq!(current(&s), "T0001 consequence_client");
    assert_eq!(s.focus, Focus::List);
    assert_eq!(s.filter, AnswerFilter::All);
    let c = s.counts.as_ref().unwrap();
    assert_eq!(c.reviewed, 0);
    assert_eq!(c.shown, c.total, "all offered answers are shown");
}

#[test]
fn a_returning_coder_starts_on_their_first_answer_not_yet_reviewed() {
    let (_d, path) = demo();
    // ana coded some answers in the fixtures; the screen opens on the first she has not.
    let first_gap = sql_rows(
        &path,
        "SELECT r.ext_id || ' ' || q.name FROM responses s JOIN respondents r ON r.id = s.respondent_id
         JOIN questions q ON q.id = s.question_id WHERE s.is_empty = 0 AND NOT EXISTS
         (SELECT 1 FROM reviews v JOIN coders d ON d.id = v.coder_id WHERE v.response_id = s.id AND d.name = 'ana')
         ORDER BY s.id LIMIT 1",
    )[0][0]
        .clone();
    let s = open(&path, "ana", 80, 24);
    assert_eq!(current(&s), first_gap);
    assert!(!s.answer.as_ref().unwrap().detail.reviewed);
}

#[test]
fn one_applies_a_code_j_moves_u_undoes_and_ctrl_r_redoes() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "1");
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client rapport-deepened - -"]
    );
    assert_eq!(
        reviews_of(&path, "demo"),
        ["T0001 consequence_client"],
        "applying a code marks the answer reviewed"
    );
    assert!(s.list.rows[0].reviewed);
    assert_eq!(s.counts.as_ref().unwrap().reviewed, 1);

    press(&mut s, "j");
    assert_eq!(current(&s), "T0001 consequence_relationship");

    // Undo takes back the coding AND the review mark, and shows the answer it changed.
    press(&mut s, "u");
    assert!(codings_of(&path, "demo").is_empty());
    assert!(reviews_of(&path, "demo").is_empty());
    assert_eq!(current(&s), "T0001 consequence_client");
    assert!(!s.list.current().unwrap().reviewed);
    assert!(
        s.message
            .as_ref()
            .unwrap()
            .0
            .starts_with("undid: apply \"rapport-deepened\"")
    );

    press(&mut s, "ctrl-r");
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client rapport-deepened - -"]
    );
    assert_eq!(reviews_of(&path, "demo"), ["T0001 consequence_client"]);

    // Pressing the shortcut again toggles the code off; the review mark stays.
    press(&mut s, "1");
    assert!(codings_of(&path, "demo").is_empty());
    assert_eq!(reviews_of(&path, "demo"), ["T0001 consequence_client"]);
    press(&mut s, "q");
    assert!(s.quit);
}

#[test]
fn undo_and_redo_work_across_a_reopened_project() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "1 j 2 j 5");
    drop(s);
    let mut s = open(&path, "demo", 80, 24);
    assert_eq!(codings_of(&path, "demo").len(), 3);
    press(&mut s, "u u");
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client rapport-deepened - -"]
    );
    assert_eq!(current(&s), "T0001 consequence_relationship");
    drop(s);
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "ctrl-r");
    assert_eq!(codings_of(&path, "demo").len(), 2);
    // Doing something new ends the chance to redo, as in any editor.
    press(&mut s, "g 9");
    press(&mut s, "ctrl-r");
    assert_eq!(s.message.as_ref().unwrap().0, "nothing to redo");
    // Every step is in the audit trail with who and what.
    let actions: Vec<String> = sql_rows(&path, "SELECT action FROM events e JOIN coders d ON d.id = e.coder_id WHERE d.name = 'demo' ORDER BY e.id")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        actions,
        [
            "code.apply",
            "code.apply",
            "code.apply",
            "undo",
            "undo",
            "redo",
            "code.apply"
        ]
    );
}

#[test]
fn two_coders_in_one_file_keep_their_own_work_and_their_own_undo() {
    let (_d, path) = demo();
    let mut me = open(&path, "demo", 80, 24);
    let mut other = open(&path, "carla", 80, 24);
    press(&mut me, "1");
    press(&mut other, "2");
    // carla adds a code; demo's screen picks it up on its next tick.
    press(&mut other, "tab tab a");
    type_text(&mut other, "therapist-tired");
    press(&mut other, "enter");
    assert!(other.codes.iter().any(|c| c.name == "therapist-tired"));
    act(&mut me, Action::Tick);
    assert!(
        me.codes.iter().any(|c| c.name == "therapist-tired"),
        "each sees the other's new codes"
    );
    // Undo only takes back one's own actions.
    press(&mut me, "u");
    assert!(codings_of(&path, "demo").is_empty());
    assert_eq!(
        codings_of(&path, "carla"),
        ["T0001 consequence_client felt-cared-for - -"]
    );
    press(&mut other, "u");
    assert!(!other.codes.iter().any(|c| c.name == "therapist-tired"));
    press(&mut other, "u");
    assert!(codings_of(&path, "carla").is_empty());
}

#[test]
fn undo_refuses_to_take_back_what_another_coder_changed_since() {
    let (_d, path) = demo();
    let mut me = open(&path, "demo", 80, 24);
    let mut other = open(&path, "carla", 80, 24);
    // demo renames a code; carla then edits the same code's definition.
    press(&mut me, "tab tab j r");
    for _ in 0.."rapport-deepened".len() {
        press(&mut me, "backspace");
    }
    type_text(&mut me, "closeness");
    press(&mut me, "enter");
    act(&mut other, Action::Tick);
    press(&mut other, "tab tab j e");
    type_text(&mut other, " More trust.");
    press(&mut other, "ctrl-s");
    press(&mut me, "u");
    let (msg, _) = me.message.clone().unwrap();
    assert!(
        msg.contains("cannot undo") && msg.contains("changed since"),
        "{msg}"
    );
    assert_eq!(
        sql_rows(&path, "SELECT count(*) FROM codes WHERE name = 'closeness'")[0][0],
        "1",
        "nothing was undone"
    );
}

#[test]
fn x_marks_an_answer_coded_with_nothing_and_asks_before_removing_codes() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "x");
    assert_eq!(reviews_of(&path, "demo"), ["T0001 consequence_client"]);
    assert!(codings_of(&path, "demo").is_empty());
    press(&mut s, "u");
    assert!(
        reviews_of(&path, "demo").is_empty(),
        "undo removes the mark it set"
    );

    press(&mut s, "1 5");
    let before = sql_rows(&path, "SELECT reviewed_at FROM reviews");
    press(&mut s, "x");
    assert!(
        matches!(s.popup, Some(Popup::Confirm { .. })),
        "it asks before removing codes"
    );
    press(&mut s, "n");
    assert!(s.popup.is_none());
    assert_eq!(codings_of(&path, "demo").len(), 2, "no keeps the codes");
    press(&mut s, "x y");
    assert!(codings_of(&path, "demo").is_empty());
    assert_eq!(reviews_of(&path, "demo"), ["T0001 consequence_client"]);
    press(&mut s, "u");
    assert_eq!(
        codings_of(&path, "demo").len(),
        2,
        "undo brings both codes back"
    );
    assert_eq!(
        sql_rows(&path, "SELECT reviewed_at FROM reviews"),
        before,
        "and the exact review mark"
    );
}

#[test]
fn n_and_shift_n_go_to_answers_not_yet_reviewed() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "1 j x j j");
    assert_eq!(current(&s), "T0002 consequence_client");
    press(&mut s, "g n");
    assert_eq!(
        current(&s),
        "T0001 consequence_therapist",
        "n skips the two reviewed answers"
    );
    press(&mut s, "N");
    assert_eq!(
        s.message.as_ref().unwrap().0,
        "no answer before this one is waiting for you (n looks forwards)"
    );
    assert_eq!(current(&s), "T0001 consequence_therapist");
}

#[test]
fn g_shift_g_and_pages_move_through_the_whole_list() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    let total = s.counts.as_ref().unwrap().total;
    press(&mut s, "G");
    let last = sql_rows(&path, "SELECT r.ext_id || ' ' || q.name FROM responses s JOIN respondents r ON r.id = s.respondent_id JOIN questions q ON q.id = s.question_id WHERE s.is_empty = 0 ORDER BY s.id DESC LIMIT 1")[0][0].clone();
    assert_eq!(current(&s), last);
    press(&mut s, "g");
    assert_eq!(current(&s), "T0001 consequence_client");
    press(&mut s, "pagedown");
    let page = s.areas().list_rows();
    assert_eq!(s.list.cursor, page);
    press(&mut s, "pageup");
    assert_eq!(current(&s), "T0001 consequence_client");
    // Walking past the loaded window fetches the next pages and keeps the window bounded.
    for _ in 0..(total as usize + 5) {
        lacrima::tui::update(&mut s, Action::Down);
    }
    assert_eq!(current(&s), last);
    assert!(s.list.rows.len() <= 400);
    for _ in 0..(total as usize + 5) {
        lacrima::tui::update(&mut s, Action::Up);
    }
    assert_eq!(current(&s), "T0001 consequence_client");
}

#[test]
fn v_selects_a_segment_by_words_and_a_shortcut_codes_it() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    // "José started crying as well, ..." : select "José started crying".
    press(&mut s, "v w w w");
    assert_eq!(s.focus, Focus::Text);
    assert_eq!(s.selection_span(), Some((0, 19)));
    press(&mut s, "5");
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client session-deepened 0 19"]
    );
    assert_eq!(s.text.anchor, None, "the selection ends once coded");
    // The segment is shown with brackets and the shortcut, so it reads without colour too.
    assert!(
        screen(&s)
            .iter()
            .any(|l| l.contains("[José started crying]5")),
        "{:#?}",
        screen(&s)
    );
    // Delete under the cursor removes that segment.
    press(&mut s, "delete");
    assert!(codings_of(&path, "demo").is_empty());
    press(&mut s, "u");
    assert_eq!(codings_of(&path, "demo").len(), 1);
}

#[test]
fn shift_arrows_h_l_0_dollar_and_b_move_and_grow_the_selection() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "tab l l l l l");
    assert_eq!(s.text.cursor, 5);
    press(&mut s, "shift-right shift-right");
    assert_eq!(s.selection(), Some((5, 7)));
    assert_eq!(s.selection_span(), Some((5, 8)));
    press(&mut s, "esc");
    assert_eq!(s.selection(), None);
    // A selection that starts on the space before a word is stored from the word on.
    press(&mut s, "0 l l l l v w");
    assert_eq!(s.selection(), Some((4, 11)));
    assert_eq!(
        s.selection_span(),
        Some((5, 12)),
        "\"started\" without the space"
    );
    press(&mut s, "esc l");
    press(&mut s, "$");
    let end_of_line = s.text.cursor;
    assert!(end_of_line > 20);
    press(&mut s, "0");
    assert_eq!(s.text.cursor, 0);
    press(&mut s, "w w b");
    assert_eq!(s.text.cursor, 5, "b goes back to the start of the word");
    press(&mut s, "h");
    assert_eq!(s.text.cursor, 4);
    press(&mut s, "j");
    assert!(
        s.text.cursor > end_of_line - 5,
        "j goes down a wrapped line"
    );
    press(&mut s, "k");
    assert_eq!(s.text.cursor, 4);
    press(&mut s, "shift-down");
    assert!(s.selection().is_some());
}

#[test]
fn c_finds_a_code_without_a_shortcut_by_part_of_its_name() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "c");
    type_text(&mut s, "relief");
    let Some(Popup::Finder { matches, .. }) = &s.popup else {
        panic!("finder open")
    };
    assert_eq!(s.codes[matches[0]].name, "client-relief");
    press(&mut s, "enter");
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client client-relief - -"]
    );
    // A fuzzy query: letters in order, not necessarily together; down picks the next match.
    press(&mut s, "c");
    type_text(&mut s, "ccrd");
    let Some(Popup::Finder { matches, .. }) = &s.popup else {
        panic!("finder open")
    };
    assert_eq!(s.codes[matches[0]].name, "client-cried-too");
    press(&mut s, "esc");
    assert!(s.popup.is_none());
    // Enter on the finder applies to a selected segment.
    press(&mut s, "v w c");
    type_text(&mut s, "unaware");
    press(&mut s, "enter");
    assert!(
        codings_of(&path, "demo")
            .contains(&"T0001 consequence_client client-unaware 0 4".to_string())
    );
}

#[test]
fn m_writes_a_memo_that_is_saved_and_undoable() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "m");
    type_text(&mut s, "Shared tears;");
    press(&mut s, "enter");
    type_text(&mut s, "ask ana.");
    press(&mut s, "ctrl-s");
    assert!(s.popup.is_none());
    assert_eq!(
        sql_rows(&path, "SELECT text FROM memos")[0][0],
        "Shared tears;\nask ana."
    );
    assert_eq!(
        s.answer.as_ref().unwrap().detail.memo,
        "Shared tears;\nask ana."
    );
    // Esc on a changed memo asks first.
    press(&mut s, "m");
    type_text(&mut s, "!");
    press(&mut s, "esc");
    assert!(matches!(s.popup, Some(Popup::Confirm { .. })));
    press(&mut s, "n");
    assert!(
        matches!(s.popup, Some(Popup::Memo { .. })),
        "no goes back to the memo"
    );
    press(&mut s, "esc y");
    assert!(s.popup.is_none());
    assert_eq!(
        sql_rows(&path, "SELECT text FROM memos")[0][0],
        "Shared tears;\nask ana."
    );
    press(&mut s, "u");
    assert!(sql_rows(&path, "SELECT text FROM memos").is_empty());
}

#[test]
fn slash_searches_answers_by_regex_and_an_empty_search_clears_it() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "/");
    type_text(&mut s, "trust(ed)?");
    press(&mut s, "enter");
    let n = s.counts.as_ref().unwrap().shown;
    let expected = sql_rows(
        &path,
        "SELECT count(*) FROM responses WHERE is_empty = 0 AND lower(text) LIKE '%trust%'",
    )[0][0]
        .parse::<i64>()
        .unwrap();
    assert_eq!(n, expected);
    assert!(
        s.list
            .rows
            .iter()
            .all(|r| r.snippet.to_lowercase().contains("trust") || r.snippet.len() >= 150)
    );
    press(&mut s, "/");
    type_text(&mut s, "(");
    press(&mut s, "enter");
    let Some(Popup::Prompt { error, .. }) = &s.popup else {
        panic!("the prompt stays open")
    };
    assert!(error.as_ref().unwrap().starts_with("not a valid regex"));
    press(&mut s, "esc /");
    for _ in 0..10 {
        press(&mut s, "backspace");
    }
    press(&mut s, "enter");
    assert!(s.search.is_none());
    assert_eq!(
        s.counts.as_ref().unwrap().shown,
        s.counts.as_ref().unwrap().total
    );
}

#[test]
fn f_filters_by_review_by_code_and_by_a_variables_value() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "1 j j 2");
    menu_pick(&mut s, "f", "Not yet reviewed");
    assert_eq!(s.filter, AnswerFilter::NotReviewed);
    assert_eq!(
        s.counts.as_ref().unwrap().shown,
        s.counts.as_ref().unwrap().total - 2
    );
    menu_pick(&mut s, "f", "Reviewed by me");
    assert_eq!(s.filter, AnswerFilter::Reviewed);
    assert_eq!(s.list.rows.len(), 2);
    menu_pick(&mut s, "f", "With code");
    type_text(&mut s, "felt-cared");
    press(&mut s, "enter");
    assert!(matches!(s.filter, AnswerFilter::WithCode(_)));
    assert_eq!(s.list.rows.len(), 1);
    assert_eq!(current(&s), "T0001 consequence_therapist");
    menu_pick(&mut s, "f", "Without code");
    type_text(&mut s, "felt-cared");
    press(&mut s, "enter");
    assert_eq!(
        s.counts.as_ref().unwrap().shown,
        s.counts.as_ref().unwrap().total - 1
    );
    // By a variable: orientation = CBT.
    menu_pick(&mut s, "f", "By a variable");
    menu_pick(&mut s, "", "orientation");
    menu_pick(&mut s, "", "CBT");
    let col = sql_rows(
        &path,
        "SELECT column_name FROM variables WHERE name = 'orientation'",
    )[0][0]
        .clone();
    let expected = sql_rows(&path, &format!("SELECT count(*) FROM responses s JOIN variable_values w ON w.respondent_id = s.respondent_id WHERE s.is_empty = 0 AND w.{col} = 'CBT'"))[0][0].clone();
    assert_eq!(s.counts.as_ref().unwrap().shown.to_string(), expected);
    assert!(s.filter_label().contains("orientation = CBT"));
    // Empty answers are offered only on request.
    let empties: i64 = sql_rows(&path, "SELECT count(*) FROM responses WHERE is_empty = 1")[0][0]
        .parse()
        .unwrap();
    menu_pick(&mut s, "f", "All answers");
    let offered = s.counts.as_ref().unwrap().total;
    menu_pick(&mut s, "f", "Show empty answers");
    assert!(s.include_empty);
    assert_eq!(s.counts.as_ref().unwrap().total, offered + empties);
}

#[test]
fn o_shows_other_coders_codings_read_only() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    assert!(
        s.answer.as_ref().unwrap().detail.others.is_empty(),
        "blind by default"
    );
    press(&mut s, "o");
    let others = &s.answer.as_ref().unwrap().detail.others;
    assert!(others.iter().any(|o| o.coder == "ana"), "{others:?}");
    assert!(others.iter().any(|o| o.coder == "ben"));
    press(&mut s, "o");
    assert!(s.answer.as_ref().unwrap().detail.others.is_empty());
}

#[test]
fn tab_moves_between_list_text_and_codebook() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "tab");
    assert_eq!(s.focus, Focus::Text);
    press(&mut s, "tab");
    assert_eq!(s.focus, Focus::Codebook);
    press(&mut s, "tab");
    assert_eq!(s.focus, Focus::List);
    press(&mut s, "backtab");
    assert_eq!(s.focus, Focus::Codebook);
    // In the codebook, j/k move the selection and Enter applies the selected code.
    press(&mut s, "j enter");
    assert_eq!(
        codings_of(&path, "demo"),
        ["T0001 consequence_client rapport-deepened - -"]
    );
    press(&mut s, "k enter");
    assert!(
        s.message
            .as_ref()
            .unwrap()
            .0
            .contains("only groups other codes")
    );
}

#[test]
fn the_codebook_is_edited_on_screen_and_every_edit_is_undoable() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 140, 40);
    let names = |s: &lacrima::tui::State| {
        s.codes
            .iter()
            .map(|c| format!("{}{}", "  ".repeat(c.level), c.name))
            .collect::<Vec<_>>()
    };
    let start = names(&s);
    press(&mut s, "tab tab j");
    assert_eq!(s.codes[s.code_selected].name, "rapport-deepened");

    // a: add a code beside the selected one, with a colour and a shortcut.
    press(&mut s, "a");
    type_text(&mut s, "moved-to-tears");
    press(&mut s, "tab tab");
    type_text(&mut s, "The client was moved.");
    press(&mut s, "tab");
    type_text(&mut s, "#ff8800");
    press(&mut s, "tab");
    type_text(&mut s, "4");
    press(&mut s, "enter");
    let Some(Popup::Form { error: Some(e), .. }) = &s.popup else {
        panic!("a taken shortcut is refused in the form")
    };
    assert!(
        e.contains("shortcut 4 is already the shortcut of \"self-reflection\""),
        "{e}"
    );
    press(&mut s, "backspace");
    press(&mut s, "enter");
    assert!(s.popup.is_none());
    let added = s.codes.iter().find(|c| c.name == "moved-to-tears").unwrap();
    assert_eq!(added.parent.as_deref(), Some("relationship"));
    assert_eq!(added.color.as_deref(), Some("#ff8800"));
    assert_eq!(
        s.codes[s.code_selected].name, "moved-to-tears",
        "the new code is selected"
    );

    // r renames; e edits definition, criteria, example and the coder's memo on the code.
    press(&mut s, "r");
    type_text(&mut s, "-shared");
    press(&mut s, "enter");
    assert_eq!(s.codes[s.code_selected].name, "moved-to-tears-shared");
    press(&mut s, "e tab");
    type_text(&mut s, "Tears on both sides.");
    press(&mut s, "tab tab tab");
    type_text(&mut s, "Maybe split later.");
    press(&mut s, "ctrl-s");
    let c = &s.codes[s.code_selected];
    assert_eq!(c.inclusion, "Tears on both sides.");
    assert_eq!(
        sql_rows(&path, "SELECT text FROM memos WHERE code_id IS NOT NULL")[0][0],
        "Maybe split later."
    );

    // K and J move it among its siblings; > nests it under the code above; < takes it out.
    press(&mut s, "K");
    let i = s.code_selected;
    assert_eq!(s.codes[i - 1].name, "rupture-worry");
    assert_eq!(s.codes[i + 1].name, "session-deepened");
    press(&mut s, "J");
    assert_eq!(s.codes[s.code_selected - 1].name, "session-deepened");
    press(&mut s, ">");
    let c = &s.codes[s.code_selected];
    assert_eq!(
        (c.parent.as_deref(), c.level),
        (Some("session-deepened"), 2)
    );
    press(&mut s, "<");
    let c = &s.codes[s.code_selected];
    assert_eq!((c.parent.as_deref(), c.level), (Some("relationship"), 1));

    // + merges it into another code: its codings move there.
    press(&mut s, "tab 1 tab tab");
    act(&mut s, Action::Tick);
    let i = s
        .codes
        .iter()
        .position(|c| c.name == "moved-to-tears-shared")
        .unwrap();
    s.code_selected = i;
    press(&mut s, "enter");
    assert!(
        codings_of(&path, "demo")
            .contains(&"T0001 consequence_client moved-to-tears-shared - -".to_string())
    );
    press(&mut s, "+");
    type_text(&mut s, "client-cried");
    press(&mut s, "enter y");
    assert!(!s.codes.iter().any(|c| c.name == "moved-to-tears-shared"));
    assert!(
        codings_of(&path, "demo")
            .contains(&"T0001 consequence_client client-cried-too - -".to_string())
    );

    // d deletes a code after asking, with everyone's codings of it.
    let felt = s
        .codes
        .iter()
        .position(|c| c.name == "felt-cared-for")
        .unwrap();
    s.code_selected = felt;
    let ana_before = codings_of(&path, "ana");
    press(&mut s, "d");
    let Some(Popup::Confirm { question, .. }) = &s.popup else {
        panic!("d asks")
    };
    assert!(question.contains("by other coders"), "{question}");
    press(&mut s, "y");
    assert!(!s.codes.iter().any(|c| c.name == "felt-cared-for"));
    assert!(codings_of(&path, "ana").len() < ana_before.len());

    // Undo walks all of it back, to the very codebook and codings we started with.
    for _ in 0..12 {
        press(&mut s, "u");
    }
    assert_eq!(names(&s), start);
    assert_eq!(codings_of(&path, "ana"), ana_before);
    assert!(codings_of(&path, "demo").is_empty());
    assert!(sql_rows(&path, "SELECT text FROM memos").is_empty());
}

#[test]
fn i_shows_the_selected_codes_definition_and_criteria() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 140, 40);
    press(&mut s, "tab tab j i");
    assert!(matches!(s.popup, Some(Popup::Details { .. })));
    let text = screen(&s).join("\n");
    assert!(
        text.contains("Definition") && text.contains("The relationship deepened"),
        "{text}"
    );
    assert!(text.contains("Inclusion") && text.contains("Exclusion") && text.contains("Example"));
    press(&mut s, "esc");
    assert!(s.popup.is_none());
}

#[test]
fn question_mark_opens_help_generated_from_the_key_map() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 140, 40);
    press(&mut s, "?");
    assert!(matches!(s.popup, Some(Popup::Help { .. })));
    let text = screen(&s).join("\n");
    assert!(text.contains("undo your last action"), "{text}");
    press(&mut s, "j j esc");
    assert!(s.popup.is_none());
}

#[test]
fn the_mouse_selects_answers_and_codes_and_the_wheel_scrolls() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    let list = s.areas().list;
    act(
        &mut s,
        Action::Click {
            column: list.x + 5,
            row: list.y + 3,
        },
    );
    assert_eq!(s.list.cursor, 2);
    assert_eq!(current(&s), "T0001 consequence_therapist");
    act(
        &mut s,
        Action::Scroll {
            column: list.x + 5,
            row: list.y + 3,
            down: true,
        },
    );
    assert_eq!(s.list.cursor, 5);
    let cb = s.areas().codebook;
    act(
        &mut s,
        Action::Click {
            column: cb.x + 3,
            row: cb.y + 2,
        },
    );
    assert_eq!(s.focus, Focus::Codebook);
    assert_eq!(s.codes[s.code_selected].name, "rapport-deepened");
    let t = s.areas().text();
    act(
        &mut s,
        Action::Click {
            column: t.x + 3,
            row: t.y,
        },
    );
    assert_eq!(s.focus, Focus::Text);
    assert_eq!(s.text.cursor, 3);
}

#[test]
fn resizing_keeps_the_cursor_on_screen() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 140, 40);
    press(&mut s, "pagedown");
    act(&mut s, Action::Resize(80, 24));
    let h = s.areas().list_rows();
    assert!(s.list.cursor >= s.list.offset && s.list.cursor < s.list.offset + h);
    assert_eq!(screen(&s).len(), 24);
}

#[test]
fn a_shortcut_another_code_has_is_refused_in_the_edit_form() {
    let (_d, path) = csv_project("id,answer\nr1,hello there\n", &["answer"]);
    let mut s = open(&path, "demo", 80, 24);
    press(&mut s, "tab tab");
    let i = s
        .codes
        .iter()
        .position(|c| c.name == "supervision")
        .unwrap();
    s.code_selected = i;
    press(&mut s, "e tab tab tab tab tab tab");
    type_text(&mut s, "1");
    press(&mut s, "enter");
    let Some(Popup::Form { error: Some(e), .. }) = &s.popup else {
        panic!("refused")
    };
    assert!(e.contains("already the shortcut of \"rapport-deepened\""));
    press(&mut s, "backspace");
    press(&mut s, "esc y");
    assert!(s.popup.is_none());
}

#[test]
fn counts_kept_while_coding_agree_with_a_full_recount() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 80, 24);
    for filter in ["All answers", "Not yet reviewed", "With code"] {
        menu_pick(&mut s, "f", filter);
        if filter == "With code" {
            type_text(&mut s, "rapport");
            press(&mut s, "enter");
        }
        // Coding moves the counts on the screen's side, without asking the worker to recount.
        let generation = s.counts_generation;
        for key in ["1", "j", "5", "1", "j", "x", "j", "2", "2", "1"] {
            if let Some(a) = lacrima::tui::action_for_key(&s, key_event(key)) {
                lacrima::tui::update(&mut s, a);
            }
            if matches!(s.popup, Some(Popup::Confirm { .. })) {
                lacrima::tui::update(&mut s, Action::Yes);
            }
        }
        assert_eq!(s.counts_generation, generation, "no recount was needed");
        let kept = s.counts.clone().unwrap();
        lacrima::tui::refresh_counts_now(&mut s).unwrap();
        let full = s.counts.clone().unwrap();
        assert_eq!(
            (kept.shown, kept.total, kept.reviewed),
            (full.shown, full.total, full.reviewed),
            "{filter}"
        );
        let used = |u: &std::collections::HashMap<i64, i64>| {
            let mut v: Vec<(i64, i64)> = u
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| (*k, *n))
                .collect();
            v.sort();
            v
        };
        assert_eq!(used(&kept.usage), used(&full.usage), "{filter}");
    }
}

fn key_event(spec: &str) -> crossterm::event::KeyEvent {
    tui_support::key(spec)
}

#[test]
fn a_project_without_answers_says_to_import_a_survey_and_keys_do_no_harm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    drop(lacrima::store::Store::create(&path).unwrap());
    let mut s = open(&path, "demo", 80, 24);
    assert!(s.answer.is_none());
    let text = screen(&s).join("\n");
    assert!(
        text.contains("This project has no answers") && text.contains("import a survey"),
        "{text}"
    );
    press(&mut s, "j k n g G 1 x m v c u");
    assert!(s.popup.is_none());
    assert!(s.message.is_some());
    // v moved the focus to the text; Tab goes on to the codebook.
    assert_eq!(s.focus, Focus::Text);
    press(&mut s, "tab a");
    type_text(&mut s, "first-code");
    press(&mut s, "enter");
    assert_eq!(
        s.codes.len(),
        1,
        "the codebook can be built before the survey arrives"
    );
}

#[test]
fn with_a_plan_the_list_opens_on_my_assigned_answers_and_counts_my_progress() {
    let (_d, path) = demo();
    plan_for_ana_and_demo(&path);
    let assigned: i64 = sql_rows(
        &path,
        "SELECT count(*) FROM assignments a JOIN coders d ON d.id = a.coder_id WHERE d.name = 'demo'",
    )[0][0]
        .parse()
        .unwrap();
    let mut s = open(&path, "demo", 100, 24);
    assert_eq!(s.filter, AnswerFilter::Assigned);
    let c = s.counts.clone().unwrap();
    assert_eq!(c.shown, assigned);
    assert!(
        assigned > 0 && assigned < c.total,
        "{assigned} of {}",
        c.total
    );
    assert_eq!((c.assigned, c.assigned_done), (assigned, 0));
    // Every row of the list is one of demo's answers.
    let mine: std::collections::HashSet<i64> = sql_rows(
        &path,
        "SELECT a.response_id FROM assignments a JOIN coders d ON d.id = a.coder_id WHERE d.name = 'demo'",
    )
    .into_iter()
    .map(|r| r[0].parse().unwrap())
    .collect();
    assert!(s.list.rows.iter().all(|r| mine.contains(&r.id)));
    assert!(
        screen(&s)
            .last()
            .unwrap()
            .contains(&format!("assigned: done 0 of {assigned}")),
        "{:?}",
        screen(&s).last()
    );

    // Coding moves the progress without a recount (the counts stay of the same generation),
    // and undo moves it back.
    let generation = s.counts.as_ref().unwrap().generation;
    for k in ["1", "j", "x"] {
        let a = lacrima::tui::action_for_key(&s, key(k)).unwrap();
        lacrima::tui::update(&mut s, a);
    }
    let c = s.counts.clone().unwrap();
    assert_eq!(c.generation, generation, "no recount was needed");
    assert_eq!((c.assigned_done, c.reviewed), (2, 2));
    let worker = lacrima::tui::worker::compute(
        &s.store,
        &lacrima::tui::worker::CountRequest {
            generation,
            query: s.query(),
        },
    )
    .unwrap();
    assert_eq!(
        (worker.assigned, worker.assigned_done),
        (c.assigned, c.assigned_done),
        "the incremental counts match a recount"
    );
    press(&mut s, "u");
    assert_eq!(s.counts.as_ref().unwrap().assigned_done, 1);

    // The filter menu offers it, and "All answers" leaves it.
    menu_pick(&mut s, "f", "All answers");
    assert_eq!(s.filter, AnswerFilter::All);
    let c = s.counts.clone().unwrap();
    assert_eq!(c.shown, c.total);
    menu_pick(&mut s, "f", "Assigned to me");
    assert_eq!(s.filter, AnswerFilter::Assigned);
    assert_eq!(s.counts.as_ref().unwrap().shown, assigned);
    assert_eq!(s.filter_label(), "assigned to me");
}

#[test]
fn without_a_plan_there_is_no_assigned_filter_and_no_plan_progress() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 100, 24);
    assert_eq!(s.filter, AnswerFilter::All);
    assert_eq!(s.counts.as_ref().unwrap().assigned, 0);
    assert!(!screen(&s).last().unwrap().contains("assigned"));
    press(&mut s, "f");
    let Some(Popup::Menu { items, .. }) = &s.popup else {
        panic!("the filter menu is open");
    };
    assert!(!items.iter().any(|i| i.label.contains("Assigned")));
    // A coder outside the plan keeps the usual default too.
    plan_for_ana_and_demo(&path);
    let s = open(&path, "carl", 100, 24);
    assert_eq!(s.filter, AnswerFilter::All);
}

#[test]
fn shift_a_and_shift_v_ask_for_the_agreement_and_analysis_screens() {
    use lacrima::tui::state::SubScreen;
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 100, 24);
    assert_eq!(
        lacrima::tui::action_for_key(&s, key("A")),
        Some(Action::Agreement)
    );
    assert_eq!(
        lacrima::tui::action_for_key(&s, key("V")),
        Some(Action::Analysis)
    );
    // ana and ben coded the demo; demo has not yet, so is not compared but decides.
    press(&mut s, "A");
    let Some(SubScreen::Review(setup)) = s.launch.take() else {
        panic!("A asks for the review screen: {:?}", s.message);
    };
    let names: Vec<&str> = setup.coders.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["ana", "ben"]);
    assert_eq!(setup.decider, "demo");
    assert_eq!(setup.consensus, "consensus");
    // V opens the analysis screen, which asks for the variable. Opening the review created the
    // consensus coder; it has decided nothing yet.
    s.store.consensus_coder("consensus").unwrap();
    press(&mut s, "V");
    let Some(SubScreen::Analysis(setup)) = s.launch.take() else {
        panic!("V asks for the analysis screen: {:?}", s.message);
    };
    assert_eq!(setup.by, None);
    // The consensus coder the review created holds nothing yet: the analysis is of demo's
    // codings until it does.
    assert_eq!(setup.scope.coder, "demo");
}

#[test]
fn the_help_lists_the_agreement_and_analysis_keys() {
    let (_d, path) = demo();
    let mut s = open(&path, "demo", 140, 60);
    press(&mut s, "?");
    let text = screen(&s).join("\n");
    for a in [Action::Agreement, Action::Analysis] {
        assert!(
            text.contains(a.description()),
            "{} in {text}",
            a.description()
        );
    }
}

#[test]
fn shift_a_with_fewer_than_two_coders_says_so_in_the_status_line() {
    let (_d, path) = csv_project("id,q\n1,I cried\n2,tears\n", &["q"]);
    let mut s = open(&path, "zoe", 100, 24);
    press(&mut s, "A");
    assert!(s.launch.is_none());
    let status = screen(&s).last().unwrap().clone();
    assert!(status.contains("agreement needs two coders"), "{status}");
    assert!(status.contains("nobody has coded yet"), "{status}");
    press(&mut s, "1 A");
    assert!(s.launch.is_none());
    let status = screen(&s).last().unwrap().clone();
    assert!(status.contains("only zoe has coded"), "{status}");
}
