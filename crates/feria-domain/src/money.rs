//! Money as integer minor units, and exact decimal text in and out: no floats anywhere.

use std::fmt;

/// Why a decimal amount was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalError {
    /// Not a plain decimal number (`12`, `12.5`, `0.99`).
    NotANumber,
    /// Below zero.
    Negative,
    /// More digits after the point than allowed.
    TooManyDecimals(u32),
    /// Above [`MAX_SCALED`] once scaled.
    TooLarge,
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecimalError::NotANumber => f.write_str("no es un número decimal"),
            DecimalError::Negative => f.write_str("no puede ser negativo"),
            DecimalError::TooManyDecimals(0) => f.write_str("no admite decimales"),
            DecimalError::TooManyDecimals(n) => write!(f, "admite como máximo {n} decimales"),
            DecimalError::TooLarge => f.write_str("es demasiado grande"),
        }
    }
}

/// The largest value a decimal may have once scaled (10^15: a quadrillion minor units, grams
/// or units of stock). Beyond it, values are refused rather than carried into totals, and every
/// amount stays exact as a JSON number in any client.
pub const MAX_SCALED: i64 = 1_000_000_000_000_000;

/// Parses a non-negative decimal text into an integer scaled by 10^`exponent`:
/// `parse_scaled("12.5", 2) == Ok(1250)`. Rejects exponents, signs other than none, and more
/// than `exponent` decimals (trailing zeros beyond them are fine: `"12.500"` with 2 → 1250).
pub fn parse_scaled(text: &str, exponent: u32) -> Result<i64, DecimalError> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(DecimalError::Negative);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || (text.contains('.') && fraction.is_empty()) {
        return Err(DecimalError::NotANumber);
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > exponent as usize {
        return Err(DecimalError::TooManyDecimals(exponent));
    }
    let scale = 10i64.checked_pow(exponent).ok_or(DecimalError::TooLarge)?;
    let whole: i64 = whole.parse().map_err(|_| DecimalError::TooLarge)?;
    let fraction_value: i64 = if fraction.is_empty() { 0 } else { fraction.parse().map_err(|_| DecimalError::NotANumber)? };
    let fraction_scaled = fraction_value * 10i64.pow(exponent - fraction.len() as u32);
    whole.checked_mul(scale).and_then(|w| w.checked_add(fraction_scaled)).filter(|v| *v <= MAX_SCALED).ok_or(DecimalError::TooLarge)
}

/// Formats an integer scaled by 10^`exponent` as the shortest exact decimal text:
/// `format_scaled(1250, 2) == "12.5"`, `format_scaled(1200, 2) == "12"`.
pub fn format_scaled(value: i64, exponent: u32) -> String {
    let scale = 10i64.pow(exponent);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let (whole, fraction) = (abs / scale as u64, abs % scale as u64);
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = format!("{fraction:0width$}", width = exponent as usize);
    format!("{sign}{whole}.{}", fraction.trim_end_matches('0'))
}

/// `amount × (1 + rate)` rounded half-up, with `rate` in basis points of a percent
/// (21 % = 2100): the price with tax from the net price, in the same minor units.
pub fn add_tax(amount: i64, rate_basis_points: i64) -> i64 {
    let gross = i128::from(amount) * i128::from(10_000 + rate_basis_points);
    ((gross + 5_000).div_euclid(10_000)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        assert_eq!(parse_scaled("12.5", 2), Ok(1250));
        assert_eq!(parse_scaled("0.99", 2), Ok(99));
        assert_eq!(parse_scaled("12", 2), Ok(1200));
        assert_eq!(parse_scaled("12.500", 2), Ok(1250));
        assert_eq!(parse_scaled("1500", 0), Ok(1500));
        assert_eq!(parse_scaled("0.1", 2), Ok(10));
        assert_eq!(parse_scaled("12.345", 2), Err(DecimalError::TooManyDecimals(2)));
        assert_eq!(parse_scaled("1.5", 0), Err(DecimalError::TooManyDecimals(0)));
        assert_eq!(parse_scaled("-1", 2), Err(DecimalError::Negative));
        for bad in ["", "abc", "1e3", "1.", ".5", "1,5", "+1", "1.2.3"] {
            assert_eq!(parse_scaled(bad, 2), Err(DecimalError::NotANumber), "{bad}");
        }
        assert_eq!(parse_scaled("99999999999999999999", 2), Err(DecimalError::TooLarge));
    }

    #[test]
    fn formats_shortest_exact() {
        assert_eq!(format_scaled(1250, 2), "12.5");
        assert_eq!(format_scaled(1200, 2), "12");
        assert_eq!(format_scaled(7, 2), "0.07");
        assert_eq!(format_scaled(1500, 0), "1500");
        assert_eq!(format_scaled(-1050, 2), "-10.5");
        for v in [0, 1, 99, 100, 123_456_789] {
            assert_eq!(parse_scaled(&format_scaled(v, 2), 2), Ok(v));
        }
    }

    #[test]
    fn tax_rounds_half_up() {
        assert_eq!(add_tax(10_000, 2100), 12_100);
        assert_eq!(add_tax(5_000, 1050), 5_525);
        assert_eq!(add_tax(1, 2100), 1, "1.21 rounds to 1");
        assert_eq!(add_tax(50, 1000), 55);
        assert_eq!(add_tax(5, 1000), 6, "5.5 rounds up");
        assert_eq!(add_tax(999, 0), 999);
    }
}
