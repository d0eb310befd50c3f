//! Parsers that turn files into rows for the store. No SQL here.

pub mod codebook;
pub mod codings;
pub mod infer;
pub mod names;
pub mod source;
pub mod survey;
