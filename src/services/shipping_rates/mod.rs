//! How a store ships and what it costs: rates per service level (standard, express…), each for
//! one country or, without a country, for everywhere else; a country's own rate replaces the
//! level's default one. A rate can be free from a subtotal. A store without rates offers one
//! option, shipping arranged with the shop after the order, at no charge.

mod manage;

pub use manage::*;

use feria_db::{AnyConnection, AnyRow, Row};

/// The option of a store without rates.
pub const ARRANGED: &str = "envio-a-coordinar";

/// A rate as stored.
#[derive(Debug, Clone)]
pub struct ShippingRate {
    pub id: String,
    /// What checkouts name it by; unique in the store.
    pub code: String,
    pub title: String,
    /// ISO 3166-1 alpha-2, upper case; `None`: every country without its own rate of the level.
    pub country: Option<String>,
    pub service_level: String,
    /// Minor units.
    pub price: i64,
    /// Free when the order's subtotal (minor units) reaches this.
    pub free_from: Option<i64>,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, code, title, country, service_level, price, free_from, is_active, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<ShippingRate, sqlx::Error> {
    Ok(ShippingRate {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        title: row.try_get("title")?,
        country: row.try_get("country")?,
        service_level: row.try_get("service_level")?,
        price: row.try_get("price")?,
        free_from: row.try_get("free_from")?,
        is_active: row.try_get::<i64, _>("is_active")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The option a buyer chose for an order shipped to `country` (priced again when placed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingChoice {
    pub code: String,
    pub country: Option<String>,
}

/// A way to ship one order, priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingOption {
    pub code: String,
    pub title: String,
    /// Minor units; 0 when free.
    pub amount: i64,
    /// The rate was free for this subtotal (its price was not 0).
    pub free: bool,
}

/// The options for an order of `subtotal` (minor units) shipped to `country`: per service
/// level the country's rate, else the default one; cheapest first. Without any active rate,
/// the arranged option.
pub async fn options(
    conn: &mut AnyConnection,
    store_id: &str,
    country: Option<&str>,
    subtotal: i64,
) -> Result<Vec<ShippingOption>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM shipping_rates WHERE store_id = $1 AND is_active = 1 ORDER BY service_level, code");
    let rates: Vec<ShippingRate> =
        sqlx::query(&sql).bind(store_id).fetch_all(conn).await?.iter().map(from_row).collect::<Result<_, _>>()?;
    if rates.is_empty() {
        return Ok(vec![ShippingOption {
            code: ARRANGED.into(), title: "Envío a coordinar con la tienda".into(), amount: 0, free: false
        }]);
    }
    let country = country.map(str::to_ascii_uppercase);
    let mut chosen: Vec<&ShippingRate> = Vec::new();
    for rate in &rates {
        let own = rates.iter().any(|r| r.service_level == rate.service_level && r.country.is_some() && r.country == country);
        let applies = match &rate.country {
            Some(c) => Some(c) == country.as_ref(),
            None => !own,
        };
        if applies {
            chosen.push(rate);
        }
    }
    let mut options: Vec<ShippingOption> = chosen
        .into_iter()
        .map(|r| {
            let free = r.price > 0 && r.free_from.is_some_and(|from| subtotal >= from);
            ShippingOption { code: r.code.clone(), title: r.title.clone(), amount: if free { 0 } else { r.price }, free }
        })
        .collect();
    options.sort_by(|a, b| a.amount.cmp(&b.amount).then_with(|| a.title.cmp(&b.title)));
    Ok(options)
}
