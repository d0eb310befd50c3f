//! Writing the `.qdpx` container: a ZIP whose memory does not grow with its entries.
//!
//! A project has one `sources/GUID.txt` per answer, so a ZIP writer that keeps a record of each
//! entry until it writes the central directory at the end (as the `zip` and `rawzip` crates do)
//! grows by a few hundred bytes per answer. Here each entry's central-directory record is
//! written to a spool file (unlinked, on disk) as soon as the entry is written, and copied after
//! the last entry.
//!
//! Every entry's size and CRC are known before its local header is written (a text is at hand; a
//! compressed part is deflated into a spool first), so there are no data descriptors and no
//! seeking back. ZIP64 records are written only where a count, size or offset needs them: more
//! than 65,534 entries is the usual case (a survey of 40,000 respondents with two questions).
//! Times are the DOS epoch (1980-01-01), so that two exports of one project are the same bytes.

use flate2::Compression;
use flate2::write::DeflateEncoder;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END_OF_DIRECTORY: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EXTRA: u16 = 0x0001;
/// Version 2.0 (deflate) and 4.5 (ZIP64) as "version needed to extract".
const VERSION_PLAIN: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// "Made by" Unix (3, so that readers honour the permissions) at version 4.5.
const MADE_BY: u16 = (3 << 8) | VERSION_ZIP64;
/// Names are UTF-8 (general purpose flag bit 11).
const UTF8_NAMES: u16 = 1 << 11;
/// 1980-01-01 00:00:00 in MS-DOS date and time fields.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
/// A regular file, readable and writable by its owner only, like the export itself.
const EXTERNAL_ATTRIBUTES: u32 = 0o100600 << 16;
const U32_MAX: u64 = u32::MAX as u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Stored = 0,
    Deflated = 8,
}

/// One entry's facts, as both headers state them.
struct Entry<'a> {
    name: &'a str,
    method: Method,
    crc: u32,
    size: u64,
    compressed: u64,
    offset: u64,
}

pub struct ZipOut<W: Write> {
    out: Counted<W>,
    directory: BufWriter<File>,
    directory_len: u64,
    entries: u64,
    /// Tests set this to exercise the ZIP64 records on small archives.
    always_zip64: bool,
}

impl<W: Write> ZipOut<W> {
    /// `directory` is an empty scratch file (the caller makes and unlinks it) for the central
    /// directory until `finish`.
    pub fn new(out: W, directory: File) -> ZipOut<W> {
        ZipOut {
            out: Counted { out, written: 0 },
            directory: BufWriter::with_capacity(1 << 16, directory),
            directory_len: 0,
            entries: 0,
            always_zip64: false,
        }
    }

    /// An entry whose bytes are at hand, stored as they are (answers are short; compressing
    /// each one alone gains little and costs most of an export's time).
    pub fn stored(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        let entry = Entry {
            name,
            method: Method::Stored,
            crc: crc32fast::hash(data),
            size: data.len() as u64,
            compressed: data.len() as u64,
            offset: self.out.written,
        };
        self.header(&entry)?;
        self.out.put(data)?;
        self.directory_record(&entry)
    }

    /// An entry compressed beforehand by [`Deflating`], copied from its spool.
    pub fn deflated(&mut self, name: &str, part: Deflated) -> io::Result<()> {
        let Deflated {
            mut file,
            crc,
            size,
            compressed,
        } = part;
        let entry = Entry {
            name,
            method: Method::Deflated,
            crc,
            size,
            compressed,
            offset: self.out.written,
        };
        self.header(&entry)?;
        file.seek(SeekFrom::Start(0))?;
        let copied = self.out.copy_from(&mut file)?;
        if copied != compressed {
            return Err(io::Error::other(format!(
                "the compressed {name} changed while it was copied ({copied} bytes, not {compressed})"
            )));
        }
        self.directory_record(&entry)
    }

    /// Writes the central directory and its end records; returns the output.
    pub fn finish(self) -> io::Result<W> {
        let ZipOut {
            mut out,
            directory,
            directory_len: size,
            entries: count,
            always_zip64,
        } = self;
        let start = out.written;
        let mut directory = directory
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        directory.seek(SeekFrom::Start(0))?;
        if out.copy_from(&mut directory)? != size {
            return Err(io::Error::other(
                "the ZIP's central directory changed on disk while it was copied",
            ));
        }
        let zip64 = always_zip64 || count >= 0xffff || size >= U32_MAX || start >= U32_MAX;
        let mut r = Vec::with_capacity(56 + 20 + 22);
        if zip64 {
            let record_at = out.written;
            put32(&mut r, ZIP64_END_OF_DIRECTORY);
            put64(&mut r, 44); // the size of the rest of this record
            put16(&mut r, MADE_BY);
            put16(&mut r, VERSION_ZIP64);
            put32(&mut r, 0); // this disk
            put32(&mut r, 0); // the disk where the directory starts
            put64(&mut r, count);
            put64(&mut r, count);
            put64(&mut r, size);
            put64(&mut r, start);
            put32(&mut r, ZIP64_LOCATOR);
            put32(&mut r, 0); // the disk holding the record above
            put64(&mut r, record_at);
            put32(&mut r, 1); // disks in all
        }
        put32(&mut r, END_OF_DIRECTORY);
        put16(&mut r, 0);
        put16(&mut r, 0);
        let short = if zip64 { 0xffff } else { count as u16 };
        put16(&mut r, short);
        put16(&mut r, short);
        put32(&mut r, if zip64 { u32::MAX } else { size as u32 });
        put32(&mut r, if zip64 { u32::MAX } else { start as u32 });
        put16(&mut r, 0); // no comment
        out.put(&r)?;
        out.out.flush()?;
        Ok(out.out)
    }

    fn header(&mut self, e: &Entry) -> io::Result<()> {
        check_name(e.name)?;
        // In a local header ZIP64 is all or nothing: both sizes go to the extra field.
        let zip64 = self.always_zip64 || e.size >= U32_MAX || e.compressed >= U32_MAX;
        let mut h = Vec::with_capacity(30 + e.name.len() + 20);
        put32(&mut h, LOCAL_HEADER);
        put16(&mut h, if zip64 { VERSION_ZIP64 } else { VERSION_PLAIN });
        put16(&mut h, UTF8_NAMES);
        put16(&mut h, e.method as u16);
        put16(&mut h, DOS_TIME);
        put16(&mut h, DOS_DATE);
        put32(&mut h, e.crc);
        put32(&mut h, if zip64 { u32::MAX } else { e.compressed as u32 });
        put32(&mut h, if zip64 { u32::MAX } else { e.size as u32 });
        put16(&mut h, e.name.len() as u16);
        put16(&mut h, if zip64 { 20 } else { 0 });
        h.extend_from_slice(e.name.as_bytes());
        if zip64 {
            put16(&mut h, ZIP64_EXTRA);
            put16(&mut h, 16);
            put64(&mut h, e.size);
            put64(&mut h, e.compressed);
        }
        self.out.put(&h)
    }

    fn directory_record(&mut self, e: &Entry) -> io::Result<()> {
        let force = self.always_zip64;
        // In the central directory only the fields that overflow go to the extra field, in
        // this order.
        let mut extra = Vec::new();
        let mut field = |value: u64| -> u32 {
            if force || value >= U32_MAX {
                put64(&mut extra, value);
                u32::MAX
            } else {
                value as u32
            }
        };
        let size = field(e.size);
        let compressed = field(e.compressed);
        let offset = field(e.offset);
        let zip64 = !extra.is_empty();
        let mut r = Vec::with_capacity(46 + e.name.len() + 28);
        put32(&mut r, CENTRAL_HEADER);
        put16(&mut r, MADE_BY);
        put16(&mut r, if zip64 { VERSION_ZIP64 } else { VERSION_PLAIN });
        put16(&mut r, UTF8_NAMES);
        put16(&mut r, e.method as u16);
        put16(&mut r, DOS_TIME);
        put16(&mut r, DOS_DATE);
        put32(&mut r, e.crc);
        put32(&mut r, compressed);
        put32(&mut r, size);
        put16(&mut r, e.name.len() as u16);
        put16(&mut r, if zip64 { 4 + extra.len() as u16 } else { 0 });
        put16(&mut r, 0); // no comment
        put16(&mut r, 0); // starts on disk 0
        put16(&mut r, 0); // internal attributes: binary
        put32(&mut r, EXTERNAL_ATTRIBUTES);
        put32(&mut r, offset);
        r.extend_from_slice(e.name.as_bytes());
        if zip64 {
            put16(&mut r, ZIP64_EXTRA);
            put16(&mut r, extra.len() as u16);
            r.extend_from_slice(&extra);
        }
        self.directory.write_all(&r)?;
        self.directory_len += r.len() as u64;
        self.entries += 1;
        Ok(())
    }
}

/// The output and how many bytes have gone to it: the next entry's offset.
struct Counted<W> {
    out: W,
    written: u64,
}

impl<W: Write> Counted<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn copy_from(&mut self, from: &mut File) -> io::Result<u64> {
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            let n = from.read(&mut buf)?;
            if n == 0 {
                return Ok(total);
            }
            self.put(&buf[..n])?;
            total += n as u64;
        }
    }
}

fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name.len() > u16::MAX as usize {
        return Err(io::Error::other(format!(
            "a ZIP entry name must be 1 to 65,535 bytes long, not {}",
            name.len()
        )));
    }
    Ok(())
}

/// A part of the archive compressed into a spool file as it is written, so that its CRC and
/// sizes are known before its header is.
pub struct Deflating {
    encoder: DeflateEncoder<BufWriter<File>>,
    crc: crc32fast::Hasher,
    size: u64,
}

/// A part compressed by [`Deflating`], ready for [`ZipOut::deflated`].
pub struct Deflated {
    file: File,
    crc: u32,
    size: u64,
    compressed: u64,
}

impl Deflating {
    /// `spool` is an empty scratch file. The fastest level: a project's XML is mostly GUIDs and
    /// tags, which compress well at any level, and the default level was a quarter of an
    /// export's time.
    pub fn new(spool: File) -> Deflating {
        Deflating {
            encoder: DeflateEncoder::new(
                BufWriter::with_capacity(1 << 16, spool),
                Compression::fast(),
            ),
            crc: crc32fast::Hasher::new(),
            size: 0,
        }
    }

    pub fn done(self) -> io::Result<Deflated> {
        let mut file = self
            .encoder
            .finish()?
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        let compressed = file.stream_position()?;
        Ok(Deflated {
            file,
            crc: self.crc.finalize(),
            size: self.size,
            compressed,
        })
    }
}

impl Write for Deflating {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.encoder.write(buf)?;
        self.crc.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.encoder.flush()
    }
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::process::Command;

    fn archive(entries: &[(&str, &[u8])], deflated: &[(&str, &[u8])], zip64: bool) -> Vec<u8> {
        let mut z = ZipOut::new(Vec::new(), tempfile::tempfile().unwrap());
        z.always_zip64 = zip64;
        for (name, data) in entries {
            z.stored(name, data).unwrap();
        }
        for (name, data) in deflated {
            let mut d = Deflating::new(tempfile::tempfile().unwrap());
            d.write_all(data).unwrap();
            z.deflated(name, d.done().unwrap()).unwrap();
        }
        z.finish().unwrap()
    }

    /// Every entry read back by the `zip` crate (which checks each CRC as it reads).
    fn read_back(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..a.len())
            .map(|i| {
                let mut f = a.by_index(i).unwrap();
                let mut data = Vec::new();
                f.read_to_end(&mut data).unwrap();
                (f.name().unwrap().to_string(), data)
            })
            .collect()
    }

    /// Python's zipfile and Info-ZIP's unzip, the readers other tools' authors test with.
    fn others_accept(bytes: &[u8]) {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), bytes).unwrap();
        let py = Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
                 assert z.testzip() is None; print(len(z.infolist()))",
            ])
            .arg(f.path())
            .output()
            .expect("python3 is installed by .ci/run");
        assert!(
            py.status.success(),
            "{}",
            String::from_utf8_lossy(&py.stderr)
        );
        if let Ok(out) = Command::new("unzip").arg("-tq").arg(f.path()).output() {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }

    #[test]
    fn stored_and_deflated_entries_come_back_byte_for_byte() {
        let text = "Ich habe geweint 😢, und dann?\n".repeat(50);
        let bytes = archive(
            &[("sources/a.txt", b"first"), ("sources/\u{00e9}.txt", b"")],
            &[("project.qde", text.as_bytes())],
            false,
        );
        let back = read_back(&bytes);
        assert_eq!(
            back,
            vec![
                ("sources/a.txt".to_string(), b"first".to_vec()),
                ("sources/\u{00e9}.txt".to_string(), Vec::new()),
                ("project.qde".to_string(), text.into_bytes()),
            ]
        );
        others_accept(&bytes);
    }

    #[test]
    fn zip64_records_are_read_by_every_reader() {
        let bytes = archive(&[("a", b"one"), ("b", b"two")], &[("c", b"three")], true);
        assert_eq!(read_back(&bytes).len(), 3);
        others_accept(&bytes);
    }

    #[test]
    fn more_entries_than_a_plain_zip_can_count() {
        let names: Vec<String> = (0..70_000).map(|i| format!("sources/{i}.txt")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        let bytes = archive(&entries, &[], false);
        let a = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(a.len(), 70_000);
        others_accept(&bytes);
    }

    #[test]
    fn the_same_entries_make_the_same_bytes() {
        let one = archive(&[("a", b"x")], &[("b", b"y")], false);
        let two = archive(&[("a", b"x")], &[("b", b"y")], false);
        assert_eq!(one, two);
    }

    #[test]
    fn the_central_directory_is_not_held_in_memory() {
        // What the writer keeps is a fixed-size struct: the records are in the scratch file.
        let mut z = ZipOut::new(std::io::sink(), tempfile::tempfile().unwrap());
        for i in 0..1000 {
            z.stored(&format!("sources/{i}.txt"), b"answer").unwrap();
        }
        assert!(z.directory_len > 1000 * 46);
        assert!(z.directory.buffer().len() < 1 << 16);
    }
}
