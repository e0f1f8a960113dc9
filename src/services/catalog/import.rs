//! Bulk product import from CSV or XLSX (seed 004 "Import Service").
//!
//! The uploaded file is kept on disk and read twice as a stream, never whole in memory: first
//! every row is validated (nothing is written if any row is wrong, and every wrong row is
//! reported), then all rows are applied in one transaction, upserting by SKU and creating
//! unknown categories.

use std::collections::{HashMap, HashSet};

use feria_db::{AnyConnection, AnyRow, Row};
use feria_domain::money::parse_scaled;
use feria_domain::{ids::new_id, time};
use serde::Serialize;

use super::import_file::{Format, Header, read_rows};
use super::products::{self, ProductData};
use super::taxonomy::{self, Taxonomy};
use crate::app::App;
use crate::services::effects::{Done, Effects};
use crate::services::notifications::{self, NewEvent};
use feria_domain::notify::EventKind;

/// One problem in one row of the file.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RowError {
    /// Line in the file (the header is line 1).
    pub row: usize,
    pub column: String,
    pub message: String,
}

/// Rows reported per import; the count includes the rest.
const MAX_REPORTED_ERRORS: usize = 1000;

/// A valid row, ready to write.
#[derive(Debug, Clone)]
struct ImportRow {
    name: String,
    description: String,
    price: i64,
    category: String,
    sku: Option<String>,
    stock: i64,
    image_url: Option<String>,
    weight_grams: Option<i64>,
    dimensions: Option<String>,
}

fn validate_row(
    header: &Header,
    line: usize,
    cells: &[String],
    exponent: u32,
    skus: &mut HashSet<String>,
) -> Result<ImportRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut err = |column: &str, message: String| errors.push(RowError { row: line, column: column.to_string(), message });
    let name = header.get(cells, "name");
    let length = name.chars().count();
    if !(3..=100).contains(&length) {
        err("nombre", "Debe tener entre 3 y 100 caracteres".into());
    }
    let description = header.get(cells, "description");
    if description.chars().count() > 2000 {
        err("descripción", "Debe tener como máximo 2000 caracteres".into());
    }
    let price = match parse_scaled(header.get(cells, "price"), exponent) {
        Ok(0) => {
            err("precio", "Debe ser mayor que 0".into());
            0
        }
        Ok(p) => p,
        Err(e) => {
            err("precio", format!("'{}' {e}", header.get(cells, "price")));
            0
        }
    };
    let category = header.get(cells, "category");
    if category.is_empty() || category.chars().count() > 100 {
        err("categoria", "Es obligatoria (hasta 100 caracteres)".into());
    }
    let sku = header.get(cells, "sku");
    if !sku.is_empty() {
        if sku.len() > 50 || !sku.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            err("sku", "Solo letras, dígitos, '-' y '_', hasta 50 caracteres".into());
        } else if !skus.insert(sku.to_string()) {
            err("sku", format!("El SKU {sku} se repite en el archivo"));
        }
    }
    let stock_text = header.get(cells, "stock");
    let stock = if stock_text.is_empty() {
        0
    } else {
        parse_scaled(stock_text, 0).unwrap_or_else(|e| {
            err("stock", format!("'{stock_text}' {e}"));
            0
        })
    };
    let image_url = header.get(cells, "image_url");
    let is_url = image_url.starts_with("https://") || image_url.starts_with("http://");
    if !image_url.is_empty() && (!is_url || image_url.len() > 2048) {
        err("imagen_url", "Debe ser una URL http(s)".into());
    }
    let weight_text = header.get(cells, "weight");
    let weight_grams = if weight_text.is_empty() {
        None
    } else {
        match parse_scaled(weight_text, 3) {
            Ok(g) => Some(g),
            Err(e) => {
                err("peso", format!("'{weight_text}' {e}"));
                None
            }
        }
    };
    let dimensions = header.get(cells, "dimensions");
    if dimensions.chars().count() > 100 {
        err("dimensiones", "Debe tener como máximo 100 caracteres".into());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let optional = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(ImportRow {
        name: name.to_string(),
        description: description.to_string(),
        price,
        category: category.to_string(),
        sku: optional(sku),
        stock,
        image_url: optional(image_url),
        weight_grams,
        dimensions: optional(dimensions),
    })
}

/// An import as stored.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRecord {
    pub id: String,
    #[serde(skip)]
    pub store_id: String,
    pub format: String,
    #[serde(skip)]
    pub file_path: String,
    /// `queued`, `validating`, `importing`, `done` or `failed`.
    pub state: String,
    pub rows_total: i64,
    pub rows_processed: i64,
    pub created: i64,
    pub updated: i64,
    pub error_count: i64,
    pub errors: Vec<RowError>,
    /// Why the whole file was refused (unreadable, empty, missing columns), if it was.
    pub failure: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

const IMPORT_COLUMNS: &str = "id, store_id, format, file_path, state, rows_total, rows_processed, created_count, updated_count, error_count, errors, failure, created_at, finished_at";

fn import_from_row(row: &AnyRow) -> Result<ImportRecord, sqlx::Error> {
    let errors: String = row.try_get("errors")?;
    Ok(ImportRecord {
        id: row.try_get("id")?,
        store_id: row.try_get("store_id")?,
        format: row.try_get("format")?,
        file_path: row.try_get("file_path")?,
        state: row.try_get("state")?,
        rows_total: row.try_get("rows_total")?,
        rows_processed: row.try_get("rows_processed")?,
        created: row.try_get("created_count")?,
        updated: row.try_get("updated_count")?,
        error_count: row.try_get("error_count")?,
        errors: serde_json::from_str(&errors).unwrap_or_default(),
        failure: row.try_get("failure")?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// Starts importing the uploaded file at `path` into the store for `started_by` (a user, told
/// when it finishes; none for an API key): the import is recorded and its job queued in one
/// transaction; answers the import's id. If that fails the file is removed.
pub async fn start(
    app: &App,
    store_id: &str,
    started_by: Option<&str>,
    format: Format,
    path: &std::path::Path,
) -> Result<Done<String>, sqlx::Error> {
    let queued = async {
        let mut tx = app.db.begin().await?;
        let id = create(&mut tx, store_id, started_by, format, &path.display().to_string()).await?;
        let job = serde_json::json!({"importId": id});
        feria_jobs::enqueue(&mut tx, crate::jobs::import_products::KIND, &job, app.config.jobs.max_attempts).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(id)
    }
    .await;
    match queued {
        Ok(id) => Ok(Done::new(id, Effects::wake_jobs(true))),
        Err(e) => {
            let _ = tokio::fs::remove_file(path).await;
            Err(e)
        }
    }
}

/// Records a queued import of the file at `file_path`; returns its id.
async fn create(
    conn: &mut AnyConnection,
    store_id: &str,
    started_by: Option<&str>,
    format: Format,
    file_path: &str,
) -> Result<String, sqlx::Error> {
    let id = new_id();
    let now = time::to_db(time::now());
    sqlx::query(
        "INSERT INTO product_imports (id, store_id, started_by, format, file_path, state, rows_total, rows_processed, created_count,
             updated_count, error_count, errors, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', 0, 0, 0, 0, 0, '[]', $6, $6)",
    )
    .bind(&id)
    .bind(store_id)
    .bind(started_by)
    .bind(format.as_str())
    .bind(file_path)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// The store's import `id`.
pub async fn find(conn: &mut AnyConnection, store_id: &str, id: &str) -> Result<Option<ImportRecord>, sqlx::Error> {
    let sql = format!("SELECT {IMPORT_COLUMNS} FROM product_imports WHERE id = $1 AND store_id = $2");
    sqlx::query(&sql).bind(id).bind(store_id).fetch_optional(conn).await?.as_ref().map(import_from_row).transpose()
}

async fn set_state(app: &App, id: &str, state: &str, rows_processed: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE product_imports SET state = $1, rows_processed = $2, updated_at = $3 WHERE id = $4")
        .bind(state)
        .bind(rows_processed)
        .bind(time::to_db(time::now()))
        .bind(id)
        .execute(app.db.writer())
        .await?;
    Ok(())
}

/// Records how import `record` ended and tells whoever started it, in one transaction.
async fn finish(app: &App, record: &ImportRecord) -> Result<(), sqlx::Error> {
    let errors = serde_json::to_string(&record.errors).expect("errors serialise");
    let now = time::to_db(time::now());
    let mut tx = app.db.begin().await?;
    let started_by: Option<String> =
        sqlx::query_scalar("SELECT started_by FROM product_imports WHERE id = $1").bind(&record.id).fetch_one(&mut *tx).await?;
    sqlx::query(
        "UPDATE product_imports SET state = $1, rows_total = $2, rows_processed = $3, created_count = $4, updated_count = $5,
             error_count = $6, errors = $7, failure = $8, updated_at = $9, finished_at = $9 WHERE id = $10",
    )
    .bind(&record.state)
    .bind(record.rows_total)
    .bind(record.rows_processed)
    .bind(record.created)
    .bind(record.updated)
    .bind(record.error_count)
    .bind(errors)
    .bind(&record.failure)
    .bind(now)
    .bind(&record.id)
    .execute(&mut *tx)
    .await?;
    let data = serde_json::json!({
        "userId": started_by,
        "import": {"id": record.id, "done": record.state == "done", "created": record.created, "updated": record.updated,
                   "errors": record.error_count, "failure": record.failure},
    });
    let event = NewEvent {
        store_id: Some(record.store_id.clone()),
        kind: EventKind::ImportFinished,
        dedupe_key: format!("import_finished:{}", record.id),
        data,
        secret: false,
        fan_out_at: None,
    };
    let queued = notifications::emit(&mut tx, app, event).await?;
    tx.commit().await?;
    if queued {
        app.job_wake.notify_one();
    }
    Ok(())
}

/// Runs import `id` to the end: validates, then applies everything or nothing. Re-running a
/// finished import does nothing.
pub async fn run(app: &App, id: &str) -> anyhow::Result<()> {
    let sql = format!("SELECT {IMPORT_COLUMNS} FROM product_imports WHERE id = $1");
    let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(app.db.reader()).await? else { return Ok(()) };
    let mut record = import_from_row(&row)?;
    if record.state == "done" || record.state == "failed" {
        return Ok(());
    }
    let format = Format::parse(&record.format).ok_or_else(|| anyhow::anyhow!("unknown import format {}", record.format))?;
    let store = sqlx::query_scalar::<_, String>("SELECT currency FROM stores WHERE id = $1")
        .bind(&record.store_id)
        .fetch_one(app.db.reader())
        .await?;
    let exponent = feria_domain::currency::Currency::parse(&store).map(|c| c.exponent()).unwrap_or(2);
    set_state(app, id, "validating", 0).await?;

    // Pass 1: validate every row, keeping only counts and the errors.
    let path = std::path::PathBuf::from(&record.file_path);
    let validation = tokio::task::spawn_blocking(move || {
        let mut skus = HashSet::new();
        let (mut rows, mut errors, mut error_count) = (0i64, Vec::new(), 0i64);
        let read = read_rows(&path, format, |header, line, cells| {
            rows += 1;
            if let Err(row_errors) = validate_row(header, line, &cells, exponent, &mut skus) {
                error_count += row_errors.len() as i64;
                errors.extend(row_errors.into_iter().take(MAX_REPORTED_ERRORS.saturating_sub(errors.len())));
            }
        });
        (read, rows, errors, error_count)
    })
    .await?;
    let (header, rows, errors, error_count) = validation;
    record.rows_total = rows;
    record.rows_processed = rows;
    record.errors = errors;
    record.error_count = error_count;
    if let Err(failure) = header {
        record.state = "failed".into();
        record.failure = Some(failure);
        return finish_and_clean(app, &record).await;
    }
    if rows == 0 {
        record.state = "failed".into();
        record.failure = Some("El archivo no tiene filas de productos".into());
        return finish_and_clean(app, &record).await;
    }
    if error_count > 0 {
        record.state = "failed".into();
        record.failure = Some(format!("{error_count} error(es) en el archivo: no se importó nada"));
        return finish_and_clean(app, &record).await;
    }

    // Pass 2: apply every row in one transaction.
    set_state(app, id, "importing", rows).await?;
    let (tx_rows, mut rx_rows) = tokio::sync::mpsc::channel::<ImportRow>(256);
    let path = std::path::PathBuf::from(&record.file_path);
    let reader = tokio::task::spawn_blocking(move || {
        let mut skus = HashSet::new();
        read_rows(&path, format, |header, line, cells| {
            if let Ok(row) = validate_row(header, line, &cells, exponent, &mut skus) {
                let _ = tx_rows.blocking_send(row);
            }
        })
    });
    let mut tx = app.db.begin().await?;
    let unit = taxonomy::find_or_create(&mut tx, Taxonomy::Unit, &record.store_id, "unidad").await?;
    let mut categories: HashMap<String, String> = HashMap::new();
    let (mut created, mut updated) = (0i64, 0i64);
    while let Some(row) = rx_rows.recv().await {
        let key = row.category.to_lowercase();
        let category_id = match categories.get(&key) {
            Some(id) => id.clone(),
            None => {
                let category = taxonomy::find_or_create(&mut tx, Taxonomy::Category, &record.store_id, &row.category).await?;
                categories.insert(key, category.id.clone());
                category.id
            }
        };
        let existing = match &row.sku {
            Some(sku) => products::find_by_sku(&mut tx, &record.store_id, sku).await?,
            None => None,
        };
        let mut data = ProductData {
            name: row.name,
            description: row.description,
            sku: row.sku,
            price: row.price,
            tax_rate_bp: 2100,
            stock: row.stock,
            is_active: true,
            weight_grams: row.weight_grams,
            dimensions: row.dimensions,
            category_id,
            unit_id: unit.id.clone(),
            tags: Vec::new(),
        };
        let product_id = match existing {
            Some(product_id) => {
                let current =
                    products::find(&mut tx, &record.store_id, &product_id).await?.ok_or_else(|| anyhow::anyhow!("product vanished"))?;
                data.tax_rate_bp = current.tax_rate_bp;
                data.unit_id = current.unit.id.clone();
                data.tags = current.tags.clone();
                data.is_active = current.is_active;
                products::update(&mut tx, &record.store_id, &product_id, &data).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
                updated += 1;
                product_id
            }
            None => {
                created += 1;
                products::create(&mut tx, &record.store_id, &data).await.map_err(|e| anyhow::anyhow!("{e:?}"))?
            }
        };
        if let Some(url) = row.image_url {
            let image = crate::services::files::StoredFile { key: String::new(), url };
            products::set_images(&mut tx, &product_id, &[image]).await?;
        }
    }
    reader.await?.map_err(|e| anyhow::anyhow!(e))?;
    let queued = crate::services::assistant::embeddings::refresh_soon(&mut tx, app, &record.store_id).await?;
    tx.commit().await?;
    app.catalog_changed(None).await;
    if queued {
        app.job_wake.notify_one();
    }
    record.state = "done".into();
    record.created = created;
    record.updated = updated;
    finish_and_clean(app, &record).await
}

async fn finish_and_clean(app: &App, record: &ImportRecord) -> anyhow::Result<()> {
    finish(app, record).await?;
    let _ = tokio::fs::remove_file(&record.file_path).await;
    Ok(())
}
