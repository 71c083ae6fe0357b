//! Bots: the chat bots (the Wechaty plugin) allowed to speak for the
//! server in WeChat chats. Each has a name and a key, shown once when the
//! bot is added and stored only as a hash; the bot API answers only a
//! current key.

use super::super::clock::Millis;
use super::super::credentials::{self, CredentialError, Kind, Listed};
use super::super::error::{AppError, AppResult};
use crate::protocol::ApiErrorCode;
use sqlx::AnyPool;

/// Bot keys: `mab_…`.
pub const KIND: Kind = Kind { table: "bots", prefix: "mab_", id_prefix: "bot", noun: "bot", listed: "''" };

/// A bot that presented a current key.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Bot {
    /// The server's id of the bot.
    pub id: String,
    /// The name it was added with.
    pub name: String,
}

/// Adds a bot named `name` and answers its key, which is not kept.
pub async fn add(pool: &AnyPool, name: &str, now: Millis) -> Result<String, CredentialError> {
    credentials::add(pool, &KIND, name, &[], now).await
}

/// Revokes the bot named `name`: its key is refused from now on, and what
/// it had still to deliver and the rooms it synced are dropped.
pub async fn revoke(pool: &AnyPool, name: &str, now: Millis) -> Result<(), CredentialError> {
    let mut tx = pool.begin().await?;
    let id = credentials::revoke(&mut tx, &KIND, name, now).await?;
    for table in ["deliveries", "rooms"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE bot_id = $1")).bind(&id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every bot, current and revoked, by name.
pub async fn list(pool: &AnyPool) -> Result<Vec<Listed>, CredentialError> {
    credentials::list(pool, &KIND).await
}

/// The current bot named `name`. No bot has a name `add` would refuse
/// (and the database never sees one, NUL and all).
pub async fn named(pool: &AnyPool, name: &str) -> AppResult<Option<Bot>> {
    if !credentials::valid_name(name) {
        return Ok(None);
    }
    Ok(sqlx::query_as("SELECT id, name FROM bots WHERE name = $1 AND revoked_at IS NULL")
        .bind(name)
        .fetch_optional(pool)
        .await?)
}

/// The current bot whose key `key` is.
pub async fn authenticate(pool: &AnyPool, key: &str) -> AppResult<Bot> {
    let bot = credentials::current(pool, &KIND, "id, name", key).await?;
    bot.ok_or_else(|| AppError::new(ApiErrorCode::Unauthorized, "a current bot key is required"))
}
