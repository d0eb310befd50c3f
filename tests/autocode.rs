//! A team codes the obvious cases by pattern before reading the rest: a dry run shows how many
//! answers a pattern finds and what it finds, then the codings are written under a coder of
//! their own (so their agreement with the human coders can be measured), as one event that one
//! undo takes back.

mod common;

use common::{dump, query_all, query_one};

#[test]
fn a_dry_run_counts_what_the_pattern_finds_and_changes_nothing() {
    let s = common::demo();
    let before = dump(&s.project());
    let r = s.json(&[
        "autocode",
        "--code",
        "rapport-deepened",
        "--regex",
        "closer|trust",
        "--dry-run",
        "--format",
        "json",
    ]);
    assert_eq!(dump(&s.project()), before);
    let expected: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM responses WHERE is_empty = 0 \
         AND (lower(text) LIKE '%closer%' OR lower(text) LIKE '%trust%')",
    );
    let code = &r["codes"][0];
    assert_eq!(code["code"], "rapport-deepened");
    assert_eq!(code["answers_matched"].as_i64().unwrap(), expected);
    assert!(code["matches"].as_i64().unwrap() >= expected);
    let in_scope: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM responses WHERE is_empty = 0",
    );
    assert_eq!(r["answers_in_scope"].as_i64().unwrap(), in_scope);
    let sample = code["sample"].as_array().unwrap();
    assert_eq!(sample.len(), 5);
    let marked = sample[0]["context"].as_str().unwrap().to_lowercase();
    assert!(
        marked.contains("[[closer]]") || marked.contains("[[trust]]"),
        "{marked}"
    );
}

#[test]
fn applying_writes_segments_under_the_autocode_coder_as_one_undoable_event() {
    let s = common::demo();
    let out = s.stdout(&[
        "autocode",
        "--code",
        "rapport-deepened",
        "--regex",
        "closer|trust",
    ]);
    assert!(out.contains("Auto-coded as coder autocode"), "{out}");
    let p = s.project();
    let segments: Vec<String> = query_all(
        &p,
        "SELECT lower(substr(s.text, k.start + 1, k.\"end\" - k.start)) FROM codings k
         JOIN responses s ON s.id = k.response_id JOIN coders d ON d.id = k.coder_id
         WHERE d.name = 'autocode'",
    );
    assert!(!segments.is_empty());
    assert!(
        segments.iter().all(|t| t == "closer" || t == "trust"),
        "{segments:?}"
    );
    let events: i64 = query_one(
        &p,
        "SELECT count(*) FROM events e JOIN coders d ON d.id = e.coder_id \
         WHERE d.name = 'autocode' AND e.action = 'autocode'",
    );
    assert_eq!(events, 1);
    // Running it again finds nothing new.
    let again = s.stdout(&[
        "autocode",
        "--code",
        "rapport-deepened",
        "--regex",
        "closer|trust",
    ]);
    assert!(again.contains(": 0 codings added"), "{again}");
    // The agreement of the patterns with a human coder is a report like any other.
    let a = s.json(&["agreement", "--coders", "ana,autocode", "--format", "json"]);
    assert!(
        a.get("codes").is_some() || a.get("per_code").is_some(),
        "{a}"
    );

    // One undo (the coding screen's u as coder autocode) takes the whole run back.
    let mut store = lacrima::store::Store::open(&p).unwrap();
    let coder = store.coder_id("autocode").unwrap();
    let undone = store.undo(coder).unwrap().expect("something to undo");
    assert!(
        undone.summary.contains("auto-code rapport-deepened"),
        "{}",
        undone.summary
    );
    let left: i64 = query_one(
        &p,
        "SELECT count(*) FROM codings k JOIN coders d ON d.id = k.coder_id WHERE d.name = 'autocode'",
    );
    assert_eq!(left, 0);
    let reviews: i64 = query_one(
        &p,
        "SELECT count(*) FROM reviews v JOIN coders d ON d.id = v.coder_id WHERE d.name = 'autocode'",
    );
    assert_eq!(reviews, 0);
}

#[test]
fn a_dictionary_codes_several_codes_at_once_whole_answers_and_whole_words() {
    let s = common::demo();
    s.write(
        "words.csv",
        "code,pattern\nrapport-deepened,closer\nfelt-cared-for,understood\nrapport-deepened,trust\n",
    );
    let r = s.json(&[
        "autocode",
        "--words",
        "words.csv",
        "--whole-word",
        "--dry-run",
        "--format",
        "json",
    ]);
    let codes: Vec<&str> = r["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["rapport-deepened", "felt-cared-for"]);
    s.stdout(&[
        "autocode",
        "--words",
        "words.csv",
        "--whole-word",
        "--whole-answer",
        "--coder",
        "dictionary",
    ]);
    let segments: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM codings k JOIN coders d ON d.id = k.coder_id \
         WHERE d.name = 'dictionary' AND k.start IS NOT NULL",
    );
    assert_eq!(segments, 0, "--whole-answer codes whole answers");
    let whole: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM codings k JOIN coders d ON d.id = k.coder_id WHERE d.name = 'dictionary'",
    );
    let matched: i64 = r["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["answers_matched"].as_i64().unwrap())
        .sum();
    assert_eq!(whole, matched);
}

#[test]
fn bad_patterns_and_codes_are_refused_with_the_place_and_nothing_changes() {
    let s = common::demo();
    let before = dump(&s.project());
    let err = s.fails(&[
        "autocode",
        "--code",
        "rapport-deepened",
        "--regex",
        "(closer",
    ]);
    assert!(
        err.contains("not a valid regular expression") && err.contains("unclosed group"),
        "{err}"
    );
    let err = s.fails(&["autocode", "--code", "rapport-deepened", "--regex", "x*"]);
    assert!(err.contains("matches the empty string"), "{err}");
    let err = s.fails(&["autocode", "--code", "no-such-code", "--regex", "x"]);
    assert!(err.contains("no code called \"no-such-code\""), "{err}");
    let err = s.fails(&["autocode", "--code", "relationship", "--regex", "x"]);
    assert!(err.contains("only groups other codes"), "{err}");
    s.write("bad.csv", "rapport-deepened,closer\nfelt-cared-for,[oops\n");
    let err = s.fails(&["autocode", "--words", "bad.csv"]);
    assert!(err.contains("bad.csv:2"), "{err}");
    assert_eq!(dump(&s.project()), before);
}

#[test]
fn lacrima_undo_takes_an_auto_coding_run_back_on_the_command_line() {
    let s = common::demo();
    let before = common::without_events(&dump(&s.project()));
    let out = s.stdout(&[
        "autocode",
        "--code",
        "rapport-deepened",
        "--regex",
        "closer",
    ]);
    assert!(out.contains("lacrima undo --coder autocode"), "{out}");
    s.stdout(&["undo", "--coder", "autocode"]);
    let left: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM codings k JOIN coders d ON d.id = k.coder_id WHERE d.name = 'autocode'",
    );
    assert_eq!(left, 0);
    // Only the coder the run created remains besides the log.
    let after = common::without_events(&dump(&s.project()));
    let strip = |d: &str| {
        d.lines()
            .filter(|l| !l.contains("\"autocode\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&after), strip(&before));
}
