//! Checkout: placing an order as a guest or a signed-in user. The same use case for the API,
//! agents and chat channels: the buyer and the address are resolved, the order priced from the
//! catalog (reads only), then written with its notification in one transaction.

use crate::app::AppState;
use crate::services::catalog::stores::Store;
use crate::services::effects::{Done, Effects};
use crate::services::identity::{caller::Caller, users};
use crate::services::orders::{self, Buyer, NewOrder, OrderError, Placed, RequestedLine, ShippingAddress};
use crate::services::{addresses, customers, geography, order_notifications};

/// Where the order goes.
pub enum Delivery {
    /// One of the signed-in buyer's saved addresses, by id.
    Saved(String),
    /// An address given with the order.
    Given(GivenAddress),
    /// The signed-in buyer's default address.
    Default,
}

/// A shipping address given with the order (texts already validated).
pub struct GivenAddress {
    pub street: String,
    pub number: String,
    pub place: Place,
    pub zip_code: Option<String>,
    pub details: Option<String>,
    /// The buyer's name when not given.
    pub recipient: Option<String>,
    /// The buyer's phone when not given.
    pub phone: Option<String>,
}

/// The neighborhood and city of a given address.
pub enum Place {
    /// One of the store's neighborhoods.
    Neighborhood(String),
    Named {
        neighborhood: String,
        city: String,
    },
}

/// An order to place (validated input).
pub struct Checkout {
    pub lines: Vec<RequestedLine>,
    pub delivery: Delivery,
    /// A guest's details; ignored for a signed-in buyer.
    pub guest: Option<customers::Guest>,
    pub coupon_code: Option<String>,
    pub payment_method_code: Option<String>,
    pub notes: Option<String>,
    /// How it ships; `None`: no shipping charged (the shop arranges it).
    pub shipping_option: Option<crate::services::shipping_rates::ShippingChoice>,
}

/// Places `checkout` in `store` for `caller` (a guest when `None`). Everything that only
/// reads runs before the write transaction (on SQLite it holds the single writer); the order and
/// its "order placed" notification commit together.
pub async fn place_order(app: &AppState, caller: Option<&Caller>, store: &Store, checkout: Checkout) -> Result<Done<Placed>, OrderError> {
    let mut conn = app.db.reader().acquire().await?;
    let (buyer, shipping) = match caller {
        Some(user) => {
            let customer = customers::find(&mut conn, &store.id, customers::Lookup::User(&user.id)).await?;
            let (name, phone) = match &customer {
                Some(c) => (c.name.clone(), c.phone.clone()),
                None => (users::find_by_id(&mut conn, &user.id).await?.map(|u| u.name).unwrap_or_default(), None),
            };
            let customer_id = customer.map(|c| c.id).unwrap_or_default();
            let shipping = match checkout.delivery {
                Delivery::Saved(id) => {
                    saved(addresses::find(&mut conn, &store.id, &customer_id, &id).await?.ok_or(OrderError::UnknownAddress)?)
                }
                Delivery::Given(given) => resolve(&mut conn, store, given, &name, phone).await?,
                Delivery::Default => {
                    saved(addresses::find_default(&mut conn, &store.id, &customer_id).await?.ok_or(OrderError::NoAddress)?)
                }
            };
            (Buyer::User(user.id.clone()), shipping)
        }
        None => {
            let given = match checkout.delivery {
                Delivery::Given(given) => given,
                Delivery::Saved(_) => return Err(OrderError::SignInForSavedAddress),
                Delivery::Default => return Err(OrderError::NoAddress),
            };
            let guest = checkout.guest.ok_or(OrderError::GuestDetailsMissing)?;
            let shipping = resolve(&mut conn, store, given, &guest.name, guest.phone.clone()).await?;
            (Buyer::Guest(guest), shipping)
        }
    };
    let new = NewOrder {
        buyer,
        lines: checkout.lines,
        shipping,
        coupon_code: checkout.coupon_code,
        payment_method_code: checkout.payment_method_code,
        notes: checkout.notes,
        shipping_option: checkout.shipping_option,
    };
    let quote = orders::quote(&mut conn, store, &new).await?;
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
        .await?;
    let effects = Effects { wake_jobs: queued, stock_changed: placed.products.clone(), ..Effects::default() };
    Ok(Done::new(placed, effects))
}

/// The snapshot of a given address, its neighborhood looked up when given by id.
async fn resolve(
    conn: &mut feria_db::AnyConnection,
    store: &Store,
    given: GivenAddress,
    buyer_name: &str,
    buyer_phone: Option<String>,
) -> Result<ShippingAddress, OrderError> {
    let (neighborhood, city) = match given.place {
        Place::Neighborhood(id) => {
            let n = geography::find_neighborhood(conn, &store.id, &id).await?.ok_or(OrderError::UnknownNeighborhood)?;
            (n.name, n.city.name)
        }
        Place::Named { neighborhood, city } => (neighborhood, city),
    };
    Ok(ShippingAddress {
        recipient: given.recipient.unwrap_or_else(|| buyer_name.to_string()),
        phone: given.phone.or(buyer_phone),
        street: given.street,
        number: given.number,
        neighborhood,
        city,
        zip_code: given.zip_code,
        details: given.details,
    })
}

/// The snapshot of one of the buyer's saved addresses.
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
