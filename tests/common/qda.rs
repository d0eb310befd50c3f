//! REFI-QDA files as the tests read them: the entries of a `.qdpx` ZIP, validation of a project
//! against the standard's schema with xmllint, and the attributes of the elements of its XML.

use super::Scratch;
use std::io::Read;
use std::path::Path;
use std::process::Command;

/// The REFI-QDA project schema.
pub const XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/reference/refi-qda/Project-mrt2019.xsd"
);

/// The bytes of one entry of a `.qdpx` file.
pub fn entry(qdpx: &Path, name: &str) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(qdpx).unwrap()).unwrap();
    let mut e = zip.by_name(name).unwrap();
    let mut out = Vec::new();
    e.read_to_end(&mut out).unwrap();
    out
}

/// The names of the entries of a `.qdpx` file.
pub fn entry_names(qdpx: &Path) -> Vec<String> {
    let zip = zip::ZipArchive::new(std::fs::File::open(qdpx).unwrap()).unwrap();
    zip.file_names().map(|n| n.unwrap().to_string()).collect()
}

/// Validates a `project.qde` with xmllint against the REFI-QDA schema; fails with xmllint's
/// errors when it does not validate.
pub fn validate(s: &Scratch, qde: &[u8]) {
    let file = s.write("project.qde", qde);
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", XSD])
        .arg(&file)
        .output()
        .expect("xmllint is installed (.ci/run installs libxml2-utils)");
    assert!(
        out.status.success(),
        "project.qde does not validate:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of `attr` in every element named `tag`, in document order.
pub fn attrs(xml: &str, tag: &str, attr: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.local_name().as_ref() == tag =>
            {
                if let Some(a) = e.try_get_attribute(attr).unwrap() {
                    out.push(
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned(),
                    );
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    out
}
