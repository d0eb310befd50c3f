//! Reading a codings CSV: `respondent,question,coder,code,start,end,memo`.

use super::codebook::csv_error;
use crate::error::{Error, Result};
use crate::store::CodingRow;

pub const COLUMNS: [&str; 7] = [
    "respondent",
    "question",
    "coder",
    "code",
    "start",
    "end",
    "memo",
];

pub fn read_codings_csv(data: &[u8], file: &str) -> Result<Vec<CodingRow>> {
    let data = data.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(data);
    if data.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::input(format!(
            "{file} is empty: a codings file needs the header {}",
            COLUMNS.join(",")
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
    let mut cols = [usize::MAX; 7];
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().to_lowercase();
        match COLUMNS.iter().position(|c| *c == h) {
            Some(k) => cols[k] = i,
            None => {
                return Err(Error::input(format!(
                    "{file}:1: unknown column {h:?}; a codings file has the columns {}",
                    COLUMNS.join(",")
                )));
            }
        }
    }
    for (k, c) in cols.iter().enumerate() {
        if *c == usize::MAX && k != 6 {
            return Err(Error::input(format!(
                "{file}:1: the column {:?} is missing; the header is {}",
                COLUMNS[k],
                COLUMNS.join(",")
            )));
        }
    }
    let mut rows = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| csv_error(file, e))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |k: usize| rec.get(cols[k]).unwrap_or("");
        let offset = |k: usize| -> Result<Option<u64>> {
            let v = get(k).trim();
            if v.is_empty() {
                return Ok(None);
            }
            v.parse::<u64>().map(Some).map_err(|_| {
                Error::input(format!(
                    "{file}:{line}: {} {v:?} is not a whole number of characters",
                    COLUMNS[k]
                ))
            })
        };
        let (start, end) = (offset(4)?, offset(5)?);
        if start.is_some() != end.is_some() {
            return Err(Error::input(format!(
                "{file}:{line}: give both start and end for a segment, or neither for the whole answer"
            )));
        }
        let memo = if cols[6] == usize::MAX { "" } else { get(6) };
        rows.push(CodingRow {
            line,
            respondent: get(0).to_string(),
            question: get(1).to_string(),
            coder: get(2).trim().to_string(),
            code: get(3).trim().to_string(),
            start,
            end,
            memo: memo.replace("\r\n", "\n"),
        });
    }
    Ok(rows)
}
