//! Bulk import (CSV, XLSX) through the job queue, template and export round trips.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

/// Uploads `bytes` as `name` and returns the job id.
async fn upload(t: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_string()));
    t.client.post(t.url("/api/products/bulk-import")).bearer_auth(token).multipart(form).send().await.unwrap()
}

/// Polls the import until it is done or failed.
async fn finished(t: &TestApp, token: &str, job: &str) -> Value {
    for _ in 0..300 {
        let status = expect_status(t.get(&format!("/api/import/status/{job}"), Some(token)).await, StatusCode::OK).await;
        if status["status"] == "done" || status["status"] == "failed" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {job} did not finish");
}

async fn import(t: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> Value {
    let accepted = expect_status(upload(t, token, name, bytes).await, StatusCode::ACCEPTED).await;
    assert_eq!(accepted["status"], "queued");
    finished(t, token, accepted["jobId"].as_str().unwrap()).await
}

async fn product_by_sku(t: &TestApp, sku: &str) -> Option<Value> {
    let all = expect_status(t.get("/api/products?limit=100", None).await, StatusCode::OK).await;
    all["products"].as_array().unwrap().iter().find(|p| p["sku"] == sku).cloned()
}

const GOOD_CSV: &str = "nombre,descripción,precio,categoria,sku,stock,imagen_url,peso,dimensiones\n\
Bife de chorizo,Corte premium,18900.50,Carnes vacunas,BIFE-1,20,https://cdn.test/bife.jpg,1.2,30x20 cm\n\
\"Jamón crudo, feteado\",Estacionado,6800,Fiambres,JAM-1,5,,,\n\
Vacío,,15800,carnes VACUNAS,,3,,,\n";

#[tokio::test]
async fn csv_imports_upserting_by_sku_and_creating_categories() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let done = import(&t, &admin, "productos.csv", GOOD_CSV.as_bytes().to_vec()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!((done["rowsTotal"].as_i64(), done["created"].as_i64(), done["updated"].as_i64()), (Some(3), Some(3), Some(0)));
    assert_eq!(done["errors"], json!([]));

    let bife = product_by_sku(&t, "BIFE-1").await.expect("imported");
    assert_eq!(
        (bife["price"].clone(), bife["weight"].clone(), bife["imgUrl"].clone()),
        (json!(18900.5), json!(1.2), json!("https://cdn.test/bife.jpg"))
    );
    assert_eq!(bife["category"]["name"], "Carnes vacunas");
    let cats = expect_status(t.get("/api/categories", None).await, StatusCode::OK).await;
    assert_eq!(cats["total"], 2, "categories matched ignoring case, unknown ones created");

    let update = "name,price,category,sku,stock\nBife de chorizo madurado,21000,Carnes vacunas,BIFE-1,7\n";
    let done = import(&t, &admin, "cambios.csv", update.as_bytes().to_vec()).await;
    assert_eq!((done["created"].as_i64(), done["updated"].as_i64()), (Some(0), Some(1)), "{done}");
    let bife = product_by_sku(&t, "BIFE-1").await.unwrap();
    assert_eq!(
        (bife["name"].as_str(), bife["price"].clone(), bife["stock"].as_i64()),
        (Some("Bife de chorizo madurado"), json!(21000), Some(7))
    );
    assert_eq!(expect_status(t.get("/api/products", None).await, StatusCode::OK).await["total"], 3);
}

#[tokio::test]
async fn one_bad_row_imports_nothing_and_every_bad_row_is_reported() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let csv = "nombre,precio,categoria,sku,stock\nBien,100,Almacén,OK-1,1\nMal precio,abc,Almacén,OK-2,1\n,50,Almacén,OK-3,x\nRepetido,10,Almacén,OK-1,1\n";
    let done = import(&t, &admin, "malo.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["created"], 0);
    let errors: Vec<(i64, &str)> =
        done["errors"].as_array().unwrap().iter().map(|e| (e["row"].as_i64().unwrap(), e["column"].as_str().unwrap())).collect();
    assert_eq!(errors, [(3, "precio"), (4, "nombre"), (4, "stock"), (5, "sku")]);
    assert_eq!(done["errorCount"], 4);
    assert!(done["failure"].as_str().unwrap().contains("no se importó nada"));
    assert_eq!(expect_status(t.get("/api/products", None).await, StatusCode::OK).await["total"], 0);
    assert_eq!(expect_status(t.get("/api/categories", None).await, StatusCode::OK).await["total"], 0);
}

#[tokio::test]
async fn unusable_files_get_clear_errors() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let missing = import(&t, &admin, "x.csv", b"nombre,categoria\nBife,Carnes\n".to_vec()).await;
    assert_eq!(missing["status"], "failed");
    assert_eq!(missing["failure"], "Faltan columnas obligatorias: precio");
    let header_only = import(&t, &admin, "x.csv", b"nombre,precio,categoria\n".to_vec()).await;
    assert_eq!(header_only["failure"], "El archivo no tiene filas de productos");

    expect_error(upload(&t, &admin, "x.csv", Vec::new()).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    expect_error(upload(&t, &admin, "foto.png", png).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    expect_error(
        upload(&t, &admin, "fake.xlsx", b"nombre,precio\n".to_vec()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let broken = import(&t, &admin, "roto.xlsx", b"PK\x03\x04 this is no workbook".to_vec()).await;
    assert_eq!(broken["status"], "failed");
    assert!(broken["failure"].as_str().unwrap().starts_with("XLSX inválido"), "{broken}");
    let json_body = t.request(Method::POST, "/api/products/bulk-import", Some(&json!({})), Some(&admin)).await;
    expect_error(json_body, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let no_file = t
        .client
        .post(t.url("/api/products/bulk-import"))
        .bearer_auth(&admin)
        .multipart(Form::new().text("other", "x"))
        .send()
        .await
        .unwrap();
    expect_error(no_file, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let user = t.register("Ana", "ana@example.com", "secreto1").await;
    expect_error(
        upload(&t, user["token"].as_str().unwrap(), "x.csv", GOOD_CSV.as_bytes().to_vec()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_error(t.get("/api/import/status/01900000-0000-7000-8000-000000000000", Some(&admin)).await, StatusCode::NOT_FOUND, "not_found")
        .await;
}

#[tokio::test]
async fn xlsx_written_by_another_tool_imports() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures/handmade.xlsx")).unwrap();
    let done = import(&t, &admin, "vinos.xlsx", bytes).await;
    assert_eq!(
        (done["status"].as_str(), done["format"].as_str(), done["created"].as_i64()),
        (Some("done"), Some("xlsx"), Some(2)),
        "{done}"
    );
    let malbec = product_by_sku(&t, "XL-1").await.unwrap();
    assert_eq!(
        (malbec["name"].as_str(), malbec["price"].clone(), malbec["weight"].clone()),
        (Some("Vino Malbec reserva"), json!(5900.5), json!(1.3))
    );
    assert_eq!(product_by_sku(&t, "XL-2").await.unwrap()["stock"], 0);
}

#[tokio::test]
async fn templates_and_exports_round_trip() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let csv_template = t.get("/api/import/template?format=csv", None).await;
    assert_eq!(csv_template.status(), StatusCode::OK);
    assert!(csv_template.headers()["content-disposition"].to_str().unwrap().contains("plantilla-productos.csv"));
    let text = csv_template.text().await.unwrap();
    assert!(text.starts_with("nombre,descripción,precio,categoria,sku,stock,imagen_url,peso,dimensiones\n"), "{text}");
    let xlsx_template = t.get("/api/import/template", None).await.bytes().await.unwrap().to_vec();
    assert!(xlsx_template.starts_with(b"PK\x03\x04"));
    let done = import(&t, &admin, "plantilla.xlsx", xlsx_template).await;
    assert_eq!((done["status"].as_str(), done["created"].as_i64()), (Some("done"), Some(1)), "the template itself imports: {done}");
    expect_error(t.get("/api/import/template?format=pdf", None).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    import(&t, &admin, "productos.csv", GOOD_CSV.as_bytes().to_vec()).await;
    let before = expect_status(t.get("/api/products?limit=100", None).await, StatusCode::OK).await;
    for (round, format) in ["csv", "xlsx"].into_iter().enumerate() {
        let exported = t.get(&format!("/api/products/export?format={format}"), Some(&admin)).await;
        assert_eq!(exported.status(), StatusCode::OK);
        let bytes = exported.bytes().await.unwrap().to_vec();
        let done = import(&t, &admin, &format!("export.{format}"), bytes).await;
        assert_eq!(done["status"], "done", "{format}: {done}");
        let no_sku_rows = round as i64 + 1;
        assert_eq!(
            (done["created"].as_i64(), done["updated"].as_i64()),
            (Some(no_sku_rows), Some(3)),
            "{format}: rows without SKU are created again"
        );
    }
    let after = expect_status(t.get("/api/products?limit=100", None).await, StatusCode::OK).await;
    for sku in ["BIFE-1", "JAM-1", "BIFE-001"] {
        let find = |body: &Value| body["products"].as_array().unwrap().iter().find(|p| p["sku"] == sku).cloned().unwrap();
        let (a, b) = (find(&before), find(&after));
        for field in ["name", "description", "price", "stock", "weight", "dimensions", "imgUrl"] {
            assert_eq!(a[field], b[field], "{sku}.{field} survives export and re-import");
        }
    }
    expect_error(t.get("/api/products/export", None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn files_past_the_column_or_row_bounds_are_refused_whole() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    // A cell far to the right once made the reader allocate a row that wide.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, name) in ["nombre", "descripción", "precio", "categoria", "stock"].iter().enumerate() {
        sheet.write_string(0, c as u16, *name).unwrap();
    }
    sheet.write_string(1, 16_000, "lejos").unwrap();
    let done = import(&t, &admin, "ancho.xlsx", workbook.save_to_buffer().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(done["failure"].as_str().unwrap().contains("columnas"), "{done}");

    let wide = format!("{}\n", (0..65).map(|i| format!("c{i}")).collect::<Vec<_>>().join(","));
    let done = import(&t, &admin, "ancho.csv", wide.into_bytes()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(done["failure"].as_str().unwrap().contains("columnas"), "{done}");
    let all = expect_status(t.get("/api/products", None).await, StatusCode::OK).await;
    assert_eq!(all["total"], 0);
}
