//! The analysis screen (`lacrima analyze --screen`): choose a variable; each code becomes a row
//! of horizontal bars (percent of rated respondents coded per level of a categorical variable,
//! or the mean of a numeric variable with and without the code) with its test and q-value; rows
//! sort by q; Enter on a cell lists the answers behind it, so the numbers lead back to the words.
//!
//! Built like the coding and review screens: keys map to an [`AnalysisAction`] through a key map
//! that is data ([`AnalysisKeymap`], with the help generated from it); [`update`] applies an
//! action to the [`AnalysisState`]; `analysis_render` draws the state and nothing else;
//! `analysis_app` owns the terminal. The numbers are those of `lacrima analyze` (the same
//! functions compute them), so screen and files always agree.

use super::state::MsgKind;
use super::subscreen::{
    Background, ScreenAction, ScreenContext, ScreenKeymap, help_action, keep_visible,
};
use crate::error::{Error, Result};
use crate::report::{
    CategoricalCode, NumericCode, Report, Scope, categorical_report, numeric_report,
};
use crate::store::{
    BehindAnswers, BehindQuery, DatasetLayout, DatasetVariable, Store, ValueFilter, VariableKind,
};
use crossterm::event::KeyEvent;
use ratatui::layout::Rect;

// ---------------------------------------------------------------------------------------------
// Actions and keys
// ---------------------------------------------------------------------------------------------

/// Everything that can happen on the analysis screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnalysisAction {
    Quit,
    Help,
    /// Back: from the answers to the table, from the table to the variables, or out of help.
    Back,
    Down,
    Up,
    Left,
    Right,
    First,
    Last,
    PageDown,
    PageUp,
    /// Analyse by the selected variable, or list the answers behind the selected cell.
    Open,
    /// Choose another variable.
    Variables,
    /// Codebook order, or ascending q-value.
    Sort,
    /// A bar chart of the selected code across the variable's levels.
    Chart,
    Resize(u16, u16),
    /// The codes against a variable, computed in the background, are ready (no key).
    Computed,
}

/// Where a key is pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnalysisContext {
    Global,
    Variables,
    Table,
    Chart,
    Answers,
    Help,
}

impl AnalysisContext {
    pub const ALL: [AnalysisContext; 6] = [
        AnalysisContext::Global,
        AnalysisContext::Variables,
        AnalysisContext::Table,
        AnalysisContext::Chart,
        AnalysisContext::Answers,
        AnalysisContext::Help,
    ];

    pub fn title(self) -> &'static str {
        match self {
            AnalysisContext::Global => "Everywhere",
            AnalysisContext::Variables => "Choosing a variable",
            AnalysisContext::Table => "Codes by the variable",
            AnalysisContext::Chart => "The chart of one code",
            AnalysisContext::Answers => "Answers behind a cell",
            AnalysisContext::Help => "This help",
        }
    }
}

/// The actions with their help text.
pub const ANALYSIS_ACTIONS: &[(AnalysisAction, &str)] = &[
    (AnalysisAction::Quit, "quit"),
    (AnalysisAction::Help, "this help"),
    (
        AnalysisAction::Back,
        "back: answers to codes, codes to variables / close",
    ),
    (AnalysisAction::Down, "next code / variable / answer"),
    (AnalysisAction::Up, "previous code / variable / answer"),
    (AnalysisAction::Left, "previous level (column)"),
    (AnalysisAction::Right, "next level (column)"),
    (AnalysisAction::First, "first row"),
    (AnalysisAction::Last, "last row"),
    (AnalysisAction::PageDown, "a page down"),
    (AnalysisAction::PageUp, "a page up"),
    (
        AnalysisAction::Open,
        "analyse by the variable / list the answers behind the cell",
    ),
    (AnalysisAction::Variables, "choose another variable"),
    (
        AnalysisAction::Sort,
        "sort the codes by q-value, or back to codebook order",
    ),
    (
        AnalysisAction::Chart,
        "bar chart of the selected code across the levels / back to the table",
    ),
];

impl ScreenContext for AnalysisContext {
    const ALL: &'static [Self] = &AnalysisContext::ALL;
    const GLOBAL: Self = AnalysisContext::Global;
    const HELP: Self = AnalysisContext::Help;
}

impl ScreenAction for AnalysisAction {
    type Context = AnalysisContext;
    const ACTIONS: &'static [(Self, &'static str)] = ANALYSIS_ACTIONS;
    const KEYS: &'static [(AnalysisContext, &'static str, Self)] = ANALYSIS_KEYS;
    const HELP: Self = AnalysisAction::Help;
    const BACK: Self = AnalysisAction::Back;
    const DOWN: Self = AnalysisAction::Down;
    const UP: Self = AnalysisAction::Up;
}

/// The default key map: (context, key, action).
const ANALYSIS_KEYS: &[(AnalysisContext, &str, AnalysisAction)] = &[
    (AnalysisContext::Global, "?", AnalysisAction::Help),
    (AnalysisContext::Global, "ctrl-c", AnalysisAction::Quit),
    (AnalysisContext::Variables, "q", AnalysisAction::Quit),
    (AnalysisContext::Variables, "j", AnalysisAction::Down),
    (AnalysisContext::Variables, "down", AnalysisAction::Down),
    (AnalysisContext::Variables, "k", AnalysisAction::Up),
    (AnalysisContext::Variables, "up", AnalysisAction::Up),
    (AnalysisContext::Variables, "g", AnalysisAction::First),
    (AnalysisContext::Variables, "G", AnalysisAction::Last),
    (AnalysisContext::Variables, "enter", AnalysisAction::Open),
    (AnalysisContext::Variables, "esc", AnalysisAction::Back),
    (AnalysisContext::Table, "q", AnalysisAction::Quit),
    (AnalysisContext::Table, "j", AnalysisAction::Down),
    (AnalysisContext::Table, "down", AnalysisAction::Down),
    (AnalysisContext::Table, "k", AnalysisAction::Up),
    (AnalysisContext::Table, "up", AnalysisAction::Up),
    (AnalysisContext::Table, "h", AnalysisAction::Left),
    (AnalysisContext::Table, "left", AnalysisAction::Left),
    (AnalysisContext::Table, "l", AnalysisAction::Right),
    (AnalysisContext::Table, "right", AnalysisAction::Right),
    (AnalysisContext::Table, "g", AnalysisAction::First),
    (AnalysisContext::Table, "home", AnalysisAction::First),
    (AnalysisContext::Table, "G", AnalysisAction::Last),
    (AnalysisContext::Table, "end", AnalysisAction::Last),
    (AnalysisContext::Table, "pagedown", AnalysisAction::PageDown),
    (AnalysisContext::Table, "pageup", AnalysisAction::PageUp),
    (AnalysisContext::Table, "enter", AnalysisAction::Open),
    (AnalysisContext::Table, "s", AnalysisAction::Sort),
    (AnalysisContext::Table, "v", AnalysisAction::Variables),
    (AnalysisContext::Table, "b", AnalysisAction::Chart),
    (AnalysisContext::Chart, "j", AnalysisAction::Down),
    (AnalysisContext::Chart, "down", AnalysisAction::Down),
    (AnalysisContext::Chart, "k", AnalysisAction::Up),
    (AnalysisContext::Chart, "up", AnalysisAction::Up),
    (AnalysisContext::Chart, "b", AnalysisAction::Chart),
    (AnalysisContext::Chart, "esc", AnalysisAction::Back),
    (AnalysisContext::Chart, "q", AnalysisAction::Back),
    (AnalysisContext::Table, "esc", AnalysisAction::Variables),
    (AnalysisContext::Answers, "j", AnalysisAction::Down),
    (AnalysisContext::Answers, "down", AnalysisAction::Down),
    (AnalysisContext::Answers, "k", AnalysisAction::Up),
    (AnalysisContext::Answers, "up", AnalysisAction::Up),
    (AnalysisContext::Answers, "g", AnalysisAction::First),
    (AnalysisContext::Answers, "G", AnalysisAction::Last),
    (
        AnalysisContext::Answers,
        "pagedown",
        AnalysisAction::PageDown,
    ),
    (AnalysisContext::Answers, "pageup", AnalysisAction::PageUp),
    (AnalysisContext::Answers, "esc", AnalysisAction::Back),
    (AnalysisContext::Answers, "q", AnalysisAction::Back),
    (AnalysisContext::Help, "esc", AnalysisAction::Back),
    (AnalysisContext::Help, "q", AnalysisAction::Back),
    (AnalysisContext::Help, "?", AnalysisAction::Back),
    (AnalysisContext::Help, "j", AnalysisAction::Down),
    (AnalysisContext::Help, "down", AnalysisAction::Down),
    (AnalysisContext::Help, "k", AnalysisAction::Up),
    (AnalysisContext::Help, "up", AnalysisAction::Up),
];

/// The analysis screen's key map: data, from which the help screen is generated.
pub type AnalysisKeymap = ScreenKeymap<AnalysisAction>;

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Variables,
    Table,
    /// The selected code as a bar chart across the levels.
    Chart,
    Answers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Codebook,
    /// Ascending q-value; codes without one last, in codebook order.
    QValue,
}

/// The codes against the chosen variable.
#[derive(Debug, Clone)]
pub enum Results {
    Categorical(Report<CategoricalCode>),
    Numeric(Report<NumericCode>),
}

impl Results {
    pub fn len(&self) -> usize {
        match self {
            Results::Categorical(r) => r.codes.len(),
            Results::Numeric(r) => r.codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn q(&self, i: usize) -> Option<f64> {
        match self {
            Results::Categorical(r) => r.codes[i].q_bh,
            Results::Numeric(r) => r.codes[i].q_bh,
        }
    }

    pub fn code_name(&self, i: usize) -> &str {
        match self {
            Results::Categorical(r) => &r.codes[i].code,
            Results::Numeric(r) => &r.codes[i].code,
        }
    }

    /// The table's columns: the levels with rated respondents, or "coded" and "not coded".
    pub fn columns(&self) -> Vec<String> {
        match self {
            Results::Categorical(r) => r.level_counts().0.to_vec(),
            Results::Numeric(_) => vec!["coded".into(), "not coded".into()],
        }
    }

    pub fn respondents_rated(&self) -> u64 {
        match self {
            Results::Categorical(r) => r.respondents_rated,
            Results::Numeric(r) => r.respondents_rated,
        }
    }

    pub fn warnings(&self) -> &[String] {
        match self {
            Results::Categorical(r) => &r.warnings,
            Results::Numeric(r) => &r.warnings,
        }
    }
}

/// The answers behind the cell that was opened.
#[derive(Debug, Clone)]
pub struct Drill {
    pub code: String,
    /// "orientation = CBT", "age: coded", ...
    pub cell: String,
    pub coded: bool,
    pub found: BehindAnswers,
    /// The first answer shown.
    pub offset: usize,
}

/// How many answers behind a cell are loaded (the count of all of them is shown).
pub const DRILL_LIMIT: usize = 500;

/// The codes against a variable being computed on a thread of their own (with their own
/// connection), so that keys never wait for them: on a million respondents they take most of a
/// second.
pub struct Pending {
    /// The variable analysed (index into `layout.variables`).
    pub variable: usize,
    job: Background<Results>,
}

pub struct AnalysisState {
    pub store: Store,
    pub layout: DatasetLayout,
    pub scope: Scope,
    pub keymap: AnalysisKeymap,
    pub size: Rect,
    /// False when NO_COLOR is set: meaning is then carried by text and marks only.
    pub color: bool,
    /// The variables one can analyse by (numeric and categorical), as indexes into
    /// `layout.variables`.
    pub choices: Vec<usize>,
    /// Selected entry of `choices`.
    pub choice: usize,
    /// The variable analysed (index into `layout.variables`) and its results.
    pub variable: Option<usize>,
    pub results: Option<Results>,
    /// The analysis running in the background, if any.
    pub pending: Option<Pending>,
    pub sort: SortOrder,
    /// Row order: indexes into the results' codes.
    pub order: Vec<usize>,
    /// Selected row (index into `order`) and column.
    pub row: usize,
    pub col: usize,
    pub row_offset: usize,
    pub view: View,
    pub drill: Option<Drill>,
    /// The help, with its scroll offset.
    pub help: Option<usize>,
    pub message: Option<(String, MsgKind)>,
    pub quit: bool,
}

/// Whose codings, which questions, and possibly the variable to start with.
#[derive(Debug, Clone)]
pub struct AnalysisSetup {
    pub scope: Scope,
    pub by: Option<String>,
}

impl AnalysisState {
    pub fn open(
        store: Store,
        setup: AnalysisSetup,
        keymap: AnalysisKeymap,
        size: Rect,
    ) -> Result<AnalysisState> {
        let layout = store.dataset_layout()?;
        let choices: Vec<usize> = layout
            .variables
            .iter()
            .enumerate()
            .filter(|(_, v)| matches!(v.kind, VariableKind::Numeric | VariableKind::Categorical))
            .map(|(i, _)| i)
            .collect();
        if choices.is_empty() {
            return Err(Error::input(
                "the survey has no numeric or categorical variable to relate the codes to",
            ));
        }
        if !layout.codes.iter().any(|c| c.codable) {
            return Err(Error::input(
                "the codebook has no codable codes: import one with `lacrima codebook import FILE`",
            ));
        }
        let mut state = AnalysisState {
            store,
            layout,
            scope: setup.scope,
            keymap,
            size,
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            choices,
            choice: 0,
            variable: None,
            results: None,
            pending: None,
            sort: SortOrder::Codebook,
            order: Vec::new(),
            row: 0,
            col: 0,
            row_offset: 0,
            view: View::Variables,
            drill: None,
            help: None,
            message: None,
            quit: false,
        };
        if let Some(name) = &setup.by {
            let v = crate::report::choose_variable(&state.layout, name)?;
            let index = state
                .layout
                .variables
                .iter()
                .position(|x| x.id == v.id)
                .unwrap_or(0);
            state.choice = state.choices.iter().position(|&c| c == index).unwrap_or(0);
            analyse(&mut state)?;
        }
        Ok(state)
    }

    pub fn context(&self) -> AnalysisContext {
        if self.help.is_some() {
            return AnalysisContext::Help;
        }
        match self.view {
            View::Variables => AnalysisContext::Variables,
            View::Table => AnalysisContext::Table,
            View::Chart => AnalysisContext::Chart,
            View::Answers => AnalysisContext::Answers,
        }
    }

    /// The action a key stands for now.
    pub fn action_for_key(&self, ev: KeyEvent) -> Option<AnalysisAction> {
        self.keymap.lookup(self.context(), &ev)
    }

    pub fn variable(&self) -> Option<&DatasetVariable> {
        self.variable.map(|i| &self.layout.variables[i])
    }

    /// The results' code shown in a row.
    pub fn code_at(&self, row: usize) -> Option<usize> {
        self.order.get(row).copied()
    }

    /// Rows of the table that fit on screen.
    pub fn table_rows(&self) -> usize {
        // Two header lines, the table's border and header, a legend and the status line.
        (self.size.height as usize).saturating_sub(7).max(1)
    }

    /// Rows of the variable list that fit on screen.
    pub fn list_rows(&self) -> usize {
        (self.size.height as usize).saturating_sub(5).max(1)
    }

    /// The variable whose analysis is running in the background.
    pub fn computing(&self) -> Option<&DatasetVariable> {
        self.pending
            .as_ref()
            .map(|p| &self.layout.variables[p.variable])
    }

    /// Looks, without waiting, whether the analysis in the background has finished: if so, the
    /// action that takes its results in, for the event loop to apply like a key's.
    pub fn poll(&mut self) -> Option<AnalysisAction> {
        let p = self.pending.as_mut()?;
        p.job.arrived().then_some(AnalysisAction::Computed)
    }

    /// Waits for the analysis in the background, if any, and takes its results in.
    pub fn finish_pending(&mut self) {
        if let Some(p) = self.pending.as_mut() {
            p.job.wait();
            update(self, AnalysisAction::Computed);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Update
// ---------------------------------------------------------------------------------------------

/// Applies an action. A failed store call leaves the state as it was and shows the error.
pub fn update(state: &mut AnalysisState, action: AnalysisAction) {
    // Only keys clear the message: a resize or results arriving leave it to be read.
    if !matches!(
        action,
        AnalysisAction::Resize(..) | AnalysisAction::Computed
    ) {
        state.message = None;
    }
    if let Err(e) = apply(state, action) {
        state.message = Some((e.to_string(), MsgKind::Error));
    }
}

fn apply(state: &mut AnalysisState, action: AnalysisAction) -> Result<()> {
    if let AnalysisAction::Resize(w, h) = action {
        state.size = Rect::new(0, 0, w, h);
        keep_row_visible(state);
        return Ok(());
    }
    if action == AnalysisAction::Quit {
        state.quit = true;
        return Ok(());
    }
    if action == AnalysisAction::Computed {
        return take_results(state);
    }
    if help_action(&mut state.help, &action) {
        return Ok(());
    }
    match state.view {
        View::Variables => variables_action(state, action),
        View::Table => table_action(state, action),
        View::Chart => chart_action(state, action),
        View::Answers => answers_action(state, action),
    }
}

fn variables_action(state: &mut AnalysisState, action: AnalysisAction) -> Result<()> {
    let last = state.choices.len().saturating_sub(1);
    match action {
        AnalysisAction::Down => state.choice = (state.choice + 1).min(last),
        AnalysisAction::Up => state.choice = state.choice.saturating_sub(1),
        AnalysisAction::First => state.choice = 0,
        AnalysisAction::Last => state.choice = last,
        AnalysisAction::Open => analyse(state)?,
        AnalysisAction::Back if state.results.is_some() => state.view = View::Table,
        _ => {}
    }
    Ok(())
}

/// Starts computing the codes against the selected variable in the background; the table
/// shows when the results arrive ([`AnalysisAction::Computed`]). Choosing another variable
/// meanwhile starts that one instead.
fn analyse(state: &mut AnalysisState) -> Result<()> {
    let index = state.choices[state.choice];
    if state.pending.as_ref().is_some_and(|p| p.variable == index) {
        return Ok(());
    }
    let var = state.layout.variables[index].clone();
    let layout = state.layout.clone();
    let scope = state.scope.clone();
    let path = state.store.path().to_path_buf();
    let job = Background::spawn("the analysis", move || {
        compute(&Store::open(&path)?, &layout, &scope, &var)
    })?;
    state.pending = Some(Pending {
        variable: index,
        job,
    });
    Ok(())
}

/// The codes against one variable: the numbers of `lacrima analyze --by`.
fn compute(
    store: &Store,
    layout: &DatasetLayout,
    scope: &Scope,
    var: &DatasetVariable,
) -> Result<Results> {
    Ok(match var.kind {
        VariableKind::Categorical => {
            Results::Categorical(categorical_report(store, layout, scope, var)?)
        }
        _ => Results::Numeric(numeric_report(store, layout, scope, var)?),
    })
}

/// Shows the results that arrived from the background, or why there are none.
fn take_results(state: &mut AnalysisState) -> Result<()> {
    let Some(mut pending) = state.pending.take() else {
        return Ok(());
    };
    let Some(result) = pending.job.take() else {
        state.pending = Some(pending);
        return Ok(());
    };
    let results = result?;
    let warning = results.warnings().first().cloned();
    state.variable = Some(pending.variable);
    state.results = Some(results);
    state.row = 0;
    state.col = 0;
    state.row_offset = 0;
    state.drill = None;
    state.view = View::Table;
    sort_rows(state);
    if let Some(w) = warning {
        state.message = Some((w, MsgKind::Info));
    }
    Ok(())
}

fn sort_rows(state: &mut AnalysisState) {
    let Some(r) = &state.results else {
        state.order.clear();
        return;
    };
    // Keep the selected code selected across a change of order.
    let selected = state.order.get(state.row).copied();
    let mut order: Vec<usize> = (0..r.len()).collect();
    if state.sort == SortOrder::QValue {
        order.sort_by(|&a, &b| match (r.q(a), r.q(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y).then(a.cmp(&b)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.cmp(&b),
        });
    }
    state.order = order;
    state.row = selected
        .and_then(|s| state.order.iter().position(|&i| i == s))
        .unwrap_or(0);
    keep_row_visible(state);
}

fn keep_row_visible(state: &mut AnalysisState) {
    let rows = state.table_rows();
    keep_visible(state.row, &mut state.row_offset, rows);
}

fn table_action(state: &mut AnalysisState, action: AnalysisAction) -> Result<()> {
    let Some(results) = &state.results else {
        state.view = View::Variables;
        return Ok(());
    };
    let last = results.len().saturating_sub(1);
    let cols = results.columns().len();
    let page = state.table_rows();
    match action {
        AnalysisAction::Down => state.row = (state.row + 1).min(last),
        AnalysisAction::Up => state.row = state.row.saturating_sub(1),
        AnalysisAction::First => state.row = 0,
        AnalysisAction::Last => state.row = last,
        AnalysisAction::PageDown => state.row = (state.row + page).min(last),
        AnalysisAction::PageUp => state.row = state.row.saturating_sub(page),
        AnalysisAction::Left => state.col = state.col.saturating_sub(1),
        AnalysisAction::Right => state.col = (state.col + 1).min(cols.saturating_sub(1)),
        AnalysisAction::Sort => {
            state.sort = match state.sort {
                SortOrder::Codebook => SortOrder::QValue,
                SortOrder::QValue => SortOrder::Codebook,
            };
            sort_rows(state);
            let how = match state.sort {
                SortOrder::Codebook => "codes in codebook order",
                SortOrder::QValue => "codes by q-value, smallest first",
            };
            state.message = Some((how.into(), MsgKind::Info));
        }
        AnalysisAction::Variables | AnalysisAction::Back => state.view = View::Variables,
        AnalysisAction::Open => drill(state)?,
        AnalysisAction::Chart => state.view = View::Chart,
        _ => {}
    }
    keep_row_visible(state);
    Ok(())
}

/// On the chart, the rows still move (so the next code's chart is one key away).
fn chart_action(state: &mut AnalysisState, action: AnalysisAction) -> Result<()> {
    let last = state
        .results
        .as_ref()
        .map_or(0, |r| r.len().saturating_sub(1));
    match action {
        AnalysisAction::Down => state.row = (state.row + 1).min(last),
        AnalysisAction::Up => state.row = state.row.saturating_sub(1),
        AnalysisAction::Chart | AnalysisAction::Back => state.view = View::Table,
        _ => {}
    }
    keep_row_visible(state);
    Ok(())
}

/// Lists the answers behind the selected cell.
fn drill(state: &mut AnalysisState) -> Result<()> {
    let (Some(results), Some(var)) = (&state.results, state.variable()) else {
        return Ok(());
    };
    let Some(k) = state.code_at(state.row) else {
        return Ok(());
    };
    let code_name = results.code_name(k).to_string();
    let Some(code) = state.layout.codes.iter().find(|c| c.name == code_name) else {
        return Ok(());
    };
    let columns = results.columns();
    let Some(column) = columns.get(state.col) else {
        return Ok(());
    };
    let (coded, value, cell) = match results {
        Results::Categorical(_) => (
            true,
            ValueFilter::Level(column.clone()),
            format!("{} = {column}", var.name),
        ),
        Results::Numeric(_) => (
            state.col == 0,
            ValueFilter::Present,
            format!(
                "{}, respondents {}",
                var.name,
                if state.col == 0 {
                    "with the code"
                } else {
                    "without the code"
                }
            ),
        ),
    };
    let question = state
        .scope
        .question
        .as_ref()
        .map(|_| state.scope.questions[0].id);
    let found = state.store.answers_behind(
        &BehindQuery {
            coder: state.scope.coder_id,
            question,
            code: code.id,
            coded,
            column: &var.column,
            value,
        },
        DRILL_LIMIT,
    )?;
    if found.answers.is_empty() {
        state.message = Some((
            format!("no answer behind this cell: no respondent with {cell} has {code_name}"),
            MsgKind::Info,
        ));
        return Ok(());
    }
    state.drill = Some(Drill {
        code: code_name,
        cell,
        coded,
        found,
        offset: 0,
    });
    state.view = View::Answers;
    Ok(())
}

fn answers_action(state: &mut AnalysisState, action: AnalysisAction) -> Result<()> {
    let Some(d) = &mut state.drill else {
        state.view = View::Table;
        return Ok(());
    };
    let last = d.found.answers.len().saturating_sub(1);
    let page = (state.size.height as usize / 4).max(1);
    match action {
        AnalysisAction::Down => d.offset = (d.offset + 1).min(last),
        AnalysisAction::Up => d.offset = d.offset.saturating_sub(1),
        AnalysisAction::First => d.offset = 0,
        AnalysisAction::Last => d.offset = last,
        AnalysisAction::PageDown => d.offset = (d.offset + page).min(last),
        AnalysisAction::PageUp => d.offset = d.offset.saturating_sub(page),
        AnalysisAction::Back => {
            state.view = View::Table;
            state.drill = None;
        }
        _ => {}
    }
    Ok(())
}
