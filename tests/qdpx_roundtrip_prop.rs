//! Any project survives export qdpx and import qdpx: generated answers in many scripts, with
//! segments on any code points, whole-answer codings, memos and "reviewed, nothing applies".
//! Few cases: each one starts the binary four times.

mod common;
mod qdpx_support;

use common::*;
use proptest::prelude::*;
use qdpx_support::*;

const PIECES: &[&str] = &[
    "a",
    "Z",
    " ",
    "\n",
    ",",
    "\"",
    "'",
    "&",
    "<",
    "é",
    "e\u{301}",
    "😢",
    "👩‍👩‍👧",
    "关",
    "系",
    "ב",
    "ي",
    "\u{200f}",
    "ß",
    "Ω",
    "—",
    "\t",
    "1",
    ".",
];

#[derive(Debug, Clone)]
struct Coding {
    respondent: usize,
    question: usize,
    coder: usize,
    code: usize,
    /// Fractions of the answer's length, or None for the whole answer.
    span: Option<(u8, u8)>,
    memo: String,
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..14).prop_map(|p| p.concat())
}

fn project() -> impl Strategy<Value = (Vec<[String; 2]>, Vec<i64>, Vec<Coding>)> {
    (1usize..5).prop_flat_map(|n| {
        (
            prop::collection::vec([text(), text()], n),
            prop::collection::vec(-5i64..90, n),
            prop::collection::vec(
                (
                    0..n,
                    0usize..2,
                    0usize..2,
                    0usize..4,
                    prop::option::of((0u8..=100, 0u8..=100)),
                    prop::option::of(text()),
                )
                    .prop_map(|(respondent, question, coder, code, span, memo)| {
                        Coding {
                            respondent,
                            question,
                            coder,
                            code,
                            span,
                            memo: memo.unwrap_or_default(),
                        }
                    }),
                0..8,
            ),
        )
    })
}

fn csv_line(fields: &[&str]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields).unwrap();
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn a_generated_project_comes_back_equal((answers, ages, codings) in project()) {
        let s = Scratch::new();
        let mut survey = csv_line(&["id", "age", "first", "second"]);
        for (i, (a, age)) in answers.iter().zip(&ages).enumerate() {
            survey.push_str(&csv_line(&[&format!("R{i}"), &age.to_string(), &a[0], &a[1]]));
        }
        s.write("survey.csv", survey);
        s.write(
            "codebook.csv",
            "name,parent,color,shortcut\ngroup,,,\none,group,#aa0000,1\ntwo,group,,2\nthree,,#00bb00,\nfour,,,\n",
        );
        let codes = ["one", "two", "three", "four"];
        let mut file = csv_line(&["respondent", "question", "coder", "code", "start", "end", "memo"]);
        let mut seen = std::collections::HashSet::new();
        for c in &codings {
            // What the survey import stored: CR LF as LF, so count on that.
            let answer = answers[c.respondent][c.question].replace("\r\n", "\n");
            let len = answer.chars().count();
            let span = c.span.and_then(|(a, b)| {
                let (a, b) = (a.min(b) as usize * len / 100, a.max(b) as usize * len / 100);
                // A segment of the whole text is a whole-answer coding in QDA-XML (the mapping
                // in src/exchange/mod.rs), so the generator gives it as one.
                (a < b && (a, b) != (0, len)).then_some((a, b))
            });
            let (start, end) = span.map(|(a, b)| (a.to_string(), b.to_string())).unwrap_or_default();
            let question = ["first", "second"][c.question];
            // A coding is identified by its place: one memo per place in the file.
            if !seen.insert((c.respondent, question, c.coder, c.code, start.clone(), end.clone())) {
                continue;
            }
            file.push_str(&csv_line(&[
                &format!("R{}", c.respondent),
                question,
                ["ana", "ben"][c.coder],
                codes[c.code],
                &start,
                &end,
                &c.memo,
            ]));
        }
        // ben looked at the first answer and found nothing to code.
        file.push_str(&csv_line(&["R0", "first", "ben", "", "", "", ""]));
        s.write("codings.csv", file);
        s.lacrima(&["import", "survey.csv", "--id", "id", "--open", "first,second"]).assert().success();
        s.lacrima(&["codebook", "import", "codebook.csv"]).assert().success();
        s.lacrima(&["codings", "import", "codings.csv"]).assert().success();
        s.lacrima(&["export", "qdpx", "--out", "p.qdpx"]).assert().success();
        let back = s.path("back.db");
        lacrima_at(s.dir.path(), &back, &["import", "qdpx", "p.qdpx"]).assert().success();
        assert_same_project(&s.project(), &back);
    }
}
