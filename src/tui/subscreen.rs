//! What the review and analysis screens share, being built the same way: the terminal and the
//! event loop that runs one of them (on a terminal of its own, or on the coding screen's with
//! its input channel), the key map that is data with the help generated from it, the help's
//! keys, and small drawing helpers.

use super::keymap::Key;
use crate::error::{Error, Result};
use crate::store::Store;
use crossterm::event::{self, Event, KeyEvent, KeyEventKind};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::{Paragraph, Wrap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError, channel};
use std::time::{Duration, Instant};
use unicode_width::UnicodeWidthStr;

// ---------------------------------------------------------------------------------------------
// Actions, contexts and the key map
// ---------------------------------------------------------------------------------------------

/// Where a key is pressed on a sub-screen.
pub trait ScreenContext: Copy + Eq + 'static {
    /// Every context, in the order of the help.
    const ALL: &'static [Self];
    /// The keys that work everywhere but in the help.
    const GLOBAL: Self;
    const HELP: Self;
}

/// Everything that can happen on a sub-screen, with the actions the shared code needs to know.
pub trait ScreenAction: Clone + PartialEq + 'static {
    type Context: ScreenContext;
    /// The actions with their help text.
    const ACTIONS: &'static [(Self, &'static str)];
    /// The default key map: (context, key, action).
    const KEYS: &'static [(Self::Context, &'static str, Self)];
    const HELP: Self;
    const BACK: Self;
    const DOWN: Self;
    const UP: Self;

    fn description(&self) -> &'static str {
        Self::ACTIONS
            .iter()
            .find(|(a, _)| a == self)
            .map_or("", |(_, d)| *d)
    }
}

/// A context's help: each action with its keys, as written in the help, and its description.
pub type HelpRows = Vec<(String, &'static str)>;

/// A sub-screen's key map: data, from which the help screen is generated.
#[derive(Debug, Clone)]
pub struct ScreenKeymap<A: ScreenAction> {
    bindings: Vec<(A::Context, Key, A)>,
}

impl<A: ScreenAction> Default for ScreenKeymap<A> {
    fn default() -> Self {
        ScreenKeymap {
            bindings: A::KEYS
                .iter()
                .map(|(c, k, a)| (*c, Key::parse(k).expect("default keys parse"), a.clone()))
                .collect(),
        }
    }
}

impl<A: ScreenAction> ScreenKeymap<A> {
    /// The action of a key in a context; the screens fall back to the global keys, the help
    /// does not.
    pub fn lookup(&self, ctx: A::Context, ev: &KeyEvent) -> Option<A> {
        let key = Key::from_event(ev);
        let find = |c: A::Context| {
            self.bindings
                .iter()
                .find(|(bc, bk, _)| *bc == c && *bk == key)
                .map(|(_, _, a)| a.clone())
        };
        find(ctx).or_else(|| (ctx != A::Context::HELP).then(|| find(A::Context::GLOBAL))?)
    }

    /// The first key bound to an action in a context (for hints), as written in the help.
    pub fn key_label(&self, ctx: A::Context, action: &A) -> Option<String> {
        self.bindings
            .iter()
            .find(|(c, _, a)| *c == ctx && a == action)
            .map(|(_, k, _)| k.label())
    }

    /// "key what" for a status line hint, with the first key bound to the action in a context.
    pub fn hint(&self, ctx: A::Context, action: &A, what: &str) -> Option<String> {
        self.key_label(ctx, action).map(|k| format!("{k} {what}"))
    }

    /// Per context, each action with all its keys, in binding order.
    pub fn help(&self) -> Vec<(A::Context, HelpRows)> {
        super::keymap::help_rows(A::Context::ALL, &self.bindings, A::description)
    }
}

// ---------------------------------------------------------------------------------------------
// Update
// ---------------------------------------------------------------------------------------------

/// The help's keys: while it is open it takes every action (Back or Help close it, Down and Up
/// scroll it), and Help opens it. Whether the action was the help's.
pub fn help_action<A: ScreenAction>(help: &mut Option<usize>, action: &A) -> bool {
    if let Some(scroll) = *help {
        *help = if *action == A::BACK || *action == A::HELP {
            None
        } else if *action == A::DOWN {
            Some(scroll + 1)
        } else if *action == A::UP {
            Some(scroll.saturating_sub(1))
        } else {
            Some(scroll)
        };
        return true;
    }
    if *action == A::HELP {
        *help = Some(0);
        return true;
    }
    false
}

/// Moves `offset` so that row `selected` is among the `rows` shown from it.
pub fn keep_visible(selected: usize, offset: &mut usize, rows: usize) {
    if selected < *offset {
        *offset = selected;
    } else if selected >= *offset + rows {
        *offset = selected + 1 - rows;
    }
}

// ---------------------------------------------------------------------------------------------
// Work in the background
// ---------------------------------------------------------------------------------------------

/// Work on a thread of its own (with its own connection to the project), so that keys never
/// wait for it: the event loop looks for its result without waiting and applies it as an action.
pub struct Background<T> {
    rx: Receiver<Result<T>>,
    /// What the thread sent, once it has.
    ready: Option<Result<T>>,
}

impl<T: Send + 'static> Background<T> {
    /// Starts `work` on a thread called `name`.
    pub fn spawn(name: &str, work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<Self> {
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name(format!("lacrima: {name}"))
            .spawn(move || {
                // The screen may have moved on or been left: then nobody listens.
                let _ = tx.send(work());
            })
            .map_err(|e| Error::io(format!("a thread for {name}"), e))?;
        Ok(Background { rx, ready: None })
    }

    /// Whether the result has arrived (without waiting).
    pub fn arrived(&mut self) -> bool {
        if self.ready.is_none() {
            self.ready = match self.rx.try_recv() {
                Ok(result) => Some(result),
                Err(TryRecvError::Empty) => return false,
                Err(TryRecvError::Disconnected) => Some(Err(stopped())),
            };
        }
        true
    }

    /// Waits for the result.
    pub fn wait(&mut self) {
        if self.ready.is_none() {
            self.ready = Some(self.rx.recv().unwrap_or_else(|_| Err(stopped())));
        }
    }

    /// The result, once it has arrived.
    pub fn take(&mut self) -> Option<Result<T>> {
        self.ready.take()
    }
}

fn stopped() -> Error {
    Error::input("the work in the background stopped without a result")
}

// ---------------------------------------------------------------------------------------------
// The terminal and the event loop
// ---------------------------------------------------------------------------------------------

/// A screen the event loop below can run.
pub trait Screen {
    type Action;
    /// The action a key stands for now.
    fn action_for_key(&self, ev: KeyEvent) -> Option<Self::Action>;
    fn resize(w: u16, h: u16) -> Self::Action;
    fn update(&mut self, action: Self::Action);
    fn render(&self, frame: &mut Frame<'_>);
    fn quit(&self) -> bool;
    /// Work finished in the background, as the action that takes it in (without waiting).
    fn poll(&mut self) -> Option<Self::Action> {
        None
    }
    /// Whether work runs in the background, so that the loop looks for it often.
    fn busy(&self) -> bool {
        false
    }
}

/// Where the event loop waits up to a timeout for the next terminal event.
pub type NextEvent<'a> = &'a mut dyn FnMut(Duration) -> Result<Option<Event>>;

pub fn term_err(e: std::io::Error) -> Error {
    Error::io("the terminal", e)
}

/// A flag that SIGTERM and SIGHUP raise, for the event loop to leave (and the terminal to be
/// restored) when it is set.
pub fn stop_on_signals() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(term_err)?;
    }
    Ok(stop)
}

/// Opens a screen (with `open`, on the project's store and the terminal's size) and runs it
/// on a terminal of its own, in raw mode on the alternate screen, restored on every way out
/// (quit, error, panic, SIGTERM, SIGHUP, the terminal vanishing), until it is quit.
pub fn run<S: Screen>(project: &Path, open: impl FnOnce(Store, Rect) -> Result<S>) -> Result<()> {
    // Everything that can fail for a plain reason fails before the terminal changes.
    let mut store = Store::open(project)?;
    // A decision that finds another program writing says so at once rather than freeze.
    store.interactive()?;
    let stop = stop_on_signals()?;
    let (w, h) = crossterm::terminal::size().map_err(term_err)?;
    let mut screen = open(store, Rect::new(0, 0, w, h))?;
    // ratatui::init chains a panic hook that restores the terminal.
    let mut terminal = ratatui::init();
    let input = spawn_input();
    let result = event_loop(&mut terminal, &mut screen, &mut events_from(&input), &stop);
    ratatui::restore();
    result
}

/// Reads terminal events on a thread of its own. crossterm's reader spins without returning
/// once the terminal is gone (it reads end-of-file forever), so an event loop must never block
/// inside it: it waits on this channel instead and can notice SIGHUP or a vanished terminal.
pub fn spawn_input() -> Receiver<std::io::Result<Event>> {
    let (tx, rx) = channel();
    let _ = std::thread::Builder::new()
        .name("lacrima-input".into())
        .spawn(move || {
            loop {
                let ev = event::read();
                let failed = ev.is_err();
                if tx.send(ev).is_err() || failed {
                    break;
                }
            }
        });
    rx
}

/// Waits up to a timeout for the next event from the input thread.
pub fn events_from(
    input: &Receiver<std::io::Result<Event>>,
) -> impl FnMut(Duration) -> Result<Option<Event>> + '_ {
    move |timeout| match input.recv_timeout(timeout) {
        Ok(ev) => ev.map(Some).map_err(term_err),
        Err(RecvTimeoutError::Timeout) => Ok(None),
        Err(RecvTimeoutError::Disconnected) => {
            Err(term_err(std::io::Error::other("the terminal closed")))
        }
    }
}

/// Whether the process still has its terminal (after a hang-up, /dev/tty cannot be opened).
pub fn terminal_alive() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .open("/dev/tty")
        .is_ok()
}

/// Runs a screen on a terminal that the coding screen already set up, reading events from
/// `next_event` (the coding screen's input thread: a second reader would steal its keys), until
/// it is left. The terminal is left as it is for the coding screen to draw again.
pub fn run_in<S: Screen>(
    terminal: &mut ratatui::DefaultTerminal,
    project: &Path,
    open: impl FnOnce(Store, Rect) -> Result<S>,
    next_event: NextEvent<'_>,
    stop: &AtomicBool,
) -> Result<()> {
    let mut store = Store::open(project)?;
    store.interactive()?;
    let (w, h) = crossterm::terminal::size().map_err(term_err)?;
    let mut screen = open(store, Rect::new(0, 0, w, h))?;
    // No `terminal.clear()`: it asks the terminal for the cursor position, and the answer would
    // go to the coding screen's input thread. None is needed either: ratatui diffs each frame
    // against the last one drawn on this terminal, whichever screen drew it.
    event_loop(terminal, &mut screen, next_event, stop)
}

fn event_loop<S: Screen>(
    terminal: &mut ratatui::DefaultTerminal,
    screen: &mut S,
    next_event: NextEvent<'_>,
    stop: &AtomicBool,
) -> Result<()> {
    let mut last_check = Instant::now();
    loop {
        while let Some(a) = screen.poll() {
            screen.update(a);
        }
        terminal.draw(|f| screen.render(f)).map_err(term_err)?;
        if screen.quit() || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if last_check.elapsed() >= Duration::from_secs(1) {
            last_check = Instant::now();
            if !terminal_alive() {
                // Nobody is left to show anything to; every decision is saved already.
                return Ok(());
            }
        }
        let wait = if screen.busy() { 30 } else { 250 };
        let Some(mut ev) = next_event(Duration::from_millis(wait))? else {
            continue;
        };
        // Handle everything that is waiting before drawing again, so held keys keep up.
        loop {
            let action = match ev {
                Event::Key(k) if k.kind != KeyEventKind::Release => screen.action_for_key(k),
                Event::Resize(w, h) => Some(S::resize(w, h)),
                _ => None,
            };
            if let Some(a) = action {
                screen.update(a);
            }
            if screen.quit() {
                break;
            }
            match next_event(Duration::ZERO)? {
                Some(e) => ev = e,
                None => break,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------

/// Draws a sub-screen on the whole frame: a note when the terminal is smaller than `min`
/// (width, height) and nothing else; otherwise the view, the status line on the last row, and
/// the help over both while it is open (with its scroll offset).
pub fn render_screen(
    frame: &mut Frame<'_>,
    min: (u16, u16),
    name: &str,
    help: Option<usize>,
    view: impl FnOnce(&mut Frame<'_>, Rect),
    status: impl FnOnce(&mut Frame<'_>, Rect),
    help_popup: impl FnOnce(&mut Frame<'_>, Rect, usize),
) {
    let area = frame.area();
    if area.height < min.1 || area.width < min.0 {
        frame.render_widget(
            Paragraph::new(format!("The terminal is too small for the {name} screen."))
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    view(frame, area);
    status(frame, Rect::new(area.x, area.bottom() - 1, area.width, 1));
    if let Some(scroll) = help {
        help_popup(frame, area, scroll);
    }
}

/// A foreground colour, or none when colour is off (NO_COLOR).
pub fn fg(color: bool, c: Color) -> Style {
    if color {
        Style::default().fg(c)
    } else {
        Style::default()
    }
}

/// `s` cut to `width` columns, with an ellipsis where it was cut.
pub fn fit(s: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.to_string().width();
        if used + w > width {
            if width > 0 && !out.is_empty() {
                out.pop();
                out.push('…');
            }
            return out;
        }
        used += w;
        out.push(c);
    }
    out
}

/// `s` fitted to `width` columns and padded to them on the right.
pub fn pad(s: &str, width: usize) -> String {
    let s = fit(s, width);
    let w = s.width();
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}
