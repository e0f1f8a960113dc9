//! How an order is shown (seed 001's shape plus payment method, shipping and currency).

use serde::Serialize;
use utoipa::ToSchema;

use crate::http::json::PageInfo;
use crate::services::catalog::stores::Store;
use crate::services::orders::Order;
use feria_domain::decimal::DecimalOut;

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
    pub fn new(o: Order, store: &Store) -> SaleView {
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

/// One page of orders (seed 001: `{orders, pagination}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SalePage {
    pub orders: Vec<SaleView>,
    pub pagination: PageInfo,
}
