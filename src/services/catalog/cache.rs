//! Per-node caches of catalog rows, derived from the database.
//!
//! Products are cached by id and dropped when they change: by the writer on this node at once,
//! and by the change-log follower for writes on other nodes (so another node may serve a
//! product up to one follower poll, about 200 ms, out of date). A read that raced with a write
//! does not store what it read: every invalidation bumps a generation, and an entry is only
//! stored if the generation did not move while it was being read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use feria_db::Db;

use super::products::{self, Product};
use super::stores::Store;

/// Entries kept before the product cache is emptied and refilled on demand.
const MAX_PRODUCTS: usize = 100_000;

/// The caches of one node.
#[derive(Default)]
pub struct CatalogCache {
    products: RwLock<HashMap<String, Arc<Product>>>,
    generation: AtomicU64,
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

    /// Forgets the given products (they changed).
    pub fn forget(&self, ids: &[String]) {
        let mut cached = self.products.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        for id in ids {
            cached.remove(id);
        }
    }

    /// Forgets every product (a change touching many, like a tag rename).
    pub fn forget_all_products(&self) {
        let mut cached = self.products.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        cached.clear();
    }
}
