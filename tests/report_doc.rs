//! A research team puts `lacrima report` in its supplementary materials: one HTML file that
//! opens anywhere without a network (or Markdown for a repository), with the project summary,
//! the codebook, the frequencies, the agreement, the codes against variables and example quotes.
//! The HTML is parsed with an HTML5 parser (the way a browser reads it), and every published
//! number is checked against `lacrima analyze` and `lacrima agreement` on the same project.

mod common;
use common::*;
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use std::collections::HashMap;

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn json(s: &Scratch, args: &[&str]) -> Value {
    serde_json::from_str(&s.stdout(args)).unwrap()
}

fn text(e: ElementRef<'_>) -> String {
    e.text().collect::<String>()
}

/// The tables of a section, in order.
fn tables<'a>(doc: &'a Html, section: &str) -> Vec<ElementRef<'a>> {
    doc.select(&sel(&format!("section#{section} table")))
        .collect()
}

/// A table's body rows, each as header -> cell (the row's own header under the first column's).
fn rows(table: ElementRef<'_>) -> Vec<HashMap<String, ElementRef<'_>>> {
    let header: Vec<String> = table.select(&sel("thead th")).map(text).collect();
    table
        .select(&sel("tbody tr"))
        .map(|tr| {
            let cells: Vec<ElementRef> = tr.select(&sel("th, td")).collect();
            assert_eq!(cells.len(), header.len(), "row shape of {header:?}");
            header.iter().cloned().zip(cells).collect()
        })
        .collect()
}

/// The rows of a table keyed by their first cell (a code, a question, a coder).
fn rows_by_name(table: ElementRef<'_>) -> HashMap<String, HashMap<String, ElementRef<'_>>> {
    let first = table
        .select(&sel("thead th"))
        .next()
        .map(text)
        .unwrap_or_default();
    rows(table)
        .into_iter()
        .map(|r| (text(r[&first]), r))
        .collect()
}

/// A published cell holds exactly the number of the JSON (its exact value in `data-value`), or,
/// for an undefined (null) value, no number and a dash.
fn same(cell: ElementRef<'_>, expected: &Value, what: &str) {
    let value = cell.value().attr("data-value");
    match expected.as_f64() {
        Some(e) => {
            let v: f64 = value
                .unwrap_or_else(|| panic!("{what}: no data-value in {}", cell.html()))
                .parse()
                .unwrap();
            assert_eq!(v, e, "{what}");
        }
        None => {
            assert!(expected.is_null(), "{what}: {expected}");
            assert_eq!(value, None, "{what}");
            assert!(text(cell).starts_with('-'), "{what}: {}", text(cell));
        }
    }
}

fn report_html(s: &Scratch, extra: &[&str]) -> Html {
    let mut args = vec!["report", "--out", "report.html"];
    args.extend_from_slice(extra);
    s.lacrima(&args).assert().success();
    Html::parse_document(&std::fs::read_to_string(s.path("report.html")).unwrap())
}

const SECTIONS: [&str; 6] = [
    "summary",
    "codebook",
    "frequencies",
    "agreement",
    "variables",
    "quotes",
];

#[test]
fn the_html_file_has_every_section_and_loads_nothing() {
    let s = demo();
    let doc = report_html(
        &s,
        &["--coder", "ana", "--by", "orientation", "--by", "age"],
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.path("report.html"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "private, like every export");
    let names: Vec<String> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains("report.html") && n != "report.html"),
        "no temporary file left: {names:?}"
    );

    // Every section, in order, with its heading, and the contents list links to each.
    let ids: Vec<&str> = doc
        .select(&sel("main > section"))
        .map(|e| e.value().id().unwrap())
        .collect();
    assert_eq!(ids, SECTIONS);
    let links: Vec<&str> = doc
        .select(&sel("nav a"))
        .map(|a| a.value().attr("href").unwrap())
        .collect();
    let anchors: Vec<String> = SECTIONS.iter().map(|s| format!("#{s}")).collect();
    assert_eq!(links, anchors);
    for id in SECTIONS {
        let h2 = doc
            .select(&sel(&format!("section#{id} > h2")))
            .next()
            .unwrap_or_else(|| panic!("{id} has a heading"));
        assert!(!text(h2).is_empty());
    }

    // Self-contained: no script, nothing fetched, nothing linked outside the file.
    let raw = std::fs::read_to_string(s.path("report.html")).unwrap();
    for tag in ["script", "link", "img", "iframe", "object", "embed", "base"] {
        assert_eq!(doc.select(&sel(tag)).count(), 0, "<{tag}>");
    }
    for e in doc.select(&sel("[src], [href]")) {
        for attr in ["src", "href"] {
            if let Some(v) = e.value().attr(attr) {
                assert!(v.starts_with('#'), "{attr}={v}: only links within the file");
            }
        }
    }
    assert!(!raw.contains("http:") && !raw.contains("https:"), "no URL");
    assert!(!raw.contains("url("), "no style fetches anything");
    let csp = doc
        .select(&sel("meta[http-equiv=\"Content-Security-Policy\"]"))
        .next()
        .unwrap();
    assert!(
        csp.value()
            .attr("content")
            .unwrap()
            .contains("default-src 'none'")
    );

    // The codebook in hierarchy: groups with their codes nested inside.
    let top: Vec<String> = doc
        .select(&sel("ul.codebook > li > strong"))
        .map(text)
        .collect();
    assert_eq!(top, ["relationship", "client", "therapist", "no-effect"]);
    let under_client: Vec<String> = doc
        .select(&sel("ul.codebook > li"))
        .find(|li| li.select(&sel("strong")).next().map(text).as_deref() == Some("client"))
        .unwrap()
        .select(&sel(":scope > ul > li > strong"))
        .map(text)
        .collect();
    assert_eq!(
        under_client,
        [
            "felt-cared-for",
            "client-caretaking",
            "client-cried-too",
            "client-relief",
            "attention-shifted"
        ]
    );
    let codebook = doc.select(&sel("section#codebook")).next().unwrap();
    for label in ["Definition", "Include", "Exclude", "Example"] {
        assert!(
            codebook.select(&sel("dt")).any(|dt| text(dt) == label),
            "{label}"
        );
    }

    // Charts: inline SVG, each named by a title for screen readers and a caption.
    let charts = |section: &str| -> Vec<ElementRef> {
        doc.select(&sel(&format!("section#{section} figure svg")))
            .collect()
    };
    assert_eq!(
        charts("frequencies").len(),
        1 + 3,
        "overall and per question"
    );
    assert_eq!(
        charts("variables").len(),
        15 + 15,
        "one per code and variable"
    );
    for svg in doc.select(&sel("svg")) {
        let first = svg.first_child().and_then(ElementRef::wrap).unwrap();
        assert_eq!(first.value().name(), "title");
        assert!(!text(first).is_empty());
        assert_eq!(svg.value().attr("role"), Some("img"));
        assert!(svg.select(&sel("rect")).count() > 0);
        assert!(svg.select(&sel("text")).count() > 0);
    }
    let stacked = charts("variables")
        .into_iter()
        .find(|svg| {
            text(svg.first_child().and_then(ElementRef::wrap).unwrap())
                .starts_with("rapport-deepened by orientation")
        })
        .unwrap();
    let labels: Vec<String> = stacked.select(&sel("text")).map(text).collect();
    assert!(labels.contains(&"CBT (n=22)".to_string()), "{labels:?}");
    assert!(labels.contains(&"54.5% (12)".to_string()), "{labels:?}");

    // Three quotes per code, each with its source.
    let quotes = doc.select(&sel("section#quotes figure.quote")).count();
    assert_eq!(quotes, 15 * 3, "every demo code has three coded segments");
    let first = doc
        .select(&sel("section#quotes figure.quote"))
        .next()
        .unwrap();
    assert_eq!(
        text(first.select(&sel("figcaption")).next().unwrap()),
        "respondent T0001, consequence_relationship"
    );
}

#[test]
fn the_numbers_are_those_of_analyze_and_agreement() {
    let s = demo();
    let ci = ["--ci", "--bootstrap", "40", "--seed", "5"];
    let mut args = vec!["--coder", "ana", "--by", "orientation", "--by", "age"];
    args.extend(ci);
    let doc = report_html(&s, &args);

    // The summary: the project's own counts.
    let info = json(&s, &["info", "--format", "json"]);
    let freq = json(&s, &["analyze", "--coder", "ana", "--format", "json"]);
    let summary = tables(&doc, "summary");
    let questions = rows_by_name(summary[0]);
    for (q, rated) in info["questions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(freq["questions"].as_array().unwrap())
    {
        let row = &questions[q["name"].as_str().unwrap()];
        same(row["answered"], &q["answered"], "answered");
        same(row["empty"], &q["empty"], "empty");
        same(row["rated by ana"], &rated["answers_rated"], "rated");
    }
    let coders = rows_by_name(summary[1]);
    for c in info["coders"].as_array().unwrap() {
        let row = &coders[c["name"].as_str().unwrap()];
        same(row["answers rated"], &c["answers_rated"], "coder rated");
        same(row["codings"], &c["codings"], "codings");
    }

    // Frequencies: `analyze` without --by.
    let f = tables(&doc, "frequencies");
    assert_eq!(f.len(), 1 + 3);
    let overall = rows_by_name(f[0]);
    let codes = freq["codes"].as_array().unwrap();
    assert_eq!(overall.len(), codes.len());
    for c in codes {
        let row = &overall[c["code"].as_str().unwrap()];
        same(row["respondents"], &c["respondents"], "respondents");
        same(row["% of 52 rated"], &c["respondents_share"], "share");
        same(row["answers"], &c["answers"], "answers");
        for (q, table) in f[1..].iter().enumerate() {
            let b = &c["by_question"][q];
            let rated = freq["questions"][q]["answers_rated"].as_u64().unwrap();
            let row = &rows_by_name(*table)[c["code"].as_str().unwrap()];
            same(row["answers"], &b["answers"], "answers per question");
            same(
                row[&format!("% of {rated} rated")],
                &b["share"],
                "share per question",
            );
        }
    }

    // Agreement: `agreement` with the same bootstrap.
    let mut a_args = vec!["agreement", "--format", "json"];
    a_args.extend(ci);
    let agreement = json(&s, &a_args);
    let a = tables(&doc, "agreement");
    let per_code = rows_by_name(a[0]);
    for c in agreement["codes"].as_array().unwrap() {
        let row = &per_code[c["code"].as_str().unwrap()];
        for (column, key) in [
            ("pairable", "units_pairable"),
            ("prevalence", "prevalence"),
            ("agreement", "percent_agreement"),
            ("alpha", "krippendorff_alpha"),
            ("Cohen", "cohen_kappa"),
            ("Scott", "scott_pi"),
            ("Fleiss", "fleiss_kappa"),
            ("AC1", "gwet_ac1"),
            ("BP", "brennan_prediger"),
        ] {
            same(row[column], &c[key], key);
        }
        assert_eq!(
            text(row["alpha 95% CI"]),
            format!(
                "[{:.3}, {:.3}]",
                c["krippendorff_alpha_ci_low"].as_f64().unwrap(),
                c["krippendorff_alpha_ci_high"].as_f64().unwrap()
            )
        );
    }
    let o = &agreement["overall"];
    let overall: Vec<_> = rows(a[1]);
    same(
        overall[0]["value"],
        &o["krippendorff_alpha_pooled"],
        "pooled",
    );
    same(overall[1]["value"], &o["krippendorff_alpha_masi"], "masi");
    same(
        overall[2]["value"],
        &o["percent_agreement_pooled"],
        "agreement",
    );
    assert_eq!(
        text(overall[0]["95% CI"]),
        format!(
            "[{:.3}, {:.3}]",
            o["krippendorff_alpha_pooled_ci_low"].as_f64().unwrap(),
            o["krippendorff_alpha_pooled_ci_high"].as_f64().unwrap()
        )
    );

    // Codes against variables: `analyze --by`.
    let v = tables(&doc, "variables");
    let by = json(
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
    let table = rows_by_name(v[0]);
    for c in by["codes"].as_array().unwrap() {
        let row = &table[c["code"].as_str().unwrap()];
        for (i, level) in c["levels"].as_array().unwrap().iter().enumerate() {
            let (rated, coded) = (
                c["rated"][i].as_f64().unwrap(),
                c["coded"][i].as_f64().unwrap(),
            );
            let header = format!("{} (n={rated})", level.as_str().unwrap());
            same(row[&header], &Value::from(coded / rated), "percent coded");
            assert!(text(row[&header]).ends_with(&format!("({coded})")));
        }
        for (column, key) in [
            ("chi2", "chi2"),
            ("df", "df"),
            ("p", "p"),
            ("Cramér's V", "cramers_v"),
            ("Fisher p", "fisher_p"),
            ("q (BH)", "q_bh"),
        ] {
            same(row[column], &c[key], key);
        }
    }
    let by = json(
        &s,
        &[
            "analyze", "--by", "age", "--coder", "ana", "--format", "json",
        ],
    );
    let table = rows_by_name(v[1]);
    for c in by["codes"].as_array().unwrap() {
        let row = &table[c["code"].as_str().unwrap()];
        for (column, key) in [
            ("n coded", "n_coded"),
            ("mean (SD) coded", "mean_coded"),
            ("n not", "n_not"),
            ("mean (SD) not", "mean_not"),
            ("Welch t", "welch_t"),
            ("df", "welch_df"),
            ("p", "welch_p"),
            ("U", "mann_whitney_u"),
            ("p (U)", "mann_whitney_p"),
            ("r pb", "point_biserial_r"),
            ("q (BH)", "q_bh"),
        ] {
            same(row[column], &c[key], key);
        }
    }
}

#[test]
fn the_markdown_of_the_demo() {
    let s = demo();
    let md = s.stdout(&[
        "report",
        "--coder",
        "ana",
        "--by",
        "orientation",
        "--by",
        "age",
        "--format",
        "md",
    ]);
    assert!(!md.contains("<svg"), "no raw SVG in Markdown");
    // The version changes with every release; the report does not.
    let md = md.replace(env!("CARGO_PKG_VERSION"), "[version]");
    insta::assert_snapshot!("report_demo_md", md);
    // --out FILE.md chooses Markdown, and writes what standard output had.
    s.lacrima(&[
        "report",
        "--coder",
        "ana",
        "--by",
        "orientation,age",
        "--out",
        "report.md",
    ])
    .assert()
    .success()
    .stdout("");
    let file = std::fs::read_to_string(s.path("report.md")).unwrap();
    assert_eq!(file.replace(env!("CARGO_PKG_VERSION"), "[version]"), md);
}

/// Every answer in the demo survey of twenty characters or more (shorter ones, such as
/// "Relief" or "Not sure.", are words the report may use for its own purposes).
fn demo_answer_texts() -> Vec<String> {
    let mut rdr = csv::Reader::from_path(format!("{FIXTURES}tcit_survey.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let columns: Vec<usize> = DEMO_QUESTIONS
        .iter()
        .map(|q| headers.iter().position(|h| h == *q).unwrap())
        .collect();
    let mut texts: Vec<String> = Vec::new();
    for r in rdr.records() {
        let r = r.unwrap();
        for &c in &columns {
            if r[c].chars().count() >= 20 && !texts.contains(&r[c].to_string()) {
                texts.push(r[c].to_string());
            }
        }
    }
    texts
}

fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Whether any answer text, or any of its sentences of twenty characters or more (a coded
/// segment is often one sentence), appears in the document.
fn leaked<'a>(doc: &str, texts: &'a [String]) -> Vec<&'a str> {
    texts
        .iter()
        .filter(|t| {
            let sentences = t.split_inclusive(['.', '!', '?']).map(str::trim);
            std::iter::once(t.as_str())
                .chain(sentences)
                .filter(|p| p.chars().count() >= 20)
                .any(|p| doc.contains(p) || doc.contains(&html_escaped(p)))
        })
        .map(String::as_str)
        .collect()
}

#[test]
fn no_quotes_leaves_every_answer_text_out() {
    let s = demo();
    let texts = demo_answer_texts();
    assert!(texts.len() > 1000, "{}", texts.len());

    // The check can fail: with quotes, answers are in the report.
    s.lacrima(&["report", "--coder", "ana", "--out", "quoted.html"])
        .assert()
        .success();
    let quoted = std::fs::read_to_string(s.path("quoted.html")).unwrap();
    assert!(leaked(&quoted, &texts).len() >= 15, "quotes are there");

    let doc = report_html(
        &s,
        &["--coder", "ana", "--by", "orientation", "--no-quotes"],
    );
    let html = doc.html();
    assert_eq!(leaked(&html, &texts), Vec::<&str>::new());
    assert_eq!(doc.select(&sel("blockquote")).count(), 0);
    assert_eq!(
        doc.select(&sel("section#codebook dt"))
            .filter(|dt| text(*dt) == "Example")
            .count(),
        0,
        "the codebook's examples are taken from answers"
    );
    let quotes = text(doc.select(&sel("section#quotes")).next().unwrap());
    assert!(quotes.contains("left out"), "{quotes}");
    let md = s.stdout(&["report", "--coder", "ana", "--no-quotes", "--format", "md"]);
    let unescaped = md.replace('\\', "");
    assert_eq!(leaked(&unescaped, &texts), Vec::<&str>::new());
    // --quotes and --no-quotes contradict each other.
    s.lacrima(&["report", "--coder", "ana", "--no-quotes", "--quotes", "2"])
        .assert()
        .code(2);
    s.lacrima(&["report", "--coder", "ana", "--quotes", "0"])
        .assert()
        .code(2);
}

#[test]
fn a_bad_variable_is_named_with_the_ones_there_are() {
    let s = small_project();
    let before = dump(&s.project());
    for (by, expect) in [
        ("nope", "no variable called \"nope\""),
        ("Age", "did you mean \"age\""),
        ("age,nope", "no variable called \"nope\""),
        ("answer_a", "\"answer_a\" is an open-ended question"),
    ] {
        let err = s.fails(&["report", "--by", by, "--out", "r.html"]);
        assert!(err.contains(expect), "{by}: {err}");
        assert!(
            err.contains(
                "the numeric and categorical variables are: \"age\", \"sex\", \"orientation\""
            ),
            "{by}: {err}"
        );
        assert!(!s.path("r.html").exists(), "nothing written");
    }
    let err = s.fails(&["report", "--by", "age"]);
    assert!(err.contains("nobody has coded an answer"), "{err}");
    assert_eq!(dump(&s.project()), before, "the project is unchanged");
}

#[test]
fn one_coder_gets_a_report_without_agreement_and_texts_stay_text() {
    let s = Scratch::new();
    let hostile = "<script>alert('x')</script> felt *seen* | [link](http://evil.test) \
                   <img src=\"http://evil.test/x.png\">\n# not a heading";
    let mut w = csv::Writer::from_path(s.path("survey.csv")).unwrap();
    w.write_record(["id", "group", "answer"]).unwrap();
    w.write_record(["R1", "a", hostile]).unwrap();
    w.write_record(["R2", "b", "A plain answer."]).unwrap();
    w.flush().unwrap();
    s.write(
        "codebook.csv",
        "name,description\n<b>Bold</b> & co,Code <i>names</i> are text\n",
    );
    s.write(
        "codings.csv",
        "respondent,question,coder,code,start,end,memo\nR1,answer,ana,<b>Bold</b> & co,,,\n\
         R2,answer,ana,,,,\n",
    );
    import_one_question_project(&s);

    // No --coder: ana is the only coder, as `analyze` would choose.
    let doc = report_html(&s, &["--by", "group"]);
    let lead = text(doc.select(&sel("header")).next().unwrap());
    assert!(
        lead.contains("codings of ana (the only coder who has rated answers)"),
        "{lead}"
    );
    let agreement = doc.select(&sel("section#agreement")).next().unwrap();
    assert!(
        text(agreement).contains("needs two or more coders")
            && text(agreement).contains("only ana has rated answers"),
        "{}",
        text(agreement)
    );
    assert_eq!(agreement.select(&sel("table")).count(), 0);

    for tag in ["script", "img", "b", "i"] {
        assert_eq!(doc.select(&sel(tag)).count(), 0, "<{tag}> from the project");
    }
    let quote = doc.select(&sel("blockquote p")).next().unwrap();
    assert_eq!(text(quote), hostile, "the answer, exactly as written");
    let code = doc.select(&sel("section#quotes h3")).next().unwrap();
    assert_eq!(text(code), "<b>Bold</b> & co");

    let md = s.stdout(&["report", "--format", "md"]);
    assert!(md.starts_with("# Coding report: project.db\n"), "{md}");
    // Charts are code blocks, where Markdown shows text as it is; everywhere else markup is
    // escaped.
    let prose = outside_code_blocks(&md);
    assert!(
        !prose.contains("<script>") && !prose.contains("<b>"),
        "{prose}"
    );
    assert!(md.contains("```text\n<b>Bold</b> & co  ███"), "{md}");
    assert!(
        md.contains(
            "> \\<script\\>alert('x')\\</script\\> felt \\*seen\\* \\| \\[link\\](http://evil.test)"
        ),
        "{md}"
    );
    assert!(md.contains("> \\# not a heading"), "{md}");
    assert!(md.contains("- **\\<b\\>Bold\\</b\\> \\& co**"), "{md}");
}

/// The Markdown without its fenced code blocks.
fn outside_code_blocks(md: &str) -> String {
    let mut inside = false;
    let mut out = String::new();
    for line in md.lines() {
        if line.starts_with("```") {
            inside = !inside;
        } else if !inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
