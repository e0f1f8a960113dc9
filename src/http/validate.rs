//! Input checks that collect every field problem before answering 422.

use super::error::{ApiError, FieldError};
use feria_domain::decimal::DecimalText;
use feria_domain::pricing::MAX_QUANTITY;

/// Collects field problems; [`Validator::finish`] turns them into one 422.
#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Validator {
        Validator::default()
    }

    /// Records a problem with `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// A required text: present, trimmed, within `min..=max` characters. Returns the trimmed text.
    pub fn text(&mut self, field: &str, value: Option<&str>, min: usize, max: usize) -> String {
        match value.map(str::trim) {
            None | Some("") => {
                self.add(field, "Es obligatorio");
                String::new()
            }
            Some(v) => {
                self.text_len(field, v, min, max);
                v.to_string()
            }
        }
    }

    /// An optional RFC 3339 time (blank: none).
    pub fn time(&mut self, field: &str, value: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
        let value = value.map(str::trim).filter(|t| !t.is_empty())?;
        match chrono::DateTime::parse_from_rfc3339(value) {
            Ok(t) => Some(t.with_timezone(&chrono::Utc)),
            Err(_) => {
                self.add(field, "Debe ser una fecha RFC 3339");
                None
            }
        }
    }

    /// An optional text within `min..=max` characters when present. Returns it trimmed.
    pub fn optional_text(&mut self, field: &str, value: Option<&str>, min: usize, max: usize) -> Option<String> {
        let v = value.map(str::trim)?;
        self.text_len(field, v, min, max);
        Some(v.to_string())
    }

    /// A text that can be cleared: absent keeps (`None`), `null` or blank clears (`Some(None)`),
    /// otherwise at most `max` characters, trimmed.
    pub fn clearable_text(&mut self, field: &str, value: Option<Option<String>>, max: usize) -> Option<Option<String>> {
        value.map(|text| text.and_then(|t| self.optional_text(field, Some(&t), 0, max)).filter(|t| !t.is_empty()))
    }

    fn text_len(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min {
            self.add(field, format!("Debe tener al menos {min} caracteres"));
        } else if len > max {
            self.add(field, format!("Debe tener como máximo {max} caracteres"));
        }
    }

    /// A required email address, returned trimmed and lower-cased.
    pub fn email(&mut self, field: &str, value: Option<&str>) -> String {
        let email = self.text(field, value, 3, 254).to_lowercase();
        if (3..=254).contains(&email.chars().count()) && !is_email(&email) {
            self.add(field, "No es un email válido");
        }
        email
    }

    /// An identifier code (`PENDING`, `BANK_TRANSFER`): 2–30 of `A-Z`, `0-9`, `_`, upper-cased
    /// first. `None` when absent (recorded as a problem when `required`) or invalid.
    pub fn code(&mut self, field: &str, value: Option<&str>, required: bool) -> Option<String> {
        let code = match value.map(|c| c.trim().to_uppercase()) {
            None => {
                if required {
                    self.add(field, "Es obligatorio");
                }
                return None;
            }
            Some(code) => code,
        };
        if (2..=30).contains(&code.len()) && code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
            Some(code)
        } else {
            self.add(field, "Debe tener de 2 a 30 caracteres: letras A-Z, dígitos o _");
            None
        }
    }

    /// A non-negative decimal scaled by 10^`exponent` (`"12.5"` with 2 → 1250), when present.
    pub fn decimal(&mut self, field: &str, value: Option<&DecimalText>, exponent: u32) -> Option<i64> {
        match feria_domain::money::parse_scaled(&value?.0, exponent) {
            Ok(n) => Some(n),
            Err(e) => {
                self.add(field, format!("El valor {e}"));
                None
            }
        }
    }

    /// A required quantity of units: a whole number from `min` to [`MAX_QUANTITY`].
    pub fn quantity(&mut self, field: &str, value: Option<&DecimalText>, min: i64) -> Option<i64> {
        if value.is_none() {
            self.add(field, "Es obligatorio");
            return None;
        }
        let n = self.decimal(field, value, 0)?;
        if !(min..=MAX_QUANTITY).contains(&n) {
            self.add(field, format!("Debe ser un número entero entre {min} y {MAX_QUANTITY}"));
            return None;
        }
        Some(n)
    }

    /// A required password of at least 6 characters (seed 001), at most 128. Not trimmed.
    pub fn password(&mut self, field: &str, value: Option<&str>) -> String {
        match value {
            None | Some("") => self.add(field, "Es obligatorio"),
            Some(p) if p.chars().count() < 6 => self.add(field, "Debe tener al menos 6 caracteres"),
            Some(p) if p.chars().count() > 128 => self.add(field, "Debe tener como máximo 128 caracteres"),
            Some(_) => {}
        }
        value.unwrap_or_default().to_string()
    }

    /// `Ok` when nothing was recorded, else a 422 listing every problem.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::validation(self.errors)) }
    }
}

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.len() <= 254
}

/// A phone: 6–20 of digits, spaces, `+`, `-`, `(`, `)`, with at least 6 digits.
pub fn is_phone(p: &str) -> bool {
    (6..=20).contains(&p.chars().count())
        && p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
        && p.chars().filter(char::is_ascii_digit).count() >= 6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_email("ana@tienda.com.ar"));
        for bad in ["ana", "ana@", "@x.io", "ana@x", "a b@x.io", "a@b@x.io", "ana@x."] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn collects_every_problem() {
        let mut v = Validator::new();
        v.text("name", None, 1, 10);
        v.email("email", Some("nope"));
        v.password("password", Some("123"));
        let err = v.finish().unwrap_err();
        let fields: Vec<_> = err.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["name", "email", "password"]);
    }
}
