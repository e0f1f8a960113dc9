//! What an event is about, read when it is fanned out and again when each message is rendered
//! (an order as it is then), and the values its templates see.

use feria_db::AnyConnection;
use feria_domain::money::format_scaled;
use minijinja::{Value, context};

use super::events::Event;
use crate::services::catalog::stores::{self, Store};
use crate::services::orders::{self, Order};

/// The records an event names.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    pub store: Option<Store>,
    /// `orderId` in the event's data.
    pub order: Option<Order>,
    /// `userId` in the event's data.
    pub user_id: Option<String>,
    /// A broadcast's audience (`audience` in the event's data).
    pub audience: Option<String>,
}

impl Subject {
    pub async fn load(conn: &mut AnyConnection, event: &Event) -> Result<Subject, sqlx::Error> {
        let store = match &event.store_id {
            Some(id) => stores::find_by_id(conn, id).await?,
            None => None,
        };
        let order = match (&store, event.data["orderId"].as_str()) {
            (Some(store), Some(order_id)) => orders::find(conn, &store.id, order_id).await?,
            _ => None,
        };
        Ok(Subject::of(event, store, order))
    }

    /// The subject of `event`, given its store and its order (already read).
    pub fn of(event: &Event, store: Option<Store>, order: Option<Order>) -> Subject {
        let text = |name: &str| event.data[name].as_str().map(str::to_string);
        Subject { store, order, user_id: text("userId"), audience: text("audience") }
    }
}

/// `amount` (minor units) in the store's currency, e.g. `ARS 1.500`.
fn money(amount: i64, store: &Store) -> String {
    format!("{} {}", store.currency.code(), format_scaled(amount, store.currency.exponent()))
}

fn address_line(o: &Order) -> String {
    let a = &o.address;
    let street = [a.street.as_str(), a.number.as_str()].into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ");
    let mut line = format!("{street}, {}, {}", a.neighborhood, a.city);
    if let Some(zip) = &a.zip_code {
        line.push_str(&format!(" ({zip})"));
    }
    line
}

fn order_values(o: &Order, store: &Store) -> Value {
    let items: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            context! {
                name => &l.product_name, quantity => l.quantity,
                price => money(l.unit_price, store), total => money(l.net - l.discount + l.tax, store),
            }
        })
        .collect();
    context! {
        id => &o.id, number => &o.order_number, status => &o.status_name, status_code => &o.status_code,
        subtotal => money(o.subtotal, store), discount => money(o.discount, store), tax => money(o.tax, store),
        shipping => money(o.shipping, store), total => money(o.total, store), items => items,
        address => address_line(o), recipient => &o.address.recipient, created_at => &o.created_at,
        customer => context! { name => &o.customer_name, email => &o.customer_email, phone => &o.customer_phone },
    }
}

/// `value` for a template when it is an object (a low-stock product, an import's counts, a
/// channel, an alert); else undefined.
fn object(value: &serde_json::Value) -> Value {
    if value.is_object() { Value::from(minijinja::value::Serde(value)) } else { Value::UNDEFINED }
}

/// What the templates of `event` see for a recipient called `recipient_name`: `store`, `order`,
/// `recipient`, `payment` (`amount`, `provider`), `reason`, `reset` (`link`, `minutes`),
/// `broadcast` (`title`, `body`, `attachments`), `digest` (`count`, `total`), and the event's
/// own `product`, `import`, `channel` or `alert`.
pub fn values(event: &Event, subject: &Subject, recipient_name: &str) -> Value {
    let data = &event.data;
    let store = subject.store.as_ref();
    let status_name = data["status"].as_str();
    let order = match (&subject.order, store) {
        (Some(o), Some(s)) => {
            let mut values = order_values(o, s);
            // The status the event announced, even if the order moved on since.
            if let Some(status) = status_name {
                values = context! { status => status, ..values };
            }
            values
        }
        _ => Value::UNDEFINED,
    };
    let payment = match (data["amount"].as_i64(), store) {
        (Some(amount), Some(s)) => context! { amount => money(amount, s), provider => data["provider"].as_str() },
        _ => Value::UNDEFINED,
    };
    let digest = match (data["digest"]["count"].as_i64(), store) {
        (Some(count), Some(s)) => context! { count => count, total => money(data["digest"]["total"].as_i64().unwrap_or(0), s) },
        _ => Value::UNDEFINED,
    };
    context! {
        digest => digest,
        product => object(&data["product"]),
        import => object(&data["import"]),
        channel => object(&data["channel"]),
        alert => object(&data["alert"]),
        store => store.map(|s| context! { name => &s.name, slug => &s.slug }),
        order => order,
        recipient => context! { name => recipient_name },
        payment => payment,
        reason => data["reason"].as_str(),
        broadcast => context! {
            title => data["title"].as_str(), body => data["body"].as_str(),
            attachments => Value::from(minijinja::value::Serde(super::broadcasts::attachments(data))),
        },
        reset => context! { link => data["link"].as_str(), minutes => data["minutes"].as_u64() },
    }
}
