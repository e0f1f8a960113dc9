//! The Spanish text analyzer shared by indexing and querying.

use tantivy::tokenizer::{AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, TokenStream};

/// Name the analyzer is registered under.
pub const SPANISH: &str = "es_folded_stemmed";

/// Lower-case, accent-folded, stemmed Spanish words.
pub fn spanish() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::Spanish))
        .build()
}

/// The same without stemming: used to know how long each query word really is.
fn folded() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The query's words as (stemmed term, length of the word before stemming).
pub fn query_words(text: &str) -> Vec<(String, usize)> {
    let collect = |mut analyzer: TextAnalyzer| {
        let mut words = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            words.push(stream.token().text.clone());
        }
        words
    };
    let stems = collect(spanish());
    let plain = collect(folded());
    stems.into_iter().zip(plain).map(|(stem, word)| (stem, word.chars().count())).collect()
}

/// `text` folded to lower-case ASCII, for sorting by name.
pub fn sort_key(text: &str) -> String {
    let mut analyzer =
        TextAnalyzer::builder(tantivy::tokenizer::RawTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build();
    let mut stream = analyzer.token_stream(text);
    let mut key = String::new();
    while stream.advance() {
        key.push_str(&stream.token().text);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_stems_plurals() {
        let words = query_words("Jamón CARNES chorizo");
        assert_eq!(words[0], ("jamon".to_string(), 5));
        assert_eq!(words[1].0, query_words("carne")[0].0, "plural and singular share a stem");
        assert_eq!(words[2].1, 7);
        assert_eq!(sort_key("Ñandú Ávila"), "nandu avila");
    }
}
