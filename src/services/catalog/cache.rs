//! Per-node caches of catalog rows, derived from the database.
//!
//! Products are cached by id and dropped when they change: by the writer on this node at once,
//! and by the change-log follower for writes on other nodes (so another node may serve a
//! product up to one follower poll, about 200 ms, out of date). Whole listing and search
//! answers are cached too, serialized, and all dropped on any catalog change. A read that raced
//! with a write does not store what it read: every invalidation bumps a generation, and an
//! entry is only stored if the generation did not move while it was being read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use axum::body::Bytes;
use std::sync::{Arc, RwLock};

use feria_db::Db;

use super::products::{self, Product};
use super::stores::Store;
use super::taxonomy::{self, Taxonomy};

/// Entries kept before the product cache is emptied and refilled on demand.
const MAX_PRODUCTS: usize = 100_000;
/// Bytes of cached answers kept before they are all dropped and refilled on demand.
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// The caches of one node.
#[derive(Default)]
pub struct CatalogCache {
    products: RwLock<HashMap<String, Arc<Product>>>,
    generation: AtomicU64,
    /// Serialized answers by a key naming the request (see [`CatalogCache::answer`]).
    answers: RwLock<HashMap<String, Bytes>>,
    answer_bytes: AtomicUsize,
    /// Category names by id, per store id (for search facets).
    category_names: RwLock<HashMap<String, Arc<HashMap<String, String>>>>,
    stores: RwLock<HashMap<String, Arc<Store>>>,
}

impl CatalogCache {
    /// The cached store with `slug`. Stores are never changed or removed once created (there is
    /// no endpoint for it yet), so a cached store stays right; whoever adds store updates must
    /// drop the entry here.
    pub fn store(&self, slug: &str) -> Option<Arc<Store>> {
        self.stores.read().unwrap_or_else(|p| p.into_inner()).get(slug).cloned()
    }

    /// Caches a store read from the database.
    pub fn remember_store(&self, store: Store) -> Arc<Store> {
        let store = Arc::new(store);
        self.stores.write().unwrap_or_else(|p| p.into_inner()).insert(store.slug.clone(), store.clone());
        store
    }

    /// The store's products with `ids`, in that order (unknown ids skipped); only the ones not
    /// cached are read from the database.
    pub async fn products(&self, db: &Db, store_id: &str, ids: &[String]) -> Result<Vec<Arc<Product>>, sqlx::Error> {
        let mut found: HashMap<String, Arc<Product>> = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let cached = self.products.read().unwrap_or_else(|p| p.into_inner());
            for id in ids {
                match cached.get(id).filter(|p| p.store_id == store_id) {
                    Some(product) => {
                        found.insert(id.clone(), product.clone());
                    }
                    None => missing.push(id.clone()),
                }
            }
        }
        if !missing.is_empty() {
            let generation = self.generation.load(Ordering::Acquire);
            let loaded = products::find_many(&mut *db.reader().acquire().await?, store_id, &missing).await?;
            let mut cached = self.products.write().unwrap_or_else(|p| p.into_inner());
            let still_current = self.generation.load(Ordering::Acquire) == generation;
            if cached.len() + loaded.len() > MAX_PRODUCTS {
                cached.clear();
            }
            for product in loaded {
                let product = Arc::new(product);
                if still_current {
                    cached.insert(product.id.clone(), product.clone());
                }
                found.insert(product.id.clone(), product);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// The store's category names by id.
    pub async fn category_names(&self, db: &Db, store_id: &str) -> Result<Arc<HashMap<String, String>>, sqlx::Error> {
        if let Some(names) = self.category_names.read().unwrap_or_else(|p| p.into_inner()).get(store_id) {
            return Ok(names.clone());
        }
        let generation = self.generation();
        let mut conn = db.reader().acquire().await?;
        let (_, categories) = taxonomy::list(&mut conn, Taxonomy::Category, store_id, false, i64::MAX, 0).await?;
        let names: Arc<HashMap<String, String>> = Arc::new(categories.into_iter().map(|c| (c.id, c.name)).collect());
        let mut cached = self.category_names.write().unwrap_or_else(|p| p.into_inner());
        if self.generation() == generation {
            cached.insert(store_id.to_string(), names.clone());
        }
        Ok(names)
    }

    /// The current generation, to pass to [`CatalogCache::remember_answer`] after computing an
    /// answer.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A cached answer. `key` must name everything the answer depends on besides the catalog
    /// (store, endpoint and parsed parameters).
    pub fn answer(&self, key: &str) -> Option<Bytes> {
        self.answers.read().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    /// Caches an answer computed from the catalog as it was at `generation`, unless it changed since.
    pub fn remember_answer(&self, key: String, generation: u64, body: Bytes) {
        let mut answers = self.answers.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        // The key counts too: it carries the client's words and filters.
        let size = key.len() + body.len();
        if self.answer_bytes.fetch_add(size, Ordering::AcqRel) + size > MAX_ANSWER_BYTES {
            answers.clear();
            self.answer_bytes.store(size, Ordering::Release);
        }
        answers.insert(key, body);
    }

    /// Forgets the given products (they changed), and every cached answer.
    pub fn forget(&self, ids: &[String]) {
        let mut cached = self.products.write().unwrap_or_else(|p| p.into_inner());
        self.forget_answers();
        for id in ids {
            cached.remove(id);
        }
    }

    /// Forgets every product (a change touching many, like a tag rename) and every answer.
    pub fn forget_all_products(&self) {
        let mut cached = self.products.write().unwrap_or_else(|p| p.into_inner());
        self.forget_answers();
        cached.clear();
    }

    fn forget_answers(&self) {
        let mut answers = self.answers.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        answers.clear();
        self.answer_bytes.store(0, Ordering::Release);
        self.category_names.write().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_dropped_on_change_and_never_stored_stale() {
        let cache = CatalogCache::default();
        let before = cache.generation();
        cache.remember_answer("list a".into(), before, Bytes::from_static(b"[1]"));
        assert_eq!(cache.answer("list a").as_deref(), Some(&b"[1]"[..]));

        // A change while an answer was being computed: that answer is not stored.
        let reading = cache.generation();
        cache.forget(&["p1".to_string()]);
        assert_eq!(cache.answer("list a"), None, "a change drops every answer");
        cache.remember_answer("list a".into(), reading, Bytes::from_static(b"[stale]"));
        assert_eq!(cache.answer("list a"), None);

        // Past the byte cap the cache starts over instead of growing.
        let big = Bytes::from(vec![b'x'; MAX_ANSWER_BYTES / 2 + 1]);
        let now = cache.generation();
        cache.remember_answer("one".into(), now, big.clone());
        cache.remember_answer("two".into(), now, big);
        assert_eq!((cache.answer("one").is_some(), cache.answer("two").is_some()), (false, true));
    }
}
