//! The coding workspace: a keyboard-driven terminal screen on which a coder reads each answer and
//! codes it into the codebook's themes (`lacrima code`).
//!
//! Keys become [`Action`]s through the [`keymap`] (data, with an optional user file);
//! [`update()`] applies an action to the [`State`] through store calls, each committed before the
//! next frame; [`render::render`] draws the state and nothing else. Counts over the whole project
//! come from a [`worker`] thread. [`app`] owns the terminal.

pub mod action;
pub mod analysis;
pub mod analysis_app;
pub mod analysis_render;
pub mod app;
pub mod autocode;
pub mod keymap;
pub mod render;
pub mod review;
pub mod review_app;
pub mod review_render;
pub mod state;
pub mod subscreen;
pub mod text;
pub mod update;
pub mod worker;

pub use action::Action;
pub use app::run;
pub use keymap::Keymap;
pub use state::State;
pub use update::update;

use crossterm::event::KeyEvent;
use keymap::Context;

/// The action a key stands for in the state's current context; in a text field or the finder an
/// unbound key is typing.
pub fn action_for_key(state: &State, ev: KeyEvent) -> Option<Action> {
    let ctx = state.context();
    match state.keymap.lookup(ctx, &ev) {
        Some(a) => Some(a),
        None if matches!(ctx, Context::Input | Context::Finder) => Some(Action::Key(ev)),
        None => None,
    }
}

/// Counts the auto-code pattern being typed on this thread (tests; the screen uses the worker).
pub fn refresh_preview_now(state: &mut State) {
    if let Some(req) = state.preview_request.take() {
        let p = autocode::preview(&state.store, &req);
        update(state, Action::Preview(p));
    }
}

/// Brings the counts up to date on this thread (tests and benchmarks; the screen uses the worker).
pub fn refresh_counts_now(state: &mut State) -> crate::error::Result<()> {
    let req = worker::CountRequest {
        generation: state.counts_generation,
        query: state.query(),
    };
    let counts = worker::compute(&state.store, &req)?;
    state.counts_requested = state.counts_generation;
    update(state, Action::Counts(counts));
    Ok(())
}
