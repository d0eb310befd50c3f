//! Maria settles ana's and ben's disagreements on the review screen: the agreement table per
//! code, a code's queue with both versions side by side, keys that adopt one version, both or
//! none, or edit the consensus freely, and "n of N settled" as she goes. Screens are compared
//! with snapshot files; colours that carry meaning are asserted cell by cell; every key's effect
//! is checked in the project file.

mod tui_support;

use lacrima::store::Store;
use lacrima::tui::review::{
    ReviewAction, ReviewContext, ReviewKeymap, ReviewSetup, ReviewState, View, update,
};
use lacrima::tui::review_render::{CODER_BG, CONSENSUS_BG, RELIABLE, TENTATIVE, render};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::path::Path;
use tui_support::{demo, fails_on, find, frame, key, rows_text, sql_rows};

fn setup(path: &Path) -> ReviewSetup {
    let id = |n: &str| -> i64 {
        sql_rows(path, &format!("SELECT id FROM coders WHERE name = '{n}'"))[0][0]
            .parse()
            .unwrap()
    };
    ReviewSetup {
        coders: vec![(id("ana"), "ana".into()), (id("ben"), "ben".into())],
        decider: "maria".into(),
        consensus: "consensus".into(),
        question: None,
    }
}

fn open(path: &Path, width: u16, height: u16) -> ReviewState {
    let mut s = ReviewState::open(
        Store::open(path).unwrap(),
        setup(path),
        ReviewKeymap::default(),
        Rect::new(0, 0, width, height),
    )
    .unwrap();
    s.color = true;
    s.finish_loading();
    s
}

/// Presses keys given as space-separated key-map names, as the screen would.
fn press(s: &mut ReviewState, keys: &str) {
    for spec in keys.split_whitespace() {
        if let Some(a) = s.action_for_key(key(spec)) {
            update(s, a);
        }
    }
}

fn buffer(s: &ReviewState) -> Buffer {
    frame(s.size, |f| render(f, s))
}

fn screen(s: &ReviewState) -> String {
    rows_text(&buffer(s))
}

/// The consensus codings of one code, as "ext_id start-end" (or "ext_id whole").
fn consensus_of(path: &Path, code: &str) -> Vec<String> {
    sql_rows(
        path,
        &format!(
            "SELECT r.ext_id || ' ' || ifnull(k.start || '-' || k.\"end\", 'whole')
             FROM codings k JOIN responses s ON s.id = k.response_id
             JOIN respondents r ON r.id = s.respondent_id JOIN codes c ON c.id = k.code_id
             JOIN coders d ON d.id = k.coder_id
             WHERE d.name = 'consensus' AND c.name = '{code}' ORDER BY s.id, k.start"
        ),
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

fn snapshot(name: &str, keys: &str) {
    for (w, h) in [(80, 24), (120, 36)] {
        let (_dir, path) = demo();
        let mut s = open(&path, w, h);
        press(&mut s, keys);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&s));
    }
}

#[test]
fn screen_agreement_table() {
    snapshot("review_table", "");
}

#[test]
fn screen_disagreement_queue() {
    snapshot("review_queue", "j j j enter");
}

#[test]
fn screen_editing_the_consensus() {
    snapshot("review_edit", "j j j enter e w v w w");
}

#[test]
fn screen_help() {
    snapshot("review_help", "?");
}

#[test]
fn the_table_colours_reliability_and_marks_the_selected_code() {
    let (_dir, path) = demo();
    let s = open(&path, 120, 36);
    let b = buffer(&s);
    // felt-cared-for: alpha 0.811, reliable; rapport-deepened: 0.729, tentative.
    let (_, y) = find(&b, "felt-cared-for").unwrap();
    let (x, _) = find(&b, "reliable ").unwrap();
    assert_eq!(b[(x, y)].fg, RELIABLE);
    let (_, y0) = find(&b, "> rapport-deepened").expect("the first code is selected");
    let (x0, _) = find(&b, "tentative").unwrap();
    assert_eq!(b[(x0, y0)].fg, TENTATIVE);
    assert!(screen(&s).contains("0 of 82 disagreements settled"));
}

#[test]
fn adopting_a_version_settles_it_and_moves_to_the_next() {
    let (_dir, path) = demo();
    let mut s = open(&path, 120, 36);
    // felt-cared-for: 7 disagreements.
    press(&mut s, "j j j enter");
    assert_eq!(s.view, View::Queue);
    assert_eq!(s.code().name, "felt-cared-for");
    assert_eq!(s.code_progress(), (0, 7));
    let first = s.item.as_ref().unwrap().clone();
    let ana_applies = first.versions[0].applies(s.code().id);
    let ben_applies = first.versions[1].applies(s.code().id);
    assert_ne!(ana_applies, ben_applies, "a disagreement");

    // The coder who applied the code has it highlighted in their colour.
    let b = buffer(&s);
    let k = if ana_applies { 0 } else { 1 };
    let who = if ana_applies { "1 ana" } else { "2 ben" };
    let (x, y) = find(&b, who).unwrap();
    let highlighted = (y + 1..y + 8).any(|yy| (x..x + 30).any(|xx| b[(xx, yy)].bg == CODER_BG[k]));
    assert!(highlighted, "{who}'s coding is highlighted");

    let adopt = if ana_applies { "1" } else { "2" };
    press(&mut s, adopt);
    assert_eq!(s.code_progress(), (1, 7));
    assert_eq!(s.position, 1, "on to the next disagreement");
    let msg = &s.message.as_ref().unwrap().0;
    assert!(msg.contains("1 of 7 settled"), "{msg}");
    let saved = consensus_of(&path, "felt-cared-for");
    assert!(
        saved.iter().any(|c| c.starts_with(&first.ext_id)),
        "{saved:?}"
    );
    let who_decided = sql_rows(
        &path,
        "SELECT decision, adopted_from, decided_by FROM consensus_decisions",
    );
    assert_eq!(who_decided.len(), 1);
    assert_eq!(who_decided[0][0], "adopted");
    assert_eq!(who_decided[0][2], "maria");

    // Going back shows the decision and the consensus in its colour.
    press(&mut s, "p");
    let b = buffer(&s);
    assert!(screen(&s).contains("settled:"), "{}", screen(&s));
    let (x, y) = find(&b, "consensus ·").unwrap();
    let green = (y + 1..y + 8).any(|yy| (x..x + 30).any(|xx| b[(xx, yy)].bg == CONSENSUS_BG));
    assert!(green, "the adopted coding shows in the consensus column");
}

#[test]
fn none_and_all_and_the_last_open_one() {
    let (_dir, path) = demo();
    let mut s = open(&path, 100, 30);
    // client-relief (7th code) has a single disagreement.
    press(&mut s, "j j j j j j enter");
    assert_eq!(s.code().name, "client-relief");
    assert_eq!(s.code_progress(), (0, 1));
    press(&mut s, "a");
    assert_eq!(s.code_progress(), (1, 1));
    let msg = &s.message.as_ref().unwrap().0;
    assert!(
        msg.contains("all 1 disagreements on client-relief are settled"),
        "{msg}"
    );
    assert_eq!(consensus_of(&path, "client-relief").len(), 1);
    // Changing one's mind: the code does not apply after all.
    press(&mut s, "x");
    assert!(consensus_of(&path, "client-relief").is_empty());
    let d = sql_rows(&path, "SELECT decision FROM consensus_decisions");
    assert_eq!(d, vec![vec!["none".to_string()]]);
    press(&mut s, "esc");
    assert_eq!(s.view, View::Table);
    assert!(screen(&s).contains("1 of 82 disagreements settled"));
}

#[test]
fn editing_codes_a_segment_of_ones_own() {
    let (_dir, path) = demo();
    let mut s = open(&path, 120, 36);
    press(&mut s, "j j j enter e");
    assert_eq!(s.context(), ReviewContext::Edit);
    let item = s.item.clone().unwrap();
    // Select the first two words and apply the code to them.
    press(&mut s, "v w w enter");
    let saved = consensus_of(&path, "felt-cared-for");
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(
        saved[0].starts_with(&format!("{} 0-", item.ext_id)),
        "{saved:?}"
    );
    let d = sql_rows(
        &path,
        "SELECT decision, decided_by FROM consensus_decisions",
    );
    assert_eq!(d[0], vec!["edited".to_string(), "maria".to_string()]);
    // Delete removes it again; Enter without a selection codes the whole answer.
    press(&mut s, "delete");
    assert!(consensus_of(&path, "felt-cared-for").is_empty());
    press(&mut s, "enter");
    assert_eq!(
        consensus_of(&path, "felt-cared-for"),
        vec![format!("{} whole", item.ext_id)]
    );
    press(&mut s, "esc");
    assert_eq!(s.context(), ReviewContext::Queue);
    assert_eq!(s.code_progress(), (1, 7));
}

#[test]
fn the_help_lists_every_key_of_the_key_map() {
    let (_dir, path) = demo();
    let mut s = open(&path, 120, 60);
    press(&mut s, "?");
    assert_eq!(s.context(), ReviewContext::Help);
    let text = screen(&s);
    for (ctx, rows) in ReviewKeymap::default().help() {
        assert!(text.contains(ctx.title()), "{}", ctx.title());
        for (keys, desc) in rows {
            assert!(text.contains(&format!("{keys:<18}{desc}")), "{keys} {desc}");
        }
    }
    press(&mut s, "esc");
    assert_eq!(s.context(), ReviewContext::Table);
    update(&mut s, ReviewAction::Quit);
    assert!(s.quit);
}

#[test]
fn a_code_the_coders_agree_on_has_nothing_to_open() {
    let (_dir, path) = tui_support::csv_project(
        "id,answer\nR1,She thanked me for caring.\nR2,Nothing changed.\n",
        &["answer"],
    );
    let mut store = Store::open(&path).unwrap();
    let rows = lacrima::import::codings::read_codings_csv(
        b"respondent,question,coder,code,start,end,memo\n\
          R1,answer,ana,felt-cared-for,,,\nR1,answer,ben,felt-cared-for,,,\n\
          R2,answer,ana,nothing-noticeable,,,\nR2,answer,ben,,,,\n",
        "codings.csv",
    )
    .unwrap();
    store.import_codings(&rows, "codings.csv").unwrap();
    drop(store);
    let mut s = open(&path, 100, 30);
    let row = s
        .codes
        .iter()
        .position(|c| c.name == "felt-cared-for")
        .unwrap();
    s.selected = row;
    press(&mut s, "enter");
    assert_eq!(s.view, View::Table, "nothing to open");
    let msg = &s.message.as_ref().unwrap().0;
    assert!(msg.contains("agree on felt-cared-for everywhere"), "{msg}");
    assert!(screen(&s).contains("agreed"));
    // nothing-noticeable: ana applied it to R2, ben did not.
    s.selected = s
        .codes
        .iter()
        .position(|c| c.name == "nothing-noticeable")
        .unwrap();
    press(&mut s, "enter");
    assert_eq!(s.view, View::Queue);
    assert_eq!(s.item.as_ref().unwrap().ext_id, "R2");
    // A tiny terminal gets a message instead of a broken screen.
    update(&mut s, ReviewAction::Resize(40, 4));
    assert!(screen(&s).contains("too small"), "{}", screen(&s));
    update(&mut s, ReviewAction::Resize(100, 30));
    assert!(screen(&s).contains("nothing-noticeable · disagreement 1 of 1"));
}

#[test]
fn decisions_survive_reopening_the_screen() {
    let (_dir, path) = demo();
    let mut s = open(&path, 100, 30);
    press(&mut s, "j j j enter 1 1");
    drop(s);
    let mut again = open(&path, 100, 30);
    press(&mut again, "j j j enter");
    assert_eq!(again.code_progress(), (2, 7));
    assert_eq!(again.position, 2, "opens on the first one still open");
}

#[test]
fn the_command_checks_its_arguments_before_the_screen_opens() {
    let (_dir, path) = demo();
    let err = |args: &[&str]| fails_on(&path, &[&["review"], args].concat());
    assert!(err(&["--coders", "ana,zoe", "--coder", "maria"]).contains("no coder called \"zoe\""));
    assert!(err(&["--coders", "ana", "--coder", "maria"]).contains("at least two coders"));
    assert!(err(&["--coders", "ana,ben"]).contains("say who decides"));
    let e = err(&["--coders", "ana,ben", "--coder", "maria"]);
    assert!(e.contains("is a terminal screen"), "{e}");
    let coders = sql_rows(&path, "SELECT name FROM coders ORDER BY name");
    assert_eq!(coders.len(), 2, "nothing was created: {coders:?}");
}

#[test]
fn keys_follow_the_context() {
    let map = ReviewKeymap::default();
    let lookup = |ctx, spec: &str| map.lookup(ctx, &key(spec));
    assert_eq!(
        lookup(ReviewContext::Table, "enter"),
        Some(ReviewAction::Open)
    );
    assert_eq!(
        lookup(ReviewContext::Queue, "2"),
        Some(ReviewAction::Adopt(2))
    );
    assert_eq!(lookup(ReviewContext::Queue, "?"), Some(ReviewAction::Help));
    assert_eq!(
        lookup(ReviewContext::Edit, "enter"),
        Some(ReviewAction::Apply)
    );
    assert_eq!(lookup(ReviewContext::Help, "j"), Some(ReviewAction::Down));
    assert_eq!(lookup(ReviewContext::Help, "ctrl-c"), None);
}

#[test]
fn the_table_is_computed_in_the_background_while_keys_keep_working() {
    // On a million answers reading every rating takes seconds: the screen shows at once, says
    // what it is doing, refuses to open a queue it does not have yet, and fills in.
    let (_dir, path) = demo();
    let mut s = ReviewState::open(
        Store::open(&path).unwrap(),
        setup(&path),
        ReviewKeymap::default(),
        Rect::new(0, 0, 100, 30),
    )
    .unwrap();
    assert!(s.report.is_none() && s.loading.is_some());
    let text = screen(&s);
    assert!(text.contains("reading every coder's ratings…"), "{text}");
    assert!(text.contains("Overall: computing…"), "{text}");

    press(&mut s, "j enter");
    assert_eq!(s.selected, 1, "moving works meanwhile");
    assert_eq!(s.view, View::Table);
    let (message, _) = s.message.clone().expect("a message");
    assert!(message.contains("still being read"), "{message}");

    let arrived = loop {
        if let Some(a) = s.poll() {
            break a;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert_eq!(arrived, ReviewAction::Loaded);
    update(&mut s, arrived);
    assert!(s.loading.is_none());
    assert!(s.report.is_some());
    let text = screen(&s);
    assert!(text.contains("disagreements settled"), "{text}");
    assert!(!text.contains("computing"), "{text}");
    assert!(
        !text.contains("still being read"),
        "the note goes once it is true no more"
    );
}

#[test]
fn a_decision_taken_by_mistake_is_undone_with_u_and_redone_with_ctrl_r() {
    let (_dir, path) = demo();
    let mut s = open(&path, 120, 36);
    press(&mut s, "j j j enter");
    assert_eq!(s.code().name, "felt-cared-for");
    let first = s.item.as_ref().unwrap().ext_id.clone();
    press(&mut s, "x");
    assert_eq!(s.code_progress(), (1, 7));
    assert_eq!(
        sql_rows(&path, "SELECT decision FROM consensus_decisions").len(),
        1
    );

    press(&mut s, "u");
    let msg = &s.message.as_ref().unwrap().0;
    assert!(
        msg.starts_with("undone: felt-cared-for: does not apply"),
        "{msg}"
    );
    assert_eq!(s.code_progress(), (0, 7), "open again");
    assert!(sql_rows(&path, "SELECT decision FROM consensus_decisions").is_empty());
    assert!(
        consensus_of(&path, "felt-cared-for").is_empty(),
        "nothing of it is left in the consensus"
    );
    let reviewed = sql_rows(
        &path,
        "SELECT count(*) FROM reviews v JOIN coders d ON d.id = v.coder_id
         WHERE d.name = 'consensus'",
    );
    assert_eq!(
        reviewed[0][0], "0",
        "the review mark the decision set went with it"
    );

    press(&mut s, "ctrl-r");
    let msg = &s.message.as_ref().unwrap().0;
    assert!(msg.starts_with("redone: "), "{msg}");
    assert_eq!(s.code_progress(), (1, 7));
    let decided = sql_rows(
        &path,
        "SELECT r.ext_id, d.decision FROM consensus_decisions d
         JOIN responses s ON s.id = d.response_id JOIN respondents r ON r.id = s.respondent_id",
    );
    assert_eq!(decided, [[first, "none".to_string()]]);

    press(&mut s, "u u");
    let msg = &s.message.as_ref().unwrap().0;
    assert_eq!(msg, "nothing to undo");
}
