//! Timestamps as stored in the project: UTC, ISO 8601, whole seconds.

use time::OffsetDateTime;
use time::macros::format_description;

pub fn now() -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}
