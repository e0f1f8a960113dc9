//! What is sent when an order is placed or changes status (seed 001 "Sistema de
//! Notificaciones"): queued as jobs in the order's transaction, so a notification is never lost
//! and a failing channel (retried by the runner) never affects the order.

use feria_db::AnyConnection;
use feria_domain::money::format_scaled;

use crate::app::App;
use crate::jobs::{send_email, send_telegram};
use crate::services::agent_checkout;
use crate::services::catalog::stores::Store;
use crate::services::html::escape;
use crate::services::orders::Order;

fn money(amount: i64, store: &Store) -> String {
    format!("{} {}", store.currency.code(), format_scaled(amount, store.currency.exponent()))
}

fn address_line(o: &Order) -> String {
    let a = &o.address;
    let mut line = [a.street.as_str(), a.number.as_str()].iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(" ");
    line.push_str(&format!(", {}, {}", a.neighborhood, a.city));
    if let Some(zip) = &a.zip_code {
        line.push_str(&format!(" ({zip})"));
    }
    line
}

/// The order as an HTML table plus totals, for both emails.
fn order_html(o: &Order, store: &Store) -> String {
    let rows: String = o
        .lines
        .iter()
        .map(|l| {
            format!(
                "<tr><td>{}</td><td style=\"text-align:right\">{}</td><td style=\"text-align:right\">{}</td><td style=\"text-align:right\">{}</td></tr>",
                escape(&l.product_name),
                l.quantity,
                escape(&money(l.unit_price, store)),
                escape(&money(l.net - l.discount + l.tax, store))
            )
        })
        .collect();
    format!(
        "<table style=\"border-collapse:collapse\" cellpadding=\"4\"><thead><tr><th>Producto</th><th>Cantidad</th><th>Precio</th><th>Total</th></tr></thead>\
         <tbody>{rows}</tbody></table>\
         <p>Subtotal: {}<br>Descuento: {}<br>Impuestos: {}<br>Envío: {}<br><strong>Total: {}</strong></p>\
         <p>Entrega: {}<br>Recibe: {}</p>\
         <p>Fecha: {}</p>",
        escape(&money(o.subtotal, store)),
        escape(&money(o.discount, store)),
        escape(&money(o.tax, store)),
        escape(&money(o.shipping, store)),
        escape(&money(o.total, store)),
        escape(&address_line(o)),
        escape(&o.address.recipient),
        escape(&o.created_at),
    )
}

fn order_text(o: &Order, store: &Store) -> String {
    let lines: String =
        o.lines.iter().map(|l| format!("- {} × {}: {}\n", l.quantity, l.product_name, money(l.net - l.discount + l.tax, store))).collect();
    format!(
        "{lines}\nSubtotal: {}\nDescuento: {}\nImpuestos: {}\nEnvío: {}\nTotal: {}\n\nEntrega: {}\nRecibe: {}\nFecha: {}\n",
        money(o.subtotal, store),
        money(o.discount, store),
        money(o.tax, store),
        money(o.shipping, store),
        money(o.total, store),
        address_line(o),
        o.address.recipient,
        o.created_at
    )
}

fn page(body: &str) -> String {
    format!("<!doctype html><html lang=\"es\"><body style=\"font-family:sans-serif\">{body}</body></html>")
}

/// Whether emails go out: the channel is on and an SMTP server is configured.
fn emailing(app: &App) -> bool {
    app.config.notifications.email && app.config.email.is_some()
}

/// Queues the new-order notifications on the channels that are on and configured (a channel
/// without its provider is reported once, in the configuration summary at start): an email to
/// the shop (`EMAIL_TO`), a Telegram message to the shop's chat, and a confirmation to the
/// customer. Says whether anything was queued (the job runner need not be woken otherwise).
pub async fn order_placed(conn: &mut AnyConnection, app: &App, store: &Store, o: &Order) -> Result<bool, sqlx::Error> {
    let n = &app.config.notifications;
    let mut queued = false;
    if emailing(app) {
        if let Some(shop) = &n.email_to {
            let email = send_email::Email {
                to: shop.clone(),
                subject: format!("Nuevo pedido {} — {}", o.order_number, money(o.total, store)),
                text: format!("Pedido {} de {} <{}>\n\n{}", o.order_number, o.customer_name, o.customer_email, order_text(o, store)),
                html: page(&format!(
                    "<h2>Nuevo pedido {}</h2><p>Cliente: {} &lt;{}&gt;{}</p>{}",
                    escape(&o.order_number),
                    escape(&o.customer_name),
                    escape(&o.customer_email),
                    o.address.phone.as_deref().map(|p| format!("<br>Teléfono: {}", escape(p))).unwrap_or_default(),
                    order_html(o, store)
                )),
            };
            send_email::enqueue(conn, app, &email).await?;
        }
        queued = true;
        let confirmation = send_email::Email {
            to: o.customer_email.clone(),
            subject: format!("Recibimos tu pedido {}", o.order_number),
            text: format!("Hola {}:\n\nRecibimos tu pedido {}.\n\n{}", o.customer_name, o.order_number, order_text(o, store)),
            html: page(&format!(
                "<p>Hola {}:</p><p>Recibimos tu pedido <strong>{}</strong>.</p>{}",
                escape(&o.customer_name),
                escape(&o.order_number),
                order_html(o, store)
            )),
        };
        send_email::enqueue(conn, app, &confirmation).await?;
    }
    if n.telegram && n.telegram_bot.is_some() {
        let lines: String = o.lines.iter().map(|l| format!("• {} × {}\n", l.quantity, escape(&l.product_name))).collect();
        let text = format!(
            "🛒 <b>Nuevo pedido {}</b>\nCliente: {} ({})\n{lines}Total: <b>{}</b>\nEntrega: {}",
            escape(&o.order_number),
            escape(&o.customer_name),
            escape(&o.customer_email),
            escape(&money(o.total, store)),
            escape(&address_line(o))
        );
        send_telegram::enqueue(conn, app, &text).await?;
        queued = true;
    }
    Ok(queued)
}

/// Queues the customer's email about a status change, and the order's snapshot for the agent
/// platform it was bought through; says whether anything was queued.
pub async fn status_changed(conn: &mut AnyConnection, app: &App, store: &Store, o: &Order) -> Result<bool, sqlx::Error> {
    let pushed = agent_checkout::order_changed(conn, app, store, &o.id).await?;
    if !emailing(app) {
        return Ok(pushed);
    }
    let email = send_email::Email {
        to: o.customer_email.clone(),
        subject: format!("Tu pedido {} está: {}", o.order_number, o.status_name),
        text: format!(
            "Hola {}:\n\nTu pedido {} ahora está: {}.\nTotal: {}\n",
            o.customer_name,
            o.order_number,
            o.status_name,
            money(o.total, store)
        ),
        html: page(&format!(
            "<p>Hola {}:</p><p>Tu pedido <strong>{}</strong> ahora está: <strong>{}</strong>.</p><p>Total: {}</p>",
            escape(&o.customer_name),
            escape(&o.order_number),
            escape(&o.status_name),
            escape(&money(o.total, store))
        )),
    };
    send_email::enqueue(conn, app, &email).await?;
    Ok(true)
}

/// Queues the shop's notice that an order's payment was approved (`amount`, minor units, by
/// `provider`): an email to `EMAIL_TO` and a Telegram message, on the channels that are on.
/// Says whether anything was queued.
pub async fn payment_approved(
    conn: &mut AnyConnection,
    app: &App,
    store: &Store,
    o: &Order,
    amount: i64,
    provider: &str,
) -> Result<bool, sqlx::Error> {
    let n = &app.config.notifications;
    let mut queued = false;
    let paid = money(amount, store);
    if let (true, Some(shop)) = (emailing(app), &n.email_to) {
        let email = send_email::Email {
            to: shop.clone(),
            subject: format!("Pago aprobado — pedido {} — {paid}", o.order_number),
            text: format!("El pago del pedido {} ({}) fue aprobado por {provider}: {paid}.", o.order_number, o.customer_name),
            html: page(&format!(
                "<p>El pago del pedido <strong>{}</strong> ({}) fue aprobado por {}: <strong>{}</strong>.</p>",
                escape(&o.order_number),
                escape(&o.customer_name),
                escape(provider),
                escape(&paid)
            )),
        };
        send_email::enqueue(conn, app, &email).await?;
        queued = true;
    }
    if n.telegram && n.telegram_bot.is_some() {
        let text =
            format!("💳 <b>Pago aprobado</b> del pedido {} por {}: <b>{}</b>", escape(&o.order_number), escape(provider), escape(&paid));
        send_telegram::enqueue(conn, app, &text).await?;
        queued = true;
    }
    Ok(queued)
}
