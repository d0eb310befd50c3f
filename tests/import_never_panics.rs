//! Property: no file makes the importer panic. Whatever bytes arrive (broken quotes, stray
//! delimiters, invalid UTF-8, NULs), import either succeeds or returns an error, and a failed
//! import leaves the project as it was.

use lacrima::import::survey::{SurveyOptions, import_survey};
use lacrima::store::Store;
use proptest::prelude::*;

fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop::sample::select(vec![
        &b"id"[..],
        b"ans",
        b"x",
        b",",
        b",",
        b"\n",
        b"\r\n",
        b"\"",
        b"\"\"",
        b"\t",
        b";",
        b"NA",
        b"12",
        b"3.5",
        b"2024-01-02",
        b"\xff",
        b"\xe2\x82",
        b"\0",
        "😢".as_bytes(),
        b" ",
    ]);
    prop::collection::vec(piece, 0..60).prop_map(|parts| {
        let mut v = b"id,ans,x\n".to_vec();
        for p in parts {
            v.extend_from_slice(p);
        }
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_bytes_import_or_fail_cleanly(bytes in csvish()) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.csv");
        std::fs::write(&file, &bytes).unwrap();
        let mut store = Store::create(&dir.path().join("p.db")).unwrap();
        let opts = SurveyOptions { id: Some("id".into()), open: vec!["ans".into()], ..Default::default() };
        match import_survey(&mut store, &file, &opts) {
            Ok(summary) => prop_assert_eq!(summary.respondents_total as usize, summary.respondents_added),
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                prop_assert_eq!(store.respondent_count().unwrap(), 0);
            }
        }
    }
}
