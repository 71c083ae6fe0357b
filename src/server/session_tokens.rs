//! Sessions: the id_token (a signed JWT) and the session_token (an opaque
//! 256-bit secret, stored only as a hash) that refreshes it.
//!
//! Every refresh rotates the session_token. The tokens rotated from one
//! login form a family:
//! * the previous token replayed within [`Settings::refresh_grace_ms`] gets
//!   the same new pair (a client that lost the answer retries safely, and
//!   concurrent refreshes of one token yield one new token);
//! * replayed later, it revokes the whole family (RFC 9700 §4.14.2: a stolen
//!   token that was used by the thief or by the owner shows up here);
//! * idle and absolute lifetimes end a family; logout revokes it.

use super::chat::rooms;
use super::clock::{secs, Millis};
use super::db::Db;
use super::error::{AppError, AppResult};
use super::keys::KeyRing;
use super::ratelimit::{RateLimiter, Scope};
use super::rotations::{self, NewToken, Rotations};
use super::secrets::{derived_token, new_id, new_token, token_hash};
use super::telemetry::{Metrics, RefreshOutcome};
use super::users::{User, UserRow, USER_COLUMNS};
use super::wechat::Provider;
use crate::protocol::{ApiErrorCode, Tokens, UserInfo};
use serde::Serialize;
use sqlx::AnyPool;

/// Lifetimes and names that go into tokens.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `iss` of id_tokens.
    pub issuer: String,
    /// `aud` of id_tokens (the Mini Program's AppID by default).
    pub audience: String,
    /// id_token lifetime.
    pub id_token_ttl_ms: Millis,
    /// A session_token unused this long expires.
    pub session_idle_ttl_ms: Millis,
    /// A login's sessions end this long after it, however they are used.
    pub session_absolute_ttl_ms: Millis,
    /// How long a rotated session_token still gets the same new pair.
    pub refresh_grace_ms: Millis,
}

/// How the user proved who they are (RFC 8176 values where they exist).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// WeChat login (`wx.login` code).
    Wechat,
    /// Douyin login (`tt.login` code).
    Douyin,
    /// A phone number WeChat vouched for.
    WechatPhone,
    /// A one-time code by SMS.
    Sms,
    /// A one-time code by email.
    Email,
    /// A username and password (`amr` `pwd`).
    Password,
    /// A challenge sent to a chat bot from a linked contact.
    Chat,
}

impl Method {
    /// A code login at `provider`.
    pub fn login(provider: Provider) -> Self {
        match provider {
            Provider::Wechat => Self::Wechat,
            Provider::Douyin => Self::Douyin,
        }
    }

    fn amr(self) -> &'static str {
        match self {
            Self::Wechat => "wechat",
            Self::Douyin => "douyin",
            Self::WechatPhone => "wechat_phone",
            Self::Sms => "sms",
            Self::Email => "otp",
            Self::Password => "pwd",
            Self::Chat => "chat",
        }
    }
}

/// The claims of an id_token: the session's, then the user's profile as
/// `/v1/userinfo` shows it (`sub` included). `jti` makes every token
/// unique, even two issued in the same second with the same claims.
#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    auth_time: i64,
    amr: &'a [String],
    #[serde(flatten)]
    profile: UserInfo,
}

/// Issues id_tokens and session tokens.
pub struct Sessions {
    settings: Settings,
    /// The server secret a rotated token's successor is derived with
    /// ([`derived_token`]): every instance, and the same instance after a
    /// restart, gives a retried refresh the same new token. Nothing about a
    /// rotation is kept in memory.
    rotation_key: Vec<u8>,
    /// Counts refresh outcomes.
    metrics: Metrics,
    /// Stores rotations, many in one commit under load.
    rotations: Rotations,
}

/// The domain of the `jti` derived from a rotated session's new token.
const JTI_DOMAIN: &[u8] = b"miniauth id_token jti";

impl Sessions {
    /// Sessions with `settings`, deriving rotated tokens with `rotation_key`,
    /// storing them through `rotations` and counting refresh outcomes in
    /// `metrics`.
    pub fn new(settings: Settings, rotation_key: Vec<u8>, rotations: Rotations, metrics: Metrics) -> Self {
        Self { settings, rotation_key, metrics, rotations }
    }

    /// The issuer, audience and lifetimes given to [`Sessions::new`]; fixed
    /// for the server's life.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Starts a session for `user` after a login or bind.
    pub async fn start(
        &self,
        db: &Db,
        keys: &KeyRing,
        user: &User,
        methods: &[Method],
        now: Millis,
    ) -> AppResult<Tokens> {
        let amr: Vec<String> = methods.iter().map(|m| m.amr().to_string()).collect();
        let family_id = new_id("fam");
        let session_token = new_token();
        let id_token = self.id_token(keys, rooms::profile(&db.read, user).await?, &amr, now, now, new_id("idt"))?;
        let mut tx = db.write.begin().await?;
        sqlx::query(
            "INSERT INTO session_families (id, user_id, amr, auth_time, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&family_id)
        .bind(&user.id)
        .bind(serde_json::to_string(&amr).map_err(AppError::internal)?)
        .bind(now)
        .bind(now)
        .bind(now + self.settings.session_absolute_ttl_ms)
        .execute(&mut *tx)
        .await?;
        let token = self.new_token(&family_id, &session_token, None, now);
        if !rotations::insert(&mut tx, &[&token]).await?.contains(&token.hash) {
            return Err(AppError::internal("a new session token collided with a stored one"));
        }
        tx.commit().await?;
        Ok(self.tokens(id_token, session_token, now, now, now + self.settings.session_absolute_ttl_ms))
    }

    /// Rotates `session_token`: see the module documentation. Each answer
    /// about the session is counted by its outcome.
    /// Replays are caught before `limits` is asked: reuse detection never
    /// waits behind a rate limit. The limit counts per session family, so
    /// that a chain of rotations is bounded however many tokens it has.
    pub async fn refresh(
        &self,
        db: &Db,
        keys: &KeyRing,
        limits: &RateLimiter,
        session_token: &str,
        now: Millis,
    ) -> AppResult<Tokens> {
        let refreshed = self.rotate(db, keys, limits, session_token, now).await;
        let outcome = match &refreshed {
            Ok(Refreshed::Rotated(_)) => Some(RefreshOutcome::Rotated),
            Ok(Refreshed::GraceReplay(_)) => Some(RefreshOutcome::GraceReplay),
            Ok(Refreshed::ReuseDetected) => Some(RefreshOutcome::ReuseDetected),
            // A failure of the server's own says nothing about the session:
            // the request metrics count it as a 500.
            Err(error) if error.code() == ApiErrorCode::Internal => None,
            Err(_) => Some(RefreshOutcome::Refused),
        };
        if let Some(outcome) = outcome {
            self.metrics.refresh(outcome);
        }
        match refreshed? {
            Refreshed::Rotated(tokens) | Refreshed::GraceReplay(tokens) => Ok(tokens),
            Refreshed::ReuseDetected => {
                Err(AppError::invalid_session("the session token was already used; the session is revoked"))
            }
        }
    }

    async fn rotate(
        &self,
        db: &Db,
        keys: &KeyRing,
        limits: &RateLimiter,
        session_token: &str,
        now: Millis,
    ) -> AppResult<Refreshed> {
        let hash = token_hash(session_token);
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT t.family_id, t.idle_expires_at, t.rotated_at, f.amr, f.auth_time,
                    f.expires_at AS family_expires_at, f.revoked_at, {USER_COLUMNS}, {}
             FROM session_tokens t JOIN session_families f ON f.id = t.family_id JOIN users ON users.id = f.user_id
             WHERE t.token_hash = $1",
            rooms::LINKED_CONTACTS
        ))
        .bind(&hash)
        // A read that races a rotation is safe: only one successor gets in,
        // and the loser learns of the winner below.
        .fetch_optional(&db.read)
        .await?;
        let Some(row) = row else {
            return Err(AppError::invalid_session("unknown session token"));
        };
        if row.revoked_at.is_some() {
            return Err(AppError::invalid_session("the session was revoked"));
        }
        if now >= row.family_expires_at || (row.rotated_at.is_none() && now >= row.idle_expires_at) {
            return Err(AppError::invalid_session("the session has expired"));
        }
        // The successor is the same whoever rotates: this request, a
        // concurrent one on another instance, or an earlier one whose answer
        // was lost.
        let successor = derived_token(&self.rotation_key, session_token);
        let (rotated_at, rotated_here) = match row.rotated_at {
            Some(rotated_at) => (rotated_at, false),
            None => {
                limits.check_account(Scope::Refresh, &format!("family:{}", row.family_id))?;
                match self.rotate_once(&db.write, &hash, &row.family_id, &successor, now).await? {
                    Some(rotated_at) => (rotated_at, false),
                    None => (now, true),
                }
            }
        };
        if now - rotated_at > self.settings.refresh_grace_ms {
            self.revoke_family(&db.write, &row.family_id, "replay", now).await?;
            tracing::warn!(family = %row.family_id, "rotated session token replayed; session family revoked");
            return Ok(Refreshed::ReuseDetected);
        }
        let user = User::from(row.user);
        let amr: Vec<String> = serde_json::from_str(&row.amr).map_err(AppError::internal)?;
        // Issued as of the rotation, with a jti of the successor's: a retry
        // gets the same claims (and, with RS256 and EdDSA, the same token)
        // unless the profile or the rooms changed in between.
        let jti = format!("idt_{}", &derived_token(JTI_DOMAIN, &successor)[..22]);
        let profile = rooms::profile_of(&db.read, &user, row.linked_contacts).await?;
        let id_token = self.id_token(keys, profile, &amr, row.auth_time, rotated_at, jti)?;
        let tokens = self.tokens(id_token, successor, rotated_at, now, row.family_expires_at);
        Ok(if rotated_here { Refreshed::Rotated(tokens) } else { Refreshed::GraceReplay(tokens) })
    }

    /// Stores the successor of the token with `hash`, which marks that token
    /// rotated, unless someone rotated it first: then answers when that was.
    /// Of concurrent rotations, on any instance, exactly one succeeds.
    async fn rotate_once(
        &self,
        pool: &AnyPool,
        hash: &[u8],
        family_id: &str,
        successor: &str,
        now: Millis,
    ) -> AppResult<Option<Millis>> {
        let successor = self.new_token(family_id, successor, Some(hash.to_vec()), now);
        if self.rotations.rotate(successor).await.map_err(AppError::internal)? {
            return Ok(None);
        }
        let (rotated_at,): (Option<i64>,) =
            sqlx::query_as("SELECT rotated_at FROM session_tokens WHERE token_hash = $1")
                .bind(hash)
                .fetch_one(pool)
                .await?;
        rotated_at.map(Some).ok_or_else(|| AppError::internal("a session token neither rotated nor rotatable"))
    }

    /// Revokes the family of `session_token`, whichever of its tokens it is.
    /// An unknown token is not an error: the session is over either way.
    pub async fn logout(&self, pool: &AnyPool, session_token: &str, now: Millis) -> AppResult<()> {
        let family: Option<(String,)> = sqlx::query_as("SELECT family_id FROM session_tokens WHERE token_hash = $1")
            .bind(token_hash(session_token))
            .fetch_optional(pool)
            .await?;
        if let Some((family_id,)) = family {
            self.revoke_family(pool, &family_id, "logout", now).await?;
        }
        Ok(())
    }

    async fn revoke_family(&self, pool: &AnyPool, family_id: &str, reason: &str, now: Millis) -> AppResult<()> {
        sqlx::query(
            "UPDATE session_families SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(family_id)
        .execute(pool)
        .await?;
        Ok(())
    }

    /// `token` of `family_id` as stored, issued `now`; the successor of the
    /// token with hash `parent_hash` if given.
    fn new_token(&self, family_id: &str, token: &str, parent_hash: Option<Vec<u8>>, now: Millis) -> NewToken {
        NewToken {
            hash: token_hash(token),
            family_id: family_id.to_owned(),
            issued_at: now,
            idle_expires_at: now + self.settings.session_idle_ttl_ms,
            parent_hash,
        }
    }

    /// The answer for tokens issued at `issued_at`, with lifetimes as left
    /// at `now`.
    fn tokens(
        &self,
        id_token: String,
        session_token: String,
        issued_at: Millis,
        now: Millis,
        family_expires_at: Millis,
    ) -> Tokens {
        let session_left = self.settings.session_idle_ttl_ms.min(family_expires_at - now);
        Tokens {
            id_token,
            session_token,
            expires_in: secs(self.settings.id_token_ttl_ms - (now - issued_at)),
            session_expires_in: secs(session_left),
        }
    }

    /// Signs an id_token for the user of `profile` with the active key.
    fn id_token(
        &self,
        keys: &KeyRing,
        profile: UserInfo,
        amr: &[String],
        auth_time: Millis,
        issued_at: Millis,
        jti: String,
    ) -> AppResult<String> {
        let iat = issued_at.div_euclid(1000);
        let claims = IdTokenClaims {
            iss: &self.settings.issuer,
            aud: &self.settings.audience,
            iat,
            exp: iat + self.settings.id_token_ttl_ms / 1000,
            jti,
            auth_time: auth_time.div_euclid(1000),
            amr,
            profile,
        };
        let mut header = jsonwebtoken::Header::new(keys.active.alg);
        header.kid = Some(keys.active.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, &claims, &keys.active.encoding_key).map_err(AppError::internal)
    }
}

/// What [`Sessions::refresh`] did with a token it knew.
enum Refreshed {
    /// Issued a new pair.
    Rotated(Tokens),
    /// Gave the pair of a rotation within the grace window again.
    GraceReplay(Tokens),
    /// Revoked the family of a token replayed after the grace window.
    ReuseDetected,
}

/// A session token with its family and user, as a refresh reads it.
#[derive(sqlx::FromRow)]
struct TokenRow {
    family_id: String,
    idle_expires_at: i64,
    rotated_at: Option<i64>,
    amr: String,
    auth_time: i64,
    family_expires_at: i64,
    revoked_at: Option<i64>,
    #[sqlx(flatten)]
    user: UserRow,
    /// The user's linked contacts ([`rooms::LINKED_CONTACTS`]).
    linked_contacts: i64,
}
