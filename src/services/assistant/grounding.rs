//! Keeping a model's answer to what the shop said. The model refers to products as `[[p:ID]]`
//! and feria writes their names and prices from the records; any other product name or number
//! in the answer must have come from a tool (or from the shopper), else the answer is caught.

use std::collections::HashMap;

use super::evidence::{Evidence, number_tokens};

/// How a model refers to a product.
const TAG_OPEN: &str = "[[p:";
const TAG_CLOSE: &str = "]]";

/// The ids of the products `text` refers to, in order, each once.
pub fn tagged_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(TAG_OPEN) {
        let after = &rest[start + TAG_OPEN.len()..];
        let Some(end) = after.find(TAG_CLOSE) else { break };
        let id = after[..end].trim().to_string();
        if !id.is_empty() && id.len() <= 100 && !ids.contains(&id) {
            ids.push(id);
        }
        rest = &after[end + TAG_CLOSE.len()..];
    }
    ids
}

/// `text` without its tags (what the shopper would read of the model's own words).
pub fn untagged(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(TAG_OPEN) {
        out.push_str(&rest[..start]);
        match rest[start..].find(TAG_CLOSE) {
            Some(end) => rest = &rest[start + end + TAG_CLOSE.len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What in `text` no tool returned: tags of unknown products, numbers, and names of the
/// store's products (`catalog`: id and name of products that look mentioned) that were not read.
pub fn unbacked(text: &str, evidence: &Evidence, catalog: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for id in tagged_ids(text) {
        if !evidence.products.contains_key(&id) {
            problems.push(format!("el producto [[p:{id}]]"));
        }
    }
    let own_words = untagged(text);
    for (token, money) in number_tokens(&own_words) {
        if !evidence.backs(&token, money) {
            problems.push(format!("el número {token}"));
        }
    }
    let folded = fold(&own_words);
    for (id, name) in catalog {
        let name_folded = fold(name);
        let seen = evidence.products.contains_key(id) || evidence.products.values().any(|p| fold(&p.name).contains(&name_folded));
        if !seen && name_folded.chars().count() >= 4 && contains_words(&folded, &name_folded) {
            problems.push(format!("el producto «{name}»"));
        }
    }
    problems
}

/// Lower case without accents, for comparing names.
pub fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            other => other,
        })
        .collect()
}

/// Whether `phrase` appears in `text` as whole words.
fn contains_words(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// `text` with each tag replaced by what `written` says of that product (its name and price as
/// the record has them); a tag of a product not in `written` is dropped.
pub fn render(text: &str, written: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(TAG_OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + TAG_OPEN.len()..];
        let Some(end) = after.find(TAG_CLOSE) else {
            rest = "";
            break;
        };
        if let Some(line) = written.get(after[..end].trim()) {
            out.push_str(line);
        }
        rest = &after[end + TAG_CLOSE.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn evidence() -> Evidence {
        let mut e = Evidence::default();
        e.read("get_products", &json!({"products": [{"id": "p1", "name": "Vacío premium", "price": 15800, "stock": 12}]}));
        e.allow_numbers_in("¿algo para 10 personas por menos de 60 mil?");
        e
    }

    #[test]
    fn tags_numbers_and_names_must_come_from_tools() {
        let catalog = vec![("p1".to_string(), "Vacío premium".to_string()), ("p2".to_string(), "Entraña".to_string())];
        let good = "Te recomiendo [[p:p1]]: alcanza para 10 personas y queda debajo de los 60 mil.";
        assert!(unbacked(good, &evidence(), &catalog).is_empty(), "{:?}", unbacked(good, &evidence(), &catalog));
        let bad = "Llevá [[p:p9]] y la entraña a $14.900, o el vacío a $0.";
        assert_eq!(
            unbacked(bad, &evidence(), &catalog),
            ["el producto [[p:p9]]", "el número 14.900", "el número 0", "el producto «Entraña»"]
        );
    }

    #[test]
    fn tags_become_what_feria_writes() {
        let written = HashMap::from([("p1".to_string(), "Vacío premium ($15.800)".to_string())]);
        assert_eq!(tagged_ids("[[p:p1]] y [[p:p1]] y [[p: p2 ]]"), ["p1", "p2"]);
        assert_eq!(render("Te recomiendo [[p:p1]][[p:p2]].", &written), "Te recomiendo Vacío premium ($15.800).");
    }
}
