//! The codings CSV: `respondent,question,coder,code,start,end,memo`, re-importable as it is.

use super::spreadsheet::Guard;
use super::{csv_err, write_err};
use crate::error::Result;
use crate::store::Store;
use std::io::Write;

pub fn write_csv(
    store: &Store,
    coder: Option<&str>,
    guard: &mut Guard,
    out: &mut dyn Write,
) -> Result<usize> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(crate::import::codings::COLUMNS)
        .map_err(csv_err)?;
    let mut n = 0;
    store.for_each_coding_row(coder, &mut |row| {
        n += 1;
        let start = row.start.map(|v| v.to_string()).unwrap_or_default();
        let end = row.end.map(|v| v.to_string()).unwrap_or_default();
        w.write_record([
            guard.cell(&row.respondent).as_ref(),
            &guard.cell(&row.question),
            &guard.cell(&row.coder),
            &guard.cell(&row.code),
            &start,
            &end,
            &guard.cell(&row.memo),
        ])
        .map_err(csv_err)
    })?;
    w.flush().map_err(write_err)?;
    Ok(n)
}
