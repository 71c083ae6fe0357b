//! The harness of the server integration tests (`tests/server_*.rs`, each of
//! which says `mod server;`): a real server on an ephemeral loopback port
//! with a temporary SQLite database and a [`ManualClock`] the test moves, an
//! HTTP client that keeps a transcript of every answer, and one helper per
//! step of the flows (mint a WeChat code, log in, register, bind, read the
//! outbox, refresh...). Time is moved with [`TestServer::advance`], never
//! slept.
//!
//! Each test binary compiles its own copy and uses part of it.
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use miniauth::protocol::{ApiErrorCode, BindChallenge, Channel, Tokens};
use miniauth::server::app::AppState;
use miniauth::server::clock::{Clock, ManualClock, SystemClock};
use miniauth::server::config::{Config, Registration};
use miniauth::server::db::{self, Location};
use miniauth::server::keys::{self, SigningAlgorithm};
use miniauth::server::secrets::token_hash;
use miniauth::server::users::{self, MiniProgramIdentity, NewUser};
use miniauth::server::wechat::{Provider, Simulator};
use miniauth::server::{start, Running};
use miniauth::{KeySet, Keys, Validation, Verifier};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The password every user added by [`TestServer::add_user`] gets unless the
/// spec says otherwise.
pub const PASSWORD: &str = "correct horse battery staple";

/// The AppSecret of the built-in simulator (`SIMULATOR_SECRET`, private in
/// `src/server/mod.rs`): repeated here so the tests can look for it in
/// answers and logs.
pub const SIMULATOR_SECRET: &str = "simulator-secret";

/// The simulator's Douyin AppSecret (`SIMULATOR_DOUYIN_SECRET`), likewise.
pub const SIMULATOR_DOUYIN_SECRET: &str = "simulator-douyin-secret";

pub mod chat;

/// `miniauth ARGS --database DATABASE`, as an operator runs it: whether it
/// succeeded, its standard output and its standard error.
pub fn miniauth_command(database: &Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_miniauth"))
        .args(args)
        .arg("--database")
        .arg(database)
        .output()
        .expect("the miniauth binary runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

// ------------------------------------------------------------ temp files

/// A directory under the system's temp dir, unique to this test, removed
/// (with the database and its WAL files) when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_nanos();
        let name = format!("miniauth-{label}-{}-{}-{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn database(&self) -> PathBuf {
        self.0.join("miniauth.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ------------------------------------------------------------ HTTP

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
    /// The body as JSON, or `Null` when it is not JSON (or empty).
    pub json: Value,
}

impl Answer {
    /// The `error` code of an error answer ("" if none).
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }

    /// `Retry-After`, in seconds.
    pub fn retry_after(&self) -> Option<u64> {
        self.headers.get("retry-after")?.to_str().ok()?.parse().ok()
    }

    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected answer: {} {}", self.status, self.body);
        self
    }

    /// Asserts an API error: the status, the code, and the shape
    /// `{"error", "message"}` as JSON.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: ApiErrorCode) -> &Self {
        assert_eq!((self.status, self.error()), (status, code.as_str()), "unexpected answer: {}", self.body);
        assert!(self.content_type().starts_with("application/json"), "{:?}", self.headers);
        let members = self.json.as_object().expect("an error body is an object");
        assert_eq!(members.len(), 2, "{}", self.body);
        assert!(self.json["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", self.body);
        self
    }

    /// The tokens of a `SUCCESS` answer (login or bind), with the exact set
    /// of members the protocol defines.
    #[track_caller]
    pub fn success(&self) -> Tokens {
        self.expect(200);
        assert_eq!(self.json["status"], "SUCCESS", "{}", self.body);
        assert_eq!(keys_of(&self.json), ["expires_in", "id_token", "session_expires_in", "session_token", "status"]);
        serde_json::from_value(self.json.clone()).expect("SUCCESS carries Tokens")
    }

    /// The tokens of a `/v1/session/refresh` answer.
    #[track_caller]
    pub fn refreshed(&self) -> Tokens {
        self.expect(200);
        assert_eq!(keys_of(&self.json), ["expires_in", "id_token", "session_expires_in", "session_token"]);
        serde_json::from_value(self.json.clone()).expect("Tokens")
    }

    /// The challenge of a `SOCIAL_BIND` / `USER_REGISTER` answer, checking
    /// its status.
    #[track_caller]
    pub fn challenge(&self, status: &str) -> BindChallenge {
        self.expect(200);
        assert_eq!(self.json["status"], status, "{}", self.body);
        assert_eq!(keys_of(&self.json), ["expires_in", "flows", "state_token", "status"]);
        serde_json::from_value(self.json.clone()).expect("a BindChallenge")
    }
}

/// The member names of a JSON object, sorted.
pub fn keys_of(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    keys.sort();
    keys
}

/// An HTTP client for one server that records every answer it reads (for
/// the tests that search all answers for a secret).
#[derive(Clone)]
pub struct Http {
    pub client: reqwest::Client,
    pub base: String,
    transcript: Arc<Mutex<Vec<Recorded>>>,
}

/// One answer as the transcript keeps it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// The request's path (and query).
    pub path: String,
    pub status: u16,
    /// `name: value` lines.
    pub headers: String,
    pub body: String,
}

impl Recorded {
    /// Headers and body, with the members that hand out tokens
    /// (`id_token`, `session_token`, `state_token`) taken out of the body:
    /// what is left must carry no secret.
    pub fn scrubbed(&self) -> String {
        let body = match serde_json::from_str::<Value>(&self.body) {
            Ok(Value::Object(mut members)) => {
                for name in ["id_token", "session_token", "state_token"] {
                    members.remove(name);
                }
                Value::Object(members).to_string()
            }
            _ => self.body.clone(),
        };
        format!("{}\n{}", self.headers, body)
    }

    /// Everything, as received.
    pub fn whole(&self) -> String {
        format!("{} {}\n{}\n{}", self.status, self.path, self.headers, self.body)
    }
}

impl Http {
    pub fn new(base: String) -> Self {
        // reqwest is built without a default TLS provider; the server
        // installs ring too, whichever runs first wins.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client =
            reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().expect("an HTTP client");
        Self { client, base, transcript: Arc::default() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request made with [`Http::client`] and reads the answer.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let request = request.build().expect("a well-formed request");
        let method = request.method().to_string();
        let response = self.client.execute(request).await.expect("the server answers");
        let path = match response.url().query() {
            Some(query) => format!("{}?{query}", response.url().path()),
            None => response.url().path().to_string(),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("a readable body");
        let json = serde_json::from_str(&body).unwrap_or(Value::Null);
        let mut lines = String::new();
        for (name, value) in &headers {
            lines.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(value.as_bytes())));
        }
        let record = Recorded { method, path, status, headers: lines, body: body.clone() };
        self.transcript.lock().unwrap().push(record);
        Answer { status, headers, body, json }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(self.url(path))).await
    }

    /// GET with an `Authorization` header as given (`Bearer ...`).
    pub async fn get_authorized(&self, path: &str, authorization: &str) -> Answer {
        self.send(self.client.get(self.url(path)).header("authorization", authorization)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(self.client.post(self.url(path)).json(&body)).await
    }

    /// POST of `body` with `Authorization: Bearer <token>`.
    pub async fn post_bearer(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(self.client.post(self.url(path)).bearer_auth(token).json(&body)).await
    }

    /// PUT of `body` with `Authorization: Bearer <token>`.
    pub async fn put_bearer(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(self.client.put(self.url(path)).bearer_auth(token).json(&body)).await
    }

    /// DELETE with `Authorization: Bearer <token>`.
    pub async fn delete_bearer(&self, path: &str, token: &str) -> Answer {
        self.send(self.client.delete(self.url(path)).bearer_auth(token)).await
    }

    /// POST of raw bytes with the given `Content-Type` (none if `None`).
    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Answer {
        let mut request = self.client.post(self.url(path)).body(body.into());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        self.send(request).await
    }

    /// What is wrong with `value` as the schema `name` of the OpenAPI
    /// document (`components.schemas`), as a client generated from it would
    /// read it.
    pub async fn schema_errors(&self, name: &str, value: &Value) -> Vec<String> {
        let doc: Value = self.client.get(self.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
        let schema = json!({ "$ref": format!("#/components/schemas/{name}"), "components": doc["components"] });
        let validator = jsonschema::validator_for(&schema).expect("the OpenAPI schemas are valid JSON Schema");
        validator.iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect()
    }

    /// `value` is a `name` of the OpenAPI document.
    pub async fn check_schema(&self, name: &str, value: &Value) {
        let errors = self.schema_errors(name, value).await;
        assert!(errors.is_empty(), "{value} is not a {name}: {errors:?}");
    }

    /// Every answer read so far.
    pub fn transcript(&self) -> Vec<Recorded> {
        self.transcript.lock().unwrap().clone()
    }

    /// No answer so far was a 500, and every answer of an operation the
    /// OpenAPI document describes has a status that it lists for that
    /// operation, with a JSON body when it has one.
    pub async fn check_answers(&self) {
        let answers = self.transcript();
        for answer in &answers {
            assert_ne!(answer.status, 500, "a 500: {}", answer.whole());
        }
        let doc: Value = self.client.get(self.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
        for answer in &answers {
            let path = answer.path.split('?').next().unwrap_or_default();
            let Some(operation) = documented_operation(&doc, path, &answer.method) else { continue };
            let documented = &operation["responses"][answer.status.to_string()];
            assert!(
                documented.is_object(),
                "{} {path} answered {}, which its OpenAPI entry does not list",
                answer.method,
                answer.status
            );
            if !answer.body.is_empty() {
                assert!(answer.headers.contains("content-type: application/json"), "{}", answer.whole());
            }
        }
    }
}

/// The OpenAPI operation that serves `method` on `path`: the path's own
/// entry, or the template it fills (`/v1/rooms/{id}` for `/v1/rooms/r1`).
fn documented_operation<'a>(doc: &'a Value, path: &str, method: &str) -> Option<&'a Value> {
    let segments: Vec<&str> = path.split('/').collect();
    let fills = |template: &str| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(part, segment)| part.starts_with('{') || part == segment)
    };
    let paths = doc["paths"].as_object()?;
    let item = paths.get(path).or_else(|| paths.iter().find(|(template, _)| fills(template)).map(|(_, item)| item))?;
    item.get(method.to_lowercase())
}

// ------------------------------------------------------------ the server

/// A user to add directly to the database.
#[derive(Clone, Debug, Default)]
pub struct UserSpec {
    pub username: Option<String>,
    /// Hashed with argon2 when set.
    pub password: Option<String>,
    pub name: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl UserSpec {
    /// A user with username and [`PASSWORD`].
    pub fn with_password(username: &str) -> Self {
        Self { username: Some(username.into()), password: Some(PASSWORD.into()), ..Self::default() }
    }
}

/// A WeChat simulator run outside the server, the way a real deployment
/// talks to WeChat (`--wechat-appid`, `--wechat-secret`, `--wechat-api`) and
/// Douyin (`--douyin-appid`, `--douyin-secret`, `--douyin-api`, the same
/// base), behind a proxy that records every answer WeChat and Douyin gave:
/// the only way to learn the `session_key`s the server received.
pub struct ExternalWechat {
    pub sim: Simulator,
    pub appid: String,
    pub secret: String,
    pub douyin_appid: String,
    pub douyin_secret: String,
    pub base: String,
    answers: Arc<Mutex<Vec<String>>>,
    delivered: Arc<Mutex<Vec<Value>>>,
}

impl ExternalWechat {
    async fn start(clock: Arc<ManualClock>) -> Self {
        use axum::body::{to_bytes, Body};
        use axum::extract::Request;
        use axum::middleware::{from_fn, Next};
        use axum::routing::post;

        let appid = "wx_external_test_app".to_string();
        let secret = format!("external-secret-{}", new_suffix());
        let douyin_appid = "tt_external_test_app".to_string();
        let douyin_secret = format!("external-douyin-secret-{}", new_suffix());
        let sim = Simulator::new(appid.clone(), secret.clone(), clock)
            .with_douyin(douyin_appid.clone(), douyin_secret.clone());
        let answers: Arc<Mutex<Vec<String>>> = Arc::default();
        let delivered: Arc<Mutex<Vec<Value>>> = Arc::default();
        let record = answers.clone();
        let inbox = delivered.clone();
        let router: axum::Router = sim
            .wechat_router()
            .merge(sim.douyin_router())
            .layer(from_fn(move |request: Request, next: Next| {
                let record = record.clone();
                async move {
                    let response = next.run(request).await;
                    let (parts, body) = response.into_parts();
                    let bytes = to_bytes(body, 1 << 20).await.unwrap_or_default();
                    record.lock().unwrap().push(String::from_utf8_lossy(&bytes).into_owned());
                    axum::response::Response::from_parts(parts, Body::from(bytes))
                }
            }))
            .route(
                "/code-webhook",
                post(move |axum::Json(message): axum::Json<Value>| {
                    let inbox = inbox.clone();
                    async move {
                        inbox.lock().unwrap().push(message);
                        axum::http::StatusCode::NO_CONTENT
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { sim, appid, secret, douyin_appid, douyin_secret, base, answers, delivered }
    }

    /// Where the server should POST one-time codes (`--code-webhook`).
    pub fn webhook(&self) -> String {
        format!("{}/code-webhook", self.base)
    }

    /// The one-time codes the server posted to the webhook, oldest first.
    pub fn delivered(&self) -> Vec<Value> {
        self.delivered.lock().unwrap().clone()
    }

    /// Every answer WeChat gave, as JSON.
    pub fn answers(&self) -> Vec<Value> {
        self.answers.lock().unwrap().iter().map(|a| serde_json::from_str(a).unwrap_or(Value::Null)).collect()
    }

    /// The `session_key`s WeChat handed the server.
    pub fn session_keys(&self) -> Vec<String> {
        self.answers().iter().filter_map(|a| a["session_key"].as_str().map(String::from)).collect()
    }

    /// The `session_key`s Douyin handed the server (empty ones, of failed
    /// exchanges, left out).
    pub fn douyin_session_keys(&self) -> Vec<String> {
        let answers = self.answers();
        let keys = answers.iter().filter_map(|a| a["data"]["session_key"].as_str());
        keys.filter(|key| !key.is_empty()).map(String::from).collect()
    }

    /// The access tokens WeChat handed the server.
    pub fn access_tokens(&self) -> Vec<String> {
        self.answers().iter().filter_map(|a| a["access_token"].as_str().map(String::from)).collect()
    }
}

fn new_suffix() -> String {
    URL_SAFE_NO_PAD.encode(miniauth::server::secrets::random_bytes::<9>())
}

/// argon2 is slow in a debug build: [`PASSWORD`] is hashed once per test
/// binary and the hash reused (other passwords are hashed each time).
fn password_hash(password: &str) -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    if password == PASSWORD {
        return HASH.get_or_init(|| users::hash_password(PASSWORD).expect("a hash")).clone();
    }
    users::hash_password(password).expect("a hash")
}

/// A signing key as stored in `signing_keys`.
#[derive(Clone, sqlx::FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    private_der: Vec<u8>,
    public_jwk: String,
    created_at: i64,
}

/// Generating a 2048-bit RSA key takes seconds in a debug build, so each
/// test binary has the server generate one once (through
/// `keys::load_or_create`, on a scratch database), and every test server's
/// database starts with a copy of it: `start` then finds an active key and
/// loads it as it would after a restart.
async fn seed_rsa_key(database: &Location) {
    static KEY: tokio::sync::OnceCell<KeyRow> = tokio::sync::OnceCell::const_new();
    let key = KEY
        .get_or_init(|| async {
            let scratch = TempDir::new("rsa-key");
            let pool = db::open(&Location::Sqlite(scratch.database())).await.expect("a scratch database").write;
            keys::load_or_create(&pool, SigningAlgorithm::Rs256, SystemClock.now(), 900_000).await.expect("an RSA key");
            let row: KeyRow = sqlx::query_as("SELECT kid, alg, private_der, public_jwk, created_at FROM signing_keys")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            row
        })
        .await;
    let pool = db::open(database).await.expect("the test database").write;
    sqlx::query("INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&key.kid)
        .bind(&key.alg)
        .bind(&key.private_der)
        .bind(&key.public_jwk)
        .bind(key.created_at)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Where a test server keeps its data: an SQLite file in `dir`, or, when
/// `MINIAUTH_TEST_POSTGRES` names a PostgreSQL server (as
/// `scripts/with-postgres.sh` does), a new database of its own there.
pub async fn test_database(dir: &TempDir) -> Location {
    let Ok(server) = std::env::var("MINIAUTH_TEST_POSTGRES") else { return Location::Sqlite(dir.database()) };
    let name = format!("test_{}", hex(&miniauth::server::secrets::random_bytes::<8>()));
    let admin = sqlx::PgPool::connect(&format!("{server}/postgres")).await.expect("the PostgreSQL test server");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("a test database");
    admin.close().await;
    Location::Postgres(format!("{server}/{name}"))
}

/// Whether the tests run on PostgreSQL (see [`test_database`]).
pub fn on_postgres() -> bool {
    std::env::var_os("MINIAUTH_TEST_POSTGRES").is_some()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `n` copies of `request` at once (all started before any is awaited).
pub async fn concurrently<F, Fut>(n: usize, request: F) -> Vec<Answer>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Answer> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let barrier = barrier.clone();
            let request = request();
            tokio::spawn(async move {
                barrier.wait().await;
                request.await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("the request task"));
    }
    answers
}

/// A server started in-process on 127.0.0.1:0 with a temporary database.
pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when `metrics_listen` was set.
    pub metrics_addr: Option<SocketAddr>,
    pub app: AppState,
    pub clock: Arc<ManualClock>,
    pub http: Http,
    pub config: Config,
    /// Set when started with [`TestServer::start_external`]; shared with
    /// a [`TestServer::second_instance`].
    pub wechat: Option<Arc<ExternalWechat>>,
    running: Option<Running>,
    dir: TempDir,
}

/// Rate limits high enough that only the tests about rate limits meet them.
pub const GENEROUS_LIMIT: u32 = 100_000;

impl TestServer {
    /// Simulator mode, registration open.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Simulator mode, registration closed (SOCIAL_BIND).
    pub async fn start_closed() -> Self {
        Self::start_with(|config| config.registration = Registration::Closed).await
    }

    /// Simulator mode, with `adjust` applied to the test configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::launch(adjust, false).await
    }

    /// Against an [`ExternalWechat`], as a deployment talks to WeChat: no
    /// `/sim/` endpoints; codes are minted on `self.wechat`.
    pub async fn start_external(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::launch(adjust, true).await
    }

    async fn launch(adjust: impl FnOnce(&mut Config), external: bool) -> Self {
        let dir = TempDir::new("server");
        let clock = Arc::new(ManualClock::starting_now());
        let mut config = Config::for_tests(dir.database());
        config.database = test_database(&dir).await;
        config.rate_limit_ip = GENEROUS_LIMIT;
        config.rate_limit_account = GENEROUS_LIMIT;
        let wechat = if external { Some(ExternalWechat::start(clock.clone()).await) } else { None };
        if let Some(wechat) = &wechat {
            config.simulator = false;
            config.wechat_appid = Some(wechat.appid.clone());
            config.wechat_secret = Some(wechat.secret.clone());
            config.wechat_api = wechat.base.clone();
            config.douyin_appid = Some(wechat.douyin_appid.clone());
            config.douyin_secret = Some(wechat.douyin_secret.clone());
            config.douyin_api = wechat.base.clone();
            config.code_webhook = Some(wechat.webhook());
        }
        adjust(&mut config);
        if config.signing_alg == SigningAlgorithm::Rs256 {
            seed_rsa_key(&config.database).await;
        }
        Self::serve(config, clock, wechat.map(Arc::new), dir).await
    }

    /// Another instance of this server, as a second process behind the
    /// same load balancer: the same database, configuration, issuer, clock
    /// and WeChat, but its own listener and memory (rate limiters, and in
    /// simulator mode its own simulator and outbox).
    pub async fn second_instance(&self) -> Self {
        let mut config = self.config.clone();
        config.issuer = Some(self.issuer());
        Self::serve(config, self.clock.clone(), self.wechat.clone(), TempDir::new("instance")).await
    }

    async fn serve(config: Config, clock: Arc<ManualClock>, wechat: Option<Arc<ExternalWechat>>, dir: TempDir) -> Self {
        let running = start(&config, clock.clone()).await.unwrap_or_else(|e| panic!("the server starts: {e}"));
        let addr = running.addr;
        let base = format!("http://{addr}");
        Self {
            http: Http::new(base.clone()),
            base,
            addr,
            metrics_addr: running.metrics_addr,
            app: running.app.clone(),
            clock,
            config,
            wechat,
            running: Some(running),
            dir,
        }
    }

    /// Stops the server (requests in flight finish) and removes its files.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("a clean shutdown");
        }
    }

    /// Moves the server's clock (and the simulator's) forward.
    pub fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }

    pub fn now_secs(&self) -> i64 {
        self.clock.now_secs()
    }

    /// `iss` of the id_tokens: the configured issuer, else the base URL.
    pub fn issuer(&self) -> String {
        self.config.issuer.clone().unwrap_or_else(|| self.base.clone())
    }

    /// The id_token audience: the Mini Program's AppID.
    pub fn audience(&self) -> String {
        self.app.appid.clone()
    }

    // -------------------------------------------------- the Mini Program's side

    /// What `wx.login()` gives the user `openid`.
    pub async fn wx_code(&self, openid: &str) -> String {
        self.wx_code_with(openid, None).await
    }

    /// What `wx.login()` gives `openid`, with a unionid.
    pub async fn wx_code_with(&self, openid: &str, unionid: Option<&str>) -> String {
        if let Some(wechat) = &self.wechat {
            return wechat.sim.mint_login_code(openid, unionid);
        }
        let mut body = json!({ "openid": openid });
        if let Some(unionid) = unionid {
            body["unionid"] = json!(unionid);
        }
        let answer = self.http.post("/sim/wx/login", body).await;
        answer.expect(200);
        answer.json["code"].as_str().expect("a code").to_string()
    }

    /// What `getPhoneNumber` gives for `phone`.
    pub async fn wx_phone_code(&self, phone: &str) -> String {
        if let Some(wechat) = &self.wechat {
            return wechat.sim.mint_phone_code(phone).expect("a phone code");
        }
        let answer = self.http.post("/sim/wx/phone", json!({ "phone": phone })).await;
        answer.expect(200);
        answer.json["code"].as_str().expect("a code").to_string()
    }

    /// Makes the next `calls` WeChat calls answer "system busy".
    pub async fn wechat_busy(&self, calls: u32) {
        self.http.post("/sim/wx/busy", json!({ "calls": calls })).await.expect(204);
    }

    /// What `tt.login()` gives the Douyin user `openid`, with a unionid.
    pub async fn tt_code_with(&self, openid: &str, unionid: Option<&str>) -> String {
        if let Some(wechat) = &self.wechat {
            return wechat.sim.mint_douyin_code(openid, unionid);
        }
        let mut body = json!({ "openid": openid });
        if let Some(unionid) = unionid {
            body["unionid"] = json!(unionid);
        }
        let answer = self.http.post("/sim/tt/login", body).await;
        answer.expect(200);
        answer.json["code"].as_str().expect("a code").to_string()
    }

    /// What `tt.login()` gives the Douyin user `openid`.
    pub async fn tt_code(&self, openid: &str) -> String {
        self.tt_code_with(openid, None).await
    }

    /// Makes the next `calls` Douyin calls answer "system error" (-1).
    pub async fn douyin_busy(&self, calls: u32) {
        match &self.wechat {
            Some(wechat) => wechat.sim.set_douyin_busy(calls),
            None => {
                self.http.post("/sim/tt/busy", json!({ "calls": calls })).await.expect(204);
            }
        }
    }

    // -------------------------------------------------- the API

    pub async fn login_code(&self, code: &str) -> Answer {
        self.http.post("/v1/login/wechat", json!({ "code": code })).await
    }

    /// `wx.login()` as `openid`, then `POST /v1/login/wechat`.
    pub async fn login(&self, openid: &str) -> Answer {
        let code = self.wx_code(openid).await;
        self.login_code(&code).await
    }

    /// `POST /v1/login/douyin` with `code`.
    pub async fn login_douyin_code(&self, code: &str) -> Answer {
        self.http.post("/v1/login/douyin", json!({ "code": code })).await
    }

    /// `tt.login()` as `openid`, then `POST /v1/login/douyin`.
    pub async fn login_douyin(&self, openid: &str) -> Answer {
        let code = self.tt_code(openid).await;
        self.login_douyin_code(&code).await
    }

    /// The challenge an unbound `openid` gets, whatever the mode.
    pub async fn challenge(&self, openid: &str) -> BindChallenge {
        let status = match self.config.registration {
            Registration::Open => "USER_REGISTER",
            Registration::Closed => "SOCIAL_BIND",
        };
        self.login(openid).await.challenge(status)
    }

    pub async fn login_phone(&self, phone: &str) -> Answer {
        let code = self.wx_phone_code(phone).await;
        self.http.post("/v1/login/wechat-phone", json!({ "code": code })).await
    }

    pub async fn register_with(&self, state_token: &str, name: Option<&str>) -> Answer {
        let mut body = json!({ "state_token": state_token });
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        self.http.post("/v1/register", body).await
    }

    /// A new user for `openid` (USER_REGISTER, then register): its tokens.
    pub async fn register(&self, openid: &str) -> Tokens {
        let challenge = self.challenge(openid).await;
        self.register_with(&challenge.state_token, None).await.success()
    }

    pub async fn send_code(&self, channel: Channel, to: &str, state_token: &str) -> Answer {
        self.http.post("/v1/verify-codes", json!({ "channel": channel, "to": to, "state_token": state_token })).await
    }

    /// The newest one-time code sent to `to` (normalised): from
    /// `/sim/outbox`, or from the webhook of an [`ExternalWechat`].
    pub async fn outbox_code(&self, to: &str) -> String {
        if let Some(wechat) = &self.wechat {
            let channel = if to.contains('@') { Channel::Email } else { Channel::Sms };
            let to = miniauth::server::codes::normalize_recipient(channel, to).expect("a valid recipient");
            let delivered = wechat.delivered();
            let newest = delivered.iter().rev().find(|m| m["to"] == to).unwrap_or_else(|| panic!("no code for {to}"));
            return newest["code"].as_str().unwrap().to_string();
        }
        let url = reqwest::Url::parse_with_params(&self.http.url("/sim/outbox"), [("to", to)]).unwrap();
        let answer = self.http.send(self.http.client.get(url)).await;
        answer.expect(200);
        let newest = &answer.json[0];
        assert!(newest["text"].as_str().is_some_and(|t| t.contains(newest["code"].as_str().unwrap_or("?"))));
        newest["code"].as_str().unwrap_or_else(|| panic!("no code for {to}: {}", answer.body)).to_string()
    }

    /// Sends a code to `to` for `state_token` and reads it from the outbox.
    pub async fn fetch_code(&self, channel: Channel, to: &str, state_token: &str) -> String {
        self.send_code(channel, to, state_token).await.expect(202);
        self.outbox_code(to).await
    }

    pub async fn bind_verify_code(&self, state_token: &str, channel: Channel, to: &str, code: &str) -> Answer {
        let body = json!({ "state_token": state_token, "channel": channel, "to": to, "code": code });
        self.http.post("/v1/bind/verify-code", body).await
    }

    pub async fn bind_password(&self, state_token: &str, username: &str, password: &str) -> Answer {
        let body = json!({ "state_token": state_token, "username": username, "password": password });
        self.http.post("/v1/bind/password", body).await
    }

    pub async fn bind_wechat_phone(&self, state_token: &str, phone: &str) -> Answer {
        let code = self.wx_phone_code(phone).await;
        self.http.post("/v1/bind/wechat-phone", json!({ "state_token": state_token, "code": code })).await
    }

    pub async fn refresh(&self, session_token: &str) -> Answer {
        self.http.post("/v1/session/refresh", json!({ "session_token": session_token })).await
    }

    pub async fn logout(&self, session_token: &str) -> Answer {
        self.http.post("/v1/logout", json!({ "session_token": session_token })).await
    }

    pub async fn userinfo(&self, id_token: &str) -> Answer {
        self.http.get_authorized("/v1/userinfo", &format!("Bearer {id_token}")).await
    }

    /// `PATCH /v1/userinfo` with `fields`.
    pub async fn update_profile(&self, id_token: &str, fields: Value) -> Answer {
        self.update_profile_by(reqwest::Method::PATCH, id_token, fields).await
    }

    /// The profile update sent with `method` (the server takes PATCH and POST).
    pub async fn update_profile_by(&self, method: reqwest::Method, id_token: &str, fields: Value) -> Answer {
        let request =
            self.http.client.request(method, self.http.url("/v1/userinfo")).bearer_auth(id_token).json(&fields);
        self.http.send(request).await
    }

    pub async fn jwks(&self) -> Value {
        let answer = self.http.get("/.well-known/jwks.json").await;
        answer.expect(200);
        answer.json
    }

    // -------------------------------------------------- the database, directly

    /// Makes every insert into `table` fail, as a full disk would.
    pub async fn refuse_inserts_into(&self, table: &str) {
        let statements = if on_postgres() {
            vec![
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
                    .to_string(),
                format!("CREATE TRIGGER refuse BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse()"),
            ]
        } else {
            vec![format!("CREATE TRIGGER refuse BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'disk full'); END")]
        };
        for statement in statements {
            sqlx::raw_sql(&statement).execute(&self.app.db.write).await.expect("a refusing trigger");
        }
    }

    /// Adds a user the way `miniauth users add` does; returns its id.
    pub async fn add_user(&self, spec: UserSpec) -> String {
        let password_hash = spec.password.as_deref().map(password_hash);
        let new =
            NewUser { username: spec.username, password_hash, name: spec.name, phone: spec.phone, email: spec.email };
        users::create(&self.app.db.write, new, self.clock.now()).await.expect("the user is added")
    }

    /// Adds a bot the way `miniauth bots add` does; returns its key.
    pub async fn add_bot(&self, name: &str) -> String {
        miniauth::server::chat::bots::add(&self.app.db.write, name, self.clock.now()).await.expect("the bot is added")
    }

    /// Revokes a bot the way `miniauth bots revoke` does.
    pub async fn revoke_bot(&self, name: &str) {
        miniauth::server::chat::bots::revoke(&self.app.db.write, name, self.clock.now())
            .await
            .expect("the bot is revoked")
    }

    /// Adds an API client the way `miniauth clients add` does; returns its
    /// secret.
    pub async fn add_client(&self, name: &str, scopes: &[miniauth::server::clients::Scope]) -> String {
        miniauth::server::clients::add(&self.app.db.write, name, scopes, self.clock.now())
            .await
            .expect("the client is added")
    }

    /// Revokes an API client the way `miniauth clients revoke` does.
    pub async fn revoke_client(&self, name: &str) {
        miniauth::server::clients::revoke(&self.app.db.write, name, self.clock.now())
            .await
            .expect("the client is revoked")
    }

    /// Binds `openid` (of this server's Mini Program) to `user_id`.
    pub async fn bind_openid(&self, user_id: &str, openid: &str, unionid: Option<&str>) {
        let identity = MiniProgramIdentity::wechat(self.app.appid.clone(), openid, unionid.map(String::from));
        self.bind_identity(user_id, &identity).await;
    }

    /// Binds the Douyin `openid` (of this server's Douyin Mini Program) to
    /// `user_id`.
    pub async fn bind_douyin_openid(&self, user_id: &str, openid: &str, unionid: Option<&str>) {
        let appid = self.app.douyin.as_ref().expect("Douyin is configured").appid().to_owned();
        let identity = MiniProgramIdentity {
            provider: Provider::Douyin,
            appid,
            openid: openid.into(),
            unionid: unionid.map(String::from),
        };
        self.bind_identity(user_id, &identity).await;
    }

    /// The identities bound to `user_id`, as `(provider, appid, openid)`,
    /// sorted.
    pub async fn identities_of(&self, user_id: &str) -> Vec<(String, String, String)> {
        sqlx::query_as(
            "SELECT provider, appid, openid FROM wechat_identities WHERE user_id = $1 ORDER BY provider, appid, openid",
        )
        .bind(user_id)
        .fetch_all(&self.app.db.read)
        .await
        .expect("the identities")
    }

    pub async fn bind_identity(&self, user_id: &str, identity: &MiniProgramIdentity) {
        let mut conn = self.app.db.write.acquire().await.unwrap();
        users::bind_identity(&mut conn, identity, user_id, self.clock.now()).await.expect("the identity is bound");
    }

    /// How many session tokens the family of `session_token` has issued.
    /// Checks that concurrent refreshes of `parent` rotated it once: every
    /// answer is the same new pair, the family gained one token, and one
    /// token is live. Returns the pair.
    pub async fn rotated_once(&self, parent: &str, answers: &[Answer]) -> Tokens {
        let tokens: Vec<Tokens> = answers.iter().map(Answer::refreshed).collect();
        assert!(tokens.iter().all(|t| *t == tokens[0]), "all {} got the same new pair: {tokens:?}", tokens.len());
        assert_ne!(tokens[0].session_token, parent);
        assert_eq!(self.family_size(parent).await, 2, "exactly one new session token");
        let (live,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM session_tokens WHERE rotated_at IS NULL")
            .fetch_one(&self.app.db.write)
            .await
            .unwrap();
        assert_eq!(live, 1, "one live token");
        tokens[0].clone()
    }

    pub async fn family_size(&self, session_token: &str) -> i64 {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM session_tokens WHERE family_id = (SELECT family_id FROM session_tokens WHERE token_hash = $1)",
        )
        .bind(token_hash(session_token))
        .fetch_one(&self.app.db.write)
        .await
        .unwrap();
        count
    }

    // -------------------------------------------------- verification

    /// Verifies `id_token` as any backend would with the miniauth core:
    /// the JWKS as served, issuer, audience, `typ`, required claims, at the
    /// server's time. Returns the header's `kid` and the claims.
    pub async fn verify(&self, id_token: &str) -> (String, Map<String, Value>) {
        let jwks = self.http.get("/.well-known/jwks.json").await;
        jwks.expect(200);
        verify_with_core(id_token, &jwks.body, &self.issuer(), &self.audience(), self.clock.now())
            .unwrap_or_else(|e| panic!("the id_token verifies with the miniauth core: {e}"))
    }

    /// Verifies `id_token` with `jsonwebtoken` (see
    /// [`verify_with_jsonwebtoken`]).
    pub async fn verify_jsonwebtoken(&self, id_token: &str) -> Value {
        let jwks = self.jwks().await;
        verify_with_jsonwebtoken(id_token, &jwks, &self.issuer(), &self.audience(), self.now_secs())
    }
}

/// Verifies with the miniauth core: `KeySet` from the JWKS text, then
/// `Verifier` with issuer, audience, `typ` and required claims.
pub fn verify_with_core(
    id_token: &str,
    jwks_json: &str,
    issuer: &str,
    audience: &str,
    now_ms: i64,
) -> Result<(String, Map<String, Value>), miniauth::Error> {
    let set = KeySet::from_jwks_json(jwks_json.as_bytes())?;
    let options = json!({
        "issuer": issuer,
        "audience": audience,
        "typ": "JWT",
        "requiredClaims": ["iss", "sub", "aud", "iat", "exp", "auth_time", "amr"],
    });
    let verifier = Verifier::new(Keys::Set(set), Validation::from_json(options.to_string().as_bytes())?);
    let verified = verifier.verify(id_token, now_ms as f64)?;
    Ok((verified.header.kid.clone().unwrap_or_default(), verified.claims))
}

/// Verifies with `jsonwebtoken`, independently of the server's own crypto.
///
/// The server installs its ring-backed `CryptoProvider` as the process
/// default, and `jsonwebtoken::decode` always uses the process default
/// (`CryptoProvider::get_default()` in `decoding.rs`), so `decode` alone
/// would check the server's signatures with the server's own provider. The
/// signature is therefore checked by calling the RustCrypto provider's
/// verifier (`crypto::rust_crypto::DEFAULT_PROVIDER.verifier_factory`)
/// directly, with the key imported by `DecodingKey::from_jwk` from the
/// served JWKS; then `decode` checks the claims (alg, iss, aud, required
/// claims). `exp` is checked here against the server's clock, because
/// `jsonwebtoken` can only check it against the system clock.
pub fn verify_with_jsonwebtoken(id_token: &str, jwks: &Value, issuer: &str, audience: &str, now_secs: i64) -> Value {
    use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{decode, decode_header, DecodingKey, Validation as JwtValidation};

    let header = decode_header(id_token).expect("a JWS header");
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let kid = header.kid.as_deref().expect("a kid");
    let set: JwkSet = serde_json::from_value(jwks.clone()).expect("jsonwebtoken reads the JWKS");
    let jwk = set.find(kid).unwrap_or_else(|| panic!("kid {kid} is in the JWKS"));
    let key = DecodingKey::from_jwk(jwk).expect("jsonwebtoken imports the JWK");

    let (signing_input, signature) = id_token.rsplit_once('.').expect("a compact JWS");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url signature");
    let verifier = (DEFAULT_PROVIDER.verifier_factory)(&header.alg, &key).expect("a RustCrypto verifier");
    verifier.verify(signing_input.as_bytes(), &signature).expect("the RustCrypto provider verifies the signature");
    let mut tampered = signature.clone();
    tampered[0] ^= 1;
    assert!(verifier.verify(signing_input.as_bytes(), &tampered).is_err(), "a flipped bit fails");

    let mut validation = JwtValidation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.validate_exp = false;
    let claims = decode::<Value>(id_token, &key, &validation).expect("jsonwebtoken validates the claims").claims;
    let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert!(iat <= now_secs && now_secs < exp, "iat {iat} <= now {now_secs} < exp {exp}");
    claims
}

/// The claims of a JWT, not verified (for looking at a token's header or
/// payload in assertions).
pub fn unverified_part(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).expect("a JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

// ------------------------------------------------------------ logs

/// Everything logged in this process from the first call on, at every
/// level (tracing events, and `log` records through the bridge).
#[derive(Clone)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once per test binary) a global TRACE subscriber writing to a
/// shared buffer: global, because the server's tasks run on the runtime's
/// worker threads, where a thread-local `set_default` would not reach.
pub fn capture_logs() -> Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        use tracing_subscriber::util::SubscriberInitExt;
        let logs = Logs(Arc::default());
        let writer = logs.clone();
        // No timestamps: their six-digit fractions of a second would, now
        // and then, spell a one-time code the tests look for.
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .finish()
            .try_init()
            .expect("no other subscriber in this test binary");
        logs
    })
    .clone()
}

// ------------------------------------------------------------ the binary

/// A loopback port nobody listens on (bound, then let go): a peer that
/// refuses connections.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `miniauth serve` as a child process (simulator mode, system clock).
pub struct BinaryServer {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl BinaryServer {
    /// Starts the binary on `database` at an ephemeral port (`--listen
    /// 127.0.0.1:0`) and returns once it prints the address it listens on:
    /// it accepts connections from then on. Its output goes to `log`.
    pub async fn start(database: &Location, log: PathBuf, extra: &[&str]) -> Self {
        let log_file = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_miniauth"));
        command
            .args(["serve", "--simulator"])
            .arg("--database")
            .arg(match database {
                Location::Sqlite(path) => path.as_os_str().to_owned(),
                Location::Postgres(url) => url.into(),
            })
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file.try_clone().unwrap());
        for name in [
            "WECHAT_APPID",
            "WECHAT_SECRET",
            "WECHAT_API",
            "DOUYIN_APPID",
            "DOUYIN_SECRET",
            "DOUYIN_API",
            "MINIAUTH_ISSUER",
            "MINIAUTH_AUDIENCE",
            "MINIAUTH_REGISTRATION",
        ] {
            command.env_remove(name);
        }
        let mut child = command.spawn().expect("the miniauth binary starts");
        let stdout = child.stdout.take().unwrap();
        let (address_tx, address_rx) = tokio::sync::oneshot::channel();
        // Copies stdout to the log, handing over the address on the way.
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut address_tx = Some(address_tx);
            let mut log_file = log_file;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(log_file, "{line}");
                if let Some(url) = line.strip_prefix("miniauth listening on ") {
                    if let Some(tx) = address_tx.take() {
                        let _ = tx.send(url.trim().to_owned());
                    }
                }
            }
        });
        match tokio::time::timeout(Duration::from_secs(20), address_rx).await {
            Ok(Ok(base)) => Self { child, base, log },
            outcome => {
                let _ = child.kill();
                let status = child.wait().unwrap();
                let why = if outcome.is_err() { "printed no address within 20 s" } else { "exited" };
                panic!("miniauth {why} ({status}): {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reap.
    pub fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
