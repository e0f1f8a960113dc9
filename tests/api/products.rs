//! Products: JSON and multipart writes, validation, images, listings, tenant isolation.

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fake_s3::FakeS3;
use crate::harness::{TestApp, expect_error, expect_status};

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63,
    0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60,
    0x82,
];

/// An admin token plus a category and a unit in the store at `prefix` (`/api` or `/api/stores/x`).
struct Catalog {
    admin: String,
    category: String,
    unit: String,
}

async fn catalog(t: &TestApp, admin: &str, prefix: &str) -> Catalog {
    let cat = json!({"name": "Carnes", "description": "Cortes vacunos"});
    let category =
        expect_status(t.request(Method::POST, &format!("{prefix}/categories"), Some(&cat), Some(admin)).await, StatusCode::CREATED).await;
    let unit = json!({"name": "Kilogramo", "description": "Peso", "abbreviation": "kg"});
    let unit =
        expect_status(t.request(Method::POST, &format!("{prefix}/units"), Some(&unit), Some(admin)).await, StatusCode::CREATED).await;
    Catalog { admin: admin.to_string(), category: category["id"].as_str().unwrap().into(), unit: unit["id"].as_str().unwrap().into() }
}

fn bife(c: &Catalog) -> Value {
    json!({
        "name": "Bife de chorizo", "description": "Corte premium", "price": 12500.5, "stock": 20,
        "category": c.category, "unit": c.unit, "tags": "premium, popular", "sku": "BIFE-001",
        "weight": "1.25", "dimensions": "30x20x5 cm"
    })
}

async fn create(t: &TestApp, c: &Catalog, body: &Value) -> Value {
    expect_status(t.request(Method::POST, "/api/products", Some(body), Some(&c.admin)).await, StatusCode::CREATED).await
}

#[tokio::test]
async fn create_read_and_list_with_exact_money() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let c = catalog(&t, &admin, "/api").await;
    let p = create(&t, &c, &bife(&c)).await;
    assert_eq!(p["price"], json!(12500.5));
    assert_eq!(p["priceWithTax"], json!(15125.61), "12500.50 × 1.21 = 15125.605 → half-up");
    assert_eq!(p["taxRate"], json!(21));
    assert_eq!(p["currency"], "ARS");
    assert_eq!(p["stock"], 20);
    assert_eq!(p["tags"], json!(["popular", "premium"]));
    assert_eq!((p["category"]["name"].as_str(), p["unit"]["abbreviation"].as_str()), (Some("Carnes"), Some("kg")));
    assert_eq!((p["sku"].as_str(), p["weight"].as_f64(), p["dimensions"].as_str()), (Some("BIFE-001"), Some(1.25), Some("30x20x5 cm")));
    assert_eq!(p["imgUrl"], Value::Null);
    assert_eq!(p["isActive"], true);
    let raw = t.get(&format!("/api/products/{}", p["id"].as_str().unwrap()), None).await.text().await.unwrap();
    assert!(raw.contains("\"price\":12500.5,") && raw.contains("\"priceWithTax\":15125.61,"), "exact decimal text: {raw}");

    let tags = expect_status(t.get("/api/tags", None).await, StatusCode::OK).await;
    assert_eq!(tags["total"], 2, "missing tags are created");

    let vat = json!({"name": "Vino Malbec", "description": "Botella 750 ml", "price": "5000", "stock": "3", "taxRate": 10.5,
        "category": c.category, "unit": c.unit, "tags": ["oferta"]});
    let wine = create(&t, &c, &vat).await;
    assert_eq!((wine["priceWithTax"].clone(), wine["taxRate"].clone()), (json!(5525), json!(10.5)));

    let list = expect_status(t.get("/api/products", None).await, StatusCode::OK).await;
    assert_eq!(list["total"], 2);
    assert_eq!(list["products"][0]["name"], "Vino Malbec", "newest first");
    let page = expect_status(t.get("/api/products?page=2&limit=1", None).await, StatusCode::OK).await;
    assert_eq!(page["products"][0]["name"], "Bife de chorizo");
    let by_cat = expect_status(t.get(&format!("/api/products/by-category/{}", c.category), None).await, StatusCode::OK).await;
    assert_eq!(by_cat["total"], 2);
    let other_cat =
        expect_status(t.get("/api/products/by-category/01900000-0000-7000-8000-000000000000", None).await, StatusCode::OK).await;
    assert_eq!(other_cat["total"], 0);
    expect_error(t.get("/api/products/01900000-0000-7000-8000-000000000000", None).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn validation_reports_every_problem_and_changes_nothing() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let c = catalog(&t, &admin, "/api").await;
    let res = t.request(Method::POST, "/api/products", Some(&json!({})), Some(&admin)).await;
    let err = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "description", "price", "stock", "category", "unit"]);

    let bad = json!({"name": "Ab", "description": "x", "price": 10.999, "stock": 1.5, "taxRate": 101, "sku": "con espacio",
        "weight": -1, "category": c.category, "unit": c.unit});
    let err = expect_error(
        t.request(Method::POST, "/api/products", Some(&bad), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "price", "stock", "taxRate", "weight", "sku"]);
    let zero = json!({"name": "Gratis", "description": "x", "price": 0, "stock": 1, "category": c.category, "unit": c.unit});
    expect_error(
        t.request(Method::POST, "/api/products", Some(&zero), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let wrong_type = json!({"name": "Bife", "description": "x", "price": true});
    let err = expect_error(
        t.request(Method::POST, "/api/products", Some(&wrong_type), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "price");

    let mut unknown_cat = bife(&c);
    unknown_cat["category"] = json!("01900000-0000-7000-8000-000000000000");
    let err = expect_error(
        t.request(Method::POST, "/api/products", Some(&unknown_cat), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "category");

    create(&t, &c, &bife(&c)).await;
    let err =
        expect_error(t.request(Method::POST, "/api/products", Some(&bife(&c)), Some(&admin)).await, StatusCode::CONFLICT, "sku_taken")
            .await;
    assert_eq!(err["details"][0]["field"], "sku");

    expect_error(t.request(Method::POST, "/api/products", Some(&bife(&c)), None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let user = t.register("Ana", "ana@example.com", "secreto1").await;
    expect_error(
        t.request(Method::POST, "/api/products", Some(&bife(&c)), user["token"].as_str()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let text =
        t.client.post(t.url("/api/products")).bearer_auth(&admin).body("name=x").header("content-type", "text/plain").send().await.unwrap();
    expect_error(text, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    assert_eq!(expect_status(t.get("/api/products", None).await, StatusCode::OK).await["total"], 1);
}

fn multipart_bife(c: &Catalog) -> Form {
    Form::new()
        .text("name", "Ojo de bife")
        .text("description", "Jugoso")
        .text("price", "9800.00")
        .text("stock", "7")
        .text("category", c.category.clone())
        .text("unit", c.unit.clone())
        .text("tags", "premium,parrilla")
        .text("isActive", "true")
}

#[tokio::test]
async fn multipart_with_images_is_stored_served_and_cleaned_up() {
    let t = TestApp::with(|s| {
        s.insert("MAX_FILE_SIZE".into(), "2048".into());
        let uploads = std::env::temp_dir().join(format!("feria-uploads-{}", uuid::Uuid::now_v7()));
        s.insert("UPLOADS_DIR".into(), uploads.display().to_string());
    })
    .await;
    let admin = t.admin_token().await;
    let c = catalog(&t, &admin, "/api").await;
    let form = multipart_bife(&c)
        .part("image", Part::bytes(PNG.to_vec()).file_name("ojo.png"))
        .part("image", Part::bytes(PNG.to_vec()).file_name("b.png"));
    let res = t.client.post(t.url("/api/products")).bearer_auth(&admin).multipart(form).send().await.unwrap();
    let p = expect_status(res, StatusCode::CREATED).await;
    assert_eq!(p["price"], json!(9800));
    assert_eq!(p["tags"], json!(["parrilla", "premium"]));
    assert_eq!(p["images"].as_array().unwrap().len(), 2);
    let url = p["imgUrl"].as_str().unwrap().to_string();
    assert!(url.starts_with("/uploads/products/") && url.ends_with(".png"), "{url}");
    let served = t.get(&url, None).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    // Not an image, whatever its name says.
    let fake = multipart_bife(&c).part("image", Part::bytes(b"%PDF-1.4 not an image".to_vec()).file_name("foto.png"));
    let res = t.client.post(t.url("/api/products")).bearer_auth(&admin).multipart(fake).send().await.unwrap();
    let err = expect_error(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(err["details"][0]["field"], "image");
    // Over MAX_FILE_SIZE.
    let mut big = PNG.to_vec();
    big.resize(4096, 0);
    let res = t
        .client
        .post(t.url("/api/products"))
        .bearer_auth(&admin)
        .multipart(multipart_bife(&c).part("image", Part::bytes(big)))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(expect_status(t.get("/api/products", None).await, StatusCode::OK).await["total"], 1, "refused uploads created nothing");
    let stored = std::fs::read_dir(t.app.config.uploads_dir.join("products")).unwrap().count();
    assert_eq!(stored, 2, "refused uploads left no files");

    // Replacing images on update deletes the old files.
    let id = p["id"].as_str().unwrap();
    let replace = Form::new().text("stock", "3").part("image", Part::bytes(PNG.to_vec()).file_name("nueva.png"));
    let res = t.client.put(t.url(&format!("/api/products/{id}"))).bearer_auth(&admin).multipart(replace).send().await.unwrap();
    let updated = expect_status(res, StatusCode::OK).await;
    assert_eq!((updated["stock"].as_i64(), updated["images"].as_array().unwrap().len()), (Some(3), 1));
    assert_eq!(updated["name"], "Ojo de bife", "fields not sent are kept");
    assert_eq!(t.get(&url, None).await.status(), StatusCode::NOT_FOUND);

    let new_url = updated["imgUrl"].as_str().unwrap().to_string();
    let res = expect_status(t.request(Method::DELETE, &format!("/api/products/{id}"), None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(res, json!({"message": "Producto eliminado", "product": {"id": id, "name": "Ojo de bife"}}));
    assert_eq!(t.get(&new_url, None).await.status(), StatusCode::NOT_FOUND, "deleting a product removes its images");
    expect_error(t.get(&format!("/api/products/{id}"), None).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn images_go_to_an_s3_bucket_when_configured() {
    let s3 = FakeS3::start().await;
    let t = TestApp::with(|s| s.extend(s3.settings("feria-imagenes"))).await;
    let admin = t.admin_token().await;
    let c = catalog(&t, &admin, "/api").await;
    let form = multipart_bife(&c).part("image", Part::bytes(PNG.to_vec()).file_name("ojo.png"));
    let res = t.client.post(t.url("/api/products")).bearer_auth(&admin).multipart(form).send().await.unwrap();
    let p = expect_status(res, StatusCode::CREATED).await;
    let url = p["imgUrl"].as_str().unwrap().to_string();
    let prefix = format!("{}/feria-imagenes/products/", s3.endpoint);
    assert!(url.starts_with(&prefix) && url.ends_with(".png"), "{url}");
    let key = format!("feria-imagenes/{}", &url[s3.endpoint.len() + "/feria-imagenes/".len()..]);
    let objects = s3.objects();
    assert_eq!(objects.len(), 1);
    assert_eq!((objects[&key].content_type.as_str(), objects[&key].bytes.as_slice()), ("image/png", PNG));
    let served = t.client.get(&url).send().await.unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG, "the public URL serves the object");
    assert_eq!(s3.rejected_signatures(), 0);

    // The bucket failing: a clean 502, no product, no object left behind.
    s3.fail_next(1);
    let form = multipart_bife(&c).text("name", "Vacío").part("image", Part::bytes(PNG.to_vec()).file_name("v.png"));
    let res = t.client.post(t.url("/api/products")).bearer_auth(&admin).multipart(form).send().await.unwrap();
    let err = expect_error(res, StatusCode::BAD_GATEWAY, "upstream_error").await;
    assert!(err["error"].as_str().unwrap().contains("almacenamiento de archivos"), "{err}");
    assert_eq!(expect_status(t.get("/api/products", None).await, StatusCode::OK).await["total"], 1);
    assert_eq!(s3.objects().len(), 1);

    // Replacing the image deletes the old object; deleting the product deletes the new one.
    let id = p["id"].as_str().unwrap();
    let replace = Form::new().part("image", Part::bytes(PNG.to_vec()).file_name("nueva.png"));
    let res = t.client.put(t.url(&format!("/api/products/{id}"))).bearer_auth(&admin).multipart(replace).send().await.unwrap();
    let updated = expect_status(res, StatusCode::OK).await;
    let objects = s3.objects();
    assert_eq!(objects.len(), 1);
    assert!(!objects.contains_key(&key), "the replaced image was deleted from the bucket");
    assert!(updated["imgUrl"].as_str().unwrap().starts_with(&prefix));
    expect_status(t.request(Method::DELETE, &format!("/api/products/{id}"), None, Some(&admin)).await, StatusCode::OK).await;
    assert!(s3.objects().is_empty(), "deleting the product deleted its images");
    assert_eq!(s3.rejected_signatures(), 0, "every request was correctly signed");

    // A wrong secret is refused by the bucket and reported as a 502.
    let wrong = TestApp::with(|s| {
        s.extend(s3.settings("feria-imagenes"));
        s.insert("AWS_SECRET_ACCESS_KEY".into(), "not-the-secret".into());
    })
    .await;
    let admin = wrong.admin_token().await;
    let c = catalog(&wrong, &admin, "/api").await;
    let form = multipart_bife(&c).part("image", Part::bytes(PNG.to_vec()).file_name("ojo.png"));
    let res = wrong.client.post(wrong.url("/api/products")).bearer_auth(&admin).multipart(form).send().await.unwrap();
    expect_error(res, StatusCode::BAD_GATEWAY, "upstream_error").await;
    assert_eq!(s3.rejected_signatures(), 1);
}

#[tokio::test]
async fn updates_inactive_products_and_categories_in_use() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let c = catalog(&t, &admin, "/api").await;
    let p = create(&t, &c, &bife(&c)).await;
    let path = format!("/api/products/{}", p["id"].as_str().unwrap());
    let change = json!({"price": "13000", "isActive": false, "tags": []});
    let updated = expect_status(t.request(Method::PUT, &path, Some(&change), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((updated["price"].clone(), updated["isActive"].clone(), updated["tags"].clone()), (json!(13000), json!(false), json!([])));
    assert_eq!(updated["sku"], "BIFE-001");
    assert_eq!(expect_status(t.get("/api/products", None).await, StatusCode::OK).await["total"], 0, "inactive products are not listed");
    expect_error(t.get(&path, None).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(expect_status(t.get(&path, Some(&admin)).await, StatusCode::OK).await["isActive"], false, "admins still see it");
    expect_error(
        t.request(Method::PUT, "/api/products/01900000-0000-7000-8000-000000000000", Some(&change), Some(&admin)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let err = expect_error(
        t.request(Method::DELETE, &format!("/api/categories/{}", c.category), None, Some(&admin)).await,
        StatusCode::CONFLICT,
        "in_use",
    )
    .await;
    assert!(err["error"].as_str().unwrap().contains("productos"));
    expect_error(t.request(Method::DELETE, &format!("/api/units/{}", c.unit), None, Some(&admin)).await, StatusCode::CONFLICT, "in_use")
        .await;
    expect_status(t.request(Method::DELETE, &path, None, Some(&admin)).await, StatusCode::OK).await;
    expect_status(t.request(Method::DELETE, &format!("/api/categories/{}", c.category), None, Some(&admin)).await, StatusCode::OK).await;
}

#[tokio::test]
async fn renamed_categories_units_and_tags_show_in_their_products_at_once() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let c = catalog(&t, &admin, "/api").await;
    let p = create(&t, &c, &bife(&c)).await;
    let path = format!("/api/products/{}", p["id"].as_str().unwrap());
    // Read everything once so the node has it cached.
    for url in [path.as_str(), "/api/products", "/api/products/search?q=bife"] {
        expect_status(t.get(url, None).await, StatusCode::OK).await;
    }
    let tags = expect_status(t.get("/api/tags", None).await, StatusCode::OK).await;
    let premium = tags["tags"].as_array().unwrap().iter().find(|t| t["name"] == "premium").unwrap()["id"].as_str().unwrap().to_string();
    for (url, body) in [
        (format!("/api/categories/{}", c.category), json!({"name": "Vacunos"})),
        (format!("/api/units/{}", c.unit), json!({"name": "Kilo", "abbreviation": "kg."})),
        (format!("/api/tags/{premium}"), json!({"name": "Selección"})),
    ] {
        expect_status(t.request(Method::PUT, &url, Some(&body), Some(&admin)).await, StatusCode::OK).await;
    }
    let detail = expect_status(t.get(&path, None).await, StatusCode::OK).await;
    let listed = expect_status(t.get("/api/products", None).await, StatusCode::OK).await["products"][0].clone();
    let found = expect_status(t.get("/api/products/search?q=bife", None).await, StatusCode::OK).await["products"][0].clone();
    for product in [detail, listed, found] {
        assert_eq!(product["category"]["name"], "Vacunos");
        assert_eq!((product["unit"]["name"].clone(), product["unit"]["abbreviation"].clone()), (json!("Kilo"), json!("kg.")));
        assert_eq!(product["tags"], json!(["popular", "Selección"]));
    }
    let by_tag = expect_status(t.get("/api/products/search?q=seleccion", None).await, StatusCode::OK).await;
    assert_eq!(by_tag["total"], 1, "the renamed tag is searchable");
}

#[tokio::test]
async fn products_never_leak_between_stores() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let store = json!({"name": "Chile", "slug": "chile", "currency": "CLP", "country": "CL"});
    expect_status(t.request(Method::POST, "/api/stores", Some(&store), Some(&admin)).await, StatusCode::CREATED).await;
    let ours = catalog(&t, &admin, "/api").await;
    let theirs = catalog(&t, &admin, "/api/stores/chile").await;
    let mut body = bife(&theirs);
    body["price"] = json!(15000);
    let p =
        expect_status(t.request(Method::POST, "/api/stores/chile/products", Some(&body), Some(&admin)).await, StatusCode::CREATED).await;
    assert_eq!((p["currency"].as_str(), p["price"].clone(), p["priceWithTax"].clone()), (Some("CLP"), json!(15000), json!(18150)));
    let mut decimals = bife(&theirs);
    decimals["sku"] = json!("OTRO");
    let err = expect_error(
        t.request(Method::POST, "/api/stores/chile/products", Some(&decimals), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(err["details"][0]["field"], "price", "CLP has no decimals");

    assert_eq!(expect_status(t.get("/api/products", None).await, StatusCode::OK).await["total"], 0);
    let id = p["id"].as_str().unwrap();
    expect_error(t.get(&format!("/api/products/{id}"), None).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(t.request(Method::DELETE, &format!("/api/products/{id}"), None, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    let by_cat = expect_status(t.get(&format!("/api/products/by-category/{}", theirs.category), None).await, StatusCode::OK).await;
    assert_eq!(by_cat["total"], 0);
    // Our store cannot use their category, and the same SKU is fine in each store.
    let mut cross = bife(&ours);
    cross["category"] = json!(theirs.category);
    expect_error(
        t.request(Method::POST, "/api/products", Some(&cross), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    create(&t, &ours, &bife(&ours)).await;
    assert_eq!(expect_status(t.get("/api/stores/chile/products", None).await, StatusCode::OK).await["total"], 1);
}
