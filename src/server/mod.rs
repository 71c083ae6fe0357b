//! The reference identity server (feature `server`): axum on tokio, SQLite
//! through sqlx, id_tokens signed by `jsonwebtoken` through ring, WeChat (and
//! Douyin) over HTTP, and a built-in simulator of both for local use and
//! tests.
//!
//! [`start`] runs it on a listener and hands back its address and a handle
//! to stop it; the `miniauth serve` command and the integration tests both
//! go through it.

pub mod app;
pub mod binding;
pub mod chat;
pub mod client_ip;
pub mod clients;
pub mod clock;
pub mod codes;
pub mod config;
pub mod credentials;
pub mod db;
pub mod error;
pub mod extract;
pub mod guesses;
pub mod handlers;
pub mod keys;
pub mod phone;
pub mod playground;
pub mod profile;
pub mod purge;
pub mod ratelimit;
pub mod ring_provider;
pub mod rotations;
pub mod secrets;
mod serve;
pub mod session_tokens;
pub mod telemetry;
pub mod users;
pub mod wechat;

use crate::verifier::Validation;
use app::{App, AppState, SIMULATED_DOUYIN_PATH, SIMULATED_WECHAT_PATH};
use chat::deliveries::Deliveries;
use client_ip::Proxies;
use clock::Clock;
use codes::{Budgets, NoSender, Outbox, OutboxSender, Sender, SmsCountries, WebhookSender};
use config::Config;
use ratelimit::{Limits, RateLimiter};
use rotations::Rotations;
use session_tokens::{Sessions, Settings};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use telemetry::Metrics;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wechat::{DouyinClient, ProviderConfig, Simulator, WechatClient};

/// The AppID and AppSecret the built-in simulator accepts.
pub const SIMULATOR_APPID: &str = "wx_simulator_appid";
const SIMULATOR_SECRET: &str = "simulator-secret";
/// The Douyin AppID and AppSecret the built-in simulator accepts.
pub const SIMULATOR_DOUYIN_APPID: &str = "tt_simulator_appid";
const SIMULATOR_DOUYIN_SECRET: &str = "simulator-douyin-secret";

/// How often signing keys are reloaded (to pick up a rotation and to drop
/// retired keys whose tokens have all expired).
const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(60);

/// How often rows nothing reads any more are purged ([`purge`]).
const PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// How long a shutdown waits for the metrics listener's connections to end.
const METRICS_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A server [`start`] has started. Dropping it begins a graceful shutdown
/// without waiting for it to end; [`Running::shutdown`] waits.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where it serves `GET /metrics`, when started with `--metrics-listen`.
    pub metrics_addr: Option<SocketAddr>,
    /// Its state, for tests that look inside.
    pub app: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting connections, lets requests in flight finish, and
    /// waits for the server to end.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Serves until `signal` completes, then shuts down as
    /// [`Running::shutdown`] does.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        signal.await;
        self.shutdown().await
    }
}

/// An HTTP client for calls out of the server (WeChat, code delivery):
/// rustls on ring, `timeout` for the whole exchange, no redirects (URLs may
/// carry credentials that must not travel elsewhere).
///
/// On a machine without CA certificates the client can still reach plain
/// `http://` (a simulator) and refuses every HTTPS server, which is the safe
/// failure; if even that cannot be built, the reason is returned for the
/// caller to report per call.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    // reqwest's TLS needs a process-wide crypto provider; the first call
    // installs ring's, later calls find it there.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = || {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3).min(timeout))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("miniauth/", env!("CARGO_PKG_VERSION")))
    };
    builder().build().or_else(|error| {
        tracing::warn!(error = %error.without_url(), "no TLS roots: only plain HTTP will work for outgoing calls");
        builder()
            .tls_certs_only(std::iter::empty())
            .build()
            .map_err(|error| format!("the HTTP client could not be built: {}", error.without_url()))
    })
}

/// Why the server could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// Opens the database, loads or creates the signing keys, binds the
/// listener and starts serving.
pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> Result<Running, StartError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| StartError(format!("{what}: {e}"));
    ring_provider::install();

    let simulated = config.simulator;
    if [&config.wechat_appid, &config.wechat_secret].into_iter().flatten().any(|value| value.trim().is_empty()) {
        return Err(StartError("WECHAT_APPID and WECHAT_SECRET must not be empty".into()));
    }
    if [&config.douyin_appid, &config.douyin_secret].into_iter().flatten().any(|value| value.trim().is_empty()) {
        return Err(StartError("DOUYIN_APPID and DOUYIN_SECRET must not be empty".into()));
    }
    if config.douyin_appid.is_some() != config.douyin_secret.is_some() {
        return Err(StartError("DOUYIN_APPID and DOUYIN_SECRET go together: set both or neither".into()));
    }
    if simulated && config.douyin_appid.is_some() {
        return Err(StartError("--simulator simulates Douyin too; unset DOUYIN_APPID and DOUYIN_SECRET".into()));
    }
    match (simulated, config.wechat_appid.is_some()) {
        (false, false) => {
            return Err(StartError(
                "no WeChat credentials: set WECHAT_APPID and WECHAT_SECRET, or pass --simulator for local use".into(),
            ))
        }
        (true, true) => return Err(StartError("--simulator runs without WeChat credentials; unset them".into())),
        (true, false) if !config.listen.ip().is_loopback() && !config.simulator_public => {
            return Err(StartError(format!(
                "--simulator lets anyone sign in as any user: it listens on loopback only, not {} \
                 (add --simulator-public to override)",
                config.listen
            )))
        }
        (true, false) => tracing::warn!(
            listen = %config.listen,
            "SIMULATOR MODE: WeChat is simulated; anyone who can reach this server can sign in as any user \
             and read every one-time code. Never use it in production."
        ),
        (false, true) => {}
    }
    let db = db::open(&config.database).await.map_err(|e| fail("database", &e))?;
    if simulated {
        // The simulated chat's bot (POST /sim/chat/say); its key is not needed.
        match chat::bots::add(&db.write, handlers::sim_chat::SIMULATED_BOT, clock.now()).await {
            Ok(_) | Err(credentials::CredentialError::NameTaken(_)) => {}
            Err(error) => return Err(fail("the simulated bot", &error)),
        }
    }
    let listener = TcpListener::bind(config.listen).await.map_err(|e| fail("listen", &e))?;
    let addr = listener.local_addr().map_err(|e| fail("listen", &e))?;
    let metrics_listener = match config.metrics_listen {
        Some(address) => Some(TcpListener::bind(address).await.map_err(|e| fail("metrics listen", &e))?),
        None => None,
    };
    let metrics_addr =
        metrics_listener.as_ref().map(TcpListener::local_addr).transpose().map_err(|e| fail("metrics listen", &e))?;
    // Nothing is recorded when nothing can read it.
    let metrics = if metrics_listener.is_some() { Metrics::enabled() } else { Metrics::disabled() };

    users::prepare_dummy_hash();
    if config.playground.is_some() && !simulated {
        return Err(StartError("--playground is for simulator mode only (--simulator)".into()));
    }
    let (appid, wechat_config) = match (&config.wechat_appid, &config.wechat_secret) {
        (Some(appid), Some(secret)) => (
            appid.clone(),
            ProviderConfig { base_url: config.wechat_api.clone(), appid: appid.clone(), secret: secret.clone() },
        ),
        _ => (
            SIMULATOR_APPID.to_string(),
            ProviderConfig {
                base_url: format!("http://{addr}{SIMULATED_WECHAT_PATH}"),
                appid: SIMULATOR_APPID.into(),
                secret: SIMULATOR_SECRET.into(),
            },
        ),
    };
    // Douyin is optional: simulated in simulator mode, else only with its
    // credentials.
    let douyin_config = match (&config.douyin_appid, &config.douyin_secret) {
        (Some(appid), Some(secret)) => {
            Some(ProviderConfig { base_url: config.douyin_api.clone(), appid: appid.clone(), secret: secret.clone() })
        }
        _ if simulated => Some(ProviderConfig {
            base_url: format!("http://{addr}{SIMULATED_DOUYIN_PATH}"),
            appid: SIMULATOR_DOUYIN_APPID.into(),
            secret: SIMULATOR_DOUYIN_SECRET.into(),
        }),
        _ => None,
    };
    // One form of the issuer: discovery URLs are built by appending paths.
    let issuer =
        config.issuer.as_deref().map_or_else(|| format!("http://{addr}"), |i| i.trim_end_matches('/').to_owned());
    let settings = Settings {
        issuer,
        audience: config.audience.clone().unwrap_or_else(|| appid.clone()),
        id_token_ttl_ms: i64::from(config.id_token_ttl) * 1000,
        session_idle_ttl_ms: i64::from(config.session_idle_ttl) * 1000,
        session_absolute_ttl_ms: i64::from(config.session_absolute_ttl) * 1000,
        refresh_grace_ms: i64::from(config.refresh_grace) * 1000,
    };
    let keys = keys::load_or_create(&db.write, config.signing_alg, clock.now(), settings.id_token_ttl_ms)
        .await
        .map_err(|e| fail("signing keys", &e))?;
    let rotation_key =
        secrets::server_secret(&db.write, "refresh", clock.now()).await.map_err(|e| fail("server secrets", &e))?;

    let (outbox, sender, simulator): (Option<Arc<Outbox>>, Arc<dyn Sender>, Option<Simulator>) = if simulated {
        let outbox = Arc::new(Outbox::new());
        let sender = Arc::new(OutboxSender { outbox: outbox.clone(), clock: clock.clone() });
        let simulator = Simulator::new(SIMULATOR_APPID, SIMULATOR_SECRET, clock.clone())
            .with_douyin(SIMULATOR_DOUYIN_APPID, SIMULATOR_DOUYIN_SECRET);
        (Some(outbox), sender, Some(simulator))
    } else {
        let sender: Arc<dyn Sender> = match &config.code_webhook {
            Some(url) => {
                Arc::new(WebhookSender::new(url.clone(), Duration::from_secs(config.code_webhook_timeout.into())))
            }
            None => {
                tracing::warn!("no --code-webhook: SMS and email codes cannot be delivered");
                Arc::new(NoSender)
            }
        };
        (None, sender, None)
    };
    let id_token_ttl_ms = settings.id_token_ttl_ms;
    let validation = serde_json::json!({ "issuer": settings.issuer, "audience": settings.audience });
    let app: AppState = Arc::new(App {
        db: db.clone(),
        clock: clock.clone(),
        appid,
        registration: config.registration.into(),
        state_token_ttl_ms: i64::from(config.state_token_ttl) * 1000,
        id_token_validation: Validation::from_json(validation.to_string().as_bytes())
            .map_err(|e| fail("settings", &e))?,
        sessions: Sessions::new(settings, rotation_key, Rotations::start(db.write.clone()), metrics.clone()),
        wechat: WechatClient::new(wechat_config, clock.clone(), metrics.clone()),
        douyin: douyin_config.map(|config| DouyinClient::new(config, metrics.clone())),
        sender,
        deliveries: Deliveries::default(),
        code_budgets: Budgets {
            per_recipient_per_day: config.codes_per_recipient_per_day,
            per_identity_per_day: config.codes_per_identity_per_day,
            per_minute: config.codes_per_minute,
            per_day: config.codes_per_day,
        },
        sms_countries: SmsCountries::new(&config.sms_countries),
        proxies: Proxies { trusted: config.trusted_proxies.clone(), header: config.proxy_header },
        outbox,
        simulator,
        limits: RateLimiter::new(
            Limits {
                per_ip: config.rate_limit_ip,
                per_ip_refresh: config.rate_limit_ip_refresh,
                per_account: config.rate_limit_account,
            },
            clock.clone(),
        ),
        metrics: metrics.clone(),
        keys: RwLock::new(keys),
    });

    let reloader = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(KEY_RELOAD_INTERVAL);
            tick.tick().await;
            loop {
                tick.tick().await;
                match keys::load(&app.db.read, app.clock.now(), id_token_ttl_ms).await {
                    Ok(keys) => app.set_keys(keys),
                    Err(error) => tracing::error!(%error, "could not reload signing keys"),
                }
            }
        })
    };

    let purger = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PURGE_INTERVAL);
            loop {
                tick.tick().await;
                match purge::run(&app.db.write, app.clock.now()).await {
                    Ok(0) => {}
                    Ok(rows) => tracing::info!(rows, "purged expired rows"),
                    Err(error) => tracing::error!(code = %error.code(), "could not purge expired rows"),
                }
            }
        })
    };

    let (stop, stopped) = oneshot::channel::<()>();
    let mut router = app::router(app.clone(), app::cors(&config.cors_origins));
    if let Some(page) = &config.playground {
        router = router.merge(playground::router(page, &config.playground_pkg));
    }
    // The metrics listener outlives the API's: it still answers while
    // requests in flight finish.
    let metrics_server = match (metrics_listener, metrics.exporter()) {
        (Some(listener), Some(exporter)) => {
            let (stop_metrics, metrics_stopped) = oneshot::channel::<()>();
            let stopped = async {
                let _ = metrics_stopped.await;
            };
            Some((stop_metrics, tokio::spawn(telemetry::serve(listener, exporter, stopped))))
        }
        _ => None,
    };
    let limits = serve::Limits::new(config);
    let task = tokio::spawn(async move {
        serve::run(listener, router, limits, async {
            let _ = stopped.await;
        })
        .await;
        if let Some((stop_metrics, mut server)) = metrics_server {
            let _ = stop_metrics.send(());
            // A scraper that holds its connection open cannot hold up the
            // shutdown for longer than this.
            if tokio::time::timeout(METRICS_SHUTDOWN_GRACE, &mut server).await.is_err() {
                server.abort();
            }
        }
        reloader.abort();
        purger.abort();
        db.close().await;
        Ok(())
    });
    tracing::info!(%addr, simulated, douyin = app.douyin.is_some(), "miniauth server listening");
    if let Some(metrics_addr) = metrics_addr {
        tracing::info!(%metrics_addr, "metrics served at /metrics");
    }
    Ok(Running { addr, metrics_addr, app, stop: Some(stop), task })
}
