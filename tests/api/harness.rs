//! Starts feria on an ephemeral port with a fresh database and talks to it over HTTP.
//!
//! The database is a new SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL`
//! is set (dropped again when the test ends).

use std::net::SocketAddr;

use feria::app::AppState;
use feria::config::{Config, Settings};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The JWT secret every test app uses, so tests can forge tokens.
pub const JWT_SECRET: &str = "test-jwt-secret-that-is-long-enough-0123456789";

/// A fresh database for one test, and a folder for the files of the node using it.
pub struct TestDb {
    pub url: String,
    postgres: Option<(String, String)>,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new() -> TestDb {
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                TestDb { url: format!("sqlite://{}/feria.db", dir.path().display()), postgres: None, dir }
            }
            Some(admin_url) => {
                use sqlx::Connection;
                sqlx::any::install_default_drivers();
                let name = format!("feria_test_{}", uuid::Uuid::now_v7().simple());
                let mut conn =
                    sqlx::AnyConnection::connect(&admin_url).await.unwrap_or_else(|e| panic!("TEST_DATABASE_URL unreachable: {e}"));
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
                let (base, _) = admin_url.rsplit_once('/').expect("TEST_DATABASE_URL ends with /dbname");
                TestDb { url: format!("{base}/{name}"), postgres: Some((admin_url, name)), dir: tempfile::tempdir().expect("temp dir") }
            }
        }
    }

    /// The same database for a second node (with its own files); only the first drops it.
    pub fn sharing(&self) -> TestDb {
        TestDb { url: self.url.clone(), postgres: None, dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else { return };
        // Drop runs outside async code; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

/// Settings every test starts from: cheap password hashing, fast job polling and retries,
/// generous limits. Tests override what they exercise.
pub fn base_settings(db: &TestDb) -> Settings {
    let mut s = Settings::new();
    for (k, v) in [
        ("DATABASE_URL", db.url.as_str()),
        ("DATABASE_MAX_CONNECTIONS", "4"),
        ("JWT_SECRET", JWT_SECRET),
        ("ENCRYPTION_KEY", "test-encryption-key-that-is-long-enough-0123"),
        ("ARGON2_MEMORY_KIB", "1024"),
        ("ARGON2_ITERATIONS", "1"),
        ("JOB_POLL_INTERVAL_MS", "50"),
        ("JOB_BACKOFF_BASE_MS", "20"),
        ("JOB_BACKOFF_CAP_MS", "200"),
        ("AUTH_RATE_LIMIT_MAX_REQUESTS", "1000"),
        ("ORDER_RATE_LIMIT_MAX_REQUESTS", "1000000"),
        ("FRONTEND_URL", "http://shop.test"),
    ] {
        s.insert(k.to_string(), v.to_string());
    }
    s
}

/// A running feria.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub app: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    pub db: TestDb,
}

impl TestApp {
    /// feria with the base settings.
    pub async fn spawn() -> TestApp {
        TestApp::with(|_| {}).await
    }

    /// feria with the base settings changed by `change`.
    pub async fn with(change: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::new().await;
        let mut settings = base_settings(&db);
        change(&mut settings);
        TestApp::on(db, settings).await
    }

    /// feria on `db` with `settings`; its uploads and import files live in the test's folder.
    pub async fn on(db: TestDb, mut settings: Settings) -> TestApp {
        settings.entry("UPLOADS_DIR".into()).or_insert_with(|| db.dir.path().join("uploads").display().to_string());
        settings.entry("IMPORTS_DIR".into()).or_insert_with(|| db.dir.path().join("imports").display().to_string());
        let config = Config::from_settings(&settings).unwrap_or_else(|p| panic!("test settings invalid: {p:?}")).config;
        let app = feria::server::prepare(config).await.expect("feria starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(feria::server::serve(app.clone(), listener, async move {
            let _ = rx.await;
        }));
        TestApp { base: format!("http://{addr}"), client: reqwest::Client::new(), app, shutdown: Some(tx), server: Some(server), db }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `body` as JSON (when given) with an optional bearer token.
    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>, token: Option<&str>) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(body);
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, None, token).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path, Some(body), None).await
    }

    /// Registers a user and returns the response body (`{user, token, refreshToken}`).
    pub async fn register(&self, name: &str, email: &str, password: &str) -> Value {
        let res = self.post("/api/auth/register", &serde_json::json!({"name": name, "email": email, "password": password})).await;
        expect_status(res, StatusCode::CREATED).await
    }

    /// Creates an admin directly and logs in; returns the access token.
    pub async fn admin_token(&self) -> String {
        use feria_domain::roles::Role;
        feria::services::identity::provisioning::create_user(
            &self.app,
            "Admin",
            "admin@feria.test",
            "admin-pass",
            &[Role::Admin, Role::User],
        )
        .await
        .expect("admin created");
        self.login("admin@feria.test", "admin-pass").await["token"].as_str().expect("token").to_string()
    }

    /// Logs in and returns the body.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let res = self.post("/api/auth/login", &serde_json::json!({"email": email, "password": password})).await;
        expect_status(res, StatusCode::OK).await
    }

    /// Signals shutdown without waiting; returns the server task.
    pub fn begin_shutdown(&mut self) -> JoinHandle<anyhow::Result<()>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.server.take().expect("server running")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts the status and returns the JSON body.
pub async fn expect_status(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Asserts an error envelope with `status` and `code`; returns the body.
pub async fn expect_error(res: Response, status: StatusCode, code: &str) -> Value {
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    let body = expect_status(res, status).await;
    assert_eq!(content_type.as_deref(), Some("application/json"), "error bodies are JSON");
    assert_eq!(body["code"], code, "body: {body}");
    assert!(body["error"].as_str().is_some_and(|m| !m.is_empty()), "a human message: {body}");
    assert!(body["details"].is_array(), "details array: {body}");
    body
}

/// The only job in the database (tests that enqueue exactly one).
pub async fn only_job(t: &TestApp) -> feria_jobs::JobRow {
    let id: String = sqlx::query_scalar("SELECT id FROM jobs").fetch_one(t.app.db.reader()).await.expect("one job");
    feria_jobs::find(&t.app.db, &id).await.expect("query").expect("job exists")
}

/// Waits up to 10 s for the only job to reach `state`.
pub async fn wait_for_state(t: &TestApp, state: feria_jobs::JobState) -> feria_jobs::JobRow {
    for _ in 0..200 {
        let job = only_job(t).await;
        if job.state == state {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job never reached {state:?}: {:?}", only_job(t).await);
}

/// Waits up to 10 s for the only job of `kind` to reach `state`.
pub async fn wait_for_job(t: &TestApp, kind: &str, state: feria_jobs::JobState) -> feria_jobs::JobRow {
    let mut last = None;
    for _ in 0..200 {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM jobs WHERE kind = $1").bind(kind).fetch_optional(t.app.db.reader()).await.unwrap();
        if let Some(id) = id {
            let job = feria_jobs::find(&t.app.db, &id).await.expect("query").expect("job exists");
            if job.state == state {
                return job;
            }
            last = Some(job);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {kind} job reached {state:?}: {last:?}");
}

/// Waits up to 10 s until no job is due or running.
pub async fn wait_for_jobs_idle(t: &TestApp) {
    for _ in 0..200 {
        let now = feria_domain::time::to_db(chrono::Utc::now());
        let busy: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'running' OR (state = 'queued' AND run_at <= $1)")
            .bind(now)
            .fetch_one(t.app.db.reader())
            .await
            .unwrap();
        if busy == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("jobs never went idle");
}
