//! Chat sign-in, for the web where there is no `wx.login`: the page asks
//! for a challenge (six digits) and shows it; the person sends it to a bot
//! in WeChat; the bot hands the text to the server, which ties the sign-in
//! to that contact; the page, polling, then gets the tokens of the user the
//! contact is linked to, or a state token to bind the contact to a user.
//!
//! A challenge is live for [`CHALLENGE_TTL_MS`] and unique among the live
//! ones; the first contact to send it takes it. Only the page holds the
//! state token that collects the outcome, and it collects it once.

use super::super::app::App;
use super::super::binding::{self, Identity};
use super::super::clock::{secs, Millis};
use super::super::error::{AppError, AppResult};
use super::super::guesses::{self, Guess};
use super::super::secrets::{new_six_digit_code, new_token, token_hash};
use super::super::session_tokens::Method;
use super::bots::{self, Bot};
use super::{deliveries, links};
use crate::protocol::{ApiErrorCode, ChatLoginChallenge, LoginResponse};

/// How long a challenge waits for its chat message.
pub const CHALLENGE_TTL_MS: Millis = 120_000;
/// Tries at a challenge no other live one has.
const TRIES: usize = 8;

/// A new chat sign-in, answerable through the bot named `bot` (any bot when
/// `None`).
pub async fn start(app: &App, bot: Option<&str>, now: Millis) -> AppResult<ChatLoginChallenge> {
    let bot_id = match bot {
        None => None,
        Some(name) => {
            let bot = bots::named(&app.db.read, name).await?;
            Some(bot.ok_or_else(|| AppError::invalid_request("\"bot\" names no current bot"))?.id)
        }
    };
    let state_token = new_token();
    for _ in 0..TRIES {
        let challenge = new_six_digit_code();
        let mut tx = app.db.write.begin().await?;
        // An expired challenge nobody sent frees its digits.
        sqlx::query("DELETE FROM chat_logins WHERE challenge = $1 AND answered_at IS NULL AND expires_at <= $2")
            .bind(&challenge)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO chat_logins (state_token_hash, challenge, bot_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(token_hash(&state_token))
        .bind(&challenge)
        .bind(&bot_id)
        .bind(now)
        .bind(now + CHALLENGE_TTL_MS)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            tx.commit().await?;
            return Ok(ChatLoginChallenge { challenge, state_token, expires_in: secs(CHALLENGE_TTL_MS) });
        }
    }
    Err(AppError::new(ApiErrorCode::RateLimited, "too many chat sign-ins at once; try again"))
}

/// `bot`'s contact `contact_id` sent `text`: if it is a live challenge this
/// bot may answer, the sign-in is the contact's, and the contact is told.
pub async fn answer(app: &App, bot: &Bot, contact_id: &str, text: &str, now: Millis) -> AppResult<bool> {
    links::check_stable(contact_id, "contact_id")?;
    let challenge = text.trim();
    if challenge.len() != 6 || !challenge.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    // Six digits that take no live challenge are a guess at someone else's
    // sign-in: the contact's failures meet the guessing ceilings (a few free,
    // then waits, 20 a day). The bot relays for every contact, so its
    // address is no source.
    let guess = Guess { target: None, guesser: format!("chat:{}/{contact_id}", bot.id), source: None };
    let attempt = guesses::begin(&app.db.write, &guess, now).await?;
    let mut tx = app.db.write.begin().await?;
    let taken = sqlx::query(
        "UPDATE chat_logins SET answered_bot_id = $1, contact_id = $2, answered_at = $3
         WHERE challenge = $4 AND answered_at IS NULL AND expires_at > $3 AND (bot_id IS NULL OR bot_id = $1)",
    )
    .bind(&bot.id)
    .bind(contact_id)
    .bind(now)
    .bind(challenge)
    .execute(&mut *tx)
    .await?;
    if taken.rows_affected() == 0 {
        return Ok(false);
    }
    let text = format!(
        "You are signing in on the web page that showed {challenge}. If that was not you, someone else's page may \
         be signed in as you: tell the site's support."
    );
    deliveries::enqueue_text(&mut tx, &bot.id, contact_id, &text, now + CHALLENGE_TTL_MS, now).await?;
    tx.commit().await?;
    app.deliveries.wake();
    // After the commit: SQLite's one write connection is the transaction's
    // until then.
    attempt.forgive(&app.db.write).await?;
    Ok(true)
}

/// What a poll of a chat sign-in found.
pub enum Polled {
    /// The challenge has not arrived; it expires in this many seconds.
    Pending(u64),
    /// It arrived: the login's answer.
    Done(LoginResponse),
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    expires_at: i64,
    answered_bot_id: Option<String>,
    contact_id: Option<String>,
    spent_at: Option<i64>,
}

/// The outcome of the chat sign-in `state_token` is for, once.
pub async fn poll(app: &App, state_token: &str, now: Millis) -> AppResult<Polled> {
    let hash = token_hash(state_token);
    let invalid = || AppError::new(ApiErrorCode::InvalidStateToken, "unknown or already used state token");
    // A sign-in a bot answered before it was revoked is refused as unknown.
    let row: Option<LoginRow> = sqlx::query_as(
        "SELECT l.expires_at, l.answered_bot_id, l.contact_id, l.spent_at FROM chat_logins l
         LEFT JOIN bots b ON b.id = l.answered_bot_id
         WHERE l.state_token_hash = $1 AND (l.answered_bot_id IS NULL OR b.revoked_at IS NULL)",
    )
    .bind(&hash)
    .fetch_optional(&app.db.write)
    .await?;
    let row = row.filter(|row| row.spent_at.is_none()).ok_or_else(invalid)?;
    // Collected within the challenge's life, answered or not.
    if now >= row.expires_at {
        return Err(AppError::new(ApiErrorCode::StateTokenExpired, "the challenge expired; start again"));
    }
    let (Some(bot_id), Some(contact_id)) = (row.answered_bot_id, row.contact_id) else {
        return Ok(Polled::Pending(secs(row.expires_at - now)));
    };
    let spent = sqlx::query("UPDATE chat_logins SET spent_at = $1 WHERE state_token_hash = $2 AND spent_at IS NULL")
        .bind(now)
        .bind(&hash)
        .execute(&app.db.write)
        .await?;
    if spent.rows_affected() == 0 {
        return Err(invalid());
    }
    let Some(user) = links::linked_user(&app.db.write, &bot_id, &contact_id).await? else {
        let identity = Identity::Chat { bot_id, contact_id };
        let challenge =
            binding::challenge(&app.db.write, &identity, app.registration, app.state_token_ttl_ms, now).await?;
        return Ok(Polled::Done(app.registration.answer(challenge)));
    };
    let tokens = app.sessions.start(&app.db, &app.keys(), &user, &[Method::Chat], now).await?;
    Ok(Polled::Done(LoginResponse::Success(tokens)))
}
