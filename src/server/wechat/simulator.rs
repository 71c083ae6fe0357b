//! A stand-in for WeChat that speaks the same HTTP API, for local use and
//! tests: [`Simulator::wechat_router`] serves the three WeChat paths (what
//! [`WechatClient`](super::WechatClient) calls), and
//! [`Simulator::control_router`] serves `/sim/wx/*`, which plays the Mini
//! Program's side (`wx.login`, `getPhoneNumber`) and injects faults.
//!
//! It fails the way WeChat does, always as HTTP 200 with `{"errcode",
//! "errmsg"}`:
//!
//! | errcode | when |
//! |---|---|
//! | -1 | [`Simulator::set_busy`] asked for it (system busy) |
//! | 40013 | wrong AppID |
//! | 40125 | wrong AppSecret |
//! | 40002 | `grant_type` is not the one the call takes |
//! | 41001, 41002, 41004, 41008 | `access_token`, `appid`, `secret` or the code is missing |
//! | 40001 | unknown, revoked or expired access token |
//! | 40029 | unknown or expired (5 minutes) code; a reused phone code |
//! | 40163 | a reused login code ("code been used") |
//! | 45011 | one openid exchanged more than [`RATE_LIMIT_PER_MINUTE`] codes in 60 s |
//! | 47001 | the phone call's body is not JSON |
//!
//! Codes are single use and live 5 minutes; a refused call (busy, bad
//! credentials, rate limit) does not spend its code. An access token lives
//! 7200 s, and, as on WeChat, issuing a new one cuts the older ones' life to
//! five more minutes. All times come from the injected [`Clock`].
//!
//! A mainland number is answered the way WeChat does: `phoneNumber` without
//! the country code (`13800138000`), `countryCode` `"86"`; other numbers carry
//! `+` and their country code in `phoneNumber`.
//!
//! Memory is bounded: spent and expired codes are purged as calls come in, and
//! at most [`MAX_LIVE_CODES`] codes live at once (the control endpoints answer
//! 429 past that).

use crate::protocol::ApiErrorCode;
use crate::server::clock::{Clock, Millis};
use crate::server::error::AppError;
use crate::server::phone::PhoneNumber;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Codes one openid may exchange within 60 s before `45011` (WeChat's own
/// limit is 100).
pub const RATE_LIMIT_PER_MINUTE: u32 = 10;
/// How many codes (login and phone, spent or not, until they expire) may
/// live at once.
pub const MAX_LIVE_CODES: usize = 100_000;
/// How long a code lives (ms).
pub const CODE_LIFETIME_MS: Millis = 5 * 60 * 1000;
/// How long an access token lives (s).
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 7200;

/// How long an old access token keeps working once a new one is issued (ms).
const TOKEN_OVERLAP_MS: Millis = 5 * 60 * 1000;
/// At most this many access tokens are remembered (the oldest go first).
const MAX_ACCESS_TOKENS: usize = 1024;
/// The window over which [`RATE_LIMIT_PER_MINUTE`] is counted (ms).
pub const RATE_WINDOW_MS: Millis = 60 * 1000;

/// Why a code could not be minted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// The openid, unionid or phone number is not valid.
    InvalidRequest(String),
    /// [`MAX_LIVE_CODES`] codes are live; one expires within this many seconds.
    Full {
        /// Seconds until a code expires and makes room.
        retry_after_secs: u64,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidRequest(why) => f.write_str(why),
            Self::Full { retry_after_secs } => {
                write!(f, "the simulator holds {MAX_LIVE_CODES} live codes; retry in {retry_after_secs} s")
            }
        }
    }
}

impl std::error::Error for SimError {}

impl From<SimError> for AppError {
    fn from(error: SimError) -> Self {
        match error {
            SimError::InvalidRequest(why) => AppError::invalid_request(why),
            SimError::Full { retry_after_secs } => {
                AppError::too_many(ApiErrorCode::RateLimited, error.to_string(), retry_after_secs)
            }
        }
    }
}

/// Counters, for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Calls to `GET /cgi-bin/token`, whatever they answered.
    pub token_requests: u64,
    /// Calls to `GET /sns/jscode2session`, whatever they answered.
    pub session_requests: u64,
    /// Calls to `POST /wxa/business/getuserphonenumber`, whatever they answered.
    pub phone_requests: u64,
    /// Codes held now (not yet expired, spent or not).
    pub live_codes: usize,
    /// Access tokens that work now.
    pub live_access_tokens: usize,
}

/// The WeChat simulator. Clones share one state.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    appid: String,
    secret: String,
    clock: Arc<dyn Clock>,
    rng: SystemRandom,
    state: Mutex<SimState>,
}

#[derive(Default)]
struct SimState {
    codes: HashMap<String, CodeEntry>,
    /// Codes in the order they were issued, to purge the expired ones.
    issued: VecDeque<(Millis, String)>,
    /// Access token → expiry (ms).
    tokens: HashMap<String, Millis>,
    /// openid → when it exchanged codes, within the last minute.
    exchanges: HashMap<String, VecDeque<Millis>>,
    last_exchange_sweep: Millis,
    busy_calls: u32,
    stats: SimStats,
}

struct CodeEntry {
    issued_at: Millis,
    spent: bool,
    grant: Grant,
}

enum Grant {
    Login { openid: String, unionid: Option<String> },
    Phone(PhoneNumber),
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("appid", &self.inner.appid)
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulated WeChat for the Mini Program `appid` with `secret`, timing
    /// everything by `clock`.
    pub fn new(appid: impl Into<String>, secret: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                appid: appid.into(),
                secret: secret.into(),
                clock,
                rng: SystemRandom::new(),
                state: Mutex::new(SimState::default()),
            }),
        }
    }

    /// WeChat's API: `GET /sns/jscode2session`, `GET /cgi-bin/token`,
    /// `POST /wxa/business/getuserphonenumber`.
    ///
    /// The router carries its own state, so it fits into a router of any
    /// state type `S` (`Router<()>` to serve it alone).
    pub fn wechat_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/sns/jscode2session", get(jscode2session))
            .route("/cgi-bin/token", get(access_token))
            .route("/wxa/business/getuserphonenumber", post(phone_number))
            .with_state(self.clone())
    }

    /// The Mini Program's side and fault injection:
    /// `POST /sim/wx/login {openid, unionid?}` → `{code}`,
    /// `POST /sim/wx/phone {phone}` → `{code}`,
    /// `POST /sim/wx/busy {calls}` → 204. Errors are the server API's
    /// `{"error", "message"}`. Like [`wechat_router`](Self::wechat_router),
    /// it fits into a router of any state type.
    pub fn control_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/sim/wx/login", post(control_login))
            .route("/sim/wx/phone", post(control_phone))
            .route("/sim/wx/busy", post(control_busy))
            .with_state(self.clone())
    }

    /// Makes the next `next_calls` WeChat API calls answer `-1` (system busy).
    pub fn set_busy(&self, next_calls: u32) {
        self.state().busy_calls = next_calls;
    }

    /// Forgets every access token, as if WeChat had revoked them: the next
    /// call with one answers 40001.
    pub fn revoke_access_tokens(&self) {
        self.state().tokens.clear();
    }

    /// The counters.
    pub fn stats(&self) -> SimStats {
        let now = self.now();
        let mut state = self.state();
        state.purge(now);
        let mut stats = state.stats;
        stats.live_codes = state.codes.len();
        stats.live_access_tokens = state.tokens.len();
        stats
    }

    /// The code `wx.login()` would give the user `openid` (1–64 characters of
    /// `[A-Za-z0-9_-]`, and so `unionid`).
    pub fn try_mint_login_code(&self, openid: &str, unionid: Option<&str>) -> Result<String, SimError> {
        check_id("openid", openid)?;
        if let Some(unionid) = unionid {
            check_id("unionid", unionid)?;
        }
        self.mint(Grant::Login { openid: openid.to_owned(), unionid: unionid.map(ToOwned::to_owned) })
    }

    /// [`try_mint_login_code`](Self::try_mint_login_code), for tests.
    ///
    /// # Panics
    ///
    /// If the openid or unionid is not valid, or the simulator is full.
    pub fn mint_login_code(&self, openid: &str, unionid: Option<&str>) -> String {
        match self.try_mint_login_code(openid, unionid) {
            Ok(code) => code,
            Err(error) => panic!("cannot mint a login code: {error}"),
        }
    }

    /// The code `getPhoneNumber` would give for `phone`: E.164
    /// (`+8613800138000`) or a mainland mobile number (`13800138000`).
    pub fn mint_phone_code(&self, phone: &str) -> Result<String, SimError> {
        let number = PhoneNumber::parse(phone).ok_or_else(|| {
            SimError::InvalidRequest(
                "phone must be E.164 (+8613800138000) or a mainland mobile number (13800138000)".to_owned(),
            )
        })?;
        self.mint(Grant::Phone(number))
    }

    fn mint(&self, grant: Grant) -> Result<String, SimError> {
        let now = self.now();
        let code = self.random(24, URL_SAFE_NO_PAD);
        let mut state = self.state();
        state.purge(now);
        if state.codes.len() >= MAX_LIVE_CODES {
            let oldest = state.issued.front().map_or(now, |(issued_at, _)| *issued_at);
            let wait_ms = (oldest + CODE_LIFETIME_MS - now).max(0);
            return Err(SimError::Full { retry_after_secs: (wait_ms as u64).div_ceil(1000).max(1) });
        }
        state.issued.push_back((now, code.clone()));
        state.codes.insert(code.clone(), CodeEntry { issued_at: now, spent: false, grant });
        Ok(code)
    }

    fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    fn state(&self) -> MutexGuard<'_, SimState> {
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn random(&self, bytes: usize, engine: impl base64::Engine) -> String {
        let mut buffer = [0u8; 64];
        let buffer = &mut buffer[..bytes];
        self.inner.rng.fill(buffer).expect("the system's random number generator failed");
        engine.encode(buffer)
    }

    /// Counts the call and, if the simulator was told to be busy, spends one
    /// busy call.
    fn begin(&self, state: &mut SimState, count: fn(&mut SimStats) -> &mut u64) -> Result<(), WxError> {
        *count(&mut state.stats) += 1;
        if state.busy_calls > 0 {
            state.busy_calls -= 1;
            return Err(WxError(-1, "system error"));
        }
        Ok(())
    }

    fn check_app(&self, params: &HashMap<String, String>) -> Result<(), WxError> {
        let appid = params.get("appid").filter(|v| !v.is_empty()).ok_or(WxError(41002, "appid missing"))?;
        let secret = params.get("secret").filter(|v| !v.is_empty()).ok_or(WxError(41004, "appsecret missing"))?;
        if *appid != self.inner.appid {
            return Err(WxError(40013, "invalid appid"));
        }
        if *secret != self.inner.secret {
            return Err(WxError(40125, "invalid appsecret"));
        }
        Ok(())
    }

    fn session(&self, params: &HashMap<String, String>) -> Result<Value, WxError> {
        let now = self.now();
        let mut state = self.state();
        state.purge(now);
        self.begin(&mut state, |stats| &mut stats.session_requests)?;
        self.check_app(params)?;
        if params.get("grant_type").map(String::as_str) != Some("authorization_code") {
            return Err(WxError(40002, "invalid grant_type"));
        }
        let code = params.get("js_code").filter(|v| !v.is_empty()).ok_or(WxError(41008, "missing code"))?;
        let entry = state.live_code(code, now).ok_or(WxError(40029, "invalid code"))?;
        if entry.spent {
            return Err(WxError(40163, "code been used"));
        }
        let Grant::Login { openid, unionid } = &entry.grant else {
            return Err(WxError(40029, "invalid code"));
        };
        let (openid, unionid) = (openid.clone(), unionid.clone());
        // The rate limit counts exchanges that went through.
        let recent = state.exchanges.entry(openid.clone()).or_default();
        while recent.front().is_some_and(|at| *at + RATE_WINDOW_MS <= now) {
            recent.pop_front();
        }
        if recent.len() >= RATE_LIMIT_PER_MINUTE as usize {
            return Err(WxError(45011, "api minute-quota reach limit, must slower, retry next minute"));
        }
        recent.push_back(now);
        if let Some(entry) = state.codes.get_mut(code.as_str()) {
            entry.spent = true;
        }
        let mut answer = json!({ "openid": openid, "session_key": self.random(16, STANDARD) });
        if let Some(unionid) = unionid {
            answer["unionid"] = Value::String(unionid);
        }
        Ok(answer)
    }

    fn access_token(&self, params: &HashMap<String, String>) -> Result<Value, WxError> {
        let now = self.now();
        let mut state = self.state();
        state.purge(now);
        self.begin(&mut state, |stats| &mut stats.token_requests)?;
        if params.get("grant_type").map(String::as_str) != Some("client_credential") {
            return Err(WxError(40002, "invalid grant_type"));
        }
        self.check_app(params)?;
        // As on WeChat, a new token leaves the older ones five more minutes.
        for expires_at in state.tokens.values_mut() {
            *expires_at = (*expires_at).min(now + TOKEN_OVERLAP_MS);
        }
        if state.tokens.len() >= MAX_ACCESS_TOKENS {
            if let Some(oldest) = state.tokens.iter().min_by_key(|(_, at)| **at).map(|(token, _)| token.clone()) {
                state.tokens.remove(&oldest);
            }
        }
        let token = self.random(48, URL_SAFE_NO_PAD);
        state.tokens.insert(token.clone(), now + ACCESS_TOKEN_LIFETIME_SECS * 1000);
        Ok(json!({ "access_token": token, "expires_in": ACCESS_TOKEN_LIFETIME_SECS }))
    }

    fn phone(&self, params: &HashMap<String, String>, body: &[u8]) -> Result<Value, WxError> {
        let now = self.now();
        let mut state = self.state();
        state.purge(now);
        self.begin(&mut state, |stats| &mut stats.phone_requests)?;
        let token =
            params.get("access_token").filter(|v| !v.is_empty()).ok_or(WxError(41001, "access_token missing"))?;
        if state.tokens.get(token.as_str()).is_none_or(|expires_at| now >= *expires_at) {
            return Err(WxError(40001, "invalid credential, access_token is invalid or not latest"));
        }
        let body: Value = serde_json::from_slice(body).map_err(|_| WxError(47001, "data format error"))?;
        let code = body.get("code").and_then(Value::as_str).filter(|v| !v.is_empty());
        let code = code.ok_or(WxError(41008, "missing code"))?;
        let entry = state.live_code(code, now).ok_or(WxError(40029, "invalid code"))?;
        // A reused phone code is "invalid code" too.
        let Grant::Phone(number) = &entry.grant else {
            return Err(WxError(40029, "invalid code"));
        };
        if entry.spent {
            return Err(WxError(40029, "invalid code"));
        }
        // WeChat leaves +86 off mainland numbers.
        let (country_code, pure) = (number.country_code(), number.national());
        let phone_number = if country_code == "86" { pure.to_owned() } else { number.e164() };
        let answer = json!({
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": phone_number,
                "purePhoneNumber": pure,
                "countryCode": country_code,
                "watermark": { "timestamp": entry.issued_at.div_euclid(1000), "appid": self.inner.appid },
            },
        });
        if let Some(entry) = state.codes.get_mut(code) {
            entry.spent = true;
        }
        Ok(answer)
    }

    /// WeChat's answer: the JSON as is, or `{"errcode", "errmsg"}`; always 200.
    fn answer(&self, path: &'static str, result: Result<Value, WxError>) -> Response {
        let body = match result {
            Ok(body) => {
                tracing::debug!(path, errcode = 0, "simulated WeChat answered");
                body
            }
            Err(WxError(errcode, errmsg)) => {
                tracing::debug!(path, errcode, "simulated WeChat answered");
                let rid = self.random(6, URL_SAFE_NO_PAD);
                json!({ "errcode": errcode, "errmsg": format!("{errmsg}, rid: {rid}") })
            }
        };
        (StatusCode::OK, Json(body)).into_response()
    }
}

/// A WeChat API error: errcode and errmsg.
struct WxError(i64, &'static str);

impl SimState {
    /// Drops expired codes, expired tokens, and (once a minute) idle rate
    /// windows.
    fn purge(&mut self, now: Millis) {
        while let Some((issued_at, code)) = self.issued.front() {
            if *issued_at + CODE_LIFETIME_MS > now {
                break;
            }
            self.codes.remove(code.as_str());
            self.issued.pop_front();
        }
        self.tokens.retain(|_, expires_at| now < *expires_at);
        if now - self.last_exchange_sweep >= RATE_WINDOW_MS || now < self.last_exchange_sweep {
            self.exchanges.retain(|_, times| times.back().is_some_and(|at| *at + RATE_WINDOW_MS > now));
            self.last_exchange_sweep = now;
        }
    }

    /// The code if it exists and has not expired (spent or not).
    fn live_code(&self, code: &str, now: Millis) -> Option<&CodeEntry> {
        self.codes.get(code).filter(|entry| entry.issued_at + CODE_LIFETIME_MS > now)
    }
}

fn check_id(what: &str, id: &str) -> Result<(), SimError> {
    let valid = (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(SimError::InvalidRequest(format!("{what} must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -")))
    }
}

async fn jscode2session(
    State(sim): State<Simulator>,
    params: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let params = params.map(|Query(params)| params).unwrap_or_default();
    sim.answer("/sns/jscode2session", sim.session(&params))
}

async fn access_token(
    State(sim): State<Simulator>,
    params: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let params = params.map(|Query(params)| params).unwrap_or_default();
    sim.answer("/cgi-bin/token", sim.access_token(&params))
}

async fn phone_number(
    State(sim): State<Simulator>,
    params: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
    body: axum::body::Bytes,
) -> Response {
    let params = params.map(|Query(params)| params).unwrap_or_default();
    sim.answer("/wxa/business/getuserphonenumber", sim.phone(&params, &body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    openid: String,
    #[serde(default)]
    unionid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneBody {
    phone: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BusyBody {
    calls: u32,
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    body.map(|Json(body)| body).map_err(|rejection| AppError::invalid_request(rejection.body_text()))
}

async fn control_login(
    State(sim): State<Simulator>,
    request: Result<Json<LoginBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let request = body(request)?;
    let code = sim.try_mint_login_code(&request.openid, request.unionid.as_deref())?;
    Ok(Json(json!({ "code": code })))
}

async fn control_phone(
    State(sim): State<Simulator>,
    request: Result<Json<PhoneBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let request = body(request)?;
    let code = sim.mint_phone_code(&request.phone)?;
    Ok(Json(json!({ "code": code })))
}

async fn control_busy(
    State(sim): State<Simulator>,
    request: Result<Json<BusyBody>, JsonRejection>,
) -> Result<StatusCode, AppError> {
    sim.set_busy(body(request)?.calls);
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ErrorBody;
    use crate::server::clock::ManualClock;
    use base64::Engine as _;
    use std::time::Duration;
    use std::vec::Vec;
    use tokio::net::TcpListener;

    const APPID: &str = "wx_sim_app";
    const SECRET: &str = "sim-secret";

    struct Setup {
        sim: Simulator,
        clock: Arc<ManualClock>,
        base: String,
        http: reqwest::Client,
    }

    async fn setup() -> Setup {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let sim = Simulator::new(APPID, SECRET, clock.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router: Router = sim.wechat_router().merge(sim.control_router());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Plain HTTP only: no system CA roots needed.
        let http = reqwest::Client::builder().tls_certs_only(std::iter::empty()).build().unwrap();
        Setup { sim, clock, base: format!("http://{address}"), http }
    }

    impl Setup {
        async fn get(&self, path_and_query: &str) -> Value {
            let response = self.http.get(format!("{}{path_and_query}", self.base)).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json().await.unwrap()
        }

        async fn post(&self, path: &str, body: Value) -> (StatusCode, Option<Value>) {
            let response = self.http.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
            let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
            let bytes = response.bytes().await.unwrap();
            (status, serde_json::from_slice(&bytes).ok())
        }

        async fn session(&self, code: &str) -> Value {
            self.get(&format!(
                "/sns/jscode2session?appid={APPID}&secret={SECRET}&js_code={code}&grant_type=authorization_code"
            ))
            .await
        }

        async fn token(&self) -> String {
            let answer =
                self.get(&format!("/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET}")).await;
            assert_eq!(answer["expires_in"], 7200);
            answer["access_token"].as_str().unwrap().to_owned()
        }

        async fn phone(&self, token: &str, body: &str) -> Value {
            let response = self
                .http
                .post(format!("{}/wxa/business/getuserphonenumber?access_token={token}", self.base))
                .header("content-type", "application/json")
                .body(body.to_owned())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.json().await.unwrap()
        }
    }

    fn errcode(answer: &Value) -> i64 {
        answer["errcode"].as_i64().unwrap_or(0)
    }

    #[tokio::test]
    async fn jscode2session_speaks_wechat() {
        let s = setup().await;
        let code = s.sim.mint_login_code("o_1", Some("u_1"));
        assert_eq!(code.len(), 32);
        assert!(code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let answer = s.session(&code).await;
        assert_eq!(answer["openid"], "o_1");
        assert_eq!(answer["unionid"], "u_1");
        assert!(answer.get("errcode").is_none(), "success has no errcode: {answer}");
        let key = STANDARD.decode(answer["session_key"].as_str().unwrap()).unwrap();
        assert_eq!(key.len(), 16);

        let reused = s.session(&code).await;
        assert_eq!(errcode(&reused), 40163);
        assert!(reused["errmsg"].as_str().unwrap().starts_with("code been used, rid: "));
        assert_eq!(errcode(&s.session("unknown").await), 40029);

        let code = s.sim.mint_login_code("o_1", None);
        let base = format!("js_code={code}&grant_type=authorization_code");
        let wrong = [
            (format!("/sns/jscode2session?appid=wx_other&secret={SECRET}&{base}"), 40013),
            (format!("/sns/jscode2session?appid={APPID}&secret=nope&{base}"), 40125),
            (format!("/sns/jscode2session?secret={SECRET}&{base}"), 41002),
            (format!("/sns/jscode2session?appid={APPID}&{base}"), 41004),
            (format!("/sns/jscode2session?appid={APPID}&secret={SECRET}&grant_type=authorization_code"), 41008),
            (format!("/sns/jscode2session?appid={APPID}&secret={SECRET}&js_code={code}&grant_type=x"), 40002),
        ];
        for (path, expected) in wrong {
            assert_eq!(errcode(&s.get(&path).await), expected, "{path}");
        }
        assert!(s.session(&code).await.get("session_key").is_some(), "refused calls do not spend the code");
        assert!(answer.get("unionid").is_some());
        assert!(s.session(&s.sim.mint_login_code("o_2", None)).await.get("unionid").is_none());
        assert_eq!(s.sim.stats().session_requests, 11);
    }

    #[tokio::test]
    async fn codes_expire_after_five_minutes_and_are_purged() {
        let s = setup().await;
        let code = s.sim.mint_login_code("o_1", None);
        s.sim.mint_phone_code("13800138000").unwrap();
        assert_eq!(s.sim.stats().live_codes, 2);
        s.clock.advance(Duration::from_millis(CODE_LIFETIME_MS as u64));
        assert_eq!(errcode(&s.session(&code).await), 40029);
        assert_eq!(s.sim.stats().live_codes, 0);
    }

    #[tokio::test]
    async fn rate_limit_per_openid() {
        let s = setup().await;
        for _ in 0..RATE_LIMIT_PER_MINUTE {
            assert!(s.session(&s.sim.mint_login_code("o_1", None)).await.get("openid").is_some());
        }
        let code = s.sim.mint_login_code("o_1", None);
        let answer = s.session(&code).await;
        assert_eq!(errcode(&answer), 45011);
        s.clock.advance(Duration::from_secs(59));
        assert_eq!(errcode(&s.session(&code).await), 45011);
        s.clock.advance(Duration::from_secs(1));
        assert_eq!(s.session(&code).await["openid"], "o_1");
    }

    #[tokio::test]
    async fn access_tokens_and_phone_numbers() {
        let s = setup().await;
        let first = s.token().await;
        let code = s.sim.mint_phone_code("+8613800138000").unwrap();
        let body = format!(r#"{{"code":"{code}"}}"#);
        let answer = s.phone(&first, &body).await;
        assert_eq!(errcode(&answer), 0);
        assert_eq!(answer["errmsg"], "ok");
        let info = &answer["phone_info"];
        assert_eq!(info["phoneNumber"], "13800138000");
        assert_eq!(info["purePhoneNumber"], "13800138000");
        assert_eq!(info["countryCode"], "86");
        assert_eq!(info["watermark"]["appid"], APPID);
        assert_eq!(info["watermark"]["timestamp"], 1_700_000_000);
        assert_eq!(errcode(&s.phone(&first, &body).await), 40029, "single use");

        let foreign = s.sim.mint_phone_code("+447911123456").unwrap();
        let answer = s.phone(&first, &format!(r#"{{"code":"{foreign}"}}"#)).await;
        assert_eq!(answer["phone_info"]["phoneNumber"], "+447911123456");
        assert_eq!(answer["phone_info"]["countryCode"], "44");
        assert_eq!(answer["phone_info"]["purePhoneNumber"], "7911123456");

        assert_eq!(errcode(&s.phone(&first, "not json").await), 47001);
        assert_eq!(errcode(&s.phone(&first, "{}").await), 41008);
        assert_eq!(errcode(&s.phone("", &body).await), 41001);
        assert_eq!(errcode(&s.phone("forged", &body).await), 40001);
        let login = s.sim.mint_login_code("o_1", None);
        assert_eq!(errcode(&s.phone(&first, &format!(r#"{{"code":"{login}"}}"#)).await), 40029);

        // A new token leaves the old one five more minutes.
        let second = s.token().await;
        assert_ne!(first, second);
        let fresh = |s: &Setup| s.sim.mint_phone_code("13800138000").unwrap();
        let code = fresh(&s);
        assert_eq!(errcode(&s.phone(&first, &format!(r#"{{"code":"{code}"}}"#)).await), 0);
        s.clock.advance(Duration::from_secs(300));
        let code = fresh(&s);
        assert_eq!(errcode(&s.phone(&first, &format!(r#"{{"code":"{code}"}}"#)).await), 40001);
        assert_eq!(errcode(&s.phone(&second, &format!(r#"{{"code":"{code}"}}"#)).await), 0);
        // ... and a token lives 7200 s.
        s.clock.advance(Duration::from_secs(7200 - 300));
        let code = fresh(&s);
        assert_eq!(errcode(&s.phone(&second, &format!(r#"{{"code":"{code}"}}"#)).await), 40001);
        assert_eq!(s.sim.stats().live_access_tokens, 0);

        let wrong = s.get(&format!("/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret=x")).await;
        assert_eq!(errcode(&wrong), 40125);
        let wrong = s.get(&format!("/cgi-bin/token?grant_type=client_credential&appid=wx9&secret={SECRET}")).await;
        assert_eq!(errcode(&wrong), 40013);
        let wrong = s.get(&format!("/cgi-bin/token?appid={APPID}&secret={SECRET}")).await;
        assert_eq!(errcode(&wrong), 40002);

        let third = s.token().await;
        s.sim.revoke_access_tokens();
        let code = fresh(&s);
        assert_eq!(errcode(&s.phone(&third, &format!(r#"{{"code":"{code}"}}"#)).await), 40001);
    }

    #[tokio::test]
    async fn busy_answers_minus_one_for_the_next_calls() {
        let s = setup().await;
        let code = s.sim.mint_login_code("o_1", None);
        let (status, answer) = s.post("/sim/wx/busy", json!({"calls": 2})).await;
        assert_eq!((status, answer), (StatusCode::NO_CONTENT, None));
        let busy = s.session(&code).await;
        assert_eq!(errcode(&busy), -1);
        assert!(busy["errmsg"].as_str().unwrap().starts_with("system error"));
        let busy = s.get(&format!("/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET}")).await;
        assert_eq!(errcode(&busy), -1);
        assert_eq!(s.session(&code).await["openid"], "o_1");
    }

    #[tokio::test]
    async fn control_endpoints() {
        let s = setup().await;
        let (status, answer) = s.post("/sim/wx/login", json!({"openid": "o-1_A", "unionid": "u1"})).await;
        assert_eq!(status, StatusCode::OK);
        let code = answer.unwrap()["code"].as_str().unwrap().to_owned();
        assert_eq!(s.session(&code).await["unionid"], "u1");

        let long = "o".repeat(65);
        for body in [
            json!({"openid": ""}),
            json!({"openid": long}),
            json!({"openid": "has space"}),
            json!({"openid": "o1", "unionid": "bad/union"}),
            json!({"openid": "o1", "extra": 1}),
            json!({}),
        ] {
            let (status, answer) = s.post("/sim/wx/login", body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            let error: ErrorBody = serde_json::from_value(answer.unwrap()).unwrap();
            assert_eq!(error.error, ApiErrorCode::InvalidRequest.as_str());
        }

        let (status, answer) = s.post("/sim/wx/phone", json!({"phone": "13800138000"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer.unwrap()["code"].as_str().unwrap().len(), 32);
        for phone in
            ["", "+", "1380013800", "23800138000", "+86138001380001", "+0123456", "+8612800138000", "+1234", "abc"]
        {
            let (status, answer) = s.post("/sim/wx/phone", json!({ "phone": phone })).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{phone}");
            assert_eq!(answer.unwrap()["error"], ApiErrorCode::InvalidRequest.as_str());
        }
        let (status, _) = s.post("/sim/wx/busy", json!({"calls": -1})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn at_most_max_live_codes() {
        let s = setup().await;
        let clock = s.clock.clone();
        let codes: Vec<String> = (0..MAX_LIVE_CODES).map(|_| s.sim.mint_login_code("o_1", None)).collect();
        assert_eq!(codes.len(), MAX_LIVE_CODES);
        assert!(matches!(s.sim.mint_phone_code("13800138000"), Err(SimError::Full { retry_after_secs: 300 })));
        let response =
            s.http.post(format!("{}/sim/wx/login", s.base)).json(&json!({"openid": "o_2"})).send().await.unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "300");
        let error: ErrorBody = response.json().await.unwrap();
        assert_eq!(error.error, ApiErrorCode::RateLimited.as_str());
        // Spent codes still count until they expire; expired ones make room.
        clock.advance(Duration::from_millis(CODE_LIFETIME_MS as u64));
        assert_eq!(s.sim.stats().live_codes, 0);
        s.sim.mint_login_code("o_2", None);
    }

    #[test]
    fn debug_hides_the_secret() {
        let sim = Simulator::new(APPID, SECRET, Arc::new(ManualClock::new(0)));
        let debug = format!("{sim:?}");
        assert!(debug.contains(APPID) && !debug.contains(SECRET), "{debug}");
    }
}
