//! State tokens: what carries an unbound identity (WeChat's, Douyin's, or a
//! chat contact) from the login answer to the bind call. Short-lived,
//! stored by hash, bound to the identity, and spent by the bind that
//! succeeds, in the same transaction as the binding itself.

use super::chat::links;
use super::clock::{secs, Millis};
use super::codes::Purpose;
use super::error::{AppError, AppResult};
use super::secrets::{new_token, token_hash};
use super::session_tokens::Method;
use super::users::{self, MiniProgramIdentity, NewUser};
use super::wechat::Provider;
use crate::protocol::{ApiErrorCode, BindChallenge, BindFlow, LoginResponse};
use sqlx::AnyPool;

/// Whether unbound identities may register, which decides the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Registration closed: bind to an existing user.
    SocialBind,
    /// Registration open: bind, or register a new user.
    UserRegister,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Self::SocialBind => "SOCIAL_BIND",
            Self::UserRegister => "USER_REGISTER",
        }
    }

    /// The flows offered in this mode to `identity`: only a WeChat Mini
    /// Program can ask WeChat for the user's phone number (not a Douyin one,
    /// nor a chat contact on the web).
    pub fn flows(self, identity: &Identity) -> Vec<BindFlow> {
        let last = match self {
            Self::SocialBind => BindFlow::Password,
            Self::UserRegister => BindFlow::Register,
        };
        let mut flows = vec![BindFlow::SmsCode, BindFlow::EmailCode, BindFlow::WechatCode, last];
        if let Identity::MiniProgram(MiniProgramIdentity { provider: Provider::Wechat, .. }) = identity {
            flows.insert(0, BindFlow::WechatPhone);
        }
        flows
    }

    /// The login answer that hands out `challenge`.
    pub fn answer(self, challenge: BindChallenge) -> LoginResponse {
        match self {
            Self::SocialBind => LoginResponse::SocialBind(challenge),
            Self::UserRegister => LoginResponse::UserRegister(challenge),
        }
    }
}

/// Who a state token carries, for a bind to attach to a user.
#[derive(Clone, Debug)]
pub enum Identity {
    /// A user of a WeChat or Douyin Mini Program (`wx.login`, `tt.login`).
    MiniProgram(MiniProgramIdentity),
    /// A bot's chat contact (chat sign-in on the web): the bind links it.
    Chat {
        /// The bot's id.
        bot_id: String,
        /// The contact's id at that bot.
        contact_id: String,
    },
}

impl Identity {
    /// The identity as the abuse budgets count it: `appid:openid`,
    /// `douyin:appid:openid`, or `chat:<bot>/<contact>`.
    pub fn key(&self) -> String {
        match self {
            Self::MiniProgram(identity) => identity.key(),
            Self::Chat { bot_id, contact_id } => format!("chat:{bot_id}/{contact_id}"),
        }
    }

    /// How this identity signed in: the first `amr` of a bind's session.
    pub fn method(&self) -> Method {
        match self {
            Self::MiniProgram(identity) => Method::login(identity.provider),
            Self::Chat { .. } => Method::Chat,
        }
    }

    /// The state token's columns: `kind` (the provider, `wechat` or
    /// `douyin`, or `chat`), `appid`, `openid`, `unionid` (for a chat
    /// contact, the bot's id and the contact's id).
    fn columns(&self) -> (&'static str, &str, &str, Option<&str>) {
        match self {
            Self::MiniProgram(m) => (m.provider.as_str(), &m.appid, &m.openid, m.unionid.as_deref()),
            Self::Chat { bot_id, contact_id } => ("chat", bot_id, contact_id, None),
        }
    }

    /// The identity [`Identity::columns`] stored.
    fn from_columns(kind: &str, appid: String, openid: String, unionid: Option<String>) -> Self {
        match kind {
            "chat" => Self::Chat { bot_id: appid, contact_id: openid },
            _ => {
                let provider = Provider::from_name(kind).unwrap_or(Provider::Wechat);
                Self::MiniProgram(MiniProgramIdentity { provider, appid, openid, unionid })
            }
        }
    }
}

/// A valid, unspent state token.
#[derive(Debug)]
pub struct Pending {
    /// The stored hash, to spend it.
    pub token_hash: Vec<u8>,
    /// The identity the token was issued to, which the bind attaches.
    pub identity: Identity,
    /// The registration mode when the token was issued; it, not the current
    /// setting, decides the flows this bind may use.
    pub mode: Mode,
}

impl Pending {
    /// The bind as the owner of the codes it asks for.
    pub fn code_owner(&self) -> super::codes::Owner<'_> {
        super::codes::Owner { token_hash: &self.token_hash, identity: self.identity.key(), purpose: Purpose::Bind }
    }
}

/// Issues a state token for `identity`.
pub async fn challenge(
    pool: &AnyPool,
    identity: &Identity,
    mode: Mode,
    ttl_ms: Millis,
    now: Millis,
) -> AppResult<BindChallenge> {
    let token = new_token();
    let (kind, appid, openid, unionid) = identity.columns();
    sqlx::query(
        "INSERT INTO state_tokens (token_hash, kind, appid, openid, unionid, mode, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token_hash(&token))
    .bind(kind)
    .bind(appid)
    .bind(openid)
    .bind(unionid)
    .bind(mode.as_str())
    .bind(now + ttl_ms)
    .execute(pool)
    .await?;
    Ok(BindChallenge { state_token: token, expires_in: secs(ttl_ms), flows: mode.flows(identity) })
}

#[derive(sqlx::FromRow)]
struct StateRow {
    kind: String,
    appid: String,
    openid: String,
    unionid: Option<String>,
    mode: String,
    expires_at: i64,
    spent_at: Option<i64>,
}

/// Reads a state token, checking it is unspent, unexpired and allows `flow`.
pub async fn pending(pool: &AnyPool, state_token: &str, flow: BindFlow, now: Millis) -> AppResult<Pending> {
    let hash = token_hash(state_token);
    let row: Option<StateRow> = sqlx::query_as(
        "SELECT kind, appid, openid, unionid, mode, expires_at, spent_at FROM state_tokens WHERE token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(pool)
    .await?;
    let invalid = || AppError::new(ApiErrorCode::InvalidStateToken, "unknown or already used state token");
    let Some(StateRow { kind, appid, openid, unionid, mode, expires_at, spent_at }) = row else {
        return Err(invalid());
    };
    if spent_at.is_some() {
        return Err(invalid());
    }
    if now >= expires_at {
        return Err(AppError::new(ApiErrorCode::StateTokenExpired, "the state token has expired; log in again"));
    }
    let mode = if mode == Mode::UserRegister.as_str() { Mode::UserRegister } else { Mode::SocialBind };
    let identity = Identity::from_columns(&kind, appid, openid, unionid);
    if !mode.flows(&identity).contains(&flow) {
        return Err(AppError::new(ApiErrorCode::FlowNotAllowed, "this bind flow is not offered for this login"));
    }
    Ok(Pending { token_hash: hash, identity, mode })
}

/// Whom a bind attaches the identity to.
#[derive(Debug)]
pub enum Target {
    /// An existing user, by id.
    Existing(String),
    /// A user created by this bind (USER_REGISTER only).
    New(NewUser),
}

/// Binds the pending identity to `target` (creating the user if new) and
/// spends the state token, in one transaction: all of it happens or none.
/// Returns the user's id.
pub async fn complete(pool: &AnyPool, pending: &Pending, target: Target, now: Millis) -> AppResult<String> {
    let mut tx = pool.begin().await?;
    let spent = sqlx::query("UPDATE state_tokens SET spent_at = $1 WHERE token_hash = $2 AND spent_at IS NULL")
        .bind(now)
        .bind(&pending.token_hash)
        .execute(&mut *tx)
        .await?;
    if spent.rows_affected() != 1 {
        return Err(AppError::new(ApiErrorCode::InvalidStateToken, "unknown or already used state token"));
    }
    let user_id = match target {
        Target::Existing(id) => id,
        Target::New(new) => users::create(&mut *tx, new, now).await?,
    };
    match &pending.identity {
        Identity::MiniProgram(identity) => users::bind_identity(&mut tx, identity, &user_id, now).await?,
        Identity::Chat { bot_id, contact_id } => {
            let contact = links::Contact { bot_id, contact_id, name: None, avatar: None };
            links::link(&mut tx, &contact, &user_id, links::Relink::Refuse, now).await?
        }
    }
    tx.commit().await?;
    Ok(user_id)
}
