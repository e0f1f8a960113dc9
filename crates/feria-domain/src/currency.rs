//! Currencies feria sells in, with their ISO 4217 minor-unit exponent.

use serde::{Deserialize, Serialize};

/// An ISO 4217 currency feria supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    ARS,
    BRL,
    CLP,
    COP,
    MXN,
    PEN,
    UYU,
    USD,
    EUR,
    AED,
}

impl Currency {
    /// Every supported currency.
    pub const ALL: [Currency; 10] = [
        Currency::ARS,
        Currency::BRL,
        Currency::CLP,
        Currency::COP,
        Currency::MXN,
        Currency::PEN,
        Currency::UYU,
        Currency::USD,
        Currency::EUR,
        Currency::AED,
    ];

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::ARS => "ARS",
            Currency::BRL => "BRL",
            Currency::CLP => "CLP",
            Currency::COP => "COP",
            Currency::MXN => "MXN",
            Currency::PEN => "PEN",
            Currency::UYU => "UYU",
            Currency::USD => "USD",
            Currency::EUR => "EUR",
            Currency::AED => "AED",
        }
    }

    /// Digits after the decimal point in amounts (ISO 4217 minor unit): CLP has none.
    pub fn exponent(self) -> u32 {
        match self {
            Currency::CLP => 0,
            _ => 2,
        }
    }

    /// Parses a code, case-insensitively.
    pub fn parse(code: &str) -> Option<Currency> {
        Currency::ALL.into_iter().find(|c| c.code().eq_ignore_ascii_case(code.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_exponents() {
        for c in Currency::ALL {
            assert_eq!(Currency::parse(&c.code().to_lowercase()), Some(c));
        }
        assert_eq!(Currency::CLP.exponent(), 0);
        assert_eq!(Currency::ARS.exponent(), 2);
        assert_eq!(Currency::parse("XXX"), None);
    }
}
