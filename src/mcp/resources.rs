//! Readable resources: the store (what it sells in, how it takes payment and ships, its
//! policies), each policy the owner wrote as text, and each product on sale
//! (`feria://store`, `feria://policies/{kind}`, `feria://products/{id}`).

use rmcp::ErrorData as McpError;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde_json::json;

use super::tools::Ctx;
use crate::routes::products::{self, ProductView};
use crate::services::agent_checkout::PaymentChoice;
use crate::services::shipping_rates;
use crate::services::store_policies::{self, PolicyKind};

const STORE: &str = "feria://store";
const POLICY_PREFIX: &str = "feria://policies/";
const PRODUCT_PREFIX: &str = "feria://products/";

fn internal(e: impl std::fmt::Display) -> McpError {
    McpError::internal_error(e.to_string(), None)
}

/// The resources listed: the store's page and each policy its owner wrote.
pub async fn listed(ctx: &Ctx) -> Result<Vec<Resource>, McpError> {
    let mut resources = vec![
        Resource::new(STORE, "store")
            .with_title("La tienda y sus políticas")
            .with_description("Nombre, moneda, país, si los precios incluyen impuestos, medios de pago, tarifas de envío y políticas")
            .with_mime_type("application/json"),
    ];
    for policy in store_policies::list(&ctx.app.db, &ctx.store.id).await.map_err(internal)? {
        resources.push(
            Resource::new(format!("{POLICY_PREFIX}{}", policy.kind.as_str()), policy.kind.as_str())
                .with_title(policy.kind.title())
                .with_mime_type("text/plain"),
        );
    }
    Ok(resources)
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
    let not_found = || McpError::resource_not_found(format!("no resource {uri}"), None);
    let body = if uri == STORE {
        let offered = PaymentChoice::offered(&ctx.app, &ctx.store).await.map_err(internal)?;
        let policies = store_policies::list(&ctx.app.db, &ctx.store.id).await.map_err(internal)?;
        let rates = shipping_rates::list(&ctx.app.db, &ctx.store.id).await.map_err(internal)?;
        let store = &ctx.store;
        let exponent = store.currency.exponent();
        let money = |amount: i64| feria_domain::money::format_scaled(amount, exponent);
        json!({
            "name": store.name,
            "slug": store.slug,
            "currency": store.currency.code(),
            "country": store.country,
            "pricesIncludeTax": store.tax_inclusive,
            "payment": offered.iter().map(|c| c.handler_id()).collect::<Vec<_>>(),
            "shippingRates": rates.iter().filter(|r| r.is_active).map(|r| json!({
                "code": r.code, "title": r.title, "country": r.country, "serviceLevel": r.service_level,
                "price": money(r.price), "freeFrom": r.free_from.map(money),
            })).collect::<Vec<_>>(),
            "policies": policies.iter().map(|p| (p.kind.as_str().to_string(), json!(p.body))).collect::<serde_json::Map<_, _>>(),
        })
    } else if let Some(kind) = uri.strip_prefix(POLICY_PREFIX) {
        let kind = PolicyKind::parse(kind).ok_or_else(not_found)?;
        let policies = store_policies::list(&ctx.app.db, &ctx.store.id).await.map_err(internal)?;
        let policy = policies.into_iter().find(|p| p.kind == kind).ok_or_else(not_found)?;
        let contents = ResourceContents::text(format!("{}\n\n{}", kind.title(), policy.body), uri);
        return Ok(ReadResourceResult::new(vec![contents]));
    } else if let Some(id) = uri.strip_prefix(PRODUCT_PREFIX) {
        let product = match products::load(&ctx.app, &ctx.store, id).await {
            Ok(product) if product.is_active => product,
            Ok(_) => return Err(not_found()),
            Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => return Err(not_found()),
            Err(e) => return Err(internal(e.message)),
        };
        serde_json::to_value(ProductView::new(&product, &ctx.store)).map_err(internal)?
    } else {
        return Err(not_found());
    };
    let mut contents = ResourceContents::text(body.to_string(), uri);
    if let ResourceContents::TextResourceContents { mime_type, .. } = &mut contents {
        *mime_type = Some("application/json".into());
    }
    Ok(ReadResourceResult::new(vec![contents]))
}
