//! A stand-in for WeChat and Douyin that speaks the same HTTP APIs, for
//! local use and tests: [`Simulator::wechat_router`] serves the three WeChat
//! paths (what [`WechatClient`](super::WechatClient) calls),
//! [`Simulator::douyin_router`] Douyin's code exchange (what
//! [`DouyinClient`](super::DouyinClient) calls), and
//! [`Simulator::control_router`] serves `/sim/wx/*` and `/sim/tt/*`, which
//! play the Mini Program's side (`wx.login`, `getPhoneNumber`, `tt.login`)
//! and inject faults.
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
//! | 45009 | a 21st forced refresh of the stable access token within a day |
//! | 47001 | the body of a POST is not JSON |
//!
//! and the way Douyin does, always as HTTP 200 with `{"err_no", "err_tips",
//! "log_id", "data"}`:
//!
//! | err_no | when |
//! |---|---|
//! | -1 | [`Simulator::set_douyin_busy`] asked for it (system error) |
//! | 40014 | the body is not JSON, or a field is not a string |
//! | 40015 | wrong (or no) AppID, or no Douyin app was given ([`Simulator::with_douyin`]) |
//! | 40017 | wrong (or no) AppSecret |
//! | 40018 | unknown, expired (5 minutes), used or WeChat's code |
//! | 40019 | an `anonymous_code` (the simulator issues none) |
//!
//! Codes are single use and live 5 minutes, and each is good at the platform
//! it was minted for only; a refused call (busy, bad credentials, rate
//! limit) does not spend its code. An access token lives
//! 7200 s. As on WeChat, the two kinds of access token are apart:
//! * `GET /cgi-bin/token` issues a new token each call and cuts the older
//!   ones' life to five more minutes;
//! * `POST /cgi-bin/stable_token` answers every caller the one current
//!   token (with what is left of its life) until its last five minutes,
//!   when it issues the next one and the old one lives on until it expires;
//!   `force_refresh` replaces it at once, at most once per 30 s (a sooner
//!   one answers the current token) and 20 times a day.
//!
//! All times come from the injected [`Clock`].
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
use crate::server::wechat::Provider;
use axum::extract::State;
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

mod control;
mod douyin_api;
#[cfg(test)]
mod tests;
mod wechat_api;

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

/// How long an old access token keeps working once a new one is issued,
/// and how long before its expiry the stable token is renewed (ms).
const TOKEN_OVERLAP_MS: Millis = 5 * 60 * 1000;
/// Forced refreshes of the stable token: at most this many a day...
const FORCED_REFRESHES_PER_DAY: usize = 20;
/// ...and this far apart (ms).
const FORCED_REFRESH_SPACING_MS: Millis = 30 * 1000;
const DAY_MS: Millis = 24 * 60 * 60 * 1000;
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

/// What the simulator has served and holds, for tests to assert on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Calls to `GET /cgi-bin/token`, whatever they answered.
    pub token_requests: u64,
    /// Calls to `POST /cgi-bin/stable_token`, whatever they answered.
    pub stable_token_requests: u64,
    /// Calls to `GET /sns/jscode2session`, whatever they answered.
    pub session_requests: u64,
    /// Calls to Douyin's `POST /api/apps/v2/jscode2session`, whatever they
    /// answered.
    pub douyin_session_requests: u64,
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
    /// The Douyin Mini Program's AppID and AppSecret, if one was given.
    douyin: Option<(String, String)>,
    clock: Arc<dyn Clock>,
    rng: SystemRandom,
    state: Mutex<SimState>,
}

#[derive(Default)]
struct SimState {
    codes: HashMap<String, CodeEntry>,
    /// Codes in the order they were issued, to purge the expired ones.
    issued: VecDeque<(Millis, String)>,
    /// Access tokens of both kinds that may still work.
    tokens: HashMap<String, AccessToken>,
    /// When the stable token was force-refreshed, within the last day.
    forced_refreshes: VecDeque<Millis>,
    /// openid → when it exchanged codes, within the last minute.
    exchanges: HashMap<String, VecDeque<Millis>>,
    last_exchange_sweep: Millis,
    /// WeChat API calls still to answer -1.
    busy_calls: u32,
    /// Douyin API calls still to answer -1.
    douyin_busy_calls: u32,
    stats: SimStats,
}

struct AccessToken {
    expires_at: Millis,
    /// Issued by `/cgi-bin/stable_token`: `/cgi-bin/token` leaves it alone.
    stable: bool,
}

struct CodeEntry {
    issued_at: Millis,
    spent: bool,
    grant: Grant,
}

enum Grant {
    Login { provider: Provider, openid: String, unionid: Option<String> },
    Phone(PhoneNumber),
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("appid", &self.inner.appid)
            .field("secret", &"<redacted>")
            .field("douyin_appid", &self.inner.douyin.as_ref().map(|(appid, _)| appid))
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulated WeChat for the Mini Program `appid` with `secret`, timing
    /// everything by `clock`. It serves no Douyin app until
    /// [`with_douyin`](Self::with_douyin) gives one.
    pub fn new(appid: impl Into<String>, secret: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                appid: appid.into(),
                secret: secret.into(),
                douyin: None,
                clock,
                rng: SystemRandom::new(),
                state: Mutex::new(SimState::default()),
            }),
        }
    }

    /// The simulator, also simulating Douyin for the Mini Program `appid`
    /// with `secret`.
    ///
    /// # Panics
    ///
    /// If the simulator was cloned already: the apps are set once, before it
    /// serves.
    pub fn with_douyin(mut self, appid: impl Into<String>, secret: impl Into<String>) -> Self {
        let inner = Arc::get_mut(&mut self.inner).expect("with_douyin is called on a simulator not yet shared");
        inner.douyin = Some((appid.into(), secret.into()));
        self
    }

    /// Makes the next `next_calls` WeChat API calls answer `-1` (system busy).
    pub fn set_busy(&self, next_calls: u32) {
        self.state().busy_calls = next_calls;
    }

    /// Makes the next `next_calls` Douyin API calls answer `-1` (system
    /// error).
    pub fn set_douyin_busy(&self, next_calls: u32) {
        self.state().douyin_busy_calls = next_calls;
    }

    /// Forgets every access token, as if WeChat had revoked them: the next
    /// call with one answers 40001.
    pub fn revoke_access_tokens(&self) {
        self.state().tokens.clear();
    }

    /// The calls served since the simulator was made (never reset), and the
    /// codes and access tokens live now.
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
        self.try_mint_code_at(Provider::Wechat, openid, unionid)
    }

    /// The code `tt.login()` would give the Douyin user `openid` (the rules
    /// of [`try_mint_login_code`](Self::try_mint_login_code)).
    pub fn try_mint_douyin_code(&self, openid: &str, unionid: Option<&str>) -> Result<String, SimError> {
        self.try_mint_code_at(Provider::Douyin, openid, unionid)
    }

    fn try_mint_code_at(&self, provider: Provider, openid: &str, unionid: Option<&str>) -> Result<String, SimError> {
        check_id("openid", openid)?;
        if let Some(unionid) = unionid {
            check_id("unionid", unionid)?;
        }
        self.mint(Grant::Login { provider, openid: openid.to_owned(), unionid: unionid.map(ToOwned::to_owned) })
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

    /// [`try_mint_douyin_code`](Self::try_mint_douyin_code), for tests.
    ///
    /// # Panics
    ///
    /// If the openid or unionid is not valid, or the simulator is full.
    pub fn mint_douyin_code(&self, openid: &str, unionid: Option<&str>) -> String {
        match self.try_mint_douyin_code(openid, unionid) {
            Ok(code) => code,
            Err(error) => panic!("cannot mint a Douyin login code: {error}"),
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
}

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
        self.tokens.retain(|_, token| now < token.expires_at);
        if now - self.last_exchange_sweep >= RATE_WINDOW_MS || now < self.last_exchange_sweep {
            self.exchanges.retain(|_, times| times.back().is_some_and(|at| *at + RATE_WINDOW_MS > now));
            self.last_exchange_sweep = now;
        }
    }

    /// Remembers a new access token, forgetting the one that expires first
    /// if there are too many.
    fn issue_token(&mut self, token: String, now: Millis, stable: bool) {
        if self.tokens.len() >= MAX_ACCESS_TOKENS {
            let oldest = self.tokens.iter().min_by_key(|(_, t)| t.expires_at).map(|(token, _)| token.clone());
            if let Some(oldest) = oldest {
                self.tokens.remove(&oldest);
            }
        }
        self.tokens.insert(token, AccessToken { expires_at: now + ACCESS_TOKEN_LIFETIME_SECS * 1000, stable });
    }

    /// The current stable token and its expiry: the stable token issued
    /// last, which expires last.
    fn current_stable_token(&self) -> Option<(String, Millis)> {
        let stable = self.tokens.iter().filter(|(_, t)| t.stable);
        stable.max_by_key(|(_, t)| t.expires_at).map(|(token, t)| (token.clone(), t.expires_at))
    }

    /// Whether `token` works now.
    fn token_works(&self, token: &str, now: Millis) -> bool {
        self.tokens.get(token).is_some_and(|t| now < t.expires_at)
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
