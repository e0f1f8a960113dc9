//! UTC timestamps. Stored as fixed-width RFC 3339 text (`2026-01-02T03:04:05.678901Z`), which
//! sorts chronologically as plain text on both databases.

use chrono::{DateTime, SecondsFormat, Utc};

/// A point in time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// The current time.
pub fn now() -> Timestamp {
    Utc::now()
}

/// The storage (and API) form of a timestamp: RFC 3339, microseconds, `Z`.
pub fn to_db(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses the storage form back; `None` when the text is not RFC 3339.
pub fn from_db(s: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_form_is_fixed_width_and_sortable() {
        let a = chrono::DateTime::from_timestamp(1, 0).unwrap();
        let b = chrono::DateTime::from_timestamp(1_000_000_000, 5_000).unwrap();
        let (sa, sb) = (to_db(a), to_db(b));
        assert_eq!(sa.len(), sb.len());
        assert!(sa < sb);
        assert_eq!(from_db(&sb), Some(b));
        assert_eq!(sa, "1970-01-01T00:00:01.000000Z");
    }
}
