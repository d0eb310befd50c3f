//! REFI-QDA exchange with other QDA programs (MAXQDA, ATLAS.ti, NVivo, QDA Miner, QualCoder):
//! `.qdpx` projects and `.qdc` codebooks, written and read (DESIGN section 2, item 7).
//!
//! How a lacrima project maps onto QDA-XML 1.0 (`urn:QDA-XML:project:1.0`), element by element.
//! Both the writer and the reader keep to this; it is also what a user of another tool sees.
//!
//! - `Project`: `name` = the project file's stem (not the export's), `origin` = "lacrima VERSION",
//!   `creationDateTime` = when the project was created.
//! - `Users`: one `User` per coder (the consensus coder too), `name` = the coder's name.
//! - `CodeBook`: the code tree (nesting = `parent_id`, siblings in `position` order). `guid` = the
//!   stored `codes.guid` (stable across exports; codes imported from another tool keep theirs),
//!   `isCodable` = `codable`, `color` = `color`. `Description` = the definition, followed by the
//!   inclusion and exclusion criteria and the example as paragraphs headed `Include:`, `Exclude:`
//!   and `Example:` (what users of other tools read). Code memos are `NoteRef`s.
//! - `Variables`: one `Variable` per survey variable: numeric -> `Integer` when every value is an
//!   integer, else `Float`; categorical and text -> `Text`; date -> `Date` when every value is a
//!   plain `YYYY-MM-DD`, else `Text`. `Description` = the label.
//! - `Cases`: one `Case` per respondent, `name` = its ID (`ext_id`), with a typed `VariableValue`
//!   per non-missing value and a `SourceRef` to each of its answers.
//! - `Sources`: one `TextSource` per answer (empty ones too), `name` = "ID question",
//!   `plainTextPath` = `internal://GUID.txt`, the text in `sources/GUID.txt` (UTF-8, no BOM,
//!   `\n` line ends, exactly the stored text). Each coding is a `PlainTextSelection`
//!   (`startPosition`/`endPosition` in Unicode code points, end exclusive; a whole-answer coding
//!   spans the whole text) holding one `Coding` with a `CodeRef`; both carry the coder as
//!   `creatingUser` and the coding's time. A coding's memo is a `NoteRef` of its `Coding`; each
//!   coder's memo on the answer is a `NoteRef` of the `TextSource`.
//! - `Notes`: one `Note` per memo (answer, code or coding memo), its text inline in
//!   `PlainTextContent`, its coder as `creatingUser`.
//! - `Sets`: `question: NAME` (`MemberSource` for every answer to the question; `Description` =
//!   the question's label) and `reviewed by CODER` (every answer the coder reviewed: coded, or
//!   marked as needing no code). Other tools show them as document sets; lacrima reads them back
//!   as its questions and review marks. Empty sets are left out (an empty `Sets` is invalid).
//! - `lacrima.json` beside `project.qde` in the ZIP (other tools ignore it): what QDA-XML has no
//!   place for, so that a lacrima project comes back exactly: the questions (name, label,
//!   order), the variables (kind, label, level order), every code's fields (by GUID: definition,
//!   inclusion, exclusion, example, shortcut), the coders (which is the consensus coder), and the
//!   project's ID column and GUID. A reader that finds no `lacrima.json` (a file from another
//!   tool) uses the QDA-XML alone.
//!
//! GUIDs other than codes' are derived (UUID version 5) from the project's own GUID
//! (`project_meta` key `guid`) and what the element stands for (a case from its respondent's ID,
//! a source from the ID and the question, and so on), so exports of one project, and of copies
//! of it, name the same thing with the same GUID.
//!
//! Reading accepts `sources/` and `Sources/`, inline `PlainTextContent` as well as files, UTF-8
//! with or without a BOM, and reports what lacrima cannot hold (pictures, PDFs, audio, video,
//! graphs, links, other sets) instead of dropping it silently.
//!
//! A file from another tool is read by the same rules ([`read`]): a `TextSource` is an answer;
//! its question is the name of the (first) source `Set` it belongs to (`question: ` stripped), or
//! `document`; a `Set` named "variable: value" or "variable::value" (ATLAS.ti's document groups)
//! gives its sources' respondents that value instead. A `Case` is a respondent (a case without a
//! name and with one source, as MAXQDA writes document variables, is named after that source); a
//! source without a case is a respondent of its own. A `Code` with a case's GUID (NVivo's case
//! nodes) says which case a source belongs to and is not kept as a code. Work that names no user
//! is the only user's, else the project creator's, else a coder "imported". Positions count code
//! points of the text as written, `\r\n` as two (ATLAS.ti counts it as one: recognised by
//! `origin`); `\r\n` is stored as `\n` and the positions move with it ([`text`]).

pub mod guids;
pub mod loss;
pub mod meta;
pub mod qdc;
pub mod read;
pub mod text;
pub mod write;
pub mod xml;
pub mod xmlin;
pub mod zipin;
pub mod zipout;
