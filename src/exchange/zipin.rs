//! Reading a `.qdpx` (a ZIP) safely: every entry name is checked before anything is read, and
//! every byte inflated is counted against limits, so that a hostile file (a ZIP bomb, an entry
//! named `../../x`) is refused with a message instead of filling the disk or the memory.
//!
//! Limits (what a real project needs is far below them):
//! - all entries read together: at most 2 GiB inflated ([`Limits::total`]);
//! - any one entry: at most 1 GiB ([`Limits::entry`]), and at most 200 times its compressed size
//!   plus 1 MiB ([`Limits::ratio`]). Deflate can reach about 1000:1 on a run of one byte; XML and
//!   survey answers compress 5-30:1, so 200:1 is only ever reached by a bomb.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub total: u64,
    pub entry: u64,
    pub ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            total: 2 << 30,
            entry: 1 << 30,
            ratio: 200,
        }
    }
}

/// A file read with positioned reads, so that clones (one streaming `project.qde`, one fetching
/// `sources/*.txt`) never move each other's position.
#[derive(Clone)]
pub struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = {
            use std::os::unix::fs::FileExt;
            self.file.read_at(buf, self.pos)?
        };
        #[cfg(not(unix))]
        let n = {
            use std::os::windows::fs::FileExt;
            self.file.seek_read(buf, self.pos)?
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad seek"))?;
        Ok(self.pos)
    }
}

pub type Archive = zip::ZipArchive<SharedFile>;

/// The archive, its name for messages, and what has been inflated from it so far.
pub struct Qdpx {
    pub archive: Archive,
    pub file: String,
    limits: Limits,
    inflated: Arc<AtomicU64>,
}

impl Qdpx {
    pub fn open(path: &Path, limits: Limits) -> Result<Qdpx> {
        let file = path.display().to_string();
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
        let shared = SharedFile {
            file: Arc::new(f),
            pos: 0,
            len,
        };
        let archive = zip::ZipArchive::new(shared).map_err(|e| {
            Error::input(format!(
                "{file} is not a REFI-QDA project: it is not a ZIP file ({e}); a .qdpx is a ZIP \
                 holding project.qde"
            ))
        })?;
        let q = Qdpx {
            archive,
            file,
            limits,
            inflated: Arc::new(AtomicU64::new(0)),
        };
        q.check_names()?;
        Ok(q)
    }

    /// A second handle on the same archive (shares the limits' count).
    pub fn another(&self) -> Qdpx {
        Qdpx {
            archive: self.archive.clone(),
            file: self.file.clone(),
            limits: self.limits,
            inflated: self.inflated.clone(),
        }
    }

    /// Refuses an archive with an entry that would escape the folder it is unpacked into: such a
    /// name is never legitimate in a `.qdpx`, and a tool that extracts the file (as some QDA
    /// programs do) would write outside its folder.
    fn check_names(&self) -> Result<()> {
        for raw in self.archive.file_names_raw() {
            let name = String::from_utf8_lossy(raw);
            let unsafe_name = name.starts_with('/')
                || name.starts_with('\\')
                || name.as_bytes().get(1) == Some(&b':')
                || name.contains('\0')
                || name.split(['/', '\\']).any(|part| part == "..");
            if unsafe_name {
                return Err(Error::input(format!(
                    "{}: the ZIP entry {name:?} is absolute or climbs out of the archive (..); \
                     the file was refused and nothing was imported",
                    self.file
                )));
            }
        }
        Ok(())
    }

    pub fn has_entry(&self, name: &str) -> bool {
        self.archive.index_for_name_raw(name.as_bytes()).is_some()
    }

    /// The project XML: `project.qde`, or the only `.qde` at the top of the archive (some tools
    /// name it after the project).
    pub fn project_entry(&self) -> Result<String> {
        if self.has_entry("project.qde") {
            return Ok("project.qde".into());
        }
        let qde: Vec<String> = self
            .archive
            .file_names_raw()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .filter(|n| !n.contains('/') && n.to_lowercase().ends_with(".qde"))
            .collect();
        match qde.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::input(format!(
                "{}: no project.qde in the archive; a .qdpx holds its project as project.qde",
                self.file
            ))),
            many => Err(Error::input(format!(
                "{}: no project.qde, and several .qde files ({}); which one is the project is \
                 not clear",
                self.file,
                many.join(", ")
            ))),
        }
    }

    /// A reader of one entry that fails (never truncates silently) past the limits.
    pub fn entry(&mut self, name: &str) -> Result<Limited<zip::read::ZipFile<'_, SharedFile>>> {
        let index = self
            .archive
            .index_for_name_raw(name.as_bytes())
            .ok_or_else(|| Error::input(format!("{}: no entry {name}", self.file)))?;
        let file = self.file.clone();
        let limits = self.limits;
        let inflated = self.inflated.clone();
        let entry = self
            .archive
            .by_index(index)
            .map_err(|e| Error::input(format!("{file}: the entry {name} cannot be read: {e}")))?;
        let allowed = limits
            .entry
            .min(entry.compressed_size().saturating_mul(limits.ratio) + (1 << 20));
        Ok(Limited {
            inner: entry,
            read: 0,
            allowed,
            limits,
            inflated,
            what: format!("{file}: {name}"),
        })
    }

    /// The whole of a (small) entry.
    pub fn read_entry(&mut self, name: &str) -> Result<Vec<u8>> {
        let file = self.file.clone();
        let mut r = self.entry(name)?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)
            .map_err(|e| io_error(&file, name, e))?;
        Ok(out)
    }
}

/// An I/O error while inflating: a limit reached (its message says which), or a damaged entry.
pub fn io_error(file: &str, entry: &str, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::FileTooLarge {
        Error::input(e.to_string())
    } else {
        Error::input(format!(
            "{file}: the entry {entry} cannot be read (the ZIP is damaged?): {e}"
        ))
    }
}

pub struct Limited<R> {
    inner: R,
    read: u64,
    allowed: u64,
    limits: Limits,
    inflated: Arc<AtomicU64>,
    what: String,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let total = self.inflated.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if self.read > self.allowed {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!(
                    "{} inflates to more than {} bytes ({} times its compressed size, or over \
                     {} MiB): a ZIP bomb is likely, so the file was refused and nothing was \
                     imported",
                    self.what,
                    self.allowed,
                    self.limits.ratio,
                    self.limits.entry >> 20
                ),
            ));
        }
        if total > self.limits.total {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!(
                    "{}: the archive inflates to more than {} MiB in all; lacrima reads at most \
                     that much from one .qdpx, so the file was refused and nothing was imported",
                    self.what,
                    self.limits.total >> 20
                ),
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(entries: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut w = zip::ZipWriter::new(f.reopen().unwrap());
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        f
    }

    #[test]
    fn the_total_limit_counts_every_entry_read() {
        let a = vec![b'a'; 3000];
        let f = zip_with(&[("project.qde", &a), ("sources/x.txt", &a)]);
        let limits = Limits {
            total: 5000,
            entry: 1 << 20,
            ratio: 1000,
        };
        let mut q = Qdpx::open(f.path(), limits).unwrap();
        q.read_entry("project.qde").unwrap();
        let mut other = q.another();
        let err = other.read_entry("sources/x.txt").unwrap_err().to_string();
        assert!(err.contains("more than 0 MiB in all"), "{err}");
    }

    #[test]
    fn clones_read_independently() {
        let f = zip_with(&[("a", b"first"), ("b", b"second")]);
        let mut q = Qdpx::open(f.path(), Limits::default()).unwrap();
        let mut other = q.another();
        let mut ra = q.entry("a").unwrap();
        let mut one = [0u8; 2];
        ra.read_exact(&mut one).unwrap();
        assert_eq!(other.read_entry("b").unwrap(), b"second");
        let mut rest = Vec::new();
        ra.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"rst");
    }
}
