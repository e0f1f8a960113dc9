//! Readable resources: the store (what it sells in, how it takes payment and ships) and each
//! product on sale, as JSON (`feria://store`, `feria://products/{id}`).

use rmcp::ErrorData as McpError;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde_json::json;

use super::tools::Ctx;
use crate::routes::products::{self, ProductView};
use crate::services::agent_checkout::PaymentChoice;

const STORE: &str = "feria://store";
const PRODUCT_PREFIX: &str = "feria://products/";

/// The resources listed: the store's page.
pub fn listed() -> Vec<Resource> {
    vec![
        Resource::new(STORE, "store")
            .with_title("La tienda y sus políticas")
            .with_description("Nombre, moneda, país, si los precios incluyen impuestos, medios de pago y envío")
            .with_mime_type("application/json"),
    ]
}

/// The templates: a product by id.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(format!("{PRODUCT_PREFIX}{{id}}"), "product")
            .with_title("Un producto")
            .with_description("Un producto a la venta: descripción, precio con y sin impuestos, stock, categoría e imágenes")
            .with_mime_type("application/json"),
    ]
}

/// Reads `uri` for `ctx`'s caller; unknown URIs and products not on sale are not found.
pub async fn read(ctx: &Ctx, uri: &str) -> Result<ReadResourceResult, McpError> {
    let internal = |e: crate::http::error::ApiError| McpError::internal_error(e.message, None);
    let not_found = || McpError::resource_not_found(format!("no resource {uri}"), None);
    let body = if uri == STORE {
        let offered = PaymentChoice::offered(&ctx.app, &ctx.store).await.map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let store = &ctx.store;
        json!({
            "name": store.name,
            "slug": store.slug,
            "currency": store.currency.code(),
            "country": store.country,
            "pricesIncludeTax": store.tax_inclusive,
            "payment": offered.iter().map(|c| c.handler_id()).collect::<Vec<_>>(),
            "paymentPolicy": "Con Mercado Pago se paga en su página; en efectivo o por transferencia, la tienda confirma el pago.",
            "shippingPolicy": "La tienda coordina la entrega con el comprador después de la compra; no se cobra en el checkout.",
        })
    } else if let Some(id) = uri.strip_prefix(PRODUCT_PREFIX) {
        let product = match products::load(&ctx.app, &ctx.store, id).await {
            Ok(product) if product.is_active => product,
            Ok(_) => return Err(not_found()),
            Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => return Err(not_found()),
            Err(e) => return Err(internal(e)),
        };
        serde_json::to_value(ProductView::new(&product, &ctx.store)).map_err(|e| McpError::internal_error(e.to_string(), None))?
    } else {
        return Err(not_found());
    };
    let mut contents = ResourceContents::text(body.to_string(), uri);
    if let ResourceContents::TextResourceContents { mime_type, .. } = &mut contents {
        *mime_type = Some("application/json".into());
    }
    Ok(ReadResourceResult::new(vec![contents]))
}
