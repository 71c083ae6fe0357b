//! The HTTP client for Douyin's code exchange, the one Douyin call sign-in
//! needs.
//!
//! What Douyin's documentation (developer.open-douyin.com, Mini Program
//! server API, "code2Session") says, and what this code relies on:
//!
//! * `POST /api/apps/v2/jscode2session` with the JSON body `{"appid",
//!   "secret", "code", "anonymous_code"}` (a `tt.login` code, single use;
//!   `anonymous_code` is for anonymous users, whom this server does not
//!   sign in, so it is always empty).
//! * The answer is `{"err_no", "err_tips", "log_id", "data": {"session_key",
//!   "openid", "anonymous_openid", "unionid"}}`, `err_no` 0 for success:
//!   40015 a wrong AppID, 40017 a wrong AppSecret, 40018 a wrong or used
//!   code, 40019 a wrong `anonymous_code`, -1 a system error (try again).
//!   `unionid` is empty when the user has none.
//!
//! The AppSecret travels in the body, never in a URL; the `session_key` only
//! lives in [`SessionKey`](super::SessionKey), whose `Debug` is redacted.
//! Logs are `debug` and carry the path and the `err_no` only.

use super::upstream::{cut, Upstream, TIMEOUT};
use super::{Provider, ProviderConfig, ProviderError, Session};
use crate::server::telemetry::Metrics;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

pub(super) const PATH_SESSION: &str = "/api/apps/v2/jscode2session";

/// A client for Douyin's Mini Program server API (or a
/// [`Simulator`](super::Simulator)'s). Cheap to share behind an `Arc`.
pub struct DouyinClient {
    upstream: Upstream,
    config: ProviderConfig,
}

impl fmt::Debug for DouyinClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DouyinClient")
            .field("config", &self.config)
            .field("http", &if self.upstream.ready() { "ready" } else { "unavailable" })
            .finish()
    }
}

impl DouyinClient {
    /// A client that talks to `config.base_url` as `config.appid`, counting
    /// failed calls in `metrics`; certificates are checked as
    /// [`WechatClient::new`](super::WechatClient::new) checks them.
    pub fn new(config: ProviderConfig, metrics: Metrics) -> Self {
        Self::with_timeout(config, metrics, TIMEOUT)
    }

    fn with_timeout(config: ProviderConfig, metrics: Metrics, timeout: Duration) -> Self {
        Self { upstream: Upstream::new(Provider::Douyin, &config.base_url, metrics, timeout), config }
    }

    /// The Mini Program's AppID.
    pub fn appid(&self) -> &str {
        &self.config.appid
    }

    /// `jscode2session`: the user behind a `tt.login()` code.
    pub async fn code_to_session(&self, code: &str) -> Result<Session, ProviderError> {
        let url = self.upstream.url(PATH_SESSION, &[])?;
        let body = SessionRequest { appid: &self.config.appid, secret: &self.config.secret, code, anonymous_code: "" };
        let request = self.upstream.http()?.post(url).json(&body);
        let answer: SessionAnswer = self.upstream.call(PATH_SESSION, request).await?;
        check(answer.err_no, &answer.err_tips)?;
        let data = answer.data.unwrap_or_default();
        Session::from_answer(PATH_SESSION, data.openid, data.session_key, data.unionid)
    }
}

/// `Ok` for `err_no` 0, else the error it stands for. 40019 (a wrong
/// `anonymous_code`) cannot be the client's doing, since none is sent: it
/// is an unexpected answer, as any unknown number is.
fn check(err_no: i64, err_tips: &str) -> Result<(), ProviderError> {
    match err_no {
        0 => Ok(()),
        40018 => Err(ProviderError::InvalidCode),
        -1 => Err(ProviderError::Busy),
        40015 | 40017 => Err(ProviderError::Credentials(err_no)),
        _ => Err(ProviderError::Other { errcode: err_no, errmsg: cut(err_tips) }),
    }
}

/// The request. No `Debug`: it holds the secret.
#[derive(serde::Serialize)]
struct SessionRequest<'a> {
    appid: &'a str,
    secret: &'a str,
    code: &'a str,
    anonymous_code: &'a str,
}

/// The answer. No `Debug`: it holds the session key.
#[derive(Deserialize)]
struct SessionAnswer {
    #[serde(default)]
    err_no: i64,
    #[serde(default)]
    err_tips: String,
    /// Absent, `null` or empty when the call failed.
    #[serde(default)]
    data: Option<SessionData>,
}

#[derive(Default, Deserialize)]
struct SessionData {
    openid: Option<String>,
    session_key: Option<String>,
    unionid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::clock::{ManualClock, Millis};
    use crate::server::wechat::serve_on_loopback as serve;
    use crate::server::wechat::simulator::Simulator;
    use axum::routing::post;
    use axum::Router;
    use std::sync::Arc;

    const APPID: &str = "tt0123456789abcdef";
    const SECRET: &str = "douyin-s3cr3t-0123456789abcdef01234";
    const START: Millis = 1_700_000_000_000;

    fn client(base_url: &str, appid: &str, secret: &str) -> DouyinClient {
        let config = ProviderConfig { base_url: base_url.into(), appid: appid.into(), secret: secret.into() };
        DouyinClient::new(config, Metrics::disabled())
    }

    /// A simulator serving Douyin as (APPID, SECRET), and its address.
    async fn simulator() -> (Simulator, Arc<ManualClock>, String) {
        let clock = Arc::new(ManualClock::new(START));
        let sim = Simulator::new("wx_unused", "unused", clock.clone()).with_douyin(APPID, SECRET);
        let base = serve(sim.douyin_router().merge(sim.control_router())).await;
        (sim, clock, base)
    }

    /// A stand-in that answers the exchange with `body` (or `HTTP <status>`).
    async fn stub(body: &'static str) -> DouyinClient {
        let router = Router::new().route(
            PATH_SESSION,
            post(move || async move {
                match body.strip_prefix("HTTP ") {
                    Some(status) => {
                        let status = axum::http::StatusCode::from_u16(status.parse().unwrap()).unwrap();
                        axum::response::IntoResponse::into_response((status, "nope"))
                    }
                    None => axum::response::IntoResponse::into_response(body),
                }
            }),
        );
        client(&serve(router).await, APPID, SECRET)
    }

    #[tokio::test]
    async fn a_code_gives_openid_unionid_and_session_key_once() {
        let (sim, _, base) = simulator().await;
        let douyin = client(&base, APPID, SECRET);
        let code = sim.mint_douyin_code("tt_user_1", Some("tt_union_1"));
        let session = douyin.code_to_session(&code).await.unwrap();
        assert_eq!(session.openid, "tt_user_1");
        assert_eq!(session.unionid.as_deref(), Some("tt_union_1"));
        assert_eq!(session.session_key.0.len(), 24, "base64 of 16 bytes");
        assert_eq!(douyin.code_to_session(&code).await.unwrap_err(), ProviderError::InvalidCode, "single use");
        assert_eq!(douyin.code_to_session("never-issued").await.unwrap_err(), ProviderError::InvalidCode);
        let code = sim.mint_douyin_code("tt_user_2", None);
        assert_eq!(douyin.code_to_session(&code).await.unwrap().unionid, None, "an empty unionid is none");
        assert_eq!(sim.stats().douyin_session_requests, 4);
    }

    #[tokio::test]
    async fn codes_of_one_platform_are_no_codes_at_the_other() {
        let (sim, _, base) = simulator().await;
        let wechat_code = sim.mint_login_code("o_wechat", None);
        assert_eq!(
            client(&base, APPID, SECRET).code_to_session(&wechat_code).await.unwrap_err(),
            ProviderError::InvalidCode
        );
    }

    #[tokio::test]
    async fn wrong_credentials_and_busy_do_not_spend_the_code() {
        let (sim, _, base) = simulator().await;
        let code = sim.mint_douyin_code("tt_user_1", None);
        let wrong_appid = client(&base, "tt_not_ours", SECRET).code_to_session(&code).await;
        assert_eq!(wrong_appid.unwrap_err(), ProviderError::Credentials(40015));
        let wrong_secret = client(&base, APPID, "not-the-secret").code_to_session(&code).await;
        assert_eq!(wrong_secret.unwrap_err(), ProviderError::Credentials(40017));
        sim.set_douyin_busy(1);
        assert_eq!(client(&base, APPID, SECRET).code_to_session(&code).await.unwrap_err(), ProviderError::Busy);
        assert_eq!(client(&base, APPID, SECRET).code_to_session(&code).await.unwrap().openid, "tt_user_1");
    }

    #[tokio::test]
    async fn a_code_lives_five_minutes() {
        let (sim, clock, base) = simulator().await;
        let code = sim.mint_douyin_code("tt_user_1", None);
        clock.advance(Duration::from_secs(300));
        assert_eq!(client(&base, APPID, SECRET).code_to_session(&code).await.unwrap_err(), ProviderError::InvalidCode);
    }

    #[tokio::test]
    async fn err_no_maps_to_errors() {
        let cases: [(&'static str, ProviderError); 6] = [
            (r#"{"err_no":40018,"err_tips":"bad code","log_id":"x","data":{}}"#, ProviderError::InvalidCode),
            (r#"{"err_no":-1,"err_tips":"system error","log_id":"x"}"#, ProviderError::Busy),
            (r#"{"err_no":40015,"err_tips":"bad appid","data":null}"#, ProviderError::Credentials(40015)),
            (r#"{"err_no":40017,"err_tips":"bad secret"}"#, ProviderError::Credentials(40017)),
            (
                r#"{"err_no":40019,"err_tips":"bad anonymous_code"}"#,
                ProviderError::Other { errcode: 40019, errmsg: "bad anonymous_code".into() },
            ),
            (
                r#"{"err_no":28001005,"err_tips":"internal error"}"#,
                ProviderError::Other { errcode: 28001005, errmsg: "internal error".into() },
            ),
        ];
        for (answer, expected) in cases {
            assert_eq!(stub(answer).await.code_to_session("c").await.unwrap_err(), expected, "{answer}");
        }
        let ok = r#"{"err_no":0,"err_tips":"success","log_id":"x","data":{"session_key":"k","openid":"o1","anonymous_openid":"","unionid":""}}"#;
        let session = stub(ok).await.code_to_session("c").await.unwrap();
        assert_eq!((session.openid.as_str(), session.unionid), ("o1", None));
    }

    #[tokio::test]
    async fn answers_that_are_not_the_api_are_unavailable() {
        let huge: &'static str = Box::leak(format!(r#"{{"err_no":0,"pad":"{}"}}"#, "x".repeat(70_000)).into());
        for (answer, what) in [
            ("HTTP 502", "HTTP 502"),
            ("<html>busy</html>", "not Douyin's JSON"),
            (r#"{"err_no":"0"}"#, "not Douyin's JSON"),
            (r#"{"err_no":0,"err_tips":"success","data":{"openid":"o1"}}"#, "lacks openid or session_key"),
            (r#"{"err_no":0}"#, "lacks openid or session_key"),
            (huge, "larger than 65536 bytes"),
        ] {
            let error = stub(answer).await.code_to_session("c").await.unwrap_err();
            assert!(matches!(&error, ProviderError::Unavailable(why) if why.contains(what)), "{what}: {error:?}");
        }
    }

    #[tokio::test]
    async fn a_slow_or_absent_douyin_is_unavailable_and_leaks_no_secret() {
        let router = Router::new().route(
            PATH_SESSION,
            post(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "{}"
            }),
        );
        let config = ProviderConfig { base_url: serve(router).await, appid: APPID.into(), secret: SECRET.into() };
        let slow = DouyinClient::with_timeout(config, Metrics::disabled(), Duration::from_millis(200));
        let error = slow.code_to_session("abc").await.unwrap_err();
        assert!(matches!(&error, ProviderError::Unavailable(why) if why.contains("timed out")), "{error:?}");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let absent = client(&format!("http://{address}"), APPID, SECRET).code_to_session("abc").await.unwrap_err();
        assert!(matches!(&absent, ProviderError::Unavailable(why) if why.contains("could not connect")), "{absent:?}");
        for text in [format!("{error} {error:?} {absent} {absent:?}"), format!("{slow:?}")] {
            assert!(!text.contains(SECRET), "{text}");
        }
    }

    #[tokio::test]
    async fn failed_calls_are_counted_by_path_and_known_err_no() {
        let metrics = Metrics::enabled();
        let (sim, _, base) = simulator().await;
        let config = ProviderConfig { base_url: base, appid: APPID.into(), secret: "wrong".into() };
        let douyin = DouyinClient::new(config, metrics.clone());
        douyin.code_to_session(&sim.mint_douyin_code("tt_1", None)).await.unwrap_err();
        let text = metrics.exporter().unwrap().render();
        let line = format!("miniauth_wechat_errors_total{{api=\"{PATH_SESSION}\",errcode=\"40017\"}} 1\n");
        assert!(text.contains(&line), "{line}{text}");
    }
}
