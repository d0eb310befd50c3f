//! Every screen and pop-up of the coding workspace on the demo data, at 80x24 and 140x40, as
//! snapshot files (tests/snapshots); the colours that carry meaning are asserted cell by cell.

mod tui_support;

use lacrima::tui::State;
use lacrima::tui::render::{FOCUS, MATCH_BG, NOT_REVIEWED, REVIEWED};
use ratatui::style::{Color, Modifier};
use tui_support::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (140, 40)];

/// Opens the demo as coder demo at each size, brings the screen to a moment with `setup`, and
/// compares the frame with its snapshot.
fn snapshot(name: &str, setup: impl Fn(&mut State)) {
    for (w, h) in SIZES {
        // Each size starts from a fresh demo project.
        let (_dir, path) = demo();
        let mut s = open(&path, "demo", w, h);
        setup(&mut s);
        refresh_counts_now(&mut s);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(&s).backend());
    }
}

fn refresh_counts_now(s: &mut State) {
    lacrima::tui::refresh_counts_now(s).unwrap();
}

#[test]
fn screen_at_start() {
    snapshot("start", |_| {});
}

#[test]
fn screen_after_coding_the_answer_and_a_segment() {
    snapshot("coded", |s| {
        press(s, "1 v w w w 5 l l l v w");
    });
}

#[test]
fn screen_with_the_codebook_focused() {
    snapshot("codebook", |s| press(s, "tab tab j j"));
}

#[test]
fn screen_help() {
    snapshot("help", |s| press(s, "?"));
}

#[test]
fn screen_finder() {
    snapshot("finder", |s| {
        press(s, "c");
        type_text(s, "cl");
    });
}

#[test]
fn screen_filter_menu() {
    snapshot("filter_menu", |s| press(s, "f"));
}

#[test]
fn screen_memo() {
    snapshot("memo", |s| {
        press(s, "m");
        type_text(s, "Shared tears; compare with T0004.");
    });
}

#[test]
fn screen_memo_saved_and_other_coders_shown() {
    snapshot("memo_and_others", |s| {
        press(s, "m");
        type_text(s, "Shared tears.");
        press(s, "ctrl-s o");
    });
}

#[test]
fn screen_add_code_form() {
    snapshot("add_code", |s| {
        press(s, "tab tab a");
        type_text(s, "moved-to-tears");
    });
}

#[test]
fn screen_edit_code_form() {
    snapshot("edit_code", |s| press(s, "tab tab j e"));
}

#[test]
fn screen_delete_confirmation() {
    snapshot("delete_code", |s| press(s, "tab tab j d"));
}

#[test]
fn screen_code_details() {
    snapshot("details", |s| press(s, "tab tab j i"));
}

#[test]
fn screen_search_prompt_and_results() {
    snapshot("search_prompt", |s| {
        press(s, "/");
        type_text(s, "trust");
    });
    snapshot("search_results", |s| {
        press(s, "/");
        type_text(s, "trust");
        press(s, "enter");
    });
}

#[test]
fn screen_without_colour() {
    let (_dir, path) = demo();
    for (w, h) in SIZES {
        let mut s = open(&path, "demo", w, h);
        s.color = false;
        press(&mut s, "1 v w w w 5");
        insta::assert_snapshot!(format!("no_color_{w}x{h}"), draw(&s).backend());
        // NO_COLOR: not one cell is coloured, yet the segment is marked and underlined.
        let b = buffer(&s);
        for cell in b.content() {
            assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
        }
        let (x, y) = find(&b, "[José").unwrap();
        assert!(b[(x + 1, y)].modifier.contains(Modifier::UNDERLINED));
        assert!(screen(&s).iter().any(|l| l.contains("crying]5")));
        press(&mut s, "u u");
    }
}

#[test]
fn colours_that_carry_meaning() {
    let (_dir, path) = demo();
    let mut s = open(&path, "demo", 140, 40);
    press(&mut s, "1 v w w w 5");
    let b = buffer(&s);

    // The reviewed mark in the list is green; a not-reviewed one grey.
    let list = s.areas().list;
    assert_eq!(b[(list.x + 1, list.y + 1)].symbol(), "✓");
    assert_eq!(b[(list.x + 1, list.y + 1)].fg, REVIEWED);
    assert_eq!(b[(list.x + 1, list.y + 2)].symbol(), "·");
    assert_eq!(b[(list.x + 1, list.y + 2)].fg, NOT_REVIEWED);

    // A coded segment is drawn in its code's colour (session-deepened is #6C6CE0), underlined,
    // between brackets in the same colour.
    let violet = Color::Rgb(0x6c, 0x6c, 0xe0);
    let (x, y) = find(&b, "[José").unwrap();
    assert_eq!(b[(x, y)].fg, violet);
    assert_eq!(b[(x + 1, y)].fg, violet);
    assert!(b[(x + 1, y)].modifier.contains(Modifier::UNDERLINED));
    // Text outside the segment is not coloured.
    let (ox, oy) = find(&b, "as well").unwrap();
    assert_eq!(b[(ox, oy)].fg, Color::Reset);

    // The whole-answer code chip has its code's colour (rapport-deepened is #A855C7).
    let (cx, cy) = find(&b, "[1 rapport-deepened]").unwrap();
    assert_eq!(b[(cx, cy)].fg, Color::Rgb(0xa8, 0x55, 0xc7));

    // The codebook's swatches carry each code's colour.
    let (sx, sy) = find(&b, "■ 5 session-deepened").unwrap();
    assert_eq!(b[(sx, sy)].fg, violet);

    // The focused panel (the text, after v) has a yellow double border.
    let ans = s.areas().answer;
    assert_eq!(b[(ans.x, ans.y)].symbol(), "╔");
    assert_eq!(b[(ans.x, ans.y)].fg, FOCUS);
    assert_eq!(b[(list.x, list.y)].symbol(), "┌");

    // Search matches are highlighted on a yellow ground, in the list and in the text.
    press(&mut s, "/");
    type_text(&mut s, "trust");
    press(&mut s, "enter");
    let b = buffer(&s);
    let text = s.areas().text();
    let hits: Vec<_> = (text.y..text.y + text.height)
        .flat_map(|y| (text.x..text.x + text.width).map(move |x| (x, y)))
        .filter(|p| b[*p].bg == MATCH_BG)
        .collect();
    assert_eq!(
        hits.len() % 5,
        0,
        "whole matches of 'trust' are highlighted"
    );
    assert!(!hits.is_empty());
    let list_hits = (list.y..list.y + list.height)
        .flat_map(|y| (list.x..list.x + list.width).map(move |x| (x, y)))
        .filter(|p| b[*p].bg == MATCH_BG)
        .count();
    assert!(list_hits >= 5);
}

#[test]
fn screen_no_code_confirmation() {
    snapshot("no_code_confirm", |s| press(s, "1 5 x"));
}

#[test]
fn screen_levels_of_a_variable_to_filter_by() {
    snapshot("levels_menu", |s| {
        menu_pick(s, "f", "By a variable");
        menu_pick(s, "", "orientation");
    });
}

/// With a plan in force (`lacrima assign --coders ana,demo --overlap 20% --seed 7`), the list
/// opens on demo's share and the status line shows the progress on it; `f` offers the filter.
#[test]
fn screen_with_a_plan() {
    for (w, h) in SIZES {
        let (_dir, path) = demo();
        plan_for_ana_and_demo(&path);
        let mut s = open(&path, "demo", w, h);
        press(&mut s, "1 j");
        refresh_counts_now(&mut s);
        insta::assert_snapshot!(format!("plan_{w}x{h}"), draw(&s).backend());
        press(&mut s, "f");
        insta::assert_snapshot!(format!("plan_filter_{w}x{h}"), draw(&s).backend());
    }
}
