//! The loop that claims due jobs and runs their handlers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use feria_db::Db;
use tokio::sync::{Notify, watch};

use crate::queue::{self, Finished, JobRow, JobState};

/// How a handler finished a job without error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// The work was done.
    Done,
    /// Nothing was done on purpose (the reason is recorded), e.g. a provider is not configured.
    Skipped(String),
}

/// Runs jobs of one kind. Must be idempotent: a job may run more than once.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync {
    /// The `kind` this handler runs.
    fn kind(&self) -> &'static str;
    /// Runs one job; an `Err` is recorded and the job retried later.
    async fn run(&self, payload: &serde_json::Value) -> Result<Completion, String>;
    /// Runs the jobs of this kind claimed together (a handler that can share work among them,
    /// such as one write for all, overrides it); one result per payload, in order. By default,
    /// one after another.
    async fn run_many(&self, payloads: &[&serde_json::Value]) -> Vec<Result<Completion, String>> {
        let mut results = Vec::with_capacity(payloads.len());
        for payload in payloads {
            results.push(self.run(payload).await);
        }
        results
    }
}

/// Told when a job runs out of attempts (after it is recorded dead), e.g. to alert someone.
#[async_trait::async_trait]
pub trait DeadJobHook: Send + Sync {
    async fn dead(&self, job: &JobRow, error: &str);
}

/// Settings of a runner.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Name recorded in `locked_by`; unique per runner.
    pub worker_id: String,
    /// Sleep between empty polls (an in-process enqueue wakes the runner earlier).
    pub poll_interval: Duration,
    /// Jobs claimed per poll.
    pub batch_size: i64,
    /// How long a claim lasts; a handler running longer is cut off and its job retried.
    pub lease: Duration,
    /// First retry delay; doubles each attempt.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_cap: Duration,
}

/// Counters of what runners in this process did, for metrics.
#[derive(Debug, Default)]
pub struct JobStats {
    pub processed: AtomicU64,
    pub skipped: AtomicU64,
    pub failed: AtomicU64,
    pub dead: AtomicU64,
}

/// Claims and runs jobs until told to stop.
pub struct Runner {
    db: Db,
    config: RunnerConfig,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
    wake: Arc<Notify>,
    stats: Arc<JobStats>,
    on_dead: Option<Arc<dyn DeadJobHook>>,
}

impl Runner {
    /// A runner over `db` with the given handlers. `wake` lets enqueuers in this process cut a poll short.
    pub fn new(db: Db, config: RunnerConfig, handlers: Vec<Arc<dyn JobHandler>>, wake: Arc<Notify>, stats: Arc<JobStats>) -> Runner {
        let handlers = handlers.into_iter().map(|h| (h.kind(), h)).collect();
        Runner { db, config, handlers, wake, stats, on_dead: None }
    }

    /// The runner, telling `hook` of each job that runs out of attempts.
    pub fn on_dead(self, hook: Arc<dyn DeadJobHook>) -> Runner {
        Runner { on_dead: Some(hook), ..self }
    }

    /// Runs until `shutdown` turns true; the job in hand is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.config.worker_id, "job runner started");
        while !*shutdown.borrow() {
            let worked = match self.run_once().await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::error!(error = %e, "job runner could not claim jobs");
                    false
                }
            };
            if !worked {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = self.wake.notified() => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.config.worker_id, "job runner stopped");
    }

    /// Claims one batch and runs it, the jobs of each kind together; returns how many jobs it
    /// handled. The jobs that finished are marked so together once the batch is done (a crash
    /// before re-runs them: handlers are idempotent).
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        let jobs = queue::claim(&self.db, &self.config.worker_id, self.config.batch_size, self.config.lease).await?;
        let mut kinds: Vec<&str> = jobs.iter().map(|j| j.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let mut finished = Vec::new();
        for kind in kinds {
            let group: Vec<&JobRow> = jobs.iter().filter(|j| j.kind == kind).collect();
            let outcomes = match self.handlers.get(kind) {
                None => group.iter().map(|_| Err(format!("no handler for job kind '{kind}'"))).collect(),
                Some(handler) => {
                    let payloads: Vec<&serde_json::Value> = group.iter().map(|j| &j.payload).collect();
                    match tokio::time::timeout(self.config.lease, handler.run_many(&payloads)).await {
                        Ok(results) => results,
                        Err(_) => group.iter().map(|_| Err(format!("timed out after {:?}", self.config.lease))).collect(),
                    }
                }
            };
            for (job, outcome) in group.into_iter().zip(outcomes) {
                finished.extend(self.settle(job, outcome).await?);
            }
        }
        queue::finish(&self.db, &self.config.worker_id, finished).await?;
        Ok(jobs.len())
    }

    /// Records how `job` went: answers it finished, or `None` when it failed (recorded at once).
    async fn settle(&self, job: &JobRow, outcome: Result<Completion, String>) -> Result<Option<Finished>, sqlx::Error> {
        let worker = &self.config.worker_id;
        match outcome {
            Ok(Completion::Done) => {
                self.stats.processed.fetch_add(1, Ordering::Relaxed);
                Ok(Some(Finished { id: job.id.clone(), state: JobState::Done, note: None }))
            }
            Ok(Completion::Skipped(reason)) => {
                tracing::warn!(job = %job.id, kind = %job.kind, %reason, "job skipped");
                self.stats.skipped.fetch_add(1, Ordering::Relaxed);
                Ok(Some(Finished { id: job.id.clone(), state: JobState::Skipped, note: Some(reason) }))
            }
            Err(error) => {
                let state = queue::fail(&self.db, job, worker, &error, self.config.backoff_base, self.config.backoff_cap).await?;
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                if state == JobState::Dead {
                    self.stats.dead.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(job = %job.id, kind = %job.kind, attempts = job.attempts, %error, "job is dead");
                    if let Some(hook) = &self.on_dead {
                        hook.dead(job, &error).await;
                    }
                } else {
                    tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, %error, "job failed, will retry");
                }
                Ok(None)
            }
        }
    }
}
