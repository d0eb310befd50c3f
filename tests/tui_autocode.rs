//! On the coding screen a coder auto-codes the obvious cases: C opens a pattern for the selected
//! code, the count of matching answers and a few of them update as the pattern is typed, Enter
//! applies it as one action, and u takes the whole of it back.

mod tui_support;

use lacrima::tui::refresh_preview_now;
use lacrima::tui::state::Popup;
use tui_support::*;

fn popup_count(s: &lacrima::tui::State) -> Option<u64> {
    match &s.popup {
        Some(Popup::Autocode {
            preview: Some(p), ..
        }) => p.outcome.as_ref().ok().map(|f| f.answers),
        _ => None,
    }
}

#[test]
fn a_pattern_is_counted_as_it_is_typed_applied_with_enter_and_undone_with_u() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_project(dir.path());
    let mut s = open(&path, "demo", 120, 36);
    // The first code only groups others.
    press(&mut s, "C");
    assert!(
        s.message
            .as_ref()
            .unwrap()
            .0
            .contains("only groups other codes"),
        "{:?}",
        s.message
    );
    press(&mut s, "tab tab j C");
    type_text(&mut s, "closer|trust");
    refresh_preview_now(&mut s);
    let expected = sql_rows(
        &path,
        "SELECT count(*) FROM responses WHERE is_empty = 0 \
         AND (lower(text) LIKE '%closer%' OR lower(text) LIKE '%trust%')",
    )[0][0]
        .parse::<u64>()
        .unwrap();
    assert_eq!(popup_count(&s), Some(expected));
    let shown = screen(&s).join("\n");
    assert!(
        shown.contains(&format!("{expected} answers match (")),
        "{shown}"
    );
    assert!(
        shown.contains("[trust]") || shown.contains("[closer]"),
        "{shown}"
    );

    press(&mut s, "enter");
    assert!(s.popup.is_none());
    let msg = s.message.clone().unwrap().0;
    assert!(msg.contains(&format!("on {expected} answers")), "{msg}");
    let coded = codings_of(&path, "demo");
    assert!(coded.len() as u64 >= expected);
    assert!(
        coded.iter().all(|c| c.contains(" rapport-deepened ")),
        "{coded:?}"
    );

    press(&mut s, "u");
    assert!(codings_of(&path, "demo").is_empty());
    assert!(reviews_of(&path, "demo").is_empty());
}

#[test]
fn a_bad_or_empty_matching_pattern_is_shown_and_enter_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_project(dir.path());
    let mut s = open(&path, "demo", 120, 36);
    press(&mut s, "tab tab j C");
    type_text(&mut s, "(closer");
    refresh_preview_now(&mut s);
    let shown = screen(&s).join("\n");
    assert!(shown.contains("not a valid regular expression"), "{shown}");
    press(&mut s, "enter");
    assert!(s.popup.is_some(), "the pop-up stays open with the pattern");
    assert!(codings_of(&path, "demo").is_empty());
    // Fix the pattern into one that matches the empty string: refused too.
    press(
        &mut s,
        "backspace backspace backspace backspace backspace backspace backspace",
    );
    type_text(&mut s, "x*");
    refresh_preview_now(&mut s);
    assert!(screen(&s).join("\n").contains("matches the empty string"));
    press(&mut s, "enter esc");
    assert!(s.popup.is_none());
    assert!(codings_of(&path, "demo").is_empty());
}
