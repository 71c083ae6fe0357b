//! The HTTP client for the three WeChat calls the login flows need.
//!
//! What WeChat's documentation and developers' reports say about these calls,
//! and what this code relies on:
//!
//! * Every call answers HTTP 200 for API errors, with `{"errcode", "errmsg"}`
//!   (the `errmsg` ends with a request id, `rid: ...`, so it is never
//!   matched on). `errcode` 0, or no `errcode` at all (a successful
//!   `jscode2session` has none), means success. The body is parsed whatever
//!   its `Content-Type`.
//! * `GET /sns/jscode2session`: `openid`, `session_key` and, when the UnionID
//!   conditions are met, `unionid`. A `wx.login` code lives 5 minutes and is
//!   single use: 40029 "invalid code" (unknown, expired, or from another
//!   AppID), 40163 "code been used", 45011 "api minute-quota reach limit"
//!   (documented as 100 calls per user per minute), -1 system busy, 40013
//!   invalid AppID, 40125 invalid AppSecret.
//! * `POST /cgi-bin/stable_token` with `{"grant_type", "appid", "secret"}`:
//!   `{"access_token", "expires_in"}`, `expires_in` being what is left of the
//!   token's 7200 s. Unlike `GET /cgi-bin/token`, where each fetch retires
//!   the previous token after five minutes (so several server instances
//!   fetching their own invalidate each other's), every caller gets the one
//!   current token until its last five minutes, when WeChat issues the next
//!   and the old one works on until it expires: each instance fetches and
//!   caches it on its own and none disturbs another. The forced-refresh mode
//!   (which ends the token for everyone) is never used. A wrong secret
//!   answers 40125 (older documents say 40001, so 40001 here is a
//!   credentials error too).
//! * `POST /wxa/business/getuserphonenumber?access_token=...` with
//!   `{"code"}`: the code also lives 5 minutes and is single use (a reused
//!   code answers 40029). `phone_info.phoneNumber` carries the country code
//!   only for numbers outside mainland China, so the E.164 form is built from
//!   `countryCode` and `purePhoneNumber`; `countryCode` is documented as a
//!   string but the documentation's own example shows a number, so both are
//!   read. `watermark.appid` must be this AppID. An access token that is
//!   invalid or not the latest answers 40001, an expired one 42001 (40014 on
//!   some of WeChat's APIs): the token is fetched again and the call retried
//!   once.
//!
//! Secrets: the AppSecret (for `jscode2session`) and the access token travel
//! in query strings, so no URL is ever logged or put in an error
//! ([`Upstream`] sees to it), and redirects are not followed. The
//! `session_key` only lives in [`SessionKey`], whose `Debug` is redacted.
//! Logs are `debug` and carry the path and the `errcode` only.

use super::upstream::{cut, Upstream, TIMEOUT};
use super::{PhoneInfo, Provider, ProviderConfig, ProviderError, Session};
use crate::server::clock::{Clock, Millis};
use crate::server::phone::PhoneNumber;
use crate::server::telemetry::Metrics;
use serde::Deserialize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// The access token is fetched again this long before it expires.
const TOKEN_REFRESH_MARGIN_SECS: i64 = 300;

const PATH_SESSION: &str = "/sns/jscode2session";
const PATH_TOKEN: &str = "/cgi-bin/stable_token";
const PATH_PHONE: &str = "/wxa/business/getuserphonenumber";

/// A client for WeChat's server API (or a [`Simulator`](super::Simulator)'s).
///
/// Cheap to share behind an `Arc`; the access token is cached inside, per the
/// injected clock, and concurrent callers share one fetch.
pub struct WechatClient {
    /// Where the calls go, and how.
    upstream: Upstream,
    config: ProviderConfig,
    clock: Arc<dyn Clock>,
    token: Mutex<Option<CachedToken>>,
}

/// The cached access token. No `Debug`: it is a secret.
struct CachedToken {
    value: String,
    /// When to fetch a new one (ms), ahead of its expiry.
    refresh_at: Millis,
}

impl fmt::Debug for WechatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatClient")
            .field("config", &self.config)
            .field("http", &if self.upstream.ready() { "ready" } else { "unavailable" })
            .finish_non_exhaustive()
    }
}

impl WechatClient {
    /// A client that talks to `config.base_url` as `config.appid`, timing its
    /// access token by `clock` and counting failed calls in `metrics`.
    ///
    /// Installs ring as the process's default rustls crypto provider if none
    /// is installed yet. Server certificates are checked by the platform
    /// verifier against the system's roots; if the system has none, the
    /// client can still reach plain `http://` (a simulator) and every
    /// `https://` call fails as [`ProviderError::Unavailable`].
    pub fn new(config: ProviderConfig, clock: Arc<dyn Clock>, metrics: Metrics) -> Self {
        Self::with_timeout(config, clock, metrics, TIMEOUT)
    }

    fn with_timeout(config: ProviderConfig, clock: Arc<dyn Clock>, metrics: Metrics, timeout: Duration) -> Self {
        let upstream = Upstream::new(Provider::Wechat, &config.base_url, metrics, timeout);
        Self { upstream, config, clock, token: Mutex::new(None) }
    }

    /// `jscode2session`: the user behind a `wx.login()` code.
    pub async fn code_to_session(&self, js_code: &str) -> Result<Session, ProviderError> {
        let url = self.upstream.url(
            PATH_SESSION,
            &[
                ("appid", self.config.appid.as_str()),
                ("secret", self.config.secret.as_str()),
                ("js_code", js_code),
                ("grant_type", "authorization_code"),
            ],
        )?;
        let request = self.upstream.http()?.get(url);
        let answer: SessionAnswer = self.upstream.call(PATH_SESSION, request).await?;
        check(answer.errcode, &answer.errmsg)?;
        Session::from_answer(PATH_SESSION, answer.openid, answer.session_key, answer.unionid)
    }

    /// `getuserphonenumber`: the phone number behind a `getPhoneNumber` code.
    ///
    /// If WeChat refuses the cached access token, a new one is fetched and the
    /// call made once more; a second refusal is [`ProviderError::Credentials`].
    pub async fn phone_number(&self, code: &str) -> Result<PhoneInfo, ProviderError> {
        let token = self.access_token().await?;
        match self.phone_number_with(&token, code).await {
            Err(PhoneError::Token(_)) => {
                self.forget_token(&token).await;
                let token = self.access_token().await?;
                match self.phone_number_with(&token, code).await {
                    Err(PhoneError::Token(errcode)) => {
                        // The token WeChat just gave is refused: nothing left to try.
                        self.forget_token(&token).await;
                        Err(ProviderError::Credentials(errcode))
                    }
                    Err(PhoneError::Wechat(error)) => Err(error),
                    Ok(info) => Ok(info),
                }
            }
            Err(PhoneError::Wechat(error)) => Err(error),
            Ok(info) => Ok(info),
        }
    }

    async fn phone_number_with(&self, token: &str, code: &str) -> Result<PhoneInfo, PhoneError> {
        let url = self.upstream.url(PATH_PHONE, &[("access_token", token)])?;
        let request = self.upstream.http()?.post(url).json(&PhoneRequest { code });
        let answer: PhoneAnswer = self.upstream.call(PATH_PHONE, request).await?;
        if matches!(answer.errcode, 40001 | 42001 | 40014) {
            return Err(PhoneError::Token(answer.errcode));
        }
        check(answer.errcode, &answer.errmsg)?;
        let info = answer
            .phone_info
            .ok_or_else(|| ProviderError::Unavailable(format!("{PATH_PHONE}: the answer lacks phone_info")))?;
        Ok(info.into_phone_info(&self.config.appid)?)
    }

    /// The access token: the cached one while it is fresh, else a new one.
    /// The lock is held across the fetch, so concurrent callers share it.
    async fn access_token(&self) -> Result<String, ProviderError> {
        let mut cache = self.token.lock().await;
        if let Some(token) = cache.as_ref() {
            if self.clock.now() < token.refresh_at {
                return Ok(token.value.clone());
            }
        }
        let fetched = self.fetch_token().await?;
        let value = fetched.value.clone();
        *cache = Some(fetched);
        Ok(value)
    }

    /// Drops the cached token if it is still `stale` (another caller may
    /// already have replaced it).
    async fn forget_token(&self, stale: &str) {
        let mut cache = self.token.lock().await;
        if cache.as_ref().is_some_and(|token| token.value == stale) {
            *cache = None;
        }
    }

    async fn fetch_token(&self) -> Result<CachedToken, ProviderError> {
        // Timed from before the request: the token cannot be older than this.
        let asked_at = self.clock.now();
        let url = self.upstream.url(PATH_TOKEN, &[])?;
        let body =
            TokenRequest { grant_type: "client_credential", appid: &self.config.appid, secret: &self.config.secret };
        let request = self.upstream.http()?.post(url).json(&body);
        let answer: TokenAnswer = self.upstream.call(PATH_TOKEN, request).await?;
        if answer.errcode == 40001 {
            // From the token call, 40001 means the AppSecret is wrong.
            return Err(ProviderError::Credentials(40001));
        }
        check(answer.errcode, &answer.errmsg)?;
        let value = answer
            .access_token
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ProviderError::Unavailable(format!("{PATH_TOKEN}: the answer lacks access_token")))?;
        let expires_in = answer.expires_in.unwrap_or(7200);
        if expires_in <= 0 {
            return Err(ProviderError::Unavailable(format!("{PATH_TOKEN}: expires_in is {expires_in}")));
        }
        // Refresh 5 minutes early; for a token shorter-lived than 10 minutes
        // (WeChat gives 2 hours), halfway through.
        let keep_secs = if expires_in > 2 * TOKEN_REFRESH_MARGIN_SECS {
            expires_in - TOKEN_REFRESH_MARGIN_SECS
        } else {
            expires_in / 2
        };
        Ok(CachedToken { value, refresh_at: asked_at.saturating_add(keep_secs.saturating_mul(1000)) })
    }
}

/// Why one `getuserphonenumber` attempt failed.
enum PhoneError {
    /// WeChat refused the access token (its errcode).
    Token(i64),
    /// Anything else.
    Wechat(ProviderError),
}

impl From<ProviderError> for PhoneError {
    fn from(error: ProviderError) -> Self {
        Self::Wechat(error)
    }
}

/// `Ok` for errcode 0, else the error it stands for.
fn check(errcode: i64, errmsg: &str) -> Result<(), ProviderError> {
    match errcode {
        0 => Ok(()),
        40029 | 40163 => Err(ProviderError::InvalidCode),
        45011 => Err(ProviderError::RateLimited),
        -1 => Err(ProviderError::Busy),
        40013 | 40125 => Err(ProviderError::Credentials(errcode)),
        _ => Err(ProviderError::Other { errcode, errmsg: cut(errmsg) }),
    }
}

/// The stable token request: normal mode (no `force_refresh`). No
/// `Debug`: it holds the secret.
#[derive(serde::Serialize)]
struct TokenRequest<'a> {
    grant_type: &'static str,
    appid: &'a str,
    secret: &'a str,
}

#[derive(serde::Serialize)]
struct PhoneRequest<'a> {
    code: &'a str,
}

/// `jscode2session`'s answer. No `Debug`: it holds the session key.
#[derive(Deserialize)]
struct SessionAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    openid: Option<String>,
    session_key: Option<String>,
    unionid: Option<String>,
}

/// `/cgi-bin/stable_token`'s answer. No `Debug`: it holds the access token.
#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    access_token: Option<String>,
    expires_in: Option<i64>,
}

/// `getuserphonenumber`'s answer.
#[derive(Deserialize)]
struct PhoneAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    phone_info: Option<RawPhoneInfo>,
}

#[derive(Deserialize)]
struct RawPhoneInfo {
    #[serde(rename = "purePhoneNumber")]
    pure_phone_number: String,
    #[serde(rename = "countryCode")]
    country_code: CountryCode,
    watermark: Option<Watermark>,
}

/// Documented as a string, shown as a number in the documentation's example.
#[derive(Deserialize)]
#[serde(untagged)]
enum CountryCode {
    Text(String),
    Number(u64),
}

#[derive(Deserialize)]
struct Watermark {
    appid: String,
}

impl RawPhoneInfo {
    fn into_phone_info(self, appid: &str) -> Result<PhoneInfo, ProviderError> {
        match &self.watermark {
            Some(watermark) if watermark.appid == appid => {}
            Some(_) => {
                return Err(ProviderError::Unavailable(format!(
                    "{PATH_PHONE}: the phone number is watermarked for another AppID"
                )))
            }
            None => return Err(ProviderError::Unavailable(format!("{PATH_PHONE}: the phone number has no watermark"))),
        }
        let country_code = match self.country_code {
            CountryCode::Text(code) => code,
            CountryCode::Number(code) => code.to_string(),
        };
        PhoneNumber::from_parts(&country_code, &self.pure_phone_number)
            .map(PhoneInfo::from)
            .ok_or_else(|| ProviderError::Unavailable(format!("{PATH_PHONE}: phone_info is not a phone number")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::clock::ManualClock;
    use crate::server::wechat::serve_on_loopback as serve;
    use crate::server::wechat::simulator::{Simulator, RATE_LIMIT_PER_MINUTE};
    use axum::routing::{get, post};
    use axum::Router;
    use std::sync::atomic::{AtomicU32, Ordering};

    const APPID: &str = "wx0123456789abcdef";
    const SECRET: &str = "s3cr3t-0123456789abcdef0123456789";
    const START: Millis = 1_700_000_000_000;

    fn config(base_url: &str, appid: &str, secret: &str) -> ProviderConfig {
        ProviderConfig { base_url: base_url.to_owned(), appid: appid.to_owned(), secret: secret.to_owned() }
    }

    struct Setup {
        sim: Simulator,
        clock: Arc<ManualClock>,
        client: WechatClient,
        base: String,
    }

    impl Setup {
        fn client_as(&self, appid: &str, secret: &str) -> WechatClient {
            WechatClient::new(config(&self.base, appid, secret), self.clock.clone(), Metrics::disabled())
        }
    }

    async fn setup() -> Setup {
        let clock = Arc::new(ManualClock::new(START));
        let sim = Simulator::new(APPID, SECRET, clock.clone());
        let base = serve(sim.wechat_router().merge(sim.control_router())).await;
        let client = WechatClient::new(config(&base, APPID, SECRET), clock.clone(), Metrics::disabled());
        Setup { sim, clock, client, base }
    }

    #[tokio::test]
    async fn login_code_gives_openid_unionid_and_session_key() {
        let s = setup().await;
        let code = s.sim.mint_login_code("user_1", Some("union-1"));
        let session = s.client.code_to_session(&code).await.unwrap();
        assert_eq!(session.openid, "user_1");
        assert_eq!(session.unionid.as_deref(), Some("union-1"));
        assert_eq!(session.session_key.0.len(), 24, "base64 of 16 bytes");

        let code = s.sim.mint_login_code("user_2", None);
        let other = s.client.code_to_session(&code).await.unwrap();
        assert_eq!(other.openid, "user_2");
        assert_eq!(other.unionid, None);
        assert_ne!(other.session_key.0, session.session_key.0, "a new key per login");
    }

    #[tokio::test]
    async fn login_code_minted_over_http_works() {
        let s = setup().await;
        let http = reqwest::Client::builder().tls_certs_only(std::iter::empty()).build().unwrap();
        let answer: serde_json::Value = http
            .post(format!("{}/sim/wx/login", s.base))
            .json(&serde_json::json!({"openid": "o-http"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let code = answer["code"].as_str().unwrap();
        assert_eq!(s.client.code_to_session(code).await.unwrap().openid, "o-http");
    }

    #[tokio::test]
    async fn reused_code_is_invalid() {
        let s = setup().await;
        let code = s.sim.mint_login_code("user_1", None);
        s.client.code_to_session(&code).await.unwrap();
        assert_eq!(s.client.code_to_session(&code).await.unwrap_err(), ProviderError::InvalidCode);
        assert_eq!(s.client.code_to_session("no-such-code").await.unwrap_err(), ProviderError::InvalidCode);
    }

    #[tokio::test]
    async fn code_older_than_five_minutes_is_invalid() {
        let s = setup().await;
        let fresh = s.sim.mint_login_code("user_1", None);
        let stale = s.sim.mint_login_code("user_1", None);
        s.clock.advance(Duration::from_secs(299));
        s.client.code_to_session(&fresh).await.unwrap();
        s.clock.advance(Duration::from_secs(2));
        assert_eq!(s.client.code_to_session(&stale).await.unwrap_err(), ProviderError::InvalidCode);
    }

    #[tokio::test]
    async fn too_many_exchanges_per_minute_are_rate_limited() {
        let s = setup().await;
        let codes: Vec<String> =
            (0..=RATE_LIMIT_PER_MINUTE).map(|_| s.sim.mint_login_code("busy_user", None)).collect();
        for code in &codes[..RATE_LIMIT_PER_MINUTE as usize] {
            s.client.code_to_session(code).await.unwrap();
        }
        let last = &codes[RATE_LIMIT_PER_MINUTE as usize];
        assert_eq!(s.client.code_to_session(last).await.unwrap_err(), ProviderError::RateLimited);
        // Another user is not limited.
        let other = s.sim.mint_login_code("calm_user", None);
        s.client.code_to_session(&other).await.unwrap();
        // A minute later the same (unspent) code goes through.
        s.clock.advance(Duration::from_secs(60));
        assert_eq!(s.client.code_to_session(last).await.unwrap().openid, "busy_user");
    }

    #[tokio::test]
    async fn busy_then_ok() {
        let s = setup().await;
        let code = s.sim.mint_login_code("user_1", None);
        s.sim.set_busy(2);
        assert_eq!(s.client.code_to_session(&code).await.unwrap_err(), ProviderError::Busy);
        assert_eq!(s.client.code_to_session(&code).await.unwrap_err(), ProviderError::Busy);
        assert_eq!(s.client.code_to_session(&code).await.unwrap().openid, "user_1");

        let phone = s.sim.mint_phone_code("13800138000").unwrap();
        s.sim.set_busy(1);
        assert_eq!(s.client.phone_number(&phone).await.unwrap_err(), ProviderError::Busy);
        s.client.phone_number(&phone).await.unwrap();
    }

    #[tokio::test]
    async fn phone_code_gives_e164_number() {
        let s = setup().await;
        for input in ["13800138000", "+8613800138000"] {
            let code = s.sim.mint_phone_code(input).unwrap();
            let info = s.client.phone_number(&code).await.unwrap();
            assert_eq!(
                info,
                PhoneInfo {
                    phone_number: "+8613800138000".into(),
                    pure_phone_number: "13800138000".into(),
                    country_code: "86".into(),
                }
            );
            assert_eq!(s.client.phone_number(&code).await.unwrap_err(), ProviderError::InvalidCode, "single use");
        }
        let code = s.sim.mint_phone_code("+14155550123").unwrap();
        let info = s.client.phone_number(&code).await.unwrap();
        assert_eq!((info.phone_number.as_str(), info.country_code.as_str()), ("+14155550123", "1"));

        let code = s.sim.mint_phone_code("13800138000").unwrap();
        s.clock.advance(Duration::from_secs(301));
        assert_eq!(s.client.phone_number(&code).await.unwrap_err(), ProviderError::InvalidCode, "expired");
        // A login code is no phone code.
        let login = s.sim.mint_login_code("user_1", None);
        assert_eq!(s.client.phone_number(&login).await.unwrap_err(), ProviderError::InvalidCode);
    }

    #[tokio::test]
    async fn access_token_is_cached_shared_and_refreshed_before_expiry() {
        let s = setup().await;
        for _ in 0..3 {
            let code = s.sim.mint_phone_code("13800138000").unwrap();
            s.client.phone_number(&code).await.unwrap();
        }
        assert_eq!(s.sim.stats().stable_token_requests, 1);
        assert_eq!(s.sim.stats().phone_requests, 3);

        // Still cached just before the 5-minute margin, refetched inside it.
        s.clock.advance(Duration::from_secs(7200 - 300 - 1));
        let code = s.sim.mint_phone_code("13800138000").unwrap();
        s.client.phone_number(&code).await.unwrap();
        assert_eq!(s.sim.stats().stable_token_requests, 1);
        s.clock.advance(Duration::from_secs(2));
        let code = s.sim.mint_phone_code("13800138000").unwrap();
        s.client.phone_number(&code).await.unwrap();
        assert_eq!(s.sim.stats().stable_token_requests, 2);

        // Long past the token's life: refreshed, never sent expired.
        s.clock.advance(Duration::from_secs(3 * 7200));
        let code = s.sim.mint_phone_code("13800138000").unwrap();
        s.client.phone_number(&code).await.unwrap();
        let stats = s.sim.stats();
        assert_eq!((stats.stable_token_requests, stats.phone_requests), (3, 6), "no call was refused");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_token_fetch() {
        let s = setup().await;
        let codes: Vec<String> = (0..4).map(|_| s.sim.mint_phone_code("13800138000").unwrap()).collect();
        let (a, b, c, d) = tokio::join!(
            s.client.phone_number(&codes[0]),
            s.client.phone_number(&codes[1]),
            s.client.phone_number(&codes[2]),
            s.client.phone_number(&codes[3]),
        );
        for result in [a, b, c, d] {
            result.unwrap();
        }
        assert_eq!(s.sim.stats().stable_token_requests, 1);

        // A second client for the same AppID (another server instance)
        // gets the same stable token, and neither disturbs the other: the
        // first goes on with its cached token without a refusal or refetch.
        let other = s.client_as(APPID, SECRET);
        other.phone_number(&s.sim.mint_phone_code("13800138000").unwrap()).await.unwrap();
        let stats = s.sim.stats();
        assert_eq!((stats.stable_token_requests, stats.live_access_tokens), (2, 1));
        s.clock.advance(Duration::from_secs(600));
        s.client.phone_number(&s.sim.mint_phone_code("13800138000").unwrap()).await.unwrap();
        other.phone_number(&s.sim.mint_phone_code("13800138000").unwrap()).await.unwrap();
        let stats = s.sim.stats();
        assert_eq!((stats.stable_token_requests, stats.phone_requests), (2, 7));
    }

    #[tokio::test]
    async fn revoked_access_token_is_refetched_once() {
        let s = setup().await;
        let code = s.sim.mint_phone_code("13800138000").unwrap();
        s.client.phone_number(&code).await.unwrap();
        s.sim.revoke_access_tokens();
        let code = s.sim.mint_phone_code("13900139000").unwrap();
        let info = s.client.phone_number(&code).await.unwrap();
        assert_eq!(info.phone_number, "+8613900139000");
        let stats = s.sim.stats();
        assert_eq!((stats.stable_token_requests, stats.phone_requests), (2, 3));
    }

    #[tokio::test]
    async fn wrong_credentials() {
        let s = setup().await;
        let code = s.sim.mint_login_code("user_1", None);
        let wrong_secret = s.client_as(APPID, "not-the-secret");
        assert_eq!(wrong_secret.code_to_session(&code).await.unwrap_err(), ProviderError::Credentials(40125));
        let phone = s.sim.mint_phone_code("13800138000").unwrap();
        assert_eq!(wrong_secret.phone_number(&phone).await.unwrap_err(), ProviderError::Credentials(40125));
        let wrong_appid = s.client_as("wx_not_ours", SECRET);
        assert_eq!(wrong_appid.code_to_session(&code).await.unwrap_err(), ProviderError::Credentials(40013));
        assert_eq!(wrong_appid.phone_number(&phone).await.unwrap_err(), ProviderError::Credentials(40013));
        // The code was not spent by the refused calls.
        assert_eq!(s.client.code_to_session(&code).await.unwrap().openid, "user_1");
    }

    #[tokio::test]
    async fn server_down_is_unavailable_and_leaks_no_secret() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let clock = Arc::new(ManualClock::new(START));
        let client = WechatClient::new(config(&format!("http://{address}"), APPID, SECRET), clock, Metrics::disabled());
        for error in [client.code_to_session("abc").await.unwrap_err(), client.phone_number("abc").await.unwrap_err()] {
            let ProviderError::Unavailable(why) = &error else { panic!("{error:?}") };
            assert!(why.contains("could not connect"), "{why}");
            assert!(!format!("{error} {error:?}").contains(SECRET), "{error}");
        }
    }

    #[tokio::test]
    async fn timeout_is_unavailable_and_leaks_no_secret() {
        let router = Router::new().route(
            "/sns/jscode2session",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "{}"
            }),
        );
        let base = serve(router).await;
        let clock = Arc::new(ManualClock::new(START));
        let timeout = Duration::from_millis(200);
        let client = WechatClient::with_timeout(config(&base, APPID, SECRET), clock, Metrics::disabled(), timeout);
        let error = client.code_to_session("abc").await.unwrap_err();
        let ProviderError::Unavailable(why) = &error else { panic!("{error:?}") };
        assert!(why.contains("timed out"), "{why}");
        assert!(!format!("{error} {error:?}").contains(SECRET));
    }

    /// A stand-in that answers each path with fixed JSON (or status) and
    /// counts the token fetches.
    async fn stub(session: &'static str, token: &'static str, phone: &'static str) -> (String, Arc<AtomicU32>) {
        let fetches = Arc::new(AtomicU32::new(0));
        let counter = fetches.clone();
        let reply = |body: &'static str| {
            if let Some(status) = body.strip_prefix("HTTP ") {
                let status = axum::http::StatusCode::from_u16(status.parse().unwrap()).unwrap();
                axum::response::IntoResponse::into_response((status, "nope"))
            } else {
                axum::response::IntoResponse::into_response(body)
            }
        };
        let router = Router::new()
            .route("/sns/jscode2session", get(move || async move { reply(session) }))
            .route(
                PATH_TOKEN,
                post(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    async move { reply(token) }
                }),
            )
            .route("/wxa/business/getuserphonenumber", post(move || async move { reply(phone) }));
        (serve(router).await, fetches)
    }

    const TOKEN_OK: &str = r#"{"access_token":"tok-123","expires_in":7200}"#;

    async fn stub_client(
        session: &'static str,
        token: &'static str,
        phone: &'static str,
    ) -> (WechatClient, Arc<AtomicU32>) {
        let (base, fetches) = stub(session, token, phone).await;
        let clock = Arc::new(ManualClock::new(START));
        (WechatClient::new(config(&base, APPID, SECRET), clock, Metrics::disabled()), fetches)
    }

    #[tokio::test]
    async fn token_refused_twice_is_a_credentials_error() {
        let refused =
            r#"{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest rid: x"}"#;
        let (client, fetches) = stub_client("{}", TOKEN_OK, refused).await;
        assert_eq!(client.phone_number("c").await.unwrap_err(), ProviderError::Credentials(40001));
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "one retry with a new token");
        // The refused token is not kept.
        assert_eq!(client.phone_number("c").await.unwrap_err(), ProviderError::Credentials(40001));
        assert_eq!(fetches.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn failed_calls_are_counted_by_api_and_known_errcode() {
        let metrics = Metrics::enabled();
        let client_of = |base: &str| {
            WechatClient::new(config(base, APPID, SECRET), Arc::new(ManualClock::new(START)), metrics.clone())
        };
        let (base, _) = stub(r#"{"errcode":40029,"errmsg":"invalid code"}"#, TOKEN_OK, r#"{"errcode":99999}"#).await;
        let client = client_of(&base);
        client.code_to_session("c").await.unwrap_err();
        client.code_to_session("c").await.unwrap_err();
        client.phone_number("c").await.unwrap_err();
        let (down, _) = stub("HTTP 502", TOKEN_OK, "{}").await;
        client_of(&down).code_to_session("c").await.unwrap_err();

        let text = metrics.exporter().unwrap().render();
        for (api, errcode, count) in
            [(PATH_SESSION, "40029", 2), (PATH_PHONE, "other", 1), (PATH_SESSION, "unavailable", 1)]
        {
            let line = format!("miniauth_wechat_errors_total{{api=\"{api}\",errcode=\"{errcode}\"}} {count}\n");
            assert!(text.contains(&line), "{line}{text}");
        }
        assert!(!text.contains("99999"), "unknown errcodes share one label: {text}");
        assert!(!text.contains(PATH_TOKEN), "a token fetch that worked is no error: {text}");
    }

    #[tokio::test]
    async fn phone_info_forms_wechat_uses() {
        // Mainland number without country code in phoneNumber, countryCode as a number.
        let answer = r#"{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":86,"watermark":{"timestamp":1637744274,"appid":"wx0123456789abcdef"}}}"#;
        let (client, _) = stub_client("{}", TOKEN_OK, answer).await;
        let info = client.phone_number("c").await.unwrap();
        assert_eq!(info.phone_number, "+8613800138000");
        assert_eq!(info.country_code, "86");

        let other_app = r#"{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86","watermark":{"timestamp":1637744274,"appid":"wx_someone_else"}}}"#;
        let (client, _) = stub_client("{}", TOKEN_OK, other_app).await;
        let error = client.phone_number("c").await.unwrap_err();
        assert!(matches!(&error, ProviderError::Unavailable(why) if why.contains("another AppID")), "{error:?}");

        let garbage = r#"{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"x","purePhoneNumber":"12ab","countryCode":"86","watermark":{"appid":"wx0123456789abcdef"}}}"#;
        let (client, _) = stub_client("{}", TOKEN_OK, garbage).await;
        assert!(matches!(client.phone_number("c").await, Err(ProviderError::Unavailable(_))));
    }

    #[tokio::test]
    async fn answers_that_are_not_the_api_are_unavailable() {
        for (session, what) in
            [("HTTP 502", "HTTP 502"), ("<html>busy</html>", "not WeChat's JSON"), ("{}", "lacks openid")]
        {
            let (client, _) = stub_client(session, TOKEN_OK, "{}").await;
            let error = client.code_to_session("c").await.unwrap_err();
            assert!(matches!(&error, ProviderError::Unavailable(why) if why.contains(what)), "{error:?}");
        }
        let (client, _) = stub_client("{}", r#"{"expires_in":7200}"#, "{}").await;
        assert!(matches!(client.phone_number("c").await, Err(ProviderError::Unavailable(_))));
    }

    #[tokio::test]
    async fn errcodes_map_to_errors() {
        let cases: [(&'static str, ProviderError); 7] = [
            (r#"{"errcode":40029,"errmsg":"invalid code, rid: 1"}"#, ProviderError::InvalidCode),
            (r#"{"errcode":40163,"errmsg":"code been used, rid: 1"}"#, ProviderError::InvalidCode),
            (r#"{"errcode":45011,"errmsg":"api minute-quota reach limit"}"#, ProviderError::RateLimited),
            (r#"{"errcode":-1,"errmsg":"system error"}"#, ProviderError::Busy),
            (r#"{"errcode":40013,"errmsg":"invalid appid"}"#, ProviderError::Credentials(40013)),
            (r#"{"errcode":40125,"errmsg":"invalid appsecret"}"#, ProviderError::Credentials(40125)),
            (
                r#"{"errcode":40226,"errmsg":"high risk user"}"#,
                ProviderError::Other { errcode: 40226, errmsg: "high risk user".into() },
            ),
        ];
        for (answer, expected) in cases {
            let (client, _) = stub_client(answer, TOKEN_OK, "{}").await;
            assert_eq!(client.code_to_session("c").await.unwrap_err(), expected, "{answer}");
        }
        // errcode 0 is success.
        let (client, _) =
            stub_client(r#"{"openid":"o1","session_key":"k","errcode":0,"errmsg":""}"#, TOKEN_OK, "{}").await;
        assert_eq!(client.code_to_session("c").await.unwrap().openid, "o1");
        // From the token call, 40001 is a wrong secret.
        let (client, fetches) = stub_client("{}", r#"{"errcode":40001,"errmsg":"invalid credential"}"#, "{}").await;
        assert_eq!(client.phone_number("c").await.unwrap_err(), ProviderError::Credentials(40001));
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn secrets_stay_out_of_debug_display_and_logs() {
        use std::io::Write;
        use std::sync::{Mutex as StdMutex, OnceLock};

        #[derive(Clone, Default)]
        struct Buffer(Arc<StdMutex<Vec<u8>>>);
        impl Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        // The global subscriber, not a scoped one: with tests running in
        // parallel, tracing's per-callsite interest cache loses events sent
        // under `set_default`. It also sees every other test's logs, which
        // must not hold these secrets either. No other test of this binary
        // installs one: if something did, this test fails rather than
        // checking nothing.
        static LOGS: OnceLock<Buffer> = OnceLock::new();
        let logs = LOGS.get_or_init(|| {
            let logs = Buffer::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("the log checks need the global subscriber, and another one was installed first");
            logs
        });

        let s = setup().await;
        let code = s.sim.mint_login_code("user_1", Some("u1"));
        let session = s.client.code_to_session(&code).await.unwrap();
        let key = session.session_key.0.clone();
        assert!(!format!("{session:?}").contains(&key));
        let phone = s.sim.mint_phone_code("13800138000").unwrap();
        s.client.phone_number(&phone).await.unwrap();
        s.sim.revoke_access_tokens();
        let phone = s.sim.mint_phone_code("13800138000").unwrap();
        s.client.phone_number(&phone).await.unwrap();
        let token = s.client.token.lock().await.as_ref().unwrap().value.clone();

        let wrong = s.client_as(APPID, "wrong-secret-value");
        let error = wrong.code_to_session(&code).await.unwrap_err();

        // Douyin's exchange goes through the same caller.
        const TT_APPID: &str = "tt0123456789abcdef";
        const TT_SECRET: &str = "douyin-s3cr3t-in-the-log-test";
        let douyin_sim = Simulator::new(APPID, SECRET, s.clock.clone()).with_douyin(TT_APPID, TT_SECRET);
        let douyin_base = serve(douyin_sim.douyin_router()).await;
        let douyin = super::super::DouyinClient::new(config(&douyin_base, TT_APPID, TT_SECRET), Metrics::disabled());
        let douyin_session = douyin.code_to_session(&douyin_sim.mint_douyin_code("tt_user_1", None)).await.unwrap();
        let douyin_key = douyin_session.session_key.0.clone();
        assert!(!format!("{douyin_session:?}").contains(&douyin_key));
        let refused = douyin.code_to_session("used-or-unknown").await.unwrap_err();
        let client_debug = format!("{:?} {:?} {douyin:?}", s.client, wrong);

        let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
        assert!(logs.contains("/sns/jscode2session") && logs.contains("errcode=40001"), "{logs}");
        assert!(logs.contains("/api/apps/v2/jscode2session") && logs.contains("errcode=40018"), "{logs}");
        assert!(!format!("{refused} {refused:?}").contains(TT_SECRET));
        for secret in [SECRET, "wrong-secret-value", key.as_str(), token.as_str(), TT_SECRET, douyin_key.as_str()] {
            assert!(!logs.contains(secret), "{secret} logged: {logs}");
            assert!(!format!("{error} {error:?}").contains(secret));
            assert!(!client_debug.contains(secret), "{client_debug}");
        }
    }
}
