//! The terminal: raw mode and the alternate screen (restored on every way out: quit, error,
//! panic, SIGTERM, SIGHUP), the event loop, mouse and resize, and the counts worker.

use super::state::State;
use super::worker::{CountRequest, Worker};
use super::{Action, Keymap, action_for_key, render, update};
use crate::error::{Error, Result};
use crate::store::Store;
use crossterm::event::{self, Event, KeyEventKind, MouseButton, MouseEventKind};
use ratatui::layout::Rect;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the screen looks for other coders' changes to the project.
const TICK: Duration = Duration::from_millis(1000);

fn term_err(e: std::io::Error) -> Error {
    Error::io("the terminal", e)
}

/// Opens the coding screen on a project for a coder and runs it until the coder quits.
pub fn run(project: &Path, coder: &str) -> Result<()> {
    // Everything that can fail for a plain reason fails before the terminal changes.
    let keymap = Keymap::load_user()?;
    let store = Store::open(project)?;
    let worker = Worker::spawn(project)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(term_err)?;
    }
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

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    worker: &Worker,
    stop: &AtomicBool,
) -> Result<()> {
    let mut last_tick = Instant::now();
    loop {
        if state.counts_requested != state.counts_generation {
            worker.request(CountRequest {
                generation: state.counts_generation,
                query: state.query(),
            });
            state.counts_requested = state.counts_generation;
        }
        terminal
            .draw(|f| render::render(f, state))
            .map_err(term_err)?;
        if state.quit || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if event::poll(Duration::from_millis(100)).map_err(term_err)? {
            // Handle everything that is waiting before drawing again, so held keys keep up.
            loop {
                let action = match event::read().map_err(term_err)? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => action_for_key(state, k),
                    Event::Mouse(m) => match m.kind {
                        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                            column: m.column,
                            row: m.row,
                        }),
                        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                            Some(Action::Scroll {
                                column: m.column,
                                row: m.row,
                                down: m.kind == MouseEventKind::ScrollDown,
                            })
                        }
                        _ => None,
                    },
                    Event::Resize(w, h) => Some(Action::Resize(w, h)),
                    _ => None,
                };
                if let Some(a) = action {
                    update(state, a);
                }
                if state.quit || !event::poll(Duration::ZERO).map_err(term_err)? {
                    break;
                }
            }
        }
        while let Ok(result) = worker.results.try_recv() {
            match result {
                Ok(counts) => update(state, Action::Counts(counts)),
                Err(e) => {
                    state.message = Some((
                        format!("counting failed: {e}"),
                        super::state::MsgKind::Error,
                    ))
                }
            }
        }
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            update(state, Action::Tick);
        }
    }
}
