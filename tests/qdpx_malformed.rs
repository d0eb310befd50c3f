//! A broken or hostile .qdpx gets a message that names the place, and leaves the project exactly
//! as it was: a project the command would have made is not left behind, and a project that
//! only had a codebook still has only that codebook.

mod common;
mod qdpx_support;

use common::*;
use qdpx_support::*;

const USER: &str =
    "<Users><User guid=\"aaaaaaaa-0000-4000-8000-000000000001\" name=\"ana\"/></Users>";

fn codebook(codes: &str) -> String {
    format!("<CodeBook><Codes>{codes}</Codes></CodeBook>")
}

const CODE: &str =
    "<Code guid=\"10000000-0000-4000-8000-000000000001\" name=\"closeness\" isCodable=\"true\"/>";

fn source(children: &str) -> String {
    format!(
        "<Sources><TextSource guid=\"20000000-0000-4000-8000-000000000001\" name=\"R1 answer\" \
         plainTextPath=\"internal://t.txt\">{children}</TextSource></Sources>"
    )
}

fn selection(start: &str, end: &str, code: &str) -> String {
    format!(
        "<PlainTextSelection guid=\"30000000-0000-4000-8000-000000000001\" {start} {end}>\
         <Coding guid=\"40000000-0000-4000-8000-000000000001\"><CodeRef targetGUID=\"{code}\"/></Coding>\
         </PlainTextSelection>"
    )
}

const TEXT: (&str, &str) = ("sources/t.txt", "We grew closer.");

/// Runs the import of `file` into a new project and into a project with a codebook only;
/// both fail with a message containing every one of `expected`, and change nothing.
fn refused(s: &Scratch, file: &str, expected: &[&str]) {
    let new = s.path("new.db");
    let out = lacrima_at(s.dir.path(), &new, &["import", "qdpx", file])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    for e in expected {
        assert!(err.contains(e), "{e:?} not in: {err}");
    }
    assert!(out.stdout.is_empty());
    assert!(
        !new.exists(),
        "the project made for the import was removed: {err}"
    );
    let schema = "SELECT type, name, ifnull(sql, '') FROM sqlite_schema ORDER BY name";
    let (before, indexes) = (dump(&s.project()), rows(&s.project(), schema));
    s.lacrima(&["import", "qdpx", file]).assert().code(1);
    assert_eq!(dump(&s.project()), before, "{file}: the project changed");
    assert_eq!(
        rows(&s.project(), schema),
        indexes,
        "{file}: the schema changed"
    );
}

fn scratch() -> Scratch {
    let s = Scratch::new();
    s.lacrima(&["init"]).assert().success();
    s.write("codebook.csv", "name,color\nalready here,#123456\n");
    s.lacrima(&["codebook", "import", "codebook.csv"])
        .assert()
        .success();
    s
}

#[test]
fn files_that_are_not_projects() {
    let s = scratch();
    s.write("plain.qdpx", "name,answer\nR1,hello\n");
    refused(
        &s,
        "plain.qdpx",
        &["plain.qdpx is not a REFI-QDA project: it is not a ZIP file"],
    );
    zip_file(&s.path("empty.qdpx"), &[("readme.txt", b"nothing here")]);
    refused(
        &s,
        "empty.qdpx",
        &["empty.qdpx: no project.qde in the archive"],
    );
    zip_file(
        &s.path("codebook.qdpx"),
        &[(
            "project.qde",
            b"<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\"><Codes/></CodeBook>",
        )],
    );
    refused(
        &s,
        "codebook.qdpx",
        &[
            "project.qde:1:1",
            "not <Project>",
            "lacrima codebook import",
        ],
    );
    zip_file(
        &s.path("json.qdpx"),
        &[
            ("project.qde", project("lacrima 0.1.0", "").as_bytes()),
            ("lacrima.json", b"{\"questions\": [oops"),
        ],
    );
    refused(&s, "json.qdpx", &["lacrima.json cannot be read"]);
}

#[test]
fn xml_that_is_not_well_formed_names_the_line_and_column() {
    let s = scratch();
    let qde =
        "<?xml version=\"1.0\"?>\n<Project name=\"p\">\n  <Users>\n  </Sources>\n</Project>\n";
    qdpx(&s.path("tags.qdpx"), qde, &[]);
    refused(
        &s,
        "tags.qdpx",
        &["tags.qdpx: project.qde:4:3: the XML is not well-formed"],
    );
    let whole = project("x", &source("<PlainTextContent>half"));
    let cut = &whole[..whole.find("half").unwrap() + 4];
    qdpx(&s.path("cut.qdpx"), cut, &[TEXT]);
    refused(
        &s,
        "cut.qdpx",
        &["the file ends inside <", "is it cut short?"],
    );
    let entity = project("x", &source("<PlainTextContent>&boom;</PlainTextContent>"));
    qdpx(&s.path("entity.qdpx"), &entity, &[TEXT]);
    refused(&s, "entity.qdpx", &["the entity &boom; is not defined"]);
}

#[test]
fn elements_without_their_required_attributes() {
    let s = scratch();
    let cases: [(&str, String, &str); 6] = [
        (
            "noname",
            codebook("<Code guid=\"10000000-0000-4000-8000-000000000001\" isCodable=\"true\"/>"),
            "<Code guid=\"10000000-0000-4000-8000-000000000001\"> has no name, which is required",
        ),
        (
            "noguid",
            codebook("\n<Code name=\"closeness\" isCodable=\"true\"/>"),
            "project.qde:4:1: <Code name=\"closeness\"> has no guid",
        ),
        (
            "badguid",
            codebook("<Code guid=\"p\" name=\"closeness\" isCodable=\"true\"/>"),
            "\"p\" is not a GUID",
        ),
        (
            "nostart",
            format!(
                "{USER}{}{}",
                codebook(CODE),
                source(&selection(
                    "",
                    "endPosition=\"3\"",
                    "10000000-0000-4000-8000-000000000001"
                ))
            ),
            "<PlainTextSelection guid=\"30000000-0000-4000-8000-000000000001\"> has no startPosition",
        ),
        (
            "nocoderef",
            format!(
                "{}{}",
                codebook(CODE),
                source("<Coding guid=\"40000000-0000-4000-8000-000000000001\"/>")
            ),
            "has no <CodeRef>, which is required",
        ),
        (
            "notanumber",
            format!(
                "{}{}",
                codebook(CODE),
                source(&selection(
                    "startPosition=\"two\"",
                    "endPosition=\"3\"",
                    "10000000-0000-4000-8000-000000000001"
                ))
            ),
            "startPosition \"two\" is not a position",
        ),
    ];
    for (name, body, expected) in cases {
        let file = format!("{name}.qdpx");
        qdpx(&s.path(&file), &project("x", &body), &[TEXT]);
        refused(&s, &file, &[expected]);
    }
}

#[test]
fn selections_beyond_their_text() {
    let s = scratch();
    let code = "10000000-0000-4000-8000-000000000001";
    for (name, start, end, expected) in [
        (
            "reversed",
            "5",
            "2",
            "startPosition 5 is after endPosition 2",
        ),
        (
            "past",
            "3",
            "16",
            "endPosition 16 is past the end of the text of source \"R1 answer\", which has 15 characters",
        ),
    ] {
        let body = format!(
            "{}{}",
            codebook(CODE),
            source(&selection(
                &format!("startPosition=\"{start}\""),
                &format!("endPosition=\"{end}\""),
                code
            ))
        );
        let file = format!("{name}.qdpx");
        qdpx(&s.path(&file), &project("x", &body), &[TEXT]);
        refused(&s, &file, &[expected, "project.qde:"]);
    }
}

#[test]
fn references_to_nothing_and_guids_used_twice() {
    let s = scratch();
    let twice = codebook(&format!(
        "{CODE}<Code guid=\"{{10000000-0000-4000-8000-000000000001}}\" name=\"other\" isCodable=\"true\"/>"
    ));
    qdpx(&s.path("twice.qdpx"), &project("x", &twice), &[]);
    refused(
        &s,
        "twice.qdpx",
        &["the code GUID {10000000-0000-4000-8000-000000000001} is used twice"],
    );
    let unknown = format!(
        "{}{}",
        codebook(CODE),
        source(&selection(
            "startPosition=\"0\"",
            "endPosition=\"2\"",
            "99999999-0000-4000-8000-000000000001"
        ))
    );
    qdpx(&s.path("unknown.qdpx"), &project("x", &unknown), &[TEXT]);
    refused(
        &s,
        "unknown.qdpx",
        &["<CodeRef targetGUID=\"99999999-0000-4000-8000-000000000001\"> refers to no <Code>"],
    );
    let nowhere = "<Cases><Case guid=\"50000000-0000-4000-8000-000000000001\" name=\"R1\">\
                   <SourceRef targetGUID=\"60000000-0000-4000-8000-000000000001\"/></Case></Cases>";
    qdpx(&s.path("nowhere.qdpx"), &project("x", nowhere), &[]);
    refused(
        &s,
        "nowhere.qdpx",
        &["SourceRef to the source 60000000-0000-4000-8000-000000000001"],
    );
    let note = source("<NoteRef targetGUID=\"70000000-0000-4000-8000-000000000001\"/>");
    qdpx(&s.path("note.qdpx"), &project("x", &note), &[TEXT]);
    refused(
        &s,
        "note.qdpx",
        &["the NoteRef points at the note 70000000-0000-4000-8000-000000000001"],
    );
    let two = "<Sources><TextSource guid=\"20000000-0000-4000-8000-000000000001\"><PlainTextContent>a</PlainTextContent></TextSource>\
         <TextSource guid=\"20000000-0000-4000-8000-000000000001\"><PlainTextContent>b</PlainTextContent></TextSource></Sources>";
    qdpx(&s.path("twosources.qdpx"), &project("x", two), &[]);
    refused(&s, "twosources.qdpx", &["the source GUID is used twice"]);
}

#[test]
fn texts_that_are_missing_outside_or_not_utf8() {
    let s = scratch();
    let body = source("");
    qdpx(&s.path("missing.qdpx"), &project("x", &body), &[]);
    refused(
        &s,
        "missing.qdpx",
        &["its text internal://t.txt is not in the archive"],
    );
    let outside = "<Sources><TextSource guid=\"20000000-0000-4000-8000-000000000001\" \
                   plainTextPath=\"absolute:///home/ana/interview.txt\"/></Sources>";
    qdpx(&s.path("outside.qdpx"), &project("x", outside), &[]);
    refused(&s, "outside.qdpx", &["its text is outside the .qdpx"]);
    zip_file(
        &s.path("latin1.qdpx"),
        &[
            ("project.qde", project("x", &body).as_bytes()),
            ("sources/t.txt", b"caf\xe9"),
        ],
    );
    refused(
        &s,
        "latin1.qdpx",
        &["latin1.qdpx: sources/t.txt: invalid UTF-8 at byte 3"],
    );
}

#[test]
fn hostile_archives_are_refused() {
    let s = scratch();
    let qde = project("x", "");
    for (name, entry) in [
        ("climb", "sources/../../etc/cron.d/x"),
        ("absolute", "/etc/passwd"),
        ("windows", "C:\\Windows\\x.txt"),
    ] {
        let file = format!("{name}.qdpx");
        zip_file(
            &s.path(&file),
            &[("project.qde", qde.as_bytes()), (entry, b"x")],
        );
        refused(
            &s,
            &file,
            &[&format!(
                "the ZIP entry {entry:?} is absolute or climbs out"
            )],
        );
    }
    // 20 MB of spaces in project.qde deflate to some 20 kB: far past what XML compresses to.
    let mut bomb = project("x", "").into_bytes();
    bomb.splice(10..10, std::iter::repeat_n(b' ', 20 << 20));
    zip_file(&s.path("bomb.qdpx"), &[("project.qde", &bomb)]);
    refused(
        &s,
        "bomb.qdpx",
        &["bomb.qdpx: project.qde inflates to more than", "ZIP bomb"],
    );
}
