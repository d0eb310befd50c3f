//! Inferring a variable's kind from its values (DESIGN section 5): numeric when every non-missing
//! value is a number, date when every one is ISO 8601, categorical with at most 20 distinct values,
//! text otherwise.

use crate::model::number::parse_number;
use crate::store::VariableKind;
use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};

pub const MAX_CATEGORICAL_LEVELS: usize = 20;

/// What one pass over a column learns.
#[derive(Debug, Default, Clone)]
pub struct ColumnStats {
    pub present: u64,
    pub missing: u64,
    /// The first value that is not a number, with its line.
    pub first_non_numeric: Option<(u64, String)>,
    pub first_non_date: Option<(u64, String)>,
    /// Distinct values while there are at most MAX_CATEGORICAL_LEVELS + 1 of them.
    pub distinct: Option<BTreeSet<String>>,
    pub total_chars: u64,
    /// Hashes of the first values, to judge how unique a column's texts are.
    sample: HashSet<u64>,
    sampled: u64,
    /// Stop collecting distinct values past MAX_CATEGORICAL_LEVELS.
    bounded: bool,
    /// Values of a column still being learned that were stored as numbers...
    pub numbers_as_numbers: u64,
    /// ...of which were not written in plain form ("007", "4.50"), so that their text cannot be
    /// recovered from the number.
    pub numbers_not_plain: u64,
}

const SAMPLE: u64 = 2000;

impl ColumnStats {
    /// `bounded`: forget distinct values once there are too many for a categorical variable.
    pub fn new(bounded: bool) -> Self {
        ColumnStats {
            distinct: Some(BTreeSet::new()),
            bounded,
            ..Default::default()
        }
    }

    pub fn observe(&mut self, line: u64, value: &str, missing: bool) {
        let is_number = !missing && parse_number(value).is_some();
        self.observe_parsed(line, value, missing, is_number);
    }

    /// As [`observe`](Self::observe), for a caller that has already tried to parse the value.
    pub fn observe_parsed(&mut self, line: u64, value: &str, missing: bool, is_number: bool) {
        if missing {
            self.missing += 1;
            return;
        }
        self.present += 1;
        self.total_chars += value.len() as u64;
        if self.first_non_numeric.is_none() && !is_number {
            self.first_non_numeric = Some((line, value.to_string()));
        }
        if self.first_non_date.is_none() && !is_iso_date(value) {
            self.first_non_date = Some((line, value.to_string()));
        }
        if let Some(d) = &mut self.distinct
            && !d.contains(value)
        {
            d.insert(value.to_string());
            if self.bounded && d.len() > MAX_CATEGORICAL_LEVELS {
                self.distinct = None;
            }
        }
        if self.sampled < SAMPLE {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            value.hash(&mut h);
            self.sample.insert(h.finish());
            self.sampled += 1;
        }
    }

    pub fn inferred_kind(&self) -> VariableKind {
        if self.present == 0 {
            VariableKind::Text
        } else if self.first_non_numeric.is_none() {
            VariableKind::Numeric
        } else if self.first_non_date.is_none() {
            VariableKind::Date
        } else if self
            .distinct
            .as_ref()
            .is_some_and(|d| d.len() <= MAX_CATEGORICAL_LEVELS)
        {
            VariableKind::Categorical
        } else {
            VariableKind::Text
        }
    }

    /// Long, mostly unique texts: what open-ended answers look like.
    pub fn looks_open_ended(&self) -> bool {
        self.present > 0
            && self
                .distinct
                .as_ref()
                .is_none_or(|d| d.len() > MAX_CATEGORICAL_LEVELS)
            && self.total_chars / self.present >= 15
            && self.sample.len() as f64 >= 0.5 * self.sampled as f64
    }

    /// Every value present and distinct so far: a possible ID column.
    pub fn looks_like_id(&self) -> bool {
        self.missing == 0 && self.sampled > 0 && self.sample.len() as u64 == self.sampled
    }
}

/// ISO 8601 dates and date-times: 2024-03-01, 2024-03-01T10:15, 2024-03-01 10:15:00Z, ...
pub fn is_iso_date(s: &str) -> bool {
    let t = s.trim();
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return false;
    }
    let year: i32 = t[0..4].parse().unwrap_or(0);
    let month: u8 = t[5..7].parse().unwrap_or(0);
    let day: u8 = t[8..10].parse().unwrap_or(0);
    let Ok(month) = time::Month::try_from(month) else {
        return false;
    };
    if time::Date::from_calendar_date(year, month, day).is_err() {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    static TIME: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = TIME.get_or_init(|| {
        regex::Regex::new(r"^[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
            .expect("a valid regex")
    });
    re.is_match(&t[10..])
}

/// Natural order: "item 2" before "item 10"; digit runs compare as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let xl = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let yl = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let xs = trim_zeros(&x[..xl]);
                let ys = trim_zeros(&y[..yl]);
                let ord = xs.len().cmp(&ys.len()).then_with(|| xs.cmp(ys));
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[xl..];
                y = &y[yl..];
            }
            (Some(c), Some(d)) => {
                let ord = c.to_ascii_lowercase().cmp(&d.to_ascii_lowercase());
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|&&c| c == b'0').count();
    &d[n.min(d.len().saturating_sub(1))..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::empty::is_missing_value;

    fn kind_of(values: &[&str]) -> VariableKind {
        let mut s = ColumnStats::new(true);
        for (i, v) in values.iter().enumerate() {
            s.observe(i as u64 + 2, v, is_missing_value(v, &[]));
        }
        s.inferred_kind()
    }

    #[test]
    fn kinds_follow_the_design_rules() {
        assert_eq!(kind_of(&["1", "2.5", "NA", "-3"]), VariableKind::Numeric);
        assert_eq!(
            kind_of(&["2024-01-02", "", "2023-12-31T10:00"]),
            VariableKind::Date
        );
        assert_eq!(
            kind_of(&["CBT", "psychodynamic", "CBT"]),
            VariableKind::Categorical
        );
        let many: Vec<String> = (0..21).map(|i| format!("level {i}")).collect();
        let refs: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
        assert_eq!(kind_of(&refs), VariableKind::Text);
        assert_eq!(kind_of(&refs[..20]), VariableKind::Categorical);
    }

    #[test]
    fn impossible_dates_and_words_are_not_dates_or_numbers() {
        assert!(!is_iso_date("2024-02-30"));
        assert!(!is_iso_date("01/02/2024"));
        assert!(is_iso_date("2024-02-29"));
        assert!(parse_number("inf").is_none());
        assert!(parse_number("NaN").is_none());
        assert!(parse_number("twelve").is_none());
        assert_eq!(parse_number(" 12.5 "), Some(12.5));
    }

    #[test]
    fn levels_sort_naturally() {
        let mut v = vec!["level 10", "level 2", "Level 1", "b", "a"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, vec!["a", "b", "Level 1", "level 2", "level 10"]);
    }
}
