//! What a notification says, per event, audience, locale and channel: minijinja templates,
//! shipped in Spanish and English (`templates/notifications/{locale}/{event}.{audience}.jinja`).
//! A file holds one block per part: `title` and `body` (in-app, push), `subject`, `html` and
//! `text` (email), `sms`, `telegram`. The HTML parts (`html`, `telegram`) are rendered with
//! HTML escaping, the others without; an email's `html` goes inside `layout.html`.

use std::sync::LazyLock;

use feria_domain::notify::{Channel, EventKind};
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value, context};

/// Whose wording a notification uses: the buyer's ("tu pedido") or the shop's ("nuevo pedido").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Voice {
    Customer,
    Staff,
}

impl Voice {
    pub fn parse(text: &str) -> Option<Voice> {
        [Voice::Customer, Voice::Staff].into_iter().find(|v| v.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Voice::Customer => "customer",
            Voice::Staff => "staff",
        }
    }
}

/// The locales templates are shipped in; the first is the default.
pub const LOCALES: [&str; 2] = ["es", "en"];

/// `requested` when feria has templates in it, else Spanish.
pub fn locale(requested: Option<&str>) -> &'static str {
    let requested = requested.unwrap_or_default().get(..2).unwrap_or_default().to_ascii_lowercase();
    LOCALES.into_iter().find(|l| *l == requested).unwrap_or(LOCALES[0])
}

/// A channel's message, rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    /// Email subject; push and in-app title.
    pub subject: Option<String>,
    /// Plain text: email's text part, the push or in-app body, the SMS, Telegram's HTML subset.
    pub text: String,
    /// Email's HTML part, in the layout.
    pub html: Option<String>,
}

macro_rules! shipped {
    ($($locale:literal / $name:literal),+ $(,)?) => {
        &[$(($locale, $name, include_str!(concat!("../../../templates/notifications/", $locale, "/", $name, ".jinja")))),+]
    };
}

/// Every shipped template: locale, `{event}.{voice}`, source.
const SHIPPED: &[(&str, &str, &str)] = shipped![
    "es" / "order_placed.customer",
    "es" / "order_placed.staff",
    "es" / "order_paid.staff",
    "es" / "order_status_changed.customer",
    "es" / "order_cancelled.customer",
    "es" / "order_cancelled.staff",
    "es" / "order_refunded.customer",
    "es" / "payment_failed.customer",
    "es" / "password_reset.customer",
    "es" / "announcement.customer",
    "es" / "emergency.customer",
    "es" / "low_stock.staff",
    "es" / "import_finished.staff",
    "es" / "channel_needs_reauth.staff",
    "es" / "system_alert.staff",
    "en" / "order_placed.customer",
    "en" / "order_placed.staff",
    "en" / "order_paid.staff",
    "en" / "order_status_changed.customer",
    "en" / "order_cancelled.customer",
    "en" / "order_cancelled.staff",
    "en" / "order_refunded.customer",
    "en" / "payment_failed.customer",
    "en" / "password_reset.customer",
    "en" / "announcement.customer",
    "en" / "emergency.customer",
    "en" / "low_stock.staff",
    "en" / "import_finished.staff",
    "en" / "channel_needs_reauth.staff",
    "en" / "system_alert.staff",
];

/// Instructions one render may run: the largest shipped email (an order of 100 lines) takes
/// under a tenth of it.
const FUEL: u64 = 200_000;

/// The blocks a channel's text has, and which must be there.
pub fn blocks(channel: Channel) -> &'static [&'static str] {
    match channel {
        Channel::InApp | Channel::Push | Channel::WebPush => &["title", "body"],
        Channel::Email => &["subject", "html", "text"],
        Channel::Sms => &["sms"],
        Channel::Telegram => &["telegram"],
    }
}

/// Every (event, voice, locale) feria ships a text for.
pub fn shipped() -> impl Iterator<Item = (EventKind, Voice, &'static str)> {
    SHIPPED.iter().filter_map(|(locale, name, _)| {
        let (kind, voice) = name.split_once('.')?;
        Some((EventKind::parse(kind)?, Voice::parse(voice)?, *locale))
    })
}

/// The shipped text of `kind` in `voice` and `locale`, when feria ships one.
pub fn shipped_source(kind: EventKind, voice: Voice, locale: &str) -> Option<&'static str> {
    let name = format!("{}.{}", kind.as_str(), voice.as_str());
    SHIPPED.iter().find(|(l, n, _)| *l == locale && *n == name).map(|(_, _, source)| *source)
}

/// Values like the ones an event gives, to try a store's template with: an order with one
/// line, a payment, a reset link, a broadcast.
pub fn sample_values() -> Value {
    context! {
        store => context! { name => "Mi tienda", slug => "mi-tienda" },
        recipient => context! { name => "Ana" },
        order => context! {
            id => "sample", number => "ORD-000123", status => "Enviado", status_code => "SHIPPED", total => "ARS 1.500",
            subtotal => "ARS 1.500", discount => "ARS 0", tax => "ARS 0", shipping => "ARS 0", address => "Gorriti 4500, Palermo, CABA",
            recipient => "Ana", created_at => "2026-12-01T12:00:00Z",
            customer => context! { name => "Ana", email => "ana@example.com", phone => "+54 11 5555-0001" },
            items => vec![context! { name => "Malbec", quantity => 2, price => "ARS 750", total => "ARS 1.500" }],
        },
        payment => context! { amount => "ARS 1.500", provider => "mercadopago" },
        reason => "Sin stock",
        reset => context! { link => "https://example.com/reset-password?token=sample", minutes => 60 },
        broadcast => context! { title => "Cerramos el feriado", body => "Volvemos el martes.", attachments => vec![
            context! { name => "horarios.pdf", url => "https://example.com/uploads/broadcasts/horarios.pdf", content_type => "application/pdf", size => 48213 },
        ] },
        product => context! { id => "sample", name => "Malbec", sku => "MAL-750", stock => 3, threshold => 5 },
        import => context! { id => "sample", done => true, created => 120, updated => 8, errors => 0, failure => () },
        channel => context! { name => "Telegram", provider => "telegram", reason => "El proveedor rechazó las credenciales (401)" },
        alert => context! { severity => "warning", title => "Trabajos fallidos", detail => "El envío de notificaciones falló 10 veces." },
    }
}

/// The shipped templates, each registered twice: `….html` (escaped) and `….txt` (not).
static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    // A store's own template may loop; a render stops after this many instructions.
    env.set_fuel(Some(FUEL));
    for (name, source) in [
        ("layout.html", include_str!("../../../templates/notifications/layout.html")),
        ("_order.html", include_str!("../../../templates/notifications/_order.html")),
        ("_order.txt", include_str!("../../../templates/notifications/_order.txt")),
        ("unsubscribe.html", include_str!("../../../templates/notifications/unsubscribe.html")),
    ] {
        env.add_template(name, source).expect("the notification partials parse");
    }
    // A shipped template is only ever read a block at a time (`render_from`): inside `if false`
    // its blocks are still defined, but evaluating it for its state renders none of them (a
    // staff alert would otherwise render the email and the Telegram text too).
    for (locale, name, source) in SHIPPED {
        for extension in ["html", "txt"] {
            let blocks_only = format!("{{% if false %}}{source}{{% endif %}}");
            env.add_template_owned(format!("{locale}/{name}.{extension}"), blocks_only).expect("the shipped notification templates parse");
        }
    }
    env
});

/// One of the hub's own pages (`unsubscribe.html`) rendered with `values`.
pub fn page(name: &str, values: Value) -> Result<String, minijinja::Error> {
    TEMPLATES.get_template(name)?.render(values)
}

/// Words the shared partials use, per locale.
fn labels(locale: &str) -> Value {
    match locale {
        "en" => context! {
            product => "Product", quantity => "Quantity", price => "Price", total => "Total", subtotal => "Subtotal",
            discount => "Discount", tax => "Tax", shipping => "Shipping", delivery => "Delivery", recipient => "Recipient",
            unsubscribe => "Stop receiving these emails",
        },
        _ => context! {
            product => "Producto", quantity => "Cantidad", price => "Precio", total => "Total", subtotal => "Subtotal",
            discount => "Descuento", tax => "Impuestos", shipping => "Envío", delivery => "Entrega", recipient => "Recibe",
            unsubscribe => "Dejar de recibir estos emails",
        },
    }
}

/// Renders the blocks of the shipped template for `kind` and `voice` in `locale`. `None`: no
/// such template, or the channel has no block in it (the channel is not used for it).
pub fn render(kind: EventKind, voice: Voice, locale: &str, channel: Channel, data: &Value) -> Result<Option<Content>, minijinja::Error> {
    render_from(None, kind, voice, locale, channel, data)
}

/// As [`render`], from `custom` (a store's own text for this channel) when given.
pub fn render_from(
    custom: Option<&str>,
    kind: EventKind,
    voice: Voice,
    locale: &str,
    channel: Channel,
    data: &Value,
) -> Result<Option<Content>, minijinja::Error> {
    let base = format!("{locale}/{}.{}", kind.as_str(), voice.as_str());
    let data = context! { labels => labels(locale), locale => locale, ..data.clone() };
    // The named blocks of the template with `extension`, from one evaluation of it.
    let blocks = |extension: &str, names: &[&str]| -> Result<Vec<Option<String>>, minijinja::Error> {
        let found = match custom {
            Some(source) => TEMPLATES.template_from_named_str(if extension == "html" { "custom.html" } else { "custom.txt" }, source),
            None => TEMPLATES.get_template(&format!("{base}.{extension}")),
        };
        let template = match found {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::TemplateNotFound => return Ok(vec![None; names.len()]),
            Err(e) => return Err(e),
        };
        let mut captured = template.render_captured(&data)?;
        let mut block = |name: &str| match captured.with_state_mut(|state| state.render_block(name)) {
            Ok(text) => Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty())),
            Err(e) if e.kind() == ErrorKind::UnknownBlock => Ok(None),
            Err(e) => Err(e),
        };
        names.iter().map(|name| block(name)).collect()
    };
    let block = |extension: &str, name: &str| Ok::<_, minijinja::Error>(blocks(extension, &[name])?.pop().flatten());
    Ok(match channel {
        Channel::InApp | Channel::Push | Channel::WebPush => match blocks("txt", &["title", "body"])?.as_slice() {
            [Some(title), body] => Some(Content { subject: Some(title.clone()), text: body.clone().unwrap_or_default(), html: None }),
            _ => None,
        },
        Channel::Sms => block("txt", "sms")?.map(|text| Content { text, ..Content::default() }),
        Channel::Telegram => block("html", "telegram")?.map(|text| Content { text, ..Content::default() }),
        Channel::Email => match (blocks("txt", &["subject", "text"])?.as_slice(), block("html", "html")?) {
            ([Some(subject), Some(text)], Some(body)) => {
                let layout = context! { subject => subject, body => Value::from_safe_string(body), ..data.clone() };
                let html = TEMPLATES.get_template("layout.html")?.render(layout)?;
                Some(Content { subject: Some(subject.clone()), text: text.clone(), html: Some(html) })
            }
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Value {
        context! {
            store => context! { name => "La Feria" },
            recipient => context! { name => "Ana <b>" },
            order => context! {
                number => "ORD-000123", total => "ARS 1.500", subtotal => "ARS 1.500", discount => "ARS 0", tax => "ARS 0",
                shipping => "ARS 0", address => "Gorriti 1, Palermo, CABA", recipient => "Ana", status => "Enviado",
                created_at => "2026-12-01T12:00:00Z",
                customer => context! { name => "Ana", email => "ana@x.io" },
                items => vec![context! { name => "Vino <tinto>", quantity => 2, price => "ARS 750", total => "ARS 1.500" }],
            },
        }
    }

    #[test]
    fn every_shipped_template_renders_in_every_locale() {
        for (locale, name, _) in SHIPPED {
            assert!(LOCALES.contains(locale));
            let (kind, voice) = name.split_once('.').unwrap();
            let kind = EventKind::parse(kind).unwrap();
            let voice = if voice == "staff" { Voice::Staff } else { Voice::Customer };
            let data = context! { payment => context! { amount => "ARS 1", provider => "mercadopago" },
                broadcast => context! { title => "Cerramos el feriado", body => "Volvemos el lunes",
                    attachments => vec![context! { name => "horarios.pdf", url => "http://x/horarios.pdf" }] },
            reset => context! { link => "http://x/r?t=1", minutes => 60 }, ..context! { ..order(), ..sample_values() } };
            let email = render(kind, voice, locale, Channel::Email, &data).unwrap().unwrap_or_else(|| panic!("{locale}/{name}: email"));
            assert!(email.html.unwrap().contains("La Feria"));
            assert!(render(kind, voice, locale, Channel::InApp, &data).unwrap().is_some(), "{locale}/{name}: in-app");
        }
    }

    #[test]
    fn every_template_file_is_shipped() {
        for locale in LOCALES {
            let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/notifications").join(locale);
            for file in std::fs::read_dir(folder).unwrap() {
                let name = file.unwrap().file_name().into_string().unwrap();
                let name = name.strip_suffix(".jinja").unwrap();
                assert!(SHIPPED.iter().any(|(l, n, _)| *l == locale && *n == name), "{locale}/{name} is not in SHIPPED");
            }
        }
    }

    #[test]
    fn html_parts_are_escaped_and_text_parts_are_not() {
        let email = render(EventKind::OrderPlaced, Voice::Customer, "es", Channel::Email, &order()).unwrap().unwrap();
        assert!(email.html.as_deref().unwrap().contains("Vino &lt;tinto&gt;") && email.html.as_deref().unwrap().contains("Ana &lt;b&gt;"));
        assert!(email.text.contains("2 × Vino <tinto>: ARS 1.500"), "{}", email.text);
        let shipped = render(EventKind::OrderStatusChanged, Voice::Customer, "en", Channel::Sms, &order()).unwrap().unwrap();
        assert_eq!(shipped.text, "La Feria: your order ORD-000123 is now: Enviado.");
        assert_eq!(render(EventKind::OrderRefunded, Voice::Customer, "es", Channel::Telegram, &order()).unwrap(), None);
        let platform = context! { recipient => context! { name => "Ana" }, reset => context! { link => "http://x/r?t=1", minutes => 60 } };
        let reset = render(EventKind::PasswordReset, Voice::Customer, "es", Channel::Email, &platform).unwrap().unwrap();
        assert!(reset.text.contains("http://x/r?t=1"), "a platform event has no store");
        assert_eq!(locale(Some("en-US")), "en");
        assert_eq!(locale(Some("pt-BR")), "es");
    }
}
