//! Customer tools for the shop (`customers:read`).

use feria_domain::access::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalog::pagination;
use super::{Access, Answer, Ctx, Hints, READ, Tool};
use crate::http::error::ApiResult;
use crate::http::json::{PageInfo, Pagination};
use crate::http::validate::Validator;
use crate::routes::customers::{CustomerPage, CustomerView};
use crate::routes::sales::{SalePage, SaleView};
use crate::services::customers::{self, Lookup};
use crate::services::orders::{self, OrderFilter};

/// A page of customers.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerQuery {
    /// Part of the name or email.
    pub search: Option<String>,
    /// Only the customers of this neighborhood (its id).
    pub neighborhood_id: Option<String>,
    pub page: Option<i64>,
    pub limit: Option<i64>,
}

pub struct GetCustomers;

impl Tool for GetCustomers {
    const NAME: &'static str = "get_customers";
    const TITLE: &'static str = "Clientes";
    const DESCRIPTION: &'static str = "Los clientes de la tienda por nombre, con email, teléfono y dirección. Paginado.";
    const ACCESS: Access = Access::Scope(Scope::CustomersRead);
    const HINTS: Hints = READ;
    type Input = CustomerQuery;
    type Output = CustomerPage;

    async fn run(ctx: &Ctx, input: CustomerQuery) -> ApiResult<Answer<CustomerPage>> {
        ctx.staff(Scope::CustomersRead)?;
        let mut v = Validator::new();
        let page = pagination(&mut v, input.page, input.limit);
        let search = v.optional_text("search", input.search.as_deref(), 0, 100).filter(|s| !s.is_empty());
        v.finish()?;
        let filter = customers::Filter { neighborhood_id: input.neighborhood_id, search };
        let (total, found) = customers::page(&ctx.app.db, &ctx.store.id, &filter, page.limit, page.offset()).await?;
        Answer::of(&CustomerPage { total, customers: found.into_iter().map(CustomerView::from).collect() })
    }
}

/// A customer by id or email.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRef {
    /// The customer's id or email.
    pub customer_id: String,
}

/// A customer and their latest orders.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDetails {
    pub customer: CustomerView,
    /// Their 10 latest orders, with how many there are in all.
    pub recent_orders: SalePage,
}

pub struct GetCustomerDetails;

impl Tool for GetCustomerDetails {
    const NAME: &'static str = "get_customer_details";
    const TITLE: &'static str = "Detalle de un cliente";
    const DESCRIPTION: &'static str = "Un cliente por id o email, con sus 10 pedidos más recientes (con orders:read).";
    const ACCESS: Access = Access::Scope(Scope::CustomersRead);
    const HINTS: Hints = READ;
    type Input = CustomerRef;
    type Output = CustomerDetails;

    async fn run(ctx: &Ctx, input: CustomerRef) -> ApiResult<Answer<CustomerDetails>> {
        let caller = ctx.staff(Scope::CustomersRead)?;
        let reference = input.customer_id.trim();
        let lookup = if reference.contains('@') { Lookup::Email(reference) } else { Lookup::Id(reference) };
        let customer = customers::get(&ctx.app.db, &ctx.store.id, lookup).await?;
        let page = Pagination { page: 1, limit: 10 };
        let (total, recent) = if caller.may(&ctx.store.id, Scope::OrdersRead) {
            let filter = OrderFilter { customer_id: Some(customer.id.clone()), ..OrderFilter::default() };
            orders::list(&mut *ctx.app.db.reader().acquire().await?, &ctx.store.id, &filter, page.limit, 0).await?
        } else {
            (0, Vec::new())
        };
        Answer::of(&CustomerDetails {
            customer: CustomerView::from(customer),
            recent_orders: SalePage {
                orders: recent.into_iter().map(|o| SaleView::new(o, &ctx.store)).collect(),
                pagination: PageInfo::new(page, total),
            },
        })
    }
}

/// How long without buying.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LapsedInput {
    /// Days since their last purchase, at least (default 60, up to 3650).
    pub days: Option<i64>,
    /// Customers to list, default 20, at most 100.
    pub limit: Option<i64>,
}

/// A customer who stopped buying.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LapsedCustomer {
    pub id: String,
    pub name: String,
    pub email: String,
    pub orders: i64,
    pub last_order_at: String,
    /// What they spent in all, in the store's currency.
    #[schema(value_type = f64)]
    pub spent: feria_domain::decimal::DecimalOut,
}

/// Customers without purchases since a date.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LapsedCustomers {
    /// No purchase since this instant (RFC 3339, UTC).
    pub since: String,
    pub days: i64,
    pub total: i64,
    pub customers: Vec<LapsedCustomer>,
}

pub struct GetLapsedCustomers;

impl Tool for GetLapsedCustomers {
    const NAME: &'static str = "lapsed_customers";
    const TITLE: &'static str = "Clientes que dejaron de comprar";
    const DESCRIPTION: &'static str = "Los clientes que compraron en la tienda pero no en los últimos N días (por defecto 60), con su última compra, cantidad de pedidos y total gastado. Indica desde qué fecha.";
    const ACCESS: Access = Access::Scope(Scope::CustomersRead);
    const HINTS: Hints = READ;
    type Input = LapsedInput;
    type Output = LapsedCustomers;

    async fn run(ctx: &Ctx, input: LapsedInput) -> ApiResult<Answer<LapsedCustomers>> {
        ctx.staff(Scope::CustomersRead)?;
        let mut v = Validator::new();
        let days = input.days.unwrap_or(60);
        if !(1..=3650).contains(&days) {
            v.add("days", "Debe ser un entero entre 1 y 3650");
        }
        let limit = input.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            v.add("limit", "Debe ser un entero entre 1 y 100");
        }
        v.finish()?;
        let since = feria_domain::time::to_db(feria_domain::time::now() - chrono::TimeDelta::days(days));
        let (total, found) =
            crate::services::reports::lapsed_customers(&mut *ctx.app.db.reader().acquire().await?, &ctx.store.id, &since, limit).await?;
        let exponent = ctx.store.currency.exponent();
        let customers = found
            .into_iter()
            .map(|c| LapsedCustomer {
                id: c.id,
                name: c.name,
                email: c.email,
                orders: c.orders,
                last_order_at: c.last_order_at,
                spent: feria_domain::decimal::DecimalOut::scaled(c.spent, exponent),
            })
            .collect();
        Answer::of(&LapsedCustomers { since, days, total, customers })
    }
}
