//! The store calls behind the coding screen: pages of answers read forwards and backwards under
//! every filter agree with one plain query, also with a regex search whose matches are rare (it
//! is filtered outside SQLite, chunk by chunk), and undo restores rows exactly.

mod tui_support;

use lacrima::store::{AnswerFilter, AnswerQuery, Store};
use tui_support::*;

/// 3,000 answers, of which every 97th mentions a "kettle"; every 10th is "n/a".
fn project() -> (tempfile::TempDir, std::path::PathBuf) {
    let mut csv = String::from("id,answer,group\n");
    for i in 0..3000 {
        let text = if i % 10 == 5 {
            "n/a".to_string()
        } else if i % 97 == 0 {
            format!("answer {i} about the kettle")
        } else {
            format!("answer {i}")
        };
        csv.push_str(&format!(
            "r{i:04},{text},{}\n",
            if i % 3 == 0 { "x" } else { "y" }
        ));
    }
    csv_project(&csv, &["answer"])
}

/// All ids of a query, page by page forwards, and page by page backwards.
fn walk(store: &Store, q: &AnswerQuery, page: usize) -> (Vec<i64>, Vec<i64>) {
    let mut fwd = Vec::new();
    let mut after = None;
    loop {
        let rows = store.answers_after(q, after, page).unwrap();
        if rows.is_empty() {
            break;
        }
        after = rows.last().map(|r| r.id);
        fwd.extend(rows.iter().map(|r| r.id));
    }
    let mut back = Vec::new();
    let mut before = None;
    loop {
        let rows = store.answers_before(q, before, page).unwrap();
        if rows.is_empty() {
            break;
        }
        before = rows.first().map(|r| r.id);
        back.splice(0..0, rows.iter().map(|r| r.id));
    }
    (fwd, back)
}

fn ids(path: &std::path::Path, sql: &str) -> Vec<i64> {
    sql_rows(path, sql)
        .into_iter()
        .map(|r| r[0].parse().unwrap())
        .collect()
}

#[test]
fn pages_forwards_and_backwards_match_one_query_under_every_filter() {
    let (_d, path) = project();
    let mut store = Store::open(&path).unwrap();
    let me = store.coder_id("me").unwrap();
    let code = store
        .codes()
        .unwrap()
        .into_iter()
        .find(|c| c.name == "felt-human")
        .unwrap()
        .id;
    // Review every 7th answer, coding every 14th.
    for id in ids(
        &path,
        "SELECT id FROM responses WHERE is_empty = 0 AND id % 7 = 0",
    ) {
        if id % 14 == 0 {
            store.toggle_coding(me, id, code, None).unwrap();
        } else {
            store.mark_no_code(me, id).unwrap();
        }
    }
    let column = sql_rows(
        &path,
        "SELECT column_name FROM variables WHERE name = 'group'",
    )[0][0]
        .clone();
    let cases: Vec<(AnswerFilter, bool, &str)> = vec![
        (
            AnswerFilter::All,
            false,
            "SELECT id FROM responses WHERE is_empty = 0 ORDER BY id",
        ),
        (
            AnswerFilter::All,
            true,
            "SELECT id FROM responses ORDER BY id",
        ),
        (
            AnswerFilter::NotReviewed,
            false,
            "SELECT id FROM responses WHERE is_empty = 0 AND id % 7 <> 0 ORDER BY id",
        ),
        (
            AnswerFilter::Reviewed,
            false,
            "SELECT id FROM responses WHERE is_empty = 0 AND id % 7 = 0 ORDER BY id",
        ),
        (
            AnswerFilter::WithCode(code),
            false,
            "SELECT id FROM responses WHERE is_empty = 0 AND id % 14 = 0 ORDER BY id",
        ),
        (
            AnswerFilter::WithoutCode(code),
            false,
            "SELECT id FROM responses WHERE is_empty = 0 AND id % 14 <> 0 ORDER BY id",
        ),
    ];
    for (filter, include_empty, sql) in cases {
        let q = AnswerQuery {
            coder_id: me,
            filter: filter.clone(),
            include_empty,
            regex: None,
        };
        let expected = ids(&path, sql);
        let (fwd, back) = walk(&store, &q, 100);
        assert_eq!(fwd, expected, "{filter:?}");
        assert_eq!(back, expected, "{filter:?} backwards");
        assert_eq!(store.count_answers(&q).unwrap(), expected.len() as i64);
    }
    let q = AnswerQuery {
        coder_id: me,
        filter: AnswerFilter::Variable {
            column: column.clone(),
            value: lacrima::store::FilterValue::Text("x".into()),
        },
        include_empty: false,
        regex: None,
    };
    let expected = ids(
        &path,
        &format!(
            "SELECT s.id FROM responses s JOIN variable_values w ON w.respondent_id = s.respondent_id WHERE s.is_empty = 0 AND w.{column} = 'x' ORDER BY s.id"
        ),
    );
    assert_eq!(walk(&store, &q, 37).0, expected);
}

#[test]
fn a_rare_regex_pages_correctly_across_chunks() {
    let (_d, path) = project();
    let store = Store::open(&path).unwrap();
    let me = store.coder_id("me").unwrap();
    let q = AnswerQuery {
        coder_id: me,
        filter: AnswerFilter::All,
        include_empty: false,
        regex: Some(regex::Regex::new("kettle").unwrap()),
    };
    let expected = ids(
        &path,
        "SELECT id FROM responses WHERE text LIKE '%kettle%' ORDER BY id",
    );
    assert_eq!(
        expected.len(),
        28,
        "31 multiples of 97, three of which are n/a"
    );
    let (fwd, back) = walk(&store, &q, 4);
    assert_eq!(fwd, expected);
    assert_eq!(back, expected);
    assert_eq!(store.count_answers(&q).unwrap(), 28);
    // From an answer that does not match, the next matches follow (across the 512-row chunks).
    let from = store.answers_from(&q, expected[5] + 1, 10).unwrap();
    assert_eq!(
        from.iter().map(|r| r.id).collect::<Vec<_>>(),
        expected[6..16]
    );
    let next = store
        .next_unreviewed(&q, Some(expected[20]))
        .unwrap()
        .unwrap();
    assert_eq!(next.id, expected[21]);
}

#[test]
fn undo_restores_the_exact_rows_and_redo_the_exact_result() {
    let (_d, path) = project();
    let mut store = Store::open(&path).unwrap();
    let me = store.coder_id("me").unwrap();
    let codes = store.codes().unwrap();
    let a = codes.iter().find(|c| c.name == "felt-human").unwrap().id;
    let b = codes.iter().find(|c| c.name == "embarrassment").unwrap().id;
    let snapshot = |p: &std::path::Path| {
        (
            sql_rows(
                p,
                "SELECT response_id, code_id, coder_id, start, \"end\", memo, created_at FROM codings ORDER BY 1, 2, 4",
            ),
            sql_rows(p, "SELECT * FROM reviews ORDER BY 1"),
            sql_rows(
                p,
                "SELECT coder_id, response_id, code_id, text, updated_at FROM memos ORDER BY 1, 2, 3",
            ),
            sql_rows(p, "SELECT * FROM codes ORDER BY id"),
        )
    };
    store.toggle_coding(me, 1, a, None).unwrap();
    store.toggle_coding(me, 1, b, Some((0, 6))).unwrap();
    store.set_answer_memo(me, 1, "first thoughts").unwrap();
    let before = snapshot(&path);
    store.mark_no_code(me, 1).unwrap();
    store.set_answer_memo(me, 1, "").unwrap();
    store.merge_code(me, a, b).unwrap();
    let after = snapshot(&path);
    for _ in 0..3 {
        store.undo(me).unwrap().unwrap();
    }
    assert_eq!(snapshot(&path), before);
    for _ in 0..3 {
        store.redo(me).unwrap().unwrap();
    }
    assert_eq!(snapshot(&path), after);
    assert_eq!(store.redo(me).unwrap(), None);
}
