//! The MCP tools: one table that the MCP server, its REST mirror and (later) the assistant
//! read. Each tool declares who may use it, its hints and its input and output types; the
//! schemas come from the same `utoipa` derives as the API's OpenAPI document, so a tool's
//! output has the shape of the matching API answer.

mod cart;
mod catalog;
mod checkout;
mod customers;
mod orders;
mod owner;

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};

use feria_domain::access::Scope;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::error::{ApiError, FieldError, codes};
use crate::services::audit::{self, Actor, Entry};
use crate::services::catalog::stores::Store;
use crate::services::identity::caller::Caller;

/// Who may list and call a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, anonymous callers included: the catalog, a guest's checkout.
    Public,
    /// A signed-in user, for their own things (their cart); not an API key.
    SignedIn,
    /// A caller holding the scope in the store: a member whose role grants it, a key with it.
    Scope(Scope),
}

/// What a tool does, as MCP annotations tell hosts (hints: access is checked regardless).
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
}

/// A read: no side effects, safe to repeat.
pub const READ: Hints = Hints { read_only: true, destructive: false, idempotent: true };

/// Who calls, on which store: what every tool runs with.
#[derive(Clone)]
pub struct Ctx {
    pub app: AppState,
    pub store: Arc<Store>,
    /// `None` for an anonymous caller.
    pub caller: Option<Caller>,
    /// For the audit log: the HTTP request id (or the stdio session's), and the caller's address.
    pub request_id: String,
    pub ip: String,
}

impl Ctx {
    /// The context of a call by `caller` on `store`; a store's API key works only on its store.
    pub fn new(app: AppState, store: Arc<Store>, caller: Option<Caller>, request_id: String, ip: String) -> Result<Ctx, ApiError> {
        if let Some(grant) = caller.as_ref().and_then(|c| c.key.as_ref())
            && grant.store_id != store.id
        {
            return Err(ApiError::new(axum::http::StatusCode::FORBIDDEN, codes::FORBIDDEN, "Esta clave de API es de otra tienda"));
        }
        Ok(Ctx { app, store, caller, request_id, ip })
    }

    /// Whether the caller may use `access` in this store.
    pub fn allows(&self, access: Access) -> bool {
        match access {
            Access::Public => true,
            Access::SignedIn => self.caller.as_ref().is_some_and(|c| c.user_id().is_some()),
            Access::Scope(scope) => self.caller.as_ref().is_some_and(|c| c.may(&self.store.id, scope)),
        }
    }

    /// The caller, who must hold `scope` here (services check again).
    pub fn staff(&self, scope: Scope) -> Result<&Caller, ApiError> {
        match &self.caller {
            Some(caller) if caller.may(&self.store.id, scope) => Ok(caller),
            _ => Err(missing_scope(scope)),
        }
    }

    /// Records a write in the audit log, as the HTTP middleware does for the API's writes (a
    /// failure to record is logged, the write stands).
    /// `action` is named as the API's (`sales.status`); the path names the tool.
    pub async fn audit(&self, tool: &str, action: &str, resource_id: &str, before: Option<Value>, after: Option<Value>) {
        let Some(caller) = &self.caller else { return };
        let actor = Actor::of(caller, Some(&self.store.id));
        let resource = action.split('.').next().unwrap_or(action);
        let path = format!("mcp:tools/call/{tool}");
        let entry = Entry {
            actor: &actor,
            action,
            resource,
            resource_id: Some(resource_id),
            method: "MCP",
            path: &path,
            status: 200,
            before,
            after,
            request_id: &self.request_id,
            ip: &self.ip,
        };
        if let Err(e) = audit::record(&self.app, entry).await {
            tracing::error!(error = %e, tool, "audit entry of an MCP write not recorded");
        }
    }
}

/// The refusal of a tool whose scope the caller does not hold: it names the scope.
pub fn missing_scope(scope: Scope) -> ApiError {
    ApiError {
        details: vec![FieldError::new("scope", scope.as_str())],
        ..ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            codes::INSUFFICIENT_SCOPE,
            format!("Esta herramienta necesita el permiso {}", scope.as_str()),
        )
    }
}

/// One tool: its description, access and types, and what it does.
pub trait Tool: Send + Sync + 'static {
    const NAME: &'static str;
    const TITLE: &'static str;
    const DESCRIPTION: &'static str;
    const ACCESS: Access;
    const HINTS: Hints;
    type Input: DeserializeOwned + ToSchema;
    /// What the answer holds (its schema is the tool's `outputSchema`).
    type Output: ToSchema;

    fn run(ctx: &Ctx, input: Self::Input) -> impl Future<Output = Result<Answer<Self::Output>, ApiError>> + Send;
}

/// A tool's answer: an `O` as JSON, and the text shown with it: the same JSON, or a readable
/// summary for the catalog's pages (what a model reads; every field is in the JSON).
pub struct Answer<O> {
    pub value: Value,
    pub text: Option<String>,
    of: PhantomData<O>,
}

impl<O: Serialize> Answer<O> {
    pub fn of(output: &O) -> Result<Answer<O>, ApiError> {
        Ok(Answer { value: serde_json::to_value(output).map_err(ApiError::internal)?, text: None, of: PhantomData })
    }
}

impl<O> Answer<O> {
    /// An answer from JSON bytes known to hold an `O` (a cached API answer), with a readable
    /// text written from it by `describe` instead of the JSON again.
    pub fn cached(body: &[u8], describe: impl FnOnce(&Value) -> String) -> Result<Answer<O>, ApiError> {
        let value = serde_json::from_slice(body).map_err(ApiError::internal)?;
        let text = describe(&value);
        Ok(Answer { value, text: Some(text), of: PhantomData })
    }

    /// An answer that is already JSON (UCP's objects).
    pub fn json(value: Value) -> Answer<O> {
        Answer { value, text: None, of: PhantomData }
    }

    fn erase(self) -> Answer<()> {
        Answer { value: self.value, text: self.text, of: PhantomData }
    }
}

type ToolFuture<'a> = Pin<Box<dyn Future<Output = Result<Answer<()>, ApiError>> + Send + 'a>>;

/// A tool as the table holds it: described once, called with JSON arguments.
pub struct Listed {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub access: Access,
    pub hints: Hints,
    pub input_schema: Map<String, Value>,
    pub output_schema: Map<String, Value>,
    call: for<'a> fn(&'a Ctx, Value) -> ToolFuture<'a>,
}

impl Listed {
    fn of<T: Tool>() -> Listed {
        Listed {
            name: T::NAME,
            title: T::TITLE,
            description: T::DESCRIPTION,
            access: T::ACCESS,
            hints: T::HINTS,
            input_schema: json_schema::<T::Input>(),
            output_schema: json_schema::<T::Output>(),
            call: |ctx, arguments| {
                Box::pin(async move {
                    let input: T::Input = arguments_of(arguments)?;
                    Ok(T::run(ctx, input).await?.erase())
                })
            },
        }
    }

    /// Runs the tool for `ctx` with `arguments`, refusing a caller without its access.
    pub async fn call(&self, ctx: &Ctx, arguments: Value) -> Result<Answer<()>, ApiError> {
        match self.access {
            _ if ctx.allows(self.access) => {}
            Access::Scope(scope) => return Err(missing_scope(scope)),
            _ => return Err(ApiError::unauthorized(codes::UNAUTHORIZED, "Iniciá sesión para usar esta herramienta")),
        }
        (self.call)(ctx, arguments).await
    }
}

/// Every tool, in the order they are listed.
pub static TOOLS: LazyLock<Vec<Listed>> = LazyLock::new(|| {
    vec![
        Listed::of::<catalog::GetProducts>(),
        Listed::of::<catalog::SearchProductsAdvanced>(),
        Listed::of::<catalog::GetProductDetails>(),
        Listed::of::<checkout::CreateCheckout>(),
        Listed::of::<checkout::GetCheckout>(),
        Listed::of::<checkout::UpdateCheckout>(),
        Listed::of::<checkout::CompleteCheckout>(),
        Listed::of::<checkout::CancelCheckout>(),
        Listed::of::<orders::GetOrderStatus>(),
        Listed::of::<cart::ViewCart>(),
        Listed::of::<cart::AddToCart>(),
        Listed::of::<customers::GetCustomers>(),
        Listed::of::<customers::GetCustomerDetails>(),
        Listed::of::<customers::GetLapsedCustomers>(),
        Listed::of::<orders::GetOrders>(),
        Listed::of::<orders::GetOrderDetails>(),
        Listed::of::<owner::GetBusinessStats>(),
        Listed::of::<owner::SalesSummary>(),
        Listed::of::<owner::LowStockReport>(),
        Listed::of::<orders::UpdateOrderStatus>(),
        Listed::of::<owner::UpdateStock>(),
        Listed::of::<owner::CreateCoupon>(),
        Listed::of::<owner::RefundPayment>(),
    ]
});

/// The tool named `name`.
pub fn find(name: &str) -> Option<&'static Listed> {
    TOOLS.iter().find(|t| t.name == name)
}

/// The tools `ctx`'s caller may use, in table order.
pub fn visible(ctx: &Ctx) -> impl Iterator<Item = &'static Listed> + '_ {
    TOOLS.iter().filter(|t| ctx.allows(t.access))
}

/// Arguments as the tool's input type; a wrong shape is a 422 naming the field (an absent
/// `arguments` reads as `{}`).
fn arguments_of<T: DeserializeOwned>(arguments: Value) -> Result<T, ApiError> {
    let arguments = if arguments.is_null() { Value::Object(Map::new()) } else { arguments };
    serde_path_to_error::deserialize(arguments).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { "arguments".to_string() } else { field };
        ApiError::validation(vec![FieldError::new(field, e.inner().to_string())])
    })
}

/// The JSON Schema (2020-12) of `T`: its OpenAPI schema with the schemas it refers to under
/// `$defs`, the references rewritten to point there.
fn json_schema<T: ToSchema>() -> Map<String, Value> {
    let mut referenced = Vec::new();
    T::schemas(&mut referenced);
    let mut root = match serde_json::to_value(T::schema()) {
        Ok(Value::Object(root)) => root,
        _ => Map::new(),
    };
    if !referenced.is_empty() {
        let defs = referenced.into_iter().filter_map(|(name, schema)| Some((name, serde_json::to_value(schema).ok()?))).collect();
        root.insert("$defs".into(), Value::Object(defs));
    }
    let mut root = Value::Object(root);
    point_refs_at_defs(&mut root);
    match root {
        Value::Object(mut root) => {
            root.entry("type").or_insert_with(|| Value::String("object".into()));
            root
        }
        _ => unreachable!("built as an object"),
    }
}

fn point_refs_at_defs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(target) if key == "$ref" => {
                        if let Some(name) = target.strip_prefix("#/components/schemas/") {
                            *target = format!("#/$defs/{name}");
                        }
                    }
                    _ => point_refs_at_defs(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(point_refs_at_defs),
        _ => {}
    }
}
