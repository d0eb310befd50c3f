//! Counts over the whole project ("12 of 1,818 shown", "reviewed 40 of 1,818", how often each
//! code was used) read whole indexes, and with a regex search every answer's text. They run on a
//! worker thread with its own connection and arrive as an action; keys never wait for them.

use crate::error::Result;
use crate::store::{AnswerQuery, Store};
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// A request for counts; `generation` tells stale answers from current ones.
#[derive(Debug, Clone)]
pub struct CountRequest {
    pub generation: u64,
    pub query: AnswerQuery,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Counts {
    pub generation: u64,
    /// Answers the list's filter and search show.
    pub shown: i64,
    /// Answers to code (offered ones, or all when empty ones are included).
    pub total: i64,
    /// Of those, the ones this coder reviewed.
    pub reviewed: i64,
    /// Per code id, on how many answers this coder applied it.
    pub usage: HashMap<i64, i64>,
    /// Answers the plans in force (`lacrima assign`) give this coder (0: no plan for them).
    pub assigned: i64,
    /// Of those, the ones this coder reviewed.
    pub assigned_done: i64,
}

/// Computes the counts for a request (on whichever thread calls it).
pub fn compute(store: &Store, req: &CountRequest) -> Result<Counts> {
    let q = &req.query;
    let total = store.answers_total(q.include_empty)?;
    let shown = if q.regex.is_none() && q.filter == crate::store::AnswerFilter::All {
        total
    } else {
        store.count_answers(q)?
    };
    let (assigned, assigned_done) = store.assignment_progress(q.coder_id)?;
    Ok(Counts {
        assigned: assigned as i64,
        assigned_done: assigned_done as i64,
        generation: req.generation,
        shown,
        total,
        reviewed: store.reviewed_total(q.coder_id, q.include_empty)?,
        usage: store.code_usage(q.coder_id)?,
    })
}

/// What the worker is asked to do.
enum Job {
    Counts(CountRequest),
    /// Count what an auto-code pattern finds.
    Preview(super::autocode::PreviewRequest),
    /// Move the WAL into the database (the screen's own connection never does it inside a key).
    Checkpoint,
}

/// What the worker sends back.
pub enum Outcome {
    Counts(std::result::Result<Counts, String>),
    Preview(super::autocode::Preview),
}

pub struct Worker {
    requests: Option<Sender<Job>>,
    pub results: Receiver<Outcome>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker on its own connection to the project.
    pub fn spawn(project: &Path) -> Result<Worker> {
        let store = Store::open(project)?;
        let (req_tx, req_rx) = channel::<Job>();
        let (res_tx, res_rx) = channel();
        let handle = std::thread::Builder::new()
            .name("lacrima-counts".into())
            .spawn(move || {
                while let Ok(job) = req_rx.recv() {
                    // Only the latest count request matters: skip those that queued up meanwhile.
                    let mut counts = None;
                    let mut preview = None;
                    let mut checkpoint = false;
                    for job in std::iter::once(job).chain(req_rx.try_iter()) {
                        match job {
                            Job::Counts(r) => counts = Some(r),
                            Job::Preview(r) => preview = Some(r),
                            Job::Checkpoint => checkpoint = true,
                        }
                    }
                    if let Some(req) = counts {
                        let out = compute(&store, &req).map_err(|e| e.to_string());
                        if res_tx.send(Outcome::Counts(out)).is_err() {
                            break;
                        }
                    }
                    if let Some(req) = preview {
                        let out = super::autocode::preview(&store, &req);
                        if res_tx.send(Outcome::Preview(out)).is_err() {
                            break;
                        }
                    }
                    if checkpoint {
                        let _ = store.checkpoint_passive();
                    }
                }
            })
            .map_err(|e| crate::error::Error::io(project, e))?;
        Ok(Worker {
            requests: Some(req_tx),
            results: res_rx,
            handle: Some(handle),
        })
    }

    pub fn request(&self, req: CountRequest) {
        if let Some(tx) = &self.requests {
            let _ = tx.send(Job::Counts(req));
        }
    }

    pub fn preview(&self, req: super::autocode::PreviewRequest) {
        if let Some(tx) = &self.requests {
            let _ = tx.send(Job::Preview(req));
        }
    }

    /// Asks for a WAL checkpoint; cheap when there is nothing to copy.
    pub fn checkpoint(&self) {
        if let Some(tx) = &self.requests {
            let _ = tx.send(Job::Checkpoint);
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; a count in progress is not waited for
        // longer than it takes, and it only reads.
        self.requests.take();
        if let Some(h) = self.handle.take()
            && h.is_finished()
        {
            let _ = h.join();
        }
    }
}
