//! `lacrima merge`: coders take copies of the lead's project to their laptops (`lacrima backup`),
//! code offline, and the lead merges the copies back. Coders code here through the library, as
//! the coding screen does (every action an event), and the merges run through the binary.

mod common;

use assert_cmd::Command;
use common::*;
use lacrima::store::{CodeFields, NewCode, Store, Toggled};
use std::path::{Path, PathBuf};

/// The lead's project (the small survey and codebook) and a copy of it for each name, made the
/// way the README says: `lacrima backup`.
fn project_with_copies(names: &[&str]) -> (Scratch, Vec<PathBuf>) {
    let s = small_project();
    let copies = names
        .iter()
        .map(|n| {
            let p = s.path(&format!("{n}.db"));
            s.lacrima(&["backup", p.to_str().unwrap()])
                .assert()
                .success();
            p
        })
        .collect();
    (s, copies)
}

/// `lacrima -p DB ARGS...` in the scratch folder.
fn lacrima_on(s: &Scratch, db: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("lacrima").unwrap();
    cmd.current_dir(s.dir.path())
        .env_remove("LACRIMA_PROJECT")
        .env_remove("LACRIMA_CODER")
        .arg("-p")
        .arg(db)
        .args(args);
    cmd
}

/// Merges `from` into `into` and returns what it printed.
fn merge(s: &Scratch, into: &Path, from: &Path, extra: &[&str]) -> String {
    let mut args = vec!["merge", from.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = lacrima_on(s, into, &args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn merge_json(s: &Scratch, into: &Path, from: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&merge(s, into, from, &args)).unwrap()
}

/// Whether a merge's report lists conflicts.
fn has_conflicts(out: &str) -> bool {
    out.lines()
        .any(|l| l.contains(" conflict, ") || l.contains(" conflicts, "))
}

fn answer_id(db: &Path, respondent: &str, question: &str) -> i64 {
    query_one(
        db,
        &format!(
            "SELECT s.id FROM responses s JOIN respondents r ON r.id = s.respondent_id
             JOIN questions q ON q.id = s.question_id
             WHERE r.ext_id = '{respondent}' AND q.name = '{question}'"
        ),
    )
}

fn code_id(db: &Path, name: &str) -> i64 {
    query_one(db, &format!("SELECT id FROM codes WHERE name = '{name}'"))
}

/// A coder at the coding screen of one copy.
struct At {
    db: PathBuf,
    store: Store,
    coder: i64,
}

fn at(db: &Path, coder: &str) -> At {
    let store = Store::open(db).unwrap();
    let coder = store.coder_id(coder).unwrap();
    At {
        db: db.to_path_buf(),
        store,
        coder,
    }
}

impl At {
    fn code(&mut self, respondent: &str, question: &str, code: &str) -> &mut Self {
        let (a, c) = (
            answer_id(&self.db, respondent, question),
            code_id(&self.db, code),
        );
        let t = self.store.toggle_coding(self.coder, a, c, None).unwrap();
        assert_eq!(t, Toggled::Applied, "{code} was already on the answer");
        self
    }

    fn uncode(&mut self, respondent: &str, question: &str, code: &str) -> &mut Self {
        let (a, c) = (
            answer_id(&self.db, respondent, question),
            code_id(&self.db, code),
        );
        let t = self.store.toggle_coding(self.coder, a, c, None).unwrap();
        assert_eq!(t, Toggled::Removed);
        self
    }

    fn segment(
        &mut self,
        respondent: &str,
        question: &str,
        code: &str,
        s: usize,
        e: usize,
    ) -> &mut Self {
        let (a, c) = (
            answer_id(&self.db, respondent, question),
            code_id(&self.db, code),
        );
        self.store
            .toggle_coding(self.coder, a, c, Some((s, e)))
            .unwrap();
        self
    }

    fn memo(&mut self, respondent: &str, question: &str, text: &str) -> &mut Self {
        let a = answer_id(&self.db, respondent, question);
        self.store.set_answer_memo(self.coder, a, text).unwrap();
        self
    }

    fn no_code(&mut self, respondent: &str, question: &str) -> &mut Self {
        let a = answer_id(&self.db, respondent, question);
        self.store.mark_no_code(self.coder, a).unwrap();
        self
    }

    fn fields(&self, code: &str) -> CodeFields {
        let c = self
            .store
            .codes()
            .unwrap()
            .into_iter()
            .find(|c| c.name == code)
            .unwrap();
        CodeFields {
            name: c.name,
            description: c.description,
            inclusion: c.inclusion,
            exclusion: c.exclusion,
            example: c.example,
            color: c.color,
            shortcut: c.shortcut,
        }
    }

    fn edit(
        &mut self,
        code: &str,
        f: impl FnOnce(&mut CodeFields),
        memo: Option<&str>,
    ) -> &mut Self {
        let mut fields = self.fields(code);
        f(&mut fields);
        let id = code_id(&self.db, code);
        self.store.edit_code(self.coder, id, &fields, memo).unwrap();
        self
    }

    fn rename(&mut self, code: &str, to: &str) -> &mut Self {
        self.edit(code, |f| f.name = to.to_string(), None)
    }

    fn add_code(&mut self, name: &str, parent: Option<&str>) -> &mut Self {
        let parent_id = parent.map(|p| code_id(&self.db, p));
        self.store
            .add_code(
                self.coder,
                &NewCode {
                    name: name.into(),
                    parent_id,
                    description: format!("{name}, as the coder saw it"),
                    ..NewCode::default()
                },
            )
            .unwrap();
        self
    }
}

/// What a merge must get right, named the way both copies agree on (respondent IDs, question and
/// coder names, code GUIDs) rather than by row ids: every coding, review mark, memo and
/// consensus decision, and the codebook with its tree and order.
fn state(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut out = String::new();
    for (what, sql) in [
        (
            "codings",
            "SELECT r.ext_id, q.name, d.name, c.guid, c.name, k.start, k.\"end\", k.memo
             FROM codings k JOIN responses s ON s.id = k.response_id
             JOIN respondents r ON r.id = s.respondent_id JOIN questions q ON q.id = s.question_id
             JOIN coders d ON d.id = k.coder_id JOIN codes c ON c.id = k.code_id ORDER BY 1, 2, 3, 4, 6",
        ),
        (
            "reviews",
            "SELECT r.ext_id, q.name, d.name FROM reviews v JOIN responses s ON s.id = v.response_id
             JOIN respondents r ON r.id = s.respondent_id JOIN questions q ON q.id = s.question_id
             JOIN coders d ON d.id = v.coder_id ORDER BY 1, 2, 3",
        ),
        (
            "memos",
            "SELECT d.name, r.ext_id, q.name, c.guid, m.text FROM memos m
             JOIN coders d ON d.id = m.coder_id
             LEFT JOIN responses s ON s.id = m.response_id
             LEFT JOIN respondents r ON r.id = s.respondent_id
             LEFT JOIN questions q ON q.id = s.question_id
             LEFT JOIN codes c ON c.id = m.code_id ORDER BY 1, 2, 3, 4",
        ),
        (
            "decisions",
            "SELECT d.name, r.ext_id, q.name, c.guid, x.decision, x.adopted_from, x.from_coders,
                    x.decided_by
             FROM consensus_decisions x JOIN coders d ON d.id = x.consensus_id
             JOIN responses s ON s.id = x.response_id
             JOIN respondents r ON r.id = s.respondent_id JOIN questions q ON q.id = s.question_id
             JOIN codes c ON c.id = x.code_id ORDER BY 1, 2, 3, 4",
        ),
        (
            "codes",
            "SELECT c.guid, c.name, p.guid, c.description, c.inclusion, c.exclusion, c.example,
                    c.color, c.shortcut, c.codable, c.position
             FROM codes c LEFT JOIN codes p ON p.id = c.parent_id ORDER BY 1",
        ),
    ] {
        out.push_str(&format!("== {what}\n"));
        let mut st = conn.prepare(sql).unwrap();
        let n = st.column_count();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect();
            out.push_str(&cells.join("|"));
            out.push('\n');
        }
    }
    out
}

fn coders(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn
        .prepare("SELECT name FROM coders ORDER BY name")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn codings_of(db: &Path, coder: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn
        .prepare(
            "SELECT r.ext_id || ' ' || q.name || ' ' || c.name || ifnull(' ' || k.start || '..' || k.\"end\", '')
             FROM codings k JOIN responses s ON s.id = k.response_id
             JOIN respondents r ON r.id = s.respondent_id JOIN questions q ON q.id = s.question_id
             JOIN coders d ON d.id = k.coder_id JOIN codes c ON c.id = k.code_id
             WHERE d.name = ?1 ORDER BY 1",
        )
        .unwrap();
    st.query_map([coder], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Work comes back
// ---------------------------------------------------------------------------------------------

#[test]
fn bens_work_in_his_copy_comes_back_with_the_merge() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    at(&lead, "ana").code("R1", "answer_a", "Felt cared for");
    at(ben_db, "ben")
        .code("R1", "answer_a", "Deepened")
        .segment("R3", "answer_a", "Felt cared for", 0, 6)
        .memo("R3", "answer_a", "the client cried first")
        .no_code("R2", "answer_b");

    let out = merge(&s, &lead, ben_db, &[]);
    assert!(
        out.starts_with(&format!("Merged {} into", ben_db.display())),
        "{out}"
    );
    assert!(
        out.contains("since they parted, 1 event here and 4 events in"),
        "{out}"
    );
    let ben_line = out.lines().find(|l| l.starts_with("ben")).unwrap();
    let cells: Vec<&str> = ben_line.split("  ").filter(|c| !c.is_empty()).collect();
    assert_eq!(
        cells.iter().map(|c| c.trim()).collect::<Vec<_>>(),
        [
            "ben (new here)",
            "3",
            "0",
            "0",
            "+2 -0",
            "+3 -0",
            "+1 ~0 -0"
        ],
        "{out}"
    );
    assert!(
        out.contains("`lacrima merge --undo` takes all of it back"),
        "{out}"
    );
    assert_eq!(
        codings_of(&lead, "ben"),
        ["R1 answer_a Deepened", "R3 answer_a Felt cared for 0..6"]
    );
    assert_eq!(codings_of(&lead, "ana"), ["R1 answer_a Felt cared for"]);
    // Everything ben did is now in the lead's project, as in his copy.
    let both = |db: &Path| {
        state(db)
            .lines()
            .filter(|l| l.contains("\"ben\""))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(both(&lead), both(ben_db));
    // One event, which names the copy.
    let action: String = query_one(&lead, "SELECT action FROM events ORDER BY id DESC LIMIT 1");
    assert_eq!(action, "merge");
}

#[test]
fn a_dry_run_reports_the_same_and_changes_nothing() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    at(ben_db, "ben")
        .code("R1", "answer_a", "Deepened")
        .rename("Deepened", "Closer");
    let before = dump(&lead);
    let theirs_before = dump(ben_db);
    let dry = merge(&s, &lead, ben_db, &["--dry-run"]);
    assert!(dry.starts_with("Dry run: what merging"), "{dry}");
    assert!(dry.contains("Codebook: changed Closer (name)."), "{dry}");
    assert!(
        dry.contains("Run it again without --dry-run to merge."),
        "{dry}"
    );
    assert_eq!(dump(&lead), before, "a dry run changed the project");
    let json = merge_json(&s, &lead, ben_db, &["--dry-run"]);
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["event_id"], serde_json::Value::Null);
    assert_eq!(dump(&lead), before);

    let real = merge(&s, &lead, ben_db, &[]);
    // The same report, told in the past tense.
    let body = |t: &str| t.lines().skip(1).take(6).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&dry), body(&real));
    assert_eq!(dump(ben_db), theirs_before, "the copy must never change");
}

#[test]
fn merging_twice_changes_nothing() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    at(&lead, "ana").code("R1", "answer_b", "Deepened");
    at(ben_db, "ben")
        .code("R1", "answer_a", "Deepened")
        .add_code("Burden", Some("Client"));
    merge(&s, &lead, ben_db, &[]);
    let once = dump(&lead);
    let again = merge(&s, &lead, ben_db, &[]);
    assert!(again.contains("They were merged before"), "{again}");
    assert!(again.contains("Nothing to merge"), "{again}");
    assert_eq!(dump(&lead), once, "a second merge changed the project");
}

#[test]
fn merging_either_way_gives_the_same_codings() {
    let (s, copies) = project_with_copies(&["a", "b"]);
    at(&copies[0], "ana")
        .code("R1", "answer_a", "Felt cared for")
        .memo("R1", "answer_a", "warm")
        .rename("Nothing noticeable", "Nothing seen");
    at(&copies[1], "ben")
        .code("R3", "answer_b", "Deepened")
        .no_code("R2", "answer_a")
        .add_code("Burden", None);
    let a_into_b = s.path("ab.db");
    let b_into_a = s.path("ba.db");
    std::fs::copy(&copies[1], &a_into_b).unwrap();
    std::fs::copy(&copies[0], &b_into_a).unwrap();
    merge(&s, &a_into_b, &copies[0], &[]);
    merge(&s, &b_into_a, &copies[1], &[]);
    assert_eq!(state(&a_into_b), state(&b_into_a));
    assert!(state(&a_into_b).contains("Nothing seen"));
    assert!(state(&a_into_b).contains("Burden"));
}

/// ana codes in copy A, ben in B (and changes the codebook), cleo in C. Whichever copy the
/// lead starts from and in whichever order the other two come in, the project ends the same;
/// so it does when one copy was merged into another first.
#[test]
fn three_coders_copies_merge_to_the_same_project_in_every_order() {
    let (s, copies) = project_with_copies(&["a", "b", "c"]);
    at(&copies[0], "ana")
        .code("R1", "answer_a", "Felt cared for")
        .segment("R3", "answer_a", "Deepened", 0, 6)
        .memo("R1", "answer_a", "warm")
        .no_code("R2", "answer_b");
    at(&copies[1], "ben")
        .code("R1", "answer_a", "Deepened")
        .rename("Deepened", "Rapport deepened")
        .add_code("Burden", Some("Client"))
        .code("R3", "answer_b", "Burden")
        .edit("Client", |_| {}, Some("groups the client's side"));
    at(&copies[2], "cleo")
        .code("R1", "answer_b", "Nothing noticeable")
        .code("R3", "answer_a", "Felt cared for")
        .memo("R3", "answer_a", "careful");

    let fresh = |tag: &str| -> Vec<PathBuf> {
        ["a", "b", "c"]
            .iter()
            .map(|n| {
                let p = s.path(&format!("{tag}-{n}.db"));
                std::fs::copy(s.path(&format!("{n}.db")), &p).unwrap();
                p
            })
            .collect()
    };
    let mut results = Vec::new();
    for (target, first, second) in [
        (0, 1, 2),
        (0, 2, 1),
        (1, 0, 2),
        (1, 2, 0),
        (2, 0, 1),
        (2, 1, 0),
    ] {
        let tag = format!("{target}{first}{second}");
        let f = fresh(&tag);
        merge(&s, &f[target], &f[first], &[]);
        merge(&s, &f[target], &f[second], &[]);
        results.push((tag, state(&f[target])));
    }
    // And the copies folded into each other first: C into B, then B into A.
    let f = fresh("chain");
    merge(&s, &f[1], &f[2], &[]);
    merge(&s, &f[0], &f[1], &[]);
    results.push(("chain".into(), state(&f[0])));

    let (first_tag, first) = &results[0];
    for (tag, st) in &results[1..] {
        assert_eq!(st, first, "order {tag} differs from order {first_tag}");
    }
    for needle in [
        "\"ana\"",
        "\"ben\"",
        "\"cleo\"",
        "Rapport deepened",
        "Burden",
        "groups the client's side",
        "careful",
    ] {
        assert!(first.contains(needle), "{needle} is missing:\n{first}");
    }
}

#[test]
fn a_coder_who_merges_every_evening_and_codes_on_in_the_same_copy_meets_no_conflict() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    at(ben_db, "ben").code("R1", "answer_a", "Deepened");
    merge(&s, &lead, ben_db, &[]);
    // Next day ben changes his mind on the answer he merged yesterday.
    at(ben_db, "ben")
        .uncode("R1", "answer_a", "Deepened")
        .code("R1", "answer_a", "Felt cared for");
    at(&lead, "ana").code("R2", "answer_b", "Nothing noticeable");
    let out = merge(&s, &lead, ben_db, &[]);
    assert!(!has_conflicts(&out), "{out}");
    assert_eq!(codings_of(&lead, "ben"), ["R1 answer_a Felt cared for"]);
    // The lead sends the merged project back (merged into ben's copy), ben codes on, and the
    // lead merges again: still no conflict, and everyone's work is in both.
    merge(&s, ben_db, &lead, &[]);
    assert_eq!(
        codings_of(ben_db, "ana"),
        ["R2 answer_b Nothing noticeable"]
    );
    at(ben_db, "ben").code("R3", "answer_b", "Deepened");
    at(&lead, "ana").code("R3", "answer_b", "Deepened");
    let out = merge(&s, &lead, ben_db, &[]);
    assert!(!has_conflicts(&out), "{out}");
    assert_eq!(
        codings_of(&lead, "ben"),
        ["R1 answer_a Felt cared for", "R3 answer_b Deepened"]
    );
    assert_eq!(
        codings_of(&lead, "ana"),
        ["R2 answer_b Nothing noticeable", "R3 answer_b Deepened"]
    );
}

// ---------------------------------------------------------------------------------------------
// Conflicts
// ---------------------------------------------------------------------------------------------

/// ben coded R1's first answer in the lead's project and again, differently, in his copy.
fn ben_coded_twice() -> (Scratch, PathBuf, PathBuf) {
    let (s, copies) = project_with_copies(&["ben"]);
    let lead = s.project();
    at(&lead, "ben")
        .code("R1", "answer_a", "Deepened")
        .memo("R1", "answer_a", "close");
    at(&copies[0], "ben").code("R1", "answer_a", "Felt cared for");
    (s, lead, copies[0].clone())
}

#[test]
fn the_same_coders_answer_changed_in_both_copies_is_a_conflict_left_as_it_is() {
    let (s, lead, ben_db) = ben_coded_twice();
    at(&ben_db, "cleo").code("R2", "answer_b", "Deepened");
    let before = codings_of(&lead, "ben");
    let out = merge(&s, &lead, &ben_db, &[]);
    assert!(
        out.contains(
            "1 conflict, left as they are (settle them with --prefer mine|theirs, or edit one \
             side and merge again):\n  R1 answer_a, ben: changed in both copies\n    here:   \
             Deepened; memo \"close\"\n    theirs: Felt cared for\n"
        ),
        "{out}"
    );
    assert_eq!(codings_of(&lead, "ben"), before);
    assert_eq!(codings_of(&lead, "cleo"), ["R2 answer_b Deepened"]);
    // The merge logged cleo's work; the conflict it left is reported again next time.
    let again = merge(&s, &lead, &ben_db, &[]);
    assert!(
        again.contains("R1 answer_a, ben: changed in both copies (left open by an earlier merge)"),
        "{again}"
    );
    let json = merge_json(&s, &lead, &ben_db, &[]);
    assert_eq!(json["conflicts"][0]["kind"], "answer");
    assert_eq!(json["conflicts"][0]["respondent"], "R1");
    assert_eq!(json["conflicts"][0]["settled"], serde_json::Value::Null);
}

#[test]
fn prefer_settles_conflicts_one_way_or_the_other() {
    let (s, lead, ben_db) = ben_coded_twice();
    let before = state(&lead);
    let out = merge(&s, &lead, &ben_db, &["--prefer", "mine"]);
    assert!(
        out.contains("settled: this project's version kept"),
        "{out}"
    );
    assert_eq!(state(&lead), before);

    let out = merge(&s, &lead, &ben_db, &["--prefer", "theirs"]);
    assert!(out.contains("1 conflict, settled by --prefer"), "{out}");
    assert!(out.contains("settled: the copy's version taken"), "{out}");
    assert_eq!(codings_of(&lead, "ben"), ["R1 answer_a Felt cared for"]);
    // Ben's memo went with his version of the answer.
    let memos: i64 = query_one(&lead, "SELECT count(*) FROM memos");
    assert_eq!(memos, 0);
}

#[test]
fn an_answer_whose_text_differs_between_the_copies_is_never_merged() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    at(ben_db, "ben").segment("R1", "answer_a", "Felt cared for", 4, 8);
    rusqlite::Connection::open(ben_db)
        .unwrap()
        .execute(
            "UPDATE responses SET text = 'She felt cared for.' WHERE id = ?1",
            [answer_id(ben_db, "R1", "answer_a")],
        )
        .unwrap();
    for prefer in [None, Some("theirs")] {
        let extra: Vec<&str> = prefer.map_or(vec![], |p| vec!["--prefer", p]);
        let json = merge_json(&s, &lead, ben_db, &extra);
        assert_eq!(json["conflicts"][0]["kind"], "answer_text", "{json}");
        assert_eq!(json["conflicts"][0]["settled"], serde_json::Value::Null);
        assert!(codings_of(&lead, "ben").is_empty());
    }
}

#[test]
fn a_code_renamed_differently_in_both_copies_is_a_conflict() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    at(&lead, "ana").rename("Deepened", "Closer");
    at(ben_db, "ben").rename("Deepened", "Rapport").edit(
        "Client",
        |f| f.description = "What the client took from it".into(),
        None,
    );
    let out = merge(&s, &lead, ben_db, &[]);
    assert!(
        out.contains(
            "  the code \"Closer\", name: changed in both copies\n    here:   \"Closer\"\n    \
             theirs: \"Rapport\"\n"
        ),
        "{out}"
    );
    // The description changed in the copy only: taken.
    assert!(
        out.contains("Codebook: changed Client (description)."),
        "{out}"
    );
    let desc: String = query_one(&lead, "SELECT description FROM codes WHERE name = 'Client'");
    assert_eq!(desc, "What the client took from it");
    let out = merge(&s, &lead, ben_db, &["--prefer", "theirs"]);
    assert!(out.contains("changed Rapport (name)"), "{out}");
}

#[test]
fn a_new_code_whose_name_another_code_has_here_is_a_conflict_and_its_codings_wait() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    at(&lead, "ana").add_code("Burden", None);
    at(ben_db, "ben")
        .add_code("Burden", Some("Client"))
        .code("R1", "answer_a", "Burden")
        .add_code("Shame", None)
        .code("R2", "answer_b", "Shame");
    let json = merge_json(&s, &lead, ben_db, &[]);
    let kinds: Vec<&str> = json["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["code_name", "code_missing"], "{json}");
    assert_eq!(json["conflicts"][1]["respondent"], "R1");
    assert_eq!(json["codes_added"], serde_json::json!(["Shame"]));
    assert_eq!(codings_of(&lead, "ben"), ["R2 answer_b Shame"]);
    let burdens: i64 = query_one(&lead, "SELECT count(*) FROM codes WHERE name = 'Burden'");
    assert_eq!(burdens, 1);
}

#[test]
fn codebook_changes_in_the_copy_come_with_their_parents_and_deletions() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    {
        let mut ben = at(ben_db, "ben");
        ben.add_code("Reactions", None)
            .add_code("Shame", Some("Reactions"))
            .code("R1", "answer_a", "Shame");
        let id = code_id(ben_db, "Nothing noticeable");
        ben.store.delete_code(ben.coder, id).unwrap();
    }
    let out = merge(&s, &lead, ben_db, &[]);
    assert!(
        out.contains("Codebook: added Reactions, Shame; deleted Nothing noticeable."),
        "{out}"
    );
    let parent: String = query_one(
        &lead,
        "SELECT p.name FROM codes c JOIN codes p ON p.id = c.parent_id WHERE c.name = 'Shame'",
    );
    assert_eq!(parent, "Reactions");
    assert_eq!(
        state(&lead).lines().filter(|l| l.contains("Shame")).count(),
        2
    );
    let codes = |db: &Path| state(db).split("== codes\n").nth(1).unwrap().to_string();
    assert_eq!(codes(&lead), codes(ben_db));
}

// ---------------------------------------------------------------------------------------------
// Taking a merge back, and what is refused
// ---------------------------------------------------------------------------------------------

#[test]
fn undoing_a_merge_restores_the_project() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    at(&lead, "ana").code("R1", "answer_a", "Felt cared for");
    at(ben_db, "ben")
        .code("R1", "answer_a", "Deepened")
        .memo("R1", "answer_b", "quiet")
        .rename("Deepened", "Closer")
        .add_code("Burden", Some("Client"))
        .code("R3", "answer_b", "Burden");
    let before = state(&lead);
    let coders_before = coders(&lead);
    merge(&s, &lead, ben_db, &[]);
    assert_ne!(state(&lead), before);
    let out = lacrima_on(&s, &lead, &["merge", "--undo"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.starts_with("Undone: merge ben.db: 3 answers taken"),
        "{out}"
    );
    assert_eq!(state(&lead), before);
    assert_eq!(
        coders(&lead),
        coders_before,
        "the coder the merge added stays"
    );
    // Nothing left to take back; merging again brings it all in again.
    let err = lacrima_on(&s, &lead, &["merge", "--undo"])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(err)
            .unwrap()
            .contains("there is no merge to take back")
    );
    merge(&s, &lead, ben_db, &[]);
    assert_eq!(codings_of(&lead, "ben").len(), 2);
}

#[test]
fn a_merge_is_not_undone_over_work_done_since() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    at(ben_db, "ben").code("R1", "answer_a", "Deepened");
    merge(&s, &lead, ben_db, &[]);
    at(&lead, "ben").uncode("R1", "answer_a", "Deepened");
    let before = dump(&lead);
    let err = lacrima_on(&s, &lead, &["merge", "--undo"])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("it was changed since"), "{err}");
    assert_eq!(dump(&lead), before);
}

#[test]
fn bad_copies_are_refused_and_nothing_changes() {
    let s = small_project();
    let lead = s.project();
    s.write("notes.csv", "respondent,question\nR1,answer_a\n");
    s.write("empty.db", "");
    {
        let c = rusqlite::Connection::open(s.path("other-app.db")).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    s.lacrima(&["backup", "newer.db"]).assert().success();
    rusqlite::Connection::open(s.path("newer.db"))
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    std::fs::create_dir(s.path("sub")).unwrap();
    let before = dump(&lead);
    for (other, expected) in [
        ("missing.db", "missing.db: no such file"),
        (
            "notes.csv",
            "is not a lacrima project: it is not an SQLite database",
        ),
        ("empty.db", "is not a lacrima project: the file is empty"),
        (
            "other-app.db",
            "is not a lacrima project: it is an SQLite database of another program",
        ),
        ("newer.db", "was written by a newer lacrima (schema 99)"),
        ("project.db", "is this project itself"),
        ("sub/../project.db", "is this project itself"),
        ("sub", "is a folder"),
        ("project.db-wal", "is the write-ahead log of the project"),
    ] {
        let err = s.fails(&["merge", other]);
        assert!(err.contains(expected), "{other}: {err}");
    }
    assert_eq!(dump(&lead), before);
    assert_eq!(
        std::fs::read_to_string(s.path("notes.csv")).unwrap(),
        "respondent,question\nR1,answer_a\n"
    );
    assert_eq!(std::fs::metadata(s.path("empty.db")).unwrap().len(), 0);
}

// ---------------------------------------------------------------------------------------------
// Choosing what to merge, and what cannot come
// ---------------------------------------------------------------------------------------------

#[test]
fn coders_picks_whose_work_comes() {
    let (s, copies) = project_with_copies(&["laptop"]);
    let (lead, laptop) = (s.project(), &copies[0]);
    at(laptop, "ben").code("R1", "answer_a", "Deepened");
    at(laptop, "cleo").code("R1", "answer_b", "Deepened");
    let err = s.fails(&["merge", laptop.to_str().unwrap(), "--coders", "dan"]);
    assert!(err.contains("there is no coder \"dan\""), "{err}");
    merge(&s, &lead, laptop, &["--coders", "cleo"]);
    assert!(codings_of(&lead, "ben").is_empty());
    assert_eq!(codings_of(&lead, "cleo"), ["R1 answer_b Deepened"]);
    // Ben's work comes with a later merge of everyone.
    merge(&s, &lead, laptop, &[]);
    assert_eq!(codings_of(&lead, "ben"), ["R1 answer_a Deepened"]);
}

#[test]
fn respondents_only_in_the_copy_are_reported_not_invented() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    s.write(
        "wave2.csv",
        "resp_id,age,sex,orientation,answer_a,answer_b\nR4,40,male,CBT,Hard to say,Closer\n",
    );
    lacrima_on(
        &s,
        ben_db,
        &["import", "wave2.csv", "--open", "answer_a,answer_b"],
    )
    .assert()
    .success();
    at(ben_db, "ben")
        .code("R4", "answer_a", "Deepened")
        .code("R1", "answer_a", "Deepened");
    let out = merge(&s, &lead, ben_db, &[]);
    assert!(
        out.contains(&format!(
            "Not merged: 1 respondent of {} is not in this project (import that wave first); 1 \
             answer coded there was left out.",
            ben_db.display()
        )),
        "{out}"
    );
    assert_eq!(codings_of(&lead, "ben"), ["R1 answer_a Deepened"]);
    let respondents: i64 = query_one(&lead, "SELECT count(*) FROM respondents");
    assert_eq!(respondents, 3);
}

#[test]
fn projects_that_never_were_one_merge_what_only_one_has_and_conflict_on_the_rest() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    at(&lead, "ana").code("R1", "answer_a", "Felt cared for");
    at(ben_db, "ana").code("R1", "answer_a", "Deepened");
    at(ben_db, "ben").code("R2", "answer_b", "Deepened");
    // A project built separately: no history in common with the lead's.
    rusqlite::Connection::open(ben_db)
        .unwrap()
        .execute_batch("DELETE FROM events")
        .unwrap();
    let out = merge(&s, &lead, ben_db, &[]);
    assert!(out.contains("share no history"), "{out}");
    assert!(
        out.contains("R1 answer_a, ana: changed in both copies"),
        "{out}"
    );
    assert_eq!(codings_of(&lead, "ben"), ["R2 answer_b Deepened"]);
    assert_eq!(codings_of(&lead, "ana"), ["R1 answer_a Felt cared for"]);
}

#[test]
fn imported_codings_in_a_copy_count_as_its_own_changes() {
    let (s, copies) = project_with_copies(&["ben"]);
    let (lead, ben_db) = (s.project(), &copies[0]);
    s.write(
        "ben.csv",
        "respondent,question,coder,code,start,end,memo\nR1,answer_a,ben,Deepened,,,\nR2,answer_b,ben,,,,\n",
    );
    lacrima_on(&s, ben_db, &["codings", "import", "ben.csv"])
        .assert()
        .success();
    s.write(
        "ana.csv",
        "respondent,question,coder,code,start,end,memo\nR1,answer_a,ana,Felt cared for,,,\n",
    );
    s.lacrima(&["codings", "import", "ana.csv"])
        .assert()
        .success();
    let out = merge(&s, &lead, ben_db, &[]);
    assert!(!has_conflicts(&out), "{out}");
    assert_eq!(codings_of(&lead, "ben"), ["R1 answer_a Deepened"]);
    let reviews: i64 = query_one(
        &lead,
        "SELECT count(*) FROM reviews v JOIN coders d ON d.id = v.coder_id WHERE d.name = 'ben'",
    );
    assert_eq!(reviews, 2);
}

#[test]
fn undo_and_redo_on_the_command_line() {
    let s = small_project();
    let lead = s.project();
    at(&lead, "ana")
        .code("R1", "answer_a", "Deepened")
        .code("R3", "answer_b", "Deepened");
    let out = s.stdout(&["undo", "--coder", "ana"]);
    assert_eq!(out, "ana: undone: apply \"Deepened\" to R3 answer_b\n");
    assert_eq!(codings_of(&lead, "ana"), ["R1 answer_a Deepened"]);
    let out = s.stdout(&["redo", "--coder", "ana"]);
    assert!(out.starts_with("ana: redone: apply"), "{out}");
    assert_eq!(codings_of(&lead, "ana").len(), 2);
    assert_eq!(
        s.stdout(&["redo", "--coder", "ana"]),
        "ana: nothing to redo\n"
    );
    let err = s.fails(&["undo", "--coder", "zoe"]);
    assert!(err.contains("no coder called \"zoe\""), "{err}");
}

#[test]
fn a_consensus_settled_in_a_copy_comes_with_its_decisions() {
    let (s, copies) = project_with_copies(&[]);
    let lead = s.project();
    at(&lead, "ana")
        .code("R1", "answer_a", "Felt cared for")
        .code("R3", "answer_b", "Deepened");
    at(&lead, "ben")
        .code("R1", "answer_a", "Felt cared for")
        .code("R3", "answer_b", "Felt cared for");
    assert!(copies.is_empty());
    let copy = s.path("review.db");
    s.lacrima(&["backup", copy.to_str().unwrap()])
        .assert()
        .success();
    lacrima_on(&s, &copy, &["consensus", "--from", "ana,ben", "--agreed"])
        .assert()
        .success();
    let out = merge(&s, &lead, &copy, &[]);
    assert!(out.contains("consensus (new here)"), "{out}");
    let is_consensus: i64 = query_one(
        &lead,
        "SELECT is_consensus FROM coders WHERE name = 'consensus'",
    );
    assert_eq!(is_consensus, 1);
    let section = |db: &Path, what: &str| {
        state(db)
            .split(&format!("== {what}\n"))
            .nth(1)
            .unwrap()
            .split("== ")
            .next()
            .unwrap()
            .to_string()
    };
    assert!(!section(&lead, "decisions").is_empty());
    assert_eq!(section(&lead, "decisions"), section(&copy, "decisions"));
    assert_eq!(section(&lead, "codings"), section(&copy, "codings"));
}

#[test]
fn a_coding_removed_or_a_memo_cleared_in_the_copy_goes_here_too() {
    let s = small_project();
    let lead = s.project();
    at(&lead, "ana")
        .code("R1", "answer_a", "Felt cared for")
        .code("R1", "answer_a", "Deepened")
        .memo("R1", "answer_a", "first thoughts");
    let copy = s.path("ana.db");
    s.lacrima(&["backup", copy.to_str().unwrap()])
        .assert()
        .success();
    at(&copy, "ana")
        .uncode("R1", "answer_a", "Deepened")
        .memo("R1", "answer_a", "");
    let json = merge_json(&s, &lead, &copy, &[]);
    assert_eq!(json["coders"][0]["codings_removed"], 1, "{json}");
    assert_eq!(json["coders"][0]["memos_removed"], 1, "{json}");
    assert_eq!(codings_of(&lead, "ana"), ["R1 answer_a Felt cared for"]);
    assert_eq!(state(&lead), state(&copy));
}
