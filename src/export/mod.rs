//! Writers: every export goes to stdout, or to a file written beside its target with mode 0600 and
//! renamed into place, so a reader never sees half a file.

pub mod codebook;
pub mod codings;
pub mod dataset;
pub mod spreadsheet;

use crate::error::{Error, Result};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub enum Output {
    Stdout(BufWriter<std::io::Stdout>),
    File {
        writer: BufWriter<std::fs::File>,
        tmp: PathBuf,
        target: PathBuf,
    },
}

impl Output {
    pub fn open(out: Option<&Path>) -> Result<Output> {
        match out {
            None => Ok(Output::Stdout(BufWriter::with_capacity(
                1 << 16,
                std::io::stdout(),
            ))),
            Some(target) => {
                crate::store::refuse_project_path(target, "the export")?;
                let tmp = crate::store::sibling_temp(target);
                let _ = std::fs::remove_file(&tmp);
                let file = crate::store::create_private_file(&tmp)?;
                Ok(Output::File {
                    writer: BufWriter::with_capacity(1 << 16, file),
                    tmp,
                    target: target.to_path_buf(),
                })
            }
        }
    }

    /// Flushes and, for a file, renames it into place.
    pub fn finish(mut self) -> Result<()> {
        match &mut self {
            Output::Stdout(w) => w.flush().map_err(|e| Error::io("<stdout>", e)),
            Output::File {
                writer,
                tmp,
                target,
            } => {
                let res = writer
                    .flush()
                    .and_then(|_| writer.get_ref().sync_all())
                    .and_then(|_| std::fs::rename(&*tmp, &*target));
                match res {
                    Ok(()) => {
                        // Renamed: nothing is left for Drop to clean up.
                        *tmp = PathBuf::new();
                        Ok(())
                    }
                    Err(e) => Err(Error::io(&*target, e)),
                }
            }
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // A file that was never finished is not left behind half written.
        if let Output::File { tmp, .. } = self
            && !tmp.as_os_str().is_empty()
        {
            let _ = std::fs::remove_file(&*tmp);
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::File { writer, .. } => writer.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::File { writer, .. } => writer.flush(),
        }
    }
}

/// Maps a write error; a closed pipe (`lacrima export ... | head`) surfaces as BrokenPipe, which
/// the command line treats as success.
pub fn write_err(e: impl Into<std::io::Error>) -> Error {
    Error::io("<output>", e.into())
}

pub fn csv_err(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => write_err(io),
        other => Error::input(format!("cannot write CSV: {other:?}")),
    }
}
