//! `feria mcp --store <slug>`: the MCP server on stdin/stdout for a desktop host, acting as
//! the API key in `FERIA_API_KEY` (the store's scopes) or as an anonymous shopper without one.

use anyhow::Context;
use rmcp::ServiceExt;

use super::server::FeriaMcp;
use super::tools::Ctx;
use crate::app::AppState;
use crate::services::catalog::stores;
use crate::services::identity::api_keys;

/// Serves one host over stdio until it closes stdin.
pub async fn serve(app: AppState, slug: &str, api_key: Option<&str>) -> anyhow::Result<()> {
    let store = stores::find_by_slug(&mut *app.db.reader().acquire().await?, slug)
        .await?
        .filter(|s| s.is_active)
        .with_context(|| format!("no active store with slug '{slug}'"))?;
    let caller = match api_key {
        None => None,
        Some(key) => Some(api_keys::authenticate(&app, key).await?.context("FERIA_API_KEY is not a valid, unrevoked API key")?),
    };
    let session = feria_domain::ids::new_id();
    let ctx = Ctx::new(app.clone(), std::sync::Arc::new(store), caller, format!("stdio:{session}"), "stdio".into())
        .map_err(|refused| anyhow::anyhow!("{}", refused.message))?;
    let running = FeriaMcp::for_session(ctx).serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}
