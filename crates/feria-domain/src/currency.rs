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

    /// The sign written before amounts in Spanish text: `$` where it is the local one.
    pub fn symbol(self) -> &'static str {
        match self {
            Currency::ARS | Currency::CLP | Currency::COP | Currency::MXN | Currency::UYU => "$",
            Currency::USD => "US$",
            Currency::BRL => "R$",
            Currency::PEN => "S/",
            Currency::EUR => "€",
            Currency::AED => "AED ",
        }
    }

    /// `amount` (minor units) as a reader in Latin America writes it: `$15.800`, `$1.234,50`.
    pub fn display(self, amount: i64) -> String {
        let exponent = self.exponent();
        let scale = 10u64.pow(exponent);
        let abs = amount.unsigned_abs();
        let whole = (abs / scale).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(digit);
        }
        let sign = if amount < 0 { "-" } else { "" };
        match abs % scale {
            0 => format!("{sign}{}{grouped}", self.symbol()),
            cents => format!("{sign}{}{grouped},{cents:0width$}", self.symbol(), width = exponent as usize),
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

    #[test]
    fn amounts_are_written_as_spanish_readers_expect() {
        assert_eq!(Currency::ARS.display(1_580_000), "$15.800");
        assert_eq!(Currency::ARS.display(123_450), "$1.234,50");
        assert_eq!(Currency::ARS.display(5), "$0,05");
        assert_eq!(Currency::CLP.display(1_234_567), "$1.234.567");
        assert_eq!(Currency::USD.display(-99_900), "-US$999");
    }
}
