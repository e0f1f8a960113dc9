//! An order placed through an agent checkout as UCP's order entity (`dev.ucp.shopping.order`):
//! what `GET /orders/{id}` answers and every order webhook carries, whole. Fulfillment events
//! come from the order's status history, adjustments from its refunds.

use serde_json::{Value, json};

use super::VERSION;
use crate::app::App;
use crate::services::agent_checkout::{AgentOrder, Session};
use crate::services::order_workflow::{CANCELLED, HistoryEntry};

/// The buyer-facing page of order `order_id`.
pub fn permalink(app: &App, order_id: &str) -> String {
    format!("{}/pedidos/{}", app.config.frontend_url.trim_end_matches('/'), order_id)
}

/// The fulfillment event a status of the workflow is, when it is one.
fn event_type(status_code: &str) -> Option<&'static str> {
    match status_code {
        "PROCESSING" => Some("processing"),
        "SHIPPED" => Some("shipped"),
        "DELIVERED" => Some("delivered"),
        CANCELLED => Some("canceled"),
        _ => None,
    }
}

/// The order entity of `record`, placed from `session`.
pub fn entity(app: &App, session: &Session, record: &AgentOrder) -> Value {
    let order = &record.order;
    let history: Vec<&HistoryEntry> = record.history.iter().collect();
    let reached = |code: &str| history.iter().any(|h| h.status_code == code);
    let canceled = order.status_code == CANCELLED;
    let fulfilled = reached("SHIPPED") || reached("DELIVERED");
    let all_lines = |quantity: fn(i64) -> i64| -> Vec<Value> {
        session.lines.iter().map(|l| json!({ "id": l.id, "quantity": quantity(l.quantity) })).collect()
    };
    let line_items: Vec<Value> = session
        .lines
        .iter()
        .map(|l| {
            let total = if canceled { 0 } else { l.quantity };
            let done = if fulfilled { total } else { 0 };
            let status = if total == 0 {
                "removed"
            } else if done == total {
                "fulfilled"
            } else {
                "processing"
            };
            json!({
                "id": l.id,
                "item": { "id": l.item_id, "title": l.title, "price": l.unit_price },
                "quantity": { "original": l.quantity, "total": total, "fulfilled": done },
                "totals": [{ "type": "subtotal", "amount": l.subtotal }, { "type": "total", "amount": l.total }],
                "status": status,
            })
        })
        .collect();
    let option = session.selected_option.as_ref().and_then(|id| session.options.iter().find(|o| &o.id == id));
    let mut expectation = json!({
        "id": "exp_1",
        "line_items": all_lines(|q| q),
        "method_type": "shipping",
        "destination": session.destination.as_ref().map(super::checkout::address_json).unwrap_or_else(|| json!({})),
    });
    if let Some(option) = option {
        expectation["description"] = json!(option.title);
    }
    let events: Vec<Value> = history
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let kind = event_type(&h.status_code)?;
            let mut event = json!({
                "id": format!("evt_{}", i + 1),
                "occurred_at": h.changed_at,
                "type": kind,
                "line_items": all_lines(|q| q),
                "description": h.note.as_deref().map_or_else(|| h.status_name.clone(), |note| format!("{}: {note}", h.status_name)),
            });
            if kind != "processing" && kind != "canceled" {
                event["tracking_url"] = json!(permalink(app, &order.id));
            }
            Some(event)
        })
        .collect();
    let mut adjustments: Vec<Value> = record
        .refunds
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "type": "refund", "occurred_at": r.created_at, "status": "completed",
                "totals": [{ "type": "total", "amount": -r.amount }], "description": "Reembolso",
            })
        })
        .collect();
    if let Some(h) = history.iter().rev().find(|h| h.status_code == CANCELLED) {
        adjustments.push(json!({
            "id": "adj_cancellation", "type": "cancellation", "occurred_at": h.changed_at, "status": "completed",
            "line_items": all_lines(|q| -q), "description": h.note.clone().unwrap_or_else(|| h.status_name.clone()),
        }));
    }
    let mut totals = vec![json!({ "type": "subtotal", "amount": order.subtotal })];
    if order.discount > 0 {
        totals.push(json!({ "type": "discount", "amount": -order.discount }));
    }
    if let Some(option) = option {
        totals.push(json!({ "type": "fulfillment", "display_text": option.title, "amount": order.shipping }));
    }
    if order.tax > 0 {
        totals.push(json!({ "type": "tax", "amount": order.tax }));
    }
    totals.push(json!({ "type": "total", "amount": order.total }));
    json!({
        "ucp": { "version": VERSION, "capabilities": { "dev.ucp.shopping.order": [{ "version": VERSION }] } },
        "id": order.id,
        "label": order.order_number,
        "checkout_id": session.id,
        "permalink_url": permalink(app, &order.id),
        "currency": order.currency,
        "line_items": line_items,
        "fulfillment": { "expectations": [expectation], "events": events },
        "adjustments": adjustments,
        "totals": totals,
    })
}
