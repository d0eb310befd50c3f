//! The coding screen's auto-code pop-up: a pattern for the selected code, the live count of the
//! answers it finds with a few of them, and Enter to apply it as one undoable action. The count
//! reads every answer's text, so it runs on the worker thread (`worker`) and arrives as an
//! action; typing never waits for it.

use crate::autocode::{Marking, PatternOptions, Rule, in_context};
use crate::error::Result;
use crate::store::{FoundCoding, Store};

/// How many matching answers the pop-up lists.
pub const SAMPLES: usize = 8;

/// A pattern to count; `generation` tells a stale answer from the current one.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewRequest {
    pub generation: u64,
    pub code: String,
    pub pattern: String,
}

/// What a pattern finds among the answers offered for coding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Found {
    pub answers: u64,
    pub matches: u64,
    /// ("ID question", the text around the first match with the match marked).
    pub samples: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub generation: u64,
    /// The count, or why the pattern cannot be used (a regex error with its position).
    pub outcome: std::result::Result<Found, String>,
}

fn rule(req: &PreviewRequest) -> Result<Rule> {
    Rule::new(
        &req.code,
        vec![req.pattern.clone()],
        PatternOptions::default(),
        "the pattern",
    )
}

/// The preview's line for a match: less before it than after, which the pop-up cuts at its edge.
fn context(text: &str, span: (usize, usize)) -> String {
    in_context(
        text,
        span,
        Marking {
            before: 20,
            after: 40,
            open: "[",
            close: "]",
            ellipsis_after: false,
        },
    )
}

/// Counts what the pattern finds (on whichever thread calls it).
pub fn preview(store: &Store, req: &PreviewRequest) -> Preview {
    let outcome = (|| -> Result<Found> {
        let rule = rule(req)?;
        let mut found = Found::default();
        let mut first: Vec<(i64, String)> = Vec::new();
        store.for_each_answer_text(None, false, &mut |id, text| {
            if rule.is_match(text) {
                let spans = rule.spans(text);
                if let Some(s) = spans.first() {
                    found.answers += 1;
                    found.matches += spans.len() as u64;
                    if first.len() < SAMPLES {
                        first.push((id, context(text, *s)));
                    }
                }
            }
            Ok(true)
        })?;
        for (id, ctx) in first {
            let (ext, q) = store.answer_names(id)?;
            found.samples.push((format!("{ext} {q}"), ctx));
        }
        Ok(found)
    })();
    Preview {
        generation: req.generation,
        outcome: outcome.map_err(|e| e.to_string()),
    }
}

/// The codings the pattern gives: one segment per match, in code points.
pub fn codings(store: &Store, req: &PreviewRequest, code_id: i64) -> Result<Vec<FoundCoding>> {
    let rule = rule(req)?;
    let mut out = Vec::new();
    store.for_each_answer_text(None, false, &mut |id, text| {
        if rule.is_match(text) {
            out.extend(rule.spans(text).into_iter().map(|s| FoundCoding {
                response_id: id,
                code_id,
                span: Some(s),
            }));
        }
        Ok(true)
    })?;
    Ok(out)
}
