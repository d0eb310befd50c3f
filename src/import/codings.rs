//! Reading a codings CSV: `respondent,question,coder,code,start,end,memo`, row by row, so that a
//! file of millions of codings is never held in memory.

use super::codebook::csv_error;
use crate::error::{Error, Result};
use crate::store::CodingRow;
use std::io::Read;

pub const COLUMNS: [&str; 7] = [
    "respondent",
    "question",
    "coder",
    "code",
    "start",
    "end",
    "memo",
];

/// The rows of a codings file, checked for form (the store checks what they refer to).
pub struct CodingsReader<R: Read> {
    records: csv::StringRecordsIntoIter<R>,
    /// Index of each of COLUMNS in the file; usize::MAX for an absent memo column.
    cols: [usize; 7],
    file: String,
}

impl<R: Read> CodingsReader<R> {
    pub fn new(input: R, file: &str) -> Result<CodingsReader<R>> {
        let mut records = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(input)
            .into_records();
        let header = match records.next() {
            Some(Ok(h)) => h,
            Some(Err(e)) => return Err(csv_error(file, e)),
            None => {
                return Err(Error::input(format!(
                    "{file} is empty: a codings file needs the header {}",
                    COLUMNS.join(",")
                )));
            }
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
        Ok(CodingsReader {
            records,
            cols,
            file: file.to_string(),
        })
    }

    fn row(&self, rec: &csv::StringRecord) -> Result<CodingRow> {
        let file = &self.file;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |k: usize| rec.get(self.cols[k]).unwrap_or("");
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
                "{file}:{line}: give both start and end for a segment, or neither for the whole \
                 answer"
            )));
        }
        let memo = if self.cols[6] == usize::MAX {
            ""
        } else {
            get(6)
        };
        Ok(CodingRow {
            line,
            respondent: get(0).to_string(),
            question: get(1).to_string(),
            coder: get(2).trim().to_string(),
            code: get(3).trim().to_string(),
            start,
            end,
            memo: memo.replace("\r\n", "\n"),
        })
    }
}

impl<R: Read> Iterator for CodingsReader<R> {
    type Item = Result<CodingRow>;

    fn next(&mut self) -> Option<Result<CodingRow>> {
        loop {
            let rec = match self.records.next()? {
                Ok(rec) => rec,
                Err(e) => return Some(Err(csv_error(&self.file, e))),
            };
            // Blank lines are not codings.
            if rec.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            return Some(self.row(&rec));
        }
    }
}

/// Reads a whole (small) codings file held in memory.
pub fn read_codings_csv(data: &[u8], file: &str) -> Result<Vec<CodingRow>> {
    CodingsReader::new(data, file)?.collect()
}
