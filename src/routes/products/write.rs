//! Creating, updating and deleting products, with their images.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::{App, AppState};
use crate::http::auth::AdminUser;
use crate::http::error::{ApiError, ApiResult, ErrorBody, FieldError, codes};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::services::catalog::products::{self, ProductData, WriteError};
use crate::services::files::{FileError, StoredFile};

use super::form::{Upload, validate};
use super::{ProductForm, ProductRequest, ProductView, load, product_not_found};

fn write_error(err: WriteError) -> ApiError {
    match err {
        WriteError::UnknownCategory => ApiError::field("category", "La categoría no existe en esta tienda"),
        WriteError::UnknownUnit => ApiError::field("unit", "La unidad no existe en esta tienda"),
        WriteError::SkuTaken => {
            let mut conflict = ApiError::conflict(codes::SKU_TAKEN, "Ya existe un producto con ese SKU");
            conflict.details.push(FieldError::new("sku", "Ya está en uso en esta tienda"));
            conflict
        }
        WriteError::Database(e) => ApiError::internal(e),
    }
}

async fn store_images(app: &App, images: &[Upload]) -> ApiResult<Vec<StoredFile>> {
    let mut stored = Vec::with_capacity(images.len());
    for image in images {
        match app.files.put_image("products", image.format, &image.bytes).await {
            Ok(file) => stored.push(file),
            Err(e) => {
                discard(app, &stored).await;
                return Err(match e {
                    FileError::Local(e) => ApiError::internal(format!("storing an image: {e}")),
                    FileError::Bucket(e) => ApiError::upstream("El almacenamiento de imágenes no respondió; no se guardó nada", e),
                });
            }
        }
    }
    Ok(stored)
}

async fn discard(app: &App, files: &[StoredFile]) {
    for file in files {
        app.files.delete(&file.key).await;
    }
}

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
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    mut form: ProductForm,
) -> ApiResult<(StatusCode, Json<ProductView>)> {
    let data = validate(&mut form, &store, None)?;
    let stored = store_images(&app, &form.images).await?;
    let result = async {
        let mut tx = app.db.begin().await?;
        let id = products::create(&mut tx, &store.id, &data).await.map_err(write_error)?;
        products::set_images(&mut tx, &id, &stored).await?;
        tx.commit().await?;
        app.catalog_changed(Some(std::slice::from_ref(&id))).await;
        Ok::<_, ApiError>(id)
    }
    .await;
    let id = match result {
        Ok(id) => id,
        Err(e) => {
            discard(&app, &stored).await;
            return Err(e);
        }
    };
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
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    mut form: ProductForm,
) -> ApiResult<Json<ProductView>> {
    let current = load(&app, &store, &id).await?;
    let data = validate(&mut form, &store, Some(ProductData::of(&current)))?;
    let replacing_images = !form.images.is_empty();
    let stored = store_images(&app, &form.images).await?;
    let result = async {
        let mut tx = app.db.begin().await?;
        if !products::update(&mut tx, &store.id, &id, &data).await.map_err(write_error)? {
            return Err(product_not_found());
        }
        if replacing_images {
            products::set_images(&mut tx, &id, &stored).await?;
        }
        tx.commit().await?;
        app.catalog_changed(Some(std::slice::from_ref(&id))).await;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        discard(&app, &stored).await;
        return Err(e);
    }
    if replacing_images {
        for old in &current.images {
            app.files.delete(&old.storage_key).await;
        }
    }
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
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<ProductDeleted>> {
    let product = load(&app, &store, &id).await?;
    let mut tx = app.db.begin().await?;
    if !products::delete(&mut tx, &store.id, &id).await? {
        return Err(product_not_found());
    }
    tx.commit().await?;
    app.catalog_changed(Some(std::slice::from_ref(&id))).await;
    for image in &product.images {
        app.files.delete(&image.storage_key).await;
    }
    Ok(Json(ProductDeleted {
        message: "Producto eliminado".into(),
        product: DeletedProduct { id: product.id.clone(), name: product.name.clone() },
    }))
}
