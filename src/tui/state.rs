//! Everything the coding screen shows, and the project it works on. `update` changes it;
//! `render` only reads it.

use super::keymap::{Context, Keymap};
use super::text::{self, Grapheme};
use super::worker::Counts;
use crate::error::Result;
use crate::store::{
    AnswerDetail, AnswerFilter, AnswerQuery, CodeRecord, ExistingVariable, ListRow, QuestionRow,
    Store,
};
use ratatui::layout::Rect;
use ratatui_textarea::TextArea;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Text,
    Codebook,
}

impl Focus {
    pub fn context(self) -> Context {
        match self {
            Focus::List => Context::List,
            Focus::Text => Context::Text,
            Focus::Codebook => Context::Codebook,
        }
    }
}

/// A window of the answer list around the cursor; the rest is fetched page by page.
#[derive(Debug, Clone, Default)]
pub struct ListWindow {
    pub rows: Vec<ListRow>,
    pub cursor: usize,
    /// First row on screen.
    pub offset: usize,
    /// Whether rows may exist before the first / after the last row held.
    pub more_before: bool,
    pub more_after: bool,
}

impl ListWindow {
    pub fn current(&self) -> Option<&ListRow> {
        self.rows.get(self.cursor)
    }
}

/// The current answer as shown, with its text split into graphemes.
#[derive(Debug, Clone)]
pub struct Answer {
    pub detail: AnswerDetail,
    pub graphemes: Vec<Grapheme>,
    /// Words as grapheme ranges (first, last), for `w` and `b`.
    pub words: Vec<(usize, usize)>,
    /// The respondent's variables: (name, value).
    pub values: Vec<(String, Option<String>)>,
}

/// The text cursor and selection, in graphemes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextCursor {
    pub cursor: usize,
    /// Where a selection started (`v`); the selection runs from here to the cursor, inclusive.
    pub anchor: Option<usize>,
    /// First visible line of the answer panel's scrolling part.
    pub scroll: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgKind {
    Info,
    Error,
}

/// What the finder is for.
#[derive(Debug, Clone, PartialEq)]
pub enum FinderPurpose {
    /// Apply the chosen code to the answer, or to this segment (code points).
    Apply(Option<(usize, usize)>),
    MergeInto(i64),
    FilterWith,
    FilterWithout,
}

/// A line of a menu and what choosing it does.
#[derive(Debug, Clone, PartialEq)]
pub enum MenuChoice {
    Filter(AnswerFilter),
    PickCode { with: bool },
    Search,
    PickVariable,
    Variable(usize),
    Level { variable: usize, level: String },
    ToggleEmpty,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MenuItem {
    pub label: String,
    pub choice: MenuChoice,
}

/// A question waiting for y or n, and what yes does.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    NoCode(i64),
    DeleteCode(i64),
    Merge { from: i64, into: i64 },
    DiscardMemo,
    DiscardForm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Add,
    Rename(i64),
    Edit(i64),
}

pub struct Field {
    pub label: &'static str,
    pub input: TextArea<'static>,
    pub multiline: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PromptKind {
    Search,
    VariableValue(usize),
}

pub enum Popup {
    Help {
        scroll: usize,
    },
    Finder {
        purpose: FinderPurpose,
        input: TextArea<'static>,
        /// Indices into `State::codes`, best match first.
        matches: Vec<usize>,
        selected: usize,
    },
    Menu {
        title: String,
        items: Vec<MenuItem>,
        selected: usize,
    },
    Confirm {
        question: String,
        pending: Pending,
        /// The pop-up to return to when the answer is no (a form or memo being discarded).
        back: Option<Box<Popup>>,
    },
    Memo {
        response_id: i64,
        input: TextArea<'static>,
        original: String,
    },
    Form {
        kind: FormKind,
        fields: Vec<Field>,
        focus: usize,
        error: Option<String>,
        original: Vec<String>,
    },
    Prompt {
        kind: PromptKind,
        input: TextArea<'static>,
        error: Option<String>,
    },
    Details {
        code: usize,
        memo: String,
    },
    /// A pattern for one code, with what it finds (None while it is being counted).
    Autocode {
        code_id: i64,
        code: String,
        input: TextArea<'static>,
        generation: u64,
        preview: Option<super::autocode::Preview>,
    },
}

impl Popup {
    pub fn context(&self) -> Context {
        match self {
            Popup::Help { .. } => Context::Help,
            Popup::Finder { .. } => Context::Finder,
            Popup::Menu { .. } => Context::Menu,
            Popup::Confirm { .. } => Context::Confirm,
            Popup::Memo { .. }
            | Popup::Form { .. }
            | Popup::Prompt { .. }
            | Popup::Autocode { .. } => Context::Input,
            // The details close with the help keys.
            Popup::Details { .. } => Context::Help,
        }
    }
}

/// A screen the coding screen hands the terminal to; it comes back when that screen is left.
#[derive(Debug, Clone)]
pub enum SubScreen {
    /// The agreement table and disagreement queues, with this coder deciding.
    Review(super::review::ReviewSetup),
    /// Codes against a variable, which the screen asks for.
    Analysis(super::analysis::AnalysisSetup),
}

/// The regex search and its pattern as typed.
#[derive(Debug, Clone)]
pub struct Search {
    pub pattern: String,
    pub regex: regex::Regex,
}

pub struct State {
    pub store: Store,
    pub coder: String,
    pub coder_id: i64,
    pub project: String,
    /// False when NO_COLOR is set: meaning is then carried by marks and text styles only.
    pub color: bool,
    pub keymap: Keymap,
    /// Where the user's key file is looked for, shown in the help.
    pub key_file: String,
    pub size: Rect,
    pub focus: Focus,

    pub questions: Vec<QuestionRow>,
    /// Short names of the questions for the list (the common prefix of the names removed).
    pub question_short: HashMap<i64, String>,
    pub variables: Vec<ExistingVariable>,
    pub codes: Vec<CodeRecord>,
    pub code_selected: usize,
    pub code_offset: usize,

    pub filter: AnswerFilter,
    pub include_empty: bool,
    pub search: Option<Search>,
    pub list: ListWindow,
    pub answer: Option<Answer>,
    pub text: TextCursor,
    pub show_others: bool,

    pub counts: Option<Counts>,
    /// Bumped whenever the counts may have changed; the app asks the worker for this generation.
    pub counts_generation: u64,
    pub counts_requested: u64,

    pub popup: Option<Popup>,
    pub message: Option<(String, MsgKind)>,
    pub data_version: i64,
    pub quit: bool,
    /// Whether a plan gives this coder answers: the list then starts on "assigned to me" and the
    /// status line shows the plan's progress.
    pub has_plan: bool,
    /// Set by `update` when the coder asks for another screen; the app runs it and clears this.
    pub launch: Option<SubScreen>,
    /// Keys held back while another program holds the project's write lock, in the order typed.
    pub waiting: Option<Waiting>,
    /// Where the work was saved after the project file was moved or deleted under the screen.
    pub rescued: Option<std::path::PathBuf>,
    /// An auto-code pattern to count on the worker; the app sends it and clears this.
    pub preview_request: Option<super::autocode::PreviewRequest>,
}

/// Keys that could not be saved yet because another program was writing to the project. They
/// are tried again, in order, until the lock is free: a key the coder pressed is never dropped
/// unless the coder says so.
#[derive(Debug)]
pub struct Waiting {
    pub actions: std::collections::VecDeque<super::Action>,
    pub since: std::time::Instant,
}

impl Waiting {
    /// Beyond this many held keys, more are refused (with a message) rather than piled up.
    pub const MAX_KEYS: usize = 200;
}

/// How the screen is divided; `render` and `update` (for paging and mouse clicks) agree on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub list: Rect,
    pub codebook: Rect,
    pub answer: Rect,
    pub status: Rect,
}

pub fn areas(size: Rect) -> Areas {
    let status = Rect::new(
        size.x,
        size.y + size.height.saturating_sub(1),
        size.width,
        1.min(size.height),
    );
    let main_h = size.height.saturating_sub(1);
    let left_w = (size.width * 2 / 5).clamp(28.min(size.width), 60);
    let list_h = (main_h * 11 / 20).max(3.min(main_h));
    Areas {
        list: Rect::new(size.x, size.y, left_w, list_h),
        codebook: Rect::new(size.x, size.y + list_h, left_w, main_h - list_h),
        answer: Rect::new(size.x + left_w, size.y, size.width - left_w, main_h),
        status,
    }
}

/// Lines of the answer panel above the scrolling text: the question, the respondent's variables,
/// the review mark and whole-answer codes.
pub const ANSWER_HEADER_LINES: u16 = 3;

impl Areas {
    /// Inner rows of the list panel.
    pub fn list_rows(&self) -> usize {
        self.list.height.saturating_sub(2) as usize
    }

    pub fn codebook_rows(&self) -> usize {
        self.codebook.height.saturating_sub(2) as usize
    }

    /// The answer panel's scrolling text area.
    pub fn text(&self) -> Rect {
        let inner = Rect::new(
            self.answer.x + 1,
            self.answer.y + 1,
            self.answer.width.saturating_sub(2),
            self.answer.height.saturating_sub(2),
        );
        let h = ANSWER_HEADER_LINES.min(inner.height);
        Rect::new(inner.x, inner.y + h, inner.width, inner.height - h)
    }
}

/// Short question names for the list: "consequence_client" and "consequence_therapist" become
/// "client" and "therapist".
pub fn short_names(questions: &[QuestionRow]) -> HashMap<i64, String> {
    let names: Vec<&str> = questions.iter().map(|q| q.name.as_str()).collect();
    let mut prefix = names.first().map_or(0, |n| n.len());
    for n in &names {
        prefix = prefix.min(
            names[0]
                .bytes()
                .zip(n.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    // Cut the prefix back to a separator so words stay whole.
    let cut = names
        .first()
        .map(|n| n[..prefix].rfind(['_', '-', ' ', '.']).map_or(0, |i| i + 1))
        .unwrap_or(0);
    questions
        .iter()
        .map(|q| {
            let s = if questions.len() > 1 && q.name.len() > cut {
                &q.name[cut..]
            } else {
                &q.name
            };
            (q.id, s.to_string())
        })
        .collect()
}

impl State {
    /// Opens the coding screen's state on a project for a coder (created on first use).
    pub fn open(store: Store, coder: &str, keymap: Keymap, size: Rect) -> Result<State> {
        let coder_id = store.coder_id(coder)?;
        let questions = store.question_rows()?;
        let question_short = short_names(&questions);
        let variables = store.variables()?;
        let codes = store.codes()?;
        let data_version = store.data_version()?;
        let has_plan = store.has_assignments(coder_id)?;
        let project = store.path().display().to_string();
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let mut state = State {
            store,
            coder: coder.to_string(),
            coder_id,
            project,
            color,
            keymap,
            key_file: super::keymap::user_file().map_or_else(
                || "(no home folder)".to_string(),
                |f| f.display().to_string(),
            ),
            size,
            focus: Focus::List,
            questions,
            question_short,
            variables,
            codes,
            code_selected: 0,
            code_offset: 0,
            // Once a plan exists, the coder's own share is what they came to code.
            filter: if has_plan {
                AnswerFilter::Assigned
            } else {
                AnswerFilter::All
            },
            include_empty: false,
            search: None,
            list: ListWindow::default(),
            answer: None,
            text: TextCursor::default(),
            show_others: false,
            counts: None,
            counts_generation: 1,
            counts_requested: 0,
            popup: None,
            message: None,
            data_version,
            quit: false,
            has_plan,
            launch: None,
            waiting: None,
            rescued: None,
            preview_request: None,
        };
        super::update::start(&mut state)?;
        Ok(state)
    }

    pub fn query(&self) -> AnswerQuery {
        AnswerQuery {
            coder_id: self.coder_id,
            filter: self.filter.clone(),
            include_empty: self.include_empty,
            regex: self.search.as_ref().map(|s| s.regex.clone()),
        }
    }

    pub fn areas(&self) -> Areas {
        areas(self.size)
    }

    /// The key context for the next key: the pop-up's, else the focused panel's.
    pub fn context(&self) -> Context {
        match &self.popup {
            Some(p) => p.context(),
            None => self.focus.context(),
        }
    }

    pub fn code_by_id(&self, id: i64) -> Option<&CodeRecord> {
        self.codes.iter().find(|c| c.id == id)
    }

    pub fn code_by_shortcut(&self, digit: u8) -> Option<&CodeRecord> {
        let s = digit.to_string();
        self.codes
            .iter()
            .find(|c| c.shortcut.as_deref() == Some(s.as_str()))
    }

    /// The selection as grapheme range (first, last), if any.
    pub fn selection(&self) -> Option<(usize, usize)> {
        let a = self.text.anchor?;
        Some((a.min(self.text.cursor), a.max(self.text.cursor)))
    }

    /// The selection in code points, as stored. Spaces and line breaks at its edges are left
    /// out, so a segment grown by words from a space starts at the word.
    pub fn selection_span(&self) -> Option<(usize, usize)> {
        let (mut a, mut b) = self.selection()?;
        let ans = self.answer.as_ref()?;
        let gs = &ans.graphemes;
        if gs.is_empty() {
            return None;
        }
        if (a..=b).any(|i| gs.get(i).is_some_and(|g| !g.is_space)) {
            while gs.get(a).is_some_and(|g| g.is_space) {
                a += 1;
            }
            while b > a && gs.get(b).is_some_and(|g| g.is_space) {
                b -= 1;
            }
        }
        Some(text::cp_span(gs, &ans.detail.text, a, b))
    }

    /// Describes the filter for the status line.
    pub fn filter_label(&self) -> String {
        let name = |id: &i64| {
            self.code_by_id(*id)
                .map_or("?".to_string(), |c| c.name.clone())
        };
        let mut s = match &self.filter {
            AnswerFilter::All => "all".to_string(),
            AnswerFilter::NotReviewed => "not reviewed by me".to_string(),
            AnswerFilter::Reviewed => "reviewed by me".to_string(),
            AnswerFilter::Assigned => "assigned to me".to_string(),
            AnswerFilter::WithCode(c) => format!("with {}", name(c)),
            AnswerFilter::WithoutCode(c) => format!("without {}", name(c)),
            AnswerFilter::Variable { column, value } => {
                let var = self
                    .variables
                    .iter()
                    .find(|v| &v.column == column)
                    .map_or(column.as_str(), |v| v.name.as_str());
                let value = match value {
                    crate::store::FilterValue::Text(t) => t.clone(),
                    crate::store::FilterValue::Number(n) => crate::model::number::format_number(*n),
                };
                format!("{var} = {value}")
            }
        };
        if self.include_empty {
            s.push_str(" +empty");
        }
        if let Some(q) = &self.search {
            s.push_str(&format!(" /{}/", q.pattern));
        }
        s
    }
}

/// The answer text wrapped for the answer panel, with this coder's segments marked.
pub struct TextLayout {
    pub lines: Vec<Vec<text::Cell>>,
    /// Per mark (the index in `Cell::Open`/`Cell::Close`): the code id.
    pub mark_codes: Vec<i64>,
}

impl State {
    /// The label after a segment's closing bracket: the code's shortcut, or `+` for a code
    /// without one (the codes line above the text names them all).
    pub fn mark_label(&self, code_id: i64) -> String {
        self.code_by_id(code_id)
            .and_then(|c| c.shortcut.clone())
            .unwrap_or_else(|| "+".to_string())
    }

    pub fn text_layout(&self) -> Option<TextLayout> {
        let ans = self.answer.as_ref()?;
        let width = self.areas().text().width as usize;
        let gs = &ans.graphemes;
        let mut marks = Vec::new();
        let mut mark_codes = Vec::new();
        if !gs.is_empty() {
            for c in &ans.detail.codings {
                if let (Some(s), Some(e)) = (c.start, c.end) {
                    marks.push(text::Mark {
                        first: text::grapheme_at_cp(gs, s),
                        last: text::grapheme_at_cp(gs, e.saturating_sub(1).max(s)),
                        label: self.mark_label(c.code_id),
                    });
                    mark_codes.push(c.code_id);
                }
            }
        }
        Some(TextLayout {
            lines: text::wrap(gs, &marks, width),
            mark_codes,
        })
    }
}
