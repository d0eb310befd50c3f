//! The command line, as clap derive types. `main` parses these and calls [`super::run`].

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "lacrima",
    version,
    about = "Mixed-methods qualitative coding of survey answers"
)]
pub struct Cli {
    /// The project file.
    #[arg(
        short,
        long,
        global = true,
        env = "LACRIMA_PROJECT",
        default_value = "lacrima.db"
    )]
    pub project: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create an empty project.
    Init,
    /// Import a survey (CSV, TSV or XLSX; a later import adds a wave), or a REFI-QDA project
    /// with `import qdpx FILE`.
    Import(Box<ImportArgs>),
    /// Summarise the project: respondents, questions, variables, codes, coders.
    Info {
        #[arg(long, value_enum, default_value = "table")]
        format: SummaryFormat,
    },
    /// Import or export the codebook.
    #[command(subcommand)]
    Codebook(CodebookCommand),
    /// Import or export codings.
    #[command(subcommand)]
    Codings(CodingsCommand),
    /// Export data from the project.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Relate codes to a variable (crosstabs or group comparisons), or count codes.
    Analyze(AnalyzeArgs),
    /// Which codes are applied to the same answers: counts and Jaccard similarity.
    Cooccur(CooccurArgs),
    /// Write a consistent copy of the project, also while it is open.
    Backup { file: PathBuf },
    /// Build the demo project ./lacrima-demo.db from the synthetic TCIT survey.
    Demo,
    /// Code answers on the terminal screen, as one coder (blind to the others by default).
    Code {
        /// Your name as a coder (created on first use); without it you are asked.
        #[arg(long, env = "LACRIMA_CODER")]
        coder: Option<String>,
    },
    /// Intercoder agreement per code and overall: every standard coefficient, any number of
    /// coders.
    Agreement(super::agreement::AgreementArgs),
    /// Plan who codes what: a reproducible reliability sample for every coder, the rest split.
    Assign(super::assign::AssignArgs),
    /// Build the consensus coding: pre-fill what the coders agree on, copy what one coder alone
    /// coded, report what is left.
    Consensus(super::consensus::ConsensusArgs),
    /// Settle the coders' disagreements into the consensus, on the terminal screen.
    Review(super::review::ReviewArgs),
    /// Code by pattern: a regex for one code or a dictionary of code,pattern lines; --dry-run
    /// counts and shows samples first.
    Autocode(super::autocode::AutocodeArgs),
    /// Merge a coder's copy of the project (made with cp or lacrima backup) back into it:
    /// codings, review marks, memos and codebook changes made since the copies parted.
    Merge(MergeArgs),
    /// Take back a coder's latest action, as `u` does on the coding screen.
    Undo(UndoArgs),
    /// Do again what a coder's latest undo took back, as Ctrl-r does on the coding screen.
    Redo(UndoArgs),
    /// A report for publication: summary, codebook, frequencies, agreement, codes by variables
    /// and example quotes, as one self-contained HTML file (charts included) or Markdown.
    Report(ReportArgs),
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// html (one self-contained file) or md (Markdown for GitHub). Default: md when --out ends
    /// in .md, else html.
    #[arg(long, value_enum)]
    pub format: Option<DocumentFormat>,
    /// Relate the codes to this variable (numeric or categorical); repeat, or give a comma list,
    /// for several.
    #[arg(long)]
    pub by: Vec<String>,
    /// Whose codings the frequencies, analyses and quotes use (default: the consensus coder,
    /// else the only coder). Agreement compares every coder who rated answers.
    #[arg(long)]
    pub coder: Option<String>,
    /// Only this question's answers (default: all questions).
    #[arg(long)]
    pub question: Option<String>,
    /// Example quotes per code: the first N coded segments in survey order.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub quotes: u32,
    /// Leave every answer's text out (quotes and the codebook's examples), for confidential
    /// data.
    #[arg(long, conflicts_with = "quotes")]
    pub no_quotes: bool,
    /// Add 95% bootstrap intervals for every alpha, as `lacrima agreement --ci` computes them.
    #[arg(long)]
    pub ci: bool,
    /// Bootstrap resamples for --ci.
    #[arg(long, default_value_t = 1000, requires = "ci",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub bootstrap: u32,
    /// Seed of the bootstrap's random numbers (the same seed gives the same intervals).
    #[arg(long, default_value_t = 1, requires = "ci")]
    pub seed: u64,
    /// The report's title (default: "Coding report: " and the project's file name).
    #[arg(long)]
    pub title: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentFormat {
    Html,
    Md,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub from: Option<ImportFrom>,
    /// The survey file (CSV, TSV or XLSX).
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// The column that identifies respondents (default: id, ResponseId or resp_id).
    #[arg(long)]
    pub id: Option<String>,
    /// Open-ended columns to code (comma list, or repeat the option).
    #[arg(long)]
    pub open: Vec<String>,
    /// Columns to read as numbers.
    #[arg(long)]
    pub numeric: Vec<String>,
    /// Columns to read as categories.
    #[arg(long)]
    pub categorical: Vec<String>,
    /// Columns to keep as free text.
    #[arg(long)]
    pub text: Vec<String>,
    /// Columns to read as ISO 8601 dates.
    #[arg(long)]
    pub date: Vec<String>,
    /// Columns to leave out.
    #[arg(long)]
    pub skip: Vec<String>,
    /// Level order of a categorical variable: VAR=a,b,c (repeat for several variables).
    #[arg(long, allow_hyphen_values = true)]
    pub levels: Vec<String>,
    /// Extra codes that mean "missing" (besides blank, NA, N/A and ".").
    #[arg(long, allow_hyphen_values = true)]
    pub missing: Vec<String>,
    /// The sheet of an XLSX file (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// The file's encoding when it is not UTF-8 (e.g. windows-1252); UTF-16 with a BOM is detected.
    #[arg(long)]
    pub encoding: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: SummaryFormat,
}

#[derive(Subcommand, Debug)]
pub enum ImportFrom {
    /// A REFI-QDA project (.qdpx from MAXQDA, ATLAS.ti, NVivo, QualCoder, lacrima, ...) into a
    /// new project, or one without respondents: answers, respondents and their variables,
    /// codebook, coders, codings, review marks and memos. What lacrima cannot hold is listed.
    Qdpx(QdpxArgs),
}

#[derive(Args, Debug)]
pub struct QdpxArgs {
    pub file: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: SummaryFormat,
}

#[derive(Subcommand, Debug)]
pub enum CodebookCommand {
    /// Add and update codes from a CSV (by name) or a REFI-QDA codebook .qdc (by GUID, else by
    /// name); never deletes.
    Import { file: PathBuf },
    /// Write the codebook.
    Export(CodebookExportArgs),
}

#[derive(Args, Debug)]
pub struct CodebookExportArgs {
    #[arg(long, value_enum, default_value = "csv")]
    pub format: CodebookFormat,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Prefix cells that a spreadsheet would run as a formula (beginning with =, +, -, @, a tab
    /// or a carriage return) with ' (CSV formats; the data stay exact without it).
    #[arg(long)]
    pub spreadsheet_safe: bool,
}

#[derive(Subcommand, Debug)]
pub enum CodingsCommand {
    /// Import codings from a CSV (respondent,question,coder,code,start,end,memo).
    Import { file: PathBuf },
    /// Write codings as CSV.
    Export(CodingsExportArgs),
}

#[derive(Args, Debug)]
pub struct CodingsExportArgs {
    /// Only this coder's codings.
    #[arg(long)]
    pub coder: Option<String>,
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Prefix cells that a spreadsheet would run as a formula (beginning with =, +, -, @, a tab
    /// or a carriage return) with ' (CSV formats; the data stay exact without it).
    #[arg(long)]
    pub spreadsheet_safe: bool,
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The codebook (same as `lacrima codebook export`).
    Codebook(CodebookExportArgs),
    /// The codings (same as `lacrima codings export`).
    Codings(CodingsExportArgs),
    /// The coded dataset for R, SPSS, Stata or pandas: wide, long or JSON.
    Dataset(DatasetArgs),
    /// The whole project as a REFI-QDA project (.qdpx) for MAXQDA, ATLAS.ti, NVivo, QDA Miner,
    /// QualCoder and others.
    Qdpx(QdpxExportArgs),
}

#[derive(Args, Debug)]
pub struct QdpxExportArgs {
    /// The .qdpx file to write (a ZIP; written beside and renamed into place).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: SummaryFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Csv,
    Json,
}

/// Summaries have several sections of different shapes: a table for people, JSON for scripts.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryFormat {
    Table,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodebookFormat {
    Csv,
    Md,
    Json,
    /// REFI-QDA codebook exchange file.
    Qdc,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The variable to relate the codes to (numeric or categorical); without it, code frequencies.
    #[arg(long)]
    pub by: Option<String>,
    /// Only this question's answers (default: all questions).
    #[arg(long)]
    pub question: Option<String>,
    /// Whose codings (default: the consensus coder, else the only coder).
    #[arg(long)]
    pub coder: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Open the analysis screen: bars per code and level, sortable by q, with the answers
    /// behind every cell.
    #[arg(long, conflicts_with = "format")]
    pub screen: bool,
    /// Print the results as bar charts in the terminal (percent coded per level; means with and
    /// without each code; frequencies without --by).
    #[arg(long, conflicts_with_all = ["format", "screen"])]
    pub plot: bool,
}

#[derive(Args, Debug)]
pub struct CooccurArgs {
    /// Only this question's answers (default: all questions).
    #[arg(long)]
    pub question: Option<String>,
    /// Whose codings (default: the consensus coder, else the only coder).
    #[arg(long)]
    pub coder: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
}

#[derive(Args, Debug)]
pub struct DatasetArgs {
    /// csv-wide: one row per respondent with 0/1 code columns; csv-long: one row per coding;
    /// json: respondents with their answers and codings.
    #[arg(long, value_enum, default_value = "csv-wide")]
    pub format: DatasetFormat,
    /// Write to this file instead of standard output (csv-wide also writes FILE's
    /// .dictionary.csv beside it).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Whose codings (csv-wide default: the consensus coder, else the only coder; the other
    /// formats default to every coder).
    #[arg(long)]
    pub coder: Option<String>,
    /// Only this question's answers and code columns.
    #[arg(long)]
    pub question: Option<String>,
    /// Variables (or the ID column) to leave out (comma list, or repeat the option).
    #[arg(long)]
    pub exclude_vars: Vec<String>,
    /// Column names that fit Stata and SPSS (at most 32 characters, letters, digits and _).
    #[arg(long)]
    pub short_names: bool,
    /// Prefix cells that a spreadsheet would run as a formula (beginning with =, +, -, @, a tab
    /// or a carriage return) with ' (CSV formats; the data stay exact without it).
    #[arg(long)]
    pub spreadsheet_safe: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetFormat {
    CsvWide,
    CsvLong,
    Json,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The copy to merge from. It is only read, never changed.
    #[arg(required_unless_present = "undo")]
    pub other: Option<PathBuf>,
    /// Report what the merge would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Only these coders' codings, review marks and memos (comma list, or repeat the option);
    /// the codebook is always merged.
    #[arg(long)]
    pub coders: Vec<String>,
    /// Settle every conflict with this project's version (mine) or the copy's (theirs); without
    /// it conflicts are listed and left as they are.
    #[arg(long, value_enum)]
    pub prefer: Option<PreferArg>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: SummaryFormat,
    /// Take back the latest merge, all of it (refused if anything it changed has changed since).
    #[arg(long, conflicts_with_all = ["other", "dry_run", "coders", "prefer"])]
    pub undo: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreferArg {
    Mine,
    Theirs,
}

#[derive(Args, Debug)]
pub struct UndoArgs {
    /// Whose action: the coder's name.
    #[arg(long, env = "LACRIMA_CODER")]
    pub coder: String,
}
