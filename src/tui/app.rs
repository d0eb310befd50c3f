//! The terminal: raw mode and the alternate screen (restored on every way out: quit, error,
//! panic, SIGTERM, SIGHUP), the event loop, mouse and resize, and the counts worker.

use super::state::{State, SubScreen};
use super::subscreen::{self, spawn_input, term_err, terminal_alive};
use super::worker::{CountRequest, Outcome, Worker};
use super::{Action, Keymap, action_for_key, render, update};
use crate::error::Result;
use crate::store::Store;
use crossterm::event::{Event, KeyEventKind, MouseButton, MouseEventKind};
use ratatui::layout::Rect;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How often the screen looks for other coders' changes to the project.
const TICK: Duration = Duration::from_millis(1000);
/// How often keys held back by another program's write lock are tried again.
const RETRY: Duration = Duration::from_millis(200);

/// Opens the coding screen on a project for a coder and runs it until the coder quits.
pub fn run(project: &Path, coder: &str) -> Result<()> {
    // Everything that can fail for a plain reason fails before the terminal changes.
    let keymap = Keymap::load_user()?;
    let mut store = Store::open(project)?;
    store.defer_checkpoints()?;
    store.interactive()?;
    let worker = Worker::spawn(project)?;
    let stop = super::subscreen::stop_on_signals()?;
    let (w, h) = crossterm::terminal::size().map_err(term_err)?;
    let mut state = State::open(store, coder, keymap, Rect::new(0, 0, w, h))?;

    // ratatui::init enters raw mode and the alternate screen and chains a panic hook that
    // restores the terminal; ours turns mouse reporting off first.
    let mut terminal = ratatui::init();
    let restore_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        restore_hook(info);
    }));
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let result = event_loop(&mut terminal, &mut state, &worker, &stop);
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    let _ = std::panic::take_hook();
    result
}

fn to_action(state: &State, ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => action_for_key(state, k),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                column: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => Some(Action::Scroll {
                column: m.column,
                row: m.row,
                down: m.kind == MouseEventKind::ScrollDown,
            }),
            _ => None,
        },
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    }
}

/// Hands the terminal to another screen until it is left. That screen reads this screen's input
/// channel (there can be only one reader of the terminal) and draws on the same terminal, which
/// stays in raw mode on the alternate screen throughout: no flicker, and the restore-on-exit
/// set up in `run` still covers it. Its failure is shown in the status line on return.
fn run_sub_screen(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    sub: SubScreen,
    input: &Receiver<std::io::Result<Event>>,
    stop: &AtomicBool,
) {
    let project = state.store.path().to_path_buf();
    let mut next_event = subscreen::events_from(input);
    let result = match sub {
        SubScreen::Review(setup) => {
            super::review_app::run_in(terminal, &project, setup, &mut next_event, stop)
        }
        SubScreen::Analysis(setup) => {
            super::analysis_app::run_in(terminal, &project, setup, &mut next_event, stop)
        }
    };
    if let Err(e) = result {
        state.message = Some((e.to_string(), super::state::MsgKind::Error));
    }
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    worker: &Worker,
    stop: &AtomicBool,
) -> Result<()> {
    let input = spawn_input();
    let mut last_tick = Instant::now();
    // Draw only when something may have changed: an idle screen costs nothing.
    let mut dirty = true;
    loop {
        if state.counts_requested != state.counts_generation {
            worker.request(CountRequest {
                generation: state.counts_generation,
                query: state.query(),
            });
            state.counts_requested = state.counts_generation;
        }
        if dirty {
            terminal
                .draw(|f| render::render(f, state))
                .map_err(term_err)?;
            dirty = false;
        }
        if state.quit || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        match input.recv_timeout(Duration::from_millis(100)) {
            Ok(first) => {
                // Handle everything that is waiting before drawing again, so held keys keep up.
                dirty = true;
                let mut next = Some(first);
                while let Some(ev) = next.take() {
                    if let Some(a) = to_action(state, ev.map_err(term_err)?) {
                        update(state, a);
                    }
                    if !state.quit {
                        next = input.try_recv().ok();
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
        if let Some(sub) = state.launch.take() {
            run_sub_screen(terminal, state, sub, &input, stop);
            // The other screen may have changed the project (a decision as consensus coder):
            // re-read what this screen shows. ratatui diffs against the other screen's last
            // frame, so drawing once repaints everything (no `clear`, which would query the
            // cursor position and race the input thread for the reply).
            dirty = true;
            update(state, Action::Tick);
            state.counts_generation += 1;
        }
        if let Some(req) = state.preview_request.take() {
            worker.preview(req);
        }
        while let Ok(result) = worker.results.try_recv() {
            dirty = true;
            match result {
                Outcome::Preview(p) => update(state, Action::Preview(p)),
                Outcome::Counts(Ok(counts)) => update(state, Action::Counts(counts)),
                Outcome::Counts(Err(e)) => {
                    state.message = Some((
                        format!("counting failed: {e}"),
                        super::state::MsgKind::Error,
                    ))
                }
            }
        }
        let every = if state.waiting.is_some() { RETRY } else { TICK };
        if last_tick.elapsed() >= every {
            last_tick = Instant::now();
            if !terminal_alive() {
                // Everything is saved already; there is no one left to show anything to.
                return Ok(());
            }
            worker.checkpoint();
            let seen = (state.data_version, state.message.clone());
            update(state, Action::Tick);
            // Held keys saved, a rescue made, another coder's change: each shows at once.
            dirty |= (state.data_version, state.message.clone()) != seen;
        }
    }
}
