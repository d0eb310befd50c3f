//! Answers in any script: wide characters (CJK, emoji) take two columns and the screen stays
//! aligned; segments follow grapheme clusters and are stored as code-point offsets, so
//! `substr(text, start + 1, end - start)` in SQLite gives back exactly the selected text.

mod tui_support;

use tui_support::*;

const CSV: &str = "id,answer,group\n\
r1,\"我们一起哭了。Then the nurse 👩‍⚕️ came; the cafe\u{301} was closed 😢 and we talked.\",a\n\
r2,plain words only,b\n";

fn project() -> (tempfile::TempDir, std::path::PathBuf) {
    csv_project(CSV, &["answer"])
}

/// The text a stored segment covers, as SQLite reads it.
fn stored_segments(path: &std::path::Path) -> Vec<String> {
    sql_rows(
        path,
        "SELECT substr(s.text, k.start + 1, k.\"end\" - k.start) FROM codings k
         JOIN responses s ON s.id = k.response_id WHERE k.start IS NOT NULL ORDER BY k.start",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

#[test]
fn a_segment_over_cjk_characters_stores_code_point_offsets() {
    let (_d, path) = project();
    let mut s = open(&path, "demo", 80, 24);
    // Cursor on 一 (the third character), select to 了 and code it.
    press(&mut s, "tab l l v l l l 1");
    assert_eq!(
        codings_of(&path, "demo"),
        ["r1 answer rapport-deepened 2 6"]
    );
    assert_eq!(stored_segments(&path), ["一起哭了"]);
}

#[test]
fn an_emoji_made_of_several_code_points_is_selected_whole() {
    let (_d, path) = project();
    let mut s = open(&path, "demo", 80, 24);
    let text = &s.answer.as_ref().unwrap().detail.text;
    let nurse_cp = text.chars().position(|c| c == '👩').unwrap();
    let g = lacrima::tui::text::grapheme_at_cp(&s.answer.as_ref().unwrap().graphemes, nurse_cp);
    press(&mut s, "tab");
    s.text.cursor = g;
    // One step right from the nurse lands after the whole ZWJ sequence, not inside it.
    press(&mut s, "v 2");
    assert_eq!(stored_segments(&path), ["👩‍⚕️"]);
    let start: usize = sql_rows(&path, "SELECT start, \"end\" FROM codings")[0][0]
        .parse()
        .unwrap();
    let end: usize = sql_rows(&path, "SELECT start, \"end\" FROM codings")[0][1]
        .parse()
        .unwrap();
    assert_eq!(
        (start, end - start),
        (nurse_cp, 4),
        "woman, zero-width joiner, staff of Aesculapius, variation selector"
    );
}

#[test]
fn a_word_with_a_combining_accent_is_one_word_and_its_offsets_count_code_points() {
    let (_d, path) = project();
    let mut s = open(&path, "demo", 80, 24);
    let text = s.answer.as_ref().unwrap().detail.text.clone();
    let cafe = text.find("cafe").unwrap();
    let cafe_cp = text[..cafe].chars().count();
    let g = lacrima::tui::text::grapheme_at_cp(&s.answer.as_ref().unwrap().graphemes, cafe_cp);
    press(&mut s, "tab");
    s.text.cursor = g;
    press(&mut s, "v w 3");
    assert_eq!(stored_segments(&path), ["cafe\u{301}"]);
    assert_eq!(
        codings_of(&path, "demo"),
        [format!("r1 answer felt-human {} {}", cafe_cp, cafe_cp + 5)]
    );
}

#[test]
fn wide_characters_render_aligned_at_both_sizes() {
    for (w, h) in [(80u16, 24u16), (140, 40)] {
        let (_d, path) = project();
        let mut s = open(&path, "demo", w, h);
        press(&mut s, "tab l l v l l l 1");
        let b = buffer(&s);
        let ans = s.areas().answer;
        // The right borders of the answer and of the list (whose snippet starts with CJK) are in
        // place on every row: no wide character pushed them.
        let list = s.areas().list;
        for (panel, name) in [(ans, "answer"), (list, "list")] {
            for y in panel.y + 1..panel.y + panel.height - 1 {
                let edge = b[(panel.x + panel.width - 1, y)].symbol();
                assert!(edge == "│" || edge == "║", "{name} row {y}: {edge:?}");
            }
        }
        // A CJK character occupies two cells: the glyph and the cell it covers.
        let (x, y) = find(&b, "一").unwrap();
        assert_eq!(
            b[(x + 2, y)].symbol(),
            "起",
            "the next character starts two columns on"
        );
        // The segment's brackets sit around the wide characters.
        let line = screen(&s)
            .into_iter()
            .find(|l| l.contains("[一起"))
            .expect("the segment on screen");
        assert!(line.contains("我们[一起哭了]1。"), "{line}");
        insta::assert_snapshot!(format!("unicode_{w}x{h}"), draw(&s).backend());
    }
}
