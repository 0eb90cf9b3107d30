//! The Tutti server: configuration, database and migrations, sessions and sign-in, the REST API,
//! and the Leptos app (pages and server functions), served by axum.
pub mod annotate_api;
pub mod api;
pub mod audio_api;
pub mod auth;
pub mod claims;
pub mod cleanup;
pub mod cleanup_api;
pub mod cli_dataset;
pub mod config;
pub mod csrf;
pub mod datasets_api;
pub mod extract;
pub mod import;
pub mod jobs_api;
pub mod ranged;
mod refusal;
pub mod scopes;
pub mod security;
pub mod serve;
pub mod session_store;
pub mod stats_api;
pub mod studio_api;
pub mod text_guard;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::{Extension, Router};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::services::ServeDir;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

use app::context::{AppSettings, ServerContext};
use app::{App, shell};

use crate::auth::OAuth;
use crate::config::{Config, Storage};
use crate::session_store::DbSessionStore;
use app::storage::Store;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;

/// What every handler can reach. Axum clones the state for each request (more than once), so it
/// is one `Arc`: the OAuth client and the Leptos options alone are a dozen strings.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

pub struct AppStateInner {
    pub leptos_options: LeptosOptions,
    pub ctx: ServerContext,
    pub oauth: Option<OAuth>,
    pub config: Arc<Config>,
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

pub fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if config.log_json { builder.json().try_init() } else { builder.try_init() };
}

/// Connect and bring the schema up to date. A SQLite file's directory is created if missing.
pub async fn connect(database_url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_with(database_url, None).await
}

/// Like [`connect`], with `pool` connections (default: 10 for PostgreSQL, 4 for SQLite).
pub async fn connect_with(database_url: &str, pool: Option<u32>) -> anyhow::Result<DatabaseConnection> {
    let sqlite = database_url.starts_with("sqlite:");
    if sqlite {
        let path = database_url.trim_start_matches("sqlite:").trim_start_matches("//");
        let path = path.split('?').next().unwrap_or_default();
        if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    let mut options = ConnectOptions::new(database_url.to_string());
    options.sqlx_logging(false);
    if sqlite {
        // One writer at a time in SQLite; a small pool avoids lock contention.
        options.max_connections(4);
    }
    if let Some(n) = pool {
        options.max_connections(n);
    }
    let db = Database::connect(options).await.context("cannot connect to the database (DATABASE_URL)")?;
    if sqlite {
        // WAL lets readers proceed while a write is in progress.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    // Live jobs are left alone: `migrate` and `import` connect here while a server may be running
    // them, and a job whose worker died is taken over by the job queue, not failed here.
    Migrator::up(&db, None).await.context("database migration failed")?;
    Ok(db)
}

/// Open the object store the configuration names. Local directories are created if missing.
pub fn open_store(storage: &Storage) -> anyhow::Result<Store> {
    Ok(match storage {
        Storage::Local(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            Arc::new(LocalFileSystem::new_with_prefix(dir)?)
        }
        Storage::S3 { bucket, prefix } => {
            // Credentials, region and endpoint come from the usual AWS_* variables.
            let s3 = AmazonS3Builder::from_env().with_bucket_name(bucket).build().context("TUTTI_STORAGE: S3 store")?;
            if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix.as_str())) }
        }
    })
}

/// Everything the app's server code needs, built once from the configuration.
pub fn server_context(config: &Config, db: DatabaseConnection, oauth_enabled: bool) -> anyhow::Result<ServerContext> {
    let settings = AppSettings {
        demo_enabled: config.demo && config.bind.ip().is_loopback(),
        oauth_enabled,
        oauth_provider_name: config.oauth.as_ref().map(|o| o.provider_name.clone()).unwrap_or_default(),
        admin_emails: config.admin_emails.clone(),
        max_upload_bytes: config.max_upload_bytes,
        max_audio_seconds: config.max_audio_seconds,
        canonical_rate: config.canonical_rate,
        default_license: config.default_license,
        tmp_dir: config.tmp_dir.clone(),
        lease_seconds: config.lease_seconds,
        public_url: config.public_url.as_str().trim_end_matches('/').to_string(),
    };
    Ok(ServerContext {
        db,
        settings: Arc::new(settings),
        store: open_store(&config.storage)?,
        audio_jobs: Arc::new(tokio::sync::Semaphore::new(config.audio_jobs)),
        write_lock: Arc::new(tokio::sync::Mutex::new(())),
        runtime: Default::default(),
    })
}

/// Build the whole application router around `ctx`, the context the process's background
/// workers share (one database pool, one audio-job limit).
pub fn router(config: Arc<Config>, ctx: ServerContext, addr: SocketAddr) -> anyhow::Result<Router> {
    let oauth = OAuth::from_config(&config)?;
    let leptos_options = LeptosOptions::builder()
        .output_name("tutti")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let state = AppState(Arc::new(AppStateInner {
        leptos_options: leptos_options.clone(),
        ctx: ctx.clone(),
        oauth,
        config: config.clone(),
    }));

    let sessions = SessionManagerLayer::new(DbSessionStore::new(ctx.db.clone()))
        .with_name("tutti_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax) // Lax: the OAuth callback is a cross-site top-level GET
        .with_secure(config.cookies_secure())
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(config.session_idle_minutes)))
        .with_always_save(true); // refresh the inactivity deadline on every request

    let context = {
        let ctx = ctx.clone();
        move || provide_context(ctx.clone())
    };
    let routes = generate_route_list(App);
    let router = Router::new()
        .route("/auth/google/login", get(auth::login))
        .route("/auth/google/callback", get(auth::callback))
        .route("/auth/demo", post(auth::demo))
        .route("/auth/logout", post(auth::logout))
        .route("/healthz", get(|| async { "ok" }))
        .nest("/api/v1", api::router(&config))
        // Server functions live at /api/<name>; any other name is a 404 (not the site's 405).
        .route("/api/{*rest}", axum::routing::any(|| async { app::error::AppError::NotFound }))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        // Site files are served outside Leptos: leptos_axum's file handler builds its reactive
        // owner under whatever owner the worker thread last ran, so a file served while a page
        // rendered on the same thread took that page's response options (its CSP among them)
        // and the page went out without them. Only misses reach Leptos, for the 404 page.
        // A release build precompresses the bundle at brotli's highest level (`.br`, `.gz` beside
        // each file): those are sent as they are, a quarter smaller than compressing on the fly.
        .fallback_service(ServeDir::new(&config.site_root).precompressed_br().precompressed_gzip().fallback(
            axum::handler::Handler::with_state(
                leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell),
                state.clone(),
            ),
        ))
        .with_state(state)
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(Extension(ctx))
        .layer(sessions)
        .layer(axum::middleware::from_fn(text_guard::guard))
        .layer(axum::middleware::from_fn_with_state(Arc::new(csrf::Origins::new(&config.public_url)), csrf::guard));
    let router = security::layer(router, config.cookies_secure()).layer(compression()).layer(
        TraceLayer::new_for_http()
            .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
    );
    Ok(router)
}

/// Server functions answer an error with 500 unless the function set another status, and errors
/// raised before the function runs (arguments that do not parse) cannot set one. Every
/// server-function error therefore gets the status of its `AppError` variant here (400 for bad
/// arguments, 404, 409 …), read back from the JSON the error is sent as.
async fn server_fn_status(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::http::StatusCode;
    let path = req.uri().path();
    let server_fn = path.starts_with("/api/") && !path.starts_with("/api/v1/");
    let res = next.run(req).await;
    if !server_fn || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return axum::response::IntoResponse::into_response(app::error::AppError::Internal);
    };
    if let Ok(e) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        parts.status = e.status_code();
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// gzip or brotli for text, scripts, styles and WebAssembly, as the browser accepts. Audio and
/// other binary bodies pass unchanged: they are already compressed or served by byte range.
fn compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{Predicate, SizeAbove};
    let compressible = |_: axum::http::StatusCode,
                        _: axum::http::Version,
                        headers: &axum::http::HeaderMap,
                        _: &axum::http::Extensions| {
        let kind = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        ["text/", "application/javascript", "application/wasm", "application/json", "image/svg+xml"]
            .iter()
            .any(|prefix| kind.starts_with(prefix))
    };
    tower_http::compression::CompressionLayer::new().compress_when(SizeAbove::new(1024).and(compressible))
}

/// A server running in a background task.
pub struct Running {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    sweeper: JoinHandle<()>,
    jobs: JoinHandle<()>,
}

impl Running {
    /// Graceful shutdown: stop accepting, finish in-flight requests.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.sweeper.abort();
        self.jobs.abort();
        (&mut self.task).await??;
        Ok(())
    }

    /// Wait until the server ends by itself.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        (&mut self.task).await??;
        Ok(())
    }
}

/// Connect, migrate, bind `config.bind` and serve until stopped.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(config.bind).await.with_context(|| format!("cannot bind {}", config.bind))?;
    start_on(listener, config).await
}

/// Like [`start`], on a listener bound by the caller (tests bind port 0 first).
pub async fn start_on(listener: TcpListener, config: Config) -> anyhow::Result<Running> {
    let limits = serve::Limits::from_config(&config);
    let db = connect_with(&config.database_url, config.db_pool).await?;
    let addr = listener.local_addr()?;
    let sweeper = tokio::spawn({
        let store = DbSessionStore::new(db.clone());
        // What killed uploads left behind is swept in the same task, so stopping the server stops
        // both loops (the cleanup sweeps at start-up, then every `cleanup_every_secs`).
        let cleanup = cleanup::run(db.clone(), open_store(&config.storage)?, cleanup::Settings::from_config(&config));
        async move {
            let sessions = async move {
                let mut every_hour = tokio::time::interval(tokio::time::Duration::from_secs(3600));
                loop {
                    every_hour.tick().await;
                    if let Err(e) = store.delete_expired().await {
                        tracing::warn!(error = %e, "could not delete expired sessions");
                    }
                }
            };
            tokio::join!(sessions, cleanup);
        }
    });
    // One context for requests and background jobs: a build's decodes count against the same
    // `TUTTI_AUDIO_JOBS` limit as uploads.
    let ctx = server_context(&config, db, config.oauth.is_some())?;
    // Background jobs (task builds) run in this process's worker, one at a time.
    let jobs = app::jobs::spawn_worker(
        ctx.clone(),
        app::job_handlers(),
        app::jobs::WorkerSettings {
            poll: std::time::Duration::from_millis(config.job_poll_ms),
            stale_after: std::time::Duration::from_secs(config.job_stale_secs),
        },
    );
    let app = router(Arc::new(config), ctx, addr)?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve::serve(listener, app, limits, async move {
        let _ = rx.await;
    }));
    tracing::info!(%addr, "Tutti is listening");
    Ok(Running { addr, shutdown: Some(tx), task, sweeper, jobs })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
