//! The merge event against the undo machinery's contract.

use super::*;
use crate::store::{CodeFields, NewCode};

fn snapshot(store: &Store) -> String {
    let mut out = String::new();
    for sql in [
        "SELECT response_id, coder_id, code_id, start, \"end\", memo, created_at FROM codings",
        "SELECT response_id, coder_id, reviewed_at FROM reviews",
        "SELECT coder_id, response_id, code_id, text, updated_at FROM memos",
        "SELECT id, guid, parent_id, name, description, shortcut, position FROM codes",
    ] {
        let mut st = store
            .conn()
            .prepare(&format!("{sql} ORDER BY 1, 2, 3"))
            .unwrap();
        let n = st.column_count();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..n {
                out.push_str(&format!(
                    "{:?}|",
                    r.get::<_, rusqlite::types::Value>(i).unwrap()
                ));
            }
            out.push('\n');
        }
        out.push_str("--\n");
    }
    out
}

/// The merge writes its rows set by set, but its event must be one that the undo machinery
/// replays like any other: every row reads back as the event's `after` says, and writing
/// each `before` in reverse order (as `replay` does) gives back the project as it was.
#[test]
fn a_merge_event_replays_like_any_other_event() {
    let dir = tempfile::tempdir().unwrap();
    let lead = dir.path().join("lead.db");
    let mut store = Store::create(&lead).unwrap();
    store
        .conn()
        .execute_batch(
            "INSERT INTO imports VALUES (1, 'f', 't', 2, 0);
             INSERT INTO respondents VALUES (1, 'r1', 1), (2, 'r2', 1);
             INSERT INTO questions VALUES (1, 'q1', NULL, 0);
             INSERT INTO responses VALUES (1, 1, 1, 'one answer', 0), (2, 2, 1, 'two', 0);
             INSERT INTO codes (id, guid, name, position)
             VALUES (1, 'g1', 'x', 1), (2, 'g2', 'y', 2), (3, 'g3', 'gone', 3);
             INSERT INTO events (at, action, after) VALUES ('t', 'import_survey', '{}');",
        )
        .unwrap();
    let ana = store.coder_id("ana").unwrap();
    store.toggle_coding(ana, 1, 2, None).unwrap();
    let copy = dir.path().join("copy.db");
    store.backup_to(&copy).unwrap();
    {
        let mut ben = Store::open(&copy).unwrap();
        let b = ben.coder_id("ben").unwrap();
        let z = ben
            .add_code(
                b,
                &NewCode {
                    name: "z".into(),
                    parent_id: Some(1),
                    ..NewCode::default()
                },
            )
            .unwrap();
        ben.toggle_coding(b, 1, z, Some((0, 3))).unwrap();
        ben.toggle_coding(b, 2, 1, None).unwrap();
        ben.set_answer_memo(b, 2, "short").unwrap();
        let fields = CodeFields {
            name: "why".into(),
            ..CodeFields::default()
        };
        ben.edit_code(b, 2, &fields, Some("a memo on the code"))
            .unwrap();
        // Ana's coding elsewhere changed in the copy too: the copy's version comes.
        let a = ben.coder_id("ana").unwrap();
        ben.toggle_coding(a, 1, 2, None).unwrap();
        ben.delete_code(b, 3).unwrap();
    }
    let before = snapshot(&store);
    let report = store.merge_from(&copy, &MergeOptions::default()).unwrap();
    assert!(report.conflicts.is_empty(), "{:?}", report.conflicts);
    assert_eq!(report.codes_deleted, ["gone"]);
    let id = report.event_id.expect("the merge changed something");
    assert_ne!(snapshot(&store), before);

    let (b, a): (String, String) = store
        .conn()
        .query_row(
            "SELECT before, after FROM events WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let rows = |text: &str| -> Vec<(Table, Json, Option<Json>)> {
        let side: Json = serde_json::from_str(text).unwrap();
        side["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    Table::parse(r["table"].as_str().unwrap()).unwrap(),
                    r["key"].clone(),
                    Some(r["row"].clone()).filter(|v| !v.is_null()),
                )
            })
            .collect()
    };
    let (to, from) = (rows(&b), rows(&a));
    assert_eq!(to.len(), from.len());
    for i in (0..from.len()).rev() {
        let (table, key, expected) = &from[i];
        assert_eq!(
            &read_row(store.conn(), *table, key).unwrap(),
            expected,
            "row {i}"
        );
        write_row(store.conn(), *table, key, to[i].2.as_ref()).unwrap();
    }
    assert_eq!(snapshot(&store), before);
}
