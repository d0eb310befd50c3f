//! A team shares its codebook as a REFI-QDA .qdc: lacrima reads it into a project's codebook,
//! updating codes by GUID (renaming them if the file does) or else by name, adding new ones,
//! with their hierarchy, colours, descriptions and whether they can be applied.

mod common;
mod qdpx_support;

use common::*;
use qdpx_support::*;

fn codes(db: &std::path::Path) -> Vec<Vec<String>> {
    rows(
        db,
        "SELECT c.name, ifnull(p.name, ''), c.description, c.inclusion, c.exclusion, c.example,
                ifnull(c.color, ''), c.codable
         FROM codes c LEFT JOIN codes p ON p.id = c.parent_id ORDER BY c.id",
    )
}

// ATLAS.ti writes the 0:4 schema location, upper-case colours and code groups as Sets.
const ATLAS_QDC: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>
<CodeBook xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"urn:QDA-XML:codebook:0:4 Codebook.xsd\" origin=\"ATLAS.ti Win 23.4.0\" xmlns=\"urn:QDA-XML:codebook:1.0\">
  <Codes>
    <Code guid=\"51191CEE-BF78-4E92-9DF8-3AE66721E038\" name=\"Relationship\" color=\"#006EFF\" isCodable=\"false\">
      <Description>What changed between them.</Description>
      <Code guid=\"14C4E248-F726-42CB-B1CD-A65D6A86F296\" name=\"Deepened\" isCodable=\"true\">
        <Description>Rapport improved.

Include: trust, closeness

Exclude: mere politeness

Example: \"we grew closer\"</Description>
      </Code>
    </Code>
    <Code guid=\"1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294\" name=\"Nothing noticeable\" color=\"#46AA00\" isCodable=\"true\"/>
  </Codes>
  <Sets>
    <Set name=\"code group 1\" guid=\"ECA18D76-2B8B-4F26-BC1D-19ECA19FB3F0\">
      <Description>kategorie 1</Description>
      <MemberCode guid=\"1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294\" />
    </Set>
  </Sets>
</CodeBook>
";

#[test]
fn an_atlas_ti_codebook_becomes_the_codebook_with_its_tree_and_fields() {
    let s = Scratch::new();
    s.lacrima(&["init"]).assert().success();
    s.write("atlas.qdc", ATLAS_QDC);
    let out = s
        .lacrima(&["codebook", "import", "atlas.qdc"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "codebook: 3 codes added, 0 updated, 0 unchanged\n"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("1 Sets (code groups)"), "{err}");
    assert_eq!(
        codes(&s.project()),
        [
            [
                "Relationship",
                "",
                "What changed between them.",
                "",
                "",
                "",
                "#006eff",
                "i0"
            ],
            [
                "Deepened",
                "Relationship",
                "Rapport improved.",
                "trust, closeness",
                "mere politeness",
                "\"we grew closer\"",
                "",
                "i1"
            ],
            ["Nothing noticeable", "", "", "", "", "", "#46aa00", "i1"]
        ]
    );
    assert_eq!(
        rows(&s.project(), "SELECT guid FROM codes ORDER BY id")[0][0],
        "51191CEE-BF78-4E92-9DF8-3AE66721E038",
        "codes keep their GUIDs as written"
    );
    // Reading the same file again changes nothing.
    s.lacrima(&["codebook", "import", "atlas.qdc"])
        .assert()
        .success()
        .stdout("codebook: 0 codes added, 0 updated, 3 unchanged\n");
}

#[test]
fn codes_are_updated_by_guid_then_by_name_and_new_ones_added() {
    let s = small_project();
    let guid: String = query_one(
        &s.project(),
        "SELECT guid FROM codes WHERE name = 'Deepened'",
    );
    // Another tool renamed "Deepened", recoloured "Nothing noticeable" (found by name, under a
    // GUID of its own), and added a code. NVivo for Mac writes the namespace as 1:0.
    let qdc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\" ?><CodeBook origin=\"NVivo 12 For Mac\" xmlns=\"urn:QDA-XML:codebook:1:0\"><Codes>\
         <Code guid=\"{}\" name=\"Rapport deepened\" isCodable=\"true\" color=\"#FF7F0E\"><Description>Rapport improved</Description></Code>\
         <Code guid=\"00000000-1111-4222-8333-444444444444\" name=\"nothing noticeable\" isCodable=\"true\" color=\"#000000\"/>\
         <Code guid=\"00000000-1111-4222-8333-555555555555\" name=\"Client unaware\" isCodable=\"true\"/>\
         </Codes></CodeBook>",
        guid.to_uppercase()
    );
    s.write("nvivo.qdc", qdc);
    s.lacrima(&["codebook", "import", "nvivo.qdc"])
        .assert()
        .success()
        .stdout("codebook: 1 codes added, 2 updated, 0 unchanged\n");
    let db = s.project();
    assert_eq!(
        rows(&db, "SELECT name FROM codes ORDER BY id"),
        [
            ["Client"],
            ["Felt cared for"],
            ["Relationship"],
            ["Rapport deepened"],
            ["Nothing noticeable"],
            ["Client unaware"]
        ]
    );
    let renamed: String = query_one(
        &db,
        "SELECT guid FROM codes WHERE name = 'Rapport deepened'",
    );
    assert_eq!(renamed, guid, "the renamed code is the same code");
    assert_eq!(
        rows(
            &db,
            "SELECT color, shortcut FROM codes WHERE name = 'Nothing noticeable'"
        ),
        [["#000000", "3"]],
        "found by name: colour updated, shortcut kept"
    );
    // The file puts it at the top of the tree, and so does the project now.
    assert_eq!(
        rows(
            &db,
            "SELECT ifnull(parent_id, 'top') FROM codes WHERE name = 'Rapport deepened'"
        ),
        [["top"]]
    );
}

#[test]
fn a_codebook_exported_as_qdc_reads_back_into_another_project() {
    let s = demo();
    s.lacrima(&["codebook", "export", "--format", "qdc", "--out", "tcit.qdc"])
        .assert()
        .success();
    let other = s.path("other.db");
    lacrima_at(s.dir.path(), &other, &["init"])
        .assert()
        .success();
    lacrima_at(s.dir.path(), &other, &["codebook", "import", "tcit.qdc"])
        .assert()
        .success();
    // Everything a .qdc carries comes back (shortcuts are lacrima's own: not in the file).
    let fields = |db: &std::path::Path| {
        rows(
            db,
            "SELECT c.guid, c.name, ifnull(p.name, ''), c.description, c.inclusion, c.exclusion,
                    c.example, ifnull(c.color, ''), c.codable
             FROM codes c LEFT JOIN codes p ON p.id = c.parent_id ORDER BY c.guid",
        )
    };
    assert_eq!(fields(&s.project()), fields(&other));
}

#[test]
fn a_codebook_without_namespace_or_extension_is_recognised() {
    // Taguette's older exports wrote elements without the namespace; a codebook saved under
    // another name is told from a CSV by its content.
    let s = Scratch::new();
    s.lacrima(&["init"]).assert().success();
    s.write(
        "taguette-codebook.xml",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CodeBook origin=\"Taguette 1.4.1\"><Codes>\
         <Code guid=\"0D62985D-B147-5D01-A9B5-CAE5DCD98342\" name=\"interesting\" isCodable=\"true\"/>\
         <Code guid=\"DFE5C38E-9449-5959-A1F7-E3D895CFA87F\" name=\"people\" isCodable=\"true\"/>\
         </Codes><Sets/></CodeBook>",
    );
    s.lacrima(&["codebook", "import", "taguette-codebook.xml"])
        .assert()
        .success()
        .stdout("codebook: 2 codes added, 0 updated, 0 unchanged\n");
}

#[test]
fn a_bad_codebook_is_refused_with_its_place_and_nothing_changes() {
    let s = small_project();
    let code = |guid: &str, name: &str, extra: &str| {
        format!("<Code guid=\"{guid}\" name=\"{name}\" isCodable=\"true\"{extra}/>")
    };
    let g1 = "00000000-1111-4222-8333-000000000001";
    let g2 = "00000000-1111-4222-8333-000000000002";
    for (name, codes, expected) in [
        (
            "dupname",
            format!("{}\n{}", code(g1, "Alpha", ""), code(g2, "alpha", "")),
            "dupname.qdc:3:1: the code \"alpha\" is already defined at dupname.qdc:2:1",
        ),
        (
            "dupguid",
            format!("{}{}", code(g1, "Alpha", ""), code(g1, "Beta", "")),
            "the code GUID 00000000-1111-4222-8333-000000000001 is used twice",
        ),
        (
            "colour",
            code(g1, "Alpha", " color=\"blue\""),
            "colour \"blue\" is not #RRGGBB",
        ),
        (
            "codable",
            format!("<Code guid=\"{g1}\" name=\"Alpha\" isCodable=\"maybe\"/>"),
            "isCodable must be true or false",
        ),
        (
            "noname",
            format!("<Code guid=\"{g1}\" isCodable=\"true\"/>"),
            "has no name, which is required",
        ),
        (
            "rename",
            // Renaming "Deepened" (by its GUID) to a name another code has.
            format!(
                "<Code guid=\"{}\" name=\"Client\" isCodable=\"true\"/>",
                query_one::<String>(
                    &s.project(),
                    "SELECT guid FROM codes WHERE name = 'Deepened'"
                )
            ),
            "would take the name of another code \"Client\"",
        ),
    ] {
        let file = format!("{name}.qdc");
        s.write(
            &file,
            format!(
                "<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\"><Codes>\n{codes}\n</Codes></CodeBook>"
            ),
        );
        let before = dump(&s.project());
        let err = s.fails(&["codebook", "import", &file]);
        assert!(err.contains(expected), "{expected:?} not in: {err}");
        assert_eq!(dump(&s.project()), before);
    }
    s.write("project.qdc", project("x", ""));
    let err = s.fails(&["codebook", "import", "project.qdc"]);
    assert!(
        err.contains("not <CodeBook>") && err.contains("lacrima import qdpx"),
        "{err}"
    );
}
