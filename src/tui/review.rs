//! The review screen (`lacrima review --coders A,B --coder ME`): the agreement table per code;
//! a code's disagreement queue with every coder's version of each answer side by side; keys that
//! adopt one coder's version, everyone's, or none into the consensus coder, or edit it freely;
//! progress "n of N settled".
//!
//! Built like the coding screen: keys map to a [`ReviewAction`] through a key map that is data
//! ([`ReviewKeymap`], with the help generated from it); [`update`] applies an action to the
//! [`ReviewState`] through store calls, each committed before it returns; `review_render`
//! draws the state and nothing else; `review_app` owns the terminal.

use super::state::MsgKind;
use super::subscreen::{
    Background, ScreenAction, ScreenContext, ScreenKeymap, help_action, keep_visible,
};
use super::text::{self, Grapheme};
use crate::agreement::{AgreementReport, ReportInput, ReportOptions, agreement_report};
use crate::error::{Error, Result};
use crate::store::{Adopt, CodeRecord, Decision, DisagreementIndex, Span, Store, Version};
use crossterm::event::KeyEvent;
use ratatui::layout::Rect;

// ---------------------------------------------------------------------------------------------
// Actions and keys
// ---------------------------------------------------------------------------------------------

/// Everything that can happen on the review screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewAction {
    Quit,
    Help,
    /// Back from the queue to the table, or out of editing, or closing the help.
    Back,
    Down,
    Up,
    First,
    Last,
    PageDown,
    PageUp,
    /// Open the selected code's disagreement queue.
    Open,
    /// Adopt coder k's version (1-based, in the order of --coders).
    Adopt(u8),
    AdoptAll,
    AdoptNone,
    /// Edit the consensus version of this code on this answer freely.
    Edit,
    Next,
    Prev,
    /// The next disagreement not yet settled.
    NextOpen,
    /// Take back the consensus coder's latest decision (or edit), or do again what was taken back.
    Undo,
    Redo,
    // Editing.
    Left,
    Right,
    WordNext,
    WordPrev,
    Select,
    /// Toggle the code on the selection, or on the whole answer without one.
    Apply,
    RemoveSegment,
    Resize(u16, u16),
    /// The agreement table and the queues, computed in the background, are ready (no key).
    Loaded,
}

/// Where a key is pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReviewContext {
    Global,
    Table,
    Queue,
    Edit,
    Help,
}

impl ReviewContext {
    pub const ALL: [ReviewContext; 5] = [
        ReviewContext::Global,
        ReviewContext::Table,
        ReviewContext::Queue,
        ReviewContext::Edit,
        ReviewContext::Help,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ReviewContext::Global => "Everywhere",
            ReviewContext::Table => "Agreement table",
            ReviewContext::Queue => "Disagreements of a code",
            ReviewContext::Edit => "Editing the consensus",
            ReviewContext::Help => "This help",
        }
    }
}

/// The actions with their help text.
pub const REVIEW_ACTIONS: &[(ReviewAction, &str)] = &[
    (ReviewAction::Quit, "quit (every decision is already saved)"),
    (ReviewAction::Help, "this help"),
    (
        ReviewAction::Back,
        "back: to the table / stop editing / close",
    ),
    (ReviewAction::Down, "next code / scroll down"),
    (ReviewAction::Up, "previous code / scroll up"),
    (ReviewAction::First, "first code"),
    (ReviewAction::Last, "last code"),
    (ReviewAction::PageDown, "a page down"),
    (ReviewAction::PageUp, "a page up"),
    (ReviewAction::Open, "open the code's disagreements"),
    (ReviewAction::Adopt(1), "adopt coder 1's version"),
    (ReviewAction::Adopt(2), "adopt coder 2's version"),
    (ReviewAction::Adopt(3), "adopt coder 3's version"),
    (ReviewAction::Adopt(4), "adopt coder 4's version"),
    (ReviewAction::Adopt(5), "adopt coder 5's version"),
    (ReviewAction::Adopt(6), "adopt coder 6's version"),
    (ReviewAction::Adopt(7), "adopt coder 7's version"),
    (ReviewAction::Adopt(8), "adopt coder 8's version"),
    (ReviewAction::Adopt(9), "adopt coder 9's version"),
    (
        ReviewAction::AdoptAll,
        "adopt everyone's codings (whole answer if any, else all segments)",
    ),
    (ReviewAction::AdoptNone, "the code does not apply"),
    (
        ReviewAction::Edit,
        "edit the consensus freely (segments or whole answer)",
    ),
    (ReviewAction::Next, "next disagreement"),
    (ReviewAction::Prev, "previous disagreement"),
    (ReviewAction::NextOpen, "next disagreement not yet settled"),
    (
        ReviewAction::Undo,
        "undo the latest decision, even an old one",
    ),
    (ReviewAction::Redo, "redo what was undone"),
    (ReviewAction::Left, "one character left"),
    (ReviewAction::Right, "one character right"),
    (ReviewAction::WordNext, "to the end of the word"),
    (ReviewAction::WordPrev, "to the start of the word"),
    (ReviewAction::Select, "start or end a selection"),
    (
        ReviewAction::Apply,
        "toggle the code on the selection (the whole answer without one)",
    ),
    (
        ReviewAction::RemoveSegment,
        "remove the consensus segment under the cursor",
    ),
];

impl ScreenContext for ReviewContext {
    const ALL: &'static [Self] = &ReviewContext::ALL;
    const GLOBAL: Self = ReviewContext::Global;
    const HELP: Self = ReviewContext::Help;
}

impl ScreenAction for ReviewAction {
    type Context = ReviewContext;
    const ACTIONS: &'static [(Self, &'static str)] = REVIEW_ACTIONS;
    const KEYS: &'static [(ReviewContext, &'static str, Self)] = REVIEW_KEYS;
    const HELP: Self = ReviewAction::Help;
    const BACK: Self = ReviewAction::Back;
    const DOWN: Self = ReviewAction::Down;
    const UP: Self = ReviewAction::Up;
}

/// The default key map: (context, key, action).
const REVIEW_KEYS: &[(ReviewContext, &str, ReviewAction)] = &[
    (ReviewContext::Global, "?", ReviewAction::Help),
    (ReviewContext::Global, "ctrl-c", ReviewAction::Quit),
    (ReviewContext::Table, "q", ReviewAction::Quit),
    (ReviewContext::Table, "j", ReviewAction::Down),
    (ReviewContext::Table, "down", ReviewAction::Down),
    (ReviewContext::Table, "k", ReviewAction::Up),
    (ReviewContext::Table, "up", ReviewAction::Up),
    (ReviewContext::Table, "g", ReviewAction::First),
    (ReviewContext::Table, "home", ReviewAction::First),
    (ReviewContext::Table, "G", ReviewAction::Last),
    (ReviewContext::Table, "end", ReviewAction::Last),
    (ReviewContext::Table, "pagedown", ReviewAction::PageDown),
    (ReviewContext::Table, "pageup", ReviewAction::PageUp),
    (ReviewContext::Table, "enter", ReviewAction::Open),
    (ReviewContext::Table, "l", ReviewAction::Open),
    (ReviewContext::Table, "right", ReviewAction::Open),
    (ReviewContext::Table, "u", ReviewAction::Undo),
    (ReviewContext::Table, "ctrl-r", ReviewAction::Redo),
    (ReviewContext::Queue, "1", ReviewAction::Adopt(1)),
    (ReviewContext::Queue, "2", ReviewAction::Adopt(2)),
    (ReviewContext::Queue, "3", ReviewAction::Adopt(3)),
    (ReviewContext::Queue, "4", ReviewAction::Adopt(4)),
    (ReviewContext::Queue, "5", ReviewAction::Adopt(5)),
    (ReviewContext::Queue, "6", ReviewAction::Adopt(6)),
    (ReviewContext::Queue, "7", ReviewAction::Adopt(7)),
    (ReviewContext::Queue, "8", ReviewAction::Adopt(8)),
    (ReviewContext::Queue, "9", ReviewAction::Adopt(9)),
    (ReviewContext::Queue, "a", ReviewAction::AdoptAll),
    (ReviewContext::Queue, "x", ReviewAction::AdoptNone),
    (ReviewContext::Queue, "0", ReviewAction::AdoptNone),
    (ReviewContext::Queue, "e", ReviewAction::Edit),
    (ReviewContext::Queue, "n", ReviewAction::Next),
    (ReviewContext::Queue, "j", ReviewAction::Next),
    (ReviewContext::Queue, "right", ReviewAction::Next),
    (ReviewContext::Queue, "p", ReviewAction::Prev),
    (ReviewContext::Queue, "k", ReviewAction::Prev),
    (ReviewContext::Queue, "left", ReviewAction::Prev),
    (ReviewContext::Queue, "tab", ReviewAction::NextOpen),
    (ReviewContext::Queue, "u", ReviewAction::Undo),
    (ReviewContext::Queue, "ctrl-r", ReviewAction::Redo),
    (ReviewContext::Queue, "esc", ReviewAction::Back),
    (ReviewContext::Queue, "q", ReviewAction::Back),
    (ReviewContext::Edit, "h", ReviewAction::Left),
    (ReviewContext::Edit, "left", ReviewAction::Left),
    (ReviewContext::Edit, "l", ReviewAction::Right),
    (ReviewContext::Edit, "right", ReviewAction::Right),
    (ReviewContext::Edit, "w", ReviewAction::WordNext),
    (ReviewContext::Edit, "b", ReviewAction::WordPrev),
    (ReviewContext::Edit, "v", ReviewAction::Select),
    (ReviewContext::Edit, "enter", ReviewAction::Apply),
    (ReviewContext::Edit, "space", ReviewAction::Apply),
    (ReviewContext::Edit, "delete", ReviewAction::RemoveSegment),
    (
        ReviewContext::Edit,
        "backspace",
        ReviewAction::RemoveSegment,
    ),
    (ReviewContext::Edit, "esc", ReviewAction::Back),
    (ReviewContext::Help, "esc", ReviewAction::Back),
    (ReviewContext::Help, "q", ReviewAction::Back),
    (ReviewContext::Help, "?", ReviewAction::Back),
    (ReviewContext::Help, "j", ReviewAction::Down),
    (ReviewContext::Help, "down", ReviewAction::Down),
    (ReviewContext::Help, "k", ReviewAction::Up),
    (ReviewContext::Help, "up", ReviewAction::Up),
];

/// The review screen's key map: data, from which the help screen is generated.
pub type ReviewKeymap = ScreenKeymap<ReviewAction>;

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Table,
    Queue,
}

/// The disagreement on screen: the answer and every version of it.
#[derive(Debug, Clone)]
pub struct Item {
    pub response_id: i64,
    pub ext_id: String,
    pub question: String,
    pub text: String,
    pub graphemes: Vec<Grapheme>,
    pub words: Vec<(usize, usize)>,
    /// One per coder compared, in the order of --coders.
    pub versions: Vec<Version>,
    /// The consensus coder's current version.
    pub consensus: Version,
    /// The decision recorded for this code on this answer, if any.
    pub decision: Option<Decision>,
}

/// The editing cursor on the consensus version, in graphemes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditCursor {
    pub cursor: usize,
    pub anchor: Option<usize>,
}

/// What the review screen works on and shows.
pub struct ReviewState {
    pub store: Store,
    /// Who decides (recorded with every decision).
    pub decider: String,
    pub consensus_id: i64,
    pub consensus: String,
    pub coders: Vec<(i64, String)>,
    pub question_id: Option<i64>,
    pub question: Option<String>,
    pub keymap: ReviewKeymap,
    pub size: Rect,
    /// False when NO_COLOR is set: meaning is then carried by text and marks only.
    pub color: bool,
    /// Codable codes in codebook order (the rows of the table, the codes of the queues).
    pub codes: Vec<CodeRecord>,
    /// The agreement table; None while it is computed.
    pub report: Option<AgreementReport>,
    /// Every code's disagreement queue (empty while they are computed).
    pub index: DisagreementIndex,
    /// The table and the queues being computed on a thread of their own: they read every
    /// rating (about two seconds on a million answers) and the screen takes keys meanwhile.
    pub loading: Option<Background<(AgreementReport, DisagreementIndex)>>,
    pub view: View,
    /// Selected row of the table (index into `codes`).
    pub selected: usize,
    pub table_offset: usize,
    /// Position in the selected code's queue.
    pub position: usize,
    pub item: Option<Item>,
    pub edit: Option<EditCursor>,
    /// The help, with its scroll offset.
    pub help: Option<usize>,
    pub message: Option<(String, MsgKind)>,
    pub quit: bool,
}

/// Who compares, who decides, into which consensus coder.
#[derive(Debug, Clone)]
pub struct ReviewSetup {
    pub coders: Vec<(i64, String)>,
    pub decider: String,
    pub consensus: String,
    pub question: Option<(i64, String)>,
}

impl ReviewState {
    /// Reads the agreement table and every code's disagreement queue, and opens on the table.
    /// The consensus coder is created (marked as consensus) on first use.
    pub fn open(
        store: Store,
        setup: ReviewSetup,
        keymap: ReviewKeymap,
        size: Rect,
    ) -> Result<ReviewState> {
        if setup.coders.len() < 2 {
            return Err(Error::input("a review compares at least two coders"));
        }
        let (consensus_id, _) = store.consensus_coder(&setup.consensus)?;
        let codes: Vec<CodeRecord> = store.codes()?.into_iter().filter(|c| c.codable).collect();
        if codes.is_empty() {
            return Err(Error::input(
                "the codebook has no codable codes: import one with `lacrima codebook import FILE`",
            ));
        }
        let question_id = setup.question.as_ref().map(|q| q.0);
        let question = setup.question.as_ref().map(|q| q.1.clone());
        let loading = start_loading(
            &store,
            consensus_id,
            &setup.coders,
            question_id,
            question.clone(),
            &codes,
        )?;
        Ok(ReviewState {
            store,
            decider: setup.decider,
            consensus_id,
            consensus: setup.consensus,
            coders: setup.coders,
            question_id,
            question,
            keymap,
            size,
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            codes,
            report: None,
            index: DisagreementIndex::default(),
            loading: Some(loading),
            view: View::Table,
            selected: 0,
            table_offset: 0,
            position: 0,
            item: None,
            edit: None,
            help: None,
            message: None,
            quit: false,
        })
    }

    pub fn context(&self) -> ReviewContext {
        if self.help.is_some() {
            ReviewContext::Help
        } else if self.edit.is_some() {
            ReviewContext::Edit
        } else {
            match self.view {
                View::Table => ReviewContext::Table,
                View::Queue => ReviewContext::Queue,
            }
        }
    }

    /// The action a key stands for now.
    pub fn action_for_key(&self, ev: KeyEvent) -> Option<ReviewAction> {
        self.keymap.lookup(self.context(), &ev)
    }

    pub fn code(&self) -> &CodeRecord {
        &self.codes[self.selected]
    }

    /// The selected code's queue.
    pub fn queue(&self) -> &[crate::store::QueueItem] {
        self.index
            .queues
            .get(self.selected)
            .map_or(&[], Vec::as_slice)
    }

    /// (settled, total) of the selected code.
    pub fn code_progress(&self) -> (usize, usize) {
        let q = self.queue();
        (q.iter().filter(|i| i.settled).count(), q.len())
    }

    /// Looks, without waiting, whether the table and the queues have been computed: if so, the
    /// action that takes them in, for the event loop to apply like a key's.
    pub fn poll(&mut self) -> Option<ReviewAction> {
        self.loading
            .as_mut()?
            .arrived()
            .then_some(ReviewAction::Loaded)
    }

    /// Waits for the table and the queues, if they are still being computed, and takes them in.
    pub fn finish_loading(&mut self) {
        if let Some(l) = self.loading.as_mut() {
            l.wait();
            update(self, ReviewAction::Loaded);
        }
    }

    /// Rows of the table that fit on screen.
    pub fn table_rows(&self) -> usize {
        // Two header lines, the table's border and header, the overall line and the status.
        (self.size.height as usize).saturating_sub(8).max(1)
    }

    /// The selection in graphemes (first, last), while editing.
    pub fn selection(&self) -> Option<(usize, usize)> {
        let e = self.edit?;
        let a = e.anchor?;
        Some((a.min(e.cursor), a.max(e.cursor)))
    }
}

/// Starts computing the agreement table and every code's disagreement queue in the background.
fn start_loading(
    store: &Store,
    consensus_id: i64,
    coders: &[(i64, String)],
    question_id: Option<i64>,
    question: Option<String>,
    codes: &[CodeRecord],
) -> Result<Background<(AgreementReport, DisagreementIndex)>> {
    let path = store.path().to_path_buf();
    let coders = coders.to_vec();
    let code_ids: Vec<i64> = codes.iter().map(|c| c.id).collect();
    let code_names: Vec<String> = codes.iter().map(|c| c.name.clone()).collect();
    Background::spawn("the agreement", move || {
        let store = Store::open(&path)?;
        let ids: Vec<i64> = coders.iter().map(|c| c.0).collect();
        let names: Vec<String> = coders.iter().map(|c| c.1.clone()).collect();
        let ratings = store.agreement_ratings(&ids, question_id, &code_ids)?;
        let report = agreement_report(
            ReportInput {
                matrix: &ratings.matrix,
                coders: &names,
                codes: &code_names,
                coder_counts: &ratings.coder_counts,
                question: question.as_deref(),
            },
            &ReportOptions::default(),
        );
        let index = store.disagreement_index(consensus_id, &coders, question_id)?;
        Ok((report, index))
    })
}

// ---------------------------------------------------------------------------------------------
// Update
// ---------------------------------------------------------------------------------------------

/// Applies an action. A failed store call leaves the state as it was and shows the error.
pub fn update(state: &mut ReviewState, action: ReviewAction) {
    // Only keys clear the message: a resize or results arriving leave it to be read.
    if !matches!(action, ReviewAction::Resize(..) | ReviewAction::Loaded) {
        state.message = None;
    }
    if let Err(e) = apply(state, action) {
        state.message = Some((e.to_string(), MsgKind::Error));
    }
}

fn info(state: &mut ReviewState, msg: impl Into<String>) {
    state.message = Some((msg.into(), MsgKind::Info));
}

fn apply(state: &mut ReviewState, action: ReviewAction) -> Result<()> {
    if let ReviewAction::Resize(w, h) = action {
        state.size = Rect::new(0, 0, w, h);
        keep_selected_visible(state);
        return Ok(());
    }
    if action == ReviewAction::Quit {
        state.quit = true;
        return Ok(());
    }
    if action == ReviewAction::Loaded {
        return take_loaded(state);
    }
    if help_action(&mut state.help, &action) {
        return Ok(());
    }
    if state.edit.is_some() {
        return edit_action(state, action);
    }
    if matches!(action, ReviewAction::Undo | ReviewAction::Redo) && state.loading.is_none() {
        return replay(state, action == ReviewAction::Undo);
    }
    match state.view {
        View::Table => table_action(state, action),
        View::Queue => queue_action(state, action),
    }
}

const STILL_LOADING: &str =
    "the disagreements are still being read; the table fills in when they are";

/// Shows the table and the queues computed in the background, or why there are none.
fn take_loaded(state: &mut ReviewState) -> Result<()> {
    let Some(mut loading) = state.loading.take() else {
        return Ok(());
    };
    let Some(result) = loading.take() else {
        state.loading = Some(loading);
        return Ok(());
    };
    let (report, index) = result?;
    state.report = Some(report);
    state.index = index;
    if state
        .message
        .as_ref()
        .is_some_and(|(m, _)| m == STILL_LOADING)
    {
        state.message = None;
    }
    Ok(())
}

fn keep_selected_visible(state: &mut ReviewState) {
    let rows = state.table_rows();
    keep_visible(state.selected, &mut state.table_offset, rows);
}

fn table_action(state: &mut ReviewState, action: ReviewAction) -> Result<()> {
    let last = state.codes.len().saturating_sub(1);
    let page = state.table_rows();
    match action {
        ReviewAction::Down => state.selected = (state.selected + 1).min(last),
        ReviewAction::Up => state.selected = state.selected.saturating_sub(1),
        ReviewAction::First => state.selected = 0,
        ReviewAction::Last => state.selected = last,
        ReviewAction::PageDown => state.selected = (state.selected + page).min(last),
        ReviewAction::PageUp => state.selected = state.selected.saturating_sub(page),
        ReviewAction::Open if state.loading.is_some() => info(state, STILL_LOADING),
        ReviewAction::Open => {
            if state.queue().is_empty() {
                let name = state.code().name.clone();
                info(
                    state,
                    format!("the coders agree on {name} everywhere: nothing to settle"),
                );
                return Ok(());
            }
            state.view = View::Queue;
            state.position = state.queue().iter().position(|q| !q.settled).unwrap_or(0);
            load_item(state)?;
        }
        _ => {}
    }
    keep_selected_visible(state);
    Ok(())
}

fn queue_action(state: &mut ReviewState, action: ReviewAction) -> Result<()> {
    let n = state.queue().len();
    match action {
        ReviewAction::Back => {
            state.view = View::Table;
            state.item = None;
        }
        ReviewAction::Next => {
            if state.position + 1 < n {
                state.position += 1;
                load_item(state)?;
            } else {
                info(state, "this is the last disagreement on this code");
            }
        }
        ReviewAction::Prev => {
            if state.position > 0 {
                state.position -= 1;
                load_item(state)?;
            } else {
                info(state, "this is the first disagreement on this code");
            }
        }
        ReviewAction::NextOpen => next_open(state)?,
        ReviewAction::Adopt(k) => {
            let Some((id, name)) = state.coders.get((k as usize).wrapping_sub(1)).cloned() else {
                return Err(Error::input(format!(
                    "there is no coder {k}: the coders are 1 to {}",
                    state.coders.len()
                )));
            };
            decide(state, Adopt::Coder(id), &format!("{name}'s version"))?;
        }
        ReviewAction::AdoptAll => decide(state, Adopt::All, "everyone's codings")?,
        ReviewAction::AdoptNone => decide(state, Adopt::None, "does not apply")?,
        ReviewAction::Edit if state.item.is_some() => {
            state.edit = Some(EditCursor::default());
        }
        _ => {}
    }
    Ok(())
}

/// Moves to the next unsettled disagreement of the code after the current one (wrapping).
fn next_open(state: &mut ReviewState) -> Result<()> {
    let q = state.queue();
    let n = q.len();
    let found = (1..=n)
        .map(|d| (state.position + d) % n.max(1))
        .find(|&i| q.get(i).is_some_and(|item| !item.settled));
    match found {
        Some(i) => {
            state.position = i;
            load_item(state)
        }
        None => {
            let name = state.code().name.clone();
            let (settled, total) = state.index.progress();
            info(
                state,
                format!(
                    "all {n} disagreements on {name} are settled ({settled} of {total} on every \
                     code); Esc goes back to the codes"
                ),
            );
            Ok(())
        }
    }
}

/// Records a decision on the current disagreement, then moves to the next open one.
fn decide(state: &mut ReviewState, choice: Adopt, what: &str) -> Result<()> {
    let Some(item) = &state.item else {
        return Ok(());
    };
    let response_id = item.response_id;
    let code_id = state.code().id;
    let name = state.code().name.clone();
    state.store.adopt_into_consensus(
        (state.consensus_id, &state.consensus),
        &state.coders,
        response_id,
        code_id,
        choice,
        Some(&state.decider),
    )?;
    mark_settled(state, response_id);
    load_item(state)?;
    let ext = state
        .item
        .as_ref()
        .map(|i| i.ext_id.clone())
        .unwrap_or_default();
    next_open(state)?;
    if state.message.is_none() {
        let (settled, total) = state.code_progress();
        info(
            state,
            format!("{name} on {ext}: {what}; {settled} of {total} settled"),
        );
    }
    Ok(())
}

/// Undoes or redoes the consensus coder's latest action (through the event log, like the coding
/// screen's undo), then brings the queues and the answer on screen up to date.
fn replay(state: &mut ReviewState, undo: bool) -> Result<()> {
    let done = if undo {
        state.store.undo(state.consensus_id)?
    } else {
        state.store.redo(state.consensus_id)?
    };
    let Some(done) = done else {
        info(
            state,
            if undo {
                "nothing to undo"
            } else {
                "nothing to redo"
            },
        );
        return Ok(());
    };
    if let (Some(response_id), Some(code_id)) = (done.response_id, done.code_id) {
        let settled = state
            .store
            .disagreement_settled(state.consensus_id, response_id, code_id)?;
        if let Some(q) = state
            .codes
            .iter()
            .position(|c| c.id == code_id)
            .and_then(|i| state.index.queues.get_mut(i))
            && let Some(item) = q.iter_mut().find(|i| i.response_id == response_id)
        {
            item.settled = settled;
        }
    }
    if state.item.is_some() {
        load_item(state)?;
    }
    info(
        state,
        format!(
            "{}: {}",
            if undo { "undone" } else { "redone" },
            done.summary
        ),
    );
    Ok(())
}

fn mark_settled(state: &mut ReviewState, response_id: i64) {
    if let Some(q) = state.index.queues.get_mut(state.selected)
        && let Some(item) = q.iter_mut().find(|i| i.response_id == response_id)
    {
        item.settled = true;
    }
}

/// Loads the answer at the queue position with every version of it.
fn load_item(state: &mut ReviewState) -> Result<()> {
    state.edit = None;
    let Some(q) = state.queue().get(state.position).copied() else {
        state.item = None;
        return Ok(());
    };
    let detail = state
        .store
        .answer(state.consensus_id, q.response_id, false)?
        .ok_or_else(|| Error::input(format!("answer {} is gone", q.response_id)))?;
    let mut all = state.coders.clone();
    all.push((state.consensus_id, state.consensus.clone()));
    let mut versions = state.store.answer_versions(q.response_id, &all)?;
    let consensus = versions.pop().expect("the consensus version was asked for");
    let decision =
        state
            .store
            .consensus_decision(state.consensus_id, q.response_id, state.code().id)?;
    let graphemes = text::graphemes(&detail.text);
    let words = text::words(&detail.text, &graphemes);
    state.item = Some(Item {
        response_id: q.response_id,
        ext_id: detail.ext_id,
        question: detail.question,
        graphemes,
        words,
        text: detail.text,
        versions,
        consensus,
        decision,
    });
    Ok(())
}

/// The consensus version's segments of the current code, as code-point spans, and whether it
/// codes the whole answer.
fn consensus_spans(item: &Item, code_id: i64) -> (bool, Vec<(usize, usize)>) {
    let mut whole = false;
    let mut spans = Vec::new();
    for s in item.consensus.of_code(code_id) {
        match (s.start, s.end) {
            (Some(a), Some(b)) => spans.push((a as usize, b as usize)),
            _ => whole = true,
        }
    }
    (whole, spans)
}

fn edit_action(state: &mut ReviewState, action: ReviewAction) -> Result<()> {
    let Some(item) = &state.item else {
        state.edit = None;
        return Ok(());
    };
    let n = item.graphemes.len();
    let mut e = state.edit.unwrap_or_default();
    match action {
        ReviewAction::Back => {
            state.edit = None;
            return Ok(());
        }
        ReviewAction::Left => e.cursor = e.cursor.saturating_sub(1),
        ReviewAction::Right => e.cursor = (e.cursor + 1).min(n.saturating_sub(1)),
        ReviewAction::WordNext => {
            e.cursor = item
                .words
                .iter()
                .map(|w| w.1)
                .find(|&last| last > e.cursor)
                .unwrap_or(e.cursor);
        }
        ReviewAction::WordPrev => {
            e.cursor = item
                .words
                .iter()
                .rev()
                .map(|w| w.0)
                .find(|&first| first < e.cursor)
                .unwrap_or(0);
        }
        ReviewAction::Select => {
            e.anchor = match e.anchor {
                Some(_) => None,
                None => Some(e.cursor),
            }
        }
        ReviewAction::Apply | ReviewAction::RemoveSegment => {
            let code_id = state.code().id;
            let (whole, mut spans) = consensus_spans(item, code_id);
            let choice = if action == ReviewAction::RemoveSegment {
                let cp = item.graphemes.get(e.cursor).map_or(0, |g| g.cp);
                let before = spans.len();
                spans.retain(|&(a, b)| !(a <= cp && cp < b));
                if spans.len() == before && !whole {
                    info(state, "no consensus segment of this code under the cursor");
                    return Ok(());
                }
                Adopt::Spans(spans)
            } else if let Some((a, b)) = state.selection() {
                let span = text::cp_span(&item.graphemes, &item.text, a, b);
                if let Some(k) = spans.iter().position(|s| *s == span) {
                    spans.remove(k);
                } else {
                    spans.push(span);
                }
                Adopt::Spans(spans)
            } else if whole {
                Adopt::Spans(spans)
            } else {
                Adopt::Whole
            };
            let response_id = item.response_id;
            let choice = match choice {
                Adopt::Spans(s) if s.is_empty() => Adopt::None,
                other => other,
            };
            state.store.adopt_into_consensus(
                (state.consensus_id, &state.consensus),
                &state.coders,
                response_id,
                code_id,
                choice,
                Some(&state.decider),
            )?;
            mark_settled(state, response_id);
            let keep = e.cursor;
            load_item(state)?;
            state.edit = Some(EditCursor {
                cursor: keep,
                anchor: None,
            });
            let (settled, total) = state.code_progress();
            info(state, format!("edited; {settled} of {total} settled"));
            return Ok(());
        }
        _ => {}
    }
    state.edit = Some(e);
    Ok(())
}

/// Each coder's spans of one code in graphemes, for drawing: (whole answer, [(first, last)]).
pub fn grapheme_spans(item: &Item, version: &Version, code_id: i64) -> (bool, Vec<(usize, usize)>) {
    let mut whole = false;
    let mut out = Vec::new();
    let spans: Vec<&Span> = version.of_code(code_id).collect();
    for s in spans {
        match (s.start, s.end) {
            (Some(a), Some(b)) if b > a && !item.graphemes.is_empty() => out.push((
                text::grapheme_at_cp(&item.graphemes, a as usize),
                text::grapheme_at_cp(&item.graphemes, (b - 1) as usize),
            )),
            (Some(_), Some(_)) => {}
            _ => whole = true,
        }
    }
    (whole, out)
}
