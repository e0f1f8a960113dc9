//! Starting and stopping feria: open and migrate the database, provision, serve HTTP and run
//! jobs, then shut down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::{App, AppState};
use crate::config::Config;
use crate::services::catalog::search::CatalogSearch;
use crate::services::identity::provisioning;
use crate::services::sweeps;

/// Connects, runs pending migrations and creates the configured admin.
pub async fn prepare(config: Config) -> anyhow::Result<AppState> {
    let app = App::connect(config).await?;
    let applied = feria_db::migrations::migrate(&app.db, None).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "database migrated");
    }
    crate::services::catalog::stores::ensure_default(&mut *app.db.writer().acquire().await?).await?;
    crate::services::store_defaults::seed_missing(&app.db).await?;
    app.migrated.store(true, Ordering::Release);
    provisioning::ensure_configured_admin(&app).await?;
    Ok(Arc::new(app))
}

/// A name for this process's job runner.
pub fn worker_id(role: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    format!("{role}-{host}-{}-{}", std::process::id(), &feria_domain::ids::new_id()[24..])
}

/// Serves HTTP on `listener`, keeps the search index following the catalog, and runs jobs and
/// the sweep of unpaid orders (unless `JOBS_IN_SERVE=false`) until `shutdown` resolves; then stops accepting, lets
/// in-flight requests and the job in hand finish, and closes the database.
pub async fn serve(app: AppState, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let (stop, stopping) = watch::channel(false);
    let runner = if app.config.jobs.run_in_serve {
        let runner = crate::jobs::runner(&app, worker_id("serve"))?;
        let sweeper = tokio::spawn(sweeps::run(app.clone(), stopping.clone()));
        Some((tokio::spawn(runner.run(stopping.clone())), sweeper))
    } else {
        None
    };
    let (search, indexed) = CatalogSearch::start(&app.db, app.catalog_cache.clone()).await?;
    tracing::info!(products = indexed, "search index ready");
    let search = Arc::new(search);
    let _ = app.search.set(search.clone());
    let follower = tokio::spawn(search.follow(app.db.clone(), stopping.clone()));
    tracing::info!(address = %listener.local_addr()?, "feria listening");
    let relay = match &app.config.redis_url {
        Some(url) => Some(tokio::spawn(app.live.clone().relay(redis::Client::open(url.as_str())?, stopping.clone()))),
        None => None,
    };
    let router = crate::router::build(app.clone());
    let live = app.live.clone();
    let shutdown = async move {
        shutdown.await;
        live.close_sockets();
    };
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await?;
    let _ = stop.send(true);
    if let Some((runner, sweeper)) = runner {
        let _ = runner.await;
        let _ = sweeper.await;
    }
    let _ = follower.await;
    if let Some(relay) = relay {
        let _ = relay.await;
    }
    app.db.close().await;
    tracing::info!("feria stopped");
    Ok(())
}

/// Runs jobs only (no HTTP) until `shutdown` resolves.
pub async fn work(app: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let runner = tokio::spawn(crate::jobs::runner(&app, worker_id("worker"))?.run(stopped.clone()));
    let sweeper = tokio::spawn(sweeps::run(app.clone(), stopped));
    shutdown.await;
    let _ = stop.send(true);
    let _ = runner.await;
    let _ = sweeper.await;
    app.db.close().await;
    Ok(())
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}
