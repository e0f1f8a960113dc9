//! `/api/stores`: the stores of this feria (the tenant boundary of the catalog).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use feria_domain::currency::Currency;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::json::{ApiJson, Pagination};
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::services::catalog::stores::{self, NewStore, Store};
use crate::services::identity::caller::Caller;

/// A store as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoreView {
    pub id: String,
    pub name: String,
    /// Used in `/api/stores/{slug}/…`.
    pub slug: String,
    /// ISO 4217 code; prices are in this currency.
    pub currency: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub tax_inclusive: bool,
    pub is_active: bool,
    /// The store the seed-001 paths (`/api/products`, …) act on.
    pub is_default: bool,
    pub created_at: String,
}

impl From<Store> for StoreView {
    fn from(s: Store) -> StoreView {
        StoreView {
            id: s.id,
            name: s.name,
            slug: s.slug,
            currency: s.currency.code().to_string(),
            country: s.country,
            tax_inclusive: s.tax_inclusive,
            is_active: s.is_active,
            is_default: s.is_default,
            created_at: s.created_at,
        }
    }
}

/// One page of stores.
#[derive(Debug, Serialize, ToSchema)]
pub struct StorePage {
    pub total: i64,
    pub stores: Vec<StoreView>,
}

/// Lists stores, oldest first.
#[utoipa::path(get, path = "/api/stores", tag = "stores",
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of stores", body = StorePage),
        (status = 422, description = "Bad page or limit", body = ErrorBody),
    ))]
pub async fn list_stores(State(app): State<AppState>, page: Pagination) -> ApiResult<Json<StorePage>> {
    let (total, list) = stores::page(&app.db, page.limit, page.offset()).await?;
    Ok(Json(StorePage { total, stores: list.into_iter().map(StoreView::from).collect() }))
}

/// One store by slug.
#[utoipa::path(get, path = "/api/stores/{slug}", tag = "stores", params(("slug" = String, Path)),
    responses(
        (status = 200, description = "The store", body = StoreView),
        (status = 404, description = "Unknown or inactive store", body = ErrorBody),
    ))]
pub async fn get_store(CurrentStore(store): CurrentStore) -> Json<StoreView> {
    Json(StoreView::from((*store).clone()))
}

/// A new store.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateStoreRequest {
    #[schema(value_type = String, example = "Carnes del Sur")]
    pub name: Option<String>,
    /// Lower-case letters, digits and `-`, 2–50 characters.
    #[schema(value_type = String, example = "carnes-del-sur")]
    pub slug: Option<String>,
    /// ISO 4217: ARS, BRL, CLP, COP, MXN, PEN, UYU, USD, EUR or AED.
    #[schema(value_type = String, example = "ARS")]
    pub currency: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(value_type = String, example = "AR")]
    pub country: Option<String>,
    /// Whether prices are entered with tax included. Default false.
    pub tax_inclusive: Option<bool>,
}

/// Opens a store: any signed-in user, who becomes its owner (at most 10 stores each, unless the
/// platform admin). Onboarding with KYC/KYB comes with the marketplace.
#[utoipa::path(post, path = "/api/stores", tag = "stores", security(("bearer" = [])), request_body = CreateStoreRequest,
    responses(
        (status = 201, description = "Created", body = StoreView),
        (status = 409, description = "Slug taken, or the user already owns as many stores as allowed", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
pub async fn create_store(
    State(app): State<AppState>,
    user: Caller,
    ApiJson(body): ApiJson<CreateStoreRequest>,
) -> ApiResult<(StatusCode, Json<StoreView>)> {
    let mut v = Validator::new();
    let name = v.text("name", body.name.as_deref(), 2, 100);
    let slug = v.text("slug", body.slug.as_deref(), 2, 50);
    if !slug.is_empty() && !slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        v.add("slug", "Solo letras minúsculas, dígitos y guiones");
    }
    let currency_code = v.text("currency", body.currency.as_deref(), 3, 3);
    let currency = Currency::parse(&currency_code);
    if !currency_code.is_empty() && currency.is_none() {
        v.add("currency", "Moneda no soportada (ARS, BRL, CLP, COP, MXN, PEN, UYU, USD, EUR, AED)");
    }
    let country = v.text("country", body.country.as_deref(), 2, 2).to_ascii_uppercase();
    if !country.is_empty() && !country.chars().all(|c| c.is_ascii_alphabetic()) {
        v.add("country", "Código de país ISO de dos letras");
    }
    v.finish()?;
    let new = NewStore {
        name: &name,
        slug: &slug,
        currency: currency.expect("validated above"),
        country: &country,
        tax_inclusive: body.tax_inclusive.unwrap_or(false),
        owner_id: None,
    };
    let store = stores::open(&app, &user, new).await?;
    Ok((StatusCode::CREATED, Json(store.into())))
}
