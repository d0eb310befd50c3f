//! One function per subcommand: open the project, call the library, format the output.
//! Standard output carries only what was asked for; warnings go to standard error.

pub mod agreement;
mod analyze;
mod args;
mod assign;
mod autocode;
mod consensus;
mod dataset;
mod demo;
mod merge;
mod plot;
mod report;
mod review;
mod table;

pub use args::*;

use crate::error::{Error, Result};
use crate::export::spreadsheet::Guard;
use crate::export::{Output, write_err};
use crate::store::Store;
use std::io::Write;
use std::path::Path;

/// Runs a command and returns the process exit code (0 ok, 1 error; clap exits 2 on usage).
pub fn run(cli: Cli) -> i32 {
    match dispatch(&cli) {
        Ok(()) => 0,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("lacrima: {}", explain(&e, &cli.project));
            1
        }
    }
}

/// The error's message, with what only the file system can tell: who holds the lock, or that
/// the disk is full when SQLite could only say it failed to write.
fn explain(e: &Error, project: &Path) -> String {
    use rusqlite::ErrorCode::SystemIoFailure;
    if e.is_busy()
        && let Some(holder) = crate::store::write_lock_holder(project)
    {
        return format!("{e} (the lock is held by {holder})");
    }
    if e.sqlite_code() == Some(SystemIoFailure) && crate::store::disk_full(project) {
        return crate::error::DISK_FULL.to_string();
    }
    e.to_string()
}

fn dispatch(cli: &Cli) -> Result<()> {
    let project = cli.project.as_path();
    // Known before any file is read, so that no input or output can be the project's own file.
    crate::store::guard_project(project);
    match &cli.command {
        Command::Init => init(project),
        Command::Import(a) => import(project, a),
        Command::Info { format } => info(project, *format),
        Command::Codebook(CodebookCommand::Import { file }) => codebook_import(project, file),
        Command::Codebook(CodebookCommand::Export(a))
        | Command::Export(ExportCommand::Codebook(a)) => codebook_export(project, a),
        Command::Codings(CodingsCommand::Import { file }) => codings_import(project, file),
        Command::Codings(CodingsCommand::Export(a))
        | Command::Export(ExportCommand::Codings(a)) => codings_export(project, a),
        Command::Analyze(a) => analyze::analyze(project, a),
        Command::Cooccur(a) => analyze::cooccur(project, a),
        Command::Export(ExportCommand::Dataset(a)) => dataset::export(project, a),
        Command::Export(ExportCommand::Qdpx(a)) => qdpx_export(project, a),
        Command::Backup { file } => backup(project, file),
        Command::Demo => demo::run(),
        Command::Agreement(a) => agreement::agreement(project, a),
        Command::Assign(a) => assign::assign(project, a),
        Command::Consensus(a) => consensus::consensus(project, a),
        Command::Review(a) => review::review(project, a),
        Command::Autocode(a) => autocode::autocode(project, a),
        Command::Merge(a) => merge::merge(project, a),
        Command::Undo(a) => replay(project, &a.coder, false),
        Command::Redo(a) => replay(project, &a.coder, true),
        Command::Report(a) => report::report(project, a),
        Command::Code { coder } => code(project, coder.as_deref()),
    }
}

/// `lacrima undo|redo --coder NAME`: the coding screen's `u` and Ctrl-r, for a coder who is
/// not at the screen (or a script).
fn replay(project: &Path, coder: &str, redo: bool) -> Result<()> {
    let mut store = Store::open(project)?;
    let names = store.coder_names()?;
    if !names.iter().any(|(n, _)| n == coder) {
        let list: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
        return Err(Error::input(format!(
            "no coder called {coder:?}; the coders are: {}",
            if list.is_empty() {
                "(none yet)".to_string()
            } else {
                list.join(", ")
            }
        )));
    }
    let id = store.coder_id(coder)?;
    let (done, verb) = if redo {
        (store.redo(id)?, "redone")
    } else {
        (store.undo(id)?, "undone")
    };
    match done {
        Some(r) => stdout_line(&format!("{coder}: {verb}: {}\n", r.summary)),
        None => stdout_line(&format!(
            "{coder}: nothing to {}\n",
            if redo { "redo" } else { "undo" }
        )),
    }
}

fn stdout_line(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(write_err)?;
    out.flush().map_err(write_err)
}

fn warn(msg: &str) {
    eprintln!("warning: {msg}");
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(value)
        .map_err(|e| Error::input(format!("cannot write JSON: {e}")))?;
    s.push('\n');
    Ok(s)
}

fn init(project: &Path) -> Result<()> {
    if project.exists() {
        return Err(Error::input(format!(
            "{} exists already; lacrima init only creates new projects",
            project.display()
        )));
    }
    Store::create(project)?;
    stdout_line(&format!("created {}\n", project.display()))
}

fn import(project: &Path, a: &ImportArgs) -> Result<()> {
    if let Some(ImportFrom::Qdpx(q)) = &a.from {
        return import_qdpx(project, q);
    }
    let Some(file) = a.file.as_deref() else {
        return Err(Error::input(
            "say which file to import: lacrima import FILE",
        ));
    };
    let opts = crate::import::survey::SurveyOptions {
        id: a.id.clone(),
        open: a.open.clone(),
        numeric: a.numeric.clone(),
        categorical: a.categorical.clone(),
        text: a.text.clone(),
        date: a.date.clone(),
        skip: a.skip.clone(),
        levels: a.levels.clone(),
        missing: a.missing.clone(),
        sheet: a.sheet.clone(),
        encoding: a.encoding.clone(),
        progress: true,
        fresh_project: false,
    };
    // Check the file before creating a project for it, so a bad file creates nothing.
    if !file.exists() {
        return Err(Error::input(format!("{}: no such file", file.display())));
    }
    let (mut store, created) = Store::open_or_create(project)?;
    let opts = crate::import::survey::SurveyOptions {
        fresh_project: created,
        ..opts
    };
    let result = crate::import::survey::import_survey(&mut store, file, &opts);
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            if created {
                drop(store);
                crate::store::remove_project_files(project);
            }
            return Err(e);
        }
    };
    for w in &summary.warnings {
        warn(w);
    }
    match a.format {
        SummaryFormat::Json => stdout_line(&json(&summary)?),
        SummaryFormat::Table => {
            let mut s = format!(
                "Imported {}{}: {} respondents added, {} skipped as already present ({} in the project).\n\n",
                summary.file,
                if summary.qualtrics {
                    " (Qualtrics export)"
                } else {
                    ""
                },
                summary.respondents_added,
                summary.respondents_skipped,
                summary.respondents_total
            );
            let rows: Vec<Vec<String>> = summary
                .questions
                .iter()
                .map(|q| {
                    vec![
                        q.name.clone(),
                        q.answered.to_string(),
                        q.empty.to_string(),
                        if q.new { "yes" } else { "" }.to_string(),
                    ]
                })
                .collect();
            s.push_str(&table::render(
                &["question", "answered", "empty", "new"],
                &rows,
            ));
            s.push('\n');
            let rows: Vec<Vec<String>> = summary
                .variables
                .iter()
                .map(|v| {
                    vec![
                        v.name.clone(),
                        v.kind.as_str().to_string(),
                        v.missing.to_string(),
                        v.levels.as_ref().map(|l| l.join(", ")).unwrap_or_default(),
                    ]
                })
                .collect();
            s.push_str(&table::render(
                &["variable", "kind", "missing", "levels"],
                &rows,
            ));
            stdout_line(&s)
        }
    }
}

/// `lacrima import qdpx FILE`: a REFI-QDA project into a new project (or one without
/// respondents); the project made for it is removed again if the import fails.
fn import_qdpx(project: &Path, a: &QdpxArgs) -> Result<()> {
    crate::store::refuse_project_path(&a.file, "the input")?;
    if !a.file.is_file() {
        return Err(Error::input(format!("{}: no such file", a.file.display())));
    }
    let (mut store, created) = Store::open_or_create(project)?;
    let summary = match crate::exchange::read::import_qdpx(&mut store, &a.file, created) {
        Ok(s) => s,
        Err(e) => {
            if created {
                drop(store);
                crate::store::remove_project_files(project);
            }
            return Err(e);
        }
    };
    // The loss report goes to stderr whatever the format: it is what the user must know.
    let report = crate::exchange::loss::Report {
        lost: summary.lost.clone(),
        notes: summary.notes.clone(),
    };
    if !report.lost.is_empty() {
        eprintln!(
            "Not imported: {} holds these, which lacrima cannot keep:",
            summary.file
        );
        for line in report.lines() {
            eprintln!("  {line}");
        }
    }
    for n in &report.notes {
        warn(n);
    }
    match a.format {
        SummaryFormat::Json => stdout_line(&json(&summary)?),
        SummaryFormat::Table => {
            let origin = if summary.from_lacrima {
                " (a lacrima export)".to_string()
            } else if summary.origin.is_empty() {
                String::new()
            } else {
                format!(" (from {})", summary.origin)
            };
            let mut s = format!(
                "Imported {}{origin}: {} respondents, {} answers to {} questions, {} variables, \
                 {} codes, {} codings, {} review marks, {} memos.\n",
                summary.file,
                summary.respondents,
                summary.answers,
                summary.questions.len(),
                summary.variables,
                summary.codes,
                summary.codings,
                summary.reviews,
                summary.memos
            );
            s.push_str(&format!("questions: {}\n", summary.questions.join(", ")));
            s.push_str(&format!("coders: {}\n", summary.coders.join(", ")));
            if report.lost.is_empty() {
                s.push_str("Nothing in the file was left out.\n");
            }
            stdout_line(&s)
        }
    }
}

fn info(project: &Path, format: SummaryFormat) -> Result<()> {
    let store = Store::open(project)?;
    let s = store.summary()?;
    if format == SummaryFormat::Json {
        return stdout_line(&json(&s)?);
    }
    let mut out = format!(
        "{}: {} respondents in {} wave(s); {} codes ({} codable); schema {}\n\n",
        s.project, s.respondents, s.waves, s.codes, s.codable_codes, s.schema_version
    );
    let rows: Vec<Vec<String>> = s
        .questions
        .iter()
        .map(|q| {
            vec![
                q.name.clone(),
                q.answered.to_string(),
                q.empty.to_string(),
                q.label.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &["question", "answered", "empty", "label"],
        &rows,
    ));
    out.push('\n');
    let rows: Vec<Vec<String>> = s
        .variables
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                v.kind.clone(),
                v.levels.as_ref().map(|l| l.join(", ")).unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table::render(&["variable", "kind", "levels"], &rows));
    out.push('\n');
    let rows: Vec<Vec<String>> = s
        .coders
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.answers_rated.to_string(),
                c.codings.to_string(),
                if c.is_consensus { "consensus" } else { "" }.to_string(),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &["coder", "answers rated", "codings", ""],
        &rows,
    ));
    stdout_line(&out)
}

fn read_input(file: &Path) -> Result<Vec<u8>> {
    crate::store::refuse_project_path(file, "the input")?;
    std::fs::read(file).map_err(|e| Error::io(file, e))
}

fn codebook_import(project: &Path, file: &Path) -> Result<()> {
    let mut store = Store::open(project)?;
    let name = file.display().to_string();
    let data = read_input(file)?;
    let entries = if is_qdc(file, &data) {
        let mut report = crate::exchange::loss::Report::default();
        let entries = crate::exchange::qdc::read_qdc(&data, &name, &mut report)?;
        if !report.lost.is_empty() {
            eprintln!("Not imported: {name} holds these, which lacrima cannot keep:");
            for line in report.lines() {
                eprintln!("  {line}");
            }
        }
        entries
    } else {
        crate::import::codebook::read_codebook_csv(&data, &name)?
    };
    let u = store.apply_codebook(&entries, &name)?;
    stdout_line(&format!(
        "codebook: {} codes added, {} updated, {} unchanged\n",
        u.added, u.updated, u.unchanged
    ))
}

/// A REFI-QDA codebook: the `.qdc` extension, or XML where a CSV was expected.
fn is_qdc(file: &Path, data: &[u8]) -> bool {
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if ext == "qdc" {
        return true;
    }
    let body = data.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(data);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    ext != "csv" && start.is_some_and(|i| body[i] == b'<')
}

fn codebook_export(project: &Path, a: &CodebookExportArgs) -> Result<()> {
    if a.spreadsheet_safe && a.format != CodebookFormat::Csv {
        return Err(Error::input(
            "--spreadsheet-safe applies to --format csv: Markdown and JSON are not opened as \
             spreadsheets",
        ));
    }
    let store = Store::open(project)?;
    let codes = store.codes()?;
    let mut out = Output::open(a.out.as_deref())?;
    match a.format {
        CodebookFormat::Csv => {
            let mut guard = Guard::new(a.spreadsheet_safe);
            crate::export::codebook::write_csv(&codes, &mut guard, &mut out)?;
            guard.report("the codebook");
        }
        CodebookFormat::Md => crate::export::codebook::write_markdown(&codes, &mut out)?,
        CodebookFormat::Json => crate::export::codebook::write_json(&codes, &mut out)?,
        CodebookFormat::Qdc => crate::exchange::write::write_qdc(&codes, &mut out)?,
    }
    out.finish()
}

fn codings_import(project: &Path, file: &Path) -> Result<()> {
    let mut store = Store::open(project)?;
    let name = file.display().to_string();
    crate::store::refuse_project_path(file, "the codings")?;
    let input = std::fs::File::open(file).map_err(|e| Error::io(file, e))?;
    let rows = crate::import::codings::CodingsReader::new(std::io::BufReader::new(input), &name)?;
    let r = store.import_codings_from(rows, &name)?;
    for w in &r.warnings {
        warn(w);
    }
    let mut msg = format!(
        "codings: {} added, {} already present; {} answers newly marked reviewed",
        r.codings_added, r.codings_already_present, r.reviews_added
    );
    if r.memos_updated > 0 {
        msg.push_str(&format!("; {} memos updated", r.memos_updated));
    }
    if !r.coders_created.is_empty() {
        msg.push_str(&format!("; new coders: {}", r.coders_created.join(", ")));
    }
    msg.push('\n');
    stdout_line(&msg)
}

fn codings_export(project: &Path, a: &CodingsExportArgs) -> Result<()> {
    let store = Store::open(project)?;
    if let Some(c) = &a.coder
        && !store.coder_names()?.iter().any(|(n, _)| n == c)
    {
        return Err(crate::report::unknown_coder(&store, c)?);
    }
    let mut out = Output::open(a.out.as_deref())?;
    let mut guard = Guard::new(a.spreadsheet_safe);
    crate::export::codings::write_csv(&store, a.coder.as_deref(), &mut guard, &mut out)?;
    guard.report("the codings");
    out.finish()
}

fn qdpx_export(project: &Path, a: &QdpxExportArgs) -> Result<()> {
    let store = Store::open(project)?;
    let s = crate::exchange::write::write_qdpx(&store, &a.out)?;
    if s.characters_replaced > 0 {
        warn(&format!(
            "{} characters that XML cannot hold (control characters) were replaced by U+FFFD in \
             names, memos and values; the answers' texts in sources/ are exact",
            s.characters_replaced
        ));
    }
    match a.format {
        SummaryFormat::Json => stdout_line(&format!("{}\n", json(&s)?)),
        SummaryFormat::Table => stdout_line(&format!(
            "wrote {}: {} respondents, {} answers, {} codings by {} coders, {} codes, {} memos\n",
            a.out.display(),
            s.respondents,
            s.answers,
            s.codings,
            s.coders,
            s.codes,
            s.notes
        )),
    }
}

fn backup(project: &Path, file: &Path) -> Result<()> {
    let store = Store::open(project)?;
    store.backup_to(file)?;
    stdout_line(&format!(
        "backed up {} to {}\n",
        project.display(),
        file.display()
    ))
}

/// `lacrima code`: the coding screen. Without `--coder` (or LACRIMA_CODER) the coder is asked
/// for their name on the terminal, with the project's coders listed.
fn code(project: &Path, coder: Option<&str>) -> Result<()> {
    let store = Store::open(project)?;
    let coder = match coder.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => c.to_string(),
        None => ask_coder(&store)?,
    };
    drop(store);
    crate::tui::run(project, &coder)
}

fn ask_coder(store: &Store) -> Result<String> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        return Err(Error::input(
            "say who is coding: lacrima code --coder NAME (or set LACRIMA_CODER)",
        ));
    }
    let coders: Vec<String> = store.coder_names()?.into_iter().map(|(n, _)| n).collect();
    let mut err = std::io::stderr().lock();
    if coders.is_empty() {
        let _ = writeln!(err, "No one has coded in this project yet.");
    } else {
        let _ = writeln!(err, "Coders in this project: {}", coders.join(", "));
    }
    let _ = write!(
        err,
        "Your name as a coder (a new name starts a new coder): "
    );
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::io("standard input", e))?;
    let name = line.trim().to_string();
    if name.is_empty() {
        return Err(Error::input(
            "no coder name given; run lacrima code --coder NAME",
        ));
    }
    Ok(name)
}
