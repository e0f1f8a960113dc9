//! Creating, updating and deleting a product with its images. Images are stored first (outside
//! the transaction: a file store or bucket is not transactional); when the database write
//! fails they are removed again, and the images a write replaced are removed once it committed.

use std::sync::Arc;

use super::products::{self, Product, ProductData, WriteError};
use super::stores::Store;
use crate::app::App;
use crate::services::assistant::embeddings;
use crate::services::effects::{CatalogChange, Done, Effects};
use crate::services::files::{FileFormat, ImageFormat, StoredFile};
use crate::services::identity::caller::Caller;
use feria_domain::access::Scope;

/// An image sent with a product, already recognised as one.
pub struct NewImage {
    pub format: ImageFormat,
    pub bytes: axum::body::Bytes,
}

/// Creates a product in the store with `images` (`catalog:write`; setting its price needs
/// `prices:write`); answers its id.
pub async fn create_product(
    app: &App,
    caller: &Caller,
    store: &Store,
    data: &ProductData,
    images: &[NewImage],
) -> Result<Done<String>, WriteError> {
    if !caller.may(&store.id, Scope::CatalogWrite) || !caller.may(&store.id, Scope::PricesWrite) {
        return Err(WriteError::NotAllowed);
    }
    let stored = store_images(app, images).await?;
    let written = async {
        let mut tx = app.db.begin().await?;
        let id = products::create(&mut tx, &store.id, data).await?;
        products::set_images(&mut tx, &id, &stored).await?;
        let queued = embeddings::refresh_soon(&mut tx, app, &store.id).await?;
        tx.commit().await?;
        Ok::<_, WriteError>((id, queued))
    }
    .await;
    match written {
        Ok((id, queued)) => Ok(Done::new(id.clone(), Effects { wake_jobs: queued, ..Effects::catalog(CatalogChange::Products(vec![id])) })),
        Err(e) => {
            app.files.delete_all(&stored).await;
            Err(e)
        }
    }
}

/// Updates the store's product `current` with `data` (`catalog:write`; a new price needs
/// `prices:write`); images sent replace all of them.
pub async fn update_product(
    app: &App,
    caller: &Caller,
    store: &Store,
    current: &Product,
    data: &ProductData,
    images: &[NewImage],
) -> Result<Done<()>, WriteError> {
    let repriced = data.price != current.price || data.tax_rate_bp != current.tax_rate_bp;
    if !caller.may(&store.id, Scope::CatalogWrite) || (repriced && !caller.may(&store.id, Scope::PricesWrite)) {
        return Err(WriteError::NotAllowed);
    }
    let stored = store_images(app, images).await?;
    let written = async {
        let mut tx = app.db.begin().await?;
        if !products::update(&mut tx, &store.id, &current.id, data).await? {
            return Err(WriteError::UnknownProduct);
        }
        if !images.is_empty() {
            products::set_images(&mut tx, &current.id, &stored).await?;
        }
        let queued = embeddings::refresh_soon(&mut tx, app, &store.id).await?;
        tx.commit().await?;
        Ok(queued)
    }
    .await;
    let queued = match written {
        Ok(queued) => queued,
        Err(e) => {
            app.files.delete_all(&stored).await;
            return Err(e);
        }
    };
    if !images.is_empty() {
        for old in &current.images {
            app.files.delete(&old.storage_key).await;
        }
    }
    Ok(Done::new((), Effects { wake_jobs: queued, ..Effects::catalog(CatalogChange::Products(vec![current.id.clone()])) }))
}

/// Deletes the store's product `product` and its images (`catalog:write`).
pub async fn delete_product(app: &App, caller: &Caller, store: &Store, product: &Arc<Product>) -> Result<Done<()>, WriteError> {
    if !caller.may(&store.id, Scope::CatalogWrite) {
        return Err(WriteError::NotAllowed);
    }
    let mut tx = app.db.begin().await?;
    if !products::delete(&mut tx, &store.id, &product.id).await? {
        return Err(WriteError::UnknownProduct);
    }
    tx.commit().await?;
    for image in &product.images {
        app.files.delete(&image.storage_key).await;
    }
    Ok(Done::new((), Effects::catalog(CatalogChange::Products(vec![product.id.clone()]))))
}

/// Stores `images`; on a failure removes those already stored.
async fn store_images(app: &App, images: &[NewImage]) -> Result<Vec<StoredFile>, WriteError> {
    let files: Vec<_> = images.iter().map(|image| (FileFormat::Image(image.format), &image.bytes[..])).collect();
    app.files.put_all("products", &files).await.map_err(WriteError::ImageStorage)
}
