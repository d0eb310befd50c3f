//! A code as a codebook file describes it, and the form its colour must take: what the codebook
//! reader produces and the store applies.

/// One row of a codebook file. A field is None when its column is absent from the file, so that
/// an update by name leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct CodebookEntry {
    pub line: u64,
    /// Where the entry is, when a line number does not say it (`codebook.qdc:12:5`).
    pub at: Option<String>,
    /// The code's GUID (REFI-QDA files): an entry with a GUID updates the code with that GUID,
    /// renaming it if need be, before a code of the same name is looked for.
    pub guid: Option<String>,
    pub name: String,
    pub parent: Option<String>,
    pub description: Option<String>,
    pub inclusion: Option<String>,
    pub exclusion: Option<String>,
    pub example: Option<String>,
    pub color: Option<String>,
    pub shortcut: Option<String>,
    pub codable: Option<bool>,
}

pub fn is_hex_colour(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
}
