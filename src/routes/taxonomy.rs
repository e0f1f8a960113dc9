//! `/api/categories`, `/api/tags`, `/api/units` (seed 001), also under `/api/stores/{slug}/…`.
//!
//! The three resources behave alike; the shared work is in the functions below and
//! [`taxonomy_routes!`] declares each resource's five documented handlers around them.

use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::App;
use crate::http::error::ApiResult;
use crate::http::json::{Deleted, Pagination};
use crate::http::validate::Validator;
use crate::services::catalog::stores::Store;
use crate::services::catalog::taxonomy::{self, Entry, EntryChanges, NewEntry, Taxonomy};

/// A category, tag or unit as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Units only, e.g. `kg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abbreviation: Option<String>,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> EntryView {
        EntryView {
            id: e.id,
            name: e.name,
            description: e.description,
            abbreviation: e.abbreviation,
            is_active: e.is_active,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// Fields of a category, tag or unit. On create `name` and `description` are required; on
/// update every field is optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryRequest {
    /// 2–100 characters, unique in the store (ignoring case).
    pub name: Option<String>,
    /// Up to 500 characters.
    pub description: Option<String>,
    /// Default true.
    pub is_active: Option<bool>,
    /// Units only: a short symbol (`kg`, `u`, `l`), up to 10 characters; `null` removes it.
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    #[schema(value_type = Option<String>)]
    pub abbreviation: Option<Option<String>>,
}

fn abbreviation(kind: Taxonomy, v: &mut Validator, value: Option<Option<String>>) -> Option<Option<String>> {
    let value = value?;
    if kind != Taxonomy::Unit {
        v.add("abbreviation", "Solo las unidades tienen abreviatura");
        return None;
    }
    Some(value.and_then(|a| v.optional_text("abbreviation", Some(&a), 1, 10)))
}

pub(crate) async fn list_entries(app: &App, kind: Taxonomy, store: &Store, page: Pagination) -> ApiResult<(i64, Vec<EntryView>)> {
    let (total, entries) = taxonomy::entries(&app.db, kind, &store.id, page.limit, page.offset()).await?;
    Ok((total, entries.into_iter().map(EntryView::from).collect()))
}

pub(crate) async fn get_entry(app: &App, kind: Taxonomy, store: &Store, id: &str) -> ApiResult<Json<EntryView>> {
    Ok(Json(taxonomy::entry(&app.db, kind, &store.id, id).await?.into()))
}

pub(crate) async fn create_entry(app: &App, kind: Taxonomy, store: &Store, body: EntryRequest) -> ApiResult<(StatusCode, Json<EntryView>)> {
    let mut v = Validator::new();
    let name = v.text("name", body.name.as_deref(), 2, 100);
    let description = v.text("description", body.description.as_deref(), 1, 500);
    let abbreviation = abbreviation(kind, &mut v, body.abbreviation).flatten();
    v.finish()?;
    let new = NewEntry { name, description, abbreviation, is_active: body.is_active.unwrap_or(true) };
    let entry = taxonomy::create_entry(&app.db, kind, &store.id, new).await?;
    Ok((StatusCode::CREATED, Json(entry.into())))
}

pub(crate) async fn update_entry(app: &App, kind: Taxonomy, store: &Store, id: &str, body: EntryRequest) -> ApiResult<Json<EntryView>> {
    let mut v = Validator::new();
    let name = v.optional_text("name", body.name.as_deref(), 2, 100);
    let description = v.optional_text("description", body.description.as_deref(), 1, 500);
    let abbreviation = abbreviation(kind, &mut v, body.abbreviation);
    v.finish()?;
    let changes = EntryChanges { name, description, abbreviation, is_active: body.is_active };
    let entry = app.settle(taxonomy::update_entry(&app.db, kind, &store.id, id, changes).await?).await;
    Ok(Json(entry.into()))
}

pub(crate) async fn delete_entry(app: &App, kind: Taxonomy, store: &Store, id: &str) -> ApiResult<Json<Deleted>> {
    app.settle(taxonomy::delete_entry(&app.db, kind, &store.id, id).await?).await;
    Ok(Json(Deleted { message: format!("{} eliminada", kind.noun()) }))
}

/// Declares one resource: its page type (`{total, <field>: [...]}`) and five handlers with
/// their OpenAPI descriptions, all delegating to the shared functions above.
macro_rules! taxonomy_routes {
    (
        kind: $kind:expr, tag: $tag:tt, collection: $collection:tt, item: $item:tt,
        page: $page:ident { $field:ident },
        handlers: [$list:ident, $get:ident, $create:ident, $update:ident, $delete:ident]
    ) => {
        #[doc = concat!("One page of ", stringify!($field), ".")]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $page {
            pub total: i64,
            pub $field: Vec<$crate::routes::taxonomy::EntryView>,
        }

        #[doc = concat!("Lists the store's ", stringify!($field), " by name.")]
        #[utoipa::path(get, path = $collection, tag = $tag,
            params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
            responses(
                (status = 200, description = "A page", body = $page),
                (status = 404, description = "Unknown store", body = $crate::http::error::ErrorBody),
                (status = 422, description = "Bad page or limit", body = $crate::http::error::ErrorBody),
            ))]
        pub async fn $list(
            axum::extract::State(app): axum::extract::State<$crate::app::AppState>,
            $crate::http::store::CurrentStore(store): $crate::http::store::CurrentStore,
            page: $crate::http::json::Pagination,
        ) -> $crate::http::error::ApiResult<axum::Json<$page>> {
            let (total, $field) = $crate::routes::taxonomy::list_entries(&app, $kind, &store, page).await?;
            Ok(axum::Json($page { total, $field }))
        }

        #[doc = concat!("One of the store's ", stringify!($field), ".")]
        #[utoipa::path(get, path = $item, tag = $tag, params(("id" = String, Path)),
            responses(
                (status = 200, description = "Found", body = $crate::routes::taxonomy::EntryView),
                (status = 404, description = "No such entry in this store", body = $crate::http::error::ErrorBody),
            ))]
        pub async fn $get(
            axum::extract::State(app): axum::extract::State<$crate::app::AppState>,
            $crate::http::store::CurrentStore(store): $crate::http::store::CurrentStore,
            $crate::http::path::IdParam(id): $crate::http::path::IdParam,
        ) -> $crate::http::error::ApiResult<axum::Json<$crate::routes::taxonomy::EntryView>> {
            $crate::routes::taxonomy::get_entry(&app, $kind, &store, &id).await
        }

        #[doc = concat!("Creates one of the store's ", stringify!($field), " (admin).")]
        #[utoipa::path(post, path = $collection, tag = $tag, security(("bearer" = [])), request_body = $crate::routes::taxonomy::EntryRequest,
            responses(
                (status = 201, description = "Created", body = $crate::routes::taxonomy::EntryView),
                (status = 409, description = "Name already used in the store", body = $crate::http::error::ErrorBody),
                (status = 422, description = "Invalid fields", body = $crate::http::error::ErrorBody),
            ))]
        pub async fn $create(
            axum::extract::State(app): axum::extract::State<$crate::app::AppState>,
            _staff: $crate::http::auth::Staff<$crate::http::auth::scope::CatalogWrite>,
            $crate::http::store::CurrentStore(store): $crate::http::store::CurrentStore,
            $crate::http::json::ApiJson(body): $crate::http::json::ApiJson<$crate::routes::taxonomy::EntryRequest>,
        ) -> $crate::http::error::ApiResult<(axum::http::StatusCode, axum::Json<$crate::routes::taxonomy::EntryView>)> {
            $crate::routes::taxonomy::create_entry(&app, $kind, &store, body).await
        }

        #[doc = concat!("Updates one of the store's ", stringify!($field), " (admin).")]
        #[utoipa::path(put, path = $item, tag = $tag, security(("bearer" = [])), params(("id" = String, Path)),
            request_body = $crate::routes::taxonomy::EntryRequest,
            responses(
                (status = 200, description = "Updated", body = $crate::routes::taxonomy::EntryView),
                (status = 404, description = "No such entry in this store", body = $crate::http::error::ErrorBody),
                (status = 409, description = "Name already used in the store", body = $crate::http::error::ErrorBody),
                (status = 422, description = "Invalid fields", body = $crate::http::error::ErrorBody),
            ))]
        pub async fn $update(
            axum::extract::State(app): axum::extract::State<$crate::app::AppState>,
            _staff: $crate::http::auth::Staff<$crate::http::auth::scope::CatalogWrite>,
            $crate::http::store::CurrentStore(store): $crate::http::store::CurrentStore,
            $crate::http::path::IdParam(id): $crate::http::path::IdParam,
            $crate::http::json::ApiJson(body): $crate::http::json::ApiJson<$crate::routes::taxonomy::EntryRequest>,
        ) -> $crate::http::error::ApiResult<axum::Json<$crate::routes::taxonomy::EntryView>> {
            $crate::routes::taxonomy::update_entry(&app, $kind, &store, &id, body).await
        }

        #[doc = concat!("Deletes one of the store's ", stringify!($field), " (admin); refused while products use it.")]
        #[utoipa::path(delete, path = $item, tag = $tag, security(("bearer" = [])), params(("id" = String, Path)),
            responses(
                (status = 200, description = "Deleted", body = $crate::http::json::Deleted),
                (status = 404, description = "No such entry in this store", body = $crate::http::error::ErrorBody),
                (status = 409, description = "Still used by products", body = $crate::http::error::ErrorBody),
            ))]
        pub async fn $delete(
            axum::extract::State(app): axum::extract::State<$crate::app::AppState>,
            _staff: $crate::http::auth::Staff<$crate::http::auth::scope::CatalogWrite>,
            $crate::http::store::CurrentStore(store): $crate::http::store::CurrentStore,
            $crate::http::path::IdParam(id): $crate::http::path::IdParam,
        ) -> $crate::http::error::ApiResult<axum::Json<$crate::http::json::Deleted>> {
            $crate::routes::taxonomy::delete_entry(&app, $kind, &store, &id).await
        }
    };
}

/// Categories.
pub mod categories {
    use crate::services::catalog::taxonomy::Taxonomy;
    taxonomy_routes! {
        kind: Taxonomy::Category, tag: "categories", collection: "/categories", item: "/categories/{id}",
        page: CategoryPage { categories },
        handlers: [list, get, create, update, delete]
    }
}

/// Tags (the public list shows active tags only).
pub mod tags {
    use crate::services::catalog::taxonomy::Taxonomy;
    taxonomy_routes! {
        kind: Taxonomy::Tag, tag: "tags", collection: "/tags", item: "/tags/{id}",
        page: TagPage { tags },
        handlers: [list, get, create, update, delete]
    }
}

/// Units of measure.
pub mod units {
    use crate::services::catalog::taxonomy::Taxonomy;
    taxonomy_routes! {
        kind: Taxonomy::Unit, tag: "units", collection: "/units", item: "/units/{id}",
        page: UnitPage { units },
        handlers: [list, get, create, update, delete]
    }
}
