//! Projects coded in other QDA programs come into lacrima: their text sources become answers,
//! their cases respondents, their users coders, and what lacrima cannot hold is listed.
//!
//! The files are written here, modelled on what each program is known to write (from their
//! exporters' and importers' code and from public example files): MAXQDA's nameless cases and
//! document groups, NVivo's `Sources` folder and case nodes, ATLAS.ti's line breaks and
//! "variable: value" document groups, QualCoder's byte-order marks and memos in descriptions.

mod common;
mod qdpx_support;

use common::*;
use qdpx_support::*;

/// Code-point positions of `part` in `text`, as a REFI-QDA file gives them.
fn span(text: &str, part: &str) -> (usize, usize) {
    let b = text
        .find(part)
        .unwrap_or_else(|| panic!("{part:?} not in {text:?}"));
    let s = text[..b].chars().count();
    (s, s + part.chars().count())
}

fn import(s: &Scratch, file: &str) -> (String, String) {
    let out = s
        .lacrima(&["import", "qdpx", file])
        .assert()
        .success()
        .get_output()
        .clone();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn coded(db: &std::path::Path) -> Vec<Vec<String>> {
    rows(
        db,
        "SELECT r.ext_id, q.name, d.name, c.name,
                ifnull(substr(s.text, k.start + 1, k.\"end\" - k.start), '(whole)'), k.memo
         FROM codings k JOIN responses s ON s.id = k.response_id
         JOIN respondents r ON r.id = s.respondent_id JOIN questions q ON q.id = s.question_id
         JOIN coders d ON d.id = k.coder_id JOIN codes c ON c.id = k.code_id ORDER BY 1, 2, 4",
    )
}

// MAXQDA 24 exports a survey as one document per answer, grouped by question in document
// groups (Sets), with each document's variables in a Case that has no name and one SourceRef.
// GUIDs are upper case, the folder is `sources`, and Windows texts keep CR LF, which MAXQDA's
// positions count as two characters.
#[test]
fn a_maxqda_survey_export_becomes_respondents_answers_and_variables() {
    let s = Scratch::new();
    let texts = [
        ("R1 - Q1", "She cried too.\r\nThen we talked."),
        ("R1 - Q2", "Closer than before"),
        ("R2 - Q1", "Nothing noticeable"),
    ];
    let guid = |i: usize| format!("C5E4C960-5296-4FDE-8C63-DEABA4E17F9{i}");
    let (a, b) = span(texts[0].1, "Then we talked");
    let mut sources = String::new();
    for (i, (name, _)) in texts.iter().enumerate() {
        let sel = if i == 0 {
            format!(
                "  <PlainTextSelection modifyingUser=\"F3EA8DA1-BB99-411F-8ED4-011170237B6C\" guid=\"0A0A0A0A-0000-4000-8000-00000000000{i}\" startPosition=\"{a}\" endPosition=\"{b}\" creatingUser=\"F3EA8DA1-BB99-411F-8ED4-011170237B6C\" creationDateTime=\"2024-10-18T23:30:00Z\">\n   <Coding guid=\"0B0B0B0B-0000-4000-8000-00000000000{i}\" creatingUser=\"F3EA8DA1-BB99-411F-8ED4-011170237B6C\" creationDateTime=\"2024-10-18T23:30:00Z\"><CodeRef targetGUID=\"C6C1BE73-B4F4-4C2D-91F1-90B73BFC5C25\"/></Coding>\n  </PlainTextSelection>\n"
            )
        } else {
            String::new()
        };
        sources.push_str(&format!(
            " <TextSource modifyingUser=\"F3EA8DA1-BB99-411F-8ED4-011170237B6C\" guid=\"{}\" creatingUser=\"F3EA8DA1-BB99-411F-8ED4-011170237B6C\" creationDateTime=\"2024-10-18T23:23:46Z\" name=\"{name}\" plainTextPath=\"internal://{}.txt\" modifiedDateTime=\"2024-10-18T23:23:46Z\">\n{sel} </TextSource>\n",
            guid(i),
            guid(i)
        ));
    }
    let case = |i: usize, age: &str, gender: &str| {
        format!(
            " <Case guid=\"D9001BCB-0803-4B06-B4D4-BE0ACCD558A{i}\">\n  <VariableValue><VariableRef targetGUID=\"3BA84074-E1AF-4234-9773-1A71BB5C54DE\"/><IntegerValue>{age}</IntegerValue></VariableValue>\n  <VariableValue><VariableRef targetGUID=\"96868D37-D832-4D19-BF5E-9BD0792AB8E2\"/><TextValue>{gender}</TextValue></VariableValue>\n  <SourceRef targetGUID=\"{}\"/>\n </Case>\n",
            guid(i)
        )
    };
    let qde = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Project xsi:schemaLocation=\"urn:QDA-XML:project:1.0 http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"urn:QDA-XML:project:1.0\" origin=\"MAXQDA 24 (Release 24.7.0)\" name=\"survey\" modifiedDateTime=\"2025-07-14T18:42:34Z\">
 <Users>
  <User guid=\"F3EA8DA1-BB99-411F-8ED4-011170237B6C\" name=\"johnb\"/>
 </Users>
 <CodeBook>
  <Codes>
   <Code color=\"#ef8256\" guid=\"C9E3D7E0-4DBF-46E2-96EF-14574ECD3B90\" name=\"Relationship\" isCodable=\"true\">
    <Description>This is a parent category, and only the codes within it should be applied.</Description>
    <Code color=\"#ef8256\" guid=\"C6C1BE73-B4F4-4C2D-91F1-90B73BFC5C25\" name=\"Talked it through\" isCodable=\"true\">
     <Description>Apply when they talked about the crying.</Description>
    </Code>
   </Code>
  </Codes>
 </CodeBook>
 <Variables>
  <Variable guid=\"3BA84074-E1AF-4234-9773-1A71BB5C54DE\" name=\"Age\" typeOfVariable=\"Integer\"/>
  <Variable guid=\"96868D37-D832-4D19-BF5E-9BD0792AB8E2\" name=\"Gender\" typeOfVariable=\"Text\"/>
 </Variables>
 <Cases>
{}{}{} </Cases>
 <Sources>
{sources} </Sources>
 <Sets>
  <Set guid=\"45FE4439-9BF4-47FC-AFAF-D87305293172\" name=\"Q1\">
   <MemberSource targetGUID=\"{}\"/>
   <MemberSource targetGUID=\"{}\"/>
  </Set>
  <Set guid=\"FEEDCF5C-1D45-4CE1-B551-586A9CD14F09\" name=\"Q2\">
   <MemberSource targetGUID=\"{}\"/>
  </Set>
 </Sets>
</Project>
",
        case(0, "34", "female"),
        case(1, "34", "female"),
        case(2, "51", "male"),
        guid(0),
        guid(2),
        guid(1)
    );
    let names: Vec<String> = (0..3).map(|i| format!("sources/{}.txt", guid(i))).collect();
    let entries: Vec<(&str, &str)> = names
        .iter()
        .zip(&texts)
        .map(|(n, (_, t))| (n.as_str(), *t))
        .collect();
    qdpx(&s.path("maxqda.qdpx"), &qde, &entries);
    let (out, err) = import(&s, "maxqda.qdpx");
    assert!(out.contains("(from MAXQDA 24 (Release 24.7.0))"), "{out}");
    assert!(err.is_empty(), "nothing lost: {err}");
    let db = s.project();
    // Each document is a respondent named after it; its groups are the questions.
    assert_eq!(
        rows(&db, "SELECT ext_id FROM respondents ORDER BY id"),
        [["R1 - Q1"], ["R1 - Q2"], ["R2 - Q1"]]
    );
    assert_eq!(
        rows(&db, "SELECT name FROM questions ORDER BY position"),
        [["Q1"], ["Q2"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT text FROM responses WHERE respondent_id = 1 AND question_id = 1"
        ),
        [["She cried too.\nThen we talked."]],
        "CR LF became LF"
    );
    // The coding keeps its words although a CR was taken out before them.
    assert_eq!(
        coded(&db),
        [[
            "R1 - Q1",
            "Q1",
            "johnb",
            "Talked it through",
            "Then we talked",
            ""
        ]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT name, kind, ifnull(levels, '') FROM variables ORDER BY position"
        ),
        [
            ["Age", "numeric", ""],
            ["Gender", "categorical", "[\"female\",\"male\"]"]
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT typeof(v1), v1, v2 FROM variable_values ORDER BY respondent_id"
        ),
        [
            ["integer", "i34", "female"],
            ["integer", "i34", "female"],
            ["integer", "i51", "male"]
        ]
    );
    // johnb coded the first answer, so he reviewed it; the others are not coded yet.
    assert_eq!(query_one::<i64>(&db, "SELECT count(*) FROM reviews"), 1);
    // The parent keeps its definition; MAXQDA's colour and hierarchy are kept.
    assert_eq!(
        rows(
            &db,
            "SELECT name, color, ifnull(parent_id, 0), codable FROM codes ORDER BY id"
        ),
        [
            ["Relationship", "#ef8256", "i0", "i1"],
            ["Talked it through", "#ef8256", "i1", "i1"]
        ]
    );
}

// NVivo for Windows writes `Sources/` with a capital S, lower-case GUIDs, no creatingUser on
// selections and codings, rich text beside the plain text, and cases that are also codes (case
// nodes) with the case's GUID.
#[test]
fn an_nvivo_export_with_named_cases_and_case_nodes() {
    let s = Scratch::new();
    let t1 = "Interviewer: How was it?\nAnna: We both cried.";
    let t2 = "Anna: Later it felt closer.";
    let t3 = "Ben: I was embarrassed.";
    let (a, b) = span(t1, "We both cried");
    let qde = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>
<Project xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" name=\"Untitled\" origin=\"NVivo for Windows 12.6\" creatingUserGUID=\"f93ad076-5ca1-4f46-abf4-b4b67130a6e2\" creationDateTime=\"2025-02-21T15:09:07Z\" basePath=\"\" xmlns=\"urn:QDA-XML:project:1.0\">
  <Users>
    <User guid=\"8ca3a2c1-8b7a-41c3-a9dd-a8fb46caa645\" name=\"Coder\" />
  </Users>
  <CodeBook>
    <Codes>
      <Code guid=\"3c51efbb-071f-43a7-9f32-228b89668e8d\" name=\"Emotions\" isCodable=\"true\">
        <Code guid=\"4d62f0cc-182f-44b8-a043-339c90779e9e\" name=\"Crying together\" isCodable=\"true\" />
        <Code guid=\"5d62f0cc-182f-44b8-a043-339c90779e9e\" name=\"Embarrassment\" isCodable=\"true\" />
      </Code>
      <Code guid=\"6e62f0cc-182f-44b8-a043-339c90779e9e\" name=\"Cases\" isCodable=\"false\">
        <Code guid=\"b0000000-0000-4000-8000-00000000000b\" name=\"Ben\" isCodable=\"true\" />
      </Code>
    </Codes>
  </CodeBook>
  <Variables>
    <Variable guid=\"51dc3bcd-5454-47ff-a4d6-ea699144410d\" name=\"Cases:Age group\" typeOfVariable=\"Text\">
      <Description />
    </Variable>
  </Variables>
  <Cases>
    <Case guid=\"a0000000-0000-4000-8000-00000000000a\" name=\"Anna\">
      <Description />
      <VariableValue>
        <VariableRef targetGUID=\"51dc3bcd-5454-47ff-a4d6-ea699144410d\" />
        <TextValue>20-29</TextValue>
      </VariableValue>
      <SourceRef targetGUID=\"56a79789-d535-4fb8-bedd-a915504c54b1\" />
      <SourceRef targetGUID=\"56a79789-d535-4fb8-bedd-a915504c54b2\" />
    </Case>
    <Case guid=\"b0000000-0000-4000-8000-00000000000b\" name=\"Ben\">
      <VariableValue>
        <VariableRef targetGUID=\"51dc3bcd-5454-47ff-a4d6-ea699144410d\" />
        <TextValue>40-49</TextValue>
      </VariableValue>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid=\"56a79789-d535-4fb8-bedd-a915504c54b1\" name=\"Anna interview 1\" richTextPath=\"internal://56a79789-d535-4fb8-bedd-a915504c54b1.docx\" plainTextPath=\"internal://56a79789-d535-4fb8-bedd-a915504c54b1.txt\" creationDateTime=\"2025-06-11T16:24:07Z\">
      <PlainTextSelection guid=\"fd960901-8191-4db1-a3dd-a91626d56c4b\" name=\"\" startPosition=\"{a}\" endPosition=\"{b}\">
        <Coding guid=\"aa960901-8191-4db1-a3dd-a91626d56c4b\">
          <CodeRef targetGUID=\"4d62f0cc-182f-44b8-a043-339c90779e9e\" />
        </Coding>
      </PlainTextSelection>
    </TextSource>
    <TextSource guid=\"56a79789-d535-4fb8-bedd-a915504c54b2\" name=\"Anna interview 2\" plainTextPath=\"internal://56a79789-d535-4fb8-bedd-a915504c54b2.txt\" creationDateTime=\"2025-06-12T16:24:07Z\" />
    <TextSource guid=\"56a79789-d535-4fb8-bedd-a915504c54b3\" name=\"Ben interview\" plainTextPath=\"internal://56a79789-d535-4fb8-bedd-a915504c54b3.txt\" creationDateTime=\"2025-06-13T16:24:07Z\">
      <PlainTextSelection guid=\"fd960901-8191-4db1-a3dd-a91626d56c4c\" name=\"\" startPosition=\"0\" endPosition=\"{}\">
        <Coding guid=\"aa960901-8191-4db1-a3dd-a91626d56c4c\"><CodeRef targetGUID=\"b0000000-0000-4000-8000-00000000000b\" /></Coding>
        <Coding guid=\"aa960901-8191-4db1-a3dd-a91626d56c4d\"><CodeRef targetGUID=\"5d62f0cc-182f-44b8-a043-339c90779e9e\" /></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>",
        t3.chars().count()
    );
    qdpx(
        &s.path("nvivo.qdpx"),
        &qde,
        &[
            ("Sources/56a79789-d535-4fb8-bedd-a915504c54b1.txt", t1),
            (
                "Sources/56a79789-d535-4fb8-bedd-a915504c54b1.docx",
                "PK not read",
            ),
            ("Sources/56a79789-d535-4fb8-bedd-a915504c54b2.txt", t2),
            ("Sources/56a79789-d535-4fb8-bedd-a915504c54b3.txt", t3),
        ],
    );
    let (_, err) = import(&s, "nvivo.qdpx");
    let db = s.project();
    assert_eq!(
        rows(&db, "SELECT ext_id FROM respondents ORDER BY id"),
        [["Anna"], ["Ben"]]
    );
    // Anna's two interviews are two answers; there are no sets, so the question is "document".
    assert_eq!(
        rows(&db, "SELECT name FROM questions ORDER BY position"),
        [["document"], ["document (2)"]]
    );
    assert!(err.contains("second (third, ...) source"), "{err}");
    // The case node "Ben" says Ben's interview is Ben's; it is not a code.
    assert_eq!(
        rows(
            &db,
            "SELECT r.ext_id, s.text FROM responses s JOIN respondents r ON r.id = s.respondent_id
             WHERE s.text LIKE 'Ben:%'"
        ),
        [["Ben", t3]]
    );
    assert_eq!(
        query_one::<i64>(&db, "SELECT count(*) FROM codes WHERE name = 'Ben'"),
        0
    );
    // The only user coded what names no coder; the whole-text selection codes the whole answer.
    assert_eq!(
        coded(&db),
        [
            [
                "Anna",
                "document",
                "Coder",
                "Crying together",
                "We both cried",
                ""
            ],
            ["Ben", "document", "Coder", "Embarrassment", "(whole)", ""]
        ]
    );
    assert_eq!(
        rows(&db, "SELECT name, kind, levels FROM variables"),
        [["Cases:Age group", "categorical", "[\"20-29\",\"40-49\"]"]]
    );
}

// ATLAS.ti writes CR LF into its text files but counts a line break as one character, uses
// document groups named "variable: value", exports quotations without codes, code groups as
// Sets, links and networks.
#[test]
fn an_atlas_ti_export_with_document_groups_quotations_and_networks() {
    let s = Scratch::new();
    let t1 = "Line one.\r\nWe cried together.\r\nEnd.";
    let t2 = "She noticed nothing.";
    // ATLAS.ti's positions: counted on the text with each CR LF as one character.
    let one = t1.replace("\r\n", "\n");
    let (a, b) = span(&one, "cried together");
    let (q1, q2) = span(t2, "nothing");
    let qde = project(
        "ATLAS.ti Win 23.4.0",
        &format!(
            "<Users><User guid=\"B27E9088-0000-4000-8000-000000000001\" name=\"Ana Lima\"/></Users>
<CodeBook><Codes>
 <Code guid=\"1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294\" name=\"crying together\" color=\"#46AA00\" isCodable=\"true\">
  <Description>Both cried.</Description>
  <NoteRef targetGUID=\"E0000000-0000-4000-8000-000000000001\"/>
 </Code>
</Codes></CodeBook>
<Sources>
 <TextSource guid=\"A0000000-0000-4000-8000-000000000001\" name=\"P1\" plainTextPath=\"internal://A0000000-0000-4000-8000-000000000001.txt\" creatingUser=\"B27E9088-0000-4000-8000-000000000001\">
  <PlainTextSelection guid=\"C0000000-0000-4000-8000-000000000001\" name=\"cried together\" startPosition=\"{a}\" endPosition=\"{b}\" creatingUser=\"B27E9088-0000-4000-8000-000000000001\" creationDateTime=\"2024-03-01T10:00:00Z\">
   <Coding guid=\"D0000000-0000-4000-8000-000000000001\" creatingUser=\"B27E9088-0000-4000-8000-000000000001\"><CodeRef targetGUID=\"1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294\"/></Coding>
  </PlainTextSelection>
 </TextSource>
 <TextSource guid=\"A0000000-0000-4000-8000-000000000002\" name=\"P2\" plainTextPath=\"internal://A0000000-0000-4000-8000-000000000002.txt\">
  <PlainTextSelection guid=\"C0000000-0000-4000-8000-000000000002\" name=\"nothing\" startPosition=\"{q1}\" endPosition=\"{q2}\"><Description>A free quotation</Description></PlainTextSelection>
 </TextSource>
</Sources>
<Notes>
 <Note guid=\"E0000000-0000-4000-8000-000000000001\" name=\"Code comment\" creatingUser=\"B27E9088-0000-4000-8000-000000000001\"><PlainTextContent>Seen in three interviews.</PlainTextContent></Note>
 <Note guid=\"E0000000-0000-4000-8000-000000000002\" name=\"Research diary\" creatingUser=\"B27E9088-0000-4000-8000-000000000001\"><PlainTextContent>Day one.</PlainTextContent></Note>
</Notes>
<Links><Link guid=\"F0000000-0000-4000-8000-000000000001\" name=\"is associated with\" originGUID=\"1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294\" targetGUID=\"C0000000-0000-4000-8000-000000000002\"/></Links>
<Sets>
 <Set guid=\"50000000-0000-4000-8000-000000000001\" name=\"gender: female\"><MemberSource targetGUID=\"A0000000-0000-4000-8000-000000000001\"/></Set>
 <Set guid=\"50000000-0000-4000-8000-000000000002\" name=\"gender: male\"><MemberSource targetGUID=\"A0000000-0000-4000-8000-000000000002\"/></Set>
 <Set guid=\"50000000-0000-4000-8000-000000000003\" name=\"code group 1\"><Description>kategorie 1</Description><MemberCode targetGUID=\"1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294\"/></Set>
</Sets>
<Graphs><Graph guid=\"60000000-0000-4000-8000-000000000001\" name=\"Network 1\"/></Graphs>
<NoteRef targetGUID=\"E0000000-0000-4000-8000-000000000002\"/>"
        ),
    );
    qdpx(
        &s.path("atlas.qdpx"),
        &qde,
        &[
            ("sources/A0000000-0000-4000-8000-000000000001.txt", t1),
            ("sources/A0000000-0000-4000-8000-000000000002.txt", t2),
        ],
    );
    let (_, err) = import(&s, "atlas.qdpx");
    let db = s.project();
    assert_eq!(
        coded(&db),
        [[
            "P1",
            "document",
            "Ana Lima",
            "crying together",
            "cried together",
            ""
        ]]
    );
    // The groups are a variable, not questions.
    assert_eq!(
        rows(&db, "SELECT name, kind, levels FROM variables"),
        [["gender", "categorical", "[\"female\",\"male\"]"]]
    );
    assert_eq!(
        rows(&db, "SELECT v1 FROM variable_values ORDER BY respondent_id"),
        [["female"], ["male"]]
    );
    // The code's comment is Ana's memo on the code.
    assert_eq!(
        rows(&db, "SELECT text FROM memos WHERE code_id IS NOT NULL"),
        [["Seen in three interviews."]]
    );
    assert_eq!(
        rows(&db, "SELECT color FROM codes"),
        [["#46aa00"]],
        "colours are kept as #rrggbb"
    );
    for lost in [
        "1 Links (relations between codes, selections and notes) (is associated with)",
        "1 Graphs (diagrams) (Network 1)",
        "1 Sets of codes or notes (code groups, memo groups) (code group 1)",
        "1 PlainTextSelections without a code (quotations, comments) (nothing)",
        "1 comments on selections without a code (A free quotation)",
        "Notes not attached to an answer, a code or a coding",
    ] {
        assert!(err.contains(lost), "{lost:?} not in:\n{err}");
    }
}

// QualCoder writes its texts with a byte-order mark, a coding's memo as the selection's
// Description, a document's memo as the source's Description, file variables inside the
// TextSource, creatingUser="" when it cannot name the coder, and journals and annotations as
// Notes.
#[test]
fn a_qualcoder_export_with_its_memos_and_file_variables() {
    let s = Scratch::new();
    let t = "I cried, and my client saw it.";
    let (a, b) = span(t, "my client saw it");
    let qde = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>
<Project xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" name=\"therapy.qda\" origin=\"QualCoder 3.6\" creatingUserGUID=\"11111111-2222-4333-8444-555555555555\" creationDateTime=\"2024-05-01T09:00:00Z\" xmlns=\"urn:QDA-XML:project:1.0\">
<Users>
<User guid=\"aaaaaaaa-0000-4000-8000-000000000001\" name=\"colin\" />
<User guid=\"aaaaaaaa-0000-4000-8000-000000000002\" name=\"dana\" />
</Users>
<CodeBook><Codes>
<Code guid=\"cccccccc-0000-4000-8000-000000000001\" name=\"seen by client\" isCodable=\"true\" color=\"#FF00AA\"><Description>The client noticed.

Include: said or shown

Example: &quot;she saw my tears&quot;</Description></Code>
</Codes></CodeBook>
<Variables>
<Variable guid=\"dddddddd-0000-4000-8000-000000000001\" name=\"Setting\" typeOfVariable=\"Text\" >
<Description />
</Variable>
<Variable guid=\"dddddddd-0000-4000-8000-000000000002\" name=\"Sessions\" typeOfVariable=\"Float\" >
<Description>number of sessions</Description>
</Variable>
</Variables>
<Sources>
<TextSource plainTextPath=\"internal://eeeeeeee-0000-4000-8000-000000000001.txt\" creatingUser=\"aaaaaaaa-0000-4000-8000-000000000001\" creationDateTime=\"2024-05-01T09:10:00Z\" guid=\"eeeeeeee-0000-4000-8000-000000000001\" name=\"interview_1.txt\">
<Description>Recorded in the clinic</Description>
<PlainTextSelection guid=\"ffffffff-0000-4000-8000-000000000001\" startPosition=\"{a}\" endPosition=\"{b}\" name=\"my client saw it\" creatingUser=\"aaaaaaaa-0000-4000-8000-000000000002\" creationDateTime=\"2024-05-02T10:00:00Z\">
<Description>Key moment</Description>
<Coding guid=\"ffffffff-0000-4000-8000-000000000002\" creatingUser=\"\" >
<CodeRef targetGUID=\"cccccccc-0000-4000-8000-000000000001\" />
</Coding>
</PlainTextSelection>
<NoteRef targetGUID=\"99999999-0000-4000-8000-000000000002\" />
<VariableValue><VariableRef targetGUID=\"dddddddd-0000-4000-8000-000000000001\" /><TextValue>clinic</TextValue></VariableValue>
<VariableValue><VariableRef targetGUID=\"dddddddd-0000-4000-8000-000000000002\" /><FloatValue>12</FloatValue></VariableValue>
</TextSource>
<PictureSource creatingUser=\"aaaaaaaa-0000-4000-8000-000000000001\" path=\"internal://77777777-0000-4000-8000-000000000001.png\" guid=\"77777777-0000-4000-8000-000000000001\" name=\"drawing.png\" >
<PictureSelection guid=\"77777777-0000-4000-8000-000000000002\" firstX=\"1\" firstY=\"2\" secondX=\"30\" secondY=\"40\" name=\"\" creatingUser=\"aaaaaaaa-0000-4000-8000-000000000001\">
<Coding guid=\"77777777-0000-4000-8000-000000000003\" creatingUser=\"aaaaaaaa-0000-4000-8000-000000000001\" ><CodeRef targetGUID=\"cccccccc-0000-4000-8000-000000000001\"/></Coding>
</PictureSelection>
</PictureSource>
<AudioSource creatingUser=\"aaaaaaaa-0000-4000-8000-000000000001\" path=\"absolute:///home/colin/session.mp3\" guid=\"77777777-0000-4000-8000-000000000004\" name=\"session.mp3\" />
</Sources>
<Notes>
<Note guid=\"99999999-0000-4000-8000-000000000001\" creatingUser=\"aaaaaaaa-0000-4000-8000-000000000001\" creationDateTime=\"2024-05-03T08:00:00Z\" name=\"Journal\"  plainTextPath=\"internal://99999999-0000-4000-8000-000000000001.txt\" >
<Description /></Note>
<Note guid=\"99999999-0000-4000-8000-000000000002\" creatingUser=\"aaaaaaaa-0000-4000-8000-000000000002\" creationDateTime=\"2024-05-03T08:00:00Z\" >
<PlainTextContent>Ask about the second session</PlainTextContent>
<PlainTextSelection guid=\"99999999-0000-4000-8000-000000000003\" startPosition=\"0\" endPosition=\"8\" />
</Note>
</Notes>
<Description>A QualCoder project</Description>
</Project>"
    );
    let bom = |t: &str| format!("\u{feff}{t}");
    qdpx(
        &s.path("qualcoder.qdpx"),
        &qde,
        &[
            ("sources/eeeeeeee-0000-4000-8000-000000000001.txt", &bom(t)),
            (
                "sources/77777777-0000-4000-8000-000000000001.png",
                "\u{89}PNG",
            ),
            (
                "sources/99999999-0000-4000-8000-000000000001.txt",
                &bom("My journal entry."),
            ),
        ],
    );
    let (_, err) = import(&s, "qualcoder.qdpx");
    let db = s.project();
    assert_eq!(
        rows(
            &db,
            "SELECT ext_id, text FROM respondents JOIN responses ON respondent_id = respondents.id"
        ),
        [["interview_1.txt", t]],
        "the byte-order mark is not part of the answer"
    );
    // Dana made the selection; QualCoder's empty creatingUser on the Coding names nobody.
    assert_eq!(
        coded(&db),
        [[
            "interview_1.txt",
            "document",
            "dana",
            "seen by client",
            "my client saw it",
            "Key moment"
        ]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT d.name, m.text FROM memos m JOIN coders d ON d.id = m.coder_id ORDER BY 1"
        ),
        [
            ["colin", "Recorded in the clinic"],
            ["dana", "Ask about the second session"]
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT description, inclusion, exclusion, example, color FROM codes"
        ),
        [[
            "The client noticed.",
            "said or shown",
            "",
            "\"she saw my tears\"",
            "#ff00aa"
        ]]
    );
    assert_eq!(
        rows(&db, "SELECT v1, typeof(v2), v2 FROM variable_values"),
        [["clinic", "real", "r12"]]
    );
    for lost in [
        "1 PictureSource (pictures) (drawing.png)",
        "1 selections in pictures, PDFs, audio and video",
        "1 codings in pictures, PDFs, audio and video",
        "1 AudioSource (audio) (session.mp3)",
        "1 selections and codings inside notes",
        "Notes not attached to an answer, a code or a coding (project memos, memos on cases, sets or selections without a code, free-standing memos) (Journal)",
        "1 project description",
    ] {
        assert!(err.contains(lost), "{lost:?} not in:\n{err}");
    }
}

#[test]
fn codings_without_a_selection_and_selections_of_the_whole_text_code_the_whole_answer() {
    let s = Scratch::new();
    let t = "All of it.";
    let qde = project(
        "some tool",
        &format!(
            "<CodeBook><Codes><Code guid=\"10000000-0000-4000-8000-000000000001\" name=\"a\" isCodable=\"true\"/>
<Code guid=\"10000000-0000-4000-8000-000000000002\" name=\"b\" isCodable=\"true\"/></Codes></CodeBook>
<Sources><TextSource guid=\"20000000-0000-4000-8000-000000000001\" name=\"doc\"><PlainTextContent>{t}</PlainTextContent>
<PlainTextSelection guid=\"30000000-0000-4000-8000-000000000001\" startPosition=\"0\" endPosition=\"{}\"><Coding guid=\"40000000-0000-4000-8000-000000000001\"><CodeRef targetGUID=\"10000000-0000-4000-8000-000000000001\"/></Coding></PlainTextSelection>
<Coding guid=\"40000000-0000-4000-8000-000000000002\"><CodeRef targetGUID=\"10000000-0000-4000-8000-000000000002\"/></Coding>
</TextSource></Sources>",
            t.chars().count()
        ),
    );
    qdpx(&s.path("x.qdpx"), &qde, &[]);
    let (_, err) = import(&s, "x.qdpx");
    assert!(err.contains("\"imported\""), "who coded is not said: {err}");
    assert_eq!(
        rows(
            &s.project(),
            "SELECT ifnull(start, 'NULL'), ifnull(\"end\", 'NULL') FROM codings"
        ),
        [["NULL", "NULL"], ["NULL", "NULL"]]
    );
}

#[test]
fn the_loss_report_is_in_the_json_too() {
    let s = Scratch::new();
    let qde = project(
        "some tool",
        "<Sources>
<TextSource guid=\"20000000-0000-4000-8000-000000000001\" name=\"doc\"><PlainTextContent>text</PlainTextContent></TextSource>
<PDFSource guid=\"20000000-0000-4000-8000-000000000002\" name=\"paper.pdf\" path=\"internal://x.pdf\"><PDFSelection guid=\"20000000-0000-4000-8000-000000000003\" page=\"1\" firstX=\"0\" firstY=\"0\" secondX=\"1\" secondY=\"1\"/></PDFSource>
<VideoSource guid=\"20000000-0000-4000-8000-000000000004\" name=\"clip.mp4\"/>
</Sources>",
    );
    qdpx(&s.path("x.qdpx"), &qde, &[]);
    let out = s
        .lacrima(&["import", "qdpx", "x.qdpx", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lost: Vec<(String, u64)> = v["lost"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["what"].as_str().unwrap().to_string(),
                l["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lost,
        [
            ("PDFSource (PDF documents)".to_string(), 1),
            (
                "selections in pictures, PDFs, audio and video".to_string(),
                1
            ),
            ("VideoSource (video)".to_string(), 1)
        ]
    );
    assert_eq!(v["lost"][0]["examples"], serde_json::json!(["paper.pdf"]));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("1 VideoSource (video) (clip.mp4)"), "{err}");
}
