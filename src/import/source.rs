//! Reading a survey file (CSV, TSV or XLSX, in any encoding) as a header and rows of text.
//!
//! UTF-8 CSV is streamed so that memory stays flat on large files; other encodings and
//! spreadsheets are decoded into memory first (Qualtrics' UTF-16 exports and XLSX sheets are small
//! next to the CSVs that large surveys arrive in).

use crate::error::{Error, Result};
use crate::model::number::format_number;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// One survey file, opened and checked far enough to know its columns.
pub struct SurveySource {
    path: PathBuf,
    body: Body,
    headers: Vec<String>,
    /// Qualtrics' question texts (the second header row), when the file is a Qualtrics export.
    labels: Option<Vec<String>>,
    /// Records (after the header) to skip before data: 2 for Qualtrics exports.
    skip_records: usize,
    pub warnings: Vec<String>,
}

enum Body {
    /// A UTF-8 file read from disk on every pass.
    Stream { delimiter: u8, bom: usize },
    /// Text decoded from another encoding, as UTF-8.
    Decoded { delimiter: u8, text: Vec<u8> },
    /// A spreadsheet's cells, as text; row 0 is the header.
    Sheet { rows: Vec<Vec<String>> },
}

/// Called with (line, byte offset, fields) for each record; returns whether to go on.
type RecordFn<'a> = dyn FnMut(u64, u64, &[&str]) -> Result<bool> + 'a;

/// A data row as the importer sees it: its line in the file and its fields.
pub struct Row<'a> {
    pub line: u64,
    /// Bytes of the file read up to the end of this row (0 for spreadsheets).
    pub offset: u64,
    pub fields: &'a [&'a str],
}

impl SurveySource {
    pub fn open(path: &Path, sheet: Option<&str>, encoding: Option<&str>) -> Result<SurveySource> {
        crate::store::refuse_project_path(path, "the survey")?;
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Err(Error::input(format!(
                "{} is a folder: give the survey file",
                path.display()
            )));
        }
        let mut head = Vec::new();
        std::fs::File::open(path)
            .map_err(|e| Error::io(path, e))?
            .take(8192)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(path, e))?;
        if head.is_empty() {
            return Err(Error::input(format!(
                "{} is empty: a survey file needs a header row and at least one data row",
                path.display()
            )));
        }
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let is_zip = head.starts_with(b"PK\x03\x04");
        let body = if is_zip || matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "xlsb" | "ods") {
            if sheet.is_none() && encoding.is_some() {
                // An encoding means nothing for a spreadsheet; say so rather than ignore it.
                return Err(Error::input(format!(
                    "{} is a spreadsheet: --encoding applies to CSV and TSV files only",
                    path.display()
                )));
            }
            Body::Sheet {
                rows: read_sheet(path, sheet)?,
            }
        } else {
            if sheet.is_some() {
                return Err(Error::input(format!(
                    "{} is not a spreadsheet: --sheet applies to XLSX files only",
                    path.display()
                )));
            }
            text_body(path, &head, &ext, encoding)?
        };
        let mut source = SurveySource {
            path: path.to_path_buf(),
            body,
            headers: Vec::new(),
            labels: None,
            skip_records: 0,
            warnings: Vec::new(),
        };
        source.read_header()?;
        Ok(source)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    pub fn labels(&self) -> Option<&[String]> {
        self.labels.as_deref()
    }

    pub fn is_qualtrics(&self) -> bool {
        self.labels.is_some()
    }

    /// Size of what a pass reads, for a progress bar.
    pub fn byte_len(&self) -> u64 {
        match &self.body {
            Body::Stream { .. } => std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0),
            Body::Decoded { text, .. } => text.len() as u64,
            Body::Sheet { .. } => 0,
        }
    }

    fn read_header(&mut self) -> Result<()> {
        let mut first: Vec<Vec<String>> = Vec::new();
        self.raw_records(&mut |_, _, fields| {
            first.push(fields.iter().map(|s| s.to_string()).collect());
            Ok(first.len() < 3)
        })?;
        let Some(header) = first.first() else {
            return Err(Error::input(format!(
                "{} has no header row",
                self.path.display()
            )));
        };
        let mut headers = Vec::with_capacity(header.len());
        for (i, h) in header.iter().enumerate() {
            let h = h.trim();
            if h.is_empty() {
                let name = format!("column{}", i + 1);
                self.warnings.push(format!(
                    "{}: column {} has an empty header; it is called {name}",
                    self.path.display(),
                    i + 1
                ));
                headers.push(name);
            } else {
                headers.push(h.to_string());
            }
        }
        for (i, a) in headers.iter().enumerate() {
            for b in &headers[..i] {
                if a == b {
                    return Err(Error::input(format!(
                        "{}:1: the header {a:?} appears twice; column names must be unique",
                        self.path.display()
                    )));
                }
                if a.to_lowercase() == b.to_lowercase() {
                    return Err(Error::input(format!(
                        "{}:1: the headers {b:?} and {a:?} differ only in case; rename one \
                         so that names stay unique in R, SPSS and Stata",
                        self.path.display()
                    )));
                }
            }
        }
        // Qualtrics puts the question text in the second row and {"ImportId": ...} in the third.
        if first.len() == 3 {
            let ids = &first[2];
            let marked = ids
                .iter()
                .filter(|f| f.trim_start().starts_with("{\"ImportId\""))
                .count();
            if marked > 0 && marked * 2 >= ids.iter().filter(|f| !f.is_empty()).count() {
                self.labels = Some(first[1].clone());
                self.skip_records = 2;
            }
        }
        self.headers = headers;
        Ok(())
    }

    /// Calls `f` with every data row, in file order. Stops at the first error `f` returns.
    pub fn for_each_row(&self, f: &mut dyn FnMut(Row<'_>) -> Result<()>) -> Result<()> {
        let mut index = 0usize;
        let skip = self.skip_records;
        let mut any = false;
        self.raw_records(&mut |line, offset, fields| {
            index += 1;
            if index == 1 || index <= 1 + skip {
                return Ok(true);
            }
            any = true;
            f(Row {
                line,
                offset,
                fields,
            })?;
            Ok(true)
        })?;
        if !any {
            return Err(Error::input(format!(
                "{} has a header but no data rows",
                self.path.display()
            )));
        }
        Ok(())
    }

    /// Reads the rows on a second thread, where `prepare` fills an owned value from each, and
    /// hands them to `f` on this thread in batches, so that reading and preparing overlap with
    /// writing to the project. Batches travel back to the reader to be refilled, so that the
    /// values' buffers are allocated once rather than once per row.
    pub fn for_each_batch_pipelined<T: Default + Send>(
        &self,
        prepare: &mut (dyn FnMut(Row<'_>, &mut T) -> Result<()> + Send),
        f: &mut dyn FnMut(&[T]) -> Result<()>,
    ) -> Result<()> {
        const BATCH: usize = 256;
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Result<(Vec<T>, usize)>>(8);
        let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<T>>();
        std::thread::scope(|scope| {
            let reader = std::thread::Builder::new().name("lacrima-read".into());
            let spawned = reader.spawn_scoped(scope, move || {
                let mut batch: Vec<T> = Vec::new();
                let mut filled = 0usize;
                let read = self.for_each_row(&mut |row| {
                    if filled == batch.len() {
                        batch.push(T::default());
                    }
                    prepare(row, &mut batch[filled])?;
                    filled += 1;
                    if filled == BATCH {
                        let next = empty_rx.try_recv().unwrap_or_default();
                        // A closed channel means the writer stopped on an error of its own.
                        full_tx
                            .send(Ok((std::mem::replace(&mut batch, next), filled)))
                            .map_err(|_| Error::input("import stopped"))?;
                        filled = 0;
                    }
                    Ok(())
                });
                let _ = full_tx.send(read.map(|()| (batch, filled)));
            });
            if let Err(e) = spawned {
                return Err(Error::input(format!(
                    "cannot start the reading thread: {e}"
                )));
            }
            for message in full_rx.iter() {
                let (batch, filled) = message?;
                f(&batch[..filled])?;
                let _ = empty_tx.send(batch);
            }
            Ok(())
        })
    }

    /// Calls `f(line, record_number, fields)` for every record including the header, until it
    /// returns Ok(false).
    fn raw_records(&self, f: &mut RecordFn<'_>) -> Result<()> {
        match &self.body {
            Body::Stream { delimiter, bom } => {
                let file = std::fs::File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
                let mut reader = BufReader::with_capacity(1 << 20, file);
                if *bom > 0 {
                    let mut skip = [0u8; 3];
                    reader
                        .read_exact(&mut skip[..*bom])
                        .map_err(|e| Error::io(&self.path, e))?;
                }
                self.csv_records(QuoteCounter::new(reader), *delimiter, f)
            }
            Body::Decoded { delimiter, text } => {
                self.csv_records(QuoteCounter::new(&text[..]), *delimiter, f)
            }
            Body::Sheet { rows } => {
                let mut fields: Vec<&str> = Vec::new();
                for (i, row) in rows.iter().enumerate() {
                    fields.clear();
                    fields.extend(row.iter().map(|s| s.as_str()));
                    if !f(i as u64 + 1, 0, &fields)? {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    fn csv_records<R: Read>(
        &self,
        input: QuoteCounter<R>,
        delimiter: u8,
        f: &mut RecordFn<'_>,
    ) -> Result<()> {
        let quotes = input.count.clone();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .delimiter(delimiter)
            .flexible(false)
            .from_reader(input);
        let mut rec = csv::ByteRecord::new();
        let mut last_field_spans_lines = false;
        let mut last_line = 0u64;
        loop {
            match reader.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let at_end = matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. })
                        && !reader.read_byte_record(&mut rec).unwrap_or(false);
                    return Err(self.csv_error(e, at_end && quotes.get() % 2 == 1));
                }
            }
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            last_line = line;
            last_field_spans_lines = rec.iter().next_back().is_some_and(|f| f.contains(&b'\n'));
            let fields = match record_fields(&rec) {
                Some(fields) => fields,
                None => return Err(self.first_utf8_error(line, &rec)),
            };
            let offset = rec.position().map(|p| p.byte()).unwrap_or(0);
            if !f(line, offset, &fields)? {
                return Ok(());
            }
        }
        // A lone inch mark inside an unquoted field is legal, so an odd count alone proves
        // nothing; an odd count with a last field that swallowed line breaks is an open quote.
        if quotes.get() % 2 == 1 && last_field_spans_lines {
            return Err(Error::input(format!(
                "{}:{last_line}: a quoted field that starts in this row is never closed; close \
                 the quote or double the \" inside the field",
                self.path.display()
            )));
        }
        Ok(())
    }

    fn csv_error(&self, e: csv::Error, unclosed_quote: bool) -> Error {
        let file = self.path.display();
        match e.kind() {
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => {
                let line = pos.as_ref().map(|p| p.line()).unwrap_or(0);
                if unclosed_quote {
                    Error::input(format!(
                        "{file}:{line}: a quoted field that starts in this row is never \
                         closed; close the quote or double the \" inside the field"
                    ))
                } else {
                    Error::input(format!(
                        "{file}:{line}: this row has {len} fields but the header has \
                         {expected_len}; check for a missing field or an unquoted delimiter"
                    ))
                }
            }
            csv::ErrorKind::Io(io) => Error::input(format!("{file}: cannot read: {io}")),
            _ => Error::input(format!("{file}: {e}")),
        }
    }

    fn first_utf8_error(&self, line: u64, rec: &csv::ByteRecord) -> Error {
        for (col, raw) in rec.iter().enumerate() {
            if let Err(err) = std::str::from_utf8(raw) {
                return self.utf8_error(line, col, raw, err);
            }
        }
        Error::input(format!("{}:{line}: invalid UTF-8", self.path.display()))
    }

    fn utf8_error(&self, line: u64, col: usize, raw: &[u8], err: std::str::Utf8Error) -> Error {
        let before = &raw[..err.valid_up_to()];
        let extra_lines = before.iter().filter(|&&b| b == b'\n').count() as u64;
        let name = self
            .headers
            .get(col)
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        let bad = raw.get(err.valid_up_to()).copied().unwrap_or(0);
        Error::input(format!(
            "{}:{}: column {}{name}: invalid UTF-8 (byte 0x{bad:02X} after {:?}); the file is \
             probably in another encoding: try --encoding windows-1252 (or the encoding it was \
             saved in)",
            self.path.display(),
            line + extra_lines,
            col + 1,
            String::from_utf8_lossy(&before[before.len().saturating_sub(20)..]),
        ))
    }
}

/// The record's fields as text, or None when one is not valid UTF-8. Validating the record's
/// buffer once is much faster than field by field; a field boundary inside a character would make
/// the whole buffer valid while its two fields are not, hence the boundary checks.
fn record_fields(rec: &csv::ByteRecord) -> Option<Vec<&str>> {
    let all = std::str::from_utf8(rec.as_slice()).ok()?;
    let mut fields = Vec::with_capacity(rec.len());
    let mut pos = 0;
    for raw in rec.iter() {
        let end = pos + raw.len();
        if !all.is_char_boundary(pos) || !all.is_char_boundary(end) {
            return None;
        }
        fields.push(&all[pos..end]);
        pos = end;
    }
    Some(fields)
}

fn text_body(path: &Path, head: &[u8], ext: &str, encoding: Option<&str>) -> Result<Body> {
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    if !utf16 && encoding.is_none() && head.contains(&0) {
        return Err(Error::input(format!(
            "{} does not look like a CSV, TSV or XLSX file (it contains binary data)",
            path.display()
        )));
    }
    let sniff_delimiter = |text: &[u8]| -> u8 {
        if ext == "tsv" || ext == "tab" {
            return b'\t';
        }
        let first_line = text.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let tabs = first_line.iter().filter(|&&b| b == b'\t').count();
        let commas = first_line.iter().filter(|&&b| b == b',').count();
        let semis = first_line.iter().filter(|&&b| b == b';').count();
        if tabs > commas && tabs >= semis {
            b'\t'
        } else if semis > commas && ext != "csv" {
            b';'
        } else {
            b','
        }
    };
    let label = match encoding {
        Some(l) => Some(l),
        None if head.starts_with(&[0xFF, 0xFE]) => Some("utf-16le"),
        None if head.starts_with(&[0xFE, 0xFF]) => Some("utf-16be"),
        None => None,
    };
    match label {
        None => {
            let bom = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
                3
            } else {
                0
            };
            Ok(Body::Stream {
                delimiter: sniff_delimiter(&head[bom..]),
                bom,
            })
        }
        Some(label) => {
            let enc =
                encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
                    Error::input(format!(
                        "unknown encoding {label:?}: use a name such as utf-8, utf-16, \
                     windows-1252, iso-8859-1 or shift_jis"
                    ))
                })?;
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            // decode() honours a BOM over the label, which is what a user with a BOM'd file wants.
            let (text, _, had_errors) = enc.decode(&bytes);
            if had_errors {
                return Err(Error::input(format!(
                    "{} is not valid {}: some bytes could not be decoded; check --encoding",
                    path.display(),
                    enc.name()
                )));
            }
            let text = text.into_owned().into_bytes();
            Ok(Body::Decoded {
                delimiter: sniff_delimiter(&text),
                text,
            })
        }
    }
}

fn read_sheet(path: &Path, sheet: Option<&str>) -> Result<Vec<Vec<String>>> {
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| {
        Error::input(format!(
            "{} cannot be read as a spreadsheet ({e}); lacrima reads CSV, TSV and XLSX",
            path.display()
        ))
    })?;
    let names = wb.sheet_names();
    let name = match sheet {
        Some(s) => {
            if !names.iter().any(|n| n == s) {
                return Err(Error::input(format!(
                    "{} has no sheet {s:?}; its sheets are: {}",
                    path.display(),
                    names.join(", ")
                )));
            }
            s.to_string()
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| Error::input(format!("{} has no sheets", path.display())))?,
    };
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| Error::input(format!("{}: sheet {name:?}: {e}", path.display())))?;
    let mut rows = Vec::new();
    for row in range.rows() {
        rows.push(row.iter().map(cell_text).collect::<Vec<String>>());
    }
    // Trailing empty rows are formatting, not respondents.
    while rows
        .last()
        .is_some_and(|r| r.iter().all(|c| c.trim().is_empty()))
    {
        rows.pop();
    }
    if rows.is_empty() {
        return Err(Error::input(format!(
            "{}: sheet {name:?} is empty",
            path.display()
        )));
    }
    Ok(rows)
}

fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format_number(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => excel_serial_to_iso(dt.as_f64(), dt.is_datetime()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Excel stores dates as days since 1899-12-30 (the 1900 leap-year bug folded in).
fn excel_serial_to_iso(serial: f64, _is_datetime: bool) -> String {
    let days = serial.floor() as i64;
    let secs = ((serial - serial.floor()) * 86_400.0).round() as i64;
    let base = time::Date::from_calendar_date(1899, time::Month::December, 30)
        .expect("a valid constant date");
    let Some(date) = base.checked_add(time::Duration::days(days)) else {
        return format_number(serial);
    };
    let d = format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    if secs == 0 {
        d
    } else {
        format!(
            "{d}T{:02}:{:02}:{:02}",
            secs / 3600,
            (secs % 3600) / 60,
            secs % 60
        )
    }
}

/// Counts `"` bytes as they are read, to tell an unclosed quote from a ragged row: the csv parser
/// accepts a quote left open until the end of the file.
struct QuoteCounter<R> {
    inner: R,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R> QuoteCounter<R> {
    fn new(inner: R) -> Self {
        QuoteCounter {
            inner,
            count: Default::default(),
        }
    }
}

impl<R: Read> Read for QuoteCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let q = buf[..n].iter().filter(|&&b| b == b'"').count() as u64;
        self.count.set(self.count.get() + q);
        Ok(n)
    }
}
