//! Reading the codebook, the variables and the cases of a REFI-QDA project: codes with their
//! hierarchy (by GUID, renamed where names clash), typed variables, and cases as respondents
//! with their values and the sources that are theirs.

use super::*;

impl Reader<'_> {
    pub(super) fn codebook<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let mut codes: Vec<CodeEl> = Vec::new();
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            if c.name == "Codes" {
                read_codes(x, &c, &mut codes)?;
            } else {
                x.skip(&c, |_| {})?;
            }
        }
        self.apply_codes(codes)
    }

    pub(super) fn apply_codes(&mut self, mut codes: Vec<CodeEl>) -> Result<()> {
        let mut seen = HashMap::new();
        for c in &codes {
            if let Some(first) = seen.insert(c.key, c.at.clone()) {
                return Err(Error::input(format!(
                    "{}: the code GUID {} is used twice (first at {first}); GUIDs identify \
                     codes and must be unique; nothing was imported",
                    c.at, c.guid
                )));
            }
        }
        // Other tools allow one name under two parents ("Other" here and there); lacrima's
        // names are unique, so a repeated name gets its parent's name, or a number.
        let mut names: HashSet<String> = HashSet::new();
        let mut renamed = Vec::new();
        for code in codes.iter_mut() {
            let name = code.name.clone();
            if names.insert(name.to_lowercase()) {
                continue;
            }
            let parent = code.parent.clone();
            let mut candidate = match &parent {
                Some(p) => format!("{name} ({p})"),
                None => format!("{name} (2)"),
            };
            let mut n = 2;
            while names.contains(&candidate.to_lowercase()) {
                n += 1;
                candidate = format!("{name} ({n})");
            }
            names.insert(candidate.to_lowercase());
            renamed.push(format!("{name} -> {candidate}"));
            code.name = candidate;
        }
        // Parents by index, so that a renamed parent is its children's parent still.
        let names: Vec<String> = codes.iter().map(|c| c.name.clone()).collect();
        for c in codes.iter_mut() {
            c.parent = c.parent_index.map(|p| names[p].clone());
        }
        if !renamed.is_empty() {
            self.report.note(format!(
                "{} codes share a name with another code; lacrima's code names are unique, so \
                 they were renamed: {}",
                renamed.len(),
                renamed.join(", ")
            ));
        }
        let mut entries: Vec<CodebookEntry> = Vec::with_capacity(codes.len());
        for c in &codes {
            let mut e = CodebookEntry {
                line: 0,
                at: Some(c.at.clone()),
                guid: Some(c.guid.clone()),
                name: c.name.clone(),
                parent: Some(c.parent.clone().unwrap_or_default()),
                color: Some(c.color.clone().unwrap_or_default()),
                codable: Some(c.codable.unwrap_or(true)),
                ..CodebookEntry::default()
            };
            let from_meta = self.meta.as_ref().and_then(|m| m.codes.get(&c.key));
            match from_meta {
                Some(m) => {
                    e.description = Some(m.description.clone().unwrap_or_default());
                    e.inclusion = Some(m.inclusion.clone().unwrap_or_default());
                    e.exclusion = Some(m.exclusion.clone().unwrap_or_default());
                    e.example = Some(m.example.clone().unwrap_or_default());
                    e.shortcut = Some(m.shortcut.clone().unwrap_or_default());
                }
                None => {
                    let f = split_description(c.description.as_deref().unwrap_or(""));
                    e.description = Some(f.definition);
                    e.inclusion = Some(f.inclusion);
                    e.exclusion = Some(f.exclusion);
                    e.example = Some(f.example);
                }
            }
            entries.push(e);
        }
        let floor = self.w.max_code_id()?;
        let ids = self.w.codebook(&entries, &self.file)?;
        for (c, id) in codes.iter().zip(&ids) {
            self.codes.insert(
                c.key,
                CodeInfo {
                    id: *id,
                    name: c.name.clone(),
                    codable: c.codable.unwrap_or(true),
                    made_here: *id > floor,
                    case_of: None,
                },
            );
            for (note, at) in &c.notes {
                self.w.note_ref(NoteTarget::Code(*id), *note, at)?;
            }
        }
        self.code_count = codes.len();
        Ok(())
    }

    // --- variables and cases ----------------------------------------------------------------

    pub(super) fn variables<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let level = x.level(t);
        while let Some(v) = x.next_child(level)? {
            if v.name != "Variable" {
                x.skip(&v, |_| {})?;
                continue;
            }
            let g = required_guid(x, &v, "guid")?;
            let name = required(x, &v, "name")?.to_string();
            let typ = match required(x, &v, "typeOfVariable")? {
                "Text" => VarType::Text,
                "Boolean" => VarType::Boolean,
                "Integer" => VarType::Integer,
                "Float" => VarType::Float,
                "Date" => VarType::Date,
                "DateTime" => VarType::DateTime,
                other => {
                    return Err(x.error(
                        v.pos,
                        format!(
                            "{}: typeOfVariable {other:?} is none of Text, Boolean, Integer, \
                             Float, Date, DateTime",
                            v.describe()
                        ),
                    ));
                }
            };
            let mut label = None;
            let inner = x.level(&v);
            while let Some(c) = x.next_child(inner)? {
                if c.name == "Description" {
                    label = Some(x.text_of(&c)?).filter(|d| !d.trim().is_empty());
                } else {
                    x.skip(&c, |_| {})?;
                }
            }
            if self.var_by_guid.contains_key(&g) {
                return Err(x.error(
                    v.pos,
                    format!("{}: the variable GUID is used twice", v.describe()),
                ));
            }
            let from_meta = self.meta.as_ref().and_then(|m| m.variable(&name)).cloned();
            let (kind, levels, label) = match &from_meta {
                Some(m) => (
                    m.kind.as_deref().and_then(VariableKind::parse),
                    m.levels.clone().unwrap_or_default(),
                    m.label.clone().or(label),
                ),
                None => (None, Vec::new(), label),
            };
            let kind = kind.or(match typ {
                VarType::Integer | VarType::Float => Some(VariableKind::Numeric),
                VarType::Date | VarType::DateTime => Some(VariableKind::Date),
                VarType::Text | VarType::Boolean => None,
            });
            let idx = self.w.variable(
                &name,
                label.as_deref(),
                kind.unwrap_or(VariableKind::Text),
                &levels,
            )?;
            self.var_by_guid.insert(g, self.vars.len());
            self.vars.push(Var {
                name,
                typ,
                idx,
                kind,
                distinct: BTreeSet::new(),
                too_many: false,
            });
        }
        Ok(())
    }

    /// A `VariableValue`: which variable, and its value as lacrima stores it.
    pub(super) fn variable_value<R: BufRead>(
        &mut self,
        x: &mut XmlIn<R>,
        t: &Tag,
    ) -> Result<Option<(usize, Value)>> {
        let mut var = None;
        let mut raw: Option<(String, String)> = None;
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            match c.name.as_str() {
                "VariableRef" => {
                    let g = x.target(&c)?;
                    var = Some(*self.var_by_guid.get(&g).ok_or_else(|| {
                        x.error(
                            c.pos,
                            format!("{} refers to no <Variable> of <Variables>", c.describe()),
                        )
                    })?);
                    x.skip(&c, |_| {})?;
                }
                "TextValue" | "BooleanValue" | "IntegerValue" | "FloatValue" | "DateValue"
                | "DateTimeValue" => {
                    let text = x.text_of(&c)?;
                    raw = Some((c.name.clone(), text));
                }
                _ => x.skip(&c, |_| {})?,
            }
        }
        let Some(var) = var else {
            return Err(x.error(
                t.pos,
                "a <VariableValue> without its <VariableRef>, which is required",
            ));
        };
        let Some((element, text)) = raw else {
            return Ok(Some((var, Value::Null)));
        };
        let v = &mut self.vars[var];
        if text.trim().is_empty() {
            return Ok(Some((var, Value::Null)));
        }
        let numeric = v.kind == Some(VariableKind::Numeric);
        let value = if numeric {
            // A FloatValue is a real even when it is written "7" (lacrima writes 7.0 so).
            let n = if element == "FloatValue" {
                text.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Value::Real)
            } else {
                number(text.trim())
            };
            n.ok_or_else(|| {
                x.error(
                    t.pos,
                    format!(
                        "the value {text:?} of variable {:?} ({element}) is not a number",
                        v.name
                    ),
                )
            })?
        } else if v.typ == VarType::Boolean && v.kind.is_none() {
            Value::Text(match text.trim() {
                "1" | "true" => "true".to_string(),
                "0" | "false" => "false".to_string(),
                other => other.to_string(),
            })
        } else {
            Value::Text(text)
        };
        if v.kind.is_none()
            && !v.too_many
            && let Value::Text(s) = &value
        {
            v.distinct.insert(s.clone());
            if v.distinct.len() > MAX_CATEGORICAL_LEVELS {
                v.too_many = true;
                v.distinct.clear();
            }
        }
        Ok(Some((v.idx, value)))
    }

    pub(super) fn cases<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let mut taken_names = 0;
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            if c.name != "Case" {
                x.skip(&c, |_| {})?;
                continue;
            }
            let key = required_guid(x, &c, "guid")?;
            let name = c.opt("name").map(str::to_string);
            let mut values = vec![Value::Null; self.w.variable_count()];
            let mut sources = Vec::new();
            let inner = x.level(&c);
            while let Some(e) = x.next_child(inner)? {
                match e.name.as_str() {
                    "VariableValue" => {
                        if let Some((i, v)) = self.variable_value(x, &e)? {
                            values[i] = v;
                        }
                    }
                    "SourceRef" => {
                        sources.push(x.target(&e)?);
                        x.skip(&e, |_| {})?;
                    }
                    "Description" => {
                        if !x.text_of(&e)?.trim().is_empty() {
                            self.report
                                .lose("descriptions of cases", name.as_deref().or(c.opt("guid")));
                        }
                    }
                    "CodeRef" => {
                        self.report.lose(
                            "codes applied to whole cases (CodeRef in a Case)",
                            name.as_deref(),
                        );
                        x.skip(&e, |_| {})?;
                    }
                    "SelectionRef" => {
                        self.report.lose(
                            "selections listed in cases (SelectionRef in a Case)",
                            name.as_deref(),
                        );
                        x.skip(&e, |_| {})?;
                    }
                    _ => x.skip(&e, |_| {})?,
                }
            }
            let base = name
                .clone()
                .unwrap_or_else(|| c.opt("guid").unwrap_or_default().to_string());
            let mut n = 1;
            let rid = loop {
                let ext = if n == 1 {
                    base.clone()
                } else {
                    format!("{base} ({n})")
                };
                if let Some(rid) = self.w.respondent(&ext, &values)? {
                    break rid;
                }
                n += 1;
            };
            if n > 1 {
                taken_names += 1;
            }
            if name.is_none() {
                self.w.nameless(rid, sources.len())?;
            }
            for s in sources {
                if !self.w.case_source(s, rid)? {
                    self.report.lose(
                        "sources listed in a second case (an answer has one respondent: the \
                         first case's)",
                        name.as_deref(),
                    );
                }
            }
            if let Some(code) = self.codes.get_mut(&key) {
                // NVivo: the case is also a code (a case node) with the case's GUID.
                code.case_of = Some(rid);
                if code.made_here {
                    self.drop_codes.push(code.id);
                }
                self.report.note(format!(
                    "codes with a case's GUID (NVivo's case nodes, e.g. {:?}) say which case \
                     a source belongs to; they were not kept as codes",
                    code.name
                ));
            }
        }
        if taken_names > 0 {
            self.report.note(format!(
                "{taken_names} cases have a name another case has: \" (2)\", ... was added"
            ));
        }
        Ok(())
    }

    // --- sources ----------------------------------------------------------------------------
}
