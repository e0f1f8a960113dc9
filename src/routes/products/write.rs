//! Creating, updating and deleting products, with their images.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{Staff, scope};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::services::catalog::product_writes;
use crate::services::catalog::products::ProductData;

use super::form::validate;
use super::{ProductForm, ProductRequest, ProductView, load};

/// Creates a product (admin).
#[utoipa::path(post, path = "/products", tag = "products", security(("bearer" = [])),
    request_body(content(
        (ProductRequest = "application/json"),
        (ProductRequest = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Created", body = ProductView),
        (status = 409, description = "SKU taken", body = ErrorBody),
        (status = 413, description = "Image or body too large", body = ErrorBody),
        (status = 415, description = "Neither JSON nor multipart", body = ErrorBody),
        (status = 422, description = "Invalid fields or not an image", body = ErrorBody),
        (status = 502, description = "The image bucket failed; nothing was saved", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    Staff(staff, _): Staff<scope::CatalogWrite>,
    CurrentStore(store): CurrentStore,
    mut form: ProductForm,
) -> ApiResult<(StatusCode, Json<ProductView>)> {
    let data = validate(&mut form, &store, None)?;
    let id = app.settle(product_writes::create_product(&app, &staff, &store, &data, &form.images).await?).await;
    let product = load(&app, &store, &id).await?;
    Ok((StatusCode::CREATED, Json(ProductView::new(&product, &store))))
}

/// Updates a product (admin). Sending images replaces all of them.
#[utoipa::path(put, path = "/products/{id}", tag = "products", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content(
        (ProductRequest = "application/json"),
        (ProductRequest = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "Updated", body = ProductView),
        (status = 404, description = "No such product in this store", body = ErrorBody),
        (status = 409, description = "SKU taken", body = ErrorBody),
        (status = 413, description = "Image or body too large", body = ErrorBody),
        (status = 422, description = "Invalid fields or not an image", body = ErrorBody),
        (status = 502, description = "The image bucket failed; nothing was saved", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    Staff(staff, _): Staff<scope::CatalogWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    mut form: ProductForm,
) -> ApiResult<Json<ProductView>> {
    let current = load(&app, &store, &id).await?;
    let data = validate(&mut form, &store, Some(ProductData::of(&current)))?;
    app.settle(product_writes::update_product(&app, &staff, &store, &current, &data, &form.images).await?).await;
    let product = load(&app, &store, &id).await?;
    Ok(Json(ProductView::new(&product, &store)))
}

/// The deleted product's id and name.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedProduct {
    pub id: String,
    pub name: String,
}

/// `{message, product}` after a delete (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDeleted {
    pub message: String,
    pub product: DeletedProduct,
}

/// Deletes a product and its images (admin).
#[utoipa::path(delete, path = "/products/{id}", tag = "products", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "Deleted", body = ProductDeleted),
        (status = 404, description = "No such product in this store", body = ErrorBody),
    ))]
pub async fn delete(
    State(app): State<AppState>,
    Staff(staff, _): Staff<scope::CatalogWrite>,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<ProductDeleted>> {
    let product = load(&app, &store, &id).await?;
    app.settle(product_writes::delete_product(&app, &staff, &store, &product).await?).await;
    Ok(Json(ProductDeleted {
        message: "Producto eliminado".into(),
        product: DeletedProduct { id: product.id.clone(), name: product.name.clone() },
    }))
}
