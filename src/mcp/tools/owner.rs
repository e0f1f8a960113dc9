//! The owner's tools: figures of the shop, stock, coupons and refunds. Writes are audited like
//! the API's.

use chrono::TimeDelta;
use feria_domain::access::Scope;
use feria_domain::decimal::{DecimalOut, DecimalText};
use feria_domain::time;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Access, Answer, Ctx, Hints, READ, Tool};
use crate::http::error::{ApiError, ApiResult};
use crate::http::validate::Validator;
use crate::routes::coupons::{self, CouponBody, CouponRequest, CouponView};
use crate::routes::payments::{PaymentView, Refunded};
use crate::routes::sales::date_bound;
use crate::services::catalog::product_writes;
use crate::services::catalog::products::{self, ProductData, WriteError};
use crate::services::payments::refunds;
use crate::services::reports::{self, GroupBy, LOW_STOCK_DEFAULT, Period};

/// A period given by the caller: dates or RFC 3339 times, up to now when `to` is absent.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PeriodInput {
    /// From this date (`2026-12-01`) or time (RFC 3339), inclusive. Default: all time for the
    /// business figures, today (UTC) for a sales summary.
    pub from: Option<String>,
    /// Through this date (included) or up to this time. Default: now.
    pub to: Option<String>,
}

/// The period stated in an answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView {
    /// Inclusive, RFC 3339 (UTC).
    pub from: String,
    /// Exclusive, RFC 3339 (UTC).
    pub to: String,
}

/// Where a period starts when the caller does not say.
#[derive(Clone, Copy)]
enum Since {
    Always,
    Today,
}

fn period(v: &mut Validator, input: &PeriodInput, since: Since) -> Period {
    let now = time::now();
    let start = match since {
        Since::Always => chrono::DateTime::UNIX_EPOCH,
        Since::Today => now.date_naive().and_hms_opt(0, 0, 0).expect("midnight exists").and_utc(),
    };
    let from = date_bound(v, "from", input.from.as_deref(), false).unwrap_or_else(|| time::to_db(start));
    let until = date_bound(v, "to", input.to.as_deref(), true).unwrap_or_else(|| time::to_db(now + TimeDelta::microseconds(1)));
    if from >= until {
        v.add("to", "Debe ser posterior a from");
    }
    Period { from, until }
}

fn money(ctx: &Ctx, minor: i64) -> DecimalOut {
    DecimalOut::scaled(minor, ctx.store.currency.exponent())
}

/// Orders in one status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCount {
    pub status: String,
    pub name: String,
    pub orders: i64,
}

/// The shop's figures over a period.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BusinessStats {
    pub period: PeriodView,
    pub currency: String,
    /// Every order placed in the period.
    pub orders: i64,
    /// Orders that count as sales: not cancelled or refunded.
    pub sold_orders: i64,
    /// What the sold orders total, tax and shipping included.
    #[schema(value_type = f64)]
    pub revenue: DecimalOut,
    /// Revenue per sold order (0 without sales).
    #[schema(value_type = f64)]
    pub average_order: DecimalOut,
    pub units_sold: i64,
    pub new_customers: i64,
    /// The period's orders by their status now.
    pub by_status: Vec<StatusCount>,
    pub active_products: i64,
    /// Active products with at most 5 units.
    pub low_stock_products: i64,
}

pub struct GetBusinessStats;

impl Tool for GetBusinessStats {
    const NAME: &'static str = "get_business_stats";
    const TITLE: &'static str = "Resumen del negocio";
    const DESCRIPTION: &'static str = "Cifras de la tienda en un período (por defecto desde siempre hasta ahora; fechas en UTC): pedidos, ventas (sin cancelados ni reembolsados), facturación, ticket promedio, unidades, clientes nuevos, pedidos por estado y productos con poco stock. Indica el período usado.";
    const ACCESS: Access = Access::Scope(Scope::OrdersRead);
    const HINTS: Hints = READ;
    type Input = PeriodInput;
    type Output = BusinessStats;

    async fn run(ctx: &Ctx, input: PeriodInput) -> ApiResult<Answer<BusinessStats>> {
        ctx.staff(Scope::OrdersRead)?;
        let mut v = Validator::new();
        let period = period(&mut v, &input, Since::Always);
        v.finish()?;
        let stats = reports::business_stats(&mut *ctx.app.db.reader().acquire().await?, &ctx.store.id, &period).await?;
        let average = if stats.sold_orders > 0 { stats.revenue / stats.sold_orders } else { 0 };
        Answer::of(&BusinessStats {
            period: PeriodView { from: period.from, to: period.until },
            currency: ctx.store.currency.code().to_string(),
            orders: stats.orders,
            sold_orders: stats.sold_orders,
            revenue: money(ctx, stats.revenue),
            average_order: money(ctx, average),
            units_sold: stats.units,
            new_customers: stats.new_customers,
            by_status: stats.by_status.into_iter().map(|(status, name, orders)| StatusCount { status, name, orders }).collect(),
            active_products: stats.active_products,
            low_stock_products: stats.low_stock_products,
        })
    }
}

/// A sales summary's period and grouping.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SummaryInput {
    #[serde(flatten)]
    pub period: PeriodInput,
    /// `day`, `product` or `category`.
    pub group_by: String,
    /// Most groups returned, default 20, at most 100.
    pub limit: Option<i64>,
}

/// One group of a sales summary.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalesGroup {
    /// The day (`2026-12-01`), product id or category id; null for products without category.
    pub key: Option<String>,
    pub label: String,
    pub orders: i64,
    pub units: i64,
    /// After discounts, tax included; shipping is not per product.
    #[schema(value_type = f64)]
    pub revenue: DecimalOut,
}

/// Sales grouped by day, product or category.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesSummaryView {
    pub period: PeriodView,
    pub group_by: String,
    pub currency: String,
    pub groups: Vec<SalesGroup>,
}

pub struct SalesSummary;

impl Tool for SalesSummary {
    const NAME: &'static str = "sales_summary";
    const TITLE: &'static str = "Ventas por día, producto o categoría";
    const DESCRIPTION: &'static str = "Ventas de un período (por defecto hoy, UTC) agrupadas por día, producto o categoría: pedidos, unidades y facturación (sin cancelados ni reembolsados). Indica el período usado.";
    const ACCESS: Access = Access::Scope(Scope::OrdersRead);
    const HINTS: Hints = READ;
    type Input = SummaryInput;
    type Output = SalesSummaryView;

    async fn run(ctx: &Ctx, input: SummaryInput) -> ApiResult<Answer<SalesSummaryView>> {
        ctx.staff(Scope::OrdersRead)?;
        let mut v = Validator::new();
        let period = period(&mut v, &input.period, Since::Today);
        let by = match input.group_by.trim() {
            "day" => GroupBy::Day,
            "product" => GroupBy::Product,
            "category" => GroupBy::Category,
            _ => {
                v.add("groupBy", "Debe ser day, product o category");
                GroupBy::Day
            }
        };
        let limit = limit(&mut v, input.limit, 20);
        v.finish()?;
        let rows = reports::sales_summary(&mut *ctx.app.db.reader().acquire().await?, &ctx.store.id, &period, by, limit).await?;
        Answer::of(&SalesSummaryView {
            period: PeriodView { from: period.from, to: period.until },
            group_by: input.group_by.trim().to_string(),
            currency: ctx.store.currency.code().to_string(),
            groups: rows
                .into_iter()
                .map(|r| SalesGroup { key: r.key, label: r.label, orders: r.orders, units: r.units, revenue: money(ctx, r.revenue) })
                .collect(),
        })
    }
}

/// A `limit` from 1 to 100 (`default` when absent).
fn limit(v: &mut Validator, limit: Option<i64>, default: i64) -> i64 {
    match limit {
        None => default,
        Some(n @ 1..=100) => n,
        Some(_) => {
            v.add("limit", "Debe estar entre 1 y 100");
            default
        }
    }
}

/// Which products count as running out.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LowStockInput {
    /// At most this many units; default 5.
    pub threshold: Option<i64>,
    /// Most products returned, default 50, at most 100.
    pub limit: Option<i64>,
}

/// A product about to run out.
#[derive(Debug, Serialize, ToSchema)]
pub struct LowStockProduct {
    pub id: String,
    pub name: String,
    pub sku: Option<String>,
    pub stock: i64,
}

/// The products about to run out.
#[derive(Debug, Serialize, ToSchema)]
pub struct LowStockView {
    pub threshold: i64,
    /// How many products are at or under the threshold.
    pub total: i64,
    pub products: Vec<LowStockProduct>,
}

pub struct LowStockReport;

impl Tool for LowStockReport {
    const NAME: &'static str = "low_stock_report";
    const TITLE: &'static str = "Productos por agotarse";
    const DESCRIPTION: &'static str = "Los productos activos con pocas unidades (por defecto 5 o menos), los de menos stock primero.";
    const ACCESS: Access = Access::Scope(Scope::CatalogRead);
    const HINTS: Hints = READ;
    type Input = LowStockInput;
    type Output = LowStockView;

    async fn run(ctx: &Ctx, input: LowStockInput) -> ApiResult<Answer<LowStockView>> {
        ctx.staff(Scope::CatalogRead)?;
        let mut v = Validator::new();
        let threshold = input.threshold.unwrap_or(LOW_STOCK_DEFAULT);
        if !(0..=1_000_000).contains(&threshold) {
            v.add("threshold", "Debe estar entre 0 y 1000000");
        }
        let limit = limit(&mut v, input.limit, 50);
        v.finish()?;
        let (total, found) = reports::low_stock(&mut *ctx.app.db.reader().acquire().await?, &ctx.store.id, threshold, limit).await?;
        Answer::of(&LowStockView {
            threshold,
            total,
            products: found.into_iter().map(|p| LowStockProduct { id: p.id, name: p.name, sku: p.sku, stock: p.stock }).collect(),
        })
    }
}

/// A product's new stock.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StockInput {
    /// The product's id or SKU.
    pub product: String,
    /// Units in stock from now on (0 or more).
    pub stock: i64,
}

/// A product's stock after the change.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub id: String,
    pub name: String,
    pub previous: i64,
    pub stock: i64,
}

/// Most units a product can hold (as the API's decimals: exact as a JSON number anywhere).
const MAX_STOCK: i64 = feria_domain::money::MAX_SCALED;

pub struct UpdateStock;

impl Tool for UpdateStock {
    const NAME: &'static str = "update_stock";
    const TITLE: &'static str = "Actualizar stock";
    const DESCRIPTION: &'static str = "Fija las unidades en stock de un producto (por id o SKU). Queda en el registro de auditoría.";
    const ACCESS: Access = Access::Scope(Scope::CatalogWrite);
    const HINTS: Hints = Hints { read_only: false, destructive: false, idempotent: true };
    type Input = StockInput;
    type Output = StockView;

    async fn run(ctx: &Ctx, input: StockInput) -> ApiResult<Answer<StockView>> {
        let caller = ctx.staff(Scope::CatalogWrite)?;
        if !(0..=MAX_STOCK).contains(&input.stock) {
            return Err(ApiError::field("stock", format!("Debe estar entre 0 y {MAX_STOCK}")));
        }
        let mut conn = ctx.app.db.reader().acquire().await?;
        let reference = input.product.trim();
        let id = match products::find_by_sku(&mut conn, &ctx.store.id, reference).await? {
            Some(id) => id,
            None => reference.to_string(),
        };
        let current = products::find(&mut conn, &ctx.store.id, &id).await?.ok_or(WriteError::UnknownProduct)?;
        drop(conn);
        let data = ProductData { stock: input.stock, ..ProductData::of(&current) };
        ctx.app.settle(product_writes::update_product(&ctx.app, caller, &ctx.store, &current, &data, &[]).await?).await;
        let (before, after) = (serde_json::json!({ "stock": current.stock }), serde_json::json!({ "stock": input.stock }));
        ctx.audit(Self::NAME, "products.update", &current.id, Some(before), Some(after)).await;
        Answer::of(&StockView { id: current.id, name: current.name, previous: current.stock, stock: input.stock })
    }
}

pub struct CreateCoupon;

impl Tool for CreateCoupon {
    const NAME: &'static str = "create_coupon";
    const TITLE: &'static str = "Crear un cupón";
    const DESCRIPTION: &'static str = "Crea un cupón de descuento (porcentaje o monto fijo) con código, mínimo de compra, tope, límite de usos y vencimiento opcionales. Cambia lo que pagan los clientes: confirmá con el dueño antes.";
    const ACCESS: Access = Access::Scope(Scope::PricesWrite);
    const HINTS: Hints = Hints { read_only: false, destructive: true, idempotent: false };
    type Input = CouponRequest;
    type Output = CouponBody;

    async fn run(ctx: &Ctx, input: CouponRequest) -> ApiResult<Answer<CouponBody>> {
        ctx.staff(Scope::PricesWrite)?;
        let fields = coupons::fields(input, &ctx.store, None)?;
        let created = crate::services::coupons::create(&ctx.app.db, &ctx.store.id, fields).await?;
        let view = CouponView::new(created, &ctx.store);
        ctx.audit(Self::NAME, "coupons.create", &view.id, None, serde_json::to_value(&view).ok()).await;
        Answer::of(&CouponBody { coupon: view })
    }
}

/// A refund, confirmed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundInput {
    /// The payment's id.
    pub payment_id: String,
    /// How much to give back, in the store's currency; everything left when absent.
    #[schema(value_type = Option<f64>)]
    pub amount: Option<DecimalText>,
    /// Must be `true`: the owner confirmed giving this money back.
    pub confirm: bool,
    /// Sent again with a retry of the same refund, the provider refunds once.
    pub idempotency_key: Option<String>,
}

pub struct RefundPayment;

impl Tool for RefundPayment {
    const NAME: &'static str = "refund_payment";
    const TITLE: &'static str = "Reembolsar un pago";
    const DESCRIPTION: &'static str = "Devuelve todo o parte de un pago a través de su proveedor (Mercado Pago, Stripe), nunca más de lo que queda. Irreversible: pedí confirmación explícita y enviá confirm=true.";
    const ACCESS: Access = Access::Scope(Scope::PaymentsRefund);
    const HINTS: Hints = Hints { read_only: false, destructive: true, idempotent: false };
    type Input = RefundInput;
    type Output = Refunded;

    async fn run(ctx: &Ctx, input: RefundInput) -> ApiResult<Answer<Refunded>> {
        let caller = ctx.staff(Scope::PaymentsRefund)?;
        let mut v = Validator::new();
        if !input.confirm {
            v.add("confirm", "Un reembolso no se puede deshacer: confirmalo con el dueño y enviá confirm=true");
        }
        let amount = v.decimal("amount", input.amount.as_ref(), ctx.store.currency.exponent());
        let key = v.optional_text("idempotencyKey", input.idempotency_key.as_deref(), 1, 255);
        v.finish()?;
        let payment =
            ctx.app.settle(refunds::refund_payment(&ctx.app, caller, &ctx.store, &input.payment_id, amount, key.as_deref()).await?).await;
        let view = PaymentView::new(payment, &ctx.store, true);
        ctx.audit(Self::NAME, "payments.refund", &view.id, None, serde_json::to_value(&view).ok()).await;
        Answer::of(&Refunded { message: "Reembolso realizado".into(), payment: view })
    }
}
