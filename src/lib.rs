//! lacrima: mixed-methods qualitative coding of survey answers in the terminal.
//!
//! Data flows one way: files -> [`import`] -> [`store`] -> ([`agreement`] | [`analysis`] |
//! [`export`]) -> files or screen. Only [`store`] speaks SQL.

pub mod agreement;
pub mod analysis;
pub mod cli;
pub mod empty;
pub mod error;
pub mod exchange;
pub mod export;
pub mod import;
pub mod report;
pub mod store;
pub mod timefmt;
pub mod tui;

pub use error::{Error, Result};
