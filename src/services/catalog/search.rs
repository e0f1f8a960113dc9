//! Keeps this node's search index in step with the database and answers searches.
//!
//! The index lives in memory and is built from the products table when the node starts, so it
//! can never be missing, stale from a previous run or corrupt on disk. Every catalog write then
//! appends to `catalog_changes` in its transaction, and each node follows that log: it re-indexes
//! each changed product from its current row. About once a second it re-reads the last few
//! seconds of the log, so a transaction that committed late with an earlier timestamp is still
//! seen; changes already applied are skipped.
//!
//! Each applied batch of changes commits a small index segment; once writes pause for a second
//! the follower merges them back into one, so searches stay as fast as on a fresh index.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use feria_db::{AnyConnection, Db, Row, placeholders};
use feria_domain::time;
use feria_search::{Hits, ProductDoc, SearchIndex, SearchQuery};
use tokio::sync::{Notify, watch};

/// How far back a full poll re-reads the change log.
const OVERLAP: TimeDelta = TimeDelta::seconds(5);
/// Every how many polls the follower re-reads the overlap window.
const FULL_POLL_EVERY: u64 = 5;
/// How long changes stay in the log.
const RETENTION: TimeDelta = TimeDelta::hours(24);
/// Pause between polls when nothing wakes the follower.
const POLL: Duration = Duration::from_millis(200);
/// Changes read per query.
const PAGE: i64 = 2000;
/// How long writes must pause before the index is compacted to one segment.
const COMPACT_AFTER: Duration = Duration::from_secs(1);

/// The search index of this node and where it is in the change log.
pub struct CatalogSearch {
    index: Arc<SearchIndex>,
    /// The node's product cache, told about every change the follower applies.
    cache: Arc<super::cache::CatalogCache>,
    follow: tokio::sync::Mutex<Follow>,
    wake: Notify,
}

struct Follow {
    /// Time of the newest change applied.
    cursor: String,
    /// Changes applied within the overlap window, by id, with their time.
    seen: HashMap<String, String>,
    /// When the last change was applied, if the index was not compacted since.
    uncompacted_since: Option<Instant>,
}

impl CatalogSearch {
    /// Builds this node's index from the database. Returns how many products it indexed.
    pub async fn start(db: &Db, cache: Arc<super::cache::CatalogCache>) -> anyhow::Result<(CatalogSearch, usize)> {
        let search = CatalogSearch {
            index: Arc::new(SearchIndex::in_memory()?),
            cache,
            follow: tokio::sync::Mutex::new(Follow { cursor: String::new(), seen: HashMap::new(), uncompacted_since: None }),
            wake: Notify::new(),
        };
        let indexed = search.rebuild(db).await?;
        Ok((search, indexed))
    }

    /// Re-indexes every product from the database.
    pub async fn rebuild(&self, db: &Db) -> anyhow::Result<usize> {
        let mut follow = self.follow.lock().await;
        let started = time::to_db(time::now());
        let docs = all_docs(&mut *db.reader().acquire().await?).await?;
        let count = docs.len();
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.replace_all(&docs)).await??;
        self.cache.forget_all_products();
        *follow = Follow { cursor: started, seen: HashMap::new(), uncompacted_since: None };
        tracing::info!(products = count, "search index rebuilt from the database");
        Ok(count)
    }

    /// Applies the changes logged since the last sync; returns how many products it re-indexed.
    /// A `full` sync also re-reads the overlap window before the newest change applied.
    pub async fn sync(&self, db: &Db, full: bool) -> anyhow::Result<usize> {
        let mut follow = self.follow.lock().await;
        let back = if full { OVERLAP } else { TimeDelta::zero() };
        let since = time::from_db(&follow.cursor).map(|c| time::to_db(c - back)).unwrap_or_default();
        let mut conn = db.reader().acquire().await?;
        let mut fresh: Vec<(String, String, String)> = Vec::new();
        // `>=`: changes stamped at the cursor's own microsecond may still be unseen.
        let mut after = (since, String::new());
        loop {
            let rows = sqlx::query(
                "SELECT id, product_id, changed_at FROM catalog_changes WHERE changed_at > $1 OR (changed_at = $1 AND id > $2)
                 ORDER BY changed_at, id LIMIT $3",
            )
            .bind(&after.0)
            .bind(&after.1)
            .bind(PAGE)
            .fetch_all(&mut *conn)
            .await?;
            let n = rows.len() as i64;
            for row in rows {
                let (id, product_id, changed_at): (String, String, String) =
                    (row.try_get("id")?, row.try_get("product_id")?, row.try_get("changed_at")?);
                after = (changed_at.clone(), id.clone());
                if !follow.seen.contains_key(&id) {
                    fresh.push((id, product_id, changed_at));
                }
            }
            if n < PAGE {
                break;
            }
        }
        if fresh.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = fresh.iter().map(|(_, p, _)| p.clone()).collect::<HashSet<_>>().into_iter().collect();
        let docs = docs_by_ids(&mut conn, &ids).await?;
        drop(conn);
        let found: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let deletes: Vec<String> = ids.iter().filter(|id| !found.contains(id.as_str())).cloned().collect();
        let reindexed = ids.len();
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.apply(&docs, &deletes)).await??;
        self.cache.forget(&ids);
        follow.uncompacted_since = Some(Instant::now());
        for (id, _, changed_at) in fresh {
            if changed_at > follow.cursor {
                follow.cursor = changed_at.clone();
            }
            follow.seen.insert(id, changed_at);
        }
        let keep_from = time::from_db(&follow.cursor).map(|c| time::to_db(c - OVERLAP)).unwrap_or_default();
        follow.seen.retain(|_, at| *at > keep_from);
        Ok(reindexed)
    }

    /// Compacts the index once writes have paused for [`COMPACT_AFTER`] (writes may go on
    /// meanwhile: tantivy merges committed segments beside new commits).
    async fn compact_if_quiet(&self) -> anyhow::Result<()> {
        {
            let mut follow = self.follow.lock().await;
            if follow.uncompacted_since.is_none_or(|at| at.elapsed() < COMPACT_AFTER) {
                return Ok(());
            }
            follow.uncompacted_since = None;
        }
        let index = self.index.clone();
        let started = Instant::now();
        match tokio::task::spawn_blocking(move || index.compact()).await? {
            Ok(merged) => {
                tracing::debug!(merged, took_ms = started.elapsed().as_millis() as u64, "search index compaction");
                Ok(())
            }
            Err(e) => {
                // Probably a background merge holding some segments: try again after a pause.
                self.follow.lock().await.uncompacted_since.get_or_insert_with(Instant::now);
                Err(e.into())
            }
        }
    }

    /// Asks the follower to poll now (after a local write commits).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Follows the change log until `shutdown`, pruning entries past retention now and then.
    pub async fn follow(self: Arc<Self>, db: Db, mut shutdown: watch::Receiver<bool>) {
        let mut polls: u64 = 0;
        while !*shutdown.borrow() {
            if let Err(e) = self.sync(&db, polls.is_multiple_of(FULL_POLL_EVERY)).await {
                tracing::warn!(error = %e, "search index could not follow the catalog");
            }
            if let Err(e) = self.compact_if_quiet().await {
                tracing::warn!(error = %e, "search index not compacted yet; it keeps working as it is");
            }
            polls += 1;
            if polls % 1500 == 1 {
                let horizon = time::to_db(time::now() - RETENTION);
                if let Err(e) = sqlx::query("DELETE FROM catalog_changes WHERE changed_at < $1").bind(horizon).execute(db.writer()).await {
                    tracing::warn!(error = %e, "could not prune the catalog change log");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Runs a search on the calling worker: a bounded query (at most 200 characters, 20 words,
    /// 20 filters, 10,000 results deep) takes well under a millisecond, and handing it to the
    /// blocking pool cost a fifth of the throughput (see `docs/decisions.md`).
    pub fn search(&self, query: &SearchQuery) -> Result<Hits, feria_search::SearchError> {
        self.index.search(query)
    }
}

const DOC_COLUMNS: &str = "id, store_id, name, description, category_id, price, stock, is_active, created_at";

async fn docs_from(conn: &mut AnyConnection, rows: Vec<feria_db::AnyRow>) -> Result<Vec<ProductDoc>, sqlx::Error> {
    let mut docs = Vec::with_capacity(rows.len());
    for row in &rows {
        let created_at: String = row.try_get("created_at")?;
        docs.push(ProductDoc {
            id: row.try_get("id")?,
            store_id: row.try_get("store_id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            tags: Vec::new(),
            category_id: row.try_get("category_id")?,
            price: row.try_get("price")?,
            stock: row.try_get("stock")?,
            active: row.try_get::<i64, _>("is_active")? != 0,
            created_at: time::from_db(&created_at).map(|t| t.timestamp_micros()).unwrap_or_default(),
        });
    }
    if docs.is_empty() {
        return Ok(docs);
    }
    let list = placeholders(1, docs.len());
    let sql = format!("SELECT pt.product_id, t.name FROM product_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.product_id IN ({list})");
    let mut query = sqlx::query(&sql);
    for doc in &docs {
        query = query.bind(&doc.id);
    }
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    for row in query.fetch_all(conn).await? {
        tags.entry(row.try_get("product_id")?).or_default().push(row.try_get("name")?);
    }
    for doc in &mut docs {
        doc.tags = tags.remove(&doc.id).unwrap_or_default();
    }
    Ok(docs)
}

async fn docs_by_ids(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<ProductDoc>, sqlx::Error> {
    let mut docs = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let list = placeholders(1, chunk.len());
        let sql = format!("SELECT {DOC_COLUMNS} FROM products WHERE id IN ({list})");
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&mut *conn).await?;
        docs.extend(docs_from(conn, rows).await?);
    }
    Ok(docs)
}

async fn all_docs(conn: &mut AnyConnection) -> Result<Vec<ProductDoc>, sqlx::Error> {
    let mut docs = Vec::new();
    let mut after = String::new();
    loop {
        let sql = format!("SELECT {DOC_COLUMNS} FROM products WHERE id > $1 ORDER BY id LIMIT 500");
        let rows = sqlx::query(&sql).bind(&after).fetch_all(&mut *conn).await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("id")?;
        docs.extend(docs_from(conn, rows).await?);
    }
    Ok(docs)
}
