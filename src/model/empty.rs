//! What counts as an empty answer and as a missing value (DESIGN sections 4 and 5).

/// An answer is empty when, trimmed and compared case-insensitively, it is one of these. Empty
/// answers are stored but not offered for coding; "none", "nothing" and "don't know" are answers.
pub fn is_empty_answer(text: &str) -> bool {
    let t = text.trim();
    t.is_empty()
        || ["n/a", "na", "-", ".", "?"]
            .iter()
            .any(|e| t.eq_ignore_ascii_case(e))
}

/// A variable value is missing when blank, NA, N/A, "." or one of the user's `--missing` codes.
pub fn is_missing_value(value: &str, extra: &[String]) -> bool {
    let t = value.trim();
    t.is_empty()
        || t == "."
        || t.eq_ignore_ascii_case("na")
        || t.eq_ignore_ascii_case("n/a")
        || extra.iter().any(|m| m == t)
}

/// Line endings are stored as LF so that offsets mean the same on every platform.
pub fn normalize_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_empty_but_real_short_answers_are_not() {
        for e in ["", "  ", "N/A", "n/a", "NA", "-", ".", "?", " ? "] {
            assert!(is_empty_answer(e), "{e:?} should be empty");
        }
        for a in ["none", "Nothing", "don't know", "no", "0"] {
            assert!(!is_empty_answer(a), "{a:?} is a real answer");
        }
    }

    #[test]
    fn missing_values_include_user_codes() {
        let extra = vec!["-99".to_string()];
        assert!(is_missing_value("-99", &extra));
        assert!(is_missing_value("NA", &extra));
        assert!(!is_missing_value("-98", &extra));
    }
}
