//! What a committed use case leaves for this node to do: wake the job runner, drop cached
//! products, bring the search index up to date. Services return it with their result; the
//! caller applies it with [`App::settle`] once, whatever the entry point (HTTP, MCP, chat).

use crate::app::App;

/// After-commit work, gathered by a service while its transaction runs.
#[derive(Debug, Default)]
#[must_use = "apply it with App::settle once the transaction committed"]
pub struct Effects {
    /// A job was queued: wake this node's runner now rather than at its next poll.
    pub wake_jobs: bool,
    /// Products whose stock changed (orders, cancellations): drop them from the product cache.
    pub stock_changed: Vec<String>,
    /// Catalog rows changed: drop them from the cache and re-index before answering.
    pub catalog: Option<CatalogChange>,
}

/// Which part of the catalog changed.
#[derive(Debug)]
pub enum CatalogChange {
    Products(Vec<String>),
    /// Categories, tags or a bulk load: every cached product may be stale.
    Everything,
}

impl Effects {
    pub fn wake_jobs(queued: bool) -> Effects {
        Effects { wake_jobs: queued, ..Effects::default() }
    }

    pub fn catalog(change: CatalogChange) -> Effects {
        Effects { catalog: Some(change), ..Effects::default() }
    }
}

/// A use case's committed result and what is left to do for it.
#[must_use = "apply its effects with App::settle"]
pub struct Done<T> {
    pub value: T,
    pub effects: Effects,
}

impl<T> Done<T> {
    pub fn new(value: T, effects: Effects) -> Done<T> {
        Done { value, effects }
    }
}

impl App {
    /// Applies what a committed use case left to do and hands back its result.
    pub async fn settle<T>(&self, done: Done<T>) -> T {
        let Effects { wake_jobs, stock_changed, catalog } = done.effects;
        if wake_jobs {
            self.job_wake.notify_one();
        }
        if !stock_changed.is_empty() {
            self.stock_changed(&stock_changed);
        }
        match catalog {
            Some(CatalogChange::Products(ids)) => self.catalog_changed(Some(&ids)).await,
            Some(CatalogChange::Everything) => self.catalog_changed(None).await,
            None => {}
        }
        done.value
    }
}
