//! A product's fields as sent, in JSON or multipart with images, and their validation.

use axum::extract::{FromRequest, Multipart, Request};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::{ApiError, ApiResult, FieldError};
use crate::http::form::{FormBody, file_bytes, malformed};
use crate::http::json::parse_json;
use crate::http::validate::Validator;
use crate::services::catalog::product_writes::NewImage;
use crate::services::catalog::products::ProductData;
use crate::services::catalog::stores::Store;
use crate::services::files::ImageFormat;
use feria_domain::decimal::DecimalText;

use super::MAX_IMAGES;

/// Tags as a comma-separated string or a list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TagsInput {
    Csv(String),
    List(Vec<String>),
}

/// A product's fields as JSON. Numbers may also be sent as strings. Required on create:
/// `name`, `description`, `price`, `stock`, `category`, `unit`; on update all are optional.
/// As `multipart/form-data` the same names are form fields, plus `image` files (repeatable).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductRequest {
    /// 3–100 characters.
    pub name: Option<String>,
    /// Up to 2000 characters.
    pub description: Option<String>,
    /// Net price, > 0, with at most the currency's decimals.
    #[schema(value_type = Option<f64>, example = 12500.5)]
    pub price: Option<DecimalText>,
    /// Whole units, ≥ 0.
    #[schema(value_type = Option<i64>, example = 20)]
    pub stock: Option<DecimalText>,
    /// Category id (of this store).
    pub category: Option<String>,
    /// Unit id (of this store).
    pub unit: Option<String>,
    /// Default true.
    pub is_active: Option<bool>,
    /// Percent 0–100 with up to 2 decimals; default 21.
    #[schema(value_type = Option<f64>, example = 21)]
    pub tax_rate: Option<DecimalText>,
    /// Tag names; missing tags are created.
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Option<TagsInput>,
    /// Letters, digits, `-` and `_`, up to 50; unique in the store.
    pub sku: Option<String>,
    /// Kilograms, up to 3 decimals.
    #[schema(value_type = Option<f64>)]
    pub weight: Option<DecimalText>,
    /// Free text up to 100 characters.
    pub dimensions: Option<String>,
}

/// A product body from JSON or multipart, with its images.
pub struct ProductForm {
    fields: ProductRequest,
    pub(super) images: Vec<NewImage>,
    /// Problems found while reading (bad image, unknown field type…).
    problems: Vec<FieldError>,
}

impl FromRequest<AppState> for ProductForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, Self::Rejection> {
        match FormBody::from_request(req, app).await? {
            FormBody::Multipart(multipart) => read_multipart(multipart, app.config.max_file_size).await,
            FormBody::Json(bytes) => Ok(ProductForm { fields: parse_json(&bytes)?, images: Vec::new(), problems: Vec::new() }),
        }
    }
}

async fn read_multipart(mut multipart: Multipart, max_file_size: usize) -> ApiResult<ProductForm> {
    let mut form = ProductForm { fields: ProductRequest::default(), images: Vec::new(), problems: Vec::new() };
    let mut tags: Option<Vec<String>> = None;
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "image" || name == "images" {
            let bytes = file_bytes(field, max_file_size).await?;
            if bytes.is_empty() {
                continue;
            }
            match ImageFormat::sniff(&bytes) {
                Some(format) => form.images.push(NewImage { format, bytes }),
                None => form.problems.push(FieldError::new("image", "Debe ser una imagen JPEG, PNG, WebP o GIF")),
            }
            continue;
        }
        let text = field.text().await.map_err(malformed)?;
        let decimal = || Some(DecimalText(text.trim().to_string()));
        let f = &mut form.fields;
        match name.as_str() {
            "name" => f.name = Some(text),
            "description" => f.description = Some(text),
            "price" => f.price = decimal(),
            "stock" => f.stock = decimal(),
            "category" => f.category = Some(text),
            "unit" => f.unit = Some(text),
            "taxRate" => f.tax_rate = decimal(),
            "weight" => f.weight = decimal(),
            "sku" => f.sku = Some(text),
            "dimensions" => f.dimensions = Some(text),
            "isActive" => match text.trim() {
                "true" | "1" => f.is_active = Some(true),
                "false" | "0" => f.is_active = Some(false),
                _ => form.problems.push(FieldError::new("isActive", "Debe ser true o false")),
            },
            "tags" | "tags[]" => tags.get_or_insert_with(Vec::new).extend(split_tags(&text)),
            _ => form.problems.push(FieldError::new(name.as_str(), "Campo desconocido")),
        }
    }
    form.fields.tags = tags.map(TagsInput::List);
    if form.images.len() > MAX_IMAGES {
        form.problems.push(FieldError::new("image", format!("Como máximo {MAX_IMAGES} imágenes")));
    }
    Ok(form)
}

pub(super) fn split_tags(csv: &str) -> Vec<String> {
    csv.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect()
}

/// Validates `fields` on top of `current` (update) or from nothing (create).
pub(super) fn validate(form: &mut ProductForm, store: &Store, current: Option<ProductData>) -> ApiResult<ProductData> {
    let mut v = Validator::new();
    for problem in form.problems.drain(..) {
        v.add(&problem.field, problem.message);
    }
    let f = &form.fields;
    let creating = current.is_none();
    let exponent = store.currency.exponent();
    let required = |v: &mut Validator, field: &str, present: bool| {
        if creating && !present {
            v.add(field, "Es obligatorio");
        }
    };
    let name = f.name.as_deref().map(|n| v.text("name", Some(n), 3, 100));
    required(&mut v, "name", f.name.is_some());
    let description = f.description.as_deref().map(|d| v.text("description", Some(d), 1, 2000));
    required(&mut v, "description", f.description.is_some());
    let price = v.decimal("price", f.price.as_ref(), exponent);
    required(&mut v, "price", f.price.is_some());
    if price == Some(0) {
        v.add("price", "Debe ser mayor que 0");
    }
    let stock = v.decimal("stock", f.stock.as_ref(), 0);
    required(&mut v, "stock", f.stock.is_some());
    let tax_rate = v.decimal("taxRate", f.tax_rate.as_ref(), 2);
    if tax_rate.is_some_and(|t| t > 10_000) {
        v.add("taxRate", "Debe estar entre 0 y 100");
    }
    let weight = v.decimal("weight", f.weight.as_ref(), 3);
    required(&mut v, "category", f.category.is_some());
    required(&mut v, "unit", f.unit.is_some());
    let sku = f.sku.as_deref().map(str::trim).map(|s| {
        if s.is_empty() {
            None
        } else {
            if s.len() > 50 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                v.add("sku", "Solo letras, dígitos, '-' y '_', hasta 50 caracteres");
            }
            Some(s.to_string())
        }
    });
    let dimensions = f.dimensions.as_deref().map(|d| v.optional_text("dimensions", Some(d), 0, 100).filter(|d| !d.is_empty()));
    let tags = f.tags.as_ref().map(|t| match t {
        TagsInput::Csv(csv) => split_tags(csv),
        TagsInput::List(list) => list.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
    });
    if tags.as_ref().is_some_and(|tags| tags.iter().any(|t| t.chars().count() > 50)) {
        v.add("tags", "Cada etiqueta tiene como máximo 50 caracteres");
    }
    v.finish()?;
    let base = current.unwrap_or(ProductData {
        name: String::new(),
        description: String::new(),
        sku: None,
        price: 0,
        tax_rate_bp: 2100,
        stock: 0,
        is_active: true,
        weight_grams: None,
        dimensions: None,
        category_id: String::new(),
        unit_id: String::new(),
        tags: Vec::new(),
    });
    let mut tags = tags.unwrap_or(base.tags);
    tags.sort_by_key(|t| t.to_lowercase());
    tags.dedup_by_key(|t| t.to_lowercase());
    Ok(ProductData {
        name: name.unwrap_or(base.name),
        description: description.unwrap_or(base.description),
        sku: sku.unwrap_or(base.sku),
        price: price.unwrap_or(base.price),
        tax_rate_bp: tax_rate.unwrap_or(base.tax_rate_bp),
        stock: stock.unwrap_or(base.stock),
        is_active: f.is_active.unwrap_or(base.is_active),
        weight_grams: weight.or(base.weight_grams),
        dimensions: dimensions.unwrap_or(base.dimensions),
        category_id: f.category.clone().map(|c| c.trim().to_string()).unwrap_or(base.category_id),
        unit_id: f.unit.clone().map(|u| u.trim().to_string()).unwrap_or(base.unit_id),
        tags,
    })
}
