//! A researcher relates the themes of the TCIT demo to the survey's variables: `lacrima analyze`
//! gives crosstabs with chi-square, Fisher and Cramér's V for categorical variables, group
//! comparisons for numeric ones, code frequencies without `--by`, and `lacrima cooccur` shows
//! which themes go together. Every number is recomputed here from the fixture files themselves,
//! without lacrima, by the textbook formulas.

mod common;
use common::*;
use serde_json::Value;
use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn json(s: &Scratch, args: &[&str]) -> Value {
    let out = s.stdout(args);
    assert!(!out.contains("NaN"), "NaN in {args:?}: {out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
}

/// The survey as the file has it: respondent ID -> column -> value.
fn survey() -> (Vec<String>, HashMap<String, HashMap<String, String>>) {
    let (headers, records) = fixture_csv("tcit_survey.csv");
    let mut rows = HashMap::new();
    let mut order = Vec::new();
    for r in records {
        let row: HashMap<String, String> = headers.iter().cloned().zip(r).collect();
        order.push(row["resp_id"].clone());
        rows.insert(row["resp_id"].clone(), row);
    }
    (order, rows)
}

/// One coder's decisions from the codings file: rated (respondent, question) pairs and the codes
/// applied to each.
struct Decisions {
    rated: BTreeSet<(String, String)>,
    applied: BTreeMap<(String, String), BTreeSet<String>>,
}

fn decisions(coder: &str) -> Decisions {
    let mut d = Decisions {
        rated: BTreeSet::new(),
        applied: BTreeMap::new(),
    };
    for ((respondent, question, by), codes) in fixture_decisions() {
        if by != coder {
            continue;
        }
        let key = (respondent, question);
        d.rated.insert(key.clone());
        if !codes.is_empty() {
            d.applied.insert(key, codes);
        }
    }
    d
}

impl Decisions {
    fn respondent_rated(&self, id: &str, questions: &[&str]) -> bool {
        questions
            .iter()
            .any(|q| self.rated.contains(&(id.to_string(), q.to_string())))
    }

    fn respondent_coded(&self, id: &str, questions: &[&str], code: &str) -> bool {
        questions.iter().any(|q| {
            self.applied
                .get(&(id.to_string(), q.to_string()))
                .is_some_and(|s| s.contains(code))
        })
    }
}

/// The codable codes' names, in codebook order.
fn codable_names() -> Vec<String> {
    codable_codes().into_iter().map(|(name, _)| name).collect()
}

fn close(a: f64, b: f64, what: &str) {
    let tol = 1e-9 * a.abs().max(b.abs()).max(1.0);
    assert!(
        (a - b).abs() <= tol,
        "{what}: lacrima {a} vs recomputed {b}"
    );
}

fn num(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what} should be a number, is {v}"))
}

/// Benjamini-Hochberg, written out: q_(i) = min_{j >= i} p_(j) m / j.
fn bh(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut idx: Vec<(usize, f64)> = p
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .collect();
    idx.sort_by(|a, b| a.1.total_cmp(&b.1));
    let m = idx.len();
    let mut q = vec![None; p.len()];
    let mut best = 1.0f64;
    for j in (0..m).rev() {
        best = best.min(idx[j].1 * m as f64 / (j + 1) as f64);
        q[idx[j].0] = Some(best);
    }
    q
}

#[test]
fn psychodynamic_and_cbt_therapists_compared_theme_by_theme_match_a_hand_built_crosstab() {
    let s = demo();
    let report = json(
        &s,
        &[
            "analyze",
            "--by",
            "orientation",
            "--coder",
            "ana",
            "--format",
            "json",
        ],
    );
    assert_eq!(report["by"], "orientation");
    assert_eq!(report["kind"], "categorical");
    assert_eq!(report["coder"], "ana");
    assert_eq!(report["question"], Value::Null);
    let info = json(&s, &["info", "--format", "json"]);
    let levels: Vec<String> = info["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "orientation")
        .unwrap()["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();

    let (order, survey) = survey();
    let ana = decisions("ana");
    let qs: Vec<&str> = DEMO_QUESTIONS.to_vec();
    let rated: Vec<&String> = order
        .iter()
        .filter(|id| ana.respondent_rated(id, &qs))
        .collect();
    assert_eq!(report["respondents_rated"], rated.len() as u64);
    let codes = codable_names();
    let got = report["codes"].as_array().unwrap();
    assert_eq!(
        got.iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect::<Vec<_>>(),
        codes,
        "one entry per codable code, in codebook order"
    );
    let mut ps = Vec::new();
    for (c, code) in got.iter().zip(&codes) {
        // The crosstab, by hand: levels in the catalogue's order, those without rated dropped.
        let mut table: Vec<(String, u64, u64)> = Vec::new();
        let mut missing = 0;
        for level in &levels {
            let here: Vec<&&String> = rated
                .iter()
                .filter(|id| survey[id.as_str()]["orientation"] == *level)
                .collect();
            if here.is_empty() {
                continue;
            }
            let coded = here
                .iter()
                .filter(|id| ana.respondent_coded(id, &qs, code))
                .count() as u64;
            table.push((level.clone(), here.len() as u64, coded));
        }
        for id in &rated {
            if is_missing(&survey[id.as_str()]["orientation"]) {
                missing += 1;
            }
        }
        assert_eq!(c["missing"], missing);
        let names: Vec<&str> = table.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(c["levels"], serde_json::json!(names), "{code}");
        assert_eq!(
            c["rated"],
            serde_json::json!(table.iter().map(|t| t.1).collect::<Vec<_>>())
        );
        assert_eq!(
            c["coded"],
            serde_json::json!(table.iter().map(|t| t.2).collect::<Vec<_>>())
        );
        let n: f64 = table.iter().map(|t| t.1 as f64).sum();
        let coded_total: f64 = table.iter().map(|t| t.2 as f64).sum();
        if coded_total == 0.0 || coded_total == n {
            assert_eq!(c["chi2"], Value::Null);
            assert!(c["undefined_reason"].is_string());
            ps.push(None);
            continue;
        }
        let mut chi2 = 0.0;
        for &(_, r, k) in &table {
            let (r, k) = (r as f64, k as f64);
            for (obs, col) in [(k, coded_total), (r - k, n - coded_total)] {
                let e = r * col / n;
                chi2 += (obs - e) * (obs - e) / e;
            }
        }
        let df = (table.len() - 1) as f64;
        let p = 1.0 - ChiSquared::new(df).unwrap().cdf(chi2);
        close(num(&c["chi2"], "chi2"), chi2, &format!("{code} chi2"));
        assert_eq!(c["df"], table.len() as u64 - 1);
        close(num(&c["p"], "p"), p, &format!("{code} p"));
        close(
            num(&c["cramers_v"], "V"),
            (chi2 / n).sqrt(),
            &format!("{code} V"),
        );
        assert_eq!(c["fisher_p"], Value::Null, "Fisher only for 2x2 tables");
        assert_eq!(c["undefined_reason"], Value::Null);
        ps.push(Some(p));
    }
    for (c, q) in got.iter().zip(bh(&ps)) {
        match q {
            Some(q) => close(num(&c["q_bh"], "q"), q, "q_bh"),
            None => assert_eq!(c["q_bh"], Value::Null),
        }
    }
    // Sparse tables: the warning names the codes, inside the JSON and not as loose text.
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("expected counts below 5")),
        "{warnings:?}"
    );
}

/// Fisher's exact two-sided p by summing hypergeometric probabilities no larger than the
/// observed one, written out for the test.
fn fisher(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let ln_fact = |n: u64| (1..=n).map(|k| (k as f64).ln()).sum::<f64>();
    let (r1, r2, c1) = (a + b, c + d, a + c);
    let n = r1 + r2;
    let prob = |x: u64| {
        (ln_fact(r1) + ln_fact(r2) + ln_fact(c1) + ln_fact(n - c1)
            - ln_fact(n)
            - ln_fact(x)
            - ln_fact(r1 - x)
            - ln_fact(c1 - x)
            - ln_fact(r2 + x - c1))
        .exp()
    };
    let lo = c1.saturating_sub(r2);
    let hi = r1.min(c1);
    let observed = prob(a);
    (lo..=hi)
        .map(prob)
        .filter(|&p| p <= observed * (1.0 + 1e-7))
        .sum::<f64>()
        .min(1.0)
}

#[test]
fn a_two_level_variable_gets_fishers_exact_test_and_the_table_shows_percentages() {
    let s = demo();
    let report = json(
        &s,
        &[
            "analyze", "--by", "role", "--coder", "ben", "--format", "json",
        ],
    );
    let (order, survey) = survey();
    let ben = decisions("ben");
    let qs: Vec<&str> = DEMO_QUESTIONS.to_vec();
    for c in report["codes"].as_array().unwrap() {
        let code = c["code"].as_str().unwrap();
        let cell = |level: &str, coded: bool| {
            order
                .iter()
                .filter(|id| ben.respondent_rated(id, &qs) && survey[id.as_str()]["role"] == level)
                .filter(|id| ben.respondent_coded(id, &qs, code) == coded)
                .count() as u64
        };
        let (a, b) = (cell("psychologist", true), cell("psychologist", false));
        let (cc, d) = (cell("trainee", true), cell("trainee", false));
        assert_eq!(c["coded"], serde_json::json!([a, cc]), "{code}");
        assert_eq!(c["rated"], serde_json::json!([a + b, cc + d]), "{code}");
        if a + cc == 0 {
            assert_eq!(c["fisher_p"], Value::Null);
        } else {
            close(num(&c["fisher_p"], "fisher"), fisher(a, b, cc, d), code);
        }
    }
    // On screen: a percentage per level and a note on stderr about small expected counts.
    let (table, stderr) = s.outputs(&["analyze", "--by", "role", "--coder", "ben"]);
    let rapport = table
        .lines()
        .find(|l| l.starts_with("rapport-deepened"))
        .unwrap();
    let c = &report["codes"][0];
    let pct = 100.0 * num(&c["coded"][0], "") / num(&c["rated"][0], "");
    assert!(
        rapport.contains(&format!("{pct:.1}% ({})", c["coded"][0])),
        "{rapport}"
    );
    assert!(table.contains("psychologist (n="), "{table}");
    assert!(
        stderr.contains("warning: expected counts below 5"),
        "{stderr}"
    );
    assert!(!table.contains("warning"), "warnings stay off stdout");
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn var(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64
}

#[test]
fn experience_of_therapists_who_report_a_theme_is_compared_with_welch_mann_whitney_and_r() {
    let s = demo();
    let report = json(
        &s,
        &[
            "analyze",
            "--by",
            "years_experience",
            "--coder",
            "ana",
            "--question",
            "consequence_therapist",
            "--format",
            "json",
        ],
    );
    assert_eq!(report["kind"], "numeric");
    assert_eq!(report["question"], "consequence_therapist");
    let (order, survey) = survey();
    let ana = decisions("ana");
    let qs = ["consequence_therapist"];
    let rated: Vec<&String> = order
        .iter()
        .filter(|id| ana.respondent_rated(id, &qs))
        .collect();
    assert_eq!(report["respondents_rated"], rated.len() as u64);
    let mut checked = 0;
    for c in report["codes"].as_array().unwrap() {
        let code = c["code"].as_str().unwrap();
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for id in &rated {
            let v = &survey[id.as_str()]["years_experience"];
            if is_missing(v) {
                continue;
            }
            let x: f64 = v.parse().unwrap();
            if ana.respondent_coded(id, &qs, code) {
                with.push(x);
            } else {
                without.push(x);
            }
        }
        assert_eq!(c["n_coded"], with.len() as u64, "{code}");
        assert_eq!(c["n_not"], without.len() as u64, "{code}");
        if with.len() < 2 {
            // A theme that never occurs in this question: nulls with a reason, never NaN.
            assert_eq!(c["welch_t"], Value::Null, "{code}");
            assert!(c["undefined_reason"].is_string(), "{code}");
            continue;
        }
        let (v1, v0) = (
            var(&with) / with.len() as f64,
            var(&without) / without.len() as f64,
        );
        let t = (mean(&with) - mean(&without)) / (v1 + v0).sqrt();
        let df = (v1 + v0).powi(2)
            / (v1 * v1 / (with.len() - 1) as f64 + v0 * v0 / (without.len() - 1) as f64);
        let p = 2.0 * (1.0 - StudentsT::new(0.0, 1.0, df).unwrap().cdf(t.abs()));
        close(num(&c["mean_coded"], "mean"), mean(&with), code);
        close(num(&c["sd_coded"], "sd"), var(&with).sqrt(), code);
        close(num(&c["mean_not"], "mean"), mean(&without), code);
        close(num(&c["welch_t"], "t"), t, &format!("{code} t"));
        close(num(&c["welch_df"], "df"), df, &format!("{code} df"));
        close(num(&c["welch_p"], "p"), p, &format!("{code} p"));
        // U of the coded group from mid-ranks in the pooled sample.
        let mut pooled: Vec<(f64, bool)> = with
            .iter()
            .map(|&x| (x, true))
            .chain(without.iter().map(|&x| (x, false)))
            .collect();
        pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut r1 = 0.0;
        let mut i = 0;
        while i < pooled.len() {
            let mut j = i;
            while j < pooled.len() && pooled[j].0 == pooled[i].0 {
                j += 1;
            }
            let mid = (i + 1 + j) as f64 / 2.0;
            r1 += pooled[i..j].iter().filter(|p| p.1).count() as f64 * mid;
            i = j;
        }
        let n1 = with.len() as f64;
        close(
            num(&c["mann_whitney_u"], "U"),
            r1 - n1 * (n1 + 1.0) / 2.0,
            &format!("{code} U"),
        );
        // Point-biserial r: Pearson's r between the 0/1 code and the value.
        let all: Vec<(f64, f64)> = pooled
            .iter()
            .map(|&(x, k)| (if k { 1.0 } else { 0.0 }, x))
            .collect();
        let (mx, my) = (
            mean(&all.iter().map(|a| a.0).collect::<Vec<_>>()),
            mean(&all.iter().map(|a| a.1).collect::<Vec<_>>()),
        );
        let sxy: f64 = all.iter().map(|a| (a.0 - mx) * (a.1 - my)).sum();
        let sxx: f64 = all.iter().map(|a| (a.0 - mx).powi(2)).sum();
        let syy: f64 = all.iter().map(|a| (a.1 - my).powi(2)).sum();
        close(
            num(&c["point_biserial_r"], "r"),
            sxy / (sxx * syy).sqrt(),
            &format!("{code} r"),
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} codes occur in this question");
}

#[test]
fn without_by_the_command_counts_respondents_and_answers_per_code_and_question() {
    let s = demo();
    let f = json(&s, &["analyze", "--coder", "ben", "--format", "json"]);
    assert_eq!(f["kind"], "frequencies");
    let (order, _) = survey();
    let ben = decisions("ben");
    let qs: Vec<&str> = DEMO_QUESTIONS.to_vec();
    let rated = order
        .iter()
        .filter(|id| ben.respondent_rated(id, &qs))
        .count();
    assert_eq!(f["respondents_rated"], rated as u64);
    for (i, q) in qs.iter().enumerate() {
        assert_eq!(f["questions"][i]["question"], *q);
        let n = ben.rated.iter().filter(|(_, qq)| qq == q).count();
        assert_eq!(f["questions"][i]["answers_rated"], n as u64);
    }
    for c in f["codes"].as_array().unwrap() {
        let code = c["code"].as_str().unwrap();
        let respondents = order
            .iter()
            .filter(|id| ben.respondent_coded(id, &qs, code))
            .count();
        assert_eq!(c["respondents"], respondents as u64, "{code}");
        close(
            num(&c["respondents_share"], "share"),
            respondents as f64 / rated as f64,
            code,
        );
        let mut total = 0;
        for (i, q) in qs.iter().enumerate() {
            let n = ben
                .applied
                .iter()
                .filter(|((_, qq), codes)| qq == q && codes.contains(code))
                .count();
            assert_eq!(c["by_question"][i]["answers"], n as u64, "{code} {q}");
            total += n;
        }
        assert_eq!(c["answers"], total as u64, "{code}");
    }
    // The same numbers as CSV, one row per code.
    let csv_text = s.stdout(&["analyze", "--coder", "ben", "--format", "csv"]);
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), f["codes"].as_array().unwrap().len());
    assert_eq!(&rows[0][1], f["codes"][0]["respondents"].to_string());
}

#[test]
fn cooccurrence_counts_answers_with_both_codes_and_their_jaccard_similarity() {
    let s = demo();
    let c = json(&s, &["cooccur", "--coder", "ana", "--format", "json"]);
    let ana = decisions("ana");
    assert_eq!(c["answers_rated"], ana.rated.len() as u64);
    let count = |code: &str| {
        ana.applied
            .values()
            .filter(|codes| codes.contains(code))
            .count() as u64
    };
    let codes = codable_names();
    assert_eq!(
        c["pairs"].as_array().unwrap().len(),
        codes.len() * (codes.len() - 1) / 2
    );
    let mut seen_overlap = false;
    for p in c["pairs"].as_array().unwrap() {
        let (a, b) = (p["code_a"].as_str().unwrap(), p["code_b"].as_str().unwrap());
        let both = ana
            .applied
            .values()
            .filter(|codes| codes.contains(a) && codes.contains(b))
            .count() as u64;
        assert_eq!(p["answers_both"], both, "{a} & {b}");
        assert_eq!(p["answers_a"], count(a));
        assert_eq!(p["answers_b"], count(b));
        let union = count(a) + count(b) - both;
        if union == 0 {
            assert_eq!(p["jaccard"], Value::Null);
        } else {
            close(num(&p["jaccard"], "J"), both as f64 / union as f64, a);
        }
        seen_overlap |= both > 0;
    }
    assert!(seen_overlap, "the demo has answers with two codes");
    // On screen, the pairs that do co-occur, most frequent first.
    let table = s.stdout(&["cooccur", "--coder", "ana"]);
    assert!(table.contains("Jaccard"), "{table}");
}

#[test]
fn the_default_coder_is_the_consensus_coder_else_the_only_coder_else_the_researcher_chooses() {
    let s = demo();
    let err = s.fails(&["analyze", "--by", "sex"]);
    assert!(err.contains("--coder"), "{err}");
    assert!(err.contains("ana") && err.contains("ben"), "{err}");
    let err = s.fails(&["cooccur"]);
    assert!(err.contains("ana") && err.contains("ben"), "{err}");

    // A consensus coder settles it: analyze uses it without being told, and says so.
    s.add_codings(
        "consensus.csv",
        "T0001,consequence_client,agreed,felt-cared-for,,,\n\
         T0002,consequence_client,agreed,,,,\n",
    );
    let conn = rusqlite::Connection::open(s.project()).unwrap();
    conn.execute(
        "UPDATE coders SET is_consensus = 1 WHERE name = 'agreed'",
        [],
    )
    .unwrap();
    drop(conn);
    let f = json(&s, &["analyze", "--format", "json"]);
    assert_eq!(f["coder"], "agreed");
    assert_eq!(f["respondents_rated"], 2);

    // A project coded by one person uses that person's codings.
    let solo = Scratch::new();
    solo.import_survey(
        &fixture_path("tcit_survey.csv"),
        &["--open", &DEMO_QUESTIONS.join(",")],
    );
    solo.import_codebook(&fixture_path("tcit_codebook.csv"));
    solo.add_codings(
        "one.csv",
        "T0004,consequence_client,ana,nothing-noticeable,,,\n",
    );
    let f = json(&solo, &["analyze", "--format", "json"]);
    assert_eq!(f["coder"], "ana");

    // Nobody has coded yet: a clear message.
    let empty = Scratch::new();
    empty.import_survey(
        &fixture_path("tcit_survey.csv"),
        &["--open", &DEMO_QUESTIONS.join(",")],
    );
    let err = empty.fails(&["analyze", "--by", "sex"]);
    assert!(err.contains("nobody has coded"), "{err}");
}

#[test]
fn unknown_variables_coders_and_questions_are_refused_with_what_exists() {
    let s = demo();
    let before = dump(&s.project());
    let err = s.fails(&["analyze", "--by", "orientaton", "--coder", "ana"]);
    assert!(err.contains("no variable called \"orientaton\""), "{err}");
    assert!(
        err.contains("\"orientation\"") && err.contains("\"age\""),
        "{err}"
    );
    let err = s.fails(&["analyze", "--by", "Orientation", "--coder", "ana"]);
    assert!(err.contains("did you mean \"orientation\""), "{err}");
    let err = s.fails(&["analyze", "--by", "consequence_client", "--coder", "ana"]);
    assert!(err.contains("open-ended question"), "{err}");
    let err = s.fails(&["analyze", "--by", "sex", "--coder", "carla"]);
    assert!(err.contains("no coder called \"carla\""), "{err}");
    assert!(err.contains("ana, ben"), "{err}");
    let err = s.fails(&["analyze", "--coder", "ana", "--question", "why"]);
    assert!(err.contains("no question called \"why\""), "{err}");
    assert!(err.contains("\"consequence_client\""), "{err}");
    let err = s.fails(&["cooccur", "--coder", "nobody"]);
    assert!(err.contains("the coders are: ana, ben"), "{err}");
    assert_eq!(dump(&s.project()), before, "analysis never writes");
}

#[test]
fn text_and_date_variables_are_refused_and_a_single_level_gives_nulls_with_a_reason() {
    let s = Scratch::new();
    s.write(
        "survey.csv",
        "id,site,visit,note,score,answer\n\
         A1,north,2024-03-01,quiet,3,We grew closer\n\
         A2,north,2024-03-02,tense,5,Nothing noticeable\n\
         A3,north,2024-03-05,calm,4,She felt understood\n\
         A4,north,2024-03-09,busy,4,She cried too\n",
    );
    s.import_survey("survey.csv", &["--open", "answer", "--text", "note"]);
    s.write("codebook.csv", "name\nCloser\nUnderstood\nNever used\n");
    s.import_codebook("codebook.csv");
    s.add_codings(
        "codings.csv",
        "A1,answer,ana,Closer,,,\nA2,answer,ana,,,,\nA3,answer,ana,Understood,,,\nA4,answer,ana,Closer,,,\n",
    );

    let err = s.fails(&["analyze", "--by", "note"]);
    assert!(err.contains("\"note\" is a text variable"), "{err}");
    assert!(err.contains("\"site\", \"score\""), "{err}");
    let err = s.fails(&["analyze", "--by", "visit"]);
    assert!(err.contains("\"visit\" is a date variable"), "{err}");

    // Every respondent is at the same site: no test is possible, and the output says why.
    for format in ["json", "csv", "table"] {
        let out = s.stdout(&["analyze", "--by", "site", "--format", format]);
        assert!(!out.contains("NaN"), "{out}");
        assert!(
            out.contains("only one level with rated respondents"),
            "{out}"
        );
    }
    let r = json(&s, &["analyze", "--by", "site", "--format", "json"]);
    for c in r["codes"].as_array().unwrap() {
        for k in ["chi2", "df", "p", "cramers_v", "fisher_p", "q_bh"] {
            assert_eq!(c[k], Value::Null, "{k} of {}", c["code"]);
        }
    }
    assert_eq!(r["codes"][0]["rated"], serde_json::json!([4]));
    assert_eq!(r["codes"][0]["coded"], serde_json::json!([2]));

    // A code nobody used, against a numeric variable: counts, and nulls with a reason.
    let r = json(&s, &["analyze", "--by", "score", "--format", "json"]);
    let never = &r["codes"][2];
    assert_eq!(never["code"], "Never used");
    assert_eq!(never["n_coded"], 0);
    assert_eq!(never["n_not"], 4);
    assert_eq!(never["mean_coded"], Value::Null);
    assert_eq!(never["welch_p"], Value::Null);
    assert_eq!(never["q_bh"], Value::Null);
    assert_eq!(never["undefined_reason"], "no value with the code");
    let closer = &r["codes"][0];
    close(num(&closer["mean_coded"], "mean"), 3.5, "Closer mean");
    close(num(&closer["mean_not"], "mean"), 4.5, "not Closer mean");
    let table = s.stdout(&["analyze", "--by", "score"]);
    assert!(
        table.contains("Never used: no value with the code"),
        "{table}"
    );
    assert!(!table.contains("NaN"));
}
