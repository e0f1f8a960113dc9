//! The `feria` command line: `serve` (default), `worker`, `migrate`, `seed`, `user create`, `config check`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use feria::config::{Config, Environment, Loaded, read_settings};
use feria::server;
use feria::services::catalog::demo;
use feria_domain::roles::Role;

/// jemalloc instead of glibc's malloc: glibc keeps an arena per thread (tokio workers, SQLite
/// connections, tantivy's indexing and merge threads) and hands little back, so a node that had
/// just indexed 10,000 products sat at 3–4× its 43 MB of live memory. jemalloc returns freed
/// pages after a second from one background thread.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at start-up (the form tikv-jemallocator documents: a NUL-terminated
/// string whose address jemalloc reads).
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static malloc_conf: &[u8] = b"background_thread:true,max_background_threads:1,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[derive(Parser)]
#[command(name = "feria", version, about = "Self-hosted commerce backend for Latin-American merchants")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (and run jobs unless JOBS_IN_SERVE=false). The default.
    Serve {
        /// Load the demo catalog into the default store first (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Run background jobs only.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Migrate and load base data (default store, the admin from ADMIN_EMAIL/ADMIN_PASSWORD).
    Seed {
        /// Also load the demo catalog (200+ products) into the default store (idempotent).
        #[arg(long)]
        demo: bool,
        /// Load the UCP conformance suite's shop (its `test_data/flower_shop` folder) into the
        /// default store, in US dollars (idempotent; use a new database).
        #[arg(long, value_name = "DIR")]
        ucp_flower_shop: Option<std::path::PathBuf>,
    },
    /// Serve MCP on stdin/stdout for a desktop AI host, as the API key in FERIA_API_KEY (or as
    /// an anonymous shopper without one).
    Mcp {
        /// The store's slug.
        #[arg(long, default_value = "default")]
        store: String,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (USER_ROLE, plus ADMIN_ROLE with --admin).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (secrets hidden); exit non-zero listing every problem.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (settings, mut problems) = read_settings(&std::env::current_dir().unwrap_or_default());
    let loaded = Config::from_settings(&settings);
    if let Some(Command::Config { command: ConfigCommand::Check }) = cli.command {
        return config_check(loaded, problems);
    }
    let Loaded { config, warnings } = match loaded {
        Ok(loaded) if problems.is_empty() => loaded,
        Ok(_) => return fail_config(problems),
        Err(more) => {
            problems.extend(more);
            return fail_config(problems);
        }
    };
    init_logging(&config);
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("feria: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve { demo: false }), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("feria: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo } => {
            let address = format!("{}:{}", config.host, config.port);
            let app = server::prepare(config).await?;
            if demo {
                demo::load_into_default_store(&app).await?;
            }
            let listener = tokio::net::TcpListener::bind(&address).await.map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}"))?;
            server::serve(app, listener, server::shutdown_signal()).await
        }
        Command::Worker => {
            let app = server::prepare(config).await?;
            server::work(app, server::shutdown_signal()).await
        }
        Command::Migrate => {
            let app = feria::app::App::connect(config).await?;
            let applied = feria_db::migrations::migrate(&app.db, None).await?;
            println!("{}", if applied.is_empty() { "nothing to migrate".to_string() } else { format!("applied migrations {applied:?}") });
            Ok(())
        }
        Command::Seed { demo, ucp_flower_shop } => {
            let app = server::prepare(config).await?;
            println!("database migrated and base data loaded");
            if demo {
                let report = demo::load_into_default_store(&app).await?;
                println!("demo catalog: {} products created, {} already there", report.created, report.existing);
            }
            if let Some(dir) = ucp_flower_shop {
                let loaded = feria::services::conformance_shop::load(&app, &dir).await?;
                println!("flower shop: {} products, {} coupons, {} shipping rates created", loaded.products, loaded.coupons, loaded.rates);
                for skipped in loaded.skipped {
                    println!("  not loaded: {skipped}");
                }
            }
            Ok(())
        }
        Command::Mcp { store } => {
            let app = server::prepare(config).await?;
            let key = std::env::var("FERIA_API_KEY").ok().filter(|k| !k.trim().is_empty());
            feria::mcp::stdio::serve(app, &store, key.as_deref()).await
        }
        Command::User { command: UserCommand::Create { email, name, password, admin } } => {
            let app = server::prepare(config).await?;
            let roles: &[Role] = if admin { &[Role::Admin, Role::User] } else { &[Role::User] };
            let user = feria::services::identity::provisioning::create_user(&app, &name, &email, &password, roles).await?;
            println!("created user {} <{}> with roles {}", user.id, user.email, user.roles.join(", "));
            Ok(())
        }
        Command::Config { .. } => unreachable!("handled before the runtime starts"),
    }
}

fn config_check(loaded: Result<Loaded, Vec<String>>, mut problems: Vec<String>) -> ExitCode {
    match loaded {
        Ok(Loaded { config, warnings }) => {
            for line in config.summary() {
                println!("{line}");
            }
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
        }
        Err(more) => problems.extend(more),
    }
    if problems.is_empty() {
        println!("configuration OK");
        ExitCode::SUCCESS
    } else {
        fail_config(problems)
    }
}

fn fail_config(problems: Vec<String>) -> ExitCode {
    eprintln!("feria: the configuration has {} problem(s):", problems.len());
    for problem in problems {
        eprintln!("  - {problem}");
    }
    ExitCode::from(2)
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if config.environment == Environment::Production {
        builder.json().init();
    } else {
        builder.init();
    }
}
