//! Coupons: admin CRUD with exact amounts, rules, soft and forced deletes, public validation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_error, expect_status};

async fn create(t: &TestApp, admin: &str, body: Value) -> Value {
    expect_status(t.request(Method::POST, "/api/coupons", Some(&body), Some(admin)).await, StatusCode::CREATED).await["coupon"].clone()
}

fn fields_of(err: &Value) -> Vec<String> {
    err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn admins_create_list_update_and_delete_coupons() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let user = t.register("Ana", "ana@example.com", "secreto1").await["token"].as_str().unwrap().to_string();
    let body = json!({"code": "verano10", "discountType": "percentage", "discountValue": 10.5, "maxDiscountAmount": "1500.50", "minOrderAmount": 5000, "usageLimit": 5, "expirationDate": "2099-12-31"});
    expect_error(t.request(Method::POST, "/api/coupons", Some(&body), None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    expect_error(t.request(Method::POST, "/api/coupons", Some(&body), Some(&user)).await, StatusCode::FORBIDDEN, "forbidden").await;

    let verano = create(&t, &admin, body.clone()).await;
    assert_eq!(verano["code"], "VERANO10");
    assert_eq!(
        (verano["discountValue"].clone(), verano["maxDiscountAmount"].clone(), verano["minOrderAmount"].clone()),
        (json!(10.5), json!(1500.5), json!(5000))
    );
    assert_eq!((verano["usageLimit"].as_i64(), verano["usedCount"].as_i64(), verano["isActive"].as_bool()), (Some(5), Some(0), Some(true)));
    assert_eq!(verano["expirationDate"], "2099-12-31T23:59:59.999999Z", "a date is valid through that day");
    let dup = json!({"code": "Verano10", "discountType": "fixed", "discountValue": 100});
    let err =
        expect_error(t.request(Method::POST, "/api/coupons", Some(&dup), Some(&admin)).await, StatusCode::CONFLICT, "code_taken").await;
    assert_eq!(fields_of(&err), ["code"]);

    let bad = json!({"code": "x", "discountType": "gift", "minOrderAmount": -1, "usageLimit": 0, "expirationDate": "2001-01-01"});
    let err = expect_error(
        t.request(Method::POST, "/api/coupons", Some(&bad), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields_of(&err), ["code", "discountType", "discountValue", "minOrderAmount", "expirationDate", "usageLimit"]);
    let too_much = json!({"code": "MAS100", "discountType": "percentage", "discountValue": 100.01});
    let err = expect_error(
        t.request(Method::POST, "/api/coupons", Some(&too_much), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields_of(&err), ["discountValue"]);
    let fixed_cap = json!({"code": "FIJO", "discountType": "fixed", "discountValue": "0.001", "maxDiscountAmount": 10});
    let err = expect_error(
        t.request(Method::POST, "/api/coupons", Some(&fixed_cap), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields_of(&err), ["discountValue", "maxDiscountAmount"], "ARS has 2 decimals; a fixed coupon has no cap");

    let fijo =
        create(&t, &admin, json!({"code": "FIJO500", "discountType": "fixed", "discountValue": 500, "description": "500 menos"})).await;
    assert_eq!(
        (fijo["maxDiscountAmount"].clone(), fijo["usageLimit"].clone(), fijo["expirationDate"].clone()),
        (Value::Null, Value::Null, Value::Null)
    );

    let page = expect_status(t.get("/api/coupons?limit=1", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(page["pagination"], json!({"page": 1, "limit": 1, "total": 2, "totalPages": 2}));
    assert_eq!(page["coupons"][0]["code"], "FIJO500", "newest first");

    // Updates keep what is not sent; null clears; the rules apply to the result.
    let path = format!("/api/coupons/{}", verano["id"].as_str().unwrap());
    let change = json!({"discountValue": 20, "usageLimit": null, "expirationDate": null});
    let updated = expect_status(t.request(Method::PUT, &path, Some(&change), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(updated["message"], "Cupón actualizado");
    let c = &updated["coupon"];
    assert_eq!(
        (c["discountValue"].clone(), c["usageLimit"].clone(), c["expirationDate"].clone(), c["maxDiscountAmount"].clone()),
        (json!(20), Value::Null, Value::Null, json!(1500.5))
    );
    let to_fixed = json!({"discountType": "fixed"});
    let err = expect_error(
        t.request(Method::PUT, &path, Some(&to_fixed), Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields_of(&err), ["maxDiscountAmount"]);
    let to_fixed = json!({"discountType": "fixed", "maxDiscountAmount": null, "discountValue": 300});
    let fixed = expect_status(t.request(Method::PUT, &path, Some(&to_fixed), Some(&admin)).await, StatusCode::OK).await;
    assert_eq!((fixed["coupon"]["discountType"].as_str(), fixed["coupon"]["discountValue"].clone()), (Some("fixed"), json!(300)));

    // Delete deactivates; force deletes.
    let res = expect_status(t.request(Method::DELETE, &path, None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(res, json!({"message": "Cupón desactivado"}));
    let got = expect_status(t.get(&path, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(got["coupon"]["isActive"], false);
    let inactive = expect_status(t.get("/api/coupons?active=false", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(inactive["pagination"]["total"], 1);
    let res = expect_status(t.request(Method::DELETE, &format!("{path}?force=true"), None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(res, json!({"message": "Cupón eliminado"}));
    expect_error(t.get(&path, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn checkout_validates_codes_and_computes_the_discount() {
    let t = TestApp::spawn().await;
    let admin = t.admin_token().await;
    let pct = create(
        &t,
        &admin,
        json!({"code": "DIEZ", "discountType": "percentage", "discountValue": 10, "maxDiscountAmount": 1000, "minOrderAmount": 2000}),
    )
    .await;
    create(&t, &admin, json!({"code": "FIJO", "discountType": "fixed", "discountValue": "750.25"})).await;

    let ok = expect_status(t.get("/api/coupons/validate/diez?orderAmount=5000.55", None).await, StatusCode::OK).await;
    assert_eq!(
        (ok["valid"].as_bool(), ok["discountAmount"].clone(), ok["coupon"]["code"].as_str()),
        (Some(true), json!(500.06), Some("DIEZ"))
    );
    let capped = expect_status(t.get("/api/coupons/validate/DIEZ?orderAmount=50000", None).await, StatusCode::OK).await;
    assert_eq!(capped["discountAmount"], json!(1000));
    let fixed = expect_status(t.get("/api/coupons/validate/FIJO?orderAmount=500", None).await, StatusCode::OK).await;
    assert_eq!(fixed["discountAmount"], json!(500), "never more than the order");
    let no_amount = expect_status(t.get("/api/coupons/validate/FIJO", None).await, StatusCode::OK).await;
    assert_eq!(no_amount["discountAmount"], json!(0));

    let below =
        expect_error(t.get("/api/coupons/validate/DIEZ?orderAmount=1999.99", None).await, StatusCode::BAD_REQUEST, "coupon_below_minimum")
            .await;
    assert_eq!(below["valid"], false);
    assert!(below["message"].as_str().unwrap().contains("2000"));
    let missing = expect_error(t.get("/api/coupons/validate/NOPE", None).await, StatusCode::NOT_FOUND, "coupon_not_found").await;
    assert_eq!(missing["valid"], false);
    expect_error(t.get("/api/coupons/validate/DIEZ?orderAmount=abc", None).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        .await;

    // Expired and used-up coupons (set directly: the API refuses past dates, and uses are
    // counted by orders).
    let id = pct["id"].as_str().unwrap();
    let db = t.app.db.writer();
    sqlx::query("UPDATE coupons SET expires_at = '2020-01-01T00:00:00.000000Z' WHERE id = $1").bind(id).execute(db).await.unwrap();
    expect_error(t.get("/api/coupons/validate/DIEZ?orderAmount=5000", None).await, StatusCode::BAD_REQUEST, "coupon_expired").await;
    assert_eq!(
        expect_status(t.get("/api/coupons", Some(&admin)).await, StatusCode::OK).await["pagination"]["total"],
        1,
        "expired ones hidden"
    );
    assert_eq!(expect_status(t.get("/api/coupons?expired=true", Some(&admin)).await, StatusCode::OK).await["pagination"]["total"], 2);
    sqlx::query("UPDATE coupons SET expires_at = NULL, usage_limit = 0 WHERE id = $1").bind(id).execute(db).await.unwrap();
    expect_error(t.get("/api/coupons/validate/DIEZ?orderAmount=5000", None).await, StatusCode::BAD_REQUEST, "coupon_used_up").await;
    expect_status(t.request(Method::DELETE, &format!("/api/coupons/{id}"), None, Some(&admin)).await, StatusCode::OK).await;
    expect_error(t.get("/api/coupons/validate/DIEZ?orderAmount=5000", None).await, StatusCode::BAD_REQUEST, "coupon_inactive").await;
}
