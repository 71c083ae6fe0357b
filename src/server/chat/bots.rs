//! Bots: the chat bots (the Wechaty plugin) allowed to speak for the
//! server in WeChat chats. Each has a name and a key, shown once when the
//! bot is added and stored only as a hash; the bot API answers only a
//! current key.

use super::super::clock::Millis;
use super::super::error::{AppError, AppResult};
use super::super::secrets::{new_id, new_token, token_hash};
use crate::protocol::ApiErrorCode;
use sqlx::AnyPool;

/// What a bot key starts with, so that one found in a config file or a
/// leak report is known for what it is.
const KEY_PREFIX: &str = "mab_";

/// A bot that presented a current key.
#[derive(Clone, Debug)]
pub struct Bot {
    /// The server's id of the bot.
    pub id: String,
    /// The name it was added with.
    pub name: String,
}

/// Why a bot could not be added or revoked.
#[derive(Debug)]
pub enum BotError {
    /// The name is empty, too long, or not letters, digits, `-`, `_`, `.`.
    InvalidName,
    /// A bot of that name exists (revoked ones too: names are not reused).
    NameTaken,
    /// No bot has that name, or it is revoked already.
    Unknown,
    /// The database failed.
    Database(sqlx::Error),
}

impl std::fmt::Display for BotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidName => f.write_str("a bot name is 1 to 64 letters, digits, '-', '_' or '.'"),
            Self::NameTaken => f.write_str("a bot of that name exists"),
            Self::Unknown => f.write_str("no current bot has that name"),
            Self::Database(error) => write!(f, "database: {error}"),
        }
    }
}

impl std::error::Error for BotError {}

impl From<sqlx::Error> for BotError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

/// Adds a bot named `name` and answers its key, which is not kept.
pub async fn add(pool: &AnyPool, name: &str, now: Millis) -> Result<String, BotError> {
    if !valid_name(name) {
        return Err(BotError::InvalidName);
    }
    let key = format!("{KEY_PREFIX}{}", new_token());
    let inserted = sqlx::query(
        "INSERT INTO bots (id, name, key_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
    )
    .bind(new_id("bot"))
    .bind(name)
    .bind(token_hash(&key))
    .bind(now)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(BotError::NameTaken);
    }
    Ok(key)
}

/// 1 to 64 letters, digits, `-`, `_`, `.`: what a bot may be named.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Revokes the bot named `name`: its key is refused from now on, and what
/// it had still to deliver is dropped.
pub async fn revoke(pool: &AnyPool, name: &str, now: Millis) -> Result<(), BotError> {
    let mut tx = pool.begin().await?;
    let revoked: Option<(String,)> =
        sqlx::query_as("UPDATE bots SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL RETURNING id")
            .bind(now)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
    let (id,) = revoked.ok_or(BotError::Unknown)?;
    sqlx::query("DELETE FROM deliveries WHERE bot_id = $1").bind(&id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// A bot as `miniauth bots list` shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct Listed {
    /// Its name.
    pub name: String,
    /// When it was added (ms since the epoch).
    pub created_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// Every bot, current and revoked, by name.
pub async fn list(pool: &AnyPool) -> Result<Vec<Listed>, BotError> {
    Ok(sqlx::query_as("SELECT name, created_at, revoked_at FROM bots ORDER BY name").fetch_all(pool).await?)
}

/// The current bot named `name`. No bot has a name `add` would refuse
/// (and the database never sees one, NUL and all).
pub async fn named(pool: &AnyPool, name: &str) -> AppResult<Option<Bot>> {
    if !valid_name(name) {
        return Ok(None);
    }
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT id, name FROM bots WHERE name = $1 AND revoked_at IS NULL")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(id, name)| Bot { id, name }))
}

/// The current bot whose key `key` is.
pub async fn authenticate(pool: &AnyPool, key: &str) -> AppResult<Bot> {
    let refused = || AppError::new(ApiErrorCode::Unauthorized, "a current bot key is required");
    if !key.starts_with(KEY_PREFIX) {
        return Err(refused());
    }
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT id, name FROM bots WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash(key))
            .fetch_optional(pool)
            .await?;
    let (id, name) = row.ok_or_else(refused)?;
    Ok(Bot { id, name })
}
