//! Stable GUIDs for what a lacrima project has no stored GUID for (coders, respondents, answers,
//! codings, memos, sets): UUID version 5 of the project's own GUID and what the element stands
//! for. The same project, or a copy of it, exported twice names each thing the same way, which is
//! what lets another tool (and `lacrima merge`) match them up.

use uuid::Uuid;

/// Separates the parts of a name so that ("a b", "c") and ("a", "b c") differ.
const SEP: char = '\u{1f}';

#[derive(Debug, Clone)]
pub struct Guids {
    namespace: Uuid,
}

impl Guids {
    /// `project_guid` is the project's `project_meta` GUID; anything else is hashed into one, so
    /// a project without it still gets stable (if not unique) GUIDs.
    pub fn new(project_guid: &str) -> Guids {
        let namespace = Uuid::parse_str(project_guid.trim())
            .unwrap_or_else(|_| Uuid::new_v5(&Uuid::NAMESPACE_OID, project_guid.as_bytes()));
        Guids { namespace }
    }

    fn make(&self, kind: &str, parts: &[&str]) -> String {
        let mut name = String::from(kind);
        for p in parts {
            name.push(SEP);
            name.push_str(p);
        }
        Uuid::new_v5(&self.namespace, name.as_bytes())
            .hyphenated()
            .to_string()
    }

    pub fn user(&self, coder: &str) -> String {
        self.make("user", &[coder])
    }

    pub fn case(&self, respondent: &str) -> String {
        self.make("case", &[respondent])
    }

    pub fn source(&self, respondent: &str, question: &str) -> String {
        self.make("source", &[respondent, question])
    }

    pub fn variable(&self, name: &str) -> String {
        self.make("variable", &[name])
    }

    /// A coding's selection: the answer, the coder, the code and the span ("" for a whole answer).
    pub fn selection(
        &self,
        source: &str,
        coder: &str,
        code: &str,
        span: Option<(i64, i64)>,
    ) -> String {
        let span = span.map(|(s, e)| format!("{s}-{e}")).unwrap_or_default();
        self.make("selection", &[source, coder, code, &span])
    }

    pub fn coding(&self, selection: &str) -> String {
        self.make("coding", &[selection])
    }

    /// A memo: what it is on ("answer", "code", "coding"), that thing's GUID, and its coder.
    pub fn note(&self, on: &str, target: &str, coder: &str) -> String {
        self.make("note", &[on, target, coder])
    }

    pub fn set(&self, name: &str) -> String {
        self.make("set", &[name])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_thing_gets_the_same_guid_and_different_things_differ() {
        let g = Guids::new("6f1c0db2-1111-4222-8333-444455556666");
        assert_eq!(g.case("T0001"), g.case("T0001"));
        assert_ne!(g.case("T0001"), g.case("T0002"));
        assert_ne!(g.source("a b", "c"), g.source("a", "b c"));
        let other = Guids::new("0d3c6c2e-1111-4222-8333-444455556666");
        assert_ne!(g.case("T0001"), other.case("T0001"));
        let id = g.user("ana");
        assert_eq!(id.len(), 36);
        assert!(Uuid::parse_str(&id).is_ok());
    }
}
