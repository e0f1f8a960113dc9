//! The demo catalog: big, varied, Spanish, and idempotent.

use reqwest::StatusCode;

use crate::harness::{TestApp, expect_status};

#[tokio::test]
async fn demo_catalog_loads_once_and_is_browsable() {
    let t = TestApp::spawn().await;
    let report = feria::services::catalog::demo::load_into_default_store(&t.app).await.unwrap();
    assert!(report.created >= 200, "{report:?}");
    let again = feria::services::catalog::demo::load_into_default_store(&t.app).await.unwrap();
    assert_eq!((again.created, again.existing), (0, report.created), "idempotent");

    let products = expect_status(t.get("/api/products?limit=100", None).await, StatusCode::OK).await;
    assert_eq!(products["total"].as_u64().unwrap() as usize, report.created);
    let categories = expect_status(t.get("/api/categories?limit=100", None).await, StatusCode::OK).await;
    assert!(categories["total"].as_u64().unwrap() >= 10);
    assert!(categories["categories"].as_array().unwrap().iter().all(|c| !c["description"].as_str().unwrap().is_empty()));
    let tags = expect_status(t.get("/api/tags", None).await, StatusCode::OK).await;
    let names: Vec<&str> = tags["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["combo", "oferta", "popular", "premium"]);
    let units = expect_status(t.get("/api/units", None).await, StatusCode::OK).await;
    let abbreviations: Vec<&str> = units["units"].as_array().unwrap().iter().map(|u| u["abbreviation"].as_str().unwrap()).collect();
    assert_eq!(abbreviations, ["kg", "l", "paq", "u"]);
    let all = products["products"].as_array().unwrap();
    assert!(all.iter().any(|p| p["stock"] == 0), "some products are out of stock");
    let bife = expect_status(t.get("/api/products?limit=100&page=3", None).await, StatusCode::OK).await;
    let names: Vec<&str> = bife["products"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.starts_with("Bife de chorizo")), "{names:?}");
}
