//! Order tools: a buyer's own order status, and the shop's order reads and status changes.

use feria_domain::access::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalog::pagination;
use super::{Access, Answer, Ctx, Hints, READ, Tool};
use crate::http::error::{ApiError, ApiResult};
use crate::http::json::PageInfo;
use crate::http::validate::Validator;
use crate::routes::sales::{SalePage, SaleView, Tracking, date_bound};
use crate::services::orders::{self, OrderError, OrderFilter};
use crate::services::{order_status_change, order_workflow};

/// The id of the order named by `reference` (its id or number), or "not found".
async fn order_id(ctx: &Ctx, reference: &str) -> ApiResult<String> {
    let found = orders::resolve(&mut *ctx.app.db.reader().acquire().await?, &ctx.store.id, reference).await?;
    Ok(found.ok_or(OrderError::UnknownOrder)?)
}

/// An order of the caller's, or a guest's with the email given at checkout.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderLookup {
    /// The order's id or number (`ORD-000123`).
    pub order: String,
    /// For an order placed as a guest: the email given at checkout. Not needed when signed in.
    pub email: Option<String>,
}

pub struct GetOrderStatus;

impl Tool for GetOrderStatus {
    const NAME: &'static str = "get_order_status";
    const TITLE: &'static str = "Estado de mi pedido";
    const DESCRIPTION: &'static str = "El estado de un pedido del comprador y su historial: con sesión iniciada, sus propios pedidos; como invitado, con el email que dio al comprar.";
    const ACCESS: Access = Access::Public;
    const HINTS: Hints = READ;
    type Input = OrderLookup;
    type Output = Tracking;

    async fn run(ctx: &Ctx, input: OrderLookup) -> ApiResult<Answer<Tracking>> {
        let id = order_id(ctx, &input.order).await?;
        let (order, history) = match (&ctx.caller, input.email.as_deref()) {
            (Some(caller), _) => order_workflow::tracking(&ctx.app, caller, &ctx.store.id, &id).await?,
            (None, Some(email)) => order_workflow::guest_tracking(&ctx.app, &ctx.store.id, &id, email).await?,
            (None, None) => {
                return Err(ApiError::field("email", "Para un pedido hecho como invitado, indicá el email que usaste al comprar"));
            }
        };
        Answer::of(&Tracking::of(order, history))
    }
}

/// Which of the store's orders.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderQuery {
    /// Status code, e.g. `PENDING`, `PAID`, `SHIPPED`.
    pub status: Option<String>,
    /// Only this customer's orders (its id).
    pub customer_id: Option<String>,
    /// Created on or after (a date `2026-12-01` or an RFC 3339 time).
    pub start_date: Option<String>,
    /// Created on or before (a date includes that day).
    pub end_date: Option<String>,
    pub page: Option<i64>,
    pub limit: Option<i64>,
}

pub struct GetOrders;

impl Tool for GetOrders {
    const NAME: &'static str = "get_orders";
    const TITLE: &'static str = "Pedidos";
    const DESCRIPTION: &'static str =
        "Los pedidos de la tienda, los más nuevos primero, con filtros por estado, cliente y fechas. Paginado.";
    const ACCESS: Access = Access::Scope(Scope::OrdersRead);
    const HINTS: Hints = READ;
    type Input = OrderQuery;
    type Output = SalePage;

    async fn run(ctx: &Ctx, input: OrderQuery) -> ApiResult<Answer<SalePage>> {
        let mut v = Validator::new();
        let page = pagination(&mut v, input.page, input.limit);
        let filter = OrderFilter {
            status: input.status.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            customer_id: input.customer_id,
            from: date_bound(&mut v, "startDate", input.start_date.as_deref(), false),
            until: date_bound(&mut v, "endDate", input.end_date.as_deref(), true),
            user_id: None,
        };
        v.finish()?;
        let mut conn = ctx.app.db.reader().acquire().await?;
        let (total, found) = orders::list(&mut conn, &ctx.store.id, &filter, page.limit, page.offset()).await?;
        Answer::of(&SalePage {
            orders: found.into_iter().map(|o| SaleView::new(o, &ctx.store)).collect(),
            pagination: PageInfo::new(page, total),
        })
    }
}

/// An order by id or number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderRef {
    /// The order's id or number (`ORD-000123`).
    pub order_id: String,
}

pub struct GetOrderDetails;

impl Tool for GetOrderDetails {
    const NAME: &'static str = "get_order_details";
    const TITLE: &'static str = "Detalle de un pedido";
    const DESCRIPTION: &'static str = "Un pedido por id o número (ORD-000123): cliente, líneas, totales, dirección y estado.";
    const ACCESS: Access = Access::Scope(Scope::OrdersRead);
    const HINTS: Hints = READ;
    type Input = OrderRef;
    type Output = SaleView;

    async fn run(ctx: &Ctx, input: OrderRef) -> ApiResult<Answer<SaleView>> {
        let caller = ctx.staff(Scope::OrdersRead)?;
        let id = order_id(ctx, &input.order_id).await?;
        Answer::of(&SaleView::new(orders::for_caller(&ctx.app, caller, &ctx.store.id, &id).await?, &ctx.store))
    }
}

/// A status change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusChange {
    /// The order's id or number (`ORD-000123`).
    pub order: String,
    /// The new status code (e.g. `SHIPPED`); the store's workflow decides which are allowed.
    pub status: String,
    /// A note for the order's history.
    pub note: Option<String>,
}

/// An order after a status change.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusUpdated {
    pub id: String,
    pub order_number: String,
    pub status: String,
    pub updated_at: String,
}

pub struct UpdateOrderStatus;

impl Tool for UpdateOrderStatus {
    const NAME: &'static str = "update_order_status";
    const TITLE: &'static str = "Cambiar el estado de un pedido";
    const DESCRIPTION: &'static str = "Pasa un pedido a otro estado (por ejemplo SHIPPED) si el flujo de la tienda lo permite desde el actual; queda en el historial y en el registro de auditoría.";
    const ACCESS: Access = Access::Scope(Scope::OrdersWrite);
    const HINTS: Hints = Hints { read_only: false, destructive: false, idempotent: true };
    type Input = StatusChange;
    type Output = StatusUpdated;

    async fn run(ctx: &Ctx, input: StatusChange) -> ApiResult<Answer<StatusUpdated>> {
        let caller = ctx.staff(Scope::OrdersWrite)?;
        let mut v = Validator::new();
        let status = v.text("status", Some(&input.status), 1, 100);
        let note = v.optional_text("note", input.note.as_deref(), 0, 500).filter(|n| !n.is_empty());
        v.finish()?;
        let id = order_id(ctx, &input.order).await?;
        let before = orders::find(&mut *ctx.app.db.reader().acquire().await?, &ctx.store.id, &id).await?.map(|o| o.status_code);
        let order =
            ctx.app.settle(order_status_change::set_order_status(&ctx.app, caller, &ctx.store, &id, &status, note.as_deref()).await?).await;
        let after = serde_json::json!({ "status": order.status_code });
        ctx.audit(Self::NAME, "sales.status", &order.id, before.map(|s| serde_json::json!({ "status": s })), Some(after)).await;
        Answer::of(&StatusUpdated {
            id: order.id,
            order_number: order.order_number,
            status: order.status_code,
            updated_at: order.updated_at,
        })
    }
}
