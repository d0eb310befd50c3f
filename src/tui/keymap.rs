//! The key map is data: a default table compiled in, which a user key file may change. The help
//! screen is generated from the same table, so help and keys cannot drift apart.
//!
//! The key file (`$LACRIMA_KEYS`, else `$XDG_CONFIG_HOME/lacrima/keys.toml`, else
//! `~/.config/lacrima/keys.toml`) uses a small subset of TOML that is parsed here:
//!
//! ```toml
//! # keys before any [section] are global
//! "ctrl-z" = "undo"
//! [list]
//! ctrl-d = "page_down"
//! [codebook]
//! d = "none"          # unbind
//! ```
//!
//! Sections are the contexts below; values are action names from `action::BINDABLE` or `none`.

use super::action::Action;
use crate::error::{Error, Result};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where a key is pressed. The main screen looks in the focused panel's context first, then in
/// `Global`; pop-ups have their own contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    List,
    Text,
    Codebook,
    /// Text fields: memo, code forms, search and value prompts.
    Input,
    /// Menus and lists to choose from: filter menu, variables, levels.
    Menu,
    /// The fuzzy finder (typing goes to the query, so only non-text keys are bound).
    Finder,
    Confirm,
    Help,
}

impl Context {
    pub const ALL: [Context; 9] = [
        Context::Global,
        Context::List,
        Context::Text,
        Context::Codebook,
        Context::Input,
        Context::Menu,
        Context::Finder,
        Context::Confirm,
        Context::Help,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::Text => "text",
            Context::Codebook => "codebook",
            Context::Input => "input",
            Context::Menu => "menu",
            Context::Finder => "finder",
            Context::Confirm => "confirm",
            Context::Help => "help",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::List => "Answer list",
            Context::Text => "Answer text",
            Context::Codebook => "Codebook",
            Context::Input => "Writing (memo, code forms, search)",
            Context::Menu => "Menus",
            Context::Finder => "Code finder (type to search)",
            Context::Confirm => "Questions",
            Context::Help => "This help",
        }
    }

    fn parse(s: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// A key with its modifiers, normalised so that `J` is the same whether or not the terminal
/// reports Shift with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods =
            ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match ev.code {
            KeyCode::Char(c) => {
                // The character already says whether Shift was held.
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else {
                    c
                })
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    /// Parses `j`, `J`, `>`, `ctrl-r`, `shift-left`, `pagedown`, `enter`, `f1`, ...
    pub fn parse(s: &str) -> Option<Key> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.chars().count() > 1 && lower.starts_with("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[5..];
            } else if rest.chars().count() > 1 && lower.starts_with("alt-") {
                mods |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else if rest.chars().count() > 1 && lower.starts_with("shift-") {
                mods |= KeyModifiers::SHIFT;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                let c = if mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else {
                    c
                };
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c)
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" => KeyCode::PageUp,
                "pagedown" => KeyCode::PageDown,
                f if f.starts_with('f') && f.len() > 1 => KeyCode::F(f[1..].parse().ok()?),
                _ => return None,
            },
        };
        // Shift-Tab is what terminals send as BackTab.
        if code == KeyCode::Tab && mods.contains(KeyModifiers::SHIFT) {
            return Some(Key {
                code: KeyCode::BackTab,
                mods: mods - KeyModifiers::SHIFT,
            });
        }
        Some(Key { code, mods })
    }

    /// How the key is written in help and key files.
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            s.push_str("Ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            s.push_str("Alt-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            s.push_str("Shift-");
        }
        match self.code {
            KeyCode::Char(' ') => s.push_str("Space"),
            KeyCode::Char(c) => s.push(c),
            KeyCode::Enter => s.push_str("Enter"),
            KeyCode::Esc => s.push_str("Esc"),
            KeyCode::Tab => s.push_str("Tab"),
            KeyCode::BackTab => s.push_str("Shift-Tab"),
            KeyCode::Backspace => s.push_str("Backspace"),
            KeyCode::Delete => s.push_str("Delete"),
            KeyCode::Up => s.push('↑'),
            KeyCode::Down => s.push('↓'),
            KeyCode::Left => s.push('←'),
            KeyCode::Right => s.push('→'),
            KeyCode::Home => s.push_str("Home"),
            KeyCode::End => s.push_str("End"),
            KeyCode::PageUp => s.push_str("PageUp"),
            KeyCode::PageDown => s.push_str("PageDown"),
            KeyCode::F(n) => s.push_str(&format!("F{n}")),
            _ => s.push('?'),
        }
        s
    }
}

/// The default bindings: (context, key, action name).
const DEFAULTS: &[(Context, &str, &str)] = &[
    (Context::Global, "q", "quit"),
    (Context::Global, "ctrl-c", "quit"),
    (Context::Global, "?", "help"),
    (Context::Global, "tab", "focus_next"),
    (Context::Global, "backtab", "focus_prev"),
    (Context::Global, "1", "code1"),
    (Context::Global, "2", "code2"),
    (Context::Global, "3", "code3"),
    (Context::Global, "4", "code4"),
    (Context::Global, "5", "code5"),
    (Context::Global, "6", "code6"),
    (Context::Global, "7", "code7"),
    (Context::Global, "8", "code8"),
    (Context::Global, "9", "code9"),
    (Context::Global, "c", "finder"),
    (Context::Global, "x", "no_code"),
    (Context::Global, "u", "undo"),
    (Context::Global, "ctrl-r", "redo"),
    (Context::Global, "m", "memo"),
    (Context::Global, "/", "search"),
    (Context::Global, "f", "filter"),
    (Context::Global, "o", "others"),
    (Context::Global, "A", "agreement"),
    (Context::Global, "V", "analysis"),
    (Context::Global, "v", "select"),
    (Context::Global, "n", "next_unreviewed"),
    (Context::Global, "N", "prev_unreviewed"),
    (Context::Global, "esc", "drop_waiting"),
    (Context::Global, "C", "autocode"),
    (Context::List, "j", "down"),
    (Context::List, "down", "down"),
    (Context::List, "k", "up"),
    (Context::List, "up", "up"),
    (Context::List, "g", "first"),
    (Context::List, "home", "first"),
    (Context::List, "G", "last"),
    (Context::List, "end", "last"),
    (Context::List, "pagedown", "page_down"),
    (Context::List, "pageup", "page_up"),
    (Context::Text, "j", "down"),
    (Context::Text, "down", "down"),
    (Context::Text, "k", "up"),
    (Context::Text, "up", "up"),
    (Context::Text, "h", "left"),
    (Context::Text, "left", "left"),
    (Context::Text, "l", "right"),
    (Context::Text, "right", "right"),
    (Context::Text, "w", "word_next"),
    (Context::Text, "b", "word_prev"),
    (Context::Text, "0", "line_start"),
    (Context::Text, "home", "line_start"),
    (Context::Text, "$", "line_end"),
    (Context::Text, "end", "line_end"),
    (Context::Text, "shift-left", "extend_left"),
    (Context::Text, "shift-right", "extend_right"),
    (Context::Text, "shift-up", "extend_up"),
    (Context::Text, "shift-down", "extend_down"),
    (Context::Text, "esc", "cancel"),
    (Context::Text, "enter", "finder"),
    (Context::Text, "delete", "remove_segment"),
    (Context::Text, "backspace", "remove_segment"),
    (Context::Text, "pagedown", "page_down"),
    (Context::Text, "pageup", "page_up"),
    (Context::Codebook, "j", "down"),
    (Context::Codebook, "down", "down"),
    (Context::Codebook, "k", "up"),
    (Context::Codebook, "up", "up"),
    (Context::Codebook, "g", "first"),
    (Context::Codebook, "G", "last"),
    (Context::Codebook, "enter", "apply"),
    (Context::Codebook, "space", "apply"),
    (Context::Codebook, "i", "details"),
    (Context::Codebook, "a", "add_code"),
    (Context::Codebook, "r", "rename_code"),
    (Context::Codebook, "e", "edit_code"),
    (Context::Codebook, "J", "move_down"),
    (Context::Codebook, "K", "move_up"),
    (Context::Codebook, ">", "nest"),
    (Context::Codebook, "<", "unnest"),
    (Context::Codebook, "+", "merge"),
    (Context::Codebook, "d", "delete_code"),
    (Context::Input, "esc", "close"),
    (Context::Input, "enter", "submit"),
    (Context::Input, "ctrl-s", "save"),
    (Context::Input, "tab", "next_field"),
    (Context::Input, "backtab", "prev_field"),
    (Context::Menu, "esc", "close"),
    (Context::Menu, "q", "close"),
    (Context::Menu, "enter", "submit"),
    (Context::Menu, "j", "menu_down"),
    (Context::Menu, "down", "menu_down"),
    (Context::Menu, "k", "menu_up"),
    (Context::Menu, "up", "menu_up"),
    (Context::Finder, "esc", "close"),
    (Context::Finder, "enter", "submit"),
    (Context::Finder, "down", "menu_down"),
    (Context::Finder, "ctrl-n", "menu_down"),
    (Context::Finder, "up", "menu_up"),
    (Context::Finder, "ctrl-p", "menu_up"),
    (Context::Confirm, "y", "yes"),
    (Context::Confirm, "n", "no"),
    (Context::Confirm, "esc", "no"),
    (Context::Help, "esc", "close"),
    (Context::Help, "q", "close"),
    (Context::Help, "?", "close"),
    (Context::Help, "j", "menu_down"),
    (Context::Help, "down", "menu_down"),
    (Context::Help, "k", "menu_up"),
    (Context::Help, "up", "menu_up"),
    (Context::Help, "pagedown", "page_down"),
    (Context::Help, "pageup", "page_up"),
];

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: HashMap<(Context, Key), Action>,
    /// Keys in the order they were bound, for a stable help screen.
    order: Vec<(Context, Key)>,
}

impl Default for Keymap {
    fn default() -> Self {
        let mut map = Keymap {
            bindings: HashMap::new(),
            order: Vec::new(),
        };
        for (ctx, key, action) in DEFAULTS {
            let key = Key::parse(key).expect("default keys parse");
            let action = Action::from_name(action).expect("default actions exist");
            map.bind(*ctx, key, Some(action));
        }
        map
    }
}

impl Keymap {
    fn bind(&mut self, ctx: Context, key: Key, action: Option<Action>) {
        match action {
            Some(a) => {
                if self.bindings.insert((ctx, key), a).is_none() {
                    self.order.push((ctx, key));
                }
            }
            None => {
                self.bindings.remove(&(ctx, key));
                self.order.retain(|k| *k != (ctx, key));
            }
        }
    }

    /// The action of a key in a context, looking in `Global` too for the main-screen panels.
    pub fn lookup(&self, ctx: Context, ev: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(ev);
        if let Some(a) = self.bindings.get(&(ctx, key)) {
            return Some(a.clone());
        }
        if matches!(ctx, Context::List | Context::Text | Context::Codebook) {
            return self.bindings.get(&(Context::Global, key)).cloned();
        }
        None
    }

    /// The keys bound to an action in a context, for hints ("u undo").
    pub fn keys_for(&self, ctx: Context, action: &Action) -> Vec<Key> {
        self.order
            .iter()
            .filter(|(c, k)| *c == ctx && self.bindings.get(&(*c, *k)) == Some(action))
            .map(|(_, k)| *k)
            .collect()
    }

    /// The help screen's content: per context, each action with its keys, in binding order.
    pub fn help(&self) -> Vec<(Context, Vec<(String, &'static str)>)> {
        let bindings: Vec<(Context, Key, Action)> = self
            .order
            .iter()
            .filter_map(|&(c, k)| self.bindings.get(&(c, k)).map(|a| (c, k, a.clone())))
            .collect();
        help_rows(&Context::ALL, &bindings, Action::description)
    }

    /// Applies a key file's text on top of this map. Errors name the file and line.
    pub fn apply_file(&mut self, text: &str, file: &Path) -> Result<()> {
        let mut ctx = Context::Global;
        for (i, raw) in text.lines().enumerate() {
            let at = format!("{}:{}", file.display(), i + 1);
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                ctx = Context::parse(section.trim()).ok_or_else(|| {
                    Error::input(format!(
                        "{at}: unknown section [{}]; the sections are {}",
                        section.trim(),
                        Context::ALL.map(|c| c.name()).join(", ")
                    ))
                })?;
                continue;
            }
            let Some((k, v)) = split_assignment(line) else {
                return Err(Error::input(format!(
                    "{at}: expected `key = \"action\"`, found {line:?}"
                )));
            };
            let key = Key::parse(&unquote(k)).ok_or_else(|| {
                Error::input(format!(
                    "{at}: {k} is not a key lacrima knows (examples: j, J, ctrl-r, shift-left, pagedown, enter)"
                ))
            })?;
            let name = unquote(v);
            let action = if name == "none" {
                None
            } else {
                Some(Action::from_name(&name).ok_or_else(|| {
                    Error::input(format!(
                        "{at}: unknown action {name:?}; the actions are none, {}",
                        super::action::BINDABLE
                            .iter()
                            .map(|(n, _, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?)
            };
            self.bind(ctx, key, action);
        }
        Ok(())
    }

    /// The default map with the user's key file applied, if there is one.
    pub fn load_user() -> Result<Keymap> {
        let mut map = Keymap::default();
        if let Some(path) = user_file() {
            match std::fs::read_to_string(&path) {
                Ok(text) => map.apply_file(&text, &path)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Ok(map)
    }
}

/// Where the user's key file is looked for.
pub fn user_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LACRIMA_KEYS") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("lacrima").join("keys.toml"))
}

/// Removes a `#` comment that is not inside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Splits `key = value` at the `=` outside quotes (a quoted key may itself be "=").
fn split_assignment(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '=' if !quoted && i > 0 => return Some((line[..i].trim(), line[i + 1..].trim())),
            _ => {}
        }
    }
    None
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
        .to_string()
}

/// A help screen's rows from a key map's bindings (context, key, action), in binding order: per
/// context that has any, each action once with all its keys ("j down") and its description.
/// The coding screen and the sub-screens generate their help with it.
pub fn help_rows<C: Copy + PartialEq, A: Clone + PartialEq>(
    contexts: &[C],
    bindings: &[(C, Key, A)],
    describe: impl Fn(&A) -> &'static str,
) -> Vec<(C, Vec<(String, &'static str)>)> {
    let mut out = Vec::new();
    for &ctx in contexts {
        let mut rows: Vec<(&A, Vec<String>)> = Vec::new();
        for (c, k, a) in bindings {
            if *c != ctx {
                continue;
            }
            match rows.iter_mut().find(|(ra, _)| *ra == a) {
                Some((_, keys)) => keys.push(k.label()),
                None => rows.push((a, vec![k.label()])),
            }
        }
        if !rows.is_empty() {
            out.push((
                ctx,
                rows.into_iter()
                    .map(|(a, keys)| (keys.join(" "), describe(a)))
                    .collect(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn capital_letters_match_with_or_without_shift_reported() {
        let map = Keymap::default();
        let with = ev(KeyCode::Char('J'), KeyModifiers::SHIFT);
        let without = ev(KeyCode::Char('J'), KeyModifiers::NONE);
        assert_eq!(
            map.lookup(Context::Codebook, &with),
            Some(Action::MoveCodeDown)
        );
        assert_eq!(
            map.lookup(Context::Codebook, &without),
            Some(Action::MoveCodeDown)
        );
        assert_eq!(
            map.lookup(
                Context::Codebook,
                &ev(KeyCode::Char('j'), KeyModifiers::NONE)
            ),
            Some(Action::Down)
        );
    }

    #[test]
    fn panels_fall_back_to_global_keys_but_popups_do_not() {
        let map = Keymap::default();
        let u = ev(KeyCode::Char('u'), KeyModifiers::NONE);
        assert_eq!(map.lookup(Context::List, &u), Some(Action::Undo));
        assert_eq!(map.lookup(Context::Finder, &u), None);
        let r = ev(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(map.lookup(Context::Text, &r), Some(Action::Redo));
    }

    #[test]
    fn a_key_file_rebinds_and_unbinds() {
        let mut map = Keymap::default();
        let text =
            "# mine\n\"ctrl-z\" = \"undo\"\n[codebook]\nd = \"none\"\nX = delete_code # capital\n";
        map.apply_file(text, Path::new("keys.toml")).unwrap();
        assert_eq!(
            map.lookup(
                Context::List,
                &ev(KeyCode::Char('z'), KeyModifiers::CONTROL)
            ),
            Some(Action::Undo)
        );
        assert_eq!(
            map.lookup(
                Context::Codebook,
                &ev(KeyCode::Char('d'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(
            map.lookup(
                Context::Codebook,
                &ev(KeyCode::Char('X'), KeyModifiers::SHIFT)
            ),
            Some(Action::DeleteCode)
        );
        let help = map.help();
        let codebook = &help
            .iter()
            .find(|(c, _)| *c == Context::Codebook)
            .unwrap()
            .1;
        assert!(codebook.iter().any(|(k, _)| k == "X"), "{codebook:?}");
        assert!(!codebook.iter().any(|(k, _)| k == "d"));
    }

    #[test]
    fn a_bad_key_file_names_the_line() {
        let mut map = Keymap::default();
        let err = map
            .apply_file(
                "j = \"down\"\nk = \"fly\"\n",
                Path::new("/home/a/keys.toml"),
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/home/a/keys.toml:2: unknown action \"fly\""),
            "{err}"
        );
        let err = map
            .apply_file("[nowhere]\n", Path::new("k"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("k:1: unknown section [nowhere]"), "{err}");
    }

    #[test]
    fn every_default_binding_appears_in_help() {
        let map = Keymap::default();
        let help = map.help();
        let n: usize = help.iter().map(|(_, rows)| rows.len()).sum();
        assert!(n > 60, "{n}");
        let global = &help.iter().find(|(c, _)| *c == Context::Global).unwrap().1;
        assert!(
            global
                .iter()
                .any(|(k, d)| k == "u" && d.starts_with("undo"))
        );
        assert!(
            global
                .iter()
                .any(|(k, d)| k == "q Ctrl-c" && d.starts_with("quit"))
        );
    }
}
