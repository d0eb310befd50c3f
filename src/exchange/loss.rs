//! What an import could not keep, said instead of dropped (the REFI-QDA standard asks an
//! importer to report what it discarded), and what it changed to fit (a repeated name made
//! unique, a coder named by its GUID).

use serde::Serialize;

/// How many names of each kind of loss are kept for the report.
const EXAMPLES: usize = 5;

#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    /// What lacrima cannot hold, by kind, in the order first met.
    pub lost: Vec<Loss>,
    /// What was kept, but changed or guessed.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Loss {
    pub what: String,
    pub count: u64,
    /// The first few names or GUIDs, to find them in the other tool.
    pub examples: Vec<String>,
}

impl Report {
    pub fn lose(&mut self, what: &str, example: Option<&str>) {
        self.lose_n(what, 1, example);
    }

    /// Counts `n` more of a kind (with `n` = 0 only adds the example to a kind already there).
    pub fn lose_n(&mut self, what: &str, n: u64, example: Option<&str>) {
        let i = match self.lost.iter().position(|l| l.what == what) {
            Some(i) => i,
            None if n == 0 => return,
            None => {
                self.lost.push(Loss {
                    what: what.to_string(),
                    count: 0,
                    examples: Vec::new(),
                });
                self.lost.len() - 1
            }
        };
        let l = &mut self.lost[i];
        l.count += n;
        if let Some(e) = example.map(str::trim).filter(|e| !e.is_empty())
            && l.examples.len() < EXAMPLES
            && !l.examples.iter().any(|x| x == e)
        {
            l.examples.push(e.chars().take(80).collect());
        }
    }

    pub fn note(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        if !self.notes.contains(&msg) {
            self.notes.push(msg);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lost.is_empty()
    }

    /// The report for a person: one line per kind.
    pub fn lines(&self) -> Vec<String> {
        self.lost
            .iter()
            .map(|l| {
                let mut s = format!("{} {}", l.count, l.what);
                if !l.examples.is_empty() {
                    let more = if (l.count as usize) > l.examples.len() {
                        ", …"
                    } else {
                        ""
                    };
                    s.push_str(&format!(" ({}{more})", l.examples.join(", ")));
                }
                s
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_are_counted_by_kind_with_a_few_examples() {
        let mut r = Report::default();
        for i in 0..7 {
            r.lose("PictureSource (pictures)", Some(&format!("photo {i}")));
        }
        r.lose("Graph", None);
        assert_eq!(
            r.lines(),
            [
                "7 PictureSource (pictures) (photo 0, photo 1, photo 2, photo 3, photo 4, …)",
                "1 Graph"
            ]
        );
    }
}
