//! The review screen's terminal: raw mode and the alternate screen, restored on every way out
//! (quit, error, panic, SIGTERM, SIGHUP), and the event loop, both those of [`subscreen`].

use super::review::{ReviewAction, ReviewKeymap, ReviewSetup, ReviewState, update};
use super::review_render::render;
use super::subscreen::{self, NextEvent, Screen};
use crate::error::Result;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::path::Path;
use std::sync::atomic::AtomicBool;

impl Screen for ReviewState {
    type Action = ReviewAction;

    fn action_for_key(&self, ev: KeyEvent) -> Option<ReviewAction> {
        ReviewState::action_for_key(self, ev)
    }

    fn resize(w: u16, h: u16) -> ReviewAction {
        ReviewAction::Resize(w, h)
    }

    fn update(&mut self, action: ReviewAction) {
        update(self, action);
    }

    fn render(&self, frame: &mut Frame<'_>) {
        render(frame, self);
    }

    fn quit(&self) -> bool {
        self.quit
    }

    fn poll(&mut self) -> Option<ReviewAction> {
        ReviewState::poll(self)
    }

    fn busy(&self) -> bool {
        self.loading.is_some()
    }
}

fn open(setup: ReviewSetup) -> impl FnOnce(crate::store::Store, Rect) -> Result<ReviewState> {
    move |store, size| ReviewState::open(store, setup, ReviewKeymap::default(), size)
}

/// Opens the review screen and runs it until the decider quits.
pub fn run(project: &Path, setup: ReviewSetup) -> Result<()> {
    subscreen::run(project, open(setup))
}

/// Runs the screen on a terminal that the coding screen already set up, reading events from
/// `next_event` (the coding screen's input thread), until the decider leaves it.
pub fn run_in(
    terminal: &mut ratatui::DefaultTerminal,
    project: &Path,
    setup: ReviewSetup,
    next_event: NextEvent<'_>,
    stop: &AtomicBool,
) -> Result<()> {
    subscreen::run_in(terminal, project, open(setup), next_event, stop)
}
