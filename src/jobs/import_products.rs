//! `import_products`: validates and applies one uploaded product file.

use feria_jobs::{Completion, JobHandler};

use crate::app::AppState;
use crate::services::catalog::import;

pub const KIND: &str = "import_products";

/// Runs product imports.
pub struct ImportProducts {
    pub app: AppState,
}

#[async_trait::async_trait]
impl JobHandler for ImportProducts {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, payload: &serde_json::Value) -> Result<Completion, String> {
        let id = payload["importId"].as_str().ok_or("payload has no importId")?;
        import::run(&self.app, id).await.map_err(|e| format!("{e:#}"))?;
        Ok(Completion::Done)
    }
}
