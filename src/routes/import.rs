//! Bulk import and export of products (seed 004 "Import Service"): upload a CSV or XLSX, follow
//! the import job, download the template or the whole catalog.

use axum::Json;
use axum::extract::{FromRequest, Multipart, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

use crate::app::{App, AppState};
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiError, ApiResult, ErrorBody, codes};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::services::catalog::import::{self, ImportRecord};
use crate::services::catalog::import_file::{COLUMNS, Format};
use crate::services::catalog::products::{self, ListFilter};
use crate::services::catalog::stores::Store;

/// `{jobId, status}` for an accepted import.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportAccepted {
    /// Follow it at `GET /api/import/status/{jobId}`.
    pub job_id: String,
    pub status: String,
}

fn unsupported() -> ApiError {
    ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, codes::UNSUPPORTED_MEDIA_TYPE, "El archivo debe ser CSV o XLSX")
}

/// Streams the `file` field of a multipart upload to a new file in `IMPORTS_DIR`; returns its
/// path and format, refusing files that are not CSV or XLSX or are larger than allowed.
async fn receive_file(app: &App, request: Request) -> ApiResult<(std::path::PathBuf, Format)> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|r| if r.status() == StatusCode::BAD_REQUEST { unsupported() } else { ApiError::for_status(r.status()) })?;
    let malformed = |e: axum::extract::multipart::MultipartError| ApiError::for_status(e.status());
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        if field.name() != Some("file") {
            continue;
        }
        let named_xlsx = field.file_name().is_some_and(|n| n.to_lowercase().ends_with(".xlsx"));
        tokio::fs::create_dir_all(&app.config.imports_dir).await.map_err(ApiError::internal)?;
        let path = app.config.imports_dir.join(feria_domain::ids::new_id());
        let mut file = tokio::fs::File::create(&path).await.map_err(ApiError::internal)?;
        let (mut size, mut head) = (0usize, Vec::new());
        let result: ApiResult<()> = async {
            while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                size += chunk.len();
                if size > app.config.import_max_bytes {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        codes::PAYLOAD_TOO_LARGE,
                        "El archivo supera el tamaño máximo de importación",
                    ));
                }
                if head.len() < 4096 {
                    head.extend_from_slice(&chunk[..chunk.len().min(4096 - head.len())]);
                }
                file.write_all(&chunk).await.map_err(ApiError::internal)?;
            }
            file.flush().await.map_err(ApiError::internal)?;
            Ok(())
        }
        .await;
        let format = Format::sniff(&head);
        let outcome = match (result, format) {
            (Err(e), _) => Err(e),
            (Ok(()), _) if size == 0 => Err(ApiError::field("file", "El archivo está vacío")),
            (Ok(()), Some(Format::Csv)) if named_xlsx => Err(unsupported()),
            (Ok(()), Some(format)) => Ok((path.clone(), format)),
            (Ok(()), None) => Err(unsupported()),
        };
        if outcome.is_err() {
            let _ = tokio::fs::remove_file(&path).await;
        }
        return outcome;
    }
    Err(ApiError::field("file", "Falta el archivo (campo 'file')"))
}

/// Accepts a CSV or XLSX of products (multipart field `file`) and queues its import.
/// Validation happens in the job: if any row is wrong nothing is imported and every bad row is
/// reported in the job's status.
#[utoipa::path(post, path = "/products/bulk-import", tag = "import", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "Field `file`: a CSV or XLSX with the template's columns"),
    responses(
        (status = 202, description = "Queued", body = ImportAccepted),
        (status = 413, description = "File too large", body = ErrorBody),
        (status = 415, description = "Not CSV or XLSX", body = ErrorBody),
        (status = 422, description = "No file or an empty one", body = ErrorBody),
    ))]
pub async fn bulk_import(
    State(app): State<AppState>,
    Staff(caller, _): Staff<scope::PricesWrite>,
    CurrentStore(store): CurrentStore,
    request: Request,
) -> ApiResult<(StatusCode, Json<ImportAccepted>)> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "Se esperaba multipart/form-data con el campo 'file'",
        ));
    }
    let (path, format) = receive_file(&app, request).await?;
    let id = app.settle(import::start(&app, &store.id, caller.key.is_none().then_some(caller.id.as_str()), format, &path).await?).await;
    Ok((StatusCode::ACCEPTED, Json(ImportAccepted { job_id: id, status: "queued".into() })))
}

/// An import's progress and outcome.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportStatus {
    pub job_id: String,
    /// `queued`, `validating`, `importing`, `done` or `failed`.
    pub status: String,
    pub format: String,
    pub rows_total: i64,
    pub rows_processed: i64,
    pub created: i64,
    pub updated: i64,
    /// Problems found, at most 1000 listed; `errorCount` counts them all.
    pub errors: Vec<ImportRowError>,
    pub error_count: i64,
    /// Why the whole file was refused, if it was.
    pub failure: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// One problem in one row.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportRowError {
    /// Line in the file; the header is line 1.
    pub row: usize,
    pub column: String,
    pub message: String,
}

impl From<ImportRecord> for ImportStatus {
    fn from(r: ImportRecord) -> ImportStatus {
        ImportStatus {
            job_id: r.id,
            status: r.state,
            format: r.format,
            rows_total: r.rows_total,
            rows_processed: r.rows_processed,
            created: r.created,
            updated: r.updated,
            errors: r.errors.into_iter().map(|e| ImportRowError { row: e.row, column: e.column, message: e.message }).collect(),
            error_count: r.error_count,
            failure: r.failure,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}

/// The state of an import of this store.
#[utoipa::path(get, path = "/import/status/{id}", tag = "import", security(("bearer" = [])), params(("id" = String, Path, description = "The jobId")),
    responses(
        (status = 200, description = "The import", body = ImportStatus),
        (status = 404, description = "No such import in this store", body = ErrorBody),
    ))]
pub async fn import_status(
    State(app): State<AppState>,
    _staff: Staff<scope::CatalogRead>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<ImportStatus>> {
    let record = import::find(&mut *app.db.reader().acquire().await?, &store.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Importación no encontrada"))?;
    Ok(Json(record.into()))
}

fn format_param(query: Option<&str>, default: Format) -> ApiResult<Format> {
    let value = form_urlencoded::parse(query.unwrap_or("").as_bytes()).find(|(k, _)| k == "format").map(|(_, v)| v.into_owned());
    match value.as_deref() {
        None => Ok(default),
        Some("csv") => Ok(Format::Csv),
        Some("xlsx") => Ok(Format::Xlsx),
        Some(_) => Err(ApiError::field("format", "Debe ser csv o xlsx")),
    }
}

fn download(format: Format, name: &str, bytes: Vec<u8>) -> Response {
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };
    let disposition = format!("attachment; filename=\"{name}.{}\"", format.as_str());
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

/// A CSV cell a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading `'` (OWASP's advice on CSV injection). Exported
/// numbers are never negative, so none is changed.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}").into() } else { cell.into() }
}

/// Writes `rows` (the first is the header) as CSV or XLSX. Cells that read as plain decimal
/// numbers become numeric cells in XLSX.
fn spreadsheet(format: Format, rows: &[Vec<String>]) -> ApiResult<Vec<u8>> {
    match format {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for row in rows {
                writer.write_record(row.iter().map(|cell| inert(cell).into_owned())).map_err(ApiError::internal)?;
            }
            writer.into_inner().map_err(ApiError::internal)
        }
        Format::Xlsx => {
            let mut workbook = rust_xlsxwriter::Workbook::new();
            let sheet = workbook.add_worksheet();
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    let numeric =
                        r > 0 && !cell.is_empty() && cell.chars().all(|ch| ch.is_ascii_digit() || ch == '.') && cell.parse::<f64>().is_ok();
                    let written = if numeric {
                        sheet.write_number(r as u32, c as u16, cell.parse::<f64>().unwrap_or_default())
                    } else {
                        sheet.write_string(r as u32, c as u16, cell)
                    };
                    written.map_err(ApiError::internal)?;
                }
            }
            workbook.save_to_buffer().map_err(ApiError::internal)
        }
    }
}

fn header_row() -> Vec<String> {
    COLUMNS.iter().map(|(es, _)| es.to_string()).collect()
}

/// The import template with one example row (`?format=xlsx|csv`, default xlsx).
#[utoipa::path(get, path = "/import/template", tag = "import", params(("format" = Option<String>, Query, description = "xlsx (default) or csv")),
    responses(
        (status = 200, description = "The template file", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 422, description = "Unknown format", body = ErrorBody),
    ))]
pub async fn template(RawQuery(query): RawQuery) -> ApiResult<Response> {
    let format = format_param(query.as_deref(), Format::Xlsx)?;
    let example: Vec<String> = [
        "Bife de chorizo",
        "Corte premium de novillo",
        "18900.50",
        "Carnes vacunas",
        "BIFE-001",
        "20",
        "https://example.com/bife.jpg",
        "1.2",
        "30x20x5 cm",
    ]
    .map(String::from)
    .to_vec();
    Ok(download(format, "plantilla-productos", spreadsheet(format, &[header_row(), example])?))
}

async fn export_rows(app: &App, store: &Store) -> ApiResult<Vec<Vec<String>>> {
    let mut rows = vec![header_row()];
    let mut conn = app.db.reader().acquire().await?;
    let filter = ListFilter { active_only: false, category_id: None };
    let exponent = store.currency.exponent();
    let mut page = 0;
    loop {
        let (_, batch) = products::list(&mut conn, &store.id, &filter, 500, page * 500).await?;
        if batch.is_empty() {
            break;
        }
        for p in batch {
            rows.push(vec![
                p.name,
                p.description,
                feria_domain::money::format_scaled(p.price, exponent),
                p.category.name,
                p.sku.unwrap_or_default(),
                p.stock.to_string(),
                p.images.first().map(|i| i.url.clone()).unwrap_or_default(),
                p.weight_grams.map(|g| feria_domain::money::format_scaled(g, 3)).unwrap_or_default(),
                p.dimensions.unwrap_or_default(),
            ]);
        }
        page += 1;
    }
    Ok(rows)
}

/// Every product of the store in the import template's columns (`?format=csv|xlsx`, default csv),
/// so an export can be edited and imported back.
#[utoipa::path(get, path = "/products/export", tag = "import", security(("bearer" = [])),
    params(("format" = Option<String>, Query, description = "csv (default) or xlsx")),
    responses(
        (status = 200, description = "The catalog file", content_type = "text/csv"),
        (status = 422, description = "Unknown format", body = ErrorBody),
    ))]
pub async fn export(
    State(app): State<AppState>,
    _staff: Staff<scope::CatalogRead>,
    CurrentStore(store): CurrentStore,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let format = format_param(query.as_deref(), Format::Csv)?;
    let rows = export_rows(&app, &store).await?;
    Ok(download(format, "productos", spreadsheet(format, &rows)?))
}
