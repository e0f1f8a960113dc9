//! The OpenAPI document (`/api/openapi.json`) and an interactive page (`/docs`), served from
//! a Swagger UI copy bundled in the binary so the docs work without internet.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

use crate::app::AppState;

const PAGE: &str = r##"<!doctype html>
<html lang="es">
<head><meta charset="utf-8"><title>feria API</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#ui", deepLinking: true });</script>
</body>
</html>"##;

const SWAGGER_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

/// Routes serving `document` (already serialised) and the docs page.
pub fn routes(document: String) -> Router<AppState> {
    let document = Arc::new(document);
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document.as_str().to_owned()) }),
        )
        .route("/docs", get(|| async { Html(PAGE) }))
        .route("/docs/swagger-ui-bundle.js", get(|| async { asset("application/javascript", SWAGGER_JS) }))
        .route("/docs/swagger-ui.css", get(|| async { asset("text/css", SWAGGER_CSS) }))
}

fn asset(content_type: &'static str, bytes: &'static [u8]) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=86400")], bytes)
}
