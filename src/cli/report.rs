//! `lacrima report`: the publishable report (issue 12). `crate::report::publication` gathers
//! the numbers with the functions `analyze` and `agreement` use, `crate::publish` lays them out
//! and renders HTML or Markdown, and the file is written like every export: private, and
//! renamed into place when complete.

use super::{DocumentFormat, ReportArgs, warn};
use crate::agreement::Bootstrap;
use crate::error::Result;
use crate::export::{Output, write_err};
use crate::publish::{DocumentOptions, document, html, markdown};
use crate::report::{AgreementSection, PublicationRequest, publication};
use crate::store::Store;
use std::io::Write;
use std::path::Path;

pub(super) fn report(project: &Path, a: &ReportArgs) -> Result<()> {
    let format = a.format.unwrap_or_else(|| match &a.out {
        Some(p)
            if p.extension().is_some_and(|e| {
                e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown")
            }) =>
        {
            DocumentFormat::Md
        }
        _ => DocumentFormat::Html,
    });
    let store = Store::open(project)?;
    let p = publication(
        &store,
        &PublicationRequest {
            coder: a.coder.as_deref(),
            question: a.question.as_deref(),
            by: &a.by,
            quotes: (!a.no_quotes).then_some(a.quotes as usize),
            bootstrap: a.ci.then_some(Bootstrap {
                resamples: a.bootstrap as usize,
                seed: a.seed,
            }),
        },
    )?;
    drop(store);
    // The report shows its warnings too; on the terminal they say what to look at.
    if let AgreementSection::Computed { warnings, .. } = &p.agreement {
        for w in warnings {
            warn(w);
        }
    }
    for w in &p.frequencies.warnings {
        warn(w);
    }
    let doc = document(
        &p,
        &DocumentOptions {
            title: a.title.clone(),
            project_name: project
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| project.display().to_string()),
        },
    );
    let text = match format {
        DocumentFormat::Html => html::render(&doc),
        DocumentFormat::Md => markdown::render(&doc),
    };
    let mut out = Output::open(a.out.as_deref())?;
    out.write_all(text.as_bytes()).map_err(write_err)?;
    out.finish()
}
