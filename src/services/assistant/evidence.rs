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

    /// Numbers the shopper wrote themselves may be repeated ("para 10 personas").
    pub fn allow_numbers_in(&mut self, text: &str) {
        for (token, _) in number_tokens(text) {
            self.numbers.extend(readings(&token));
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
            Value::Number(n) => self.numbers.extend(readings(&n.to_string())),
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
        readings(token)
            .iter()
            .any(|n| self.numbers.contains(n) || !money && (self.date_parts.contains(n) || (100..=10_00).contains(n) && n % 100 == 0))
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

/// The numbers written in `text`: digits with `.` or `,` between digit groups, and a `mil`
/// after them read as thousands ("60 mil"); each says whether it is money (after a `$`).
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
        let money = chars[..start].iter().rev().find(|c| !c.is_whitespace()).is_some_and(|c| *c == '$');
        while i < chars.len()
            && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | ',') && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            i += 1;
        }
        let mut token: String = chars[start..i].iter().collect();
        let rest: String = chars[i..].iter().take(5).collect::<String>().to_lowercase();
        if rest.trim_start().starts_with("mil") && !rest.trim_start().starts_with("mill") {
            token.push_str(" mil");
        }
        tokens.push((token, money));
    }
    tokens
}

/// The values a token may mean, in hundredths: `15.800` is fifteen thousand eight hundred in
/// Spanish and fifteen point eight in English; `60 mil` is sixty thousand.
pub fn readings(token: &str) -> Vec<Hundredths> {
    let (digits, thousands) = match token.strip_suffix(" mil") {
        Some(d) => (d, true),
        None => (token, false),
    };
    let mut out = Vec::new();
    let mut push = |whole: &str, fraction: &str| {
        if whole.is_empty() || whole.len() > 15 || fraction.len() > 2 && !fraction.bytes().skip(2).all(|b| b == b'0') {
            return;
        }
        let Ok(whole) = whole.parse::<i128>() else { return };
        let cents: i128 = format!("{:0<2}", &fraction[..fraction.len().min(2)]).parse().unwrap_or(0);
        let value = whole * 100 + cents;
        out.push(if thousands { value * 1000 } else { value });
    };
    let separators: Vec<(usize, char)> = digits.char_indices().filter(|(_, c)| matches!(c, '.' | ',')).collect();
    // Every separator a thousands separator.
    push(&digits.replace(['.', ','], ""), "");
    // The last separator the decimal point, the others thousands separators.
    if let Some(&(at, _)) = separators.last() {
        push(&digits[..at].replace(['.', ','], ""), &digits[at + 1..]);
    }
    out
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
        assert!(readings("15.800").contains(&1_580_000) && readings("15.800").contains(&1580));
        assert_eq!(readings("60 mil"), [6_000_000]);
        assert!(readings("1.234,50").contains(&123_450));
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
