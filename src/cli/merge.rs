//! `lacrima merge OTHER`: bring a coder's copy of the project back into it, and
//! `lacrima merge --undo` to take the latest merge back.

use super::{MergeArgs, PreferArg, SummaryFormat, json, stdout_line, table};
use crate::error::{Error, Result};
use crate::report::coder_names;
use crate::store::{MergeConflict, MergeOptions, MergeReport, Prefer, Store};
use std::path::Path;

/// How many conflicts the table lists before it points to `--format json` for the rest.
const SHOWN_CONFLICTS: usize = 30;

pub fn merge(project: &Path, a: &MergeArgs) -> Result<()> {
    let mut store = Store::open(project)?;
    if a.undo {
        return match store.undo_merge()? {
            Some(summary) => stdout_line(&format!("Undone: {summary}\n")),
            None => Err(Error::input(format!(
                "there is no merge to take back in {}",
                project.display()
            ))),
        };
    }
    let Some(other) = &a.other else {
        return Err(Error::input(
            "name the copy to merge: lacrima merge OTHER.db",
        ));
    };
    let existing: Vec<String> = store.coder_names()?.into_iter().map(|(n, _)| n).collect();
    let opts = MergeOptions {
        coders: coder_names(&a.coders, &existing)?,
        prefer: a.prefer.map(|p| match p {
            PreferArg::Mine => Prefer::Mine,
            PreferArg::Theirs => Prefer::Theirs,
        }),
        dry_run: a.dry_run,
    };
    let report = store.merge_from(other, &opts)?;
    match a.format {
        SummaryFormat::Json => stdout_line(&json(&report)?),
        SummaryFormat::Table => stdout_line(&render(&report, project)),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn render(r: &MergeReport, project: &Path) -> String {
    let mut out = String::new();
    let other = &r.other;
    out.push_str(&if r.dry_run {
        format!(
            "Dry run: what merging {other} into {} would do (nothing was changed).\n",
            project.display()
        )
    } else {
        format!("Merged {other} into {}.\n", project.display())
    });
    let h = &r.history;
    if h.related {
        out.push_str(&format!(
            "The copies share their first {} (up to {}); since they parted, {} here and {} in \
             {other}.\n",
            plural(h.shared_events as usize, "event", "events"),
            h.parted_after.as_deref().unwrap_or("?"),
            plural(h.events_here as usize, "event", "events"),
            plural(h.events_theirs as usize, "event", "events"),
        ));
        if let Some(m) = &h.since_merge {
            out.push_str(&format!(
                "They were merged before ({m}): changes are counted from there.\n"
            ));
        }
    } else {
        out.push_str(&format!(
            "{other} and this project share no history (they were never one project): every \
             answer coded differently in both is a conflict, and codes are matched by GUID.\n"
        ));
    }

    let rows: Vec<Vec<String>> = r
        .coders
        .iter()
        .map(|c| {
            vec![
                if c.new_here {
                    format!("{} (new here)", c.coder)
                } else {
                    c.coder.clone()
                },
                c.answers_taken.to_string(),
                c.answers_kept.to_string(),
                c.conflicts.to_string(),
                format!("+{} -{}", c.codings_added, c.codings_removed)
                    + &if c.codings_changed > 0 {
                        format!(" ~{}", c.codings_changed)
                    } else {
                        String::new()
                    },
                format!("+{} -{}", c.reviews_added, c.reviews_removed),
                format!(
                    "+{} ~{} -{}",
                    c.memos_added, c.memos_changed, c.memos_removed
                ),
            ]
        })
        .collect();
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&table::render(
            &[
                "coder",
                "answers taken",
                "kept here",
                "conflicts",
                "codings",
                "review marks",
                "memos",
            ],
            &rows,
        ));
    }

    let mut book = Vec::new();
    if !r.codes_added.is_empty() {
        book.push(format!("added {}", r.codes_added.join(", ")));
    }
    if !r.codes_changed.is_empty() {
        let changed: Vec<String> = r
            .codes_changed
            .iter()
            .map(|c| format!("{} ({})", c.code, c.fields.join(", ")))
            .collect();
        book.push(format!("changed {}", changed.join("; ")));
    }
    if !r.codes_deleted.is_empty() {
        book.push(format!("deleted {}", r.codes_deleted.join(", ")));
    }
    if !book.is_empty() {
        out.push_str(&format!("\nCodebook: {}.\n", book.join("; ")));
    }

    let n = &r.not_merged;
    if n.respondents > 0 || !n.questions.is_empty() {
        let mut what = Vec::new();
        if n.respondents > 0 {
            what.push(plural(n.respondents as usize, "respondent", "respondents"));
        }
        if !n.questions.is_empty() {
            what.push(format!(
                "{} ({})",
                plural(n.questions.len(), "question", "questions"),
                n.questions.join(", ")
            ));
        }
        out.push_str(&format!(
            "\nNot merged: {} of {other} {} not in this project (import that wave first); {} \
             coded there {} left out.\n",
            what.join(" and "),
            if n.respondents + n.questions.len() as i64 == 1 {
                "is"
            } else {
                "are"
            },
            plural(n.answers_coded as usize, "answer", "answers"),
            if n.answers_coded == 1 { "was" } else { "were" },
        ));
    }

    let open = r.conflicts.iter().filter(|k| k.settled.is_none()).count();
    if !r.conflicts.is_empty() {
        let settled = r.conflicts.len() - open;
        out.push_str(&format!(
            "\n{}{}:\n",
            plural(r.conflicts.len(), "conflict", "conflicts"),
            match (open, settled) {
                (_, 0) => ", left as they are (settle them with --prefer mine|theirs, or edit \
                           one side and merge again)"
                    .to_string(),
                (0, _) => ", settled by --prefer".to_string(),
                _ => format!(", {settled} settled by --prefer"),
            }
        ));
        for k in r.conflicts.iter().take(SHOWN_CONFLICTS) {
            out.push_str(&conflict_lines(k));
        }
        if r.conflicts.len() > SHOWN_CONFLICTS {
            out.push_str(&format!(
                "  ... and {} more (--format json lists them all)\n",
                r.conflicts.len() - SHOWN_CONFLICTS
            ));
        }
    }

    let changed = r.coders.iter().any(|c| {
        c.codings_added
            + c.codings_removed
            + c.codings_changed
            + c.reviews_added
            + c.reviews_removed
            + c.memos_added
            + c.memos_changed
            + c.memos_removed
            > 0
    }) || !r.codes_added.is_empty()
        || !r.codes_changed.is_empty()
        || !r.codes_deleted.is_empty();
    out.push('\n');
    out.push_str(&match (r.event_id, r.dry_run, changed) {
        (Some(id), _, _) => format!(
            "The merge is one event ({id}) in the log: `lacrima merge --undo` takes all of it \
             back.\n"
        ),
        (None, true, true) => "Run it again without --dry-run to merge.\n".to_string(),
        _ => format!("Nothing to merge: {other} holds nothing this project lacks.\n"),
    });
    out
}

fn conflict_lines(k: &MergeConflict) -> String {
    let what = match k.kind {
        "answer" | "answer_text" | "code_missing" => format!(
            "{} {}, {}",
            k.respondent.as_deref().unwrap_or("?"),
            k.question.as_deref().unwrap_or("?"),
            k.coder.as_deref().unwrap_or("?")
        ),
        "code_memo" => format!(
            "{}'s memo on the code {:?}",
            k.coder.as_deref().unwrap_or("?"),
            k.code.as_deref().unwrap_or("?")
        ),
        _ => match &k.field {
            Some(f) => format!("the code {:?}, {f}", k.code.as_deref().unwrap_or("?")),
            None => format!("the code {:?}", k.code.as_deref().unwrap_or("?")),
        },
    };
    let why = match (k.kind, &k.note) {
        ("answer" | "code_field" | "code_memo", None) => "changed in both copies".to_string(),
        ("answer" | "code_field" | "code_memo", Some(n)) => format!("changed in both copies ({n})"),
        (_, Some(n)) => n.clone(),
        (_, None) => k.kind.replace('_', " "),
    };
    let mut s = format!(
        "  {what}: {why}\n    here:   {}\n    theirs: {}\n",
        k.here, k.theirs
    );
    if let Some(p) = k.settled {
        s.push_str(&format!(
            "    settled: {}\n",
            match p {
                Prefer::Mine => "this project's version kept",
                Prefer::Theirs => "the copy's version taken",
            }
        ));
    }
    s
}
