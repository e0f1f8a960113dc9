//! Keeps this node's search index in step with the database and answers searches.
//!
//! Every catalog write appends to `catalog_changes` in its transaction. Each node follows that
//! log: it re-reads the last few seconds on every poll (a transaction that committed late with
//! an earlier timestamp is still seen), skips changes it already applied, and re-indexes each
//! changed product from its current row. The position reached is kept beside the index, so a
//! restarted node catches up; a node with no index, an unreadable one, or a position older than
//! the log's retention rebuilds from the products table.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use feria_db::{AnyConnection, Db, Row};
use feria_domain::time;
use feria_search::{Hits, ProductDoc, SearchIndex, SearchQuery};
use tokio::sync::{Notify, watch};

use super::products::placeholders;

/// How far back each poll re-reads the change log.
const OVERLAP: TimeDelta = TimeDelta::seconds(5);
/// How long changes stay in the log.
const RETENTION: TimeDelta = TimeDelta::hours(24);
/// Pause between polls when nothing wakes the follower.
const POLL: Duration = Duration::from_millis(200);
/// Changes read per query.
const PAGE: i64 = 2000;

/// The search index of this node and where it is in the change log.
pub struct CatalogSearch {
    index: Arc<SearchIndex>,
    /// The node's product cache, told about every change the follower applies.
    cache: Arc<super::cache::CatalogCache>,
    cursor_file: PathBuf,
    follow: tokio::sync::Mutex<Follow>,
    wake: Notify,
}

struct Follow {
    /// Time of the newest change applied.
    cursor: String,
    /// Changes applied within the overlap window, by id, with their time.
    seen: HashMap<String, String>,
}

impl CatalogSearch {
    /// Opens the index in `dir` and brings it up to date with the database (rebuilding it when
    /// needed). Returns how many products were (re)indexed.
    pub async fn start(db: &Db, dir: &Path, cache: Arc<super::cache::CatalogCache>) -> anyhow::Result<(CatalogSearch, usize)> {
        let dir_owned = dir.to_path_buf();
        let (index, fresh) = tokio::task::spawn_blocking(move || SearchIndex::open(&dir_owned)).await??;
        let cursor_file = dir.join("feria-cursor");
        let saved = std::fs::read_to_string(&cursor_file).ok().map(|c| c.trim().to_string());
        let horizon = time::to_db(time::now() - RETENTION);
        let search = CatalogSearch {
            index: Arc::new(index),
            cache,
            cursor_file,
            follow: tokio::sync::Mutex::new(Follow { cursor: saved.clone().unwrap_or_default(), seen: HashMap::new() }),
            wake: Notify::new(),
        };
        let usable = !fresh && saved.as_ref().is_some_and(|c| time::from_db(c).is_some() && *c > horizon);
        let indexed = if usable { search.sync(db).await? } else { search.rebuild(db).await? };
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
        *follow = Follow { cursor: started, seen: HashMap::new() };
        self.save_cursor(&follow.cursor)?;
        tracing::info!(products = count, "search index rebuilt from the database");
        Ok(count)
    }

    /// Applies the changes logged since the last sync; returns how many products it re-indexed.
    pub async fn sync(&self, db: &Db) -> anyhow::Result<usize> {
        let mut follow = self.follow.lock().await;
        let since = time::from_db(&follow.cursor).map(|c| time::to_db(c - OVERLAP)).unwrap_or_default();
        let mut conn = db.reader().acquire().await?;
        let mut fresh: Vec<(String, String, String)> = Vec::new();
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
        for (id, _, changed_at) in fresh {
            if changed_at > follow.cursor {
                follow.cursor = changed_at.clone();
            }
            follow.seen.insert(id, changed_at);
        }
        let keep_from = time::from_db(&follow.cursor).map(|c| time::to_db(c - OVERLAP)).unwrap_or_default();
        follow.seen.retain(|_, at| *at > keep_from);
        self.save_cursor(&follow.cursor)?;
        Ok(reindexed)
    }

    fn save_cursor(&self, cursor: &str) -> std::io::Result<()> {
        let tmp = self.cursor_file.with_extension("tmp");
        std::fs::write(&tmp, cursor)?;
        std::fs::rename(tmp, &self.cursor_file)
    }

    /// Asks the follower to poll now (after a local write commits).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Follows the change log until `shutdown`, pruning entries past retention now and then.
    pub async fn follow(self: Arc<Self>, db: Db, mut shutdown: watch::Receiver<bool>) {
        let mut polls: u64 = 0;
        while !*shutdown.borrow() {
            if let Err(e) = self.sync(&db).await {
                tracing::warn!(error = %e, "search index could not follow the catalog");
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

    /// Runs a search. It is short CPU work on an in-memory-mapped index, so it runs right on the
    /// calling task: moving it to the blocking pool spawned a thread (and a malloc arena) per
    /// concurrent search.
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
