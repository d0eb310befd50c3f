//! The coded dataset for statistics packages: wide CSV (one row per respondent, variables then 0/1
//! code columns, with a data dictionary), long CSV (one row per coding, with its text) and JSON
//! (respondents with their answers, codings and memos). Every writer streams from the store, so
//! memory stays flat whatever the number of respondents.

use super::{csv_err, write_err};
use crate::error::Result;
use crate::store::{
    AnswerRecord, CodeRecord, CodedRespondent, DatasetLayout, DatasetQuestion, DatasetValue,
    DatasetVariable, Store, ValueRow, VariableKind,
};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write;

/// Stata's limit on variable names (SPSS allows 64 bytes; the stricter limit serves both).
pub const SHORT_NAME_MAX: usize = 32;

/// How respondents are identified in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespondentKey {
    /// By the ID column's value, under this column name.
    Id(String),
    /// The ID column was excluded: by the respondent's number in survey order (1, 2, ...), which
    /// links the exports to each other but not to the identifying ID.
    Number,
}

/// The column name used for respondents' numbers when the ID column is excluded.
pub const NUMBER_COLUMN: &str = "respondent_number";

/// A code's name as it appears in a column name: lower case, every run of characters other than
/// a-z and 0-9 replaced by `_`, trimmed of `_`. Empty when nothing is left.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for ch in name.to_lowercase().chars() {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(ch);
        } else {
            gap = true;
        }
    }
    out
}

/// Which column of the wide file holds what.
#[derive(Debug, Clone, PartialEq)]
pub enum WideColumn {
    Respondent,
    /// Index into [`WidePlan::variables`].
    Variable(usize),
    /// Indexes into [`WidePlan::questions`] and [`WidePlan::codes`].
    Code {
        question: usize,
        code: usize,
    },
}

/// The wide file's columns, named, before a row is written.
#[derive(Debug, Clone)]
pub struct WidePlan<'a> {
    pub key: RespondentKey,
    pub variables: Vec<&'a DatasetVariable>,
    pub questions: Vec<DatasetQuestion>,
    /// Codable codes in codebook order.
    pub codes: Vec<&'a CodeRecord>,
    pub columns: Vec<WideColumn>,
    /// Aligned with `columns`.
    pub names: Vec<String>,
    pub short_names: bool,
}

/// Names that clash ignoring case count as taken (SPSS ignores case; a researcher would too).
struct Taken(HashSet<String>);

impl Taken {
    fn new() -> Taken {
        Taken(HashSet::new())
    }

    fn has(&self, name: &str) -> bool {
        self.0.contains(&name.to_lowercase())
    }

    fn take(&mut self, name: &str) {
        self.0.insert(name.to_lowercase());
    }

    /// `base`, or `base_2`, `base_3`, ... for the first that is free; with a length limit the
    /// base is cut so that the suffix fits.
    fn unique(&mut self, base: &str, limit: Option<usize>) -> String {
        let fit = |s: &str, max: usize| -> String {
            match limit {
                Some(_) => s.chars().take(max).collect(),
                None => s.to_string(),
            }
        };
        let max = limit.unwrap_or(usize::MAX);
        let mut name = fit(base, max);
        let mut k = 2;
        while self.has(&name) {
            let suffix = format!("_{k}");
            name = format!("{}{suffix}", fit(base, max.saturating_sub(suffix.len())));
            k += 1;
        }
        self.take(&name);
        name
    }
}

/// Words that Stata or SPSS reserve and that cannot name a variable.
const RESERVED: &[&str] = &[
    "all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with", "byte",
    "double", "float", "if", "in", "int", "long", "strl", "using",
];

/// A name made of ASCII letters, digits and `_`, starting with a letter, not ending with `_`,
/// not a reserved word, and at most `max` characters.
fn identifier(name: &str, max: usize) -> String {
    let mut out = String::new();
    let mut gap = false;
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(ch);
        } else {
            gap = true;
        }
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, 'v');
    }
    let lower = out.to_lowercase();
    let reserved = RESERVED.contains(&lower.as_str())
        || (lower.starts_with("str")
            && lower.len() > 3
            && lower[3..].bytes().all(|b| b.is_ascii_digit()));
    if reserved {
        out.push_str("_v");
    }
    let mut out: String = out.chars().take(max).collect();
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// A short code-column name: the question's part and the code's part both keep something, so
/// that long question names do not swallow the codes.
fn short_code_name(question: &str, code_slug: &str) -> String {
    let q = identifier(question, SHORT_NAME_MAX);
    let c = code_slug.to_string();
    if q.len() + 1 + c.len() <= SHORT_NAME_MAX {
        return format!("{q}_{c}");
    }
    let c_len = c.len().min(SHORT_NAME_MAX - 1 - q.len().min(11));
    let q_len = SHORT_NAME_MAX - 1 - c_len;
    let q: String = q.chars().take(q_len).collect();
    let q = q.trim_end_matches('_');
    let c: String = c.chars().take(c_len).collect();
    identifier(&format!("{q}_{}", c.trim_end_matches('_')), SHORT_NAME_MAX)
}

pub fn plan_wide<'a>(
    layout: &'a DatasetLayout,
    variables: Vec<&'a DatasetVariable>,
    key: RespondentKey,
    questions: Vec<DatasetQuestion>,
    short_names: bool,
) -> WidePlan<'a> {
    let codes: Vec<&CodeRecord> = layout.codes.iter().filter(|c| c.codable).collect();
    let limit = short_names.then_some(SHORT_NAME_MAX);
    let mut taken = Taken::new();
    let mut columns = Vec::new();
    let mut names = Vec::new();
    // Variables keep their names (unique in the project); the respondent column yields to them.
    let var_names: Vec<String> = if short_names {
        variables
            .iter()
            .map(|v| identifier(&v.name, SHORT_NAME_MAX))
            .collect()
    } else {
        variables.iter().map(|v| v.name.clone()).collect()
    };
    let mut reserved = Taken::new();
    for n in &var_names {
        reserved.take(n);
    }
    let key_base = match &key {
        RespondentKey::Id(name) => name.clone(),
        RespondentKey::Number => NUMBER_COLUMN.to_string(),
    };
    let key_base = if short_names {
        identifier(&key_base, SHORT_NAME_MAX)
    } else {
        key_base
    };
    // The respondent column avoids the variables' names as well as its own.
    let mut key_taken = Taken(reserved.0.clone());
    let key_name = key_taken.unique(&key_base, limit);
    taken.take(&key_name);
    columns.push(WideColumn::Respondent);
    names.push(key_name);
    for (i, n) in var_names.iter().enumerate() {
        columns.push(WideColumn::Variable(i));
        names.push(taken.unique(n, limit));
    }
    for (qi, q) in questions.iter().enumerate() {
        for (ci, c) in codes.iter().enumerate() {
            let s = slug(&c.name);
            let s = if s.is_empty() {
                format!("code{}", c.id)
            } else {
                s
            };
            let base = if short_names {
                short_code_name(&q.name, &s)
            } else {
                format!("{}_{s}", q.name)
            };
            columns.push(WideColumn::Code {
                question: qi,
                code: ci,
            });
            names.push(taken.unique(&base, limit));
        }
    }
    WidePlan {
        key,
        variables,
        questions,
        codes,
        columns,
        names,
        short_names,
    }
}

/// Formats a stored value as the file had it: integers as integers, reals with a decimal point
/// (the shortest form that reads back as the same number), text as is, missing as empty.
fn format_cell(cell: DatasetValue<'_>, buf: &mut String) {
    buf.clear();
    match cell {
        DatasetValue::Missing => {}
        DatasetValue::Integer(i) => {
            let _ = write!(buf, "{i}");
        }
        DatasetValue::Real(x) if x.is_finite() => {
            let _ = write!(buf, "{x:?}");
        }
        DatasetValue::Real(_) => {}
        DatasetValue::Text(t) => buf.push_str(t),
    }
}

/// Appends one CSV field (RFC 4180: quoted only when it holds a comma, a quote or a line break).
fn push_field(line: &mut Vec<u8>, field: &str) {
    if field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        line.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                line.push(b'"');
            }
            line.push(b);
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(field.as_bytes());
    }
}

/// Writes the wide file: one row per respondent in survey order. Returns the number of rows.
///
/// Rows are assembled by hand rather than through the csv crate: most cells are numbers and
/// 0/1 flags that never need quoting, and this loop is the whole cost of exporting a million
/// respondents besides SQLite's.
///
/// With `safe` (`--spreadsheet-safe`) text cells that a spreadsheet would run as a formula are
/// prefixed with `'`; `prefixed` then counts them per column, for the data dictionary.
pub fn write_wide(
    store: &Store,
    plan: &WidePlan<'_>,
    coder_id: i64,
    safe: bool,
    out: &mut dyn Write,
) -> Result<WideWritten> {
    let mut prefixed = vec![0u64; plan.columns.len()];
    let mut guarded = |column: usize, cell: &str, line: &mut Vec<u8>| {
        if safe && super::spreadsheet::is_formula_like(cell) {
            prefixed[column] += 1;
            push_field(line, &format!("'{cell}"));
        } else {
            push_field(line, cell);
        }
    };
    let mut line: Vec<u8> = Vec::with_capacity(1024);
    for (i, name) in plan.names.iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        guarded(i, name, &mut line);
    }
    line.push(b'\n');
    out.write_all(&line).map_err(write_err)?;
    let columns: Vec<&str> = plan.variables.iter().map(|v| v.column.as_str()).collect();
    let question_ids: Vec<i64> = plan.questions.iter().map(|q| q.id).collect();
    let code_ids: Vec<i64> = plan.codes.iter().map(|c| c.id).collect();
    let mut buf = String::new();
    let mut rows = 0u64;
    store.for_each_coded_respondent(
        coder_id,
        &question_ids,
        &columns,
        &mut |r: &CodedRespondent| {
            line.clear();
            match plan.key {
                RespondentKey::Id(_) => guarded(0, r.values.ext_id(), &mut line),
                RespondentKey::Number => {
                    buf.clear();
                    let _ = write!(buf, "{}", r.values.id);
                    line.extend_from_slice(buf.as_bytes());
                }
            }
            for i in 0..columns.len() {
                line.push(b',');
                match r.values.value(i) {
                    DatasetValue::Text(t) => guarded(i + 1, t, &mut line),
                    other => {
                        format_cell(other, &mut buf);
                        line.extend_from_slice(buf.as_bytes());
                    }
                }
            }
            for a in &r.answers {
                for &c in &code_ids {
                    line.push(b',');
                    if a.rated {
                        line.push(if a.has(c) { b'1' } else { b'0' });
                    }
                }
            }
            line.push(b'\n');
            out.write_all(&line).map_err(write_err)?;
            rows += 1;
            Ok(())
        },
    )?;
    out.flush().map_err(write_err)?;
    Ok(WideWritten { rows, prefixed })
}

/// What [`write_wide`] wrote: its rows, and per column (in the plan's order) how many cells
/// `--spreadsheet-safe` prefixed.
pub struct WideWritten {
    pub rows: u64,
    pub prefixed: Vec<u64>,
}

/// The levels of a categorical variable as a JSON array (unambiguous whatever the levels hold).
fn levels_json(levels: &[String]) -> String {
    serde_json::to_string(levels).unwrap_or_default()
}

/// Writes the data dictionary of a wide file: one row per column, so that short names, labels,
/// levels and the codes' definitions travel with the data.
///
/// With `prefixed` (the counts of a `--spreadsheet-safe` export) a last column,
/// `spreadsheet_safe`, says how many cells of each column got a leading `'`.
pub fn write_dictionary(
    plan: &WidePlan<'_>,
    prefixed: Option<&[u64]>,
    out: &mut dyn Write,
) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![
        "name",
        "kind",
        "label",
        "levels",
        "question",
        "code",
        "definition",
    ];
    if prefixed.is_some() {
        header.push("spreadsheet_safe");
    }
    w.write_record(&header).map_err(csv_err)?;
    for (i, (col, name)) in plan.columns.iter().zip(&plan.names).enumerate() {
        let row: [String; 7] = match col {
            WideColumn::Respondent => [
                name.clone(),
                "id".into(),
                match &plan.key {
                    RespondentKey::Id(orig) if orig != name => {
                        format!("{orig}: the respondent's ID")
                    }
                    RespondentKey::Id(_) => "the respondent's ID".into(),
                    RespondentKey::Number => "the respondent's number in survey order (the ID \
                                              column was excluded)"
                        .into(),
                },
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
            WideColumn::Variable(i) => {
                let v = plan.variables[*i];
                let label = v.label.clone().unwrap_or_default();
                let label = if *name != v.name {
                    // A shortened name: the label keeps the original.
                    if label.is_empty() {
                        v.name.clone()
                    } else {
                        format!("{}: {label}", v.name)
                    }
                } else {
                    label
                };
                [
                    name.clone(),
                    v.kind.as_str().into(),
                    label,
                    if v.kind == VariableKind::Categorical {
                        levels_json(&v.levels)
                    } else {
                        String::new()
                    },
                    String::new(),
                    String::new(),
                    String::new(),
                ]
            }
            WideColumn::Code { question, code } => {
                let q = &plan.questions[*question];
                let c = plan.codes[*code];
                [
                    name.clone(),
                    "code".into(),
                    format!(
                        "1 = code {} applied to the answer to {}; 0 = answer rated without it; \
                         empty = answer not rated",
                        c.name, q.name
                    ),
                    levels_json(&["0".into(), "1".into()]),
                    q.name.clone(),
                    c.name.clone(),
                    c.description.clone(),
                ]
            }
        };
        let mut row = row.to_vec();
        if let Some(counts) = prefixed {
            row.push(match counts.get(i).copied().unwrap_or(0) {
                0 => String::new(),
                n => format!(
                    "{n} cell{} began with =, +, -, @, a tab or a carriage return and got a \
                     leading ' (drop it to get the value)",
                    if n == 1 { "" } else { "s" }
                ),
            });
        }
        w.write_record(&row).map_err(csv_err)?;
    }
    w.flush().map_err(write_err)
}

/// `wide.csv` -> `wide.dictionary.csv`, beside it.
pub fn dictionary_path(data: &std::path::Path) -> std::path::PathBuf {
    let stem = data
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "dataset".into());
    data.with_file_name(format!("{stem}.dictionary.csv"))
}

pub const LONG_COLUMNS: [&str; 9] = [
    "respondent",
    "question",
    "coder",
    "code",
    "start",
    "end",
    "text",
    "memo",
    "created_at",
];

/// Writes one row per coding with its text. Returns the number of rows.
/// What a long or JSON export covers.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    pub layout: &'a DatasetLayout,
    /// The variables written (those not excluded), in their order.
    pub variables: Vec<&'a DatasetVariable>,
    pub key: RespondentKey,
    /// The chosen questions (one, or all).
    pub questions: Vec<DatasetQuestion>,
    /// The question named with `--question`, if any.
    pub question: Option<i64>,
}

pub fn write_long(
    store: &Store,
    sel: &Selection<'_>,
    coder: Option<i64>,
    guard: &mut super::spreadsheet::Guard,
    out: &mut dyn Write,
) -> Result<u64> {
    let (layout, key, question) = (sel.layout, &sel.key, sel.question);
    let mut w = csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(out);
    w.write_record(LONG_COLUMNS).map_err(csv_err)?;
    let mut rows = 0u64;
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    store.for_each_coding_record(layout, coder, question, &mut |c| {
        let respondent = match key {
            RespondentKey::Id(_) => c.ext_id.clone(),
            RespondentKey::Number => c.respondent_id.to_string(),
        };
        w.write_record([
            guard.cell(&respondent).as_ref(),
            &guard.cell(&c.question),
            &guard.cell(&c.coder),
            &guard.cell(&c.code),
            &opt(c.start),
            &opt(c.end),
            &guard.cell(&c.text),
            &guard.cell(&c.memo),
            &c.created_at,
        ])
        .map_err(csv_err)?;
        rows += 1;
        Ok(())
    })?;
    w.flush().map_err(write_err)?;
    Ok(rows)
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn json_cell(cell: DatasetValue<'_>) -> serde_json::Value {
    match cell {
        DatasetValue::Missing => serde_json::Value::Null,
        DatasetValue::Integer(i) => i.into(),
        DatasetValue::Real(x) => serde_json::Number::from_f64(x)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        DatasetValue::Text(t) => t.into(),
    }
}

/// Writes the project as JSON: a header describing variables, questions and codes, then the
/// respondents, one per line, each with its variables and its answers with codings by coder
/// (a coder who rated an answer without applying a code has an empty list) and memos.
pub fn write_json(
    store: &Store,
    sel: &Selection<'_>,
    coder: Option<(i64, &str)>,
    out: &mut dyn Write,
) -> Result<u64> {
    let (layout, variables, key) = (sel.layout, &sel.variables[..], &sel.key);
    let (questions, question) = (&sel.questions[..], sel.question);
    let code_memos = store.code_memos()?;
    let mut memos_by_code: HashMap<i64, Vec<serde_json::Value>> = HashMap::new();
    for m in code_memos {
        if coder.is_none_or(|(_, name)| name == m.coder) {
            memos_by_code
                .entry(m.code_id)
                .or_default()
                .push(serde_json::json!({"coder": m.coder, "text": m.text}));
        }
    }
    let header = serde_json::json!({
        "coder": coder.map(|(_, n)| n),
        "question": questions.iter().find(|q| Some(q.id) == question).map(|q| &q.name),
        "respondent_key": match key {
            RespondentKey::Id(name) => serde_json::json!({"id_column": name}),
            RespondentKey::Number => serde_json::json!({"number_in_survey_order": true}),
        },
        "variables": variables.iter().map(|v| serde_json::json!({
            "name": v.name,
            "kind": v.kind.as_str(),
            "label": v.label,
            "levels": (v.kind == VariableKind::Categorical).then_some(&v.levels),
        })).collect::<Vec<_>>(),
        "questions": questions.iter().map(|q| serde_json::json!({
            "name": q.name, "label": q.label,
        })).collect::<Vec<_>>(),
        "codes": layout.codes.iter().map(|c| serde_json::json!({
            "name": c.name,
            "parent": c.parent,
            "codable": c.codable,
            "description": c.description,
            "memos": memos_by_code.remove(&c.id).unwrap_or_default(),
        })).collect::<Vec<_>>(),
    });
    // The header object, left open so the respondents can follow as a streamed array.
    let mut head =
        serde_json::to_string(&header).map_err(|e| write_err(std::io::Error::other(e)))?;
    head.pop();
    out.write_all(head.as_bytes()).map_err(write_err)?;
    out.write_all(b",\"respondents\":[").map_err(write_err)?;
    let mut rows = 0u64;
    let mut line = String::new();
    store.for_each_respondent_record(
        layout,
        variables,
        coder.map(|(id, _)| id),
        question,
        &mut |r: &ValueRow, answers: &[AnswerRecord]| {
            line.clear();
            line.push_str(if rows == 0 { "\n{" } else { ",\n{" });
            line.push_str("\"respondent\":");
            match key {
                RespondentKey::Id(_) => line.push_str(&json_str(r.ext_id())),
                RespondentKey::Number => {
                    let _ = write!(line, "{}", r.id);
                }
            }
            line.push_str(",\"variables\":{");
            for (i, v) in variables.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                line.push_str(&json_str(&v.name));
                line.push(':');
                line.push_str(&json_cell(r.value(i)).to_string());
            }
            line.push_str("},\"answers\":[");
            for (i, a) in answers.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                line.push_str(&answer_json(a).to_string());
            }
            line.push_str("]}");
            out.write_all(line.as_bytes()).map_err(write_err)?;
            rows += 1;
            Ok(())
        },
    )?;
    out.write_all(b"\n]}\n").map_err(write_err)?;
    out.flush().map_err(write_err)?;
    Ok(rows)
}

fn answer_json(a: &AnswerRecord) -> serde_json::Value {
    // Codings by coder, in coder-name order; serde_json's map keeps keys sorted.
    let mut by_coder = serde_json::Map::new();
    for c in &a.rated_by {
        by_coder.insert(c.clone(), serde_json::Value::Array(Vec::new()));
    }
    for k in &a.codings {
        let entry = by_coder
            .entry(k.coder.clone())
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(list) = entry {
            list.push(serde_json::json!({
                "code": k.code,
                "start": k.start,
                "end": k.end,
                // A segment's text; a whole-answer coding's text is the answer's, given once.
                "text": k.start.map(|_| &k.text),
                "memo": k.memo,
                "created_at": k.created_at,
            }));
        }
    }
    serde_json::json!({
        "question": a.question,
        "text": a.text,
        "empty": a.is_empty,
        "codings": by_coder,
        "memos": a.memos.iter().map(|(coder, text)| serde_json::json!({
            "coder": coder, "text": text,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_documented_rule() {
        assert_eq!(slug("rapport-deepened"), "rapport_deepened");
        assert_eq!(slug("  Felt cared for!! "), "felt_cared_for");
        assert_eq!(slug("Émotion forte"), "motion_forte");
        assert_eq!(slug("泣く"), "");
        assert_eq!(slug("A--B__c"), "a_b_c");
    }

    #[test]
    fn clashing_names_get_numbered() {
        let mut t = Taken::new();
        t.take("q_a");
        assert_eq!(t.unique("q_a", None), "q_a_2");
        assert_eq!(t.unique("Q_A", None), "Q_A_3");
        let long = "x".repeat(40);
        let a = t.unique(&long, Some(32));
        let b = t.unique(&long, Some(32));
        assert_eq!(a.len(), 32);
        assert_eq!(b, format!("{}_2", "x".repeat(30)));
    }

    #[test]
    fn short_names_are_identifiers_for_stata_and_spss() {
        for (input, expect) in [
            ("age", "age"),
            ("2nd wave", "v2nd_wave"),
            ("_private", "private"),
            ("with", "with_v"),
            ("str12", "str12_v"),
            ("Année de naissance", "Ann_e_de_naissance"),
            ("ñ", "v"),
        ] {
            assert_eq!(identifier(input, 32), expect, "{input}");
        }
        let n = short_code_name(
            "consequence_relationship_in_the_long_run",
            "rapport_deepened",
        );
        assert!(n.len() <= 32, "{n}");
        assert!(n.ends_with("rapport_deepened"), "{n}");
        assert!(n.starts_with("consequence"), "{n}");
    }
}
