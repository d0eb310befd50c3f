//! The auto-code pop-up: opening it on the selected code, typing the pattern (each change asks
//! the worker for a new count), taking the count in, and Enter applying the pattern's codings
//! under this coder as one event that `u` takes back whole.

use super::super::autocode::{Preview, PreviewRequest, codings};
use super::super::state::*;
use super::popups::{input_text, single_line, text_input};
use super::{counts_changed, info};
use crate::error::{Error, Result};
use ratatui_textarea::TextArea;

/// Opens the pop-up for the code selected in the codebook panel.
pub(super) fn open(state: &mut State) -> Result<()> {
    let Some(code) = state.codes.get(state.code_selected) else {
        return Err(Error::input(
            "the codebook is empty: add a code first (Tab, then a)",
        ));
    };
    if !code.codable {
        return Err(Error::input(format!(
            "{:?} only groups other codes; select one of its sub-codes to auto-code (Tab, j/k)",
            code.name
        )));
    }
    state.popup = Some(Popup::Autocode {
        code_id: code.id,
        code: code.name.clone(),
        input: text_input("", false),
        generation: 0,
        preview: None,
    });
    Ok(())
}

/// Asks the worker to count what the pattern finds, superseding any count under way.
pub(super) fn request(state: &mut State, code: &str, input: &TextArea<'static>, generation: u64) {
    let pattern = input_text(input);
    state.preview_request = (!pattern.is_empty()).then(|| PreviewRequest {
        generation,
        code: code.to_string(),
        pattern,
    });
}

/// A key typed into the pattern: the field changes and a new count is asked for.
pub(super) fn typed(state: &mut State, popup: Popup, ev: crossterm::event::KeyEvent) {
    let Popup::Autocode {
        code_id,
        code,
        mut input,
        generation,
        preview,
    } = popup
    else {
        return;
    };
    let before = input_text(&input);
    input.input(ev);
    single_line(&mut input);
    let changed = input_text(&input) != before;
    let generation = generation + u64::from(changed);
    if changed {
        request(state, &code, &input, generation);
    }
    state.popup = Some(Popup::Autocode {
        code_id,
        code,
        input,
        generation,
        preview: if changed { None } else { preview },
    });
}

/// A count arrived: shown only if it is for what is typed now.
pub(super) fn arrived(state: &mut State, p: Preview) {
    if let Some(Popup::Autocode {
        generation,
        preview,
        ..
    }) = state.popup.as_mut()
        && *generation == p.generation
    {
        *preview = Some(p);
    }
}

/// Enter: applies the pattern's codings as one event, once the count is in and finds something.
pub(super) fn apply(state: &mut State, code_id: i64, code: &str, pattern: &str) -> Result<()> {
    let req = PreviewRequest {
        generation: 0,
        code: code.to_string(),
        pattern: pattern.to_string(),
    };
    let found = codings(&state.store, &req, code_id)?;
    let answers = {
        let mut ids: Vec<i64> = found.iter().map(|f| f.response_id).collect();
        ids.dedup();
        ids.len()
    };
    let summary = format!("auto-code {code} by /{pattern}/ ({answers} answers)");
    let done = state
        .store
        .apply_autocodings(state.coder_id, &found, &summary)?;
    super::list::refresh_answer(state)?;
    counts_changed(state);
    info(
        state,
        format!(
            "auto-coded {code} on {answers} answers ({} segments added, {} there already) · \
             saved · u takes it all back",
            done.codings_added, done.codings_already_present
        ),
    );
    Ok(())
}
