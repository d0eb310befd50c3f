//! Two coders have double-coded a sample; the team turns it into one consensus coding.
//! `lacrima consensus --agreed` takes over what they agree on (and nothing else), never
//! overwrites a decision, and leaves a queue of disagreements that the review screen settles
//! one (answer, code) at a time through the store, each decision logged with who decided and
//! from which versions.

mod common;
use common::*;
use lacrima::store::{Adopt, Store};
use serde_json::Value;
use std::collections::BTreeSet;

/// Six answers, codes A, B and C, coded by ana and ben:
/// - R1: both A (whole answer)                      -> agreed: A whole
/// - R2: ana A [0,5) and B; ben A [3,10) and [20,25) -> agreed: A [0,10) + [20,25); B open
/// - R3: ana A [0,5); ben A whole                    -> agreed: A whole
/// - R4: both reviewed it, nothing applies           -> agreed: nothing (rated, no code)
/// - R5: only ana (C)                                -> not compared
/// - R6: ana B; ben C                                -> B and C open
fn project() -> Scratch {
    let survey = answers_csv((1..=6).map(|r| {
        (
            format!("R{r}"),
            "The client cried with me and then told me she felt seen for once.",
        )
    }));
    one_question_project(
        &survey,
        "name,parent\nGroup,\nA,Group\nB,Group\nC,\n",
        Some(
            "R1,answer,ana,A,,,\nR1,answer,ben,A,,,\n\
         R2,answer,ana,A,0,5,\nR2,answer,ana,B,,,\nR2,answer,ben,A,3,10,\nR2,answer,ben,A,20,25,\n\
         R3,answer,ana,A,0,5,\nR3,answer,ben,A,,,\n\
         R4,answer,ana,,,,\nR4,answer,ben,,,,\n\
         R5,answer,ana,C,,,\n\
         R6,answer,ana,B,,,\nR6,answer,ben,C,,,\n",
        ),
    )
}

/// The consensus coder's codings as "R1 A" / "R2 A 0-10" lines.
fn consensus_codings(s: &Scratch) -> BTreeSet<String> {
    let csv = s.stdout(&["codings", "export", "--coder", "consensus"]);
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let span = if r[4].is_empty() {
                String::new()
            } else {
                format!(" {}-{}", &r[4], &r[5])
            };
            if r[3].is_empty() {
                format!("{} (no code)", &r[0])
            } else {
                format!("{} {}{span}", &r[0], &r[3])
            }
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn agreed_codes_are_prefilled_and_disagreements_are_left() {
    let s = project();
    let out = s.json(&[
        "consensus",
        "--from",
        "ana,ben",
        "--agreed",
        "--coder",
        "maria",
        "--format",
        "json",
    ]);
    assert_eq!(out["answers_compared"], 5, "R5 was rated by ana only");
    assert_eq!(out["answers_not_compared"], 1);
    assert_eq!(out["codings_added"], 4);
    assert_eq!(out["answers_settled"], 3, "R1, R3 and R4");
    assert_eq!(out["disagreements"], 3, "B on R2, B and C on R6");
    assert_eq!(out["answers_with_disagreements"], 2);
    assert_eq!(
        consensus_codings(&s),
        set(&["R1 A", "R2 A 0-10", "R2 A 20-25", "R3 A", "R4 (no code)"])
    );
    let is_consensus: i64 = query_one(
        &s.project(),
        "SELECT is_consensus FROM coders WHERE name = 'consensus'",
    );
    assert_eq!(is_consensus, 1);
    let marked: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM reviews v JOIN coders d ON d.id = v.coder_id
         WHERE d.name = 'consensus'",
    );
    assert_eq!(
        marked, 4,
        "R1-R4: coded, or agreed that nothing applies; not R6"
    );

    // Every decision is in the event log with who decided and both versions.
    let event: String = query_one(
        &s.project(),
        "SELECT e.after FROM events e JOIN responses s ON s.id = json_extract(e.after, '$.response_id')
         JOIN respondents r ON r.id = s.respondent_id
         WHERE e.action = 'consensus.agreed' AND r.ext_id = 'R2'",
    );
    let event: Value = serde_json::from_str(&event).unwrap();
    assert_eq!(event["decided_by"], "maria");
    assert_eq!(event["decision"], "agreed");
    assert_eq!(event["from"]["ana"].as_array().unwrap().len(), 2);
    assert_eq!(event["from"]["ben"].as_array().unwrap().len(), 2);
    assert_eq!(
        event["rows"].as_array().unwrap().len(),
        3,
        "two codings, one mark"
    );
    let decisions: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM consensus_decisions WHERE decision = 'agreed'
         AND decided_by = 'maria' AND from_coders = '[\"ana\",\"ben\"]' AND event_id IS NOT NULL",
    );
    assert_eq!(decisions, 3, "A on R1, R2 and R3");

    // The consensus is an ordinary coder for every later step.
    let agreement = s.json(&["agreement", "--format", "json", "--coders", "ana,consensus"]);
    assert_eq!(agreement["coder_counts"]["consensus"], 4);
    let default = s.json(&["agreement", "--format", "json"]);
    assert_eq!(
        default["coders"],
        serde_json::json!(["ana", "ben"]),
        "consensus coders are not compared by default"
    );
}

#[test]
fn running_it_again_changes_nothing() {
    let s = project();
    s.lacrima(&["consensus", "--from", "ana,ben", "--agreed"])
        .assert()
        .success();
    let before = dump(&s.project());
    let out = s.stdout(&["consensus", "--from", "ana,ben", "--agreed"]);
    assert!(out.contains("added 0 agreed codings"), "{out}");
    assert!(out.contains("kept:      3 earlier decisions"), "{out}");
    assert!(
        out.contains("remaining: 3 disagreements on 2 answers"),
        "{out}"
    );
    assert_eq!(dump(&s.project()), before);
}

#[test]
fn decisions_made_by_people_are_never_overwritten() {
    let (s, ids, from) = agreed_project();
    let mut store = Store::open(&s.project()).unwrap();
    // The team decides that A does not apply to R1 after all.
    store
        .adopt_into_consensus(
            (ids.consensus, "consensus"),
            &from,
            ids.r[1],
            ids.a,
            Adopt::None,
            Some("maria"),
        )
        .unwrap();
    drop(store);
    // Someone codes R6 by hand as the consensus coder.
    s.add_codings("by_hand.csv", "R6,answer,consensus,C,0,10,\n");
    let before = consensus_codings(&s);
    assert!(!before.contains("R1 A"));
    let out = s.stdout(&["consensus", "--from", "ana,ben", "--agreed"]);
    assert!(out.contains("1 answer edited by hand"), "{out}");
    assert_eq!(
        consensus_codings(&s),
        before,
        "R1 stays without A, R6 as coded"
    );
    let status = s.stdout(&["consensus", "--from", "ana,ben"]);
    assert!(
        status.starts_with("Consensus \"consensus\" from ana and ben: 2 of 3 disagreements"),
        "R6's two count as settled by hand: {status}"
    );
}

struct Ids {
    ana: i64,
    ben: i64,
    consensus: i64,
    a: i64,
    b: i64,
    c: i64,
    /// Response id of R1..R6 at index 1..6.
    r: Vec<i64>,
}

fn ids(s: &Scratch) -> Ids {
    let mut r = vec![0];
    for i in 1..=6 {
        r.push(response_of(s, &format!("R{i}")));
    }
    Ids {
        ana: coder_id(s, "ana"),
        ben: coder_id(s, "ben"),
        consensus: coder_id(s, "consensus"),
        a: code_id(s, "A"),
        b: code_id(s, "B"),
        c: code_id(s, "C"),
        r,
    }
}

fn coder_id(s: &Scratch, name: &str) -> i64 {
    query_one(
        &s.project(),
        &format!("SELECT id FROM coders WHERE name = '{name}'"),
    )
}

fn code_id(s: &Scratch, name: &str) -> i64 {
    query_one(
        &s.project(),
        &format!("SELECT id FROM codes WHERE name = '{name}'"),
    )
}

/// The project after `lacrima consensus --from ana,ben --agreed`, its ids, and ana and ben as
/// the coders compared (what the store's consensus calls take).
fn agreed_project() -> (Scratch, Ids, [(i64, String); 2]) {
    let s = project();
    s.lacrima(&["consensus", "--from", "ana,ben", "--agreed"])
        .assert()
        .success();
    let ids = ids(&s);
    let from = [(ids.ana, "ana".to_string()), (ids.ben, "ben".to_string())];
    (s, ids, from)
}

#[test]
fn the_review_screen_settles_the_queue_one_decision_at_a_time() {
    let (s, ids, from) = agreed_project();
    let me = (ids.consensus, "consensus");
    let mut store = Store::open(&s.project()).unwrap();

    let index = store
        .disagreement_index(ids.consensus, &from, None)
        .unwrap();
    let queue = |index: &lacrima::store::DisagreementIndex, code| -> Vec<(i64, bool)> {
        index
            .queue(code)
            .iter()
            .map(|q| (q.response_id, q.settled))
            .collect()
    };
    assert_eq!(queue(&index, ids.a), vec![], "A is agreed everywhere");
    assert_eq!(
        queue(&index, ids.b),
        vec![(ids.r[2], false), (ids.r[6], false)]
    );
    assert_eq!(queue(&index, ids.c), vec![(ids.r[6], false)]);
    assert_eq!(index.progress(), (0, 3));

    // Side by side: each coder's version of R2.
    let versions = store.answer_versions(ids.r[2], &from).unwrap();
    assert_eq!(versions[0].coder, "ana");
    assert!(versions[0].applies(ids.b) && !versions[1].applies(ids.b));
    assert_eq!(versions[1].of_code(ids.a).count(), 2);

    // B on R2: take ana's version.
    store
        .adopt_into_consensus(
            me,
            &from,
            ids.r[2],
            ids.b,
            Adopt::Coder(ids.ana),
            Some("maria"),
        )
        .unwrap();
    // B on R6: does not apply. R6 still has C open, so it is not marked yet.
    store
        .adopt_into_consensus(me, &from, ids.r[6], ids.b, Adopt::None, Some("maria"))
        .unwrap();
    let marked = |store: &Store, r: i64| -> bool {
        store
            .answer_versions(r, &[(ids.consensus, "consensus".into())])
            .unwrap()[0]
            .rated
    };
    assert!(!marked(&store, ids.r[6]));
    // C on R6: everyone's codings (only ben's). Its last disagreement: R6 is now rated.
    store
        .adopt_into_consensus(me, &from, ids.r[6], ids.c, Adopt::All, Some("joe"))
        .unwrap();
    assert!(marked(&store, ids.r[6]));
    let index = store
        .disagreement_index(ids.consensus, &from, None)
        .unwrap();
    assert_eq!(index.progress(), (3, 3), "3 of 3 settled");
    drop(store);
    assert_eq!(
        consensus_codings(&s),
        set(&[
            "R1 A",
            "R2 A 0-10",
            "R2 A 20-25",
            "R2 B",
            "R3 A",
            "R4 (no code)",
            "R6 C"
        ])
    );
    let decided: String = query_one(
        &s.project(),
        &format!(
            "SELECT decision || ' ' || ifnull(adopted_from, '-') || ' ' || decided_by
             FROM consensus_decisions WHERE response_id = {} AND code_id = {}",
            ids.r[2], ids.b
        ),
    );
    assert_eq!(decided, "adopted ana maria");
    let event: String = query_one(
        &s.project(),
        "SELECT after FROM events WHERE action = 'consensus.decide' ORDER BY id DESC LIMIT 1",
    );
    let event: Value = serde_json::from_str(&event).unwrap();
    assert_eq!(event["decided_by"], "joe");
    assert_eq!(event["decision"], "all");
    assert_eq!(
        event["from"]["ana"],
        serde_json::json!([]),
        "ana's version of C"
    );
    assert_eq!(event["from"]["ben"][0]["code"], "C");

    // A decision can be changed: R2's B after all does not apply.
    let mut store = Store::open(&s.project()).unwrap();
    store
        .adopt_into_consensus(me, &from, ids.r[2], ids.b, Adopt::None, Some("maria"))
        .unwrap();
    drop(store);
    assert!(!consensus_codings(&s).contains("R2 B"));
    let status = s.stdout(&["consensus", "--from", "ana,ben"]);
    assert!(
        status.contains("3 of 3 disagreements settled; 0 open"),
        "{status}"
    );
}

#[test]
fn a_version_that_does_not_exist_cannot_be_adopted() {
    let (s, ids, _) = agreed_project();
    let mut store = Store::open(&s.project()).unwrap();
    let with_cy = [(ids.ana, "ana".to_string()), (ids.ben, "ben".to_string())];
    let before = dump(&s.project());
    let err = store
        .adopt_into_consensus(
            (ids.consensus, "consensus"),
            &with_cy,
            ids.r[5],
            ids.c,
            Adopt::Coder(ids.ben),
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("ben has not coded this answer"), "{err}");
    let group: i64 = query_one(&s.project(), "SELECT id FROM codes WHERE name = 'Group'");
    let err = store
        .adopt_into_consensus(
            (ids.consensus, "consensus"),
            &with_cy,
            ids.r[2],
            group,
            Adopt::All,
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a codable code"), "{err}");
    drop(store);
    assert_eq!(dump(&s.project()), before);
    let _ = (ids.a, ids.b);
}

#[test]
fn bad_consensus_requests_say_what_exists() {
    let s = project();
    let before = dump(&s.project());
    let err = s.fails(&["consensus", "--from", "ana", "--agreed"]);
    assert!(
        err.contains("at least two coders") && err.contains("ana, ben"),
        "{err}"
    );
    let err = s.fails(&["consensus", "--from", "ana,zoe", "--agreed"]);
    assert!(err.contains("no coder called \"zoe\""), "{err}");
    let err = s.fails(&["consensus", "--from", "ana,ben", "--agreed", "--as", "ana"]);
    assert!(err.contains("one of the coders compared"), "{err}");
    assert_eq!(dump(&s.project()), before);
    s.add_codings("cy.csv", "R1,answer,cy,A,,,\n");
    let before = dump(&s.project());
    let err = s.fails(&["consensus", "--from", "ana,ben", "--agreed", "--as", "cy"]);
    assert!(err.contains("\"cy\" is an ordinary coder"), "{err}");
    // Without --agreed nothing is written, not even the consensus coder.
    s.stdout(&["consensus", "--from", "ana,ben"]);
    assert_eq!(dump(&s.project()), before);
}

/// A team that used `lacrima assign`: ana and ben double-coded two answers, and each alone
/// coded two others.
/// - D1: both A (whole answer)               -> agreed: A
/// - D2: ana B; ben C                         -> a disagreement, left to review
/// - S1: ana only: A [4,10) with a memo, B    -> copied from ana
/// - S2: ana only, nothing applies            -> copied from ana: reviewed, no code
/// - S3: ben only: C whole, A [0,3)           -> copied from ben
/// - S4: ben only, nothing applies            -> copied from ben: reviewed, no code
/// - X1: nobody                               -> not in the consensus
fn split_project() -> Scratch {
    let mut survey = String::from("id,group,answer\n");
    for (r, g) in [
        ("D1", "a"),
        ("D2", "b"),
        ("S1", "a"),
        ("S2", "b"),
        ("S3", "a"),
        ("S4", "b"),
        ("X1", "a"),
    ] {
        survey.push_str(&format!(
            "{r},{g},She said the sessions made her feel less alone at night.\n"
        ));
    }
    one_question_project(
        &survey,
        "name,parent\nA,\nB,\nC,\n",
        Some(
            "D1,answer,ana,A,,,\nD1,answer,ben,A,,,\n\
         D2,answer,ana,B,,,\nD2,answer,ben,C,,,\n\
         S1,answer,ana,A,4,10,she is quoting her mother\nS1,answer,ana,B,,,\n\
         S2,answer,ana,,,,\n\
         S3,answer,ben,C,,,\nS3,answer,ben,A,0,3,\n\
         S4,answer,ben,,,,\n",
        ),
    )
}

/// Response id of a respondent's answer.
fn response_of(s: &Scratch, ext_id: &str) -> i64 {
    query_one(
        &s.project(),
        &format!(
            "SELECT s.id FROM responses s JOIN respondents r ON r.id = s.respondent_id
             WHERE r.ext_id = '{ext_id}'"
        ),
    )
}

/// The respondents the consensus coder has marked as reviewed.
fn consensus_reviewed(s: &Scratch) -> BTreeSet<String> {
    query_all(
        &s.project(),
        "SELECT r.ext_id FROM reviews v JOIN coders d ON d.id = v.coder_id
         JOIN responses s ON s.id = v.response_id JOIN respondents r ON r.id = s.respondent_id
         WHERE d.name = 'consensus'",
    )
    .into_iter()
    .collect()
}

#[test]
fn single_coded_answers_are_copied_so_the_consensus_holds_every_answer() {
    let s = split_project();
    // ana's memo on S1 travels with her coding.
    let conn = rusqlite::Connection::open(s.project()).unwrap();
    conn.execute(
        "INSERT INTO memos (coder_id, response_id, code_id, text, updated_at)
         SELECT id, ?1, NULL, 'ask about the mother', '2026-01-01T00:00:00Z'
         FROM coders WHERE name = 'ana'",
        [response_of(&s, "S1")],
    )
    .unwrap();
    drop(conn);

    // Without --single, the summary says what is left out and how to copy it.
    let status = s.stdout(&["consensus", "--from", "ana,ben"]);
    assert!(
        status.contains(
            "4 answers rated by one of them only are not in the consensus yet; copy them with: \
             lacrima consensus --from ana,ben --single"
        ),
        "{status}"
    );
    let status = s.json(&["consensus", "--from", "ana,ben", "--format", "json"]);
    assert_eq!(status["single_pending"], 4);

    let out = s.json(&[
        "consensus",
        "--from",
        "ana,ben",
        "--agreed",
        "--single",
        "--coder",
        "maria",
        "--format",
        "json",
    ]);
    assert_eq!(out["answers_compared"], 2);
    assert_eq!(out["answers_single"], 4);
    assert_eq!(out["codings_added"], 1, "A on D1");
    assert_eq!(out["single_copied"], 4);
    assert_eq!(out["single_codings_added"], 4);
    assert_eq!(
        out["single_copied_from"],
        serde_json::json!([
            {"coder": "ana", "answers": 2, "codings": 2},
            {"coder": "ben", "answers": 2, "codings": 2}
        ])
    );
    assert_eq!(out["single_pending"], 0);
    assert_eq!(out["disagreements"], 2, "B and C on D2");
    assert_eq!(out["answers_to_settle"], 1, "D2");

    assert_eq!(
        consensus_codings(&s),
        set(&[
            "D1 A",
            "S1 A 4-10",
            "S1 B",
            "S2 (no code)",
            "S3 A 0-3",
            "S3 C",
            "S4 (no code)"
        ]),
        "nothing on D2, the disagreement"
    );
    assert_eq!(consensus_reviewed(&s), set(&["D1", "S1", "S2", "S3", "S4"]));
    let memo: String = query_one(
        &s.project(),
        "SELECT k.memo FROM codings k JOIN coders d ON d.id = k.coder_id
         WHERE d.name = 'consensus' AND k.start = 4",
    );
    assert_eq!(memo, "she is quoting her mother");
    let memo: String = query_one(
        &s.project(),
        "SELECT m.text FROM memos m JOIN coders d ON d.id = m.coder_id
         WHERE d.name = 'consensus'",
    );
    assert_eq!(memo, "ask about the mother");

    // Each copy is one event naming who ran it and from which coder, with both versions.
    let events: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM events WHERE action = 'consensus.single'",
    );
    assert_eq!(events, 4);
    let event: String = query_one(
        &s.project(),
        &format!(
            "SELECT after FROM events WHERE action = 'consensus.single'
             AND json_extract(after, '$.response_id') = {}",
            response_of(&s, "S3")
        ),
    );
    let event: Value = serde_json::from_str(&event).unwrap();
    assert_eq!(event["decided_by"], "maria");
    assert_eq!(event["adopted_from"], "ben");
    assert_eq!(event["from"]["ana"], Value::Null, "ana did not code S3");
    assert_eq!(event["from"]["ben"].as_array().unwrap().len(), 2);
    assert_eq!(
        event["rows"].as_array().unwrap().len(),
        3,
        "two codings, one mark"
    );
    let event: String = query_one(
        &s.project(),
        &format!(
            "SELECT after FROM events WHERE action = 'consensus.single'
             AND json_extract(after, '$.response_id') = {}",
            response_of(&s, "S1")
        ),
    );
    let rows = serde_json::from_str::<Value>(&event).unwrap()["rows"].clone();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["table"] == "memos" && r["row"]["text"] == "ask about the mother"),
        "{rows}"
    );
    let adopted: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM consensus_decisions WHERE decision = 'adopted'
         AND decided_by = 'maria' AND event_id IS NOT NULL",
    );
    assert_eq!(adopted, 4, "A and B on S1, A and C on S3");

    // Running it again adds nothing.
    let before = dump(&s.project());
    let out = s.stdout(&["consensus", "--from", "ana,ben", "--agreed", "--single"]);
    assert!(
        out.contains(
            "single:    copied 0 answers rated by one coder only (0 codings); \
             4 already in the consensus, left as they were"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "remaining: 2 disagreements on 1 answer \
             (settle them with: lacrima review --coders ana,ben --coder NAME)\n"
        ),
        "{out}"
    );
    assert!(!out.contains("complete:"), "{out}");
    assert_eq!(dump(&s.project()), before);

    // Analysis and the coded dataset default to the consensus, single-coded answers included.
    let analysis = s.json(&["analyze", "--format", "json"]);
    assert_eq!(analysis["coder"], "consensus");
    assert_eq!(analysis["respondents_rated"], 5, "D1 and S1-S4");
    let csv = s.stdout(&["export", "dataset"]);
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let header = rdr.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let cells = |id: &str| -> String {
        let r = rows.iter().find(|r| &r[0] == id).unwrap();
        format!(
            "{}{}{}",
            &r[col("answer_a")],
            &r[col("answer_b")],
            &r[col("answer_c")]
        )
    };
    assert_eq!(cells("D1"), "100");
    assert_eq!(cells("S1"), "110");
    assert_eq!(cells("S2"), "000");
    assert_eq!(cells("S3"), "101");
    assert_eq!(cells("S4"), "000");
    assert_eq!(cells("D2"), "", "not settled yet");
    assert_eq!(cells("X1"), "", "nobody coded it");

    // Once the disagreement is settled, the consensus is complete.
    let mut store = Store::open(&s.project()).unwrap();
    let coder = |n: &str| coder_id(&s, n);
    let code = |n: &str| code_id(&s, n);
    let from = [
        (coder("ana"), "ana".to_string()),
        (coder("ben"), "ben".to_string()),
    ];
    let d2 = response_of(&s, "D2");
    for (c, choice) in [("B", Adopt::Coder(coder("ana"))), ("C", Adopt::None)] {
        store
            .adopt_into_consensus(
                (coder("consensus"), "consensus"),
                &from,
                d2,
                code(c),
                choice,
                Some("maria"),
            )
            .unwrap();
    }
    drop(store);
    let out = s.stdout(&["consensus", "--from", "ana,ben", "--agreed", "--single"]);
    assert!(
        out.contains("complete:  the consensus holds the final coding of all 6 answers"),
        "{out}"
    );
}

#[test]
fn single_coded_answers_the_consensus_decided_are_left_alone() {
    let s = split_project();
    let out = s.stdout(&["consensus", "--from", "ana,ben", "--agreed"]);
    assert!(
        out.contains(
            "remaining: 2 disagreements on 1 answer (settle them with: lacrima review --coders \
             ana,ben --coder NAME; copy the 4 answers rated by one coder only with: lacrima \
             consensus --from ana,ben --single)"
        ),
        "{out}"
    );
    // S3 is coded by hand as the consensus coder before anything is copied.
    s.add_codings("by_hand.csv", "S3,answer,consensus,B,5,9,mine\n");
    let out = s.stdout(&["consensus", "--from", "ana,ben", "--single"]);
    assert!(
        out.starts_with(
            "Consensus \"consensus\" from ana and ben: 2 answers rated by all of them were \
             compared, 4 rated by one of them only.\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "single:    copied 3 answers rated by one coder only: 2 from ana and 1 from ben \
             (2 codings); 1 already in the consensus, left as it was"
        ),
        "{out}"
    );
    assert!(!out.contains("settled:"), "{out}");
    assert_eq!(
        consensus_codings(&s),
        set(&[
            "D1 A",
            "S1 A 4-10",
            "S1 B",
            "S2 (no code)",
            "S3 B 5-9",
            "S4 (no code)"
        ]),
        "S3 as coded by hand, not ben's version"
    );
    let memo: String = query_one(
        &s.project(),
        "SELECT k.memo FROM codings k JOIN coders d ON d.id = k.coder_id
         WHERE d.name = 'consensus' AND k.start = 5",
    );
    assert_eq!(memo, "mine");
    let decisions: i64 = query_one(
        &s.project(),
        &format!(
            "SELECT count(*) FROM consensus_decisions WHERE response_id = {}",
            response_of(&s, "S3")
        ),
    );
    assert_eq!(decisions, 0);

    // Running both again changes nothing: S3 stays as it was.
    let before = dump(&s.project());
    let out = s.json(&[
        "consensus",
        "--from",
        "ana,ben",
        "--agreed",
        "--single",
        "--format",
        "json",
    ]);
    assert_eq!(out["codings_added"], 0);
    assert_eq!(out["single_copied"], 0);
    assert_eq!(out["single_kept"], 4);
    assert_eq!(dump(&s.project()), before);
}

/// Three coders, each answer rated by some of them: R1 by ana and ben, R2 by ben and cat, R3 by
/// all three, R4 by cat alone, R5 by all three (ben applied nothing).
fn three_coders() -> Scratch {
    let survey =
        answers_csv((1..=5).map(|r| (format!("R{r}"), "I cried when she told me about her son.")));
    one_question_project(
        &survey,
        "name\nA\nB\nC\n",
        Some(
            "R1,answer,ana,A,,,\nR1,answer,ben,A,0,6,\n\
         R2,answer,ben,B,,,\nR2,answer,cat,,,,\n\
         R3,answer,ana,A,,,\nR3,answer,ben,A,,,\nR3,answer,cat,A,,,\n\
         R4,answer,cat,C,,,\n\
         R5,answer,ana,C,,,\nR5,answer,ben,,,,\nR5,answer,cat,C,,,\n",
        ),
    )
}

#[test]
fn with_three_coders_each_answer_is_compared_among_those_who_rated_it() {
    // A common design: every answer double-coded by two of three coders. Each answer is
    // compared between the coders who rated it; none is left out for lack of the third.
    let s = three_coders();
    let out = s.json(&[
        "consensus",
        "--from",
        "ana,ben,cat",
        "--agreed",
        "--format",
        "json",
    ]);
    assert_eq!(out["answers_compared"], 4, "R1, R2, R3 and R5");
    assert_eq!(out["answers_single"], 1, "R4");
    assert_eq!(out["answers_not_compared"], 1, "R4");
    assert_eq!(
        out["disagreements"], 2,
        "B on R2 (ben, not cat), C on R5 (not ben)"
    );
    assert_eq!(
        consensus_codings(&s),
        set(&["R1 A", "R3 A"]),
        "ana and ben agree on A for R1 without cat: the whole answer, as ana coded it"
    );

    let text = s.stdout(&["consensus", "--from", "ana,ben,cat", "--agreed"]);
    assert!(
        text.starts_with(
            "Consensus \"consensus\" from ana, ben and cat: 4 answers rated by two or more of \
             them (each among those who rated it) were compared, 1 rated by one of them only."
        ),
        "{text}"
    );

    // The queues hold the two disagreements, each between the coders who rated the answer.
    let coder = |n: &str| coder_id(&s, n);
    let code = |n: &str| code_id(&s, n);
    let answer = |r: &str| response_of(&s, r);
    let from = [
        (coder("ana"), "ana".to_string()),
        (coder("ben"), "ben".to_string()),
        (coder("cat"), "cat".to_string()),
    ];
    let me = (coder("consensus"), "consensus");
    let mut store = Store::open(&s.project()).unwrap();
    let index = store.disagreement_index(me.0, &from, None).unwrap();
    let queued = |c: i64| -> Vec<i64> { index.queue(c).iter().map(|i| i.response_id).collect() };
    assert_eq!(queued(code("A")), Vec::<i64>::new());
    assert_eq!(queued(code("B")), vec![answer("R2")]);
    assert_eq!(queued(code("C")), vec![answer("R5")]);

    // ana has no version of R2 to adopt; "everyone's" is ben's and cat's together.
    let err = store
        .adopt_into_consensus(
            me,
            &from,
            answer("R2"),
            code("B"),
            Adopt::Coder(from[0].0),
            None,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("ana has not coded this answer"),
        "{err}"
    );
    store
        .adopt_into_consensus(
            me,
            &from,
            answer("R2"),
            code("B"),
            Adopt::All,
            Some("maria"),
        )
        .unwrap();
    drop(store);
    assert_eq!(consensus_codings(&s), set(&["R1 A", "R2 B", "R3 A"]));
    let compared: String = query_one(
        &s.project(),
        "SELECT after FROM events WHERE action = 'consensus.decide'",
    );
    assert!(
        compared.contains("\"ben\"")
            && compared.contains("\"cat\"")
            && !compared.contains("\"ana\""),
        "the decision records the versions compared: {compared}"
    );
}

#[test]
fn a_decision_that_removes_a_coding_records_it_as_it_was() {
    // The event log is the audit trail: a coding a decision takes away is kept there whole,
    // with its memo and when it was made.
    let (s, ids, from) = agreed_project();
    s.add_codings("by_hand.csv", "R6,answer,consensus,C,,,she says so twice\n");
    let created: String = query_one(
        &s.project(),
        "SELECT k.created_at FROM codings k JOIN coders d ON d.id = k.coder_id
         WHERE d.name = 'consensus' AND k.memo = 'she says so twice'",
    );
    let mut store = Store::open(&s.project()).unwrap();
    store
        .adopt_into_consensus(
            (ids.consensus, "consensus"),
            &from,
            ids.r[6],
            ids.c,
            Adopt::None,
            Some("maria"),
        )
        .unwrap();
    drop(store);
    let before: String = query_one(
        &s.project(),
        "SELECT before FROM events WHERE action = 'consensus.decide'",
    );
    let before: Value = serde_json::from_str(&before).unwrap();
    let rows = before["rows"].as_array().unwrap();
    let tables: Vec<&str> = rows.iter().map(|r| r["table"].as_str().unwrap()).collect();
    assert_eq!(tables, ["codings", "consensus_decisions"], "{before}");
    assert_eq!(rows[0]["row"]["memo"], "she says so twice");
    assert_eq!(rows[0]["row"]["created_at"], created.as_str());
    assert!(rows[1]["row"].is_null(), "no decision before this one");
    assert!(!consensus_codings(&s).contains("R6 C"));
}

#[test]
fn a_decision_can_be_undone_and_redone_with_its_codings() {
    let (s, ids, from) = agreed_project();
    let me = (ids.consensus, "consensus");
    let decisions = |s: &Scratch| -> i64 {
        query_one(&s.project(), "SELECT count(*) FROM consensus_decisions")
    };
    let before = dump(&s.project());
    let (codings_before, decided_before) = (consensus_codings(&s), decisions(&s));

    // C on R6: ben's version (he applied C).
    let mut store = Store::open(&s.project()).unwrap();
    store
        .adopt_into_consensus(
            me,
            &from,
            ids.r[6],
            ids.c,
            Adopt::Coder(ids.ben),
            Some("maria"),
        )
        .unwrap();
    assert!(consensus_codings(&s).contains("R6 C"));
    assert_eq!(decisions(&s), decided_before + 1);

    let undone = store
        .undo(ids.consensus)
        .unwrap()
        .expect("something to undo");
    assert_eq!(undone.response_id, Some(ids.r[6]));
    assert_eq!(undone.code_id, Some(ids.c));
    assert_eq!(consensus_codings(&s), codings_before);
    assert_eq!(
        decisions(&s),
        decided_before,
        "the decision is taken back too"
    );

    store
        .redo(ids.consensus)
        .unwrap()
        .expect("something to redo");
    assert!(consensus_codings(&s).contains("R6 C"));
    assert_eq!(decisions(&s), decided_before + 1);
    let decided: String = query_one(
        &s.project(),
        &format!(
            "SELECT decision || ' ' || adopted_from || ' ' || decided_by FROM consensus_decisions
             WHERE response_id = {} AND code_id = {}",
            ids.r[6], ids.c
        ),
    );
    assert_eq!(decided, "adopted ben maria");

    // Undo again: the redone decision goes once more.
    store.undo(ids.consensus).unwrap().expect("the redo");
    drop(store);
    let after = dump(&s.project());
    // Everything but the event log (which keeps the decision, its undo, redo and undo).
    let strip = |d: &str| -> String {
        let mut in_events = false;
        d.lines()
            .filter(|l| {
                if l.starts_with("== ") {
                    in_events = l.starts_with("== events");
                }
                !in_events
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&after),
        strip(&before),
        "the project is as before the decision"
    );
}

#[test]
fn a_decision_logged_by_an_older_lacrima_is_not_half_undone() {
    // Before decisions were part of their events, undo could only have taken back the codings.
    let (s, ids, from) = agreed_project();
    let mut store = Store::open(&s.project()).unwrap();
    store
        .adopt_into_consensus(
            (ids.consensus, "consensus"),
            &from,
            ids.r[6],
            ids.c,
            Adopt::Coder(ids.ben),
            None,
        )
        .unwrap();
    drop(store);
    // Rewrite the event as the older version logged it: codings and review mark only.
    let conn = rusqlite::Connection::open(s.project()).unwrap();
    for side in ["before", "after"] {
        conn.execute(
            &format!(
                "UPDATE events SET {side} = json_remove({side}, '$.rows[#-1]')
                 WHERE action = 'consensus.decide'"
            ),
            [],
        )
        .unwrap();
    }
    drop(conn);
    let before = dump(&s.project());
    let mut store = Store::open(&s.project()).unwrap();
    let err = store.undo(ids.consensus).unwrap_err().to_string();
    assert!(err.contains("decide again instead"), "{err}");
    drop(store);
    assert_eq!(dump(&s.project()), before, "nothing was changed");
}
