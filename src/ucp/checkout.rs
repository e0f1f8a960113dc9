//! Checkout sessions in UCP's JSON: reading what an agent sends (leniently: members the
//! business answers with are ignored) and writing a session back.

use axum::http::StatusCode;
use feria_domain::pricing::MAX_QUANTITY;
use serde_json::{Map, Value, json};

use super::{UcpError, VERSION, negotiated, origin, payment_handlers};
use crate::app::App;
use crate::http::error::ApiError;
use crate::services::agent_checkout::{
    Address, Buyer, CheckoutError, Draft, DraftLine, Instrument, MAX_LINES, Message, PaymentChoice, Session, Status,
};

/// Most discount codes read from one request.
const MAX_CODES: usize = 10;

/// Collects problems with paths, like the API's `Validator`.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, content: impl Into<String>) {
        self.0.push((path.into(), content.into()));
    }

    /// An optional text at most `max` characters long, trimmed; blank reads as absent.
    fn text(&mut self, value: Option<&Value>, path: &str, max: usize) -> Option<String> {
        match value {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) if s.trim().chars().count() <= max => Some(s.trim().to_string()),
            Some(Value::String(_)) => {
                self.add(path, format!("Debe tener como máximo {max} caracteres"));
                None
            }
            Some(_) => {
                self.add(path, "Debe ser un texto");
                None
            }
        }
    }
}

/// The writable state of a create or update request, from the platform at `agent_profile`.
pub fn draft(body: &Value, agent_profile: Option<String>) -> Result<Draft, UcpError> {
    let mut p = Problems::default();
    let Some(body) = body.as_object() else {
        return Err(UcpError::invalid(vec![("$".into(), "El cuerpo debe ser un objeto JSON".into())]));
    };
    let lines = match body.get("line_items") {
        Some(Value::Array(items)) if items.is_empty() => {
            p.add("$.line_items", "Debe tener al menos una línea");
            Vec::new()
        }
        Some(Value::Array(items)) if items.len() > MAX_LINES => {
            p.add("$.line_items", format!("Como máximo {MAX_LINES} líneas"));
            Vec::new()
        }
        Some(Value::Array(items)) => items.iter().enumerate().filter_map(|(i, item)| line(&mut p, i, item)).collect(),
        _ => {
            p.add("$.line_items", "Es obligatorio: una lista de {item: {id}, quantity}");
            Vec::new()
        }
    };
    let buyer = body.get("buyer").filter(|b| !b.is_null()).map(|b| buyer(&mut p, b));
    let fulfillment = fulfillment(&mut p, body.get("fulfillment"));
    let discount_codes = match body.get("discounts").and_then(|d| d.get("codes")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(codes)) if codes.len() <= MAX_CODES => {
            codes.iter().enumerate().filter_map(|(i, c)| p.text(Some(c), &format!("$.discounts.codes[{i}]"), 50)).collect()
        }
        Some(_) => {
            p.add("$.discounts.codes", format!("Debe ser una lista de hasta {MAX_CODES} códigos"));
            Vec::new()
        }
    };
    if !p.0.is_empty() {
        return Err(UcpError::invalid(p.0));
    }
    Ok(Draft {
        lines,
        buyer,
        destination: fulfillment.destination,
        selected_option: fulfillment.option,
        method_id: fulfillment.method_id,
        group_id: fulfillment.group_id,
        discount_codes,
        context: body.get("context").filter(|c| c.is_object()).cloned(),
        agent_profile,
    })
}

fn line(p: &mut Problems, i: usize, item: &Value) -> Option<DraftLine> {
    let path = format!("$.line_items[{i}]");
    let item_id = p.text(item.pointer("/item/id"), &format!("{path}.item.id"), 100);
    if item_id.is_none() {
        p.add(format!("{path}.item.id"), "Es obligatorio: el id o SKU del producto");
    }
    let quantity = match item.get("quantity").and_then(Value::as_i64) {
        Some(q) if (1..=MAX_QUANTITY).contains(&q) => Some(q),
        _ => {
            p.add(format!("{path}.quantity"), format!("Debe ser un entero entre 1 y {MAX_QUANTITY}"));
            None
        }
    };
    let id = p.text(item.get("id"), &format!("{path}.id"), 100);
    Some(DraftLine { id, item_id: item_id?, quantity: quantity? })
}

fn buyer(p: &mut Problems, value: &Value) -> Buyer {
    let mut buyer = Buyer {
        first_name: p.text(value.get("first_name"), "$.buyer.first_name", 100),
        last_name: p.text(value.get("last_name"), "$.buyer.last_name", 100),
        email: p.text(value.get("email"), "$.buyer.email", 254).map(|e| e.to_lowercase()),
        phone_number: p.text(value.get("phone_number"), "$.buyer.phone_number", 30),
        consent: match value.get("consent") {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) if c.len() <= 20 && c.iter().all(|(k, v)| k.len() <= 50 && v.is_boolean()) => Some(c.clone()),
            Some(_) => {
                p.add("$.buyer.consent", "Debe ser un objeto de hasta 20 valores true o false");
                None
            }
        },
    };
    // Some agents send one full name.
    if buyer.first_name.is_none()
        && let Some(full) = p.text(value.get("full_name").or(value.get("fullName")).or(value.get("name")), "$.buyer.full_name", 200)
    {
        let (first, last) = full.split_once(' ').unwrap_or((&full, ""));
        buyer.first_name = Some(first.to_string());
        buyer.last_name = (!last.trim().is_empty()).then(|| last.trim().to_string());
    }
    if buyer.email.as_deref().is_some_and(|e| !e.contains('@') || e.contains(char::is_whitespace)) {
        p.add("$.buyer.email", "No es un email válido");
    }
    buyer
}

/// What the first fulfillment method says: its destination, chosen option and the agent's ids.
#[derive(Default)]
struct Fulfillment {
    destination: Option<Address>,
    option: Option<String>,
    method_id: Option<String>,
    group_id: Option<String>,
}

fn fulfillment(p: &mut Problems, value: Option<&Value>) -> Fulfillment {
    let Some(method) = value.and_then(|f| f.pointer("/methods/0")) else { return Fulfillment::default() };
    let path = "$.fulfillment.methods[0]";
    let chosen = method.get("selected_destination_id").and_then(Value::as_str);
    let destinations = method.get("destinations").and_then(Value::as_array).cloned().unwrap_or_default();
    let destination = chosen
        .and_then(|id| destinations.iter().find(|d| d.get("id").and_then(Value::as_str) == Some(id)))
        .or(destinations.first())
        .and_then(|d| address(p, d));
    Fulfillment {
        destination,
        option: p.text(method.pointer("/groups/0/selected_option_id"), &format!("{path}.groups[0].selected_option_id"), 100),
        // A method without a destination yet is answered back, empty.
        method_id: Some(p.text(method.get("id"), &format!("{path}.id"), 100).unwrap_or_else(|| "method_1".into())),
        group_id: p.text(method.pointer("/groups/0/id"), &format!("{path}.groups[0].id"), 100),
    }
}

fn address(p: &mut Problems, value: &Value) -> Option<Address> {
    let path = "$.fulfillment.methods[0].destinations[0]";
    let field = |p: &mut Problems, names: &[&str], max: usize| {
        let found = names.iter().find_map(|n| value.get(*n).filter(|v| !v.is_null()));
        p.text(found, &format!("{path}.{}", names[0]), max)
    };
    let country = field(p, &["address_country"], 2).map(|c| c.to_uppercase());
    if country.as_deref().is_some_and(|c| c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic())) {
        p.add(format!("{path}.address_country"), "Debe ser un código de país ISO de dos letras");
    }
    Some(Address {
        id: field(p, &["id"], 100),
        street_address: field(p, &["street_address"], 200),
        extended_address: field(p, &["extended_address"], 200),
        address_locality: field(p, &["address_locality", "locality"], 100),
        address_region: field(p, &["address_region", "region"], 100),
        postal_code: field(p, &["postal_code"], 20),
        address_country: country,
        first_name: field(p, &["first_name", "full_name"], 100),
        last_name: field(p, &["last_name"], 100),
        phone_number: field(p, &["phone_number"], 30),
    })
}

/// The instrument a complete request pays with: the selected one, else the first.
pub fn instrument_of(body: &Value) -> Result<Instrument, UcpError> {
    let instruments = body.pointer("/payment/instruments").and_then(Value::as_array).cloned().unwrap_or_default();
    let chosen = instruments.iter().find(|i| i.get("selected") == Some(&Value::Bool(true))).or(instruments.first());
    let handler_id = chosen
        .and_then(|i| i.get("handler_id"))
        .and_then(Value::as_str)
        .filter(|h| h.len() <= 100)
        .ok_or_else(|| UcpError::invalid(vec![("$.payment.instruments".into(), "Falta un medio de pago con handler_id".into())]))?;
    let credential = chosen.and_then(|i| i.get("credential"));
    let text = |name: &str| credential.and_then(|c| c.get(name)).and_then(Value::as_str).filter(|t| t.len() <= 2000).map(str::to_string);
    Ok(Instrument { handler_id: handler_id.to_string(), credential_type: text("type"), token: text("token") })
}

fn message(m: &Message) -> Value {
    let mut out = json!({ "type": m.kind, "code": m.code, "content": m.content, "content_type": "plain" });
    if let Some(path) = &m.path {
        out["path"] = json!(path);
    }
    if let Some(severity) = m.severity {
        out["severity"] = serde_json::to_value(severity).unwrap_or(Value::Null);
    }
    out
}

/// The session as UCP's checkout object.
pub fn view(app: &App, session: &Session, offered: &[PaymentChoice]) -> Value {
    let absolute = |url: &str| if url.starts_with('/') { format!("{}{url}", origin(app)) } else { url.to_string() };
    let line_items: Vec<Value> = session
        .lines
        .iter()
        .map(|l| {
            let mut item = json!({ "id": l.item_id, "title": l.title, "price": l.unit_price });
            if let Some(url) = &l.image_url {
                item["image_url"] = json!(absolute(url));
            }
            let mut totals = vec![json!({ "type": "subtotal", "amount": l.subtotal })];
            if l.discount > 0 {
                totals.push(json!({ "type": "items_discount", "amount": -l.discount }));
            }
            if l.tax > 0 {
                totals.push(json!({ "type": "tax", "amount": l.tax }));
            }
            totals.push(json!({ "type": "total", "amount": l.total }));
            json!({ "id": l.id, "item": item, "quantity": l.quantity, "totals": totals })
        })
        .collect();
    let t = &session.totals;
    let mut totals = vec![json!({ "type": "subtotal", "amount": t.subtotal })];
    if t.discount > 0 {
        totals.push(json!({ "type": "discount", "amount": -t.discount }));
    }
    if let Some(option) = session.selected_option.as_ref().and_then(|id| session.options.iter().find(|o| &o.id == id)) {
        totals.push(json!({ "type": "fulfillment", "display_text": option.title, "amount": t.fulfillment }));
    }
    if t.tax > 0 {
        totals.push(json!({ "type": "tax", "amount": t.tax }));
    }
    totals.push(json!({ "type": "total", "amount": t.total }));
    let mut out = json!({
        "ucp": { "version": VERSION, "status": "success", "capabilities": negotiated(), "payment_handlers": payment_handlers(app, offered) },
        "id": session.id,
        "status": session.status.as_str(),
        "currency": session.currency,
        "line_items": line_items,
        "totals": totals,
        "messages": session.messages.iter().map(message).collect::<Vec<_>>(),
        "links": [],
        "payment": { "instruments": [] },
        "expires_at": session.expires_at,
    });
    if let Some(buyer) = &session.buyer {
        out["buyer"] = without_nulls(serde_json::to_value(buyer).unwrap_or_default());
    }
    if let Some(context) = &session.context {
        out["context"] = context.clone();
    }
    if let Some(destination) = &session.destination {
        let line_ids: Vec<&str> = session.lines.iter().map(|l| l.id.as_str()).collect();
        let destination_id = destination.id.clone().unwrap_or_else(|| "dest_1".into());
        let mut place = address_json(destination);
        place["id"] = json!(destination_id);
        let options: Vec<Value> = session
            .options
            .iter()
            .map(|o| json!({ "id": o.id, "title": o.title, "description": o.description, "totals": [{ "type": "total", "amount": o.amount }] }))
            .collect();
        out["fulfillment"] = json!({ "methods": [{
            "id": session.method_id.as_deref().unwrap_or("method_1"), "type": "shipping", "line_item_ids": line_ids,
            "destinations": [place], "selected_destination_id": destination_id,
            "groups": [{ "id": session.group_id.as_deref().unwrap_or("group_1"), "line_item_ids": line_ids, "options": without_nulls_in(options),
                         "selected_option_id": session.selected_option }]
        }] });
    } else if let Some(method_id) = &session.method_id {
        let line_ids: Vec<&str> = session.lines.iter().map(|l| l.id.as_str()).collect();
        out["fulfillment"] =
            json!({ "methods": [{ "id": method_id, "type": "shipping", "line_item_ids": line_ids, "destinations": [], "groups": [] }] });
    }
    if !session.discount_codes.is_empty() || session.discount.is_some() {
        let applied: Vec<Value> =
            session.discount.iter().map(|d| json!({ "code": d.code, "title": d.title, "amount": d.amount, "method": "across" })).collect();
        out["discounts"] = json!({ "codes": session.discount_codes, "applied": applied });
    }
    if let Some(url) = &session.continue_url {
        out["continue_url"] = json!(url);
    }
    if let Some(order) =
        session.order.as_ref().filter(|_| session.status == Status::Completed || session.status == Status::RequiresEscalation)
    {
        out["order"] = json!({ "id": order.id, "label": order.number, "permalink_url": super::order::permalink(app, &order.id) });
    }
    out
}

/// A postal address in UCP's names, without absent members.
pub fn address_json(address: &Address) -> Value {
    without_nulls(serde_json::to_value(address).unwrap_or_default())
}

fn without_nulls_in(values: Vec<Value>) -> Vec<Value> {
    values.into_iter().map(without_nulls).collect()
}

fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect::<Map<_, _>>()),
        other => other,
    }
}

/// How a refused operation reads in UCP: a business outcome (200 with messages) or a protocol error.
pub fn refusal(error: CheckoutError) -> UcpError {
    let unrecoverable =
        |code: &str, content: String| json!({ "type": "error", "code": code, "content": content, "severity": "unrecoverable" });
    match error {
        CheckoutError::UnknownSession => {
            UcpError::messages(StatusCode::OK, vec![unrecoverable("not_found", "No existe esa sesión de compra en esta tienda".into())])
        }
        CheckoutError::NothingToSell(messages) => UcpError::messages(StatusCode::OK, messages.iter().map(message).collect()),
        CheckoutError::Final(status) => UcpError::messages(
            StatusCode::CONFLICT,
            vec![unrecoverable("invalid_state", format!("La sesión está {status}: no admite este cambio"))],
        ),
        CheckoutError::NotReady(session) => UcpError::messages(StatusCode::BAD_REQUEST, session.messages.iter().map(message).collect()),
        CheckoutError::MissingCredential(handler) => UcpError::invalid(vec![(
            "$.payment.instruments[0].credential.token".into(),
            format!("El medio de pago {handler} necesita una credencial token"),
        )]),
        CheckoutError::PaymentDeclined => UcpError::messages(
            StatusCode::PAYMENT_REQUIRED,
            vec![unrecoverable("payment_declined", "El medio de pago fue rechazado; probá con otro".into())],
        ),
        CheckoutError::UnknownHandler(handler) => UcpError::invalid(vec![(
            "$.payment.instruments[0].handler_id".into(),
            format!("Esta tienda no ofrece el medio de pago {handler}"),
        )]),
        other => {
            let api = match other {
                CheckoutError::Order(e) => ApiError::from(e),
                CheckoutError::Payment(e) => ApiError::from(e),
                CheckoutError::Database(e) => ApiError::from(e),
                _ => ApiError::internal("unexpected checkout error"),
            };
            let code = if api.status == StatusCode::BAD_GATEWAY { "payment_failed" } else { api.code };
            UcpError::messages(api.status, vec![unrecoverable(code, api.message)])
        }
    }
}
