//! Identifiers: time-ordered UUIDv7, stored and sent as strings.

/// A new time-ordered id (UUIDv7) as its hyphenated lower-case string.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// True when `s` is a well-formed UUID string (any version); used to reject bad path ids early.
pub fn is_valid_id(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_and_valid() {
        let a = new_id();
        let b = new_id();
        assert!(a < b, "{a} should sort before {b}");
        assert!(is_valid_id(&a));
        assert!(!is_valid_id("not-an-id"));
    }
}
