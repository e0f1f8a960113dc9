//! The durable job queue: retries with backoff, dead-letter, and exclusive claiming.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use feria_jobs::{Completion, JobHandler, JobState, Runner, RunnerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_smtp::FakeSmtp;
use crate::harness::{TestApp, expect_status, only_job, wait_for_job};

#[tokio::test]
async fn failed_email_is_retried_until_delivered() {
    let smtp = FakeSmtp::start(2).await;
    let t = TestApp::with(|s| s.extend(smtp.settings())).await;
    t.register("Ana", "ana@example.com", "secreto1").await;
    expect_status(t.post("/api/auth/forgot-password", &json!({"email": "ana@example.com"})).await, StatusCode::OK).await;
    assert_eq!(smtp.wait_for(1).await.len(), 1);
    let job = wait_for_job(&t, "notify_deliver", JobState::Done).await;
    assert_eq!(job.attempts, 3, "two temporary failures, then delivered");
    assert!(job.last_error.is_none(), "cleared on success: {:?}", job.last_error);
}

#[tokio::test]
async fn a_job_that_keeps_failing_goes_dead_and_shows_in_health_and_metrics() {
    let smtp = FakeSmtp::start(1000).await;
    let t = TestApp::with(|s| {
        s.extend(smtp.settings());
        s.insert("JOB_MAX_ATTEMPTS".into(), "3".into());
    })
    .await;
    t.register("Ana", "ana@example.com", "secreto1").await;
    expect_status(t.post("/api/auth/forgot-password", &json!({"email": "ana@example.com"})).await, StatusCode::OK).await;
    let job = wait_for_job(&t, "notify_deliver", JobState::Dead).await;
    assert_eq!(job.attempts, 3);
    assert!(job.last_error.as_deref().unwrap_or("").contains("451"), "{:?}", job.last_error);
    assert!(smtp.messages.lock().await.is_empty());

    let health = expect_status(t.get("/api/health", None).await, StatusCode::OK).await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["services"]["jobs"]["dead"], 1);
    let metrics = t.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("feria_jobs_dead_total 1\n"), "{metrics}");
    assert!(metrics.contains("feria_jobs_failed_total 3\n"), "{metrics}");
    assert!(metrics.contains("feria_jobs_dead 1\n"), "{metrics}");
}

/// Fails every run, recording when it ran.
struct AlwaysFails {
    runs: Arc<Mutex<Vec<std::time::Instant>>>,
}

#[async_trait::async_trait]
impl JobHandler for AlwaysFails {
    fn kind(&self) -> &'static str {
        "always_fails"
    }
    async fn run(&self, _payload: &Value) -> Result<Completion, String> {
        self.runs.lock().unwrap().push(std::time::Instant::now());
        Err("boom".into())
    }
}

fn runner_config(worker: &str, base_ms: u64) -> RunnerConfig {
    RunnerConfig {
        worker_id: worker.into(),
        poll_interval: Duration::from_millis(10),
        batch_size: 5,
        lease: Duration::from_secs(30),
        backoff_base: Duration::from_millis(base_ms),
        backoff_cap: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn retries_back_off_exponentially_then_dead_letter() {
    let t = TestApp::with(|s| {
        s.insert("JOBS_IN_SERVE".into(), "false".into());
    })
    .await;
    let mut tx = t.app.db.begin().await.unwrap();
    feria_jobs::enqueue(&mut tx, "always_fails", &json!({}), 4).await.unwrap();
    tx.commit().await.unwrap();

    let runs = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<dyn JobHandler> = Arc::new(AlwaysFails { runs: runs.clone() });
    let runner = Runner::new(t.app.db.clone(), runner_config("w1", 200), vec![handler], Default::default(), Default::default());

    let before = chrono::Utc::now();
    assert_eq!(runner.run_once().await.unwrap(), 1);
    let job = only_job(&t).await;
    assert_eq!((job.state, job.attempts), (JobState::Queued, 1));
    assert_eq!(job.last_error.as_deref(), Some("boom"));
    let delay = feria_domain::time::from_db(&job.run_at).unwrap() - before;
    assert!(delay >= chrono::TimeDelta::milliseconds(100), "first retry waits half to all of base (100-200 ms): {delay}");
    // Not due yet, unless this slow first step already took longer than the delay.
    let due = feria_domain::time::from_db(&job.run_at).unwrap();
    let claimed = runner.run_once().await.unwrap();
    if chrono::Utc::now() < due {
        assert_eq!(claimed, 0, "not due yet");
    }

    // Run to the end, then look at the gaps between attempts: each roughly doubles.
    for _ in 0..400 {
        runner.run_once().await.unwrap();
        if only_job(&t).await.state == JobState::Dead {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let job = only_job(&t).await;
    assert_eq!((job.state, job.attempts), (JobState::Dead, 4));
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 4);
    let gaps: Vec<Duration> = runs.windows(2).map(|w| w[1] - w[0]).collect();
    // base 200 ms with jitter in [½, 1]: gap n lies in [100·2^(n-1), 200·2^(n-1)] ms plus polling
    // (and, on a loaded machine, scheduling: the upper bound only catches a backoff gone wrong).
    for (n, gap) in gaps.iter().enumerate() {
        let low = Duration::from_millis(100 << n);
        let high = Duration::from_millis((200 << n) + 1000);
        assert!(*gap >= low && *gap <= high, "gap {n} = {gap:?} outside [{low:?}, {high:?}]; all gaps {gaps:?}");
    }
}

/// Counts how often each job ran.
struct Counter {
    seen: Arc<Mutex<HashMap<String, u32>>>,
}

#[async_trait::async_trait]
impl JobHandler for Counter {
    fn kind(&self) -> &'static str {
        "count"
    }
    async fn run(&self, payload: &Value) -> Result<Completion, String> {
        tokio::time::sleep(Duration::from_millis(2)).await;
        *self.seen.lock().unwrap().entry(payload["n"].to_string()).or_default() += 1;
        Ok(Completion::Done)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_never_run_the_same_job_twice() {
    let t = TestApp::with(|s| {
        s.insert("JOBS_IN_SERVE".into(), "false".into());
    })
    .await;
    const JOBS: usize = 150;
    let mut tx = t.app.db.begin().await.unwrap();
    for n in 0..JOBS {
        feria_jobs::enqueue(&mut tx, "count", &json!({"n": n}), 3).await.unwrap();
    }
    tx.commit().await.unwrap();

    let seen = Arc::new(Mutex::new(HashMap::new()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for worker in ["runner-a", "runner-b"] {
        // Each runner has its own connections, as two processes would.
        let db = feria_db::Db::connect(&t.db.url, 3).await.unwrap();
        let handler: Arc<dyn JobHandler> = Arc::new(Counter { seen: seen.clone() });
        let runner = Runner::new(db, runner_config(worker, 10), vec![handler], Default::default(), Default::default());
        tasks.push(tokio::spawn(runner.run(stopped.clone())));
    }
    for _ in 0..600 {
        let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'").fetch_one(t.app.db.reader()).await.unwrap();
        if done as usize == JOBS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), JOBS, "every job ran");
    assert!(seen.values().all(|n| *n == 1), "a job ran twice: {:?}", seen.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>());
}

#[tokio::test]
async fn admins_see_dead_jobs_and_retry_them() {
    let smtp = FakeSmtp::start(1).await;
    let t = TestApp::with(|s| {
        s.extend(smtp.settings());
        s.insert("JOB_MAX_ATTEMPTS".into(), "1".into());
    })
    .await;
    let admin = t.admin_token().await;
    let user = t.register("Ana", "ana@example.com", "secreto1").await;
    expect_status(t.post("/api/auth/forgot-password", &json!({"email": "ana@example.com"})).await, StatusCode::OK).await;
    let dead = wait_for_job(&t, "notify_deliver", JobState::Dead).await;
    // The admin is alerted of it (a fan-out and an email of its own).
    crate::harness::wait_for_jobs_idle(&t).await;

    let page = expect_status(t.get("/api/admin/jobs?state=dead", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(page["total"], 1);
    let job = &page["jobs"][0];
    assert_eq!(
        (job["id"].as_str(), job["kind"].as_str(), job["state"].as_str()),
        (Some(dead.id.as_str()), Some("notify_deliver"), Some("dead"))
    );
    assert_eq!((job["attempts"].as_i64(), job["maxAttempts"].as_i64()), (Some(1), Some(1)));
    assert!(job["lastError"].as_str().unwrap().contains("451"));
    assert!(job.get("payload").is_none(), "payloads stay private");
    let none = expect_status(t.get("/api/admin/jobs?state=queued", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(none["total"], 0);
    let all = expect_status(t.get("/api/admin/jobs", Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(all["total"], 4, "the fan-out and the delivery, then the alert's");
    crate::harness::expect_error(
        t.get("/api/admin/jobs?state=lost", Some(&admin)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    crate::harness::expect_error(t.get("/api/admin/jobs", user["token"].as_str()).await, StatusCode::FORBIDDEN, "forbidden").await;

    let alerts = smtp.messages.lock().await.len();
    assert_eq!(alerts, 1, "the admin's alert went by email");
    let path = format!("/api/admin/jobs/{}/retry", dead.id);
    let retried = expect_status(t.request(reqwest::Method::POST, &path, None, Some(&admin)).await, StatusCode::OK).await;
    assert_eq!(retried["job"]["state"], "queued");
    assert_eq!(retried["job"]["attempts"], 0);
    let sent = smtp.wait_for(2).await;
    assert_eq!(sent[1].to, ["ana@example.com"], "delivered on the retry");
    crate::harness::wait_for_jobs_idle(&t).await;
    let status: String = sqlx::query_scalar("SELECT status FROM notification_messages WHERE address = 'ana@example.com'")
        .fetch_one(t.app.db.reader())
        .await
        .unwrap();
    assert_eq!(status, "sent");
    let again = t.request(reqwest::Method::POST, &path, None, Some(&admin)).await;
    crate::harness::expect_error(again, StatusCode::NOT_FOUND, "not_found").await;
}
