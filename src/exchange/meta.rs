//! `lacrima.json`: what a lacrima export carries beside `project.qde` because QDA-XML has no
//! place for it (see the module documentation of [`super`]).
//!
//! Read leniently: a missing field means "not known", so that an older or newer lacrima's file
//! still reads, and only what is there is used.

use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct Meta {
    pub project_guid: Option<String>,
    pub id_column: Option<String>,
    /// In the project's order.
    pub questions: Vec<MetaQuestion>,
    /// In the project's order.
    pub variables: Vec<MetaVariable>,
    /// By canonical GUID.
    pub codes: HashMap<u128, MetaCode>,
    /// Coder name -> is the consensus coder.
    pub coders: Vec<(String, bool)>,
}

#[derive(Debug, Default, Clone)]
pub struct MetaQuestion {
    pub name: String,
    pub label: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct MetaVariable {
    pub name: String,
    pub label: Option<String>,
    pub kind: Option<String>,
    pub levels: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone)]
pub struct MetaCode {
    pub description: Option<String>,
    pub inclusion: Option<String>,
    pub exclusion: Option<String>,
    pub example: Option<String>,
    pub shortcut: Option<String>,
}

fn s(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| v.get(*k)).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn list<'a>(v: &'a Value, keys: &[&str]) -> Vec<&'a Value> {
    match keys.iter().find_map(|k| v.get(*k)) {
        Some(Value::Array(a)) => a.iter().collect(),
        _ => Vec::new(),
    }
}

impl Meta {
    pub fn parse(bytes: &[u8]) -> Result<Meta, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if !v.is_object() {
            return Err("it is not a JSON object".into());
        }
        let project = v.get("project").unwrap_or(&v);
        let mut m = Meta {
            project_guid: s(project, &["guid", "project_guid"])
                .or_else(|| s(&v, &["project_guid"])),
            id_column: s(project, &["id_column"]).or_else(|| s(&v, &["id_column"])),
            ..Meta::default()
        };
        for q in list(&v, &["questions"]) {
            let q = match q {
                Value::String(name) => MetaQuestion {
                    name: name.clone(),
                    label: None,
                },
                _ => match s(q, &["name"]) {
                    Some(name) => MetaQuestion {
                        name,
                        label: s(q, &["label"]),
                    },
                    None => continue,
                },
            };
            m.questions.push(q);
        }
        for x in list(&v, &["variables"]) {
            let Some(name) = s(x, &["name"]) else {
                continue;
            };
            let levels = match x.get("levels") {
                Some(Value::Array(a)) => Some(
                    a.iter()
                        .filter_map(|l| match l {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            };
            m.variables.push(MetaVariable {
                name,
                label: s(x, &["label"]),
                kind: s(x, &["kind"]),
                levels,
            });
        }
        let code = |c: &Value| MetaCode {
            description: s(c, &["description", "definition"]),
            inclusion: s(c, &["inclusion"]),
            exclusion: s(c, &["exclusion"]),
            example: s(c, &["example"]),
            shortcut: s(c, &["shortcut"]).filter(|s| !s.is_empty()),
        };
        match v.get("codes") {
            Some(Value::Object(map)) => {
                for (guid, c) in map {
                    if let Some(g) = super::xmlin::parse_guid(guid) {
                        m.codes.insert(g, code(c));
                    }
                }
            }
            Some(Value::Array(a)) => {
                for c in a {
                    if let Some(g) = s(c, &["guid"]).and_then(|g| super::xmlin::parse_guid(&g)) {
                        m.codes.insert(g, code(c));
                    }
                }
            }
            _ => {}
        }
        for c in list(&v, &["coders"]) {
            match c {
                Value::String(name) => m.coders.push((name.clone(), false)),
                _ => {
                    if let Some(name) = s(c, &["name"]) {
                        let consensus = ["is_consensus", "consensus"]
                            .iter()
                            .find_map(|k| c.get(*k))
                            .map(|x| x.as_bool().unwrap_or(x.as_i64() == Some(1)))
                            .unwrap_or(false);
                        m.coders.push((name, consensus));
                    }
                }
            }
        }
        Ok(m)
    }

    pub fn variable(&self, name: &str) -> Option<&MetaVariable> {
        self.variables.iter().find(|v| v.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_is_there_and_ignores_the_rest() {
        let m = Meta::parse(
            br#"{"format": "lacrima", "version": 1,
                 "project": {"guid": "6f1c0db2-1111-4222-8333-444455556666", "id_column": "resp_id"},
                 "questions": [{"name": "q1", "label": "Why?", "position": 1}, "q2"],
                 "variables": [{"name": "age", "kind": "numeric"},
                               {"name": "sex", "kind": "categorical", "levels": ["f", "m"]}],
                 "codes": {"6F1C0DB2-1111-4222-8333-444455556666": {"inclusion": "x", "shortcut": "1"}},
                 "coders": [{"name": "ana", "is_consensus": false}, {"name": "team", "is_consensus": true}],
                 "something_new": [1, 2, 3]}"#,
        )
        .unwrap();
        assert_eq!(m.id_column.as_deref(), Some("resp_id"));
        assert_eq!(m.questions.len(), 2);
        assert_eq!(m.questions[0].label.as_deref(), Some("Why?"));
        assert_eq!(
            m.variable("sex").unwrap().levels.as_deref(),
            Some(&["f".to_string(), "m".to_string()][..])
        );
        let g = super::super::xmlin::parse_guid("6f1c0db2-1111-4222-8333-444455556666").unwrap();
        assert_eq!(m.codes[&g].shortcut.as_deref(), Some("1"));
        assert_eq!(
            m.coders,
            [("ana".to_string(), false), ("team".to_string(), true)]
        );
        assert!(Meta::parse(b"[1]").is_err());
    }
}
