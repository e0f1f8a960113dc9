//! What a runner's batch of fan-outs reads, read once for the batch: its events with their stores
//! and orders (and which of the products they took from run low), and per store and kind of event the store's templates, workflow settings and
//! staff, with their preferences and devices. Orders placed at the same moment are fanned out in
//! one batch; each read is a round trip to the database (on SQLite, to its connection's thread),
//! so reading the shop's settings once instead of once per order is most of a fan-out's cost.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use feria_db::AnyConnection;
use feria_domain::notify::{Channel, EventKind};
use serde_json::Value;

use super::content::Subject;
use super::events::{self, Event, NewEvent};
use super::preferences::{self, Preferences};
use super::recipients::{self, Recipient};
use super::store_templates::{self, Overrides};
use super::store_workflows::{self, StepSettings};
use super::workflows::Audience;
use super::{devices, low_stock};
use crate::app::App;
use crate::services::catalog::stores::{self, Store};
use crate::services::orders::{self, Order};

/// A store's settings of an event's workflow steps, by step name.
pub type StoredSteps = HashMap<String, (StepSettings, String)>;

/// Recipients that depend only on the audience, the store and the user the event names.
type RecipientsKey = (Audience, Option<String>, Option<String>);

/// The batch's reads so far.
pub struct Reads {
    events: HashMap<String, Event>,
    stores: HashMap<String, Store>,
    orders: HashMap<String, Order>,
    /// By store: the products the batch's placed orders took from that are low on stock.
    low_stock: HashMap<String, HashMap<String, Value>>,
    overrides: HashMap<(String, EventKind), Arc<Overrides>>,
    steps: HashMap<(String, EventKind), StoredSteps>,
    recipients: HashMap<RecipientsKey, Vec<Recipient>>,
    preferences: HashMap<String, Preferences>,
    devices: HashMap<String, Vec<Channel>>,
}

impl Reads {
    /// Reads the events `ids`, the stores they happened in and the orders they are about.
    pub async fn load(conn: &mut AnyConnection, app: &App, ids: &[&str]) -> Result<Reads, sqlx::Error> {
        let events = events::load_many(conn, app, ids).await?;
        let (mut by_store, mut placed): (HashMap<&str, Vec<&str>>, HashSet<&str>) = Default::default();
        for event in events.values() {
            if let Some(store) = &event.store_id {
                let order = event.data["orderId"].as_str();
                by_store.entry(store).or_default().extend(order);
                placed.extend(order.filter(|_| event.kind == EventKind::OrderPlaced));
            }
        }
        let (mut stores, mut orders, mut low_stock) = (HashMap::new(), HashMap::new(), HashMap::new());
        for (store_id, order_ids) in by_store {
            let Some(store) = stores::find_by_id(conn, store_id).await? else { continue };
            let found = orders::find_many(conn, store_id, &order_ids).await?;
            let taken = found.iter().filter(|o| placed.contains(o.id.as_str())).flat_map(|o| o.lines.iter());
            let mut products: Vec<&str> = taken.map(|l| l.product_id.as_str()).collect();
            products.sort_unstable();
            products.dedup();
            low_stock.insert(store.id.clone(), low_stock::low(conn, store_id, &products).await?);
            orders.extend(found.into_iter().map(|order| (order.id.clone(), order)));
            stores.insert(store.id.clone(), store);
        }
        Ok(Reads {
            events,
            stores,
            orders,
            low_stock,
            overrides: HashMap::new(),
            steps: HashMap::new(),
            recipients: HashMap::new(),
            preferences: HashMap::new(),
            devices: HashMap::new(),
        })
    }

    /// The event `id`, if it was found.
    pub fn event(&self, id: &str) -> Option<&Event> {
        self.events.get(id)
    }

    /// What `event` (one of the batch's) is about.
    pub fn subject(&self, event: &Event) -> Subject {
        let store = event.store_id.as_ref().and_then(|id| self.stores.get(id)).cloned();
        let order = store.as_ref().and_then(|_| event.data["orderId"].as_str()).and_then(|id| self.orders.get(id)).cloned();
        Subject::of(event, store, order)
    }

    /// The `low_stock` events the batch's `order` (of `store_id`) raises.
    pub fn low_stock(&self, store_id: &str, order: &Order) -> Vec<NewEvent> {
        self.low_stock.get(store_id).map(|low| low_stock::raised(store_id, order, low)).unwrap_or_default()
    }

    /// The store's own texts for `kind` (see [`store_templates::overrides`]).
    pub async fn overrides(
        &mut self,
        conn: &mut AnyConnection,
        store_id: Option<&str>,
        kind: EventKind,
    ) -> Result<Arc<Overrides>, sqlx::Error> {
        let Some(store_id) = store_id else { return Ok(Arc::default()) };
        let key = (store_id.to_string(), kind);
        if let Some(found) = self.overrides.get(&key) {
            return Ok(found.clone());
        }
        let found = Arc::new(store_templates::overrides(conn, Some(store_id), kind).await?);
        self.overrides.insert(key, found.clone());
        Ok(found)
    }

    /// The store's settings of `kind`'s steps (see [`store_workflows::of_event`]).
    pub async fn steps(&mut self, conn: &mut AnyConnection, store_id: Option<&str>, kind: EventKind) -> Result<StoredSteps, sqlx::Error> {
        let Some(store_id) = store_id else { return Ok(StoredSteps::new()) };
        let key = (store_id.to_string(), kind);
        if let Some(found) = self.steps.get(&key) {
            return Ok(found.clone());
        }
        let found = store_workflows::of_event(conn, Some(store_id), kind).await?;
        self.steps.insert(key, found.clone());
        Ok(found)
    }

    /// Who `audience` is for an event about `subject` (see [`recipients::resolve`]); the
    /// audiences read from the database are read once per store and user.
    pub async fn recipients(
        &mut self,
        conn: &mut AnyConnection,
        app: &App,
        audience: Audience,
        subject: &Subject,
        store_id: Option<&str>,
    ) -> Result<Vec<Recipient>, sqlx::Error> {
        if !matches!(audience, Audience::Staff | Audience::Account | Audience::Actor) {
            return recipients::resolve(conn, app, audience, subject, store_id).await;
        }
        let key = (audience, store_id.map(str::to_string), subject.user_id.clone());
        if let Some(found) = self.recipients.get(&key) {
            return Ok(found.clone());
        }
        let found = recipients::resolve(conn, app, audience, subject, store_id).await?;
        self.recipients.insert(key, found.clone());
        Ok(found)
    }

    /// The preferences of `users` and the push channels they have devices for.
    pub async fn preferences(
        &mut self,
        conn: &mut AnyConnection,
        users: &[&str],
    ) -> Result<(HashMap<String, Preferences>, HashMap<String, Vec<Channel>>), sqlx::Error> {
        let unread: Vec<&str> = users.iter().copied().filter(|u| !self.preferences.contains_key(*u)).collect();
        if !unread.is_empty() {
            let mut chosen = preferences::of_many(conn, &unread).await?;
            let mut pushes = devices::channels_of(conn, &unread).await?;
            for user in unread {
                self.preferences.insert(user.to_string(), chosen.remove(user).unwrap_or_default());
                self.devices.insert(user.to_string(), pushes.remove(user).unwrap_or_default());
            }
        }
        let pick = |user: &&str| (user.to_string(), self.preferences[*user].clone());
        let chosen = users.iter().map(pick).collect();
        let pushes = users.iter().map(|user| (user.to_string(), self.devices[*user].clone())).collect();
        Ok((chosen, pushes))
    }
}
