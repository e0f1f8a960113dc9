//! Decimal numbers in JSON kept as exact text: read without passing through a float, written
//! as JSON numbers from exact text.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A number as the client sent it (a JSON number, or a string holding one), as its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalText(pub String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Box<RawValue> = Deserialize::deserialize(deserializer)?;
        let text = raw.get().trim();
        if text.starts_with('"') {
            let inner: String = serde_json::from_str(text).map_err(D::Error::custom)?;
            return Ok(DecimalText(inner));
        }
        if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return Ok(DecimalText(text.to_string()));
        }
        Err(D::Error::custom("expected a number"))
    }
}

/// An exact decimal written as a JSON number (`12.5`), never through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalOut(pub String);

impl DecimalOut {
    /// The decimal `value / 10^exponent`.
    pub fn scaled(value: i64, exponent: u32) -> DecimalOut {
        DecimalOut(crate::money::format_scaled(value, exponent))
    }
}

impl Serialize for DecimalOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RawValue::from_string(self.0.clone()).map_err(serde::ser::Error::custom)?.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_and_strings_exactly_and_writes_numbers() {
        #[derive(Deserialize)]
        struct Body {
            price: DecimalText,
        }
        let parse = |s: &str| serde_json::from_str::<Body>(s).map(|b| b.price.0);
        assert_eq!(parse(r#"{"price": 0.1}"#).unwrap(), "0.1");
        assert_eq!(parse(r#"{"price": 1234567.89}"#).unwrap(), "1234567.89");
        assert_eq!(parse(r#"{"price": "12.50"}"#).unwrap(), "12.50");
        assert!(parse(r#"{"price": true}"#).is_err());
        let out = serde_json::to_string(&serde_json::json!({"p": serde_json::to_value(DecimalOut::scaled(1250, 2)).unwrap()})).unwrap();
        assert_eq!(out, r#"{"p":12.5}"#);
    }
}
