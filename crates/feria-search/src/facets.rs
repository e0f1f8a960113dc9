//! Counting categories and tags and finding the price bounds of every match, in the same pass
//! over the matches as the page itself.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::query::Facets;

/// Collects [`Facets`] from the `category_id`, `tag` and `price` fast fields.
pub struct FacetCollector;

/// Per-segment counts by term ordinal, turned into names when the segment is done.
pub struct SegmentFacets {
    categories: Option<(StrColumn, Vec<u64>)>,
    tags: Option<(StrColumn, Vec<u64>)>,
    price: Column<i64>,
    bounds: Option<(i64, i64)>,
}

fn counter(column: Option<StrColumn>) -> Option<(StrColumn, Vec<u64>)> {
    column.map(|c| {
        let terms = c.num_terms();
        (c, vec![0; terms])
    })
}

impl Collector for FacetCollector {
    type Fruit = Facets;
    type Child = SegmentFacets;

    fn for_segment(&self, _segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentFacets> {
        let fields = reader.fast_fields();
        Ok(SegmentFacets {
            categories: counter(fields.str("category_id")?),
            tags: counter(fields.str("tag")?),
            price: fields.i64("price")?,
            bounds: None,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Facets>) -> tantivy::Result<Facets> {
        let mut categories: HashMap<String, u64> = HashMap::new();
        let mut tags: HashMap<String, u64> = HashMap::new();
        let mut facets = Facets::default();
        for segment in segments {
            for (name, count) in segment.categories {
                *categories.entry(name).or_default() += count;
            }
            for (name, count) in segment.tags {
                *tags.entry(name).or_default() += count;
            }
            facets.min_price = facets.min_price.into_iter().chain(segment.min_price).min();
            facets.max_price = facets.max_price.into_iter().chain(segment.max_price).max();
        }
        facets.categories = most_first(categories);
        facets.tags = most_first(tags);
        Ok(facets)
    }
}

/// Counts, most first; ties by name so the order is stable.
fn most_first(counts: HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

fn names(counter: Option<(StrColumn, Vec<u64>)>) -> Vec<(String, u64)> {
    let Some((column, counts)) = counter else { return Vec::new() };
    let mut named = Vec::new();
    for (ord, count) in counts.into_iter().enumerate().filter(|(_, count)| *count > 0) {
        let mut name = String::new();
        if column.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
            named.push((name, count));
        }
    }
    named
}

impl SegmentCollector for SegmentFacets {
    type Fruit = Facets;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in [&mut self.categories, &mut self.tags].into_iter().flatten() {
            for ord in column.term_ords(doc) {
                counts[ord as usize] += 1;
            }
        }
        if let Some(price) = self.price.first(doc) {
            self.bounds = Some(self.bounds.map_or((price, price), |(low, high)| (low.min(price), high.max(price))));
        }
    }

    fn harvest(self) -> Facets {
        Facets {
            categories: names(self.categories),
            tags: names(self.tags),
            min_price: self.bounds.map(|(low, _)| low),
            max_price: self.bounds.map(|(_, high)| high),
        }
    }
}
