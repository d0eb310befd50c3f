//! lacrima: mixed-methods qualitative coding of survey answers in the terminal.
//!
//! Data flows one way: files -> [`import`] -> [`store`] -> ([`agreement`] | [`analysis`] |
//! [`export`]) -> files or screen. Only [`store`] speaks SQL. [`model`] holds what [`import`] and
//! [`store`] share, so that the store never depends on a parser.

pub mod agreement;
pub mod analysis;
pub mod autocode;
pub mod cli;
pub mod error;
pub mod exchange;
pub mod export;
pub mod import;
pub mod model;
pub mod publish;
pub mod report;
pub mod store;
pub mod timefmt;
pub mod tui;

pub use error::{Error, Result};
