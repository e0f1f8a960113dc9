//! Product search over HTTP: Spanish relevance, filters, sorts, facets, freshness, rebuilds
//! and several nodes following one database.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, TestDb, base_settings, expect_error, expect_status};

struct Shop {
    admin: String,
    carnes: String,
    fiambres: String,
    unit: String,
}

async fn shop(t: &TestApp) -> Shop {
    let admin = t.admin_token().await;
    let mut ids = Vec::new();
    for name in ["Carnes", "Fiambres"] {
        let c = expect_status(
            t.request(Method::POST, "/api/categories", Some(&json!({"name": name, "description": name})), Some(&admin)).await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    let unit = expect_status(
        t.request(Method::POST, "/api/units", Some(&json!({"name": "kg", "description": "Kilo"})), Some(&admin)).await,
        StatusCode::CREATED,
    )
    .await;
    Shop { admin, carnes: ids[0].clone(), fiambres: ids[1].clone(), unit: unit["id"].as_str().unwrap().into() }
}

/// Creates a product from `fields` (name, description, category, price, stock, tags) in the shop's unit.
async fn product(t: &TestApp, s: &Shop, mut fields: Value) -> String {
    fields["unit"] = json!(s.unit);
    let p = expect_status(t.request(Method::POST, "/api/products", Some(&fields), Some(&s.admin)).await, StatusCode::CREATED).await;
    p["id"].as_str().unwrap().to_string()
}

/// Polls a search until `ok` holds, for at most `within`; returns the body and how long it took.
async fn until(t: &TestApp, path: &str, within: Duration, ok: impl Fn(&Value) -> bool) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let body = expect_status(t.get(path, None).await, StatusCode::OK).await;
        if ok(&body) || started.elapsed() > within {
            return (body, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn names(body: &Value) -> Vec<String> {
    body["products"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

async fn stocked(t: &TestApp) -> Shop {
    let s = shop(t).await;
    product(t, &s, json!({"name": "Bife de chorizo", "description": "Corte premium de novillo", "category": s.carnes, "price": 18900, "stock": 10, "tags": ["premium", "popular"]})).await;
    product(t, &s, json!({"name": "Chorizo puro cerdo", "description": "Receta de la casa", "category": s.carnes, "price": 7900, "stock": 0, "tags": ["oferta"]})).await;
    product(t, &s, json!({"name": "Jamón crudo", "description": "Estacionado 12 meses", "category": s.fiambres, "price": 6800, "stock": 5, "tags": ["premium"]})).await;
    product(t, &s, json!({"name": "Carne picada", "description": "Especial para hamburguesas", "category": s.carnes, "price": 5000, "stock": 3, "tags": []})).await;
    product(t, &s, json!({"name": "Provoleta", "description": "Ideal con chorizo a la parrilla", "category": s.fiambres, "price": 4600, "stock": 2, "tags": []})).await;
    product(t, &s, json!({"name": "Pan de campo", "description": "Horneado a leña", "category": s.fiambres, "price": 2100, "stock": 8, "tags": ["chorizo"]})).await;
    until(t, "/api/products/search", Duration::from_secs(5), |b| b["total"] == 6).await;
    s
}

#[tokio::test]
async fn spanish_relevance_accents_plurals_typos_and_weights() {
    let t = TestApp::spawn().await;
    stocked(&t).await;
    let search = |q: &str| {
        let t = &t;
        let q = q.to_string();
        async move { expect_status(t.get(&format!("/api/products/search?q={q}"), None).await, StatusCode::OK).await }
    };
    assert_eq!(names(&search("jamon").await), ["Jamón crudo"]);
    assert_eq!(names(&search("JAM%C3%93N").await), ["Jamón crudo"]);
    assert_eq!(names(&search("carnes").await), ["Carne picada"]);
    assert!(names(&search("chorizzo").await).contains(&"Chorizo puro cerdo".to_string()), "one typo");
    let chorizo = search("chorizo").await;
    assert_eq!(chorizo["total"], 4);
    let order = names(&chorizo);
    assert!(
        order.iter().position(|n| n == "Pan de campo").unwrap() < order.iter().position(|n| n == "Provoleta").unwrap(),
        "tag beats description: {order:?}"
    );
    assert!(
        order[..2].contains(&"Bife de chorizo".to_string()) && order[..2].contains(&"Chorizo puro cerdo".to_string()),
        "name first: {order:?}"
    );
    assert_eq!(search("inexistente").await["total"], 0);
}

#[tokio::test]
async fn filters_sorts_pagination_and_facets() {
    let t = TestApp::spawn().await;
    let s = stocked(&t).await;
    let get = |path: String| {
        let t = &t;
        async move { expect_status(t.get(&path, None).await, StatusCode::OK).await }
    };
    let by_price = get("/api/products/search?sortBy=price".into()).await;
    assert_eq!(names(&by_price)[0], "Pan de campo", "price ascending by default");
    let facets = &by_price["facets"];
    assert_eq!((facets["minPrice"].clone(), facets["maxPrice"].clone()), (json!(2100), json!(18900)));
    let carnes = facets["categories"].as_array().unwrap().iter().find(|c| c["name"] == "Carnes").unwrap();
    assert_eq!((carnes["id"].as_str(), carnes["count"].as_u64()), (Some(s.carnes.as_str()), Some(3)));
    assert!(facets["tags"].as_array().unwrap().contains(&json!({"name": "premium", "count": 2})));

    let dear = get("/api/products/search?sortBy=price&sortOrder=desc&limit=2&page=2".into()).await;
    assert_eq!((names(&dear), dear["total"].clone()), (vec!["Jamón crudo".to_string(), "Carne picada".to_string()], json!(6)));
    let by_name = get("/api/products/search?sortBy=name".into()).await;
    assert_eq!(names(&by_name)[..2], ["Bife de chorizo".to_string(), "Carne picada".to_string()]);
    let newest = get("/api/products/search".into()).await;
    assert_eq!(names(&newest)[0], "Pan de campo", "newest first without q");

    let filtered = get(format!("/api/products/search?categories={}&minPrice=5000&maxPrice=18900&inStock=true", s.carnes)).await;
    assert_eq!(names(&filtered), ["Carne picada", "Bife de chorizo"]);
    assert_eq!(filtered["facets"]["minPrice"], json!(5000));
    let tagged = get("/api/products/search?tags=oferta,PREMIUM&sortBy=name".into()).await;
    assert_eq!(names(&tagged), ["Bife de chorizo", "Chorizo puro cerdo", "Jamón crudo"]);
    let combined = get(format!("/api/products/search?q=chorizo&categories={}", s.fiambres)).await;
    assert_eq!(combined["total"], 2);

    for bad in ["sortBy=popularity", "sortOrder=up", "minPrice=abc", "maxPrice=1.234", "inStock=maybe", "page=0"] {
        expect_error(t.get(&format!("/api/products/search?{bad}"), None).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await;
    }
}

#[tokio::test]
async fn writes_are_searchable_within_a_second() {
    let t = TestApp::spawn().await;
    let s = shop(&t).await;
    let id = product(
        &t,
        &s,
        json!({"name": "Vacío de novillo", "description": "Jugoso", "category": s.carnes, "price": 15800, "stock": 4, "tags": []}),
    )
    .await;
    let (found, took) = until(&t, "/api/products/search?q=vacio", Duration::from_secs(1), |b| b["total"] == 1).await;
    assert_eq!(found["total"], 1, "created product not found within 1 s");
    assert!(took < Duration::from_secs(1), "{took:?}");

    let rename = json!({"name": "Entraña fina", "isActive": true});
    expect_status(t.request(Method::PUT, &format!("/api/products/{id}"), Some(&rename), Some(&s.admin)).await, StatusCode::OK).await;
    let (found, _) = until(&t, "/api/products/search?q=entra%C3%B1a", Duration::from_secs(1), |b| b["total"] == 1).await;
    assert_eq!(found["total"], 1);
    assert_eq!(expect_status(t.get("/api/products/search?q=vacio", None).await, StatusCode::OK).await["total"], 0);

    let hide = json!({"isActive": false});
    expect_status(t.request(Method::PUT, &format!("/api/products/{id}"), Some(&hide), Some(&s.admin)).await, StatusCode::OK).await;
    let (hidden, _) = until(&t, "/api/products/search?q=entra%C3%B1a", Duration::from_secs(1), |b| b["total"] == 0).await;
    assert_eq!(hidden["total"], 0, "inactive products are not found");

    let back = json!({"isActive": true, "tags": ["parrilla"]});
    expect_status(t.request(Method::PUT, &format!("/api/products/{id}"), Some(&back), Some(&s.admin)).await, StatusCode::OK).await;
    until(&t, "/api/products/search?tags=parrilla", Duration::from_secs(1), |b| b["total"] == 1).await;
    let tags = expect_status(t.get("/api/tags", None).await, StatusCode::OK).await;
    let tag_id = tags["tags"][0]["id"].as_str().unwrap().to_string();
    expect_status(
        t.request(Method::PUT, &format!("/api/tags/{tag_id}"), Some(&json!({"name": "Asador"})), Some(&s.admin)).await,
        StatusCode::OK,
    )
    .await;
    let (renamed, _) = until(&t, "/api/products/search?q=asador", Duration::from_secs(1), |b| b["total"] == 1).await;
    assert_eq!(renamed["total"], 1, "renaming a tag re-indexes its products");

    expect_status(t.request(Method::DELETE, &format!("/api/products/{id}"), None, Some(&s.admin)).await, StatusCode::OK).await;
    let (gone, _) = until(&t, "/api/products/search", Duration::from_secs(1), |b| b["total"] == 0).await;
    assert_eq!(gone["total"], 0);
}

#[tokio::test]
async fn stores_search_only_their_products() {
    let t = TestApp::spawn().await;
    let s = stocked(&t).await;
    let store = json!({"name": "Chile", "slug": "chile", "currency": "CLP", "country": "CL"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&s.admin)).await, StatusCode::CREATED).await;
    let cat = expect_status(
        t.request(Method::POST, "/api/stores/chile/categories", Some(&json!({"name": "Carnes", "description": "x"})), Some(&s.admin)).await,
        StatusCode::CREATED,
    )
    .await;
    let unit = expect_status(
        t.request(Method::POST, "/api/stores/chile/units", Some(&json!({"name": "kg", "description": "x"})), Some(&s.admin)).await,
        StatusCode::CREATED,
    )
    .await;
    let body = json!({"name": "Chorizo chileno", "description": "x", "price": 5000, "stock": 1, "category": cat["id"], "unit": unit["id"]});
    expect_status(t.request(Method::POST, "/api/stores/chile/products", Some(&body), Some(&s.admin)).await, StatusCode::CREATED).await;
    let (theirs, _) = until(&t, "/api/stores/chile/products/search?q=chorizo", Duration::from_secs(2), |b| b["total"] == 1).await;
    assert_eq!(names(&theirs), ["Chorizo chileno"]);
    let ours = expect_status(t.get("/api/products/search?q=chorizo", None).await, StatusCode::OK).await;
    assert!(!names(&ours).contains(&"Chorizo chileno".to_string()));
    assert_eq!(ours["total"], 4);
}

#[tokio::test]
async fn a_restarted_node_rebuilds_its_index_and_a_second_node_follows_the_log() {
    let db = TestDb::new().await;
    let settings = base_settings(&db);
    let second_db = db.sharing();
    let t = TestApp::on(db, settings.clone()).await;
    let s = stocked(&t).await;

    // A second node on the same database builds its own index and follows new writes.
    let node_b = TestApp::on(second_db, settings.clone()).await;
    assert_eq!(expect_status(node_b.get("/api/products/search?q=jamon", None).await, StatusCode::OK).await["total"], 1);
    product(
        &t,
        &s,
        json!({"name": "Lomo ahumado", "description": "Ahumado en frío", "category": s.fiambres, "price": 6200, "stock": 3, "tags": []}),
    )
    .await;
    let (seen, took) = until(&node_b, "/api/products/search?q=ahumado", Duration::from_secs(2), |b| b["total"] == 1).await;
    assert_eq!(seen["total"], 1, "the other node picked up the write through the change log");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    drop(node_b);

    // A restarted node builds its index from the database.
    let mut t = t;
    let server = t.begin_shutdown();
    server.await.unwrap().unwrap();
    let db = std::mem::replace(&mut t.db, TestDb::new().await);
    let t2 = TestApp::on(db, settings).await;
    let body = expect_status(t2.get("/api/products/search?q=ahumado", None).await, StatusCode::OK).await;
    assert_eq!(body["total"], 1, "rebuilt from the database");
    assert_eq!(expect_status(t2.get("/api/products/search", None).await, StatusCode::OK).await["total"], 7);
}
