//! `lacrima review --coders A,B --coder ME`: the review screen, on which ME settles the coders'
//! disagreements into the consensus coder.

use crate::error::{Error, Result};
use crate::report::{coder_list, named_coders, question_id};
use crate::store::Store;
use crate::tui::review::ReviewSetup;
use clap::Args;
use std::path::Path;

#[derive(Args, Debug)]
pub struct ReviewArgs {
    /// The coders whose disagreements are settled (comma list, or repeat the option).
    #[arg(long, required = true)]
    pub coders: Vec<String>,
    /// Who decides (recorded with every decision).
    #[arg(long, env = "LACRIMA_CODER")]
    pub coder: Option<String>,
    /// The consensus coder (created and marked as consensus on first use).
    #[arg(long = "as", default_value = "consensus")]
    pub as_name: String,
    /// Only the answers to this question (default: all questions).
    #[arg(long)]
    pub question: Option<String>,
}

/// Checks everything a plain message can say before the screen opens.
pub fn setup(store: &Store, a: &ReviewArgs) -> Result<ReviewSetup> {
    let question = question_id(store, a.question.as_deref())?;
    let all = store.rating_coders(question)?;
    let coders = named_coders(&a.coders, &all)?;
    if coders.len() < 2 {
        return Err(Error::input(format!(
            "a review compares at least two coders (--coders A,B); the coders are: {}",
            coder_list(&all)
        )));
    }
    if let Some((_, n)) = coders
        .iter()
        .find(|(id, _)| all.iter().any(|c| c.id == *id && c.is_consensus))
    {
        return Err(Error::input(format!(
            "{n:?} is a consensus coder; review the coders whose work it settles"
        )));
    }
    if coders.iter().any(|(_, n)| n == &a.as_name) {
        return Err(Error::input(format!(
            "{:?} is one of the coders compared; name the consensus coder with --as",
            a.as_name
        )));
    }
    if let Some(c) = all.iter().find(|c| c.name == a.as_name && !c.is_consensus) {
        return Err(Error::input(format!(
            "{:?} is an ordinary coder, not a consensus coder; name the consensus coder with --as",
            c.name
        )));
    }
    let decider = a
        .coder
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            Error::input(
                "say who decides: lacrima review --coders A,B --coder NAME (or set LACRIMA_CODER)",
            )
        })?;
    Ok(ReviewSetup {
        coders,
        decider: decider.to_string(),
        consensus: a.as_name.clone(),
        question: question.zip(a.question.clone()),
    })
}

pub fn review(project: &Path, a: &ReviewArgs) -> Result<()> {
    use std::io::IsTerminal;
    let store = Store::open(project)?;
    let setup = setup(&store, a)?;
    drop(store);
    if !std::io::stdout().is_terminal() {
        return Err(Error::input(
            "lacrima review is a terminal screen: run it in a terminal (lacrima consensus \
             --from A,B reports the progress in a script)",
        ));
    }
    crate::tui::review_app::run(project, setup)
}
