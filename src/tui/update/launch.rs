//! The agreement and analysis screens, opened from the coding screen: what each is set up with.
//! The app runs them; this only leaves the request in the state.

use super::info;
use crate::error::Result;
use crate::tui::analysis::AnalysisSetup;
use crate::tui::review::ReviewSetup;
use crate::tui::state::*;

/// Asks the app for the agreement screen over every ordinary coder who has coded something,
/// with this coder deciding into the project's consensus coder. With fewer than two such coders
/// there is nothing to compare, and the status line says so instead.
pub(super) fn open_agreement(state: &mut State) -> Result<()> {
    let all = state.store.rating_coders(None)?;
    let coders: Vec<(i64, String)> = all
        .iter()
        .filter(|c| !c.is_consensus && c.has_ratings)
        .map(|c| (c.id, c.name.clone()))
        .collect();
    if coders.len() < 2 {
        let who = match &coders[..] {
            [] => "nobody has coded yet".to_string(),
            [one] => format!("only {} has coded", one.1),
            _ => unreachable!("fewer than two"),
        };
        // Short enough for the status line of an 80-column terminal.
        info(state, format!("agreement needs two coders; {who}"));
        return Ok(());
    }
    // The project's consensus coder when it has exactly one, else a new one named as
    // `lacrima review` names it by default.
    let consensus: Vec<&str> = all
        .iter()
        .filter(|c| c.is_consensus)
        .map(|c| c.name.as_str())
        .collect();
    let consensus = match consensus[..] {
        [only] => only.to_string(),
        _ => "consensus".to_string(),
    };
    state.launch = Some(SubScreen::Review(ReviewSetup {
        coders,
        decider: state.coder.clone(),
        consensus,
        question: None,
    }));
    Ok(())
}

/// Asks the app for the analysis screen, which starts by asking for a variable. It analyses the
/// consensus coder's codings once there are any (as `lacrima analyze` does), else this coder's:
/// a consensus coder that the agreement screen has just created holds nothing to analyse yet.
pub(super) fn open_analysis(state: &mut State) -> Result<()> {
    let layout = state.store.dataset_layout()?;
    let consensus: Vec<_> = state
        .store
        .coders_overview()?
        .into_iter()
        .filter(|c| c.is_consensus)
        .collect();
    let coder = match &consensus[..] {
        [only] if only.answers_rated > 0 => only.name.clone(),
        _ => state.coder.clone(),
    };
    let scope = crate::report::scope(&state.store, &layout, Some(&coder), None)?;
    state.launch = Some(SubScreen::Analysis(AnalysisSetup { scope, by: None }));
    Ok(())
}
