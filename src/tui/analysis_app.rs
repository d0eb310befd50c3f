//! The analysis screen's terminal: raw mode and the alternate screen, restored on every way out
//! (quit, error, panic, SIGTERM, SIGHUP), and the event loop, both those of [`subscreen`].

use super::analysis::{AnalysisAction, AnalysisKeymap, AnalysisSetup, AnalysisState, update};
use super::analysis_render::render;
use super::subscreen::{self, NextEvent, Screen};
use crate::error::Result;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::path::Path;
use std::sync::atomic::AtomicBool;

impl Screen for AnalysisState {
    type Action = AnalysisAction;

    fn action_for_key(&self, ev: KeyEvent) -> Option<AnalysisAction> {
        AnalysisState::action_for_key(self, ev)
    }

    fn resize(w: u16, h: u16) -> AnalysisAction {
        AnalysisAction::Resize(w, h)
    }

    fn update(&mut self, action: AnalysisAction) {
        update(self, action);
    }

    fn render(&self, frame: &mut Frame<'_>) {
        render(frame, self);
    }

    fn quit(&self) -> bool {
        self.quit
    }

    fn poll(&mut self) -> Option<AnalysisAction> {
        AnalysisState::poll(self)
    }

    fn busy(&self) -> bool {
        self.pending.is_some()
    }
}

fn open(setup: AnalysisSetup) -> impl FnOnce(crate::store::Store, Rect) -> Result<AnalysisState> {
    move |store, size| AnalysisState::open(store, setup, AnalysisKeymap::default(), size)
}

/// Opens the analysis screen and runs it until the researcher quits.
pub fn run(project: &Path, setup: AnalysisSetup) -> Result<()> {
    subscreen::run(project, open(setup))
}

/// Runs the screen on a terminal that the coding screen already set up, reading events from
/// `next_event` (the coding screen's input thread), until the researcher leaves it.
pub fn run_in(
    terminal: &mut ratatui::DefaultTerminal,
    project: &Path,
    setup: AnalysisSetup,
    next_event: NextEvent<'_>,
    stop: &AtomicBool,
) -> Result<()> {
    subscreen::run_in(terminal, project, open(setup), next_event, stop)
}
