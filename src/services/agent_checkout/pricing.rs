//! Pricing a session from the catalog: the lines (by product id or SKU), stock, the coupon,
//! shipping and tax, with a message for each problem and the status that follows.

use feria_domain::pricing::{self, LineInput};
use feria_domain::time;

use super::{AppliedDiscount, CheckoutError, Draft, Line, Message, Session, Severity, ShippingOption, Status, Totals};
use crate::app::App;
use crate::services::catalog::products;
use crate::services::catalog::stores::Store;
use crate::services::coupons::{self, DiscountType};
use crate::services::shipping_rates;

/// The message of a session without a destination (in English too: agents read it).
pub const FULFILLMENT_MISSING: &str = "Falta la dirección de envío y la opción elegida (Fulfillment address and option must be selected)";

/// Prices `draft` into `session`: lines, options, discount, totals, messages and status.
pub(super) async fn price(app: &App, store: &Store, session: &mut Session, draft: Draft) -> Result<(), CheckoutError> {
    let mut messages = Vec::new();
    let mut lines = Vec::with_capacity(draft.lines.len());
    // Agents name products by id, or by SKU (then looked up). No connection is held while the
    // cache loads what it misses (it takes one of its own: holding two per request would let
    // concurrent requests exhaust the pool waiting on each other).
    let mut ids: Vec<String> = draft.lines.iter().map(|l| l.item_id.clone()).collect();
    let mut found = app.catalog_cache.products(&app.db, &store.id, &ids).await?;
    let mut by_sku = false;
    let mut conn = app.db.reader().acquire().await?;
    for (line, id) in draft.lines.iter().zip(ids.iter_mut()) {
        if !found.iter().any(|p| p.id == line.item_id)
            && let Some(product_id) = products::find_by_sku(&mut conn, &store.id, &line.item_id).await?
        {
            *id = product_id;
            by_sku = true;
        }
    }
    if by_sku {
        drop(conn);
        found = app.catalog_cache.products(&app.db, &store.id, &ids).await?;
        conn = app.db.reader().acquire().await?;
    }
    for (i, (wanted, id)) in draft.lines.iter().zip(&ids).enumerate() {
        let path = Some(format!("$.line_items[{i}]"));
        let Some(product) = found.iter().find(|p| &p.id == id).filter(|p| p.is_active) else {
            let content = format!("No hay ningún producto {} a la venta en esta tienda", wanted.item_id);
            messages.push(Message::error("not_found", path, content, Severity::Unrecoverable));
            continue;
        };
        if product.stock < wanted.quantity {
            let content = if product.stock == 0 {
                format!("{} está sin stock", product.name)
            } else {
                format!("Quedan {} unidades de {}", product.stock, product.name)
            };
            messages.push(Message::error("out_of_stock", path, content, Severity::Recoverable));
            if product.stock == 0 {
                continue;
            }
        }
        lines.push(Line {
            id: wanted.id.clone().unwrap_or_else(|| format!("li_{}", i + 1)),
            item_id: wanted.item_id.clone(),
            product_id: product.id.clone(),
            title: product.name.clone(),
            unit_price: product.price,
            tax_rate_bp: product.tax_rate_bp,
            quantity: wanted.quantity,
            image_url: product.images.first().map(|i| i.url.clone()),
            subtotal: 0,
            discount: 0,
            tax: 0,
            total: 0,
        });
    }
    let inputs: Vec<LineInput> =
        lines.iter().map(|l| LineInput { unit_price: l.unit_price, quantity: l.quantity, tax_rate_bp: l.tax_rate_bp }).collect();
    let subtotal = pricing::totals(&inputs, None, 0).map_err(crate::services::orders::OrderError::from)?.subtotal;

    let now = time::to_db(time::now());
    let mut applied = None;
    for (i, code) in draft.discount_codes.iter().enumerate() {
        let path = Some(format!("$.discounts.codes[{i}]"));
        if applied.is_some() {
            messages.push(Message::warning(
                "discount_code_combination_disallowed",
                path,
                format!("Solo se aplica un cupón por compra; {code} no se usó"),
            ));
            continue;
        }
        match coupons::find_by_code(&mut conn, &store.id, code).await? {
            Some(coupon) => match coupon.check(Some(subtotal), &now) {
                Ok(()) => applied = Some(coupon),
                Err(refusal) => messages.push(Message::warning("discount_code_invalid", path, format!("{} ({code})", refusal.reason()))),
            },
            None => messages.push(Message::warning("discount_code_invalid", path, format!("No existe el cupón {code}"))),
        }
    }
    let country = draft.destination.as_ref().and_then(|d| d.address_country.as_deref());
    let options = match (&draft.destination, lines.is_empty()) {
        (Some(_), false) => shipping_rates::options(&mut conn, &store.id, country, subtotal)
            .await?
            .into_iter()
            .map(|o| ShippingOption {
                description: o.free.then(|| "Sin cargo para esta compra".to_string()),
                id: o.code,
                title: o.title,
                amount: o.amount,
            })
            .collect(),
        _ => Vec::new(),
    };
    drop(conn);

    if options.is_empty() && draft.destination.is_some() && !lines.is_empty() {
        let country = country.unwrap_or("ese destino");
        messages.push(Message::error(
            "invalid",
            Some("$.fulfillment.methods[0].destinations[0].address_country".into()),
            format!("La tienda no hace envíos a {country}"),
            Severity::Recoverable,
        ));
    }
    let selected = match draft.selected_option {
        Some(id) if options.iter().any(|o| o.id == id) => Some(id),
        Some(id) => {
            messages.push(Message::error(
                "invalid",
                Some("$.fulfillment".into()),
                format!("No hay ninguna opción de envío {id}"),
                Severity::Recoverable,
            ));
            None
        }
        None => options.iter().min_by_key(|o| o.amount).map(|o| o.id.clone()),
    };
    let shipping = selected.as_ref().and_then(|id| options.iter().find(|o| &o.id == id)).map_or(0, |o| o.amount);
    let totals = pricing::totals(&inputs, applied.as_ref().map(coupons::Coupon::discount), shipping)
        .map_err(crate::services::orders::OrderError::from)?;
    for (line, t) in lines.iter_mut().zip(&totals.lines) {
        line.subtotal = t.net;
        line.discount = t.discount;
        line.tax = t.tax;
        line.total = t.total();
    }

    let email = draft.buyer.as_ref().and_then(|b| b.email.as_deref());
    if email.is_none() && !app.config.agents.conformance_mode() {
        messages.push(Message::error("missing", Some("$.buyer.email".into()), "Falta el email del comprador", Severity::Recoverable));
    }
    match &draft.destination {
        None => messages.push(Message::error("missing", Some("$.fulfillment".into()), FULFILLMENT_MISSING, Severity::Recoverable)),
        Some(d) if d.street_address.is_none() => messages.push(Message::error(
            "missing",
            Some("$.fulfillment.methods[0].destinations[0].street_address".into()),
            "Falta la calle y el número de la dirección de envío",
            Severity::Recoverable,
        )),
        Some(_) => {}
    }
    let ready = !lines.is_empty() && !messages.iter().any(|m| m.kind == "error");
    session.status = if ready { Status::ReadyForComplete } else { Status::Incomplete };
    session.discount = applied.map(|c| AppliedDiscount {
        title: match c.discount_type {
            DiscountType::Percentage => format!("{}: {}% de descuento", c.code, feria_domain::money::format_scaled(c.discount_value, 2)),
            DiscountType::Fixed => format!("{}: descuento fijo", c.code),
        },
        code: c.code,
        amount: totals.discount,
    });
    session.totals =
        Totals { subtotal: totals.subtotal, discount: totals.discount, fulfillment: totals.shipping, tax: totals.tax, total: totals.total };
    session.lines = lines;
    session.options = options;
    session.selected_option = selected;
    session.method_id = draft.method_id;
    session.group_id = draft.group_id;
    session.discount_codes = draft.discount_codes;
    session.buyer = draft.buyer;
    session.destination = draft.destination;
    session.context = draft.context;
    if draft.agent_profile.is_some() {
        session.agent_profile = draft.agent_profile;
    }
    session.messages = messages;
    Ok(())
}
