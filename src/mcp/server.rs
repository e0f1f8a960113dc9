//! The MCP server over the tool table: lists the tools the caller may use and calls them,
//! answering a refusal or a business failure as a tool error the model can read.

use std::sync::Arc;

use rmcp::ErrorData as McpError;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use serde_json::Value;

use super::resources;
use super::tools::{self, Answer, Ctx, Listed};
use crate::http::error::ApiError;

const INSTRUCTIONS: &str = "Herramientas de una tienda feria: catálogo (buscar, listar, ver productos), estado de pedidos del comprador y, con permisos de la tienda, pedidos, clientes, cifras del negocio, stock, cupones y reembolsos. Los importes están en la moneda de la tienda. Los reembolsos y cupones cambian dinero: confirmá con el dueño antes.";

/// The server for one request (HTTP: the caller comes with it) or one stdio session.
#[derive(Clone)]
pub struct FeriaMcp {
    /// The caller of a stdio session; over HTTP each request brings its own.
    session: Option<Arc<Ctx>>,
}

impl FeriaMcp {
    /// A server whose callers come with each HTTP request (see `mcp::http`).
    pub fn over_http() -> FeriaMcp {
        FeriaMcp { session: None }
    }

    /// A server acting for one caller throughout (stdio).
    pub fn for_session(ctx: Ctx) -> FeriaMcp {
        FeriaMcp { session: Some(Arc::new(ctx)) }
    }

    fn ctx<'a>(&'a self, context: &'a RequestContext<RoleServer>) -> Result<&'a Ctx, McpError> {
        let from_request = context.extensions.get::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<Ctx>());
        from_request.or(self.session.as_deref()).ok_or_else(|| McpError::internal_error("no caller for this request", None))
    }
}

/// A tool as MCP lists it.
pub fn describe(tool: &Listed) -> Tool {
    let annotations = ToolAnnotations::with_title(tool.title)
        .read_only(tool.hints.read_only)
        .destructive(tool.hints.destructive)
        .idempotent(tool.hints.idempotent)
        .open_world(false);
    Tool::new(tool.name, tool.description, Arc::new(tool.input_schema.clone()))
        .with_title(tool.title)
        .with_raw_output_schema(Arc::new(tool.output_schema.clone()))
        .with_annotations(annotations)
}

/// A tool's answer: its structured result with the same JSON as text, or a tool error
/// carrying the API's error body (`{error, code, details}`).
pub fn result_of(outcome: Result<Answer<()>, ApiError>) -> CallToolResult {
    match outcome {
        Ok(Answer { value, text: None, .. }) => CallToolResult::structured(value),
        Ok(Answer { value, text: Some(text), .. }) => {
            let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
            result.structured_content = Some(value);
            result
        }
        Err(error) => {
            let body = serde_json::json!({ "error": error.message, "code": error.code, "details": error.details });
            let mut result = CallToolResult::structured_error(body);
            result.content = vec![ContentBlock::text(format!("{} ({})", error.message, error.code))];
            result
        }
    }
}

impl ServerHandler for FeriaMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("feria", env!("CARGO_PKG_VERSION")).with_title("feria"))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let ctx = self.ctx(&context)?;
        Ok(ListToolsResult::with_all_items(tools::visible(ctx).map(describe).collect()))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let ctx = self.ctx(&context)?;
        Ok(ListResourcesResult::with_all_items(resources::listed(ctx).await?))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(resources::templates()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let ctx = self.ctx(&context)?;
        Ok(ReadResourceResponse::Complete(resources::read(ctx, &request.uri).await?))
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        let ctx = self.ctx(&context)?;
        let tool = tools::find(&request.name).ok_or_else(|| McpError::invalid_params("tool not found", None))?;
        let arguments = request.arguments.map(Value::Object).unwrap_or(Value::Null);
        Ok(result_of(tool.call(ctx, arguments).await).into())
    }
}
