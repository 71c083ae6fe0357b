//! WeChat's server API, over HTTP: a client for the three calls the login
//! flows need, and a simulator that speaks the same API (and fails the same
//! ways) for local use and tests, so the client's code path is always the
//! real one.
//!
//! | call | WeChat path |
//! |---|---|
//! | [`WechatClient::code_to_session`] | `GET /sns/jscode2session` |
//! | access token (cached) | `GET /cgi-bin/token` |
//! | [`WechatClient::phone_number`] | `POST /wxa/business/getuserphonenumber` |

mod client;
pub mod simulator;

pub use client::WechatClient;
pub use simulator::Simulator;

use std::fmt;

/// WeChat's production API.
pub const WECHAT_API: &str = "https://api.weixin.qq.com";

/// Where and as whom the client talks to WeChat.
#[derive(Clone)]
pub struct WechatConfig {
    /// Base URL of the API: [`WECHAT_API`], or a simulator's.
    pub base_url: String,
    /// The Mini Program's AppID.
    pub appid: String,
    /// The Mini Program's AppSecret.
    pub secret: String,
}

impl fmt::Debug for WechatConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatConfig")
            .field("base_url", &self.base_url)
            .field("appid", &self.appid)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What `jscode2session` answers for a valid code.
#[derive(Debug)]
pub struct Session {
    /// The user's id within this Mini Program.
    pub openid: String,
    /// The user's id across the developer's apps, when WeChat gives one.
    pub unionid: Option<String>,
    /// The key WeChat shares with this server for this login. It never leaves
    /// the server; its `Debug` is redacted.
    pub session_key: SessionKey,
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

/// Why a WeChat call failed, by what the server must do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WechatError {
    /// The code is unknown, expired or already used (40029, 40163).
    InvalidCode,
    /// This user asks too often (45011).
    RateLimited,
    /// WeChat is busy (-1): try again later.
    Busy,
    /// WeChat refused this server's own credentials (40013 AppID, 40125
    /// secret, 40001 access token after one retry): a configuration error.
    Credentials(i64),
    /// WeChat could not be reached, timed out, or answered with something
    /// that is not its API.
    Unavailable(String),
    /// Any other `errcode`.
    Other {
        /// WeChat's `errcode`.
        errcode: i64,
        /// WeChat's `errmsg`.
        errmsg: String,
    },
}

impl fmt::Display for WechatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCode => f.write_str("the WeChat code is invalid, expired or already used"),
            Self::RateLimited => f.write_str("WeChat rate-limited this user (45011)"),
            Self::Busy => f.write_str("WeChat is busy (-1)"),
            Self::Credentials(code) => write!(f, "WeChat refused this server's credentials ({code})"),
            Self::Unavailable(why) => write!(f, "WeChat is unavailable: {why}"),
            Self::Other { errcode, errmsg } => write!(f, "WeChat error {errcode}: {errmsg}"),
        }
    }
}

impl std::error::Error for WechatError {}
