//! The tantivy index: schema, writes, and the search itself.

use std::cmp::Reverse;
use std::ops::Bound;
use std::sync::Mutex;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, SegmentReader, TantivyDocument, Term};

use crate::analysis::{self, SPANISH};
use crate::facets::FacetCollector;
use crate::query::{Facets, Hits, ProductDoc, SearchQuery, SortBy};
use crate::typos::{OneEdit, OneEditQuery};

/// Something went wrong inside the index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("search index: {0}")]
    Other(String),
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    /// The store's id when the product is active, absent otherwise: one term to filter on.
    listed_in: Field,
    name: Field,
    tags_text: Field,
    description: Field,
    tag: Field,
    category_id: Field,
    price: Field,
    stock: Field,
    created_at: Field,
    name_sort: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(SPANISH).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        listed_in: b.add_text_field("listed_in", STRING),
        name: b.add_text_field("name", text.clone()),
        tags_text: b.add_text_field("tags_text", text.clone()),
        description: b.add_text_field("description", text),
        tag: b.add_text_field("tag", STRING | FAST),
        category_id: b.add_text_field("category_id", STRING | FAST),
        price: b.add_i64_field("price", INDEXED | FAST),
        stock: b.add_i64_field("stock", INDEXED | FAST),
        created_at: b.add_i64_field("created_at", FAST),
        name_sort: b.add_text_field("name_sort", STRING | FAST),
    };
    (b.build(), fields)
}

/// Weights of the text fields: name > tags > description.
const NAME_BOOST: f32 = 3.0;
const TAGS_BOOST: f32 = 2.0;
const DESCRIPTION_BOOST: f32 = 1.0;
/// Words at least this long also match at one edit.
const FUZZY_MIN_LEN: usize = 5;

/// The product index of one node.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
}

impl SearchIndex {
    /// A new, empty index held in memory (it is derived data: the application rebuilds it from
    /// the database at start).
    pub fn in_memory() -> Result<SearchIndex, SearchError> {
        SearchIndex::with_index(Index::create_in_ram(schema().0))
    }

    fn with_index(index: Index) -> Result<SearchIndex, SearchError> {
        index.tokenizers().register(SPANISH, analysis::spanish());
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        // One indexing thread with the smallest arena tantivy allows: catalog writes are small and
        // frequent, and memory matters more than bulk indexing speed.
        let writer = index.writer_with_num_threads(1, 15_000_000)?;
        Ok(SearchIndex { index, reader, writer: Mutex::new(writer), f: schema().1 })
    }

    fn document(&self, p: &ProductDoc) -> TantivyDocument {
        let f = self.f;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &p.id);
        if p.active {
            doc.add_text(f.listed_in, &p.store_id);
        }
        doc.add_text(f.name, &p.name);
        doc.add_text(f.tags_text, p.tags.join(" "));
        doc.add_text(f.description, &p.description);
        for tag in &p.tags {
            doc.add_text(f.tag, tag.to_lowercase());
        }
        doc.add_text(f.category_id, &p.category_id);
        doc.add_i64(f.price, p.price);
        doc.add_i64(f.stock, p.stock);
        doc.add_i64(f.created_at, p.created_at);
        doc.add_text(f.name_sort, analysis::sort_key(&p.name));
        doc
    }

    /// Replaces `upserts` (by id) and removes `deletes`, then makes the change visible.
    pub fn apply(&self, upserts: &[ProductDoc], deletes: &[String]) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Other("writer lock poisoned".into()))?;
        for id in upserts.iter().map(|p| &p.id).chain(deletes) {
            writer.delete_term(Term::from_field_text(self.f.id, id));
        }
        for product in upserts {
            writer.add_document(self.document(product))?;
        }
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Merges every segment into one when there are several, dropping deleted documents: each
    /// write commits a small segment, and a search walks every segment. Returns whether it merged.
    pub fn compact(&self) -> Result<bool, SearchError> {
        let segments = self.index.searchable_segment_ids()?;
        if segments.len() < 2 {
            return Ok(false);
        }
        let merging = self.writer.lock().map_err(|_| SearchError::Other("writer lock poisoned".into()))?.merge(&segments);
        merging.wait()?;
        self.reader.reload()?;
        Ok(true)
    }

    /// Empties the index and fills it with `all`.
    pub fn replace_all(&self, all: &[ProductDoc]) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Other("writer lock poisoned".into()))?;
        writer.delete_all_documents()?;
        for product in all {
            writer.add_document(self.document(product))?;
        }
        writer.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    fn term(&self, field: Field, value: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
    }

    fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
        (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
    }

    fn any_of(&self, field: Field, values: &[String]) -> Box<dyn Query> {
        Box::new(BooleanQuery::new(values.iter().map(|v| (Occur::Should, self.term(field, v))).collect()))
    }

    /// Every query word (or, with `any_word`, at least one) must match in the name, tags or
    /// description (exactly, or at one edit for long words); exact matches and better fields
    /// score higher. With `names_only`, in the name and exactly.
    fn text_query(&self, text: &str, any_word: bool, names_only: bool) -> Option<Box<dyn Query>> {
        let words = analysis::query_words(text);
        if words.is_empty() {
            return None;
        }
        let f = self.f;
        let fields: &[(Field, f32)] = if names_only {
            &[(f.name, NAME_BOOST)]
        } else {
            &[(f.name, NAME_BOOST), (f.tags_text, TAGS_BOOST), (f.description, DESCRIPTION_BOOST)]
        };
        let clauses = words
            .into_iter()
            .map(|(stem, length)| {
                let typos = (length >= FUZZY_MIN_LEN && !names_only).then(|| OneEdit::of(&stem));
                let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for &(field, boost) in fields {
                    let exact = TermQuery::new(Term::from_field_text(field, &stem), IndexRecordOption::WithFreqs);
                    alternatives.push((Occur::Should, Box::new(BoostQuery::new(Box::new(exact), boost))));
                    if let Some(automaton) = &typos {
                        let fuzzy = OneEditQuery { field, automaton: automaton.clone() };
                        alternatives.push((Occur::Should, Box::new(BoostQuery::new(Box::new(fuzzy), boost * 0.5))));
                    }
                }
                let occur = if any_word { Occur::Should } else { Occur::Must };
                (occur, Box::new(BooleanQuery::new(alternatives)) as Box<dyn Query>)
            })
            .collect();
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    fn build(&self, q: &SearchQuery) -> Box<dyn Query> {
        let f = self.f;
        let mut clauses = vec![Self::filter(self.term(f.listed_in, &q.store_id))];
        if let Some(text) = q.text.as_deref().and_then(|t| self.text_query(t, q.any_word, q.names_only)) {
            clauses.push((Occur::Must, text));
        }
        if !q.categories.is_empty() {
            clauses.push(Self::filter(self.any_of(f.category_id, &q.categories)));
        }
        if !q.tags.is_empty() {
            let tags: Vec<String> = q.tags.iter().map(|t| t.to_lowercase()).collect();
            clauses.push(Self::filter(self.any_of(f.tag, &tags)));
        }
        if q.min_price.is_some() || q.max_price.is_some() {
            let lower = q.min_price.map_or(Bound::Unbounded, Bound::Included);
            let upper = q.max_price.map_or(Bound::Unbounded, Bound::Included);
            clauses.push(Self::filter(Box::new(RangeQuery::new_i64_bounds("price".into(), lower, upper))));
        }
        if q.in_stock {
            clauses.push(Self::filter(Box::new(RangeQuery::new_i64_bounds("stock".into(), Bound::Included(1), Bound::Unbounded))));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Runs `q`: one page of ids in the asked order, the exact total and the facets, all in
    /// one pass over the matches.
    pub fn search(&self, q: &SearchQuery) -> Result<Hits, SearchError> {
        let searcher = self.reader.searcher();
        let query = self.build(q);
        let top = TopDocs::with_limit(q.limit.max(1)).and_offset(q.offset);
        let order = if q.descending { Order::Desc } else { Order::Asc };
        let facets = q.facets.then_some(FacetCollector);
        let (addresses, total, facets): (Vec<DocAddress>, usize, Option<Facets>) = match q.sort {
            SortBy::Relevance => {
                let (docs, total, facets) = searcher.search(&query, &(top, Count, facets))?;
                (docs.into_iter().map(|(_, a)| a).collect(), total, facets)
            }
            SortBy::Price | SortBy::CreatedAt => {
                let field = if q.sort == SortBy::Price { "price" } else { "created_at" };
                let (docs, total, facets) = searcher.search(&query, &(top.order_by_fast_field::<i64>(field, order), Count, facets))?;
                (docs.into_iter().map(|(_, a)| a).collect(), total, facets)
            }
            SortBy::Name => {
                let descending = q.descending;
                let by_name = top.custom_score(move |segment: &SegmentReader| {
                    let names = segment.fast_fields().str("name_sort").ok().flatten();
                    move |doc| {
                        let mut name = String::new();
                        if let Some((column, ord)) = names.as_ref().and_then(|c| Some((c, c.term_ords(doc).next()?))) {
                            let _ = column.ord_to_str(ord, &mut name);
                        }
                        // Top docs come highest first: reverse for ascending names.
                        if descending { (name, Reverse(String::new())) } else { (String::new(), Reverse(name)) }
                    }
                });
                let (docs, total, facets) = searcher.search(&query, &(by_name, Count, facets))?;
                (docs.into_iter().map(|(_, a)| a).collect(), total, facets)
            }
        };
        let mut ids = Vec::with_capacity(addresses.len());
        for address in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.f.id).and_then(|v| v.as_str()) {
                ids.push(id.to_string());
            }
        }
        Ok(Hits { total, ids, facets: facets.unwrap_or_default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, name: &str, description: &str, tags: &[&str], category: &str, price: i64, stock: i64) -> ProductDoc {
        ProductDoc {
            id: id.into(),
            store_id: "s1".into(),
            name: name.into(),
            description: description.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            category_id: category.into(),
            price,
            stock,
            active: true,
            created_at: id.len() as i64 * 1000 + price,
        }
    }

    fn query(text: &str) -> SearchQuery {
        SearchQuery { facets: true, ..SearchQuery::relevant("s1", text.into(), 10) }
    }

    fn index() -> SearchIndex {
        let index = SearchIndex::in_memory().unwrap();
        let mut other_store = doc("x", "Chorizo de otra tienda", "", &[], "c1", 100, 1);
        other_store.store_id = "s2".into();
        let mut inactive = doc("off", "Chorizo viejo", "", &[], "c1", 100, 1);
        inactive.active = false;
        index
            .apply(
                &[
                    doc("a", "Chorizo puro cerdo", "Receta de la casa", &["popular"], "c1", 7900, 10),
                    doc("b", "Jamón crudo", "Estacionado", &["premium"], "c2", 6800, 0),
                    doc("c", "Carne picada", "Especial para hamburguesas", &["oferta"], "c1", 5000, 5),
                    doc("d", "Provoleta", "Ideal con chorizo a la parrilla", &[], "c3", 4600, 3),
                    doc("e", "Pan de campo", "Horneado a leña", &["chorizo"], "c3", 2100, 8),
                    other_store,
                    inactive,
                ],
                &[],
            )
            .unwrap();
        index
    }

    fn ids(hits: &Hits) -> Vec<&str> {
        hits.ids.iter().map(String::as_str).collect()
    }

    #[test]
    fn accents_plurals_and_typos() {
        let index = index();
        assert_eq!(ids(&index.search(&query("jamon")).unwrap()), ["b"]);
        assert_eq!(ids(&index.search(&query("JAMÓN")).unwrap()), ["b"]);
        assert_eq!(ids(&index.search(&query("carnes")).unwrap()), ["c"]);
        let typo = index.search(&query("chorizzo")).unwrap();
        assert!(typo.ids.contains(&"a".to_string()), "{typo:?}");
        assert!(index.search(&query("pam")).unwrap().ids.is_empty(), "short words need an exact match");
        assert!(index.search(&query("zzzz")).unwrap().ids.is_empty());
    }

    #[test]
    fn a_question_finds_what_any_of_its_words_match_best_first() {
        let index = index();
        let mut question = query("¿tienen chorizo y provoleta para la parrilla?");
        assert!(index.search(&question).unwrap().ids.is_empty(), "every word must match by default");
        question.any_word = true;
        let hits = index.search(&question).unwrap();
        assert_eq!(hits.ids.first().map(String::as_str), Some("d"), "provoleta, chorizo and parrilla: the most words first");
        assert!(hits.ids.contains(&"a".to_string()) && !hits.ids.contains(&"b".to_string()), "{hits:?}");
    }

    #[test]
    fn names_only_looks_in_names_word_for_word() {
        let index = index();
        let mut text = query("te recomiendo el chorizo con pan");
        text.any_word = true;
        text.names_only = true;
        let mut found = ids(&index.search(&text).unwrap()).into_iter().map(String::from).collect::<Vec<_>>();
        found.sort();
        assert_eq!(found, ["a", "e"], "names only: not the tag or the description");
        let mut typo = query("chorizzo");
        typo.names_only = true;
        assert!(index.search(&typo).unwrap().ids.is_empty(), "no typos");
    }

    #[test]
    fn name_weighs_more_than_tags_more_than_description_and_stores_and_inactive_are_apart() {
        let hits = index().search(&query("chorizo")).unwrap();
        assert_eq!(ids(&hits), ["a", "e", "d"], "name, then tag, then description; other store and inactive excluded");
        assert_eq!(hits.total, 3);
    }

    #[test]
    fn filters_sorts_pages_and_facets() {
        let index = index();
        let mut all = query("");
        all.text = None;
        all.sort = SortBy::Price;
        all.descending = false;
        let hits = index.search(&all).unwrap();
        assert_eq!(ids(&hits), ["e", "d", "c", "b", "a"]);
        assert_eq!((hits.facets.min_price, hits.facets.max_price), (Some(2100), Some(7900)));
        assert_eq!(hits.facets.categories[0], ("c1".to_string(), 2));
        assert!(hits.facets.tags.contains(&("premium".to_string(), 1)));

        let mut page = all.clone();
        page.offset = 2;
        page.limit = 2;
        let hits = index.search(&page).unwrap();
        assert_eq!((ids(&hits), hits.total), (vec!["c", "b"], 5));

        let mut by_name = all.clone();
        by_name.sort = SortBy::Name;
        assert_eq!(ids(&index.search(&by_name).unwrap()), ["c", "a", "b", "e", "d"]);
        by_name.descending = true;
        assert_eq!(ids(&index.search(&by_name).unwrap()), ["d", "e", "b", "a", "c"]);

        let mut filtered = all.clone();
        filtered.categories = vec!["c1".into(), "c3".into()];
        filtered.min_price = Some(4600);
        filtered.max_price = Some(7900);
        filtered.in_stock = true;
        let hits = index.search(&filtered).unwrap();
        assert_eq!(ids(&hits), ["d", "c", "a"]);
        assert_eq!((hits.facets.min_price, hits.facets.max_price), (Some(4600), Some(7900)));

        let mut tagged = all;
        tagged.tags = vec!["PREMIUM".into(), "oferta".into()];
        assert_eq!(ids(&index.search(&tagged).unwrap()), ["c", "b"]);
    }

    #[test]
    fn updates_deletes_and_rebuilds() {
        let index = index();
        let mut renamed = doc("b", "Paleta cocida", "", &[], "c2", 6800, 1);
        renamed.created_at = 1;
        index.apply(&[renamed], &["a".to_string()]).unwrap();
        assert!(index.search(&query("jamon")).unwrap().ids.is_empty());
        assert_eq!(ids(&index.search(&query("paleta")).unwrap()), ["b"]);
        assert_eq!(ids(&index.search(&query("chorizo")).unwrap()), ["e", "d"]);
        // Facets add up across segments (the update went into a second one).
        let mut all = query("");
        all.text = None;
        let facets = index.search(&all).unwrap().facets;
        let named = |pairs: &[(&str, u64)]| pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect::<Vec<_>>();
        assert_eq!(facets.categories, named(&[("c3", 2), ("c1", 1), ("c2", 1)]));
        assert_eq!(facets.tags, named(&[("chorizo", 1), ("oferta", 1)]));
        assert_eq!((facets.min_price, facets.max_price), (Some(2100), Some(6800)));
        assert!(index.compact().unwrap(), "two segments merge into one");
        assert!(!index.compact().unwrap(), "one segment is left alone");
        assert_eq!(index.search(&all).unwrap().facets, facets, "compacting changes no result");
        assert_eq!(ids(&index.search(&query("chorizo")).unwrap()), ["e", "d"]);
        index.replace_all(&[doc("z", "Vino Malbec", "", &[], "c9", 5900, 2)]).unwrap();
        let mut everything = query("");
        everything.text = None;
        assert_eq!(ids(&index.search(&everything).unwrap()), ["z"]);
    }
}
