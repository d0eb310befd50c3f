//! Before coding starts, the lead plans the work: `lacrima assign` gives every coder the same
//! random share of the answers (the reliability sample) and splits the rest evenly. The plan is
//! reproducible from its seed, and answers someone has already coded stay with them.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The plan in force: response -> (coders, in_overlap).
fn plan(s: &Scratch) -> BTreeMap<i64, (BTreeSet<String>, bool)> {
    let conn = rusqlite::Connection::open(s.project()).unwrap();
    let mut st = conn
        .prepare(
            "SELECT a.response_id, d.name, a.in_overlap FROM assignments a
             JOIN coders d ON d.id = a.coder_id",
        )
        .unwrap();
    let mut out: BTreeMap<i64, (BTreeSet<String>, bool)> = BTreeMap::new();
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)? == 1,
            ))
        })
        .unwrap();
    for row in rows {
        let (id, coder, overlap) = row.unwrap();
        let e = out.entry(id).or_default();
        e.0.insert(coder);
        e.1 = overlap;
    }
    out
}

fn assign(s: &Scratch, extra: &[&str]) -> Value {
    let mut args = vec!["assign", "--format", "json"];
    args.extend_from_slice(extra);
    s.json(&args)
}

#[test]
fn the_same_seed_gives_the_same_plan_and_another_seed_another() {
    let s = demo();
    let offered: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM responses WHERE is_empty = 0",
    );
    let first = assign(
        &s,
        &["--coders", "ana,ben,cy", "--overlap", "20%", "--seed", "7"],
    );
    assert_eq!(first["answers"], offered);
    assert_eq!(
        first["overlap_answers"],
        (offered as f64 * 0.2).round() as i64
    );
    assert_eq!(first["changed"], true);
    let p1 = plan(&s);
    assert_eq!(p1.len() as i64, offered, "every offered answer is assigned");

    let again = assign(
        &s,
        &["--coders", "ana,ben,cy", "--overlap", "0.2", "--seed", "7"],
    );
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(plan(&s), p1);
    assert_eq!(again["progress"], first["progress"]);

    assign(
        &s,
        &["--coders", "ana,ben,cy", "--overlap", "20%", "--seed", "8"],
    );
    let p2 = plan(&s);
    let sample = |p: &BTreeMap<i64, (BTreeSet<String>, bool)>| -> BTreeSet<i64> {
        p.iter().filter(|(_, v)| v.1).map(|(k, _)| *k).collect()
    };
    assert_eq!(sample(&p1).len(), sample(&p2).len());
    assert_ne!(
        sample(&p1),
        sample(&p2),
        "another seed draws another sample"
    );

    // The same command on a copy of the project gives the same plan: it depends only on the
    // seed and the data.
    let t = demo();
    assign(
        &t,
        &["--coders", "ana,ben,cy", "--overlap", "20%", "--seed", "7"],
    );
    let ids = |p: BTreeMap<i64, (BTreeSet<String>, bool)>| p.into_iter().collect::<Vec<_>>();
    assert_eq!(ids(plan(&t)), ids(p1));
}

#[test]
fn the_sample_goes_to_everyone_and_the_rest_is_split_evenly() {
    let s = demo();
    let got = assign(
        &s,
        &["--coders", "ana,ben,cy", "--overlap", "20%", "--seed", "3"],
    );
    let p = plan(&s);
    let everyone: BTreeSet<String> = ["ana", "ben", "cy"].iter().map(|c| c.to_string()).collect();
    for (coders, overlap) in p.values() {
        if *overlap {
            assert_eq!(coders, &everyone);
        }
    }
    let progress = got["progress"].as_array().unwrap();
    let assigned: Vec<i64> = progress
        .iter()
        .map(|c| c["assigned"].as_i64().unwrap())
        .collect();
    assert!(assigned.iter().max().unwrap() - assigned.iter().min().unwrap() <= 1);
    for c in progress {
        assert_eq!(c["overlap"], got["overlap_answers"]);
        assert_eq!(
            c["to_do"].as_i64().unwrap(),
            c["assigned"].as_i64().unwrap() - c["done"].as_i64().unwrap()
        );
    }
    assert_eq!(progress[2]["coder"], "cy");
    assert_eq!(progress[2]["done"], 0, "cy is new");
}

#[test]
fn answers_already_coded_keep_their_coders() {
    let s = demo();
    let got = assign(
        &s,
        &["--coders", "ana,cy", "--overlap", "10%", "--seed", "5"],
    );
    let coded: Vec<i64> = query_all(
        &s.project(),
        "SELECT v.response_id FROM reviews v JOIN coders d ON d.id = v.coder_id
         WHERE d.name = 'ana'",
    );
    assert_eq!(coded.len(), 150);
    let p = plan(&s);
    for id in &coded {
        assert!(p[id].0.contains("ana"), "answer {id} stays with ana");
    }
    let ana = &got["progress"][0];
    assert_eq!(ana["coder"], "ana");
    assert_eq!(ana["done"], 150);
    // ben coded the same answers but is not in this plan: they are split like any other.
    assert!(p.values().all(|(c, _)| !c.contains("ben")));
}

#[test]
fn a_plan_for_one_question_leaves_the_others_alone() {
    let s = demo();
    assign(
        &s,
        &["--coders", "ana,ben", "--overlap", "20%", "--seed", "1"],
    );
    let before = plan(&s);
    let got = assign(
        &s,
        &[
            "--coders",
            "ana,ben,cy",
            "--overlap",
            "50%",
            "--seed",
            "2",
            "--question",
            "consequence_client",
        ],
    );
    assert_eq!(got["question"], "consequence_client");
    let offered: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM responses s JOIN questions q ON q.id = s.question_id
         WHERE s.is_empty = 0 AND q.name = 'consequence_client'",
    );
    assert_eq!(got["answers"], offered);
    let after = plan(&s);
    let in_client: BTreeSet<i64> = query_all(
        &s.project(),
        "SELECT s.id FROM responses s JOIN questions q ON q.id = s.question_id
         WHERE q.name = 'consequence_client'",
    )
    .into_iter()
    .collect();
    for (id, v) in &before {
        if !in_client.contains(id) {
            assert_eq!(
                &after[id], v,
                "answer {id} of another question kept its plan"
            );
        }
    }
    let plans: i64 = query_one(&s.project(), "SELECT count(*) FROM assignment_plans");
    assert_eq!(plans, 2, "both plans are in force, each for its answers");
}

#[test]
fn the_summary_is_a_table_or_csv() {
    let s = demo();
    let table = s.stdout(&[
        "assign",
        "--coders",
        "ana,ben,cy",
        "--overlap",
        "20%",
        "--seed",
        "7",
    ]);
    assert!(table.starts_with("Plan for "), "{table}");
    assert!(table.contains("coder  assigned  overlap  already done  to do"));
    assert!(table.lines().any(|l| l.starts_with("cy ")));
    let csv = s.stdout(&[
        "assign",
        "--coders",
        "ana,ben,cy",
        "--overlap",
        "20%",
        "--seed",
        "7",
        "--format",
        "csv",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "coder,assigned,overlap,done,to_do");
    assert_eq!(lines.len(), 4);
    assert!(lines[1].starts_with("ana,"));
}

#[test]
fn bad_plans_are_refused_and_change_nothing() {
    let s = demo();
    let before = dump(&s.project());
    let err = s.fails(&[
        "assign",
        "--coders",
        "ana",
        "--overlap",
        "20%",
        "--seed",
        "1",
    ]);
    assert!(err.contains("at least two coders"), "{err}");
    let err = s.fails(&[
        "assign",
        "--coders",
        "ana,ben",
        "--overlap",
        "20%",
        "--seed",
        "1",
        "--question",
        "nope",
    ]);
    assert!(
        err.contains("no question called \"nope\"") && err.contains("consequence_client"),
        "{err}"
    );
    assert_eq!(dump(&s.project()), before);
    // A share must be written as a share.
    let out = s
        .lacrima(&[
            "assign",
            "--coders",
            "ana,ben",
            "--overlap",
            "20",
            "--seed",
            "1",
        ])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("20%"));
    s.lacrima(&[
        "assign",
        "--coders",
        "ana,ben",
        "--overlap",
        "120%",
        "--seed",
        "1",
    ])
    .assert()
    .code(2);
    // The consensus coder settles others' work; it is not given work of its own.
    s.lacrima(&["consensus", "--from", "ana,ben", "--agreed"])
        .assert()
        .success();
    let before = dump(&s.project());
    let err = s.fails(&[
        "assign",
        "--coders",
        "ana,consensus",
        "--overlap",
        "20%",
        "--seed",
        "1",
    ]);
    assert!(err.contains("\"consensus\" is a consensus coder"), "{err}");
    assert_eq!(dump(&s.project()), before);
}
