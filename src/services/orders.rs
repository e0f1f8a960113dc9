//! Placing and reading orders. Placing is priced first from the catalog (reads only), then one
//! transaction: the customer found or created, then the order written in one round trip — stock
//! taken from every line (or the whole order fails), the coupon checked, a per-store order
//! number, the lines, the first status and its history entry (see `order_writes` for what is
//! locked and in which order).

use crate::services::shipping_rates::{self, ShippingChoice};
use std::collections::HashMap;

use feria_db::{AnyConnection, AnyRow, Row};
use feria_domain::pricing::{self, LineInput, Totals};
use feria_domain::{ids::new_id, time};

use crate::app::App;
use crate::services::catalog::products;
use crate::services::catalog::stores::Store;
use crate::services::coupons::{self, Coupon, DiscountType, Refusal};
use crate::services::identity::caller::Caller;
use crate::services::order_statuses::{self, Key, StatusRef};
use crate::services::order_writes::{self, SoldLine};
use crate::services::{customers, payment_methods};
use feria_domain::access::Scope;

/// Who is buying.
pub enum Buyer {
    /// A logged-in user (their customer in the store is found or created).
    User(String),
    /// A guest, found by email among the store's guests or created.
    Guest(customers::Guest),
}

/// Where the order goes, as stored on the order (a snapshot, not a reference).
#[derive(Debug, Clone)]
pub struct ShippingAddress {
    pub recipient: String,
    pub phone: Option<String>,
    pub street: String,
    pub number: String,
    pub neighborhood: String,
    pub city: String,
    pub zip_code: Option<String>,
    pub details: Option<String>,
}

/// One requested line: product, quantity and the unit price the client showed, if any.
pub struct RequestedLine {
    pub product_id: String,
    pub quantity: i64,
    pub client_unit_price: Option<i64>,
}

/// Everything an order is placed from (validated).
pub struct NewOrder {
    pub buyer: Buyer,
    pub lines: Vec<RequestedLine>,
    pub shipping: ShippingAddress,
    pub coupon_code: Option<String>,
    pub payment_method_code: Option<String>,
    pub notes: Option<String>,
    /// How it ships (charged at the store's rate); `None`: no shipping charged.
    pub shipping_option: Option<ShippingChoice>,
}

/// Why an order was not placed or changed; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("line {0}: no such product in the store")]
    UnknownProduct(usize),
    #[error("{0} is not on sale")]
    Unavailable(String),
    #[error("not enough stock of {name}")]
    InsufficientStock { name: String, stock: i64 },
    #[error("no such coupon")]
    UnknownCoupon,
    #[error("coupon refused")]
    CouponRefused(Refusal),
    #[error("no such active payment method")]
    UnknownPaymentMethod,
    #[error("the store has no default order status")]
    NoDefaultStatus,
    #[error("no such order")]
    UnknownOrder,
    #[error("an order in {0} cannot be changed")]
    NotEditable(String),
    #[error("the order's total would pass the maximum")]
    TooLarge,
    #[error("not one of the buyer's addresses")]
    UnknownAddress,
    #[error("the buyer has no saved address")]
    NoAddress,
    #[error("no such neighborhood in the store")]
    UnknownNeighborhood,
    #[error("a guest order needs the guest's details")]
    GuestDetailsMissing,
    #[error("only a signed-in buyer has saved addresses")]
    SignInForSavedAddress,
    #[error("no shipping option {0} for that destination")]
    UnknownShippingOption(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<pricing::TooLarge> for OrderError {
    fn from(_: pricing::TooLarge) -> OrderError {
        OrderError::TooLarge
    }
}

/// An order priced and checked against the catalog, ready to be placed.
pub struct Quote {
    status: StatusRef,
    /// Id and code.
    payment_method: Option<(String, String)>,
    lines: Vec<SoldLine>,
    coupon: Option<Coupon>,
    totals: Totals,
    /// Human notes, e.g. a client price that was not the catalog's.
    pub warnings: Vec<String>,
}

/// Prices `new` from the catalog: the first status (the payment method's, else the store's
/// default), catalog prices and tax rates, the coupon checked, the totals. Only reads, so it
/// runs before the write transaction; [`place`] re-checks under lock what may have changed
/// since (stock, the product still on sale, the coupon still usable).
pub async fn quote(conn: &mut AnyConnection, store: &Store, new: &NewOrder) -> Result<Quote, OrderError> {
    let exponent = store.currency.exponent();
    let (payment_method, status) = match new.payment_method_code.as_deref() {
        Some(code) => {
            let method = payment_methods::find(conn, &store.id, Key::Code(code))
                .await?
                .filter(|m| m.is_active)
                .ok_or(OrderError::UnknownPaymentMethod)?;
            (Some((method.id, method.code)), method.default_order_status)
        }
        None => (None, order_statuses::default_ref(conn, &store.id).await?.ok_or(OrderError::NoDefaultStatus)?),
    };

    let ids: Vec<String> = new.lines.iter().map(|l| l.product_id.clone()).collect();
    let found = products::priced(conn, &store.id, &ids).await?;
    let mut lines = Vec::with_capacity(new.lines.len());
    let mut warnings = Vec::new();
    for (i, requested) in new.lines.iter().enumerate() {
        let product = found.iter().find(|p| p.id == requested.product_id).ok_or(OrderError::UnknownProduct(i))?;
        if !product.is_active {
            return Err(OrderError::Unavailable(product.name.clone()));
        }
        if requested.client_unit_price.is_some_and(|p| p != product.price) {
            let price = feria_domain::money::format_scaled(product.price, exponent);
            warnings.push(format!("El precio de {} es {price}; se usó el precio actual del catálogo", product.name));
        }
        lines.push(SoldLine {
            product_id: product.id.clone(),
            product_name: product.name.clone(),
            unit_price: product.price,
            tax_rate_bp: product.tax_rate_bp,
            quantity: requested.quantity,
        });
    }
    let inputs = line_inputs(&lines);
    let subtotal = pricing::totals(&inputs, None, 0)?.subtotal;
    let coupon: Option<Coupon> = match new.coupon_code.as_deref() {
        None => None,
        Some(code) => {
            let coupon = coupons::find_by_code(conn, &store.id, code).await?.ok_or(OrderError::UnknownCoupon)?;
            coupon.check(Some(subtotal), &time::to_db(time::now())).map_err(OrderError::CouponRefused)?;
            Some(coupon)
        }
    };
    let shipping = match &new.shipping_option {
        None => 0,
        Some(choice) => {
            let options = shipping_rates::options(conn, &store.id, choice.country.as_deref(), subtotal).await?;
            options
                .into_iter()
                .find(|o| o.code == choice.code)
                .ok_or_else(|| OrderError::UnknownShippingOption(choice.code.clone()))?
                .amount
        }
    };
    let totals = pricing::totals(&inputs, coupon.as_ref().map(Coupon::discount), shipping)?;
    Ok(Quote { status, payment_method, lines, coupon, totals, warnings })
}

/// The pricing inputs of `lines`.
pub(crate) fn line_inputs(lines: &[SoldLine]) -> Vec<LineInput> {
    lines.iter().map(|l| LineInput { unit_price: l.unit_price, quantity: l.quantity, tax_rate_bp: l.tax_rate_bp }).collect()
}

/// A placed order and what the client should know about it.
pub struct Placed {
    pub order: Order,
    /// Product ids whose stock changed.
    pub products: Vec<String>,
    /// Human notes, e.g. a client price that was not the catalog's.
    pub warnings: Vec<String>,
}

/// Places `new` in `store` as `quote` priced it: a user's customer found or created, then the
/// order (with a guest's customer) written in one round trip (`order_writes::write_new`), so
/// the rows other orders need stay locked for as little as possible.
pub async fn place(conn: &mut AnyConnection, store: &Store, new: NewOrder, quote: Quote) -> Result<Placed, OrderError> {
    let (customer, guest, user_id) = match &new.buyer {
        Buyer::User(user_id) => {
            let c = customers::for_user(conn, &store.id, user_id).await?;
            ((c.id, c.name, c.email, c.phone), None, Some(user_id.clone()))
        }
        // Found or created with the order (`write_new`).
        Buyer::Guest(g) => ((String::new(), g.name.clone(), g.email.clone(), g.phone.clone()), Some(g), None),
    };
    let now = time::to_db(time::now());
    let id = new_id();
    let mut order = Order {
        // Numbered by `write_new`, from the store's counter.
        order_number: String::new(),
        id,
        customer_id: customer.0,
        customer_name: customer.1,
        customer_email: customer.2,
        customer_phone: customer.3,
        user_id,
        status_id: quote.status.id,
        status_code: quote.status.code,
        status_name: quote.status.name,
        payment_method_code: quote.payment_method.as_ref().map(|(_, code)| code.clone()),
        coupon: quote.coupon.as_ref().map(|c| AppliedCoupon {
            id: c.id.clone(),
            code: c.code.clone(),
            discount_type: c.discount_type,
            discount_value: c.discount_value,
        }),
        currency: store.currency.code().to_string(),
        subtotal: quote.totals.subtotal,
        discount: quote.totals.discount,
        tax: quote.totals.tax,
        shipping: quote.totals.shipping,
        total: quote.totals.total,
        address: new.shipping,
        notes: new.notes,
        lines: Vec::new(),
        created_at: now.clone(),
        updated_at: now.clone(),
    };
    let payment_method_id = quote.payment_method.as_ref().map(|(id, _)| id.as_str());
    let limited = quote.coupon.as_ref().is_some_and(|c| c.usage_limit.is_some());
    let written = order_writes::write_new(conn, &store.id, &order, payment_method_id, limited, guest, &quote.lines, &quote.totals).await?;
    (order.order_number, order.customer_id) = (written.number, written.customer_id);
    let changed = quote.lines.iter().map(|l| l.product_id.clone()).collect();
    let lines = quote
        .lines
        .into_iter()
        .zip(quote.totals.lines)
        .map(|(l, t)| OrderLine {
            product_id: l.product_id,
            product_name: l.product_name,
            unit_price: l.unit_price,
            quantity: l.quantity,
            tax_rate_bp: l.tax_rate_bp,
            net: t.net,
            discount: t.discount,
            tax: t.tax,
        })
        .collect();
    order.lines = lines;
    Ok(Placed { order, products: changed, warnings: quote.warnings })
}

/// A stored order with its lines, status, customer and coupon.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub order_number: String,
    pub customer_id: String,
    pub customer_name: String,
    pub customer_email: String,
    /// The buyer's name, email and phone are as given at checkout.
    pub customer_phone: Option<String>,
    pub user_id: Option<String>,
    pub status_id: String,
    pub status_code: String,
    pub status_name: String,
    pub payment_method_code: Option<String>,
    pub coupon: Option<AppliedCoupon>,
    pub currency: String,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub shipping: i64,
    pub total: i64,
    pub address: ShippingAddress,
    pub notes: Option<String>,
    pub lines: Vec<OrderLine>,
    pub created_at: String,
    pub updated_at: String,
}

/// The coupon of an order, as it is now.
#[derive(Debug, Clone)]
pub struct AppliedCoupon {
    pub id: String,
    pub code: String,
    pub discount_type: DiscountType,
    /// Hundredths of a percent, or minor units.
    pub discount_value: i64,
}

/// One line of an order, as priced when it was placed.
#[derive(Debug, Clone)]
pub struct OrderLine {
    pub product_id: String,
    pub product_name: String,
    pub unit_price: i64,
    pub quantity: i64,
    pub tax_rate_bp: i64,
    pub net: i64,
    pub discount: i64,
    pub tax: i64,
}

const ORDER_SELECT: &str = "SELECT o.id, o.order_number, o.customer_id, o.customer_name, o.customer_email, o.customer_phone, o.user_id,
    o.status_id, s.code AS status_code, s.name AS status_name, m.code AS method_code, cp.id AS coupon_id, cp.code AS coupon_code, cp.discount_type AS coupon_type,
    cp.discount_value AS coupon_value, o.currency, o.subtotal, o.discount, o.tax,
    o.shipping, o.total, o.ship_street, o.ship_number, o.ship_neighborhood, o.ship_city, o.ship_zip_code, o.ship_details,
    o.ship_recipient, o.ship_phone, o.notes, o.created_at, o.updated_at
    FROM orders o JOIN order_statuses s ON s.id = o.status_id
    LEFT JOIN payment_methods m ON m.id = o.payment_method_id LEFT JOIN coupons cp ON cp.id = o.coupon_id";

/// The lines of `orders`, by order id, in one query.
async fn lines_of(conn: &mut AnyConnection, orders: &[String]) -> Result<HashMap<String, Vec<OrderLine>>, sqlx::Error> {
    let mut lines: HashMap<String, Vec<OrderLine>> = HashMap::new();
    if orders.is_empty() {
        return Ok(lines);
    }
    let sql = format!(
        "SELECT order_id, product_id, product_name, unit_price, quantity, tax_rate_bp, net, discount, tax FROM order_items
         WHERE order_id IN ({}) ORDER BY order_id, position",
        feria_db::placeholders(1, orders.len())
    );
    let mut query = sqlx::query(&sql);
    for id in orders {
        query = query.bind(id);
    }
    for r in query.fetch_all(conn).await? {
        lines.entry(r.try_get("order_id")?).or_default().push(OrderLine {
            product_id: r.try_get("product_id")?,
            product_name: r.try_get("product_name")?,
            unit_price: r.try_get("unit_price")?,
            quantity: r.try_get("quantity")?,
            tax_rate_bp: r.try_get("tax_rate_bp")?,
            net: r.try_get("net")?,
            discount: r.try_get("discount")?,
            tax: r.try_get("tax")?,
        });
    }
    Ok(lines)
}

/// Orders from rows of [`ORDER_SELECT`], with their lines.
async fn orders_from(conn: &mut AnyConnection, rows: &[AnyRow]) -> Result<Vec<Order>, sqlx::Error> {
    let ids: Vec<String> = rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
    let mut lines = lines_of(conn, &ids).await?;
    rows.iter().map(|row| order_from(row, &mut lines)).collect()
}

fn order_from(row: &AnyRow, lines: &mut HashMap<String, Vec<OrderLine>>) -> Result<Order, sqlx::Error> {
    let id: String = row.try_get("id")?;
    let coupon_code: Option<String> = row.try_get("coupon_code")?;
    let coupon = match coupon_code {
        Some(code) => {
            let kind: String = row.try_get("coupon_type")?;
            Some(AppliedCoupon {
                id: row.try_get("coupon_id")?,
                code,
                discount_type: DiscountType::parse(&kind).ok_or_else(|| sqlx::Error::Decode(format!("discount type {kind}").into()))?,
                discount_value: row.try_get("coupon_value")?,
            })
        }
        None => None,
    };
    let lines = lines.remove(&id).unwrap_or_default();
    Ok(Order {
        id,
        order_number: row.try_get("order_number")?,
        customer_id: row.try_get("customer_id")?,
        customer_name: row.try_get("customer_name")?,
        customer_email: row.try_get("customer_email")?,
        customer_phone: row.try_get("customer_phone")?,
        user_id: row.try_get("user_id")?,
        status_id: row.try_get("status_id")?,
        status_code: row.try_get("status_code")?,
        status_name: row.try_get("status_name")?,
        payment_method_code: row.try_get("method_code")?,
        coupon,
        currency: row.try_get("currency")?,
        subtotal: row.try_get("subtotal")?,
        discount: row.try_get("discount")?,
        tax: row.try_get("tax")?,
        shipping: row.try_get("shipping")?,
        total: row.try_get("total")?,
        address: ShippingAddress {
            recipient: row.try_get("ship_recipient")?,
            phone: row.try_get("ship_phone")?,
            street: row.try_get("ship_street")?,
            number: row.try_get("ship_number")?,
            neighborhood: row.try_get("ship_neighborhood")?,
            city: row.try_get("ship_city")?,
            zip_code: row.try_get("ship_zip_code")?,
            details: row.try_get("ship_details")?,
        },
        notes: row.try_get("notes")?,
        lines,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The store's order `order_id` as `caller` may see it: a buyer their own, the shop
/// (`orders:read`) any. To anyone else it does not exist.
pub async fn for_caller(app: &App, caller: &Caller, store_id: &str, order_id: &str) -> Result<Order, OrderError> {
    find(&mut *app.db.reader().acquire().await?, store_id, order_id)
        .await?
        .filter(|o| caller.may(store_id, Scope::OrdersRead) || (o.user_id.is_some() && o.user_id.as_deref() == caller.user_id()))
        .ok_or(OrderError::UnknownOrder)
}

/// The id of the store's order named by `reference`: its id, or its number (`ORD-000123`,
/// any case).
pub async fn resolve(conn: &mut AnyConnection, store_id: &str, reference: &str) -> Result<Option<String>, sqlx::Error> {
    let reference = reference.trim();
    sqlx::query_scalar("SELECT id FROM orders WHERE store_id = $1 AND (id = $2 OR order_number = $3)")
        .bind(store_id)
        .bind(reference)
        .bind(reference.to_uppercase())
        .fetch_optional(conn)
        .await
}

/// The store's order `id`.
pub async fn find(conn: &mut AnyConnection, store_id: &str, id: &str) -> Result<Option<Order>, sqlx::Error> {
    let sql = format!("{ORDER_SELECT} WHERE o.id = $1 AND o.store_id = $2");
    let rows: Vec<AnyRow> = sqlx::query(&sql).bind(id).bind(store_id).fetch_optional(&mut *conn).await?.into_iter().collect();
    Ok(orders_from(conn, &rows).await?.pop())
}

/// The store's orders `ids` (those it has), in one query for them and one for their lines. The
/// store is checked on the rows: with it in the query, SQLite would read the store's orders.
pub async fn find_many(conn: &mut AnyConnection, store_id: &str, ids: &[&str]) -> Result<Vec<Order>, sqlx::Error> {
    let sql = format!("{ORDER_SELECT} WHERE o.id IN ({})", feria_db::placeholders(1, ids.len()));
    let sql = sql.replacen("SELECT ", "SELECT o.store_id AS order_store_id, ", 1);
    let query = ids.iter().fold(sqlx::query(&sql), |query, id| query.bind(*id));
    let rows = if ids.is_empty() { Vec::new() } else { query.fetch_all(&mut *conn).await? };
    let theirs: Vec<AnyRow> = rows.into_iter().filter(|r| r.try_get::<String, _>("order_store_id").is_ok_and(|s| s == store_id)).collect();
    orders_from(conn, &theirs).await
}

/// Which of a store's orders a listing shows.
#[derive(Debug, Default)]
pub struct OrderFilter {
    /// Status code.
    pub status: Option<String>,
    pub customer_id: Option<String>,
    /// The user who placed them.
    pub user_id: Option<String>,
    /// Created at or after (storage form).
    pub from: Option<String>,
    /// Created before (storage form).
    pub until: Option<String>,
}

/// One page of the store's orders matching `filter`, newest first, with the total.
pub async fn list(
    conn: &mut AnyConnection,
    store_id: &str,
    filter: &OrderFilter,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<Order>), sqlx::Error> {
    let condition = "o.store_id = $1 AND ($2 = '' OR s.code = $2) AND ($3 = '' OR o.customer_id = $3) AND ($4 = '' OR o.created_at >= $4)
        AND ($5 = '' OR o.created_at < $5) AND ($6 = '' OR o.user_id = $6)";
    let values = [
        filter.status.clone().unwrap_or_default().to_uppercase(),
        filter.customer_id.clone().unwrap_or_default(),
        filter.from.clone().unwrap_or_default(),
        filter.until.clone().unwrap_or_default(),
        filter.user_id.clone().unwrap_or_default(),
    ];
    let count_sql = format!("SELECT COUNT(*) FROM orders o JOIN order_statuses s ON s.id = o.status_id WHERE {condition}");
    let mut count = sqlx::query_scalar(&count_sql).bind(store_id);
    for value in &values {
        count = count.bind(value);
    }
    let total: i64 = count.fetch_one(&mut *conn).await?;
    let sql = format!("{ORDER_SELECT} WHERE {condition} ORDER BY o.created_at DESC, o.id DESC LIMIT $7 OFFSET $8");
    let mut query = sqlx::query(&sql).bind(store_id);
    for value in &values {
        query = query.bind(value);
    }
    let rows = query.bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    Ok((total, orders_from(conn, &rows).await?))
}
