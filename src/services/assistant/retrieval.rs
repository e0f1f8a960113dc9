//! Finding what a question is about: the catalog's search index (BM25 with Spanish analysis and
//! typos, any word of the question), products near it by meaning when the store has
//! embeddings, merged by reciprocal-rank fusion; and the store's policies it touches.

use feria_search::SearchQuery;

use super::embeddings;
use super::evidence::{number_tokens, readings};
use super::grounding::fold;
use crate::app::App;
use crate::services::catalog::stores::Store;
use crate::services::store_policies::{self, Policy, PolicyKind};

/// Products taken from each list before fusing.
const CANDIDATES: usize = 20;
/// Reciprocal-rank fusion's constant (Cormack et al.): ranks past it count little.
const RRF_K: f64 = 60.0;

/// What a question found, best first.
pub struct Found {
    /// Product ids with a relevance from 0 to 1.
    pub products: Vec<(String, f64)>,
    pub policies: Vec<Policy>,
    /// The highest price the shopper asked for, minor units.
    pub price_ceiling: Option<i64>,
}

/// Retrieves for `text` in `store`: up to `limit` products (under the price the shopper named,
/// when they named one) and the policies the question is about; by meaning too when `semantic`.
pub async fn retrieve(app: &App, store: &Store, text: &str, limit: usize, semantic: bool) -> Result<Found, sqlx::Error> {
    let price_ceiling = price_ceiling(text, store.currency.exponent());
    let words = content_words(text);
    let lexical = match app.search.get() {
        Some(search) if !words.is_empty() => {
            // Products that match every word first; failing that, those matching most of them.
            let several_words = words.contains(' ');
            let mut query = SearchQuery { max_price: price_ceiling, ..SearchQuery::relevant(&store.id, words, CANDIDATES) };
            let mut hits = search.search(&query).map(|h| h.ids);
            if several_words && hits.as_ref().is_ok_and(Vec::is_empty) {
                query.any_word = true;
                hits = search.search(&query).map(|h| h.ids);
            }
            hits.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "assistant retrieval: search failed");
                Vec::new()
            })
        }
        _ => Vec::new(),
    };
    let semantic = if semantic { embeddings::nearest(app, store, text, CANDIDATES).await } else { Vec::new() };
    let products = fuse(&[lexical, semantic], limit);
    let policies = if PolicyKind::ALL.iter().any(|kind| asks_about(text, *kind)) {
        store_policies::list(&app.db, &store.id).await?.into_iter().filter(|p| asks_about(text, p.kind)).collect()
    } else {
        Vec::new()
    };
    Ok(Found { products, policies, price_ceiling })
}

/// Reciprocal-rank fusion of ranked lists: each id scores Σ 1/(k + rank); scores are scaled so
/// the best is 1.
pub fn fuse(lists: &[Vec<String>], limit: usize) -> Vec<(String, f64)> {
    let mut scores: Vec<(String, f64)> = Vec::new();
    for list in lists {
        for (rank, id) in list.iter().enumerate() {
            let score = 1.0 / (RRF_K + rank as f64 + 1.0);
            match scores.iter_mut().find(|(known, _)| known == id) {
                Some(entry) => entry.1 += score,
                None => scores.push((id.clone(), score)),
            }
        }
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    scores.truncate(limit);
    let best = scores.first().map(|(_, s)| *s).unwrap_or(1.0);
    scores.into_iter().map(|(id, s)| (id, (s / best * 100.0).round() / 100.0)).collect()
}

/// Words of a question that say nothing about what is sought: Spanish function words and the
/// ways shoppers ask ("¿tienen…?", "quiero…", "busco…").
const FILLER: &[&str] = &[
    "a", "al", "algo", "alguna", "alguno", "algun", "busco", "buscando", "como", "con", "cual", "cuales", "cuanto", "cuanta", "cuesta",
    "de", "del", "donde", "el", "en", "es", "esta", "este", "hay", "hola", "la", "las", "lo", "los", "me", "mas", "menos", "mi", "mil",
    "necesito", "o", "para", "pero", "por", "precio", "que", "quiero", "quisiera", "sale", "se", "si", "sin", "su", "tenes", "tengo",
    "tiene", "tienen", "un", "una", "unas", "uno", "unos", "venden", "vendes", "y", "ya", "personas", "hasta", "maximo", "debajo",
];

/// The words of `text` that say what is sought: no filler, no numbers (prices and quantities
/// are read apart).
pub fn content_words(text: &str) -> String {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()) && !FILLER.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words that say a question is about a policy.
fn policy_words(kind: PolicyKind) -> &'static [&'static str] {
    match kind {
        PolicyKind::Shipping => &["envio", "envia", "entrega", "despacho", "delivery", "llega", "retiro", "domicilio"],
        PolicyKind::Returns => &["devol", "cambio", "garantia", "reembols", "devuelv"],
        PolicyKind::Payments => &["pago", "pagar", "tarjeta", "transferencia", "efectivo", "cuotas", "mercado pago"],
        PolicyKind::Hours => &["horario", "abren", "abierto", "cierran", "atienden", "hora"],
    }
}

fn asks_about(text: &str, kind: PolicyKind) -> bool {
    let folded = fold(text);
    policy_words(kind).iter().any(|w| folded.contains(w))
}

/// The most the shopper wants to pay, in minor units: the number after "menos de", "hasta",
/// "máximo", "por debajo de" or "no más de" ("menos de 60 mil" → 60,000).
pub fn price_ceiling(text: &str, exponent: u32) -> Option<i64> {
    let folded = fold(text);
    let at = ["menos de", "hasta", "maximo", "debajo de", "no mas de", "tope de"]
        .iter()
        .filter_map(|w| folded.find(w).map(|i| i + w.len()))
        .min()?;
    // The number must follow closely: "hasta $60.000", not "¿hasta qué hora…? pedido 12".
    let near: String = folded[at..].chars().take(8).collect();
    let (token, _) =
        number_tokens(&folded[at..]).into_iter().next().filter(|(t, _)| near.contains(t.split([' ', '.', ',']).next().unwrap_or("")))?;
    let hundredths = *readings(&token).first()?;
    let minor = hundredths.checked_mul(10i128.pow(exponent))? / 100;
    i64::try_from(minor).ok().filter(|m| *m > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_ceiling_is_read_from_the_question() {
        assert_eq!(price_ceiling("¿algo para un asado de 10 personas por menos de 60 mil?", 2), Some(6_000_000));
        assert_eq!(price_ceiling("vinos hasta $15.000", 2), Some(1_500_000));
        assert_eq!(price_ceiling("vinos hasta $15.000", 0), Some(15_000));
        assert_eq!(price_ceiling("vinos tintos", 2), None);
        assert_eq!(price_ceiling("¿hasta qué hora abren? mi pedido es el 12", 2), None);
    }

    #[test]
    fn a_question_is_searched_by_what_it_asks_for() {
        assert_eq!(content_words("¿Tienen algo para un asado de 10 personas por menos de 60 mil?"), "asado");
        assert_eq!(content_words("¿tienen sushi?"), "sushi");
        assert_eq!(content_words("jamón crudo estacionado"), "jamon crudo estacionado");
    }

    #[test]
    fn fusion_prefers_what_both_lists_rank_high() {
        let fused = fuse(&[vec!["a".into(), "b".into(), "c".into()], vec!["c".into(), "a".into()]], 3);
        assert_eq!(fused.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["a", "c", "b"]);
        assert_eq!(fused[0].1, 1.0);
    }
}
