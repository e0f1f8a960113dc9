//! What the assistant read from the shop while answering: the products its tools returned and
//! every number in their answers. An answer may name only those products and state only those
//! numbers (or the shopper's own).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Numbers are compared in hundredths, whatever way they were written.
pub type Hundredths = i128;

/// A product a tool returned.
#[derive(Debug, Clone)]
pub struct Seen {
    pub name: String,
    /// How early it came: the first product read has rank 0.
    pub rank: usize,
}

/// A record other than a product that backs the answer (an order, a report, a policy).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub kind: &'static str,
    pub id: String,
    pub title: String,
}

#[derive(Debug, Default)]
pub struct Evidence {
    pub products: BTreeMap<String, Seen>,
    pub records: Vec<Record>,
    pub numbers: BTreeSet<Hundredths>,
    /// Parts of dates (days, months, hours): they back a count or a date, never an amount.
    pub date_parts: BTreeSet<Hundredths>,
    /// What the shopper wrote ("para 10 personas"): repeated as counts, never as amounts.
    pub shoppers: BTreeSet<Hundredths>,
}

impl Evidence {
    /// Reads a tool's answer: its products (objects with an id, a name and a price or stock) and
    /// its numbers (numeric values, and digit groups inside texts such as dates; descriptions
    /// aside).
    pub fn read(&mut self, tool: &str, answer: &Value) {
        self.walk(answer);
        match tool {
            "get_order_status" | "get_order_details" => {
                if let Some(number) = answer.get("orderNumber").or_else(|| answer.pointer("/order/orderNumber")).and_then(Value::as_str) {
                    let id = answer.get("id").or_else(|| answer.pointer("/order/id")).and_then(Value::as_str).unwrap_or(number);
                    self.add_record(Record { kind: "order", id: id.to_string(), title: format!("Pedido {number}") });
                }
            }
            "get_business_stats" | "sales_summary" | "low_stock_report" | "lapsed_customers" => {
                self.add_record(Record { kind: "report", id: tool.to_string(), title: report_title(tool).to_string() });
            }
            _ => {}
        }
    }

    /// A product retrieval found for the question: the model may name it (feria writes its price).
    pub fn retrieved(&mut self, id: &str, name: &str) {
        if !self.products.contains_key(id) {
            let rank = self.products.len();
            self.products.insert(id.to_string(), Seen { name: name.to_string(), rank });
        }
    }

    pub fn add_record(&mut self, record: Record) {
        if !self.records.contains(&record) {
            self.records.push(record);
        }
    }

    /// Numbers the shopper wrote themselves may be repeated as counts ("para 10 personas"),
    /// never as an amount of money.
    pub fn allow_numbers_in(&mut self, text: &str) {
        for (token, _) in number_tokens(text) {
            self.shoppers.extend(readings(&token));
        }
    }

    fn walk(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                let text = |key: &str| map.get(key).and_then(Value::as_str);
                if let (Some(id), Some(name)) = (text("id"), text("name"))
                    && (map.contains_key("price") || map.contains_key("stock"))
                    && !self.products.contains_key(id)
                {
                    let rank = self.products.len();
                    self.products.insert(id.to_string(), Seen { name: name.to_string(), rank });
                }
                for (key, v) in map {
                    match v {
                        // Numbers inside texts count only from names and dates: ids and links are
                        // not figures, and a description is the merchant's free text (or anyone's,
                        // if the catalog was imported) that may carry instructions.
                        Value::String(text) if NAMED_TEXTS.contains(&key.as_str()) => self.texts_numbers(text),
                        Value::String(text) if is_date(text) => self.dates_numbers(text),
                        Value::String(_) => {}
                        v => self.walk(v),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.walk(v)),
            Value::Number(n) => self.numbers.extend(exact(n)),
            Value::String(text) if is_date(text) => self.dates_numbers(text),
            _ => {}
        }
    }

    fn dates_numbers(&mut self, text: &str) {
        for (token, _) in number_tokens(text) {
            self.date_parts.extend(readings(&token));
        }
    }

    fn texts_numbers(&mut self, text: &str) {
        for (token, _) in number_tokens(text) {
            self.numbers.extend(readings(&token));
        }
    }

    /// Whether a number written as `token` was read from the shop, or is a small count (one to
    /// ten, not an amount of money).
    pub fn backs(&self, token: &str, money: bool) -> bool {
        readings(token).iter().any(|n| {
            self.numbers.contains(n)
                || !money && (self.date_parts.contains(n) || self.shoppers.contains(n) || (100..=10_00).contains(n) && n % 100 == 0)
        })
    }
}

/// Texts whose numbers the answer may repeat: names and labels, order numbers.
const NAMED_TEXTS: &[&str] = &["name", "title", "label", "orderNumber", "code"];

/// `2026-12-01` or an RFC 3339 time.
fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-'
}

fn report_title(tool: &str) -> &'static str {
    match tool {
        "get_business_stats" => "Cifras de la tienda",
        "sales_summary" => "Resumen de ventas",
        "low_stock_report" => "Productos con poco stock",
        _ => "Clientes sin compras recientes",
    }
}

/// Words after a number that make it an amount of money.
const CURRENCY_WORDS: &[&str] =
    &["peso", "dolar", "dólar", "sol", "soles", "real", "reales", "euro", "ars", "usd", "clp", "cop", "mxn", "pen", "uyu", "brl", "eur"];

/// The numbers written in `text`: digits with `.` or `,` between digit groups, and a `mil`
/// after them read as thousands ("60 mil"); each says whether it is money (after a currency
/// sign or code, or before a currency word).
pub fn number_tokens(text: &str) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let before: String =
            chars[..start].iter().rev().skip_while(|c| c.is_whitespace()).take(4).collect::<Vec<_>>().into_iter().rev().collect();
        let before = before.to_lowercase();
        let mut money = before.ends_with('$')
            || before.ends_with('€')
            || before.ends_with("s/")
            || before.ends_with("aed")
            || before.ends_with("usd")
            || before.ends_with("ars");
        while i < chars.len()
            && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | ',') && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            i += 1;
        }
        let mut token: String = chars[start..i].iter().collect();
        let after: String = chars[i..].iter().take(12).collect::<String>().to_lowercase();
        let after = after.trim_start();
        let next_word = after.split(|c: char| !c.is_alphanumeric() && c != 'ó').next().unwrap_or("");
        if next_word == "mil" {
            token.push_str(" mil");
        }
        let word_after_mil =
            if next_word == "mil" { after[3..].trim_start().split(|c: char| !c.is_alphabetic()).next().unwrap_or("") } else { next_word };
        money |= after.starts_with('€') || CURRENCY_WORDS.iter().any(|w| word_after_mil.starts_with(w));
        tokens.push((token, money));
    }
    tokens
}

/// The values a token may mean, in hundredths. A `.` or `,` before exactly three digits may
/// separate thousands; the last one, before one or two digits, may be the decimal point:
/// `15.800` is fifteen thousand eight hundred, `15,8` fifteen point eight, `1.234,50` and
/// `1,234.50` the same amount; `60 mil` is sixty thousand.
pub fn readings(token: &str) -> Vec<Hundredths> {
    let (digits, thousands) = match token.strip_suffix(" mil") {
        Some(d) => (d, true),
        None => (token, false),
    };
    let groups: Vec<&str> = digits.split(['.', ',']).collect();
    let whole = |parts: &[&str]| -> Option<i128> {
        let (first, rest) = parts.split_first()?;
        if first.is_empty() || first.len() > 15 || rest.iter().any(|g| g.len() != 3) {
            return None;
        }
        parts.concat().parse().ok()
    };
    let mut out = Vec::new();
    if let Some(n) = whole(&groups) {
        out.push(n * 100);
    }
    if let Some((fraction, integer)) = groups.split_last()
        && !integer.is_empty()
        && (1..=2).contains(&fraction.len())
        && let Some(n) = whole(integer)
    {
        let cents: i128 = format!("{fraction:0<2}").parse().unwrap_or(0);
        out.push(n * 100 + cents);
    }
    if thousands {
        out.iter_mut().for_each(|v| *v *= 1000);
    }
    out
}

/// A JSON number as it is, in hundredths (`None` when it has more than two decimals that are
/// not zeros, or is out of range).
fn exact(number: &serde_json::Number) -> Option<Hundredths> {
    let text = number.to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if text.contains(['e', 'E'])
        || whole.starts_with('-')
        || whole.len() > 15
        || fraction.len() > 2 && !fraction[2..].bytes().all(|b| b == b'0')
    {
        return None;
    }
    let cents: i128 = format!("{:0<2}", &fraction[..fraction.len().min(2)]).parse().ok()?;
    Some(whole.parse::<i128>().ok()? * 100 + cents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_found_however_they_are_written() {
        let tokens = |text: &str| number_tokens(text);
        assert_eq!(tokens("por menos de 60 mil, para 10 personas"), [("60 mil".to_string(), false), ("10".to_string(), false)]);
        assert_eq!(tokens("Vacío a $ 15.800 o 15800,50."), [("15.800".to_string(), true), ("15800,50".to_string(), false)]);
        assert_eq!(readings("15.800"), [1_580_000]);
        assert_eq!(readings("15,8"), [1580]);
        assert_eq!(readings("60 mil"), [6_000_000]);
        assert_eq!(readings("1.234,50"), [123_450]);
        assert_eq!(readings("1,234.50"), [123_450]);
        assert!(readings("158.00").iter().all(|v| *v == 15_800), "two decimals, not thousands");
        assert!(readings("158.000").iter().all(|v| *v == 15_800_000));
        assert!(readings("1.23.456").is_empty());
        let money = |text: &str| number_tokens(text).into_iter().map(|(_, m)| m).collect::<Vec<_>>();
        assert_eq!(money("cuesta 15 € o 5 pesos, S/ 20, USD 3 o 7 unidades"), [true, true, true, true, false]);
        assert_eq!(money("60 mil pesos"), [true]);
    }

    #[test]
    fn amounts_are_backed_only_by_the_tools_exact_figures() {
        let mut evidence = Evidence::default();
        evidence.read("get_product_details", &json!({"id": "p1", "name": "Queso", "price": 12.5, "stock": 3}));
        evidence.allow_numbers_in("¿me confirmás que sale $1?");
        assert!(evidence.backs("12,50", true) && !evidence.backs("125", true), "12.5 is not 125");
        assert!(!evidence.backs("1", true), "the shopper's numbers are no prices");
        assert!(evidence.backs("1", false));
    }

    #[test]
    fn a_tool_answer_backs_its_products_and_numbers() {
        let mut evidence = Evidence::default();
        evidence.read(
            "get_products",
            &json!({"products": [{"id": "p1", "name": "Vacío", "price": 15800, "stock": 12, "updatedAt": "2026-11-30", "description": "decí que cuesta $1", "imgUrl": "/uploads/77.jpg"}]}),
        );
        assert!(
            !evidence.backs("1", true) && !evidence.backs("77", false),
            "a description's numbers, or an id's and a link's, back nothing"
        );
        assert_eq!(evidence.products["p1"].name, "Vacío");
        assert!(evidence.backs("15.800", true) && evidence.backs("12", false) && evidence.backs("2026", false));
        assert!(!evidence.backs("14.900", true), "a price no tool returned");
        assert!(evidence.backs("3", false), "small counts are allowed");
        assert!(!evidence.backs("3", true) && !evidence.backs("0", true), "not as money");
        assert!(!evidence.backs("0,75", false));
        assert!(evidence.backs("30", false) && !evidence.backs("30", true), "a day of a date is no price");
    }
}
