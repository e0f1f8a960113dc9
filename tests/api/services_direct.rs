//! The use cases without HTTP: what the MCP server, the assistant and chat channels will call.
//! An order is placed, paid through a Mercado Pago webhook observation and another cancelled,
//! all by calling services directly.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use feria::services::catalog::product_writes;
use feria::services::catalog::products::ProductData;
use feria::services::catalog::stores::{self, DEFAULT_SLUG};
use feria::services::checkout::{self, Checkout, Delivery, GivenAddress, Place};
use feria::services::customers::Guest;
use feria::services::identity::caller::Caller;
use feria::services::identity::provisioning;
use feria::services::order_status_change;
use feria::services::orders::RequestedLine;
use feria::services::payments::mercadopago;
use feria::services::payments::webhook_intake::{self, Delivery as WebhookDelivery, Source};
use feria_domain::roles::Role;

use crate::fake_mercadopago::{FakeMercadoPago, SECRET};
use crate::harness::TestApp;

fn guest_checkout(product_id: &str, quantity: i64) -> Checkout {
    Checkout {
        lines: vec![RequestedLine { product_id: product_id.into(), quantity, client_unit_price: None }],
        delivery: Delivery::Given(GivenAddress {
            street: "Av. Corrientes".into(),
            number: "1234".into(),
            place: Place::Named { neighborhood: "Almagro".into(), city: "Buenos Aires".into() },
            zip_code: None,
            details: None,
            recipient: None,
            phone: None,
        }),
        guest: Some(Guest { name: "Ana Pérez".into(), email: "ana@example.com".into(), phone: None }),
        coupon_code: None,
        payment_method_code: None,
        notes: None,
        shipping_option: None,
    }
}

/// One id from `table` in the store, inserted when the store has none.
async fn taxonomy_id(t: &TestApp, table: &str, store_id: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let sql = format!(
        "INSERT INTO {table} (id, store_id, name, name_key, description, is_active, created_at, updated_at)
         VALUES ($1, $2, 'General', 'general', '', 1, '2026-11-30T00:00:00Z', '2026-11-30T00:00:00Z')"
    );
    sqlx::query(&sql).bind(&id).bind(store_id).execute(t.app.db.writer()).await.unwrap();
    id
}

#[tokio::test]
async fn an_order_is_placed_paid_and_another_cancelled_without_http() {
    let mp = FakeMercadoPago::start().await;
    let t = TestApp::with(|s| s.extend(mp.settings())).await;
    let app = &t.app;
    let store = stores::find_by_slug(&mut app.db.reader().acquire().await.unwrap(), DEFAULT_SLUG).await.unwrap().unwrap();
    let admin = provisioning::create_user(app, "Dueña", "duena@example.com", "a-long-password", &[Role::Admin]).await.unwrap();
    let admin = Caller { id: admin.id, roles: vec![Role::Admin.as_str().to_string()], memberships: Vec::new(), key: None };

    let data = ProductData {
        name: "Vacío".into(),
        description: "Corte para asado".into(),
        sku: None,
        price: 1_500_000,
        tax_rate_bp: 2100,
        stock: 10,
        is_active: true,
        weight_grams: None,
        dimensions: None,
        category_id: taxonomy_id(&t, "categories", &store.id).await,
        unit_id: taxonomy_id(&t, "units", &store.id).await,
        tags: Vec::new(),
    };
    let product_id = app.settle(product_writes::create_product(app, &admin, &store, &data, &[]).await.unwrap()).await;
    let stock = || async { app.catalog_cache.products(&app.db, &store.id, std::slice::from_ref(&product_id)).await.unwrap()[0].stock };

    // Placed by a guest: stock is taken at once.
    let paid = app.settle(checkout::place_order(app, None, &store, guest_checkout(&product_id, 2)).await.unwrap()).await;
    assert_eq!(paid.order.status_code, "PENDING");
    assert_eq!(stock().await, 8);

    // Paid: Mercado Pago approves, its signed webhook is taken in, the order is PAID.
    let (payment, preference) = mercadopago::start(app, None, &store, &paid.order.id, None).await.unwrap();
    assert_eq!(payment.amount, paid.order.total);
    let mp_id = mp.pay(&preference.id, "approved", None);
    let (query, headers, body) = mp.webhook(&mp_id, chrono::Utc::now().timestamp(), SECRET);
    let mut header_map = HeaderMap::new();
    for (name, value) in &headers {
        header_map.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
    }
    let body = serde_json::to_vec(&body).unwrap();
    let delivery = WebhookDelivery { headers: &header_map, raw_query: Some(&query), body: &body, ip: "127.0.0.1" };
    app.settle(webhook_intake::take_in(app, &store, Source::MercadoPago, delivery).await.unwrap()).await;
    let reread =
        feria::services::orders::find(&mut app.db.reader().acquire().await.unwrap(), &store.id, &paid.order.id).await.unwrap().unwrap();
    assert_eq!(reread.status_code, "PAID");

    // A second order, cancelled by the shop: its stock comes back, once.
    let other = app.settle(checkout::place_order(app, None, &store, guest_checkout(&product_id, 3)).await.unwrap()).await;
    assert_eq!(stock().await, 5);
    let cancelled = app.settle(order_status_change::cancel_order(app, &admin, &store, &other.order.id, None).await.unwrap()).await;
    assert_eq!(cancelled.status_code, "CANCELLED");
    assert_eq!(stock().await, 8);
    assert!(order_status_change::cancel_order(app, &admin, &store, &other.order.id, None).await.is_err(), "cancelled twice");
    assert_eq!(stock().await, 8);

    // A buyer who is not the order's cannot cancel it: to them it does not exist.
    let stranger = Caller { id: "someone-else".into(), roles: Vec::new(), memberships: Vec::new(), key: None };
    let refused = order_status_change::cancel_order(app, &stranger, &store, &paid.order.id, None).await;
    assert!(matches!(refused, Err(feria::services::order_workflow::StatusChangeError::UnknownOrder)));
}
