//! The types and value rules that the importers and the store share: a codebook entry as a file
//! gives it, what counts as an empty answer or a missing value, how a number is written as text
//! and what a colour looks like.
//!
//! They live below both so that the store, which applies them, never depends on a parser, and a
//! parser never depends on SQL. Nothing here does I/O.

pub mod codebook;
pub mod empty;
pub mod number;
