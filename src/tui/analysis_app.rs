//! The analysis screen's terminal: raw mode and the alternate screen, restored on every way out
//! (quit, error, panic, SIGTERM, SIGHUP), and the event loop.

use super::analysis::{AnalysisAction, AnalysisKeymap, AnalysisSetup, AnalysisState, update};
use super::analysis_render::render;
use crate::error::{Error, Result};
use crate::store::Store;
use crossterm::event::{self, Event, KeyEventKind};
use ratatui::layout::Rect;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn term_err(e: std::io::Error) -> Error {
    Error::io("the terminal", e)
}

/// Opens the analysis screen and runs it until the researcher quits.
pub fn run(project: &Path, setup: AnalysisSetup) -> Result<()> {
    // Everything that can fail for a plain reason fails before the terminal changes.
    let store = Store::open(project)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(term_err)?;
    }
    let (w, h) = crossterm::terminal::size().map_err(term_err)?;
    let mut state = AnalysisState::open(
        store,
        setup,
        AnalysisKeymap::default(),
        Rect::new(0, 0, w, h),
    )?;
    // ratatui::init chains a panic hook that restores the terminal.
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut state, &mut crossterm_event, &stop);
    ratatui::restore();
    result
}

/// Runs the screen on a terminal that the coding screen already set up, reading events from
/// `next_event` (the coding screen's input thread: a second reader would steal its keys), until
/// the researcher leaves it. The terminal is left as it is for the coding screen to draw again.
pub fn run_in(
    terminal: &mut ratatui::DefaultTerminal,
    project: &Path,
    setup: AnalysisSetup,
    next_event: &mut dyn FnMut(Duration) -> Result<Option<Event>>,
    stop: &AtomicBool,
) -> Result<()> {
    let store = Store::open(project)?;
    let (w, h) = crossterm::terminal::size().map_err(term_err)?;
    let mut state = AnalysisState::open(
        store,
        setup,
        AnalysisKeymap::default(),
        Rect::new(0, 0, w, h),
    )?;
    // No `terminal.clear()`: it asks the terminal for the cursor position, and the answer would
    // go to the coding screen's input thread. None is needed either: ratatui diffs each frame
    // against the last one drawn on this terminal, whichever screen drew it.
    event_loop(terminal, &mut state, next_event, stop)
}

/// Waits up to `timeout` for a terminal event straight from crossterm.
fn crossterm_event(timeout: Duration) -> Result<Option<Event>> {
    if event::poll(timeout).map_err(term_err)? {
        Ok(Some(event::read().map_err(term_err)?))
    } else {
        Ok(None)
    }
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut AnalysisState,
    next_event: &mut dyn FnMut(Duration) -> Result<Option<Event>>,
    stop: &AtomicBool,
) -> Result<()> {
    loop {
        terminal.draw(|f| render(f, state)).map_err(term_err)?;
        if state.quit || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let Some(mut ev) = next_event(Duration::from_millis(250))? else {
            continue;
        };
        // Handle everything that is waiting before drawing again, so held keys keep up.
        loop {
            let action = match ev {
                Event::Key(k) if k.kind != KeyEventKind::Release => state.action_for_key(k),
                Event::Resize(w, h) => Some(AnalysisAction::Resize(w, h)),
                _ => None,
            };
            if let Some(a) = action {
                update(state, a);
            }
            if state.quit {
                break;
            }
            match next_event(Duration::ZERO)? {
                Some(e) => ev = e,
                None => break,
            }
        }
    }
}
