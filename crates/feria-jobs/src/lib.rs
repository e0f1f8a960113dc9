//! Durable jobs: side effects written in the caller's transaction and run afterwards.
//!
//! A job is a row in `jobs`. [`enqueue`] inserts it on whatever connection the caller is
//! using (normally its open transaction, so the job exists exactly when the caller's work
//! commits). A [`Runner`] claims due jobs, runs their [`JobHandler`], and on failure
//! reschedules them with exponential backoff and jitter until `max_attempts`, after which the
//! job is `dead` and stays visible. Delivery is at-least-once: handlers must be idempotent.

mod queue;
mod runner;

pub use queue::{
    INSERT_JOB, JobRow, JobState, QueueCounts, backoff_delay, counts, enqueue, enqueue_at, enqueue_many, find, job_select, list, retry_dead,
};
pub use runner::{Completion, DeadJobHook, JobHandler, JobStats, Runner, RunnerConfig};
