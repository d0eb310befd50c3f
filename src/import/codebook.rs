//! Reading a codebook CSV: `name,parent,description,inclusion,exclusion,example,color,shortcut`
//! (only `name` is required; an optional `codable` column says whether a code can be applied).

use crate::error::{Error, Result};
use crate::model::codebook::{CodebookEntry, is_hex_colour};

pub const COLUMNS: [&str; 9] = [
    "name",
    "parent",
    "description",
    "inclusion",
    "exclusion",
    "example",
    "color",
    "shortcut",
    "codable",
];

pub fn read_codebook_csv(data: &[u8], file: &str) -> Result<Vec<CodebookEntry>> {
    let data = data.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(data);
    if data.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::input(format!(
            "{file} is empty: a codebook needs a header with at least the column name"
        )));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(data);
    let mut records = rdr.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(csv_error(file, e)),
        None => unreachable!("non-empty data has a first record"),
    };
    let mut cols: Vec<Option<usize>> = vec![None; COLUMNS.len()];
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().to_lowercase();
        match COLUMNS.iter().position(|c| *c == h) {
            Some(k) if cols[k].is_some() => {
                return Err(Error::input(format!(
                    "{file}:1: the column {h:?} appears twice"
                )));
            }
            Some(k) => cols[k] = Some(i),
            None => {
                return Err(Error::input(format!(
                    "{file}:1: unknown column {h:?}; a codebook has the columns {}",
                    COLUMNS.join(",")
                )));
            }
        }
    }
    if cols[0].is_none() {
        return Err(Error::input(format!(
            "{file}:1: the codebook needs a column called name"
        )));
    }
    let mut entries: Vec<CodebookEntry> = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| csv_error(file, e))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |k: usize| cols[k].map(|i| rec.get(i).unwrap_or("").trim().to_string());
        let name = get(0).unwrap_or_default();
        if name.is_empty() {
            if rec.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            return Err(Error::input(format!("{file}:{line}: the code has no name")));
        }
        if let Some(prev) = entries
            .iter()
            .find(|e| e.name.to_lowercase() == name.to_lowercase())
        {
            return Err(Error::input(format!(
                "{file}:{line}: the code {name:?} is already defined at line {} (names are \
                 unique ignoring case)",
                prev.line
            )));
        }
        let color = get(6).filter(|c| !c.is_empty());
        if let Some(c) = &color
            && !is_hex_colour(c)
        {
            return Err(Error::input(format!(
                "{file}:{line}: code {name:?}: colour {c:?} is not #RRGGBB (for example #1f77b4)"
            )));
        }
        let shortcut = get(7);
        if let Some(s) = &shortcut
            && !s.is_empty()
            && !(s.len() == 1 && matches!(s.as_bytes()[0], b'1'..=b'9'))
        {
            return Err(Error::input(format!(
                "{file}:{line}: code {name:?}: shortcut {s:?} must be a digit from 1 to 9"
            )));
        }
        let codable = match get(8).as_deref() {
            None | Some("") => None,
            Some(v) => Some(parse_bool(v).ok_or_else(|| {
                Error::input(format!(
                    "{file}:{line}: code {name:?}: codable must be true or false, not {v:?}"
                ))
            })?),
        };
        entries.push(CodebookEntry {
            line,
            at: None,
            guid: None,
            name,
            parent: get(1),
            description: get(2),
            inclusion: get(3),
            exclusion: get(4),
            example: get(5),
            color: if cols[6].is_some() {
                Some(color.unwrap_or_default())
            } else {
                None
            },
            shortcut,
            codable,
        });
    }
    Ok(entries)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_lowercase().as_str() {
        "1" | "true" | "yes" | "y" => Some(true),
        "0" | "false" | "no" | "n" => Some(false),
        _ => None,
    }
}

pub(crate) fn csv_error(file: &str, e: csv::Error) -> Error {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => Error::input(format!(
            "{file}:{}: this row has {len} fields but the header has {expected_len}",
            pos.as_ref().map(|p| p.line()).unwrap_or(0)
        )),
        csv::ErrorKind::Utf8 { pos, .. } => Error::input(format!(
            "{file}:{}: invalid UTF-8; save the file as UTF-8",
            pos.as_ref().map(|p| p.line()).unwrap_or(0)
        )),
        _ => Error::input(format!("{file}: {e}")),
    }
}
