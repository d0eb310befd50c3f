//! Reading the sources of a REFI-QDA project: each text (from the ZIP or inline), its selections
//! and codings with their positions, the notes (memos), and the sets that carry questions and
//! review marks.

use super::*;

impl Reader<'_> {
    pub(super) fn sources<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let level = x.level(t);
        while let Some(s) = x.next_child(level)? {
            match s.name.as_str() {
                "TextSource" => self.text_source(x, &s)?,
                kind @ ("PictureSource" | "PDFSource" | "AudioSource" | "VideoSource") => {
                    let g = required_guid(x, &s, "guid")?;
                    self.w.other_source(g)?;
                    let what = match kind {
                        "PictureSource" => "PictureSource (pictures)",
                        "PDFSource" => "PDFSource (PDF documents)",
                        "AudioSource" => "AudioSource (audio)",
                        _ => "VideoSource (video)",
                    };
                    self.report
                        .lose(what, s.opt("name").or(s.opt("path")).or(s.opt("guid")));
                    let (mut selections, mut codings) = (0, 0);
                    x.skip(&s, |c| {
                        if c.name.ends_with("Selection") {
                            selections += 1;
                        } else if c.name == "Coding" {
                            codings += 1;
                        }
                    })?;
                    self.report.lose_n(
                        "selections in pictures, PDFs, audio and video",
                        selections,
                        None,
                    );
                    self.report
                        .lose_n("codings in pictures, PDFs, audio and video", codings, None);
                }
                other => self.unknown(x, &s, other)?,
            }
        }
        Ok(())
    }

    /// The text a `plainTextPath` points at, inside the archive.
    pub(super) fn read_text(
        &mut self,
        path: &str,
        t: &Tag,
        x: &XmlIn<impl BufRead>,
    ) -> Result<String> {
        let outside = |why: &str| {
            x.error(
                t.pos,
                format!(
                    "{}: its text is outside the .qdpx ({path}{why}); lacrima reads only texts \
                     inside the file: export the project with its sources included",
                    t.describe()
                ),
            )
        };
        let lower = path.to_lowercase();
        let rel = if let Some(r) = path.strip_prefix("internal://") {
            r
        } else if let Some(r) = path.strip_prefix("relative://") {
            r
        } else if lower.starts_with("absolute://") || lower.starts_with("file:") {
            return Err(outside(""));
        } else {
            path
        };
        let rel = rel.trim_start_matches('/');
        if rel.is_empty() || rel.starts_with('\\') || rel.as_bytes().get(1) == Some(&b':') {
            return Err(outside(""));
        }
        let candidates = [
            format!("sources/{rel}"),
            format!("Sources/{rel}"),
            rel.to_string(),
        ];
        let Some(entry) = candidates.iter().find(|c| self.texts.has_entry(c)) else {
            return Err(x.error(
                t.pos,
                format!(
                    "{}: its text {path} is not in the archive (looked for sources/{rel} and \
                     Sources/{rel})",
                    t.describe()
                ),
            ));
        };
        let bytes = self.texts.read_entry(entry)?;
        decode(&bytes, &format!("{}: {entry}", self.file))
    }

    pub(super) fn text_source<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let key = required_guid(x, t, "guid")?;
        let name = t.get("name").unwrap_or("").trim().to_string();
        let seq = self.next_seq;
        self.next_seq += 1;
        let made = Made::of(t, &Made::default());
        let mut text = match t.opt("plainTextPath") {
            Some(p) => Some(StoredText::new(&self.read_text(p, t, x)?, self.breaks)),
            None => None,
        };
        let src = Src {
            seq,
            key,
            name: name.clone(),
        };
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            match c.name.as_str() {
                "PlainTextContent" => {
                    let content = x.text_of(&c)?;
                    if text.is_none() {
                        text = Some(StoredText::new(&content, self.breaks));
                    }
                }
                "PlainTextSelection" => {
                    let body = text.get_or_insert_with(|| StoredText::new("", self.breaks));
                    // The borrow checker wants the text apart from self for the call.
                    let body = std::mem::replace(body, StoredText::new("", self.breaks));
                    let r = self.selection(x, &c, &src, &body, &made);
                    text = Some(body);
                    r?;
                }
                "Coding" => {
                    self.coding(x, &c, &src, None, &made, "")?;
                }
                "NoteRef" => {
                    let g = x.target(&c)?;
                    self.w.note_ref(NoteTarget::Source(seq), g, &x.at(c.pos))?;
                    x.skip(&c, |_| {})?;
                }
                "VariableValue" => {
                    if let Some((i, v)) = self.variable_value(x, &c)? {
                        self.w.source_value(seq, i, &v)?;
                    }
                }
                "Description" => {
                    // QualCoder and MAXQDA keep a document's memo here: it becomes the memo of
                    // the source's creator on the answer.
                    let d = x.text_of(&c)?;
                    if !d.trim().is_empty() {
                        let coder = self.coder(made.user.as_deref())?;
                        let note = uuid::Uuid::new_v4().as_u128();
                        let at = self.time(&made);
                        self.w.note(
                            note,
                            "",
                            &crate::model::empty::normalize_newlines(&d),
                            coder,
                            &at,
                        )?;
                        self.w
                            .note_ref(NoteTarget::Source(seq), note, &x.at(c.pos))?;
                    }
                }
                _ => x.skip(&c, |_| {})?,
            }
        }
        let text = text.map(|t| t.text).unwrap_or_default();
        if !self.w.source(seq, key, &name, &text)? {
            return Err(x.error(
                t.pos,
                format!(
                    "{}: the source GUID is used twice; GUIDs identify sources and must be unique",
                    t.describe()
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn selection<R: BufRead>(
        &mut self,
        x: &mut XmlIn<R>,
        t: &Tag,
        src: &Src,
        text: &StoredText,
        outer: &Made,
    ) -> Result<()> {
        required_guid(x, t, "guid")?;
        let start = position(x, t, "startPosition")?;
        let end = position(x, t, "endPosition")?;
        let source = if src.name.is_empty() {
            "the source".to_string()
        } else {
            format!("source {:?}", src.name)
        };
        if start > end {
            return Err(x.error(
                t.pos,
                format!(
                    "{}: startPosition {start} is after endPosition {end}",
                    t.describe()
                ),
            ));
        }
        if end > text.counted_chars {
            return Err(x.error(
                t.pos,
                format!(
                    "{}: endPosition {end} is past the end of the text of {source}, which has \
                     {} characters (Unicode code points)",
                    t.describe(),
                    text.counted_chars
                ),
            ));
        }
        let (s, e) = (text.map(start), text.map(end));
        let span = if s == 0 && e == text.chars {
            // A selection of the whole text codes the whole answer.
            Some(None)
        } else if s == e {
            None
        } else {
            Some(Some((s, e)))
        };
        let made = Made::of(t, outer);
        let mut memo = String::new();
        let mut codings = Vec::new();
        let mut notes = Vec::new();
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            match c.name.as_str() {
                "Description" => {
                    memo = crate::model::empty::normalize_newlines(&x.text_of(&c)?).into()
                }
                "Coding" => match span {
                    Some(span) => {
                        if let Some(row) = self.coding(x, &c, src, span, &made, &memo)? {
                            codings.push(row);
                        }
                    }
                    None => {
                        self.report.lose(
                            "codings of empty selections (startPosition = endPosition)",
                            t.opt("name"),
                        );
                        x.skip(&c, |_| {})?;
                    }
                },
                "NoteRef" => {
                    notes.push((x.target(&c)?, x.at(c.pos)));
                    x.skip(&c, |_| {})?;
                }
                _ => x.skip(&c, |_| {})?,
            }
        }
        if codings.is_empty() && span.is_some() {
            self.report.lose(
                "PlainTextSelections without a code (quotations, comments)",
                t.opt("name").filter(|n| !n.is_empty()).or(Some(&src.name)),
            );
            if !memo.trim().is_empty() {
                self.report
                    .lose("comments on selections without a code", Some(&memo));
            }
        }
        for (note, at) in notes {
            for &row in &codings {
                self.w.note_ref(NoteTarget::Coding(row), note, &at)?;
            }
        }
        Ok(())
    }

    /// A `Coding` whose start was just read; its staged row, if it became a coding.
    pub(super) fn coding<R: BufRead>(
        &mut self,
        x: &mut XmlIn<R>,
        t: &Tag,
        src: &Src,
        span: Option<(u64, u64)>,
        outer: &Made,
        memo: &str,
    ) -> Result<Option<i64>> {
        required_guid(x, t, "guid")?;
        let made = Made::of(t, outer);
        let mut code = None;
        let mut notes = Vec::new();
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            match c.name.as_str() {
                "CodeRef" => {
                    let g = x.target(&c)?;
                    if !self.codes.contains_key(&g) {
                        return Err(x.error(
                            c.pos,
                            format!(
                                "{} refers to no <Code> in the <CodeBook>; nothing was imported",
                                c.describe()
                            ),
                        ));
                    }
                    code = Some(g);
                    x.skip(&c, |_| {})?;
                }
                "NoteRef" => {
                    notes.push((x.target(&c)?, x.at(c.pos)));
                    x.skip(&c, |_| {})?;
                }
                _ => x.skip(&c, |_| {})?,
            }
        }
        let Some(code) = code else {
            return Err(x.error(
                t.pos,
                format!("{} has no <CodeRef>, which is required", t.describe()),
            ));
        };
        let info = &self.codes[&code];
        if let Some(rid) = info.case_of {
            self.w.case_source(src.key, rid)?;
            return Ok(None);
        }
        let (code_id, codable, code_name) = (info.id, info.codable, info.name.clone());
        if !codable && !self.make_codable.contains(&code_id) {
            self.make_codable.push(code_id);
            self.report.note(format!(
                "the code {code_name:?} is marked not codable (isCodable=\"false\") but has \
                 codings: it was made codable so they are kept"
            ));
        }
        let coder = self.coder(made.user.as_deref())?;
        let at = self.time(&made);
        let row = self.w.coding(src.seq, code_id, coder, span, &at, memo)?;
        for (note, at) in notes {
            self.w.note_ref(NoteTarget::Coding(row), note, &at)?;
        }
        Ok(Some(row))
    }

    // --- notes and sets ---------------------------------------------------------------------

    pub(super) fn notes<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let level = x.level(t);
        while let Some(n) = x.next_child(level)? {
            if n.name != "Note" {
                x.skip(&n, |_| {})?;
                continue;
            }
            let key = required_guid(x, &n, "guid")?;
            let made = Made::of(&n, &Made::default());
            let name = n.get("name").unwrap_or("").trim().to_string();
            let mut text = match n.opt("plainTextPath") {
                Some(p) => Some(self.read_text(p, &n, x)?),
                None => None,
            };
            let mut inner_codings = 0;
            let level = x.level(&n);
            while let Some(c) = x.next_child(level)? {
                match c.name.as_str() {
                    "PlainTextContent" => {
                        let content = x.text_of(&c)?;
                        if text.is_none() {
                            text = Some(content);
                        }
                    }
                    "PlainTextSelection" | "Coding" => {
                        inner_codings += 1;
                        x.skip(&c, |_| {})?;
                    }
                    _ => x.skip(&c, |_| {})?,
                }
            }
            self.report.lose_n(
                "selections and codings inside notes",
                inner_codings,
                Some(&name),
            );
            let text =
                crate::model::empty::normalize_newlines(&text.unwrap_or_default()).into_owned();
            let coder = self.coder(made.user.as_deref())?;
            let at = self.time(&made);
            if !self.w.note(key, &name, &text, coder, &at)? {
                return Err(x.error(
                    n.pos,
                    format!("{}: the note GUID is used twice", n.describe()),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn sets<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let level = x.level(t);
        let mut seq = 0;
        while let Some(s) = x.next_child(level)? {
            if s.name != "Set" {
                x.skip(&s, |_| {})?;
                continue;
            }
            required_guid(x, &s, "guid")?;
            let name = required(x, &s, "name")?.to_string();
            seq += 1;
            let mut info = SetInfo {
                seq,
                name,
                description: String::new(),
                sources: 0,
                codes: 0,
                notes: 0,
            };
            let inner = x.level(&s);
            while let Some(c) = x.next_child(inner)? {
                match c.name.as_str() {
                    "Description" => info.description = x.text_of(&c)?,
                    "MemberSource" => {
                        let g = x.target(&c)?;
                        self.w.member(seq, g)?;
                        info.sources += 1;
                        x.skip(&c, |_| {})?;
                    }
                    "MemberCode" => {
                        info.codes += 1;
                        x.skip(&c, |_| {})?;
                    }
                    "MemberNote" => {
                        info.notes += 1;
                        x.skip(&c, |_| {})?;
                    }
                    _ => x.skip(&c, |_| {})?,
                }
            }
            self.sets.push(info);
        }
        Ok(())
    }

    // --- the plan ---------------------------------------------------------------------------
}
