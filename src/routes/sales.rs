//! `/api/sales` (seed 001 "Pedidos/Ventas"), also under `/api/stores/{slug}/…`: placing an
//! order as a guest or a logged-in user, reading it, and the user's own orders.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::auth::{AdminUser, AuthUser, ClientIp, MaybeUser};
use crate::http::error::{ApiError, ApiResult, ErrorBody, FieldError, codes};
use crate::http::json::{ApiJson, PageInfo, Pagination};
use crate::http::path::IdParam;
use crate::http::store::CurrentStore;
use crate::http::validate::Validator;
use crate::routes::customers::is_phone;
use crate::services::catalog::stores::Store;
use crate::services::coupons::Refusal;
use crate::services::identity::users;
use crate::services::order_edits::{self, Editor, OrderChanges, ShippingChanges};
use crate::services::orders::{self, Buyer, NewOrder, Order, OrderError, OrderFilter, RequestedLine, ShippingAddress, StatusChangeError};
use crate::services::{addresses, customers, geography, order_notifications};
use feria_domain::decimal::{DecimalOut, DecimalText};
use feria_domain::roles::Role;

/// One requested line. `unitPrice` and `taxRate` are accepted but never trusted: the catalog's
/// apply, and a different `unitPrice` is reported in `warnings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleItemRequest {
    pub product_id: Option<String>,
    /// A whole number ≥ 1.
    #[schema(value_type = Option<i64>)]
    pub quantity: Option<DecimalText>,
    #[schema(value_type = Option<f64>)]
    pub unit_price: Option<DecimalText>,
    #[schema(value_type = Option<f64>)]
    pub tax_rate: Option<DecimalText>,
}

/// A shipping address given with the order (seed 001), or by one of the store's neighborhoods.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingRequest {
    pub street: Option<String>,
    pub number: Option<String>,
    /// A name; or send `neighborhoodId` instead of `neighborhood` and `city`.
    pub neighborhood: Option<String>,
    pub city: Option<String>,
    pub neighborhood_id: Option<String>,
    pub zip_code: Option<String>,
    pub details: Option<String>,
    /// Defaults to the customer's name.
    pub recipient_name: Option<String>,
    pub phone: Option<String>,
}

/// A guest's details.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerData {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// An order to place. A guest sends `customerData` and `shippingAddress`; a logged-in user
/// sends `selectedAddressId`, a `shippingAddress`, or nothing (their default address).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleRequest {
    pub items: Option<Vec<SaleItemRequest>>,
    pub coupon_code: Option<String>,
    pub payment_method_code: Option<String>,
    pub selected_address_id: Option<String>,
    pub shipping_address: Option<ShippingRequest>,
    pub customer_data: Option<CustomerData>,
    /// Up to 500 characters.
    pub notes: Option<String>,
}

/// The order's customer, as given at checkout.
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleCustomer {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// The product of a line, as it was sold.
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleProduct {
    pub id: String,
    pub name: String,
    #[schema(value_type = f64)]
    pub price: DecimalOut,
}

/// One line of an order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleItemView {
    pub product: SaleProduct,
    pub quantity: i64,
    /// Net unit price.
    #[schema(value_type = f64)]
    pub unit_price: DecimalOut,
    /// Percent.
    #[schema(value_type = f64)]
    pub tax_rate: DecimalOut,
    /// Net × quantity, before the discount.
    #[schema(value_type = f64)]
    pub subtotal: DecimalOut,
    #[schema(value_type = f64)]
    pub discount: DecimalOut,
    #[schema(value_type = f64)]
    pub tax: DecimalOut,
}

/// The shipping address stored on the order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleAddressView {
    pub recipient_name: String,
    pub phone: Option<String>,
    pub street: String,
    pub number: String,
    pub neighborhood: String,
    pub city: String,
    pub zip_code: Option<String>,
    pub details: Option<String>,
}

/// The coupon applied.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleCoupon {
    pub code: String,
    pub discount_type: String,
    #[schema(value_type = f64)]
    pub discount_value: DecimalOut,
}

/// An order (seed 001 shape plus `paymentMethod`, `shipping`, `currency`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleView {
    pub id: String,
    pub order_number: String,
    pub customer: SaleCustomer,
    pub items: Vec<SaleItemView>,
    pub shipping_address: SaleAddressView,
    #[schema(value_type = f64)]
    pub subtotal: DecimalOut,
    #[schema(value_type = f64)]
    pub tax_amount: DecimalOut,
    #[schema(value_type = f64)]
    pub discount_amount: DecimalOut,
    #[schema(value_type = f64)]
    pub shipping: DecimalOut,
    #[schema(value_type = f64)]
    pub total: DecimalOut,
    pub currency: String,
    /// The status code (`PENDING`, `AWAITING_PAYMENT`…).
    pub status: String,
    pub status_name: String,
    pub payment_method: Option<String>,
    pub coupon: Option<SaleCoupon>,
    pub notes: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl SaleView {
    fn new(o: Order, store: &Store) -> SaleView {
        let exponent = store.currency.exponent();
        let money = |v: i64| DecimalOut::scaled(v, exponent);
        SaleView {
            id: o.id,
            order_number: o.order_number,
            customer: SaleCustomer { id: o.customer_id, name: o.customer_name, email: o.customer_email, phone: o.customer_phone },
            items: o
                .lines
                .into_iter()
                .map(|l| SaleItemView {
                    product: SaleProduct { id: l.product_id, name: l.product_name, price: money(l.unit_price) },
                    quantity: l.quantity,
                    unit_price: money(l.unit_price),
                    tax_rate: DecimalOut::scaled(l.tax_rate_bp, 2),
                    subtotal: money(l.net),
                    discount: money(l.discount),
                    tax: money(l.tax),
                })
                .collect(),
            shipping_address: SaleAddressView {
                recipient_name: o.address.recipient,
                phone: o.address.phone,
                street: o.address.street,
                number: o.address.number,
                neighborhood: o.address.neighborhood,
                city: o.address.city,
                zip_code: o.address.zip_code,
                details: o.address.details,
            },
            subtotal: money(o.subtotal),
            tax_amount: money(o.tax),
            discount_amount: money(o.discount),
            shipping: money(o.shipping),
            total: money(o.total),
            currency: o.currency,
            status: o.status_code,
            status_name: o.status_name,
            payment_method: o.payment_method_code,
            coupon: o.coupon.map(|c| {
                let value_exponent = if c.discount_type == crate::services::coupons::DiscountType::Percentage { 2 } else { exponent };
                SaleCoupon {
                    code: c.code,
                    discount_type: c.discount_type.as_str().into(),
                    discount_value: DecimalOut::scaled(c.discount_value, value_exponent),
                }
            }),
            notes: o.notes,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// `{order, warnings}` after placing or editing.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalePlaced {
    pub order: SaleView,
    /// Notes for the client, e.g. a `unitPrice` that was not the catalog's.
    pub warnings: Vec<String>,
}

/// One page of orders (seed 001: `{orders, pagination}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SalePage {
    pub orders: Vec<SaleView>,
    pub pagination: PageInfo,
}

fn order_error(err: OrderError) -> ApiError {
    match err {
        OrderError::UnknownProduct(i) => ApiError::field(&format!("items[{i}].productId"), "El producto no existe en esta tienda"),
        OrderError::Unavailable(name) => ApiError::conflict(codes::PRODUCT_UNAVAILABLE, format!("{name} no está disponible")),
        OrderError::InsufficientStock { name, stock } => {
            ApiError::conflict(codes::INSUFFICIENT_STOCK, format!("No hay stock suficiente de {name}: quedan {stock}"))
        }
        OrderError::UnknownCoupon => ApiError::field("couponCode", "El cupón no existe"),
        OrderError::CouponRefused(refusal) => {
            let (code, message) = match refusal {
                Refusal::Inactive => (codes::COUPON_INACTIVE, "El cupón no está activo"),
                Refusal::Expired => (codes::COUPON_EXPIRED, "El cupón está vencido"),
                Refusal::UsedUp => (codes::COUPON_USED_UP, "El cupón alcanzó su límite de usos"),
                Refusal::BelowMinimum => (codes::COUPON_BELOW_MINIMUM, "El pedido no alcanza el monto mínimo del cupón"),
            };
            let mut conflict = ApiError::conflict(code, message);
            conflict.details.push(FieldError::new("couponCode", message));
            conflict
        }
        OrderError::UnknownPaymentMethod => ApiError::field("paymentMethodCode", "El método de pago no existe o no está activo"),
        OrderError::NoDefaultStatus => ApiError::internal("the store has no default order status"),
        OrderError::UnknownOrder => order_not_found(),
        OrderError::NotEditable(status) => ApiError::conflict(
            codes::ORDER_NOT_EDITABLE,
            format!("Un pedido en {status} ya no se puede modificar; solo PENDING (o CONFIRMED para la tienda)"),
        ),
        OrderError::TooLarge => ApiError::field("items", "El total del pedido supera el máximo permitido"),
        OrderError::Database(e) => ApiError::internal(e),
    }
}

fn order_not_found() -> ApiError {
    ApiError::not_found("Pedido no encontrado")
}

/// The validated lines of the request.
fn lines(v: &mut Validator, items: Option<Vec<SaleItemRequest>>, exponent: u32) -> Vec<RequestedLine> {
    let items = items.unwrap_or_default();
    if items.is_empty() {
        v.add("items", "Debe tener al menos un producto");
    }
    if items.len() > MAX_LINES {
        v.add("items", format!("Como máximo {MAX_LINES} productos por pedido"));
        return Vec::new();
    }
    let mut lines: Vec<RequestedLine> = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::new();
    for (i, item) in items.into_iter().enumerate() {
        let product_id = v.text(&format!("items[{i}].productId"), item.product_id.as_deref(), 1, 100);
        let quantity = v.quantity(&format!("items[{i}].quantity"), item.quantity.as_ref(), 1).unwrap_or(0);
        // A client price that is not a price at all is ignored like any other client price.
        let client_unit_price = item.unit_price.as_ref().and_then(|p| feria_domain::money::parse_scaled(&p.0, exponent).ok());
        if !product_id.is_empty() && !seen.insert(product_id.clone()) {
            v.add(&format!("items[{i}].productId"), "El producto está repetido; sumá las cantidades en una línea");
        }
        lines.push(RequestedLine { product_id, quantity, client_unit_price });
    }
    lines
}

/// Most lines an order may have.
const MAX_LINES: usize = 100;

/// The address snapshot from a `shippingAddress` (neighborhood and city by name or by id).
async fn shipping_from(
    conn: &mut feria_db::AnyConnection,
    v: &mut Validator,
    store: &Store,
    s: ShippingRequest,
    recipient: &str,
    phone: Option<String>,
) -> Result<ShippingAddress, sqlx::Error> {
    let street = v.text("shippingAddress.street", s.street.as_deref(), 2, 200);
    let number = v.text("shippingAddress.number", s.number.as_deref(), 1, 20);
    let (neighborhood, city) = match s.neighborhood_id.as_deref().map(str::trim) {
        Some(id) => match geography::find_neighborhood(conn, &store.id, id).await? {
            Some(n) => (n.name, n.city.name),
            None => {
                v.add("shippingAddress.neighborhoodId", "El barrio no existe en esta tienda");
                (String::new(), String::new())
            }
        },
        None => (
            v.text("shippingAddress.neighborhood", s.neighborhood.as_deref(), 2, 100),
            v.text("shippingAddress.city", s.city.as_deref(), 2, 100),
        ),
    };
    let phone = s.phone.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).or(phone);
    if phone.as_deref().is_some_and(|p| !is_phone(p)) {
        v.add("shippingAddress.phone", "No es un teléfono válido");
    }
    Ok(ShippingAddress {
        recipient: s.recipient_name.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).unwrap_or_else(|| recipient.to_string()),
        phone,
        street,
        number,
        neighborhood,
        city,
        zip_code: s.zip_code.map(|z| z.trim().to_string()).filter(|z| !z.is_empty()),
        details: s.details.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
    })
}

/// The snapshot of one of the user's saved addresses.
fn saved(a: addresses::Address) -> ShippingAddress {
    ShippingAddress {
        recipient: a.recipient_name,
        phone: Some(a.phone),
        street: a.street_address,
        number: String::new(),
        neighborhood: a.neighborhood.name,
        city: a.neighborhood.city.name,
        zip_code: a.postal_code,
        details: a.additional_info,
    }
}

/// Places an order (guests too).
#[utoipa::path(post, path = "/sales", tag = "sales", request_body = SaleRequest, params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the first successful answer is replayed")),
    responses(
        (status = 201, description = "Placed", body = SalePlaced),
        (status = 401, description = "A token was sent and is not valid", body = ErrorBody),
        (status = 409, description = "Not enough stock, a product not on sale, or a coupon that cannot be used", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown product, address, coupon or payment method", body = ErrorBody),
        (status = 429, description = "Too many guest orders from this address (`ORDER_RATE_LIMIT_*`)", body = ErrorBody),
    ))]
pub async fn create(
    State(app): State<AppState>,
    MaybeUser(user): MaybeUser,
    ClientIp(ip): ClientIp,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<SaleRequest>,
) -> ApiResult<(StatusCode, Json<SalePlaced>)> {
    if user.is_none() {
        // A guest's order holds stock until it is paid or expires: one address may not hoard it.
        app.rate_limiter.spend("guest-order", &ip, app.config.limits.guest_orders).await?;
    }
    let mut v = Validator::new();
    let lines = lines(&mut v, body.items, store.currency.exponent());
    let notes = v.optional_text("notes", body.notes.as_deref(), 0, 500).filter(|n| !n.is_empty());
    // Everything that only reads happens before the write transaction (on SQLite it holds the
    // single writer).
    let mut conn = app.db.reader().acquire().await?;
    let (buyer, shipping) = match &user {
        Some(user) => {
            let customer = customers::find(&mut conn, &store.id, customers::Lookup::User(&user.id)).await?;
            let (name, phone) = match &customer {
                Some(c) => (c.name.clone(), c.phone.clone()),
                None => (users::find_by_id(&mut conn, &user.id).await?.map(|u| u.name).unwrap_or_default(), None),
            };
            let customer_id = customer.map(|c| c.id).unwrap_or_default();
            let shipping = match (body.selected_address_id.as_deref(), body.shipping_address) {
                (Some(id), _) => match addresses::find(&mut conn, &store.id, &customer_id, id).await? {
                    Some(address) => Some(saved(address)),
                    None => {
                        v.add("selectedAddressId", "No es una de tus direcciones");
                        None
                    }
                },
                (None, Some(s)) => Some(shipping_from(&mut conn, &mut v, &store, s, &name, phone).await?),
                (None, None) => match addresses::find_default(&mut conn, &store.id, &customer_id).await? {
                    Some(address) => Some(saved(address)),
                    None => {
                        v.add("shippingAddress", "Es obligatoria: no tenés una dirección guardada");
                        None
                    }
                },
            };
            (Buyer::User(user.id.clone()), shipping)
        }
        None => {
            if body.selected_address_id.is_some() {
                return Err(ApiError::unauthorized(codes::UNAUTHORIZED, "Iniciá sesión para usar una dirección guardada"));
            }
            let data = body.customer_data.unwrap_or(CustomerData { name: None, email: None, phone: None });
            let name = v.text("customerData.name", data.name.as_deref(), 2, 100);
            let email = v.email("customerData.email", data.email.as_deref());
            let phone = data.phone.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
            if phone.as_deref().is_some_and(|p| !is_phone(p)) {
                v.add("customerData.phone", "No es un teléfono válido");
            }
            let shipping = match body.shipping_address {
                Some(s) => Some(shipping_from(&mut conn, &mut v, &store, s, &name, phone.clone()).await?),
                None => {
                    v.add("shippingAddress", "Es obligatoria");
                    None
                }
            };
            (Buyer::Guest(customers::Guest { name, email, phone }), shipping)
        }
    };
    v.finish()?;
    let new = NewOrder {
        buyer,
        lines,
        shipping: shipping.ok_or_else(|| ApiError::internal("shipping address missing after validation"))?,
        coupon_code: body.coupon_code.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()),
        payment_method_code: body.payment_method_code.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()),
        notes,
    };
    let quote = orders::quote(&mut conn, &store, &new).await.map_err(order_error)?;
    drop(conn);
    let (shop, writer) = (store.clone(), app.clone());
    let (placed, queued) = app
        .db
        .write(Box::new(move |conn| {
            Box::pin(async move {
                let placed = orders::place(conn, &shop, new, quote).await?;
                let queued = order_notifications::order_placed(conn, &writer, &shop, &placed.order).await?;
                Ok::<_, OrderError>((placed, queued))
            })
        }))
        .await
        .map_err(order_error)?;
    if queued {
        app.job_wake.notify_one();
    }
    app.stock_changed(&placed.products);
    Ok((StatusCode::CREATED, Json(SalePlaced { order: SaleView::new(placed.order, &store), warnings: placed.warnings })))
}

/// Changes to the order's shipping snapshot; each field sent replaces the current one, and an
/// empty `recipientPhone`, `zipCode` or `details` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingDetailsRequest {
    pub recipient_name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub recipient_phone: Option<Option<String>>,
    pub street: Option<String>,
    pub number: Option<String>,
    pub neighborhood: Option<String>,
    pub city: Option<String>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub zip_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub details: Option<Option<String>>,
}

/// A full edit of an order (seed 001); every field is optional and only what is sent changes.
/// `items` replaces all the lines; `couponCode` swaps the coupon (`""` or `null` removes it);
/// `notes` `""` or `null` clears them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaleUpdateRequest {
    pub items: Option<Vec<SaleItemRequest>>,
    pub shipping_details: Option<ShippingDetailsRequest>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::double_option")]
    pub coupon_code: Option<Option<String>>,
}

fn shipping_changes(v: &mut Validator, s: ShippingDetailsRequest) -> ShippingChanges {
    let recipient_phone = v.clearable_text("shippingDetails.recipientPhone", s.recipient_phone, 20);
    if recipient_phone.as_ref().and_then(Option::as_deref).is_some_and(|p| !is_phone(p)) {
        v.add("shippingDetails.recipientPhone", "No es un teléfono válido");
    }
    ShippingChanges {
        recipient: v.optional_text("shippingDetails.recipientName", s.recipient_name.as_deref(), 2, 100),
        phone: recipient_phone,
        street: v.optional_text("shippingDetails.street", s.street.as_deref(), 2, 200),
        number: v.optional_text("shippingDetails.number", s.number.as_deref(), 1, 20),
        neighborhood: v.optional_text("shippingDetails.neighborhood", s.neighborhood.as_deref(), 2, 100),
        city: v.optional_text("shippingDetails.city", s.city.as_deref(), 2, 100),
        zip_code: v.clearable_text("shippingDetails.zipCode", s.zip_code, 20),
        details: v.clearable_text("shippingDetails.details", s.details, 500),
    }
}

/// Edits an order while it is PENDING (its owner) or PENDING/CONFIRMED (admin): lines, shipping
/// details, notes, coupon. Stock moves by the difference and the totals are recomputed; lines
/// already on the order keep the price they were sold at, new ones take the catalog's.
#[utoipa::path(put, path = "/sales/{id}", tag = "sales", security(("bearer" = [])), params(("id" = String, Path)), request_body = SaleUpdateRequest,
    responses(
        (status = 200, description = "Edited", body = SalePlaced),
        (status = 404, description = "No such order of yours in this store", body = ErrorBody),
        (status = 409, description = "Not editable in its status, not enough stock, a product not on sale, or a coupon that cannot be used", body = ErrorBody),
        (status = 422, description = "Invalid fields, unknown product or coupon", body = ErrorBody),
    ))]
pub async fn update(
    State(app): State<AppState>,
    user: AuthUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<SaleUpdateRequest>,
) -> ApiResult<Json<SalePlaced>> {
    let mut v = Validator::new();
    let changes = OrderChanges {
        lines: body.items.map(|items| lines(&mut v, Some(items), store.currency.exponent())),
        shipping: body.shipping_details.map(|s| shipping_changes(&mut v, s)).unwrap_or_default(),
        notes: v.clearable_text("notes", body.notes, 500),
        coupon_code: body.coupon_code.map(|c| c.map(|c| c.trim().to_string()).filter(|c| !c.is_empty())),
    };
    v.finish()?;
    let editor = if user.has_role(Role::Admin) { Editor::Admin(&user.id) } else { Editor::Owner(&user.id) };
    let mut tx = app.db.begin().await?;
    let edited = order_edits::edit(&mut tx, &store, &id, editor, changes).await.map_err(order_error)?;
    tx.commit().await?;
    app.stock_changed(&edited.products);
    Ok(Json(SalePlaced { order: SaleView::new(edited.order, &store), warnings: edited.warnings }))
}

/// The logged-in user's orders in the store, newest first.
#[utoipa::path(get, path = "/sales/my-orders", tag = "sales", security(("bearer" = [])),
    params(("page" = Option<i64>, Query, description = "Page, from 1"), ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100")),
    responses(
        (status = 200, description = "A page of orders", body = SalePage),
    ))]
pub async fn my_orders(
    State(app): State<AppState>,
    user: AuthUser,
    CurrentStore(store): CurrentStore,
    page: Pagination,
) -> ApiResult<Json<SalePage>> {
    let mut conn = app.db.reader().acquire().await?;
    let filter = OrderFilter { user_id: Some(user.id), ..OrderFilter::default() };
    let (total, found) = orders::list(&mut conn, &store.id, &filter, page.limit, page.offset()).await?;
    Ok(Json(SalePage { orders: found.into_iter().map(|o| SaleView::new(o, &store)).collect(), pagination: PageInfo::new(page, total) }))
}

/// One order: its owner or an admin.
#[utoipa::path(get, path = "/sales/{id}", tag = "sales", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The order", body = SaleView),
        (status = 404, description = "No such order of yours in this store", body = ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    user: AuthUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<SaleView>> {
    let order = orders::find(&mut *app.db.reader().acquire().await?, &store.id, &id).await?.ok_or_else(order_not_found)?;
    if order.user_id.as_deref() != Some(user.id.as_str()) && !user.has_role(Role::Admin) {
        return Err(order_not_found());
    }
    Ok(Json(SaleView::new(order, &store)))
}

async fn page_of(app: &AppState, store: &Store, filter: OrderFilter, page: Pagination) -> ApiResult<Json<SalePage>> {
    let (total, found) = orders::list(&mut *app.db.reader().acquire().await?, &store.id, &filter, page.limit, page.offset()).await?;
    Ok(Json(SalePage { orders: found.into_iter().map(|o| SaleView::new(o, store)).collect(), pagination: PageInfo::new(page, total) }))
}

/// A date bound: an RFC 3339 time, or a date meaning its start (UTC); `end` turns a date into
/// the start of the next day, so a range of dates includes its last day.
fn date_bound(v: &mut Validator, field: &str, value: Option<&str>, end: bool) -> Option<String> {
    let text = value?.trim();
    if let Some(t) = feria_domain::time::from_db(text) {
        return Some(feria_domain::time::to_db(t));
    }
    match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => {
            let date = if end { date.succ_opt().unwrap_or(date) } else { date };
            Some(feria_domain::time::to_db(date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()))
        }
        Err(_) => {
            v.add(field, "Debe ser una fecha ISO 8601 (2026-12-31 o 2026-12-31T23:59:59Z)");
            None
        }
    }
}

/// Lists the store's orders, newest first (admin): by status code and creation dates.
#[utoipa::path(get, path = "/sales", tag = "sales", security(("bearer" = [])),
    params(
        ("page" = Option<i64>, Query, description = "Page, from 1"),
        ("limit" = Option<i64>, Query, description = "Per page, default 10, at most 100"),
        ("status" = Option<String>, Query, description = "Status code"),
        ("from" = Option<String>, Query, description = "Created on or after (date or RFC 3339)"),
        ("to" = Option<String>, Query, description = "Created on or before (a date includes that day)"),
    ),
    responses(
        (status = 200, description = "A page of orders", body = SalePage),
        (status = 422, description = "Bad parameter", body = ErrorBody),
    ))]
pub async fn list(
    State(app): State<AppState>,
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    page: Pagination,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> ApiResult<Json<SalePage>> {
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
    let mut v = Validator::new();
    let filter = OrderFilter {
        status: params.get("status").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        from: date_bound(&mut v, "from", params.get("from").map(String::as_str), false),
        until: date_bound(&mut v, "to", params.get("to").map(String::as_str), true),
        ..OrderFilter::default()
    };
    v.finish()?;
    page_of(&app, &store, filter, page).await
}

/// Lists one customer's orders (admin).
#[utoipa::path(get, path = "/sales/by-customer/{id}", tag = "sales", security(("bearer" = [])),
    params(("id" = String, Path, description = "Customer id"), ("page" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses(
        (status = 200, description = "A page of orders", body = SalePage),
        (status = 404, description = "No such customer in this store", body = ErrorBody),
    ))]
pub async fn by_customer(
    State(app): State<AppState>,
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    page: Pagination,
) -> ApiResult<Json<SalePage>> {
    let mut conn = app.db.reader().acquire().await?;
    customers::find(&mut conn, &store.id, customers::Lookup::Id(&id)).await?.ok_or_else(|| ApiError::not_found("Cliente no encontrado"))?;
    drop(conn);
    page_of(&app, &store, OrderFilter { customer_id: Some(id), ..OrderFilter::default() }, page).await
}

/// A range of creation dates, both days included.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DateRange {
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub page: Option<i64>,
    pub limit: Option<i64>,
}

/// Lists the orders created between two dates (admin).
#[utoipa::path(post, path = "/sales/by-date-range", tag = "sales", security(("bearer" = [])), request_body = DateRange,
    responses(
        (status = 200, description = "A page of orders", body = SalePage),
        (status = 422, description = "Missing or bad dates", body = ErrorBody),
    ))]
pub async fn by_date_range(
    State(app): State<AppState>,
    _admin: AdminUser,
    CurrentStore(store): CurrentStore,
    ApiJson(body): ApiJson<DateRange>,
) -> ApiResult<Json<SalePage>> {
    let mut v = Validator::new();
    let from = date_bound(&mut v, "startDate", body.start_date.as_deref(), false);
    let until = date_bound(&mut v, "endDate", body.end_date.as_deref(), true);
    for (field, missing) in [("startDate", body.start_date.is_none()), ("endDate", body.end_date.is_none())] {
        if missing {
            v.add(field, "Es obligatorio");
        }
    }
    if from.is_some() && until.is_some() && from >= until {
        v.add("endDate", "Debe ser posterior a startDate");
    }
    let (page_text, limit_text) = (body.page.map(|n| n.to_string()), body.limit.map(|n| n.to_string()));
    let page = Pagination::parse(&mut v, page_text.as_deref(), limit_text.as_deref());
    v.finish()?;
    page_of(&app, &store, OrderFilter { from, until, ..OrderFilter::default() }, page).await
}

/// `{status}` (a status code or id; seed 001 sends lower-case codes) and an optional note.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusRequest {
    pub status: Option<String>,
    /// Kept in the order's history.
    pub note: Option<String>,
}

/// The order after a status change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChanged {
    pub id: String,
    pub status: String,
    pub updated_at: String,
}

/// `{message, order}` after a status change (seed 001).
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleStatusUpdated {
    pub message: String,
    pub order: StatusChanged,
}

fn status_error(err: StatusChangeError) -> ApiError {
    match err {
        StatusChangeError::UnknownOrder => order_not_found(),
        StatusChangeError::UnknownStatus => ApiError::field("status", "El estado no existe en esta tienda"),
        StatusChangeError::NotAllowed { from, to } => {
            ApiError::conflict(codes::INVALID_TRANSITION, format!("Un pedido en {from} no puede pasar a {to}"))
        }
        StatusChangeError::InsufficientStock { name, stock } => ApiError::conflict(
            codes::INSUFFICIENT_STOCK,
            format!("No hay stock suficiente de {name} para reabrir el pedido: quedan {stock}"),
        ),
        StatusChangeError::Database(e) => ApiError::internal(e),
    }
}

/// Changes the status, records it, answers the order's new status.
async fn move_order(app: &AppState, store: &Store, id: &str, target: &str, by: &str, note: Option<&str>) -> ApiResult<StatusChanged> {
    let mut tx = app.db.begin().await?;
    let restocked = orders::change_status(&mut tx, &store.id, id, target, Some(by), note).await.map_err(status_error)?;
    let order = orders::find(&mut tx, &store.id, id).await?.ok_or_else(order_not_found)?;
    let queued = order_notifications::status_changed(&mut tx, app, store, &order).await?;
    tx.commit().await?;
    if queued {
        app.job_wake.notify_one();
    }
    app.stock_changed(&restocked);
    Ok(StatusChanged { id: order.id, status: order.status_code, updated_at: order.updated_at })
}

/// Moves an order to another status, as the workflow allows (admin). Entering CANCELLED gives
/// the stock back.
#[utoipa::path(patch, path = "/sales/{id}/status", tag = "sales", security(("bearer" = [])), params(("id" = String, Path)), request_body = StatusRequest,
    responses(
        (status = 200, description = "Changed", body = SaleStatusUpdated),
        (status = 404, description = "No such order in this store", body = ErrorBody),
        (status = 409, description = "The workflow does not allow it from the current status", body = ErrorBody),
        (status = 422, description = "Missing or unknown status", body = ErrorBody),
    ))]
pub async fn set_status(
    State(app): State<AppState>,
    AdminUser(admin): AdminUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    ApiJson(body): ApiJson<StatusRequest>,
) -> ApiResult<Json<SaleStatusUpdated>> {
    let mut v = Validator::new();
    let status = v.text("status", body.status.as_deref(), 1, 100);
    let note = v.optional_text("note", body.note.as_deref(), 0, 500).filter(|n| !n.is_empty());
    v.finish()?;
    let order = move_order(&app, &store, &id, &status, &admin.id, note.as_deref()).await?;
    Ok(Json(SaleStatusUpdated { message: "Estado del pedido actualizado".into(), order }))
}

/// `{reason}` for a cancellation.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CancelRequest {
    pub reason: Option<String>,
}

/// Cancels an order: its owner while it is PENDING, or an admin while the workflow allows it.
/// The stock comes back once.
#[utoipa::path(post, path = "/sales/{id}/cancel", tag = "sales", security(("bearer" = [])), params(("id" = String, Path)), request_body = CancelRequest,
    responses(
        (status = 200, description = "Cancelled", body = SaleStatusUpdated),
        (status = 404, description = "No such order of yours in this store", body = ErrorBody),
        (status = 409, description = "Past the point where it can be cancelled", body = ErrorBody),
    ))]
pub async fn cancel(
    State(app): State<AppState>,
    user: AuthUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
    body: axum::body::Bytes,
) -> ApiResult<Json<SaleStatusUpdated>> {
    // The body is optional: no body, no reason.
    let request: CancelRequest = if body.is_empty() { CancelRequest::default() } else { crate::http::json::parse_json(&body)? };
    let reason = request.reason.map(|r| r.trim().chars().take(500).collect::<String>()).filter(|r| !r.is_empty());
    let order = orders::find(&mut *app.db.reader().acquire().await?, &store.id, &id).await?.ok_or_else(order_not_found)?;
    let is_admin = user.has_role(Role::Admin);
    if !is_admin {
        if order.user_id.as_deref() != Some(user.id.as_str()) {
            return Err(order_not_found());
        }
        if order.status_code != "PENDING" {
            return Err(ApiError::conflict(codes::INVALID_TRANSITION, "Solo podés cancelar un pedido pendiente; contactá a la tienda"));
        }
    }
    let note = reason.unwrap_or_else(|| if is_admin { "Cancelado por la tienda".into() } else { "Cancelado por el cliente".into() });
    let changed = move_order(&app, &store, &id, orders::CANCELLED, &user.id, Some(&note)).await?;
    Ok(Json(SaleStatusUpdated { message: "Pedido cancelado".into(), order: changed }))
}

/// One step of an order's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackingStep {
    pub status: String,
    pub name: String,
    pub color: String,
    /// The user who made the change (null: the system or a guest).
    pub changed_by: Option<TrackingUser>,
    pub note: Option<String>,
    pub changed_at: String,
}

/// Who changed a status.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingUser {
    pub id: String,
    pub name: Option<String>,
}

/// An order's status and its history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tracking {
    pub order_id: String,
    pub order_number: String,
    pub status: String,
    pub history: Vec<TrackingStep>,
}

/// The order's status history with times and who changed it (owner or admin).
#[utoipa::path(get, path = "/sales/{id}/tracking", tag = "sales", security(("bearer" = [])), params(("id" = String, Path)),
    responses(
        (status = 200, description = "The history, oldest first", body = Tracking),
        (status = 404, description = "No such order of yours in this store", body = ErrorBody),
    ))]
pub async fn tracking(
    State(app): State<AppState>,
    user: AuthUser,
    CurrentStore(store): CurrentStore,
    IdParam(id): IdParam,
) -> ApiResult<Json<Tracking>> {
    let mut conn = app.db.reader().acquire().await?;
    let order = orders::find(&mut conn, &store.id, &id).await?.ok_or_else(order_not_found)?;
    if order.user_id.as_deref() != Some(user.id.as_str()) && !user.has_role(Role::Admin) {
        return Err(order_not_found());
    }
    let history = orders::history(&mut conn, &id).await?;
    Ok(Json(Tracking {
        order_id: order.id,
        order_number: order.order_number,
        status: order.status_code,
        history: history
            .into_iter()
            .map(|h| TrackingStep {
                status: h.status_code,
                name: h.status_name,
                color: h.color,
                changed_by: h.changed_by_id.map(|id| TrackingUser { id, name: h.changed_by_name }),
                note: h.note,
                changed_at: h.changed_at,
            })
            .collect(),
    }))
}
