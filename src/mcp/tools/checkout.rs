//! A shopper's checkout through an agent: UCP's MCP binding (`create_checkout`, `get_checkout`,
//! `update_checkout`, `complete_checkout`, `cancel_checkout`). Arguments and answers are the
//! REST binding's JSON; a guest buys, whoever calls.

use std::borrow::Cow;

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::{Access, Answer, Ctx, Hints, READ, Tool};
use crate::http::error::{ApiError, ApiResult, codes};
use crate::services::agent_checkout::{self, CheckoutError, PaymentChoice, Session};
use crate::services::idempotency::{self, Claim};
use crate::ucp::{UcpError, checkout};

/// A UCP object (a checkout or an `error_response`), as the protocol's schemas describe it.
pub struct UcpObject;

impl PartialSchema for UcpObject {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("A UCP 2026-04-08 object: a checkout, or an error_response ({ucp: {status: \"error\"}, messages})"))
            .into()
    }
}

impl ToSchema for UcpObject {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("UcpObject")
    }
}

/// `create_checkout`'s arguments.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateArgs {
    /// `{"ucp-agent": {"profile": "<url>"}}` and optionally `idempotency-key`.
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Value>,
    /// The checkout: `line_items` (`[{item: {id}, quantity}]`, the id a product id or SKU),
    /// `buyer` (`first_name`, `last_name`, `email`, `phone_number`), `fulfillment.methods[0].destinations[0]`
    /// (a postal address), `discounts.codes`.
    #[schema(value_type = Object)]
    pub checkout: Value,
}

/// Arguments naming a session.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionArgs {
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Value>,
    /// The session's id (`chk_…`).
    pub id: String,
}

/// Arguments naming a session, with a checkout body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateArgs {
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Value>,
    pub id: String,
    /// For update: the whole writable checkout again. For complete: `payment.instruments`
    /// with the `handler_id` of one of the shop's handlers (`mercadopago`, `stripe` with a
    /// `credential` `{type: "token", token: "pm_…"}`, `cash`, `bank_transfer`).
    #[schema(value_type = Object)]
    pub checkout: Value,
}

/// The session as the REST binding answers it; a refusal that UCP answers with 200 is an
/// answer too, any other one a tool error.
async fn answer(ctx: &Ctx, outcome: Result<Session, CheckoutError>) -> ApiResult<Answer<UcpObject>> {
    match outcome {
        Ok(session) => {
            let offered = PaymentChoice::offered(&ctx.app, &ctx.store).await?;
            Ok(Answer::json(checkout::view(&ctx.app, &session, &offered)))
        }
        Err(refused) => refusal(checkout::refusal(refused)),
    }
}

/// The `meta` of a UCP call: a `ucp-agent.version` other than feria's is refused.
fn check_meta(meta: &Option<Value>) -> ApiResult<()> {
    let version = meta.as_ref().and_then(|m| m.pointer("/ucp-agent/version")).and_then(Value::as_str);
    match version {
        Some(v) => crate::ucp::check_agent(Some(&format!("version=\"{v}\""))).or_else(|refused| refusal(refused).map(|_| ())),
        None => Ok(()),
    }
}

/// Runs `work` once per `meta["idempotency-key"]` (UCP's MCP binding, for complete and cancel):
/// the same `request` under the key gets the first answer again, another one a conflict.
/// Without a key the call simply runs.
async fn once<F, Fut>(ctx: &Ctx, meta: &Option<Value>, request: &[Vec<u8>], work: F) -> ApiResult<Answer<UcpObject>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<Answer<UcpObject>>>,
{
    let key = meta.as_ref().and_then(|m| m.get("idempotency-key")).and_then(Value::as_str).map(str::trim);
    let Some(key) = key.filter(|k| !k.is_empty() && k.len() <= 255) else { return work().await };
    let scope = match &ctx.caller {
        Some(caller) => format!("mcp:{}", caller.id),
        None => format!("mcp:ip:{}", ctx.ip),
    };
    let parts: Vec<&[u8]> = request.iter().map(Vec::as_slice).collect();
    let fingerprint = idempotency::digest(&parts);
    let claimed = idempotency::claim(&mut *ctx.app.db.writer().acquire().await?, &scope, key, &fingerprint).await?;
    match claimed {
        Claim::Run => {
            let answer = work().await;
            let kept = answer.as_ref().ok().map(|a| a.value.to_string());
            let kept = kept.as_deref().map(|body| (200, Some("application/json"), body));
            idempotency::settle(&mut *ctx.app.db.writer().acquire().await?, &scope, key, kept).await?;
            answer
        }
        Claim::Replay { body, .. } => Ok(Answer::json(serde_json::from_str(&body).map_err(ApiError::internal)?)),
        Claim::Mismatch => Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::IDEMPOTENCY_KEY_MISMATCH,
            "Esta idempotency-key ya se usó con otros argumentos; usá una nueva",
        )),
        Claim::InUse => {
            Err(ApiError::conflict(codes::IDEMPOTENCY_KEY_IN_USE, "Una llamada con esta idempotency-key todavía está en curso"))
        }
    }
}

/// The platform profile a call's `meta["ucp-agent"].profile` names.
fn agent_profile(meta: &Option<Value>) -> Option<String> {
    let profile = meta.as_ref()?.pointer("/ucp-agent/profile")?.as_str()?;
    crate::ucp::platform::profile_url(&format!("profile=\"{profile}\""))
}

fn refusal(refused: UcpError) -> ApiResult<Answer<UcpObject>> {
    if refused.status == StatusCode::OK {
        return Ok(Answer::json(refused.body));
    }
    let content =
        refused.body.pointer("/messages/0/content").or(refused.body.get("content")).and_then(Value::as_str).unwrap_or("").to_string();
    let mut error = ApiError::new(refused.status, codes::VALIDATION_FAILED, content);
    if let Some(messages) = refused.body.get("messages").and_then(Value::as_array) {
        for m in messages {
            let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            error.details.push(crate::http::error::FieldError::new(text("path"), text("content")));
        }
    }
    if refused.status == StatusCode::CONFLICT {
        error.code = codes::CONFLICT;
    }
    Err(error)
}

pub struct CreateCheckout;

impl Tool for CreateCheckout {
    const NAME: &'static str = "create_checkout";
    const TITLE: &'static str = "Iniciar una compra";
    const DESCRIPTION: &'static str = "Crea una sesión de compra (UCP) con productos y cantidades; devuelve precios del catálogo, envío, impuestos, total exacto y mensajes con lo que falta (email, dirección). Los precios que mande el agente se ignoran.";
    const ACCESS: Access = Access::Public;
    const HINTS: Hints = Hints { read_only: false, destructive: false, idempotent: false };
    type Input = CreateArgs;
    type Output = UcpObject;

    async fn run(ctx: &Ctx, input: CreateArgs) -> ApiResult<Answer<UcpObject>> {
        check_meta(&input.meta)?;
        let draft = match checkout::draft(&input.checkout, agent_profile(&input.meta)) {
            Ok(draft) => draft,
            Err(refused) => return refusal(refused),
        };
        answer(ctx, agent_checkout::create(&ctx.app, &ctx.store, draft).await).await
    }
}

pub struct GetCheckout;

impl Tool for GetCheckout {
    const NAME: &'static str = "get_checkout";
    const TITLE: &'static str = "Ver una compra";
    const DESCRIPTION: &'static str = "Una sesión de compra por id: estado, líneas, totales, mensajes y, una vez pagada, el pedido.";
    const ACCESS: Access = Access::Public;
    const HINTS: Hints = READ;
    type Input = SessionArgs;
    type Output = UcpObject;

    async fn run(ctx: &Ctx, input: SessionArgs) -> ApiResult<Answer<UcpObject>> {
        check_meta(&input.meta)?;
        answer(ctx, agent_checkout::get(&ctx.app, &ctx.store, &input.id).await).await
    }
}

pub struct UpdateCheckout;

impl Tool for UpdateCheckout {
    const NAME: &'static str = "update_checkout";
    const TITLE: &'static str = "Cambiar una compra";
    const DESCRIPTION: &'static str = "Reemplaza lo pedido en una sesión de compra (se manda todo de nuevo: líneas, comprador, dirección, cupones) y la vuelve a cotizar.";
    const ACCESS: Access = Access::Public;
    const HINTS: Hints = Hints { read_only: false, destructive: false, idempotent: true };
    type Input = UpdateArgs;
    type Output = UcpObject;

    async fn run(ctx: &Ctx, input: UpdateArgs) -> ApiResult<Answer<UcpObject>> {
        check_meta(&input.meta)?;
        let draft = match checkout::draft(&input.checkout, agent_profile(&input.meta)) {
            Ok(draft) => draft,
            Err(refused) => return refusal(refused),
        };
        answer(ctx, agent_checkout::update(&ctx.app, &ctx.store, &input.id, draft).await).await
    }
}

pub struct CompleteCheckout;

impl Tool for CompleteCheckout {
    const NAME: &'static str = "complete_checkout";
    const TITLE: &'static str = "Confirmar una compra";
    const DESCRIPTION: &'static str = "Confirma una sesión lista (ready_for_complete) con un medio de pago de la tienda: crea el pedido y, con Mercado Pago, devuelve en continue_url el enlace donde el comprador paga (nunca pidas datos de tarjeta). Con tarjeta (handler stripe) la credencial es un token con un PaymentMethod de Stripe (pm_…) de la cuenta de la tienda; si se rechaza, el pedido espera y se puede confirmar de nuevo con otra. Con efectivo o transferencia el pedido queda confirmado.";
    const ACCESS: Access = Access::Public;
    const HINTS: Hints = Hints { read_only: false, destructive: false, idempotent: false };
    type Input = UpdateArgs;
    type Output = UcpObject;

    async fn run(ctx: &Ctx, input: UpdateArgs) -> ApiResult<Answer<UcpObject>> {
        check_meta(&input.meta)?;
        let instrument = match checkout::instrument_of(&input.checkout) {
            Ok(instrument) => instrument,
            Err(refused) => return refusal(refused),
        };
        let request = [Self::NAME.as_bytes(), input.id.as_bytes(), input.checkout.to_string().as_bytes()].map(<[u8]>::to_vec);
        once(ctx, &input.meta, &request, || async {
            answer(ctx, agent_checkout::complete(&ctx.app, &ctx.store, &input.id, &instrument).await).await
        })
        .await
    }
}

pub struct CancelCheckout;

impl Tool for CancelCheckout {
    const NAME: &'static str = "cancel_checkout";
    const TITLE: &'static str = "Cancelar una compra";
    const DESCRIPTION: &'static str = "Cancela una sesión de compra que todavía no se confirmó.";
    const ACCESS: Access = Access::Public;
    const HINTS: Hints = Hints { read_only: false, destructive: true, idempotent: true };
    type Input = SessionArgs;
    type Output = UcpObject;

    async fn run(ctx: &Ctx, input: SessionArgs) -> ApiResult<Answer<UcpObject>> {
        check_meta(&input.meta)?;
        let request = [Self::NAME.as_bytes(), input.id.as_bytes()].map(<[u8]>::to_vec);
        once(ctx, &input.meta, &request, || async { answer(ctx, agent_checkout::cancel(&ctx.app, &ctx.store, &input.id).await).await })
            .await
    }
}
