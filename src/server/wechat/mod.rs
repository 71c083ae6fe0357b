//! The server APIs of the Mini Program platforms, over HTTP: WeChat's (the
//! three calls the login flows need) and Douyin's (its code exchange), and
//! a simulator that speaks both (and fails the same ways) for local use and
//! tests, so the clients' code path is always the real one.
//!
//! | call | path |
//! |---|---|
//! | [`WechatClient::code_to_session`] | WeChat's `GET /sns/jscode2session` |
//! | access token (cached) | WeChat's `POST /cgi-bin/stable_token` |
//! | [`WechatClient::phone_number`] | WeChat's `POST /wxa/business/getuserphonenumber` |
//! | [`DouyinClient::code_to_session`] | Douyin's `POST /api/apps/v2/jscode2session` |
//!
//! Both clients send through one caller, `upstream.rs` (timeout, answer size
//! limit, metrics, logs), and answer the same [`Session`] and
//! [`ProviderError`]; what differs is only each platform's request, answer
//! and error numbers.

mod client;
mod douyin;
pub mod simulator;
mod upstream;

pub use client::WechatClient;
pub use douyin::DouyinClient;
pub use simulator::Simulator;

use std::fmt;

/// WeChat's production API.
pub const WECHAT_API: &str = "https://api.weixin.qq.com";

/// Douyin's production API for Mini Programs.
pub const DOUYIN_API: &str = "https://developer.toutiao.com";

/// The Mini Program platform a user signs in through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    /// WeChat (`wx.login`).
    Wechat,
    /// Douyin, ByteDance's (`tt.login`).
    Douyin,
}

impl Provider {
    /// The name the database stores (`wechat_identities.provider`,
    /// `state_tokens.kind`): `wechat` or `douyin`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Wechat => "wechat",
            Self::Douyin => "douyin",
        }
    }

    /// The name people read: `WeChat` or `Douyin`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Wechat => "WeChat",
            Self::Douyin => "Douyin",
        }
    }

    /// The provider [`Provider::as_str`] names.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Wechat, Self::Douyin].into_iter().find(|provider| provider.as_str() == name)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where and as whom a client talks to a platform.
#[derive(Clone)]
pub struct ProviderConfig {
    /// Base URL of the API: [`WECHAT_API`], [`DOUYIN_API`], or a simulator's.
    pub base_url: String,
    /// The Mini Program's AppID.
    pub appid: String,
    /// The Mini Program's AppSecret.
    pub secret: String,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("base_url", &self.base_url)
            .field("appid", &self.appid)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What a platform's `jscode2session` answers for a valid code.
#[derive(Debug)]
pub struct Session {
    /// The user's id within this Mini Program.
    pub openid: String,
    /// The user's id across the developer's apps on the same platform, when
    /// the platform gives one.
    pub unionid: Option<String>,
    /// The key the platform shares with this server for this login. It never
    /// leaves the server; its `Debug` is redacted.
    pub session_key: SessionKey,
}

impl Session {
    /// The session a code exchange at `path` answered: `openid` and
    /// `session_key` must be there and not empty, an empty `unionid` is
    /// none.
    fn from_answer(
        path: &str,
        openid: Option<String>,
        session_key: Option<String>,
        unionid: Option<String>,
    ) -> Result<Self, ProviderError> {
        let openid = openid.filter(|openid| !openid.is_empty());
        let session_key = session_key.filter(|key| !key.is_empty());
        let (Some(openid), Some(session_key)) = (openid, session_key) else {
            return Err(ProviderError::Unavailable(format!("{path}: the answer lacks openid or session_key")));
        };
        Ok(Self {
            openid,
            unionid: unionid.filter(|unionid| !unionid.is_empty()),
            session_key: SessionKey(session_key),
        })
    }
}

/// `session_key`: a secret, never logged, never answered.
pub struct SessionKey(pub String);

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

/// The phone number WeChat vouches for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneInfo {
    /// With country code, for example `+8613800138000`.
    pub phone_number: String,
    /// Without country code, for example `13800138000`.
    pub pure_phone_number: String,
    /// The country calling code, for example `86`.
    pub country_code: String,
}

/// Why a call to a platform's API failed, by what the server must do about
/// it. The errors of both platforms: the error numbers are WeChat's
/// `errcode` and Douyin's `err_no`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderError {
    /// The code is unknown, expired or already used (WeChat 40029, 40163;
    /// Douyin 40018).
    InvalidCode,
    /// This user asks too often (WeChat 45011).
    RateLimited,
    /// The platform is busy (-1): try again later.
    Busy,
    /// The platform refused this server's own credentials (WeChat 40013
    /// AppID, 40125 secret, 40001 access token after one retry; Douyin 40015
    /// AppID, 40017 secret): a configuration error.
    Credentials(i64),
    /// The platform could not be reached, timed out, or answered with
    /// something that is not its API.
    Unavailable(String),
    /// Any other error number.
    Other {
        /// WeChat's `errcode`, Douyin's `err_no`.
        errcode: i64,
        /// WeChat's `errmsg`, Douyin's `err_tips`.
        errmsg: String,
    },
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCode => f.write_str("the code is invalid, expired or already used"),
            Self::RateLimited => f.write_str("rate-limited this user (45011)"),
            Self::Busy => f.write_str("busy (-1)"),
            Self::Credentials(code) => write!(f, "refused this server's credentials ({code})"),
            Self::Unavailable(why) => write!(f, "unavailable: {why}"),
            Self::Other { errcode, errmsg } => write!(f, "error {errcode}: {errmsg}"),
        }
    }
}

impl std::error::Error for ProviderError {}

/// Serves `router` on a loopback port of its own for a test; answers its base URL.
#[cfg(test)]
async fn serve_on_loopback(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}
