//! Products by meaning: each active product's text (name, category, description) embedded
//! by the platform's OpenAI-dialect provider, stored with the hash of that text so a refresh
//! embeds only what changed; a question's embedding compared by cosine with the store's vectors,
//! kept in memory until the store's embeddings change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use feria_domain::time;
use feria_providers::llm::openai::{OpenAiCompatible, TokenLimit};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::AssistantError;
use super::usage::{self, Call};
use crate::app::App;
use crate::config::{ProviderConfig, ProviderKind};
use crate::crypto::sha256_hex;
use crate::services::catalog::stores::Store;
use crate::services::effects::{Done, Effects};
use crate::services::identity::caller::Caller;

/// Products embedded per call.
const BATCH: usize = 64;
/// Characters of a product's text that are embedded.
const MAX_TEXT: usize = 2000;

/// How long a store's vectors are used before their version is read again: embeddings written
/// on another node are seen within this; on this node at once (a refresh forgets them).
const VERSION_CHECK: Duration = Duration::from_secs(1);

/// The store's vectors as last read: version, when it was read, product ids and unit vectors.
type Loaded = (String, Instant, Arc<Vec<(String, Vec<f32>)>>);

/// Vectors by store.
#[derive(Default)]
pub struct Vectors(Mutex<HashMap<String, Loaded>>);

impl Vectors {
    /// Drops the store's vectors: the next question reads them again.
    fn forget(&self, store_id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(store_id);
    }
}

/// The platform's embedding client, built on first use.
#[derive(Default)]
pub struct Embedder(OnceLock<Option<OpenAiCompatible>>);

/// The platform provider that embeds: OpenAI, else an OpenAI-compatible server.
fn embedder(app: &App) -> Option<(&ProviderConfig, &OpenAiCompatible)> {
    let config = app.config.chat.providers.iter().find(|p| matches!(p.kind, ProviderKind::OpenAi | ProviderKind::Compatible))?;
    let client = app.assistant.embedder.0.get_or_init(|| {
        let limit = if config.kind == ProviderKind::OpenAi { TokenLimit::Completion } else { TokenLimit::Legacy };
        OpenAiCompatible::new(&config.api_url, config.api_key.expose(), limit, app.config.chat.timeout)
            .inspect_err(|e| tracing::error!(error = %e, "the embedding client could not be built"))
            .ok()
    });
    Some((config, client.as_ref()?))
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn encode(v: &[f32]) -> String {
    STANDARD.encode(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>())
}

fn decode(text: &str) -> Option<Vec<f32>> {
    let bytes = STANDARD.decode(text).ok()?;
    (bytes.len() % 4 == 0).then(|| bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

async fn version(app: &App, store_id: &str) -> Result<String, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n, MAX(updated_at) AS last FROM product_embeddings WHERE store_id = $1")
        .bind(store_id)
        .fetch_one(app.db.reader())
        .await?;
    Ok(format!("{}:{}", row.try_get::<i64, _>("n")?, row.try_get::<Option<String>, _>("last")?.unwrap_or_default()))
}

async fn vectors(app: &App, store_id: &str) -> Result<Arc<Vec<(String, Vec<f32>)>>, sqlx::Error> {
    let known = app.assistant.vectors.0.lock().unwrap_or_else(|p| p.into_inner()).get(store_id).cloned();
    if let Some((_, checked, vectors)) = &known
        && checked.elapsed() < VERSION_CHECK
    {
        return Ok(vectors.clone());
    }
    let current = version(app, store_id).await?;
    if let Some((version, _, vectors)) = known
        && version == current
    {
        app.assistant
            .vectors
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(store_id.to_string(), (version, Instant::now(), vectors.clone()));
        return Ok(vectors);
    }
    let rows = sqlx::query("SELECT product_id, vector FROM product_embeddings WHERE store_id = $1")
        .bind(store_id)
        .fetch_all(app.db.reader())
        .await?;
    let loaded: Vec<(String, Vec<f32>)> =
        rows.iter().filter_map(|r| Some((r.try_get("product_id").ok()?, decode(&r.try_get::<String, _>("vector").ok()?)?))).collect();
    let loaded = Arc::new(loaded);
    app.assistant
        .vectors
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(store_id.to_string(), (current, Instant::now(), loaded.clone()));
    Ok(loaded)
}

/// Up to `limit` product ids nearest `text` by meaning; none when the store has no embeddings
/// or no provider embeds (nothing is spent then).
pub async fn nearest(app: &App, store: &Store, text: &str, limit: usize) -> Vec<String> {
    let Some((config, client)) = embedder(app) else { return Vec::new() };
    let stored = match vectors(app, &store.id).await {
        Ok(v) if !v.is_empty() => v,
        Ok(_) => return Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, "assistant retrieval: embeddings not read");
            return Vec::new();
        }
    };
    let model = &app.config.chat.embedding_model;
    let started = Instant::now();
    let answer = client.embed(model, &[text.chars().take(MAX_TEXT).collect()]).await;
    let (used, failure) = match &answer {
        Ok((_, used)) => (*used, None),
        Err(e) => (Default::default(), Some(e)),
    };
    let call = Call {
        store_id: &store.id,
        actor: ("system", "assistant"),
        provider: config.kind.as_str(),
        model,
        mode: "embeddings",
        usage: used,
        latency: started.elapsed(),
        failure,
    };
    usage::record(&app.db, &app.config.chat.prices, call).await;
    let Ok((mut vectors, _)) = answer else { return Vec::new() };
    let Some(query) = vectors.pop().map(unit) else { return Vec::new() };
    let mut scored: Vec<(f32, &String)> = stored
        .iter()
        .filter(|(_, v)| v.len() == query.len())
        .map(|(id, v)| (v.iter().zip(&query).map(|(a, b)| a * b).sum::<f32>(), id))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(limit).map(|(_, id)| id.clone()).collect()
}

/// What a refresh did.
#[derive(Debug, Default, Serialize)]
pub struct Refreshed {
    pub embedded: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Embeds the store's active products whose text changed since their embedding (all of them
/// with `force`), and forgets those of products no longer active.
pub async fn refresh(app: &App, store_id: &str, force: bool) -> Result<Refreshed, String> {
    let (config, client) =
        embedder(app).ok_or("no provider with embeddings is configured (OPENAI_API_KEY or OPENAI_COMPATIBLE_API_URL)")?;
    let model = app.config.chat.embedding_model.clone();
    let rows = sqlx::query(
        "SELECT p.id, p.name, p.description, COALESCE(c.name, '') AS category, e.content_hash, e.model
         FROM products p LEFT JOIN categories c ON c.id = p.category_id LEFT JOIN product_embeddings e ON e.product_id = p.id
         WHERE p.store_id = $1 AND p.is_active = 1 ORDER BY p.id",
    )
    .bind(store_id)
    .fetch_all(app.db.reader())
    .await
    .map_err(|e| e.to_string())?;
    let mut report = Refreshed::default();
    let mut pending: Vec<(String, String, String)> = Vec::new();
    for r in &rows {
        let field = |name: &str| r.try_get::<Option<String>, _>(name).ok().flatten().unwrap_or_default();
        let text: String = format!("{}. {}. {}", field("name"), field("category"), field("description")).chars().take(MAX_TEXT).collect();
        let hash = sha256_hex(&text);
        if !force && field("content_hash") == hash && field("model") == model {
            report.unchanged += 1;
        } else {
            pending.push((field("id"), text, hash));
        }
    }
    for batch in pending.chunks(BATCH) {
        let texts: Vec<String> = batch.iter().map(|(_, text, _)| text.clone()).collect();
        let started = Instant::now();
        let answer = client.embed(&model, &texts).await;
        let (used, failure) = match &answer {
            Ok((_, used)) => (*used, None),
            Err(e) => (Default::default(), Some(e)),
        };
        let call = Call {
            store_id,
            actor: ("system", "embeddings"),
            provider: config.kind.as_str(),
            model: &model,
            mode: "embeddings",
            usage: used,
            latency: started.elapsed(),
            failure,
        };
        usage::record(&app.db, &app.config.chat.prices, call).await;
        let (vectors, _) = answer.map_err(|e| e.to_string())?;
        let now = time::to_db(time::now());
        let mut tx = app.db.begin().await.map_err(|e| e.to_string())?;
        for ((id, _, hash), vector) in batch.iter().zip(vectors) {
            sqlx::query(
                "INSERT INTO product_embeddings (product_id, store_id, model, content_hash, vector, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (product_id) DO UPDATE SET model = $3, content_hash = $4, vector = $5, updated_at = $6",
            )
            .bind(id)
            .bind(store_id)
            .bind(&model)
            .bind(hash)
            .bind(encode(&unit(vector)))
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
        report.embedded += batch.len();
    }
    let removed = sqlx::query(
        "DELETE FROM product_embeddings WHERE store_id = $1 AND product_id NOT IN (SELECT id FROM products WHERE store_id = $1 AND is_active = 1)",
    )
    .bind(store_id)
    .execute(app.db.writer())
    .await
    .map_err(|e| e.to_string())?;
    report.removed = removed.rows_affected() as usize;
    app.assistant.vectors.forget(store_id);
    Ok(report)
}

/// Queues a refresh of the store's embeddings (owners and managers); answers the job's id.
pub async fn schedule(app: &App, caller: &Caller, store_id: &str, force: bool) -> Result<Done<String>, AssistantError> {
    super::settings::check_may_configure(caller, store_id)?;
    if embedder(app).is_none() {
        return Err(AssistantError::NoEmbedder);
    }
    let mut tx = app.db.begin().await?;
    let payload = crate::jobs::assistant_embeddings::Payload { store_id: store_id.to_string(), force };
    let id = feria_jobs::enqueue(&mut tx, crate::jobs::assistant_embeddings::KIND, &payload, app.config.jobs.max_attempts).await?;
    tx.commit().await?;
    Ok(Done::new(id, Effects::wake_jobs(true)))
}

/// After a product write in `conn`'s transaction: queues a refresh of the store's embeddings when
/// it has some and none is waiting already (the refresh embeds only what changed); whether one
/// was queued.
pub async fn refresh_soon(conn: &mut feria_db::AnyConnection, app: &App, store_id: &str) -> Result<bool, sqlx::Error> {
    let has: Option<String> = sqlx::query_scalar("SELECT product_id FROM product_embeddings WHERE store_id = $1 LIMIT 1")
        .bind(store_id)
        .fetch_optional(&mut *conn)
        .await?;
    if has.is_none() {
        return Ok(false);
    }
    let payload = crate::jobs::assistant_embeddings::Payload { store_id: store_id.to_string(), force: false };
    let text = serde_json::to_string(&payload).expect("a payload serialises");
    let waiting: Option<String> = sqlx::query_scalar("SELECT id FROM jobs WHERE kind = $1 AND state = 'queued' AND payload = $2 LIMIT 1")
        .bind(crate::jobs::assistant_embeddings::KIND)
        .bind(&text)
        .fetch_optional(&mut *conn)
        .await?;
    if waiting.is_some() {
        return Ok(false);
    }
    feria_jobs::enqueue(conn, crate::jobs::assistant_embeddings::KIND, &payload, app.config.jobs.max_attempts).await?;
    Ok(true)
}

/// Seed 001's consistency check of one entity.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityCheck {
    pub db_count: i64,
    pub embeddings_count: i64,
    /// Embeddings made from the product's current text with the configured model.
    pub current_count: i64,
    pub is_consistent: bool,
    pub last_sync: Option<String>,
}

/// How the store's product embeddings compare with its active products.
pub async fn check(app: &App, store_id: &str) -> Result<EntityCheck, sqlx::Error> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM products WHERE store_id = $1 AND is_active = 1) AS products,
                (SELECT COUNT(*) FROM product_embeddings WHERE store_id = $1) AS embeddings,
                (SELECT COUNT(*) FROM product_embeddings WHERE store_id = $1 AND model = $2) AS current,
                (SELECT MAX(updated_at) FROM product_embeddings WHERE store_id = $1) AS last_sync",
    )
    .bind(store_id)
    .bind(&app.config.chat.embedding_model)
    .fetch_one(app.db.reader())
    .await?;
    let (products, embeddings, current): (i64, i64, i64) = (row.try_get("products")?, row.try_get("embeddings")?, row.try_get("current")?);
    Ok(EntityCheck {
        db_count: products,
        embeddings_count: embeddings,
        current_count: current,
        is_consistent: products == embeddings && embeddings == current,
        last_sync: row.try_get("last_sync")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_survive_storage() {
        let v = unit(vec![3.0, 4.0]);
        assert_eq!(decode(&encode(&v)), Some(vec![0.6, 0.8]));
        assert_eq!(decode("AAA"), None);
    }
}
