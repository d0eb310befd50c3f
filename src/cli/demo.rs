//! `lacrima demo`: (re)builds ./lacrima-demo.db from the synthetic TCIT fixtures that are compiled
//! into the binary, so it works from any folder on a fresh machine.

use crate::error::{Error, Result};
use crate::import::survey::{SurveyOptions, import_survey};
use crate::store::Store;
use std::path::{Path, PathBuf};

pub const DEMO_FILE: &str = "lacrima-demo.db";
const SURVEY: &[u8] = include_bytes!("../../fixtures/tcit_survey.csv");
const CODEBOOK: &[u8] = include_bytes!("../../fixtures/tcit_codebook.csv");
const CODINGS: &[u8] = include_bytes!("../../fixtures/tcit_codings.csv");
pub const OPEN_QUESTIONS: [&str; 3] = [
    "consequence_client",
    "consequence_relationship",
    "consequence_therapist",
];

pub fn run() -> Result<()> {
    let target = PathBuf::from(DEMO_FILE);
    build(&target)?;
    let mut out = format!(
        "built {} from the synthetic TCIT survey\n",
        target.display()
    );
    out.push_str(&format!(
        "look at it:   lacrima -p {DEMO_FILE} info\n\
         its codings: lacrima -p {DEMO_FILE} codings export\n\
         code in it:  lacrima -p {DEMO_FILE} code --coder demo\n"
    ));
    // On a terminal the demo opens the coding screen; in scripts and pipes it only says how.
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        let coder = std::env::var("LACRIMA_CODER")
            .ok()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| "demo".to_string());
        crate::tui::run(&target, &coder)?;
    }
    super::stdout_line(&out)
}

/// Builds the demo project at `target`, replacing only an earlier demo project.
pub fn build(target: &Path) -> Result<()> {
    if target.exists() {
        let is_demo = Store::open(target)
            .ok()
            .and_then(|s| s.meta("demo").ok().flatten())
            .is_some_and(|v| v == "1");
        if !is_demo {
            return Err(Error::input(format!(
                "{} exists and is not a demo project; move it away to build the demo",
                target.display()
            )));
        }
    }
    let tmp = crate::store::sibling_temp(target);
    crate::store::remove_project_files(&tmp);
    let built = fill(&tmp).and_then(|_| {
        if target.exists() {
            // The earlier demo may be open in a coding screen: it is overwritten through SQLite
            // (which takes the locks and tells the open connections), never deleted under them.
            Store::open(target)?.replace_with(&tmp)
        } else {
            std::fs::rename(&tmp, target).map_err(|e| Error::io(target, e))
        }
    });
    crate::store::remove_project_files(&tmp);
    built
}

fn fill(path: &Path) -> Result<()> {
    let mut store = Store::create(path)?;
    store.set_meta("demo", "1")?;
    let survey_file = std::env::temp_dir().join(format!("lacrima-demo-{}.csv", std::process::id()));
    std::fs::write(&survey_file, SURVEY).map_err(|e| Error::io(&survey_file, e))?;
    let opts = SurveyOptions {
        id: Some("resp_id".into()),
        open: OPEN_QUESTIONS.iter().map(|s| s.to_string()).collect(),
        fresh_project: true,
        ..Default::default()
    };
    let imported = import_survey(&mut store, &survey_file, &opts);
    let _ = std::fs::remove_file(&survey_file);
    imported?;
    let entries = crate::import::codebook::read_codebook_csv(CODEBOOK, "tcit_codebook.csv")?;
    store.apply_codebook(&entries, "tcit_codebook.csv")?;
    let rows = crate::import::codings::read_codings_csv(CODINGS, "tcit_codings.csv")?;
    store.import_codings(&rows, "tcit_codings.csv")?;
    store.checkpoint()?;
    Ok(())
}
