//! The code finder: a fuzzy search over the codebook's names, and what the chosen code is for
//! (applying it, merging into it, or filtering the list by it).

use super::codebook::ask_merge;
use super::coding::toggle;
use super::filter::set_filter;
use super::popups::text_input;
use crate::error::Result;
use crate::store::AnswerFilter;
use crate::tui::state::*;

/// Ranks codes for the finder: every typed character must appear in order in the name (ignoring
/// case); contiguous runs and matches at word starts rank first.
pub fn fuzzy_score(query: &str, name: &str) -> Option<i64> {
    let q: Vec<char> = query
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if q.is_empty() {
        return Some(0);
    }
    let n: Vec<char> = name.to_lowercase().chars().collect();
    let mut score = 0i64;
    let mut qi = 0;
    let mut last: Option<usize> = None;
    for (i, c) in n.iter().enumerate() {
        if qi < q.len() && *c == q[qi] {
            let word_start = i == 0 || !n[i - 1].is_alphanumeric();
            score += 10;
            if word_start {
                score += 8;
            }
            if last.is_some_and(|l| l + 1 == i) {
                score += 6;
            } else if let Some(l) = last {
                score -= (i - l) as i64;
            }
            last = Some(i);
            qi += 1;
        }
    }
    (qi == q.len()).then_some(score - n.len() as i64 / 4)
}

pub(super) fn finder_matches(state: &State, purpose: &FinderPurpose, query: &str) -> Vec<usize> {
    let mut scored: Vec<(i64, usize)> = state
        .codes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.codable)
        .filter(|(_, c)| !matches!(purpose, FinderPurpose::MergeInto(from) if *from == c.id))
        .filter_map(|(i, c)| fuzzy_score(query, &c.name).map(|s| (s, i)))
        .collect();
    // Best first; equal scores keep codebook order.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| i).collect()
}

pub(super) fn open_finder(state: &mut State, purpose: FinderPurpose) {
    let matches = finder_matches(state, &purpose, "");
    state.popup = Some(Popup::Finder {
        purpose,
        input: text_input("", false),
        matches,
        selected: 0,
    });
}

pub(super) fn finder_chosen(state: &mut State, purpose: FinderPurpose, code: i64) -> Result<()> {
    match purpose {
        FinderPurpose::Apply(span) => toggle(state, code, span),
        FinderPurpose::MergeInto(from) => ask_merge(state, from, code),
        FinderPurpose::FilterWith => set_filter(state, AnswerFilter::WithCode(code)),
        FinderPurpose::FilterWithout => set_filter(state, AnswerFilter::WithoutCode(code)),
    }
}
