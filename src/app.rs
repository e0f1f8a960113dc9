//! The application: configuration, database, limiter, metrics and job plumbing, shared by
//! every request as [`AppState`].

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use feria_db::Db;
use feria_jobs::JobStats;
use tokio::sync::Notify;

use crate::config::{Config, PaymentsConfig};
use crate::crypto::Sealer;
use crate::http::metrics::HttpMetrics;
use crate::http::rate_limit::RateLimiter;
use crate::services::catalog::cache::CatalogCache;
use crate::services::catalog::search::CatalogSearch;
use crate::services::files::FileStore;
use crate::services::health::HealthCache;
use crate::services::identity::api_keys::KeyCache;
use crate::services::identity::{access::AccessCache, passwords::PasswordHasher, tokens::TokenKeys};
use feria_providers::anthropic::Anthropic;
use feria_providers::mercadopago::MercadoPago;
use feria_providers::s3::S3Bucket;
use feria_providers::stripe::Stripe;

/// Everything a request handler may need.
pub struct App {
    pub config: Config,
    pub db: Db,
    pub started: Instant,
    pub tokens: TokenKeys,
    /// Whether users' access tokens still hold (token versions, current roles).
    pub access: AccessCache,
    /// Recently read API keys.
    pub api_keys: KeyCache,
    pub passwords: PasswordHasher,
    pub sealer: Sealer,
    pub files: FileStore,
    /// The payment providers' clients, built once from the configuration.
    pub payment_clients: PaymentClients,
    /// Anthropic's client, when configured.
    pub anthropic: Option<Anthropic>,
    /// Live events for open WebSockets (through Redis when configured).
    pub live: Arc<crate::services::notifications::live::Live>,
    /// Open live WebSockets on this node (capped by `LIVE_MAX_CONNECTIONS`).
    pub live_sockets: std::sync::atomic::AtomicUsize,
    /// The web push sender's key (VAPID), when configured or derived in development.
    pub vapid: Option<feria_providers::webpush::vapid::Vapid>,
    /// The assistant's provider chains and product embeddings, by store.
    pub assistant: crate::services::assistant::AssistantState,
    pub catalog_cache: Arc<CatalogCache>,
    /// The search index; opened by `serve` (workers and CLI commands do without it).
    pub search: std::sync::OnceLock<Arc<CatalogSearch>>,
    pub rate_limiter: RateLimiter,
    /// Redis, when `REDIS_URL` is set (health reports it).
    pub redis: Option<redis::aio::ConnectionManager>,
    pub http_metrics: HttpMetrics,
    pub health: HealthCache,
    /// Agent platforms' profiles as last read (UCP order webhooks).
    pub platforms: crate::ucp::platform::PlatformProfiles,
    pub job_stats: Arc<JobStats>,
    /// Wakes this process's job runner right after an enqueue commits.
    pub job_wake: Arc<Notify>,
    /// The API's routes without their middleware, for the audit log's reads of a resource
    /// before and after a write; built at the first audited write (about 2.5 MB a node that
    /// only sells never spends).
    pub routes: std::sync::OnceLock<axum::Router<AppState>>,
    /// True once migrations have run in this process.
    pub migrated: AtomicBool,
}

/// The clients of the configured payment providers (`None`: not configured).
pub struct PaymentClients {
    pub mercadopago: Option<MercadoPago>,
    pub stripe: Option<Stripe>,
}

impl PaymentClients {
    fn new(config: &PaymentsConfig) -> anyhow::Result<PaymentClients> {
        let timeout = config.provider_timeout;
        Ok(PaymentClients {
            mercadopago: match &config.mercadopago {
                Some(mp) => Some(MercadoPago::new(&mp.api_url, mp.access_token.expose(), timeout)?),
                None => None,
            },
            stripe: match &config.stripe {
                Some(stripe) => Some(Stripe::new(&stripe.api_url, stripe.secret_key.expose(), timeout)?),
                None => None,
            },
        })
    }
}

/// The shared application handle.
pub type AppState = Arc<App>;

impl App {
    /// Whether feria itself answers on a loopback address (`API_URL`; development and tests, never
    /// in production): then documents and webhooks that strangers name may be on loopback too.
    pub fn serves_on_loopback(&self) -> bool {
        if self.config.environment == crate::config::Environment::Production {
            return false;
        }
        let origin = self.config.payments.public_url.trim_end_matches('/');
        ["://127.0.0.1", "://localhost", "://[::1]"].iter().any(|host| {
            origin.split_once(host).is_some_and(|(scheme, rest)| !scheme.contains('/') && (rest.is_empty() || rest.starts_with([':', '/'])))
        })
    }

    /// After a catalog write commits: drops the changed products (`None`: all of them) from this
    /// node's cache and brings its search index up to date before answering, so the writer reads
    /// its own write. Other nodes follow through the change log.
    pub async fn catalog_changed(&self, products: Option<&[String]>) {
        match products {
            Some(ids) => self.catalog_cache.forget(ids),
            None => self.catalog_cache.forget_all_products(),
        }
        let Some(search) = self.search.get() else { return };
        if let Err(e) = search.sync(&self.db, false).await {
            tracing::warn!(error = %e, "search index not updated after a write; the follower will retry");
            search.wake();
        }
    }

    /// After an order took or gave back stock: drops those products from this node's cache, so
    /// a product read shows the new stock at once. The index (stock filters and sorting) follows
    /// at the follower's next poll, in one batch for all the orders of that moment, instead of
    /// one index commit per order.
    pub fn stock_changed(&self, products: &[String]) {
        self.catalog_cache.forget(products);
    }

    /// Connects the database (and Redis when configured). Migrations are not run here.
    pub async fn connect(config: Config) -> anyhow::Result<App> {
        let db = Db::connect(&config.database_url, config.database_max_connections)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", feria_db::redact_url(&config.database_url)))?;
        let redis = match &config.redis_url {
            None => None,
            Some(url) => {
                let client = redis::Client::open(url.as_str())?;
                let manager = redis::aio::ConnectionManager::new(client)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot connect to Redis at {}: {e}", feria_db::redact_url(url)))?;
                Some(manager)
            }
        };
        let rate_limiter = match &redis {
            Some(conn) => RateLimiter::Redis(conn.clone(), config.redis_key_prefix.clone()),
            None => RateLimiter::memory(),
        };
        Ok(App {
            tokens: TokenKeys::new(config.jwt_secret.expose(), config.jwt_expires_in),
            access: AccessCache::default(),
            api_keys: KeyCache::default(),
            passwords: PasswordHasher::new(config.argon2),
            sealer: Sealer::new(config.encryption_key.expose()),
            files: match &config.s3 {
                None => FileStore::Local(config.uploads_dir.clone()),
                Some(s3) => FileStore::Bucket(S3Bucket::new(s3.clone())?),
            },
            payment_clients: PaymentClients::new(&config.payments)?,
            anthropic: match &config.anthropic {
                Some(a) => Some(Anthropic::new(&a.api_url, a.api_key.expose(), std::time::Duration::from_secs(60))?),
                None => None,
            },
            vapid: vapid(&config)?,
            live: Arc::new(crate::services::notifications::live::Live::new(redis.clone(), &config.redis_key_prefix)),
            live_sockets: Default::default(),
            assistant: Default::default(),
            catalog_cache: Arc::default(),
            search: std::sync::OnceLock::new(),
            config,
            db,
            started: Instant::now(),
            rate_limiter,
            redis,
            http_metrics: HttpMetrics::default(),
            health: HealthCache::default(),
            platforms: Default::default(),
            job_stats: Arc::default(),
            job_wake: Arc::default(),
            routes: std::sync::OnceLock::new(),
            migrated: AtomicBool::new(false),
        })
    }
}

/// The web push key: `VAPID_PRIVATE_KEY`; in development without it, one derived from
/// `ENCRYPTION_KEY` (stable while that is); none in production without it.
fn vapid(config: &Config) -> anyhow::Result<Option<feria_providers::webpush::vapid::Vapid>> {
    use feria_providers::webpush::vapid::Vapid;
    let push = &config.notifications.push;
    Ok(match (&push.vapid_private_key, config.environment) {
        (Some(key), _) => Some(Vapid::new(key.expose(), &push.vapid_subject)?),
        (None, crate::config::Environment::Development) => {
            Some(Vapid::derived(config.encryption_key.expose().as_bytes(), &push.vapid_subject)?)
        }
        (None, crate::config::Environment::Production) => None,
    })
}
