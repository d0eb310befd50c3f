//! Property: whatever codings a team writes (any codes, coders, segments, memos with quotes,
//! commas and newlines), importing them and exporting them gives the same rows back, and a second
//! import changes nothing.

mod common;

use common::{codebook_csv, csv_multiset};
use lacrima::import::codebook::read_codebook_csv;
use lacrima::import::codings::read_codings_csv;
use lacrima::import::survey::{SurveyOptions, import_survey};
use lacrima::store::Store;
use proptest::prelude::*;
use std::collections::BTreeMap;

const ANSWERS: [&str; 4] = [
    "We grew closer after that session.",
    "她哭了，我也哭了 😢 — then we laughed.",
    "Nothing noticeable",
    "José said \"gracias\", and we moved on.",
];
const CODES: [&str; 4] = ["Deepened", "Cared for", "Embarrassment", "Nothing"];

fn project() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let survey = dir.path().join("s.csv");
    let mut csv = String::from("id,q1,q2\n");
    for (i, a) in ANSWERS.iter().enumerate() {
        let b = ANSWERS[(i + 1) % ANSWERS.len()];
        csv.push_str(&format!(
            "r{i},\"{}\",\"{}\"\n",
            a.replace('"', "\"\""),
            b.replace('"', "\"\"")
        ));
    }
    std::fs::write(&survey, csv).unwrap();
    let mut store = Store::create(&dir.path().join("p.db")).unwrap();
    let opts = SurveyOptions {
        open: vec!["q1,q2".into()],
        ..Default::default()
    };
    import_survey(&mut store, &survey, &opts).unwrap();
    let book = codebook_csv(CODES);
    let entries = read_codebook_csv(book.as_bytes(), "book.csv").unwrap();
    store.apply_codebook(&entries, "book.csv").unwrap();
    (dir, store)
}

/// A segment's (start, end) in code points, or None for the whole answer.
type Segment = Option<(usize, usize)>;

#[derive(Debug, Clone)]
struct Coding {
    respondent: usize,
    question: usize,
    coder: String,
    code: Option<usize>,
    segment: Option<(usize, usize)>,
    memo: String,
}

fn coding() -> impl Strategy<Value = Coding> {
    (
        0..ANSWERS.len(),
        0..2usize,
        prop::sample::select(vec!["ana", "ben", "Zoë", "coder, with comma"]),
        prop::option::weighted(0.9, 0..CODES.len()),
        any::<bool>(),
        any::<(u8, u8)>(),
        "[a-z ,\"\n]{0,12}",
    )
        .prop_map(|(respondent, question, coder, code, seg, (a, b), memo)| {
            let text = ANSWERS[(respondent + question) % ANSWERS.len()];
            let n = text.chars().count();
            let (mut s, mut e) = (a as usize % n, b as usize % (n + 1));
            if s > e {
                std::mem::swap(&mut s, &mut e);
            }
            let segment = (seg && code.is_some() && s < e).then_some((s, e));
            Coding {
                respondent,
                question,
                coder: coder.to_string(),
                code,
                segment,
                memo: if code.is_some() { memo } else { String::new() },
            }
        })
}

fn to_csv(codings: &[Coding]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "respondent",
        "question",
        "coder",
        "code",
        "start",
        "end",
        "memo",
    ])
    .unwrap();
    for c in codings {
        let (s, e) = c
            .segment
            .map(|(s, e)| (s.to_string(), e.to_string()))
            .unwrap_or_default();
        w.write_record([
            format!("r{}", c.respondent),
            format!("q{}", c.question + 1),
            c.coder.clone(),
            c.code.map(|k| CODES[k].to_string()).unwrap_or_default(),
            s,
            e,
            c.memo.clone(),
        ])
        .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// What the file means: one row per distinct coding, plus an empty-code row for an answer the
/// coder reviewed without applying anything.
fn canonical(codings: &[Coding]) -> BTreeMap<Vec<String>, usize> {
    let mut seen: BTreeMap<(usize, usize, String, usize, Segment), String> = BTreeMap::new();
    let mut reviewed: BTreeMap<(usize, usize, String), bool> = BTreeMap::new();
    for c in codings {
        let has = reviewed
            .entry((c.respondent, c.question, c.coder.clone()))
            .or_insert(false);
        if let Some(k) = c.code {
            *has = true;
            seen.entry((c.respondent, c.question, c.coder.clone(), k, c.segment))
                .or_insert_with(|| c.memo.clone());
        }
    }
    let mut out: Vec<Coding> = seen
        .into_iter()
        .map(|((respondent, question, coder, k, segment), memo)| Coding {
            respondent,
            question,
            coder,
            code: Some(k),
            segment,
            memo,
        })
        .collect();
    for ((respondent, question, coder), has) in reviewed {
        if !has {
            out.push(Coding {
                respondent,
                question,
                coder,
                code: None,
                segment: None,
                memo: String::new(),
            });
        }
    }
    csv_multiset(&to_csv(&out))
}

fn export(store: &Store) -> String {
    let mut buf = Vec::new();
    let mut exact = lacrima::export::spreadsheet::Guard::new(false);
    lacrima::export::codings::write_csv(store, None, &mut exact, &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn codings_import_and_export_unchanged(codings in prop::collection::vec(coding(), 0..25)) {
        // The same coding twice with different memos is a conflict the importer refuses; keep
        // the first memo so that the file is one a team could write.
        let mut first_memo: BTreeMap<(usize, usize, String, Option<usize>, Segment), String> =
            BTreeMap::new();
        let codings: Vec<Coding> = codings
            .into_iter()
            .map(|mut c| {
                let key = (c.respondent, c.question, c.coder.clone(), c.code, c.segment);
                c.memo = first_memo.entry(key).or_insert_with(|| c.memo.clone()).clone();
                c
            })
            .collect();
        let (_dir, mut store) = project();
        let file = to_csv(&codings);
        let parsed = read_codings_csv(file.as_bytes(), "c.csv").unwrap();
        store.import_codings(&parsed, "c.csv").unwrap();
        let exported = export(&store);
        prop_assert_eq!(csv_multiset(&exported), canonical(&codings));
        // Importing the export again changes nothing.
        let again = read_codings_csv(exported.as_bytes(), "again.csv").unwrap();
        let r = store.import_codings(&again, "again.csv").unwrap();
        prop_assert_eq!(r.codings_added, 0);
        prop_assert_eq!(r.reviews_added, 0);
        prop_assert_eq!(export(&store), exported);
    }
}
