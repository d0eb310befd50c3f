//! What a REFI-QDA export reads beyond the dataset export's queries: the project's GUID, the
//! shape of each variable's values (for QDA-XML's typed variables), and one snapshot around the
//! whole export so that a coder working meanwhile cannot make the file contradict itself.

use super::quote_ident;
use super::{DatasetVariable, Store, VariableKind};
use crate::error::Result;

/// How a variable's values can be typed in QDA-XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueShape {
    Integer,
    Float,
    Date,
    Text,
}

impl Store {
    /// Runs `f` inside one read transaction: every read `f` makes sees the same state.
    pub fn in_snapshot<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let tx = self.conn().unchecked_transaction()?;
        let out = f()?;
        tx.finish()?;
        Ok(out)
    }

    /// The project's own GUID (schema 4), from which exports derive stable GUIDs.
    pub fn project_guid(&self) -> Result<String> {
        Ok(self.meta("guid")?.unwrap_or_default())
    }

    /// The QDA-XML type a variable's values fit: numbers as integers when every value is one,
    /// dates as dates when every value is a plain calendar date.
    pub fn value_shape(&self, v: &DatasetVariable) -> Result<ValueShape> {
        let col = quote_ident(&v.column);
        let count = |condition: &str| -> Result<i64> {
            Ok(self.conn().query_row(
                &format!("SELECT count(*) FROM variable_values WHERE {col} IS NOT NULL AND NOT ({condition})"),
                [],
                |r| r.get(0),
            )?)
        };
        Ok(match v.kind {
            VariableKind::Numeric => {
                if count(&format!("typeof({col}) = 'integer'"))? == 0 {
                    ValueShape::Integer
                } else {
                    ValueShape::Float
                }
            }
            VariableKind::Date => {
                let plain = format!(
                    "typeof({col}) = 'text' AND {col} GLOB \
                     '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]' AND date({col}) = {col}"
                );
                if count(&plain)? == 0 {
                    ValueShape::Date
                } else {
                    ValueShape::Text
                }
            }
            VariableKind::Categorical | VariableKind::Text => ValueShape::Text,
        })
    }
}
