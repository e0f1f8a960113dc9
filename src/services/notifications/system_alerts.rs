//! System alerts for the platform's admins: a job that ran out of attempts (once an hour per
//! kind of job, however many die).

use feria_domain::notify::EventKind;
use feria_domain::time;
use feria_jobs::{DeadJobHook, JobRow};
use serde_json::json;

use super::events::{self, NewEvent};
use crate::app::AppState;

/// The longest error text an alert quotes.
const MAX_DETAIL: usize = 300;

/// Alerts the admins when a job dies.
pub struct DeadJobAlert {
    pub app: AppState,
}

#[async_trait::async_trait]
impl DeadJobHook for DeadJobAlert {
    async fn dead(&self, job: &JobRow, error: &str) {
        let hour = time::to_db(time::now()).get(..13).unwrap_or_default().to_string();
        let error: String = error.chars().take(MAX_DETAIL).collect();
        let alert = json!({
            "severity": "warning",
            "title": format!("Un trabajo «{}» se dio por perdido", job.kind),
            "detail": format!("Falló {} veces; el último error: {error}. Se puede reintentar desde /api/admin/jobs.", job.attempts),
        });
        let event = NewEvent {
            store_id: None,
            kind: EventKind::SystemAlert,
            dedupe_key: format!("job_dead:{}:{hour}", job.kind),
            data: json!({"alert": alert}),
            secret: false,
            fan_out_at: None,
        };
        let emitted = async {
            let mut tx = self.app.db.begin().await?;
            let queued = events::emit(&mut tx, &self.app, event).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(queued)
        };
        match emitted.await {
            Ok(true) => self.app.job_wake.notify_one(),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "could not record the alert of a dead job"),
        }
    }
}
