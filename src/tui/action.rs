//! Everything that can happen on the coding screen, as data. Keys become actions through the key
//! map; the worker's counts, ticks, resizes and mouse events are actions too, so `update` is the
//! one place where the screen's state changes.

use super::worker::Counts;
use crossterm::event::KeyEvent;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    // Anywhere on the main screen.
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    /// Toggle the code with this shortcut (1-9): on the answer, or on the selected segment.
    ToggleCode(u8),
    OpenFinder,
    NoCode,
    Undo,
    Redo,
    Memo,
    Search,
    FilterMenu,
    ToggleOthers,
    Select,
    /// Open the agreement screen (review of the coders' disagreements, this coder deciding).
    Agreement,
    /// Open the analysis screen (codes against a variable).
    Analysis,
    /// Auto-code the selected code by a pattern.
    Autocode,

    // Movement; what moves depends on the focused panel.
    Down,
    Up,
    NextUnreviewed,
    PrevUnreviewed,
    First,
    Last,
    PageDown,
    PageUp,

    // In the text.
    Left,
    Right,
    WordNext,
    WordPrev,
    LineStart,
    LineEnd,
    ExtendLeft,
    ExtendRight,
    ExtendUp,
    ExtendDown,
    CancelSelection,
    RemoveSegment,
    /// Drop the keys held back while another program holds the project's write lock.
    DropWaiting,

    // In the codebook.
    AddCode,
    RenameCode,
    EditCode,
    MoveCodeUp,
    MoveCodeDown,
    Nest,
    Unnest,
    MergeCode,
    DeleteCode,
    CodeDetails,
    ApplySelectedCode,

    // In pop-ups.
    /// Enter: choose, or in a memo start a new line.
    Submit,
    /// Ctrl-S: save what is being written.
    Save,
    Cancel,
    NextField,
    PrevField,
    MenuUp,
    MenuDown,
    Yes,
    No,
    /// A key typed into a text field.
    Key(KeyEvent),

    // From outside the key map.
    Resize(u16, u16),
    Click {
        column: u16,
        row: u16,
    },
    Scroll {
        column: u16,
        row: u16,
        down: bool,
    },
    Counts(Counts),
    /// What the auto-code pattern being typed finds (from the worker).
    Preview(super::autocode::Preview),
    /// Periodic: notices other coders' changes to the project.
    Tick,
}

/// The actions a key file may bind, with the name it uses and the help text.
pub const BINDABLE: &[(&str, Action, &str)] = &[
    ("quit", Action::Quit, "quit (everything is already saved)"),
    ("help", Action::Help, "this help"),
    (
        "focus_next",
        Action::FocusNext,
        "next panel: list, text, codebook",
    ),
    ("focus_prev", Action::FocusPrev, "previous panel"),
    (
        "code1",
        Action::ToggleCode(1),
        "toggle the code with shortcut 1",
    ),
    (
        "code2",
        Action::ToggleCode(2),
        "toggle the code with shortcut 2",
    ),
    (
        "code3",
        Action::ToggleCode(3),
        "toggle the code with shortcut 3",
    ),
    (
        "code4",
        Action::ToggleCode(4),
        "toggle the code with shortcut 4",
    ),
    (
        "code5",
        Action::ToggleCode(5),
        "toggle the code with shortcut 5",
    ),
    (
        "code6",
        Action::ToggleCode(6),
        "toggle the code with shortcut 6",
    ),
    (
        "code7",
        Action::ToggleCode(7),
        "toggle the code with shortcut 7",
    ),
    (
        "code8",
        Action::ToggleCode(8),
        "toggle the code with shortcut 8",
    ),
    (
        "code9",
        Action::ToggleCode(9),
        "toggle the code with shortcut 9",
    ),
    (
        "finder",
        Action::OpenFinder,
        "find a code by name and apply it",
    ),
    (
        "no_code",
        Action::NoCode,
        "mark the answer coded with no code",
    ),
    (
        "undo",
        Action::Undo,
        "undo your last action (also from earlier sessions)",
    ),
    ("redo", Action::Redo, "redo what you undid"),
    ("memo", Action::Memo, "write a memo on the answer"),
    ("search", Action::Search, "search answers by regex"),
    (
        "filter",
        Action::FilterMenu,
        "choose which answers the list shows",
    ),
    (
        "others",
        Action::ToggleOthers,
        "show or hide other coders' codings",
    ),
    ("select", Action::Select, "start or end selecting a segment"),
    (
        "agreement",
        Action::Agreement,
        "agreement between the coders; settle disagreements",
    ),
    (
        "analysis",
        Action::Analysis,
        "codes against a variable (analysis screen)",
    ),
    ("down", Action::Down, "next answer / line / code"),
    ("up", Action::Up, "previous answer / line / code"),
    (
        "next_unreviewed",
        Action::NextUnreviewed,
        "next answer you have not reviewed",
    ),
    (
        "prev_unreviewed",
        Action::PrevUnreviewed,
        "previous answer you have not reviewed",
    ),
    ("first", Action::First, "first answer / code"),
    ("last", Action::Last, "last answer / code"),
    ("page_down", Action::PageDown, "a page down"),
    ("page_up", Action::PageUp, "a page up"),
    ("left", Action::Left, "one character left"),
    ("right", Action::Right, "one character right"),
    (
        "word_next",
        Action::WordNext,
        "to the end of the word (selects whole words)",
    ),
    ("word_prev", Action::WordPrev, "to the start of the word"),
    ("line_start", Action::LineStart, "to the start of the line"),
    ("line_end", Action::LineEnd, "to the end of the line"),
    (
        "extend_left",
        Action::ExtendLeft,
        "select one character more to the left",
    ),
    (
        "extend_right",
        Action::ExtendRight,
        "select one character more to the right",
    ),
    ("extend_up", Action::ExtendUp, "select up a line"),
    ("extend_down", Action::ExtendDown, "select down a line"),
    ("cancel", Action::CancelSelection, "drop the selection"),
    (
        "autocode",
        Action::Autocode,
        "auto-code the selected code by a pattern (live count, preview)",
    ),
    (
        "drop_waiting",
        Action::DropWaiting,
        "drop keys waiting for another program's write to end",
    ),
    (
        "remove_segment",
        Action::RemoveSegment,
        "remove your coded segment under the cursor",
    ),
    ("add_code", Action::AddCode, "add a code"),
    ("rename_code", Action::RenameCode, "rename the code"),
    (
        "edit_code",
        Action::EditCode,
        "edit definition, criteria, example, memo",
    ),
    ("move_up", Action::MoveCodeUp, "move the code up"),
    ("move_down", Action::MoveCodeDown, "move the code down"),
    ("nest", Action::Nest, "nest under the code above"),
    ("unnest", Action::Unnest, "move out of its parent"),
    (
        "merge",
        Action::MergeCode,
        "merge into another code (codings move)",
    ),
    (
        "delete_code",
        Action::DeleteCode,
        "delete the code (asks; undoable)",
    ),
    (
        "details",
        Action::CodeDetails,
        "show the code's definition and criteria",
    ),
    (
        "apply",
        Action::ApplySelectedCode,
        "toggle the selected code on the answer",
    ),
    ("submit", Action::Submit, "choose / new line in a memo"),
    ("save", Action::Save, "save"),
    ("close", Action::Cancel, "close / cancel"),
    ("next_field", Action::NextField, "next field"),
    ("prev_field", Action::PrevField, "previous field"),
    ("menu_up", Action::MenuUp, "previous item"),
    ("menu_down", Action::MenuDown, "next item"),
    ("yes", Action::Yes, "yes"),
    ("no", Action::No, "no"),
];

impl Action {
    /// The key-file name of a bindable action.
    pub fn from_name(name: &str) -> Option<Action> {
        BINDABLE
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, a, _)| a.clone())
    }

    pub fn name(&self) -> Option<&'static str> {
        BINDABLE
            .iter()
            .find(|(_, a, _)| a == self)
            .map(|(n, _, _)| *n)
    }

    pub fn description(&self) -> &'static str {
        BINDABLE
            .iter()
            .find(|(_, a, _)| a == self)
            .map_or("", |(_, _, d)| *d)
    }
}
